"""A tiny signed grade folder for tests of what stages accept (no model, no city needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from workbench import workspace
from workbench.workspace import integrity


def signed_month(month: str, grades=("A", "B", "D", "D")) -> Path:
    """``data/grades/<month>/`` with a few rows, a summary and a signed manifest."""
    folder = workspace.current().grades.at(month).path
    folder.mkdir(parents=True)
    frame = pd.DataFrame(
        {
            "uscc": [f"91410400MA0000000{i}" for i in range(len(grades))],
            "name": [f"企业{i}" for i in range(len(grades))],
            "snapshot": pd.Timestamp(month) + pd.offsets.MonthEnd(0),
            "score": [600.0 - 20 * i for i in range(len(grades))],
            "grade": list(grades),
        }
    )
    frame.to_parquet(folder / "grades.parquet", index=False)
    frame.to_csv(folder / "grades.csv", index=False, encoding="utf-8-sig")
    summary = {"snapshot": str(frame["snapshot"].iloc[0].date()), "month": month}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    integrity.write_manifest(folder, {"month": month, "snapshot": summary["snapshot"]})
    return folder
