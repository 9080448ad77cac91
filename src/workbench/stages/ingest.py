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

import datetime as dt
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from workbench import config, workspace
from workbench.errors import ParameterError
from workbench.intake import load, quality
from workbench.stages.registry import option
from workbench.workspace import atomic_directory, csvsafe, write_json
from workbench.workspace.folders import IngestFolder, check_day

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parameters:
    """Parameters of ``workbench ingest`` (and of ``notebooks/01_ingest.ipynb``)."""

    data: str = option(
        "",
        "folder of the bureau's exports (default: `exports:` in conf/workbench.yaml)",
        path=True,
        metavar="FOLDER",
    )
    as_of: str = option(
        "",
        "data snapshot date YYYY-MM-DD (数据基准日); later rows are quarantined "
        "(default: the latest date found in the export, stated)",
        metavar="YYYY-MM-DD",
    )
    out: str = option("", "output folder (default: data/ingest/<YYYY-MM>)", path=True)
    feedback: str = option(
        "",
        "folders of rows the workbench produced (its plans' inspection results), "
        "comma-separated: appended to their tables",
        metavar="FOLDERS",
    )


def resolve(params: Parameters, settings: config.Settings | None = None) -> Parameters:
    """Check the parameters and fill the defaults (nothing is read or written yet).

    Raises:
        ParameterError: no export folder, a missing folder, a malformed date.
    """
    settings = settings or config.current()
    data = params.data or (str(settings.exports) if settings.exports else "")
    if not data:
        raise ParameterError(
            "no export folder: pass --data FOLDER (or set `exports:` in "
            f"{config.conf_dir() / 'workbench.yaml'})"
        )
    if not Path(data).is_dir():
        raise ParameterError(f"data folder {data} does not exist")
    as_of = params.as_of
    if as_of:
        as_of = check_day(as_of, "--as-of")
    feedback = [str(workspace.resolve(f.strip())) for f in params.feedback.split(",") if f.strip()]
    for folder in feedback:
        if not Path(folder).is_dir():
            raise ParameterError(f"feedback folder {folder} does not exist")
    out = params.out
    if out:  # refused now, not after the whole export is read
        workspace.check_replaceable(out, IngestFolder.MARKER)
    if not out and as_of:
        out = str(workspace.current().ingest.at(as_of[:7]).path)
    return Parameters(str(Path(data).resolve()), as_of, out, ",".join(feedback))


def run(params: Parameters, settings: config.Settings | None = None) -> dict:
    """Ingest the export folder; return the quality report."""
    feedback = [f for f in params.feedback.split(",") if f]
    return run_ingest(params.data, params.as_of or None, params.out or None, feedback)


def read(params: Parameters) -> dict:
    """The quality report of a finished ingest."""
    return _folder(params).quality()


def _folder(params: Parameters) -> IngestFolder:
    if params.out:
        return IngestFolder(Path(params.out))
    return workspace.current().ingest.require_latest()


def month(params: Parameters) -> str:
    """The month whose report folder keeps the executed notebook."""
    return (params.as_of or dt.date.today().isoformat())[:7]


def describe(params: Parameters, report: dict) -> list[str]:
    """What the CLI prints."""
    totals, rate = report["totals"], report["attribution"]["rate"]
    folder = IngestFolder(Path(report.get("out") or _folder(params).path))
    lines = [
        f"ingested {totals['rows_read']:,} rows: {totals['accepted']:,} accepted, "
        f"{totals['quarantined']:,} quarantined; 记名率 "
        f"{'n/a' if rate is None else f'{100 * rate:.2f}%'}",
    ]
    if report.get("snapshot_from_data"):
        lines.append(f"snapshot {report['snapshot']}: the latest date found in the export")
    lines += [
        f"data-quality report: {folder.file('quality')}",
        f"validated tables:    {folder.tables}",
    ]
    if totals["quarantined"]:
        lines.append(f"quarantined rows:    {folder.quarantine}")
    return lines


def cycle_parameters(ctx) -> Parameters:
    """The cycle ingests the exports as of the data's snapshot, with earlier results fed back."""
    return Parameters(
        data=str(ctx.exports),
        as_of=ctx.data_snapshot,
        out=str(workspace.current().ingest.at(ctx.month).path),
        feedback=",".join(map(str, ctx.feedback)),
    )


def run_ingest(
    data_dir: str | Path,
    snapshot: str | None,
    out_dir: str | Path | None = None,
    feedback: list[str | Path] | tuple = (),
) -> dict:
    """Load, validate and write one snapshot of a bureau's exports; return the report.

    Without ``snapshot`` the export's own latest date (not after today) is the snapshot,
    and the report says so; without ``out_dir`` the output goes to
    ``data/ingest/<YYYY-MM of the snapshot>``.

    Raises:
        load.ContractError: when the exports (or a feedback file) cannot be read as the
            contract says; nothing is written then.
    """
    data_dir = Path(data_dir)
    from_data = snapshot is None
    # large files are validated in batches and written here as they go (load.STREAM_BYTES)
    stage_root = Path(out_dir).parent if out_dir else workspace.current().ingest.root
    stage_root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".ingest-stage-{os.getpid()}-", dir=stage_root))
    try:
        return _ingest(data_dir, snapshot, from_data, out_dir, feedback, stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _ingest(data_dir: Path, snapshot, from_data: bool, out_dir, feedback, stage: Path) -> dict:
    """:func:`run_ingest` with a staging folder for tables read in batches."""
    loaded = load.load_folder(data_dir, snapshot or dt.date.today().isoformat(), stage=stage)
    if from_data:
        snapshot = latest_date(loaded)
    out_dir = Path(out_dir) if out_dir else workspace.current().ingest.at(snapshot[:7]).path
    report = quality.build_report(loaded, snapshot, str(data_dir), load.unknown_files(data_dir))
    report["snapshot_from_data"] = from_data
    report["out"] = str(out_dir)
    extra_quarantine, report["feedback"] = _add_feedback(loaded, feedback, snapshot)
    with atomic_directory(out_dir, IngestFolder.MARKER) as tmp:
        written = IngestFolder(tmp)
        written.tables.mkdir()
        written.quarantine.mkdir()
        for name, table in loaded.items():
            if table.staged is not None:
                os.replace(table.staged, written.table_path(name))
            else:
                table.accepted.to_parquet(written.table_path(name), index=False)
            if len(table.quarantine):
                csvsafe.to_csv(table.quarantine, written.quarantine / f"{name}.csv")
        for name, rows in extra_quarantine.items():
            csvsafe.to_csv(rows, written.quarantine / name)
        write_json(tmp / IngestFolder.FILES["quality"], report)
    log.info("ingested %s into %s", data_dir, out_dir)
    return report


def _add_feedback(loaded: dict, folders, snapshot: str) -> tuple[dict, list[dict]]:
    """Validate the feedback folders' event tables and append their accepted rows."""
    register = loaded["enterprises"].codes()
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
            if name in loaded and loaded[name].staged is not None:
                _append_staged(loaded[name], extra.accepted)
            elif name in loaded:
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


def _append_staged(table: load.LoadedTable, rows: pd.DataFrame) -> None:
    """Append fed-back rows to a table written in batches (its Parquet is rewritten)."""
    import pyarrow as pa

    old = pq.ParquetFile(table.staged)
    path = table.staged.with_suffix(".with-feedback.parquet")
    with pq.ParquetWriter(path, old.schema_arrow) as writer:
        for batch in old.iter_batches():
            writer.write_batch(batch)
        extra = pa.Table.from_pandas(rows, preserve_index=False)
        writer.write_table(extra.select(old.schema_arrow.names).cast(old.schema_arrow))
    os.replace(path, table.staged)
    table.accepted_rows += len(rows)


def latest_date(loaded: dict) -> str:
    """The latest event date in any accepted row (the export's own snapshot), YYYY-MM-DD.

    Only dates that cannot lie in the future count (an expiry date may); the load read
    the rows as of today, so a typo in the future is quarantined, not taken as the date.

    Raises:
        ParameterError: when the export holds no dated row at all (then say --as-of).
    """
    latest = None
    for table in loaded.values():
        value = table.latest_date()
        if value is not None and (latest is None or value > latest):
            latest = value
    if latest is None:
        raise ParameterError("the export holds no dated row: pass --as-of YYYY-MM-DD")
    return str(pd.Timestamp(latest).date())


def cycle_record(ctx, report: dict, echo) -> None:
    """Tell the cycle how many fed-back rows the month's ingest took in."""
    ctx.record["fed_back_rows"] = sum(e["accepted"] for e in report.get("feedback", []))
