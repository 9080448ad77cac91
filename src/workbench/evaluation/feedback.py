"""Results fed back (回流数据): stored plan results reach the next month's ingest.

:func:`inspection_events` turns a plan's reconciled results into contract ``inspections``
rows, stored with the evaluation (``results.parquet``); :func:`write_feedback` hands every
stored result known at a snapshot to that month's ingest as a feedback folder, so
indicators (``insp_*``) and labels (``inspection_problem``) see them under each
enterprise's name — each result once, none dated after the snapshot.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench import workspace
from workbench.evaluation.reconciliation import (
    INSPECTION_COLUMNS,
    STATUS_DUPLICATE,
    STATUS_MATCHED,
    Reconciliation,
)
from workbench.workspace.folders import EvaluationCollection, EvaluationFolder, FeedbackFolder


def inspection_events(reconciliation: Reconciliation) -> pd.DataFrame:
    """Accepted results as contract ``inspections`` rows (typed as the ingest writes them).

    Every accepted row is an inspection that happened under an enterprise's name, so all
    of them become events, matched or not (a result for an enterprise not drawn is still
    that enterprise's inspection); duplicates are kept once. ``plan_id`` is filled with the
    plan's id where the export left it empty and the row matched a task.
    """
    rows = reconciliation.rows
    rows = rows[rows["reconciliation"] != STATUS_DUPLICATE].copy()
    fill = rows["plan_id"].isna() & (rows["reconciliation"] == STATUS_MATCHED)
    rows.loc[fill, "plan_id"] = reconciliation.plan_id
    rows.loc[rows["task_id"].isna(), "task_id"] = rows["matched_task_id"]
    return _typed_events(rows[INSPECTION_COLUMNS + ["published_on", "reconciliation"]])


def _typed_events(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in ("uscc", "result", "plan_id", "task_id", "item", "method", "reconciliation"):
        if col in out.columns:
            out[col] = out[col].astype("string")
    for col in ("inspected_on", "repaired_on", "published_on"):
        if col in out.columns:
            out[col] = pd.to_datetime(out[col]).astype("datetime64[ms]")
    out["found_problem"] = out["found_problem"].astype("boolean")
    return out.reset_index(drop=True)


def recorded_results(
    snapshot: str | pd.Timestamp, evaluation_root: str | Path | None = None
) -> pd.DataFrame:
    """Every stored plan result dated on or before ``snapshot``, as ``inspections`` rows.

    Reads every evaluation's stored results (written by the evaluation stage); a
    task evaluated twice counts once (the most recent evaluation's row).
    """
    evaluations = (
        EvaluationCollection(Path(evaluation_root), EvaluationFolder)
        if evaluation_root
        else workspace.current().evaluations
    )
    frames = [
        pd.read_parquet(p).assign(_stored=p.stat().st_mtime_ns) for p in evaluations.result_files()
    ]
    if not frames:
        return _typed_events(pd.DataFrame({c: pd.Series(dtype=object) for c in INSPECTION_COLUMNS}))
    rows = pd.concat(frames, ignore_index=True).sort_values("_stored", kind="stable")
    keyed = rows["task_id"].notna() & rows["plan_id"].notna()
    latest = rows[keyed].drop_duplicates(["plan_id", "task_id"], keep="last")
    rows = pd.concat([latest, rows[~keyed]]).drop(columns=["_stored"])
    rows = rows[pd.to_datetime(rows["inspected_on"]) <= pd.Timestamp(snapshot)]
    return _typed_events(rows[INSPECTION_COLUMNS]).sort_values(
        ["inspected_on", "uscc"], ignore_index=True
    )


def feedback_dir(month: str) -> Path:
    """``data/feedback/<YYYY-MM>``: the feedback folder (回流数据) handed to that month's ingest."""
    return workspace.current().feedback.at(month).path


def write_feedback(
    snapshot: str | pd.Timestamp,
    folder: str | Path | None = None,
    evaluation_root: str | Path | None = None,
) -> Path | None:
    """Write the stored plan results known at ``snapshot`` as a feedback folder for ingest.

    The folder holds one ``inspections.parquet`` (contract columns) with every stored
    result dated on or before ``snapshot`` (:func:`recorded_results`), so
    ``ingest.run_ingest(..., feedback=[folder])`` adds exactly the results known by then,
    each once, and none that the ingest would quarantine as dated after the snapshot.

    Returns:
        The folder (default ``data/feedback/<YYYY-MM>``), or None when there is no result
        to feed back (no folder is written then).
    """
    rows = recorded_results(snapshot, evaluation_root)
    if rows.empty:
        return None
    folder = Path(folder) if folder else feedback_dir(f"{pd.Timestamp(snapshot):%Y-%m}")
    with workspace.atomic_directory(folder, FeedbackFolder.MARKER) as tmp:
        rows.to_parquet(FeedbackFolder(tmp).file("inspections"), index=False)
    return folder


def with_recorded_results(
    inspections: pd.DataFrame,
    snapshot: str | pd.Timestamp,
    evaluation_root: str | Path | None = None,
) -> pd.DataFrame:
    """The ingested ``inspections`` table plus stored plan results it does not hold yet.

    A stored row is added unless the table already has a row with the same
    ``(plan_id, task_id)`` (the bureau's own export then carries the result).
    """
    stored = recorded_results(snapshot, evaluation_root)
    if stored.empty:
        return inspections
    have = set(
        zip(
            inspections.get("plan_id", pd.Series(dtype=str)).astype(str),
            inspections.get("task_id", pd.Series(dtype=str)).astype(str),
            strict=True,
        )
    )
    key = list(zip(stored["plan_id"].astype(str), stored["task_id"].astype(str), strict=True))
    new = stored[[k not in have for k in key]]
    new = new.astype({c: t for c, t in inspections.dtypes.items() if c in new.columns})
    return pd.concat([inspections, new], ignore_index=True)
