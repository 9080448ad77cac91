"""The ingest stage (数据归集): bureau exports → validated tables, quarantine, quality report.

Writes, for one snapshot, into its output folder (atomically: a failed run leaves the
previous output as it was)::

    tables/<table>.parquet      accepted rows, canonical columns and codes, typed
    quarantine/<table>.csv      rejected rows as read + source_row, quarantine_reason,
                                quarantine_detail
                                (UTF-8 with BOM, so Excel opens it)
    quality.json                the data-quality report (数据质量报告)

Feedback folders (``feedback``) hold rows the workbench itself produced since the last
export — above all inspection results of its own sampling plans (``inspections.csv``
with ``plan_id``/``task_id``) — so the next month's indicators and labels see them under
each enterprise's name. Their rows are validated like any export, attributed to the same
register, appended to their table, and counted apart in the report (``feedback``); their
rejected rows go to ``quarantine/<table>.<folder name>.csv``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from workbench import load, quality, workspace
from workbench.workspace import atomic_directory, write_json

log = logging.getLogger(__name__)

QUALITY_FILE = "quality.json"


def run_ingest(
    data_dir: str | Path,
    snapshot: str,
    out_dir: str | Path,
    feedback: list[str | Path] | tuple = (),
) -> dict:
    """Load, validate and write one snapshot of a bureau's exports; return the report.

    Raises:
        load.ContractError: when the exports (or a feedback file) cannot be read as the
            contract says; nothing is written then.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    loaded = load.load_folder(data_dir, snapshot)
    report = quality.build_report(loaded, snapshot, str(data_dir), load.unknown_files(data_dir))
    extra_quarantine, report["feedback"] = _add_feedback(loaded, feedback, snapshot)
    with atomic_directory(out_dir) as tmp:
        (tmp / "tables").mkdir()
        (tmp / "quarantine").mkdir()
        for name, table in loaded.items():
            table.accepted.to_parquet(tmp / "tables" / f"{name}.parquet", index=False)
            if len(table.quarantine):
                table.quarantine.to_csv(
                    tmp / "quarantine" / f"{name}.csv", index=False, encoding="utf-8-sig"
                )
        for name, rows in extra_quarantine.items():
            rows.to_csv(tmp / "quarantine" / name, index=False, encoding="utf-8-sig")
        write_json(tmp / QUALITY_FILE, report)
    log.info("ingested %s into %s", data_dir, out_dir)
    return report


def _add_feedback(loaded: dict, folders, snapshot: str) -> tuple[dict, list[dict]]:
    """Validate the feedback folders' event tables and append their accepted rows."""
    import pyarrow as pa

    register = pa.array(loaded["enterprises"].accepted["uscc"].dropna().astype("str"))
    quarantined, entries = {}, []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise load.ContractError(f"feedback folder {folder} does not exist")
        for name, table in load.TABLES.items():
            if name in ("enterprises", "inspectors", "conflicts"):
                continue  # registers come from the exports only
            path = load.find_table_file(folder, table)
            if path is None:
                continue
            try:
                extra = load.load_table(path, table, pd.Timestamp(snapshot), register)
            except load.ContractError as err:
                raise load.ContractError(f"{path}: {err}") from err
            if name in loaded:
                base = loaded[name].accepted
                loaded[name].accepted = pd.concat([base, extra.accepted], ignore_index=True)
            else:
                loaded[name] = extra
            if len(extra.quarantine):
                quarantined[f"{name}.{folder.name}.csv"] = extra.quarantine
            entries.append(
                {
                    "folder": str(folder),
                    "table": name,
                    "rows_read": extra.rows_read,
                    "accepted": len(extra.accepted),
                    "quarantined": len(extra.quarantine),
                    "reasons": extra.reasons,
                }
            )
    return quarantined, entries


def read_report(out_dir: str | Path) -> dict:
    """Read the quality report written by :func:`run_ingest`."""
    return json.loads((Path(out_dir) / QUALITY_FILE).read_text(encoding="utf-8"))


def read_table(out_dir: str | Path, table: str) -> pd.DataFrame:
    """Read one accepted table written by :func:`run_ingest`."""
    return pd.read_parquet(Path(out_dir) / "tables" / f"{table}.parquet")


class IngestParameters(NamedTuple):
    """Checked parameters of the ingest stage."""

    data: Path
    snapshot: str
    out: Path


def resolve_parameters(data: str = "", snapshot: str = "", out: str = "") -> IngestParameters:
    """Check the ingest notebook's parameters and fill the defaults.

    Empty ``data`` means the demo city (generated first if absent); empty ``out`` means
    ``data/ingest/<YYYY-MM>``. Papermill does not check parameters, so this does.

    Raises:
        ValueError: for a snapshot that is not a date, or a data folder that is missing.
    """
    from workbench import demo, synth

    snapshot = snapshot or synth.DEFAULT_END
    try:
        day = pd.Timestamp(snapshot)
    except ValueError as err:
        raise ValueError(f"snapshot {snapshot!r} is not a date (YYYY-MM-DD)") from err
    if data:
        data_path = Path(data)
        if not data_path.is_dir():
            raise ValueError(f"data folder {data_path} does not exist")
    else:
        data_path = demo.ensure_city()
    out_path = Path(out) if out else workspace.ingest_dir(f"{day:%Y-%m}")
    return IngestParameters(data_path, str(day.date()), out_path)
