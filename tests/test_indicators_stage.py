"""The indicators stage end to end: notebook by Papermill, CLI, panel."""

import json

import pandas as pd
import pytest

from workbench import cli
from workbench.demo import synth
from workbench.stages import indicators, ingest, runner


@pytest.fixture(scope="module")
def ingested(clean_city, tmp_path_factory):
    out = tmp_path_factory.mktemp("stage") / "ingest"
    ingest.run_ingest(clean_city, synth.DEFAULT_END, out)
    return out


def test_indicators_notebook_runs_by_papermill(ingested, tmp_path):
    out = tmp_path / "indicators"
    executed = runner.execute(
        "indicators",
        indicators.Parameters(
            data=str(ingested), as_of="2026-09-30", packs="food,drugs", out=str(out)
        ),
    ).executed
    nb = json.loads(executed.read_text(encoding="utf-8"))
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []
    images = [
        o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert len(images) == 2  # IV bars and distributions
    matrix = pd.read_parquet(out / "indicators.parquet")
    assert {"in_food", "in_drugs", "food_pen_36m", "drug_pen_36m"} <= set(matrix.columns)
    assert (matrix["snapshot"] == pd.Timestamp("2026-09-30")).all()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["signal_snapshot"] == "2025-10-31"  # the latest with 12 months after it
    html = executed.with_suffix(".html").read_text(encoding="utf-8")
    assert "区分度" in html and "data:image/png;base64" in html


def test_cli_indicators_and_panel(ingested, tmp_path, capsys):
    out = tmp_path / "ind"
    assert (
        cli.main(["indicators", "--data", str(ingested), "--out", str(out), "--no-notebook"]) == 0
    )
    printed = capsys.readouterr().out
    assert f"indicators as of {synth.DEFAULT_END}" in printed and "IV ≥ 0.1" in printed
    panel_out = tmp_path / "panel"
    assert (
        cli.main(
            [
                "indicators",
                "--data",
                str(ingested),
                "--panel",
                "2025-07:2025-09",
                "--out",
                str(panel_out),
            ]
        )
        == 0
    )
    panel = pd.read_parquet(panel_out / "panel.parquet")
    assert sorted(panel["snapshot"].dt.strftime("%Y-%m-%d").unique()) == [
        "2025-07-31",
        "2025-08-31",
        "2025-09-30",
    ]
    assert {"label", "label_status", "first_bad_on"} <= set(panel.columns)
    assert (
        panel["label"].notna().all()
        or (panel.loc[panel["label"].isna(), "label_status"] == "exited").all()
    )


def test_cli_refuses_a_panel_past_the_data(ingested, tmp_path, capsys):
    code = cli.main(
        [
            "indicators",
            "--data",
            str(ingested),
            "--panel",
            "2025-10:2026-01",
            "--out",
            str(tmp_path / "p"),
        ]
    )
    assert code == 2
    assert "latest usable snapshot is 2025-10-31" in capsys.readouterr().err


def test_cli_names_catalog_errors(ingested, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("indicators:\n  - id: x\n", encoding="utf-8")
    assert (
        cli.main(
            [
                "indicators",
                "--data",
                str(ingested),
                "--catalog",
                str(bad),
                "--no-notebook",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "field 'name' is required" in capsys.readouterr().err
