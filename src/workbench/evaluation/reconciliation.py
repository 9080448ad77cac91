"""Reconciling inspection results with the task list (抽查结果对账) and their deadlines.

Results of a plan's tasks arrive as rows of the contract's ``inspections`` table (a bureau
export, or :mod:`workbench.demo.inspections` in the demo). Nothing is dropped on the way:
:func:`reconcile` matches them with the task list and reports every row that does not
fit — tasks without a result (未反馈), unknown task ids, results for enterprises that were
not drawn (非抽中主体), results of another plan, repeated results, rows the contract
rejects — next to the matched rows the evaluation uses.

:func:`publication_deadlines` tracks the rule that results are published within 20
working days (工作日) of the inspection, counted on the Chinese working-day calendar of
:mod:`workbench.evaluation.calendar`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench import contract
from workbench.evaluation.calendar import CalendarError, add_working_days, working_days_between
from workbench.intake import load

#: Working days within which an inspection result must be published (公示时限).
PUBLISH_WITHIN_WORKING_DAYS = 20

#: Where a row of a results file ended up (对账结果).
STATUS_MATCHED = "matched"  # the task's own result
STATUS_UNKNOWN_TASK = "unknown_task"  # a task id the plan does not have
STATUS_NOT_DRAWN = "not_drawn"  # an enterprise the plan did not draw (or not under that task)
STATUS_OTHER_PLAN = "other_plan"  # a result carrying another plan's id
STATUS_DUPLICATE = "duplicate"  # a second result for a task already matched
STATUS_ZH = {
    STATUS_MATCHED: "已匹配任务",
    STATUS_UNKNOWN_TASK: "任务编号不在任务清单中",
    STATUS_NOT_DRAWN: "非本次抽中主体",
    STATUS_OTHER_PLAN: "其他抽查计划的结果",
    STATUS_DUPLICATE: "同一任务重复反馈",
}

#: Extra (non-contract) column a results export may carry: the day the result was published.
PUBLISHED_HEADERS = ("published_on", "公示日期")
INSPECTION_COLUMNS = [c.name for c in contract.TABLES["inspections"].columns]


# ----------------------------------------------------------------------------- deadlines
def publication_deadlines(
    results: pd.DataFrame,
    published_on: str | pd.Timestamp | None = None,
    as_of: str | pd.Timestamp | None = None,
    within: int = PUBLISH_WITHIN_WORKING_DAYS,
    calendar_unknown: str = "raise",
) -> pd.DataFrame:
    """The publication deadline of each result and whether it was (or is being) missed.

    Args:
        results: rows with ``inspected_on`` and optionally ``published_on`` (NaT = not yet
            published), plus any identifying columns (kept).
        published_on: the day rows without their own ``published_on`` are published (the
            results notice's date); None leaves them unpublished.
        as_of: the day unpublished rows are judged on (default: today).
        within: working days allowed (20).
        calendar_unknown: ``raise`` a :class:`CalendarError` when a day needed lies beyond
            the calendar's data, or ``mark`` such rows ``calendar_unknown`` with the error
            message in ``calendar_note`` (a monthly run then still publishes and reports).

    Returns:
        ``results`` plus ``deadline`` (the ``within``-th working day after the inspection),
        ``working_days`` (elapsed until publication, or until ``as_of`` if unpublished) and
        ``deadline_status``: ``on_time``, ``late`` (published after the deadline),
        ``overdue`` (unpublished, deadline passed), ``open`` (unpublished, still in time)
        or ``calendar_unknown``; ``flagged`` is True for ``late`` and ``overdue``.

    Raises:
        CalendarError: with ``calendar_unknown="raise"``, for a day beyond the calendar.
    """
    if calendar_unknown not in ("raise", "mark"):
        raise ValueError(f"calendar_unknown is {calendar_unknown!r}; allowed: raise, mark")
    out = results.copy()
    inspected = pd.to_datetime(out["inspected_on"])
    if "published_on" in out.columns:
        published = pd.to_datetime(out["published_on"])
    else:
        published = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    if published_on is not None:
        published = published.fillna(pd.Timestamp(published_on))
    judge_day = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.today().normalize()
    notes: dict = {}

    def guarded(function, *args):
        try:
            return function(*args)
        except CalendarError as err:
            if calendar_unknown == "raise":
                raise
            notes[args] = str(err)
            return None

    deadline_of = {
        d: guarded(add_working_days, d, within) for d in inspected.dropna().dt.date.unique()
    }
    deadline_ts = pd.to_datetime(inspected.dt.date.map(deadline_of))
    until = published.where(published.notna(), judge_day)
    elapsed = [
        guarded(working_days_between, a.date(), b.date()) if pd.notna(a) else None
        for a, b in zip(inspected, until, strict=True)
    ]
    status = np.where(
        published.notna(),
        np.where(published > deadline_ts, "late", "on_time"),
        np.where(judge_day > deadline_ts, "overdue", "open"),
    ).astype(object)
    unknown = deadline_ts.isna().to_numpy() & inspected.notna().to_numpy()
    status[unknown] = "calendar_unknown"
    out["published_on"] = published
    out["deadline"] = deadline_ts
    out["working_days"] = pd.array(elapsed, dtype="Int64")
    out["deadline_status"] = status
    out["flagged"] = np.isin(status, ["late", "overdue"])
    if calendar_unknown == "mark":
        note = next(iter(notes.values()), None)
        out["calendar_note"] = np.where(unknown, note, None)
    return out


# ----------------------------------------------------------------------------- reading
def read_results(
    path: str | Path,
    register: pd.Series | list | None = None,
    as_of: str | pd.Timestamp | None = None,
) -> load.LoadedTable:
    """Read and check a results file as the contract's ``inspections`` table.

    Any format and header the contract accepts (CSV UTF-8/GBK, XLSX, Parquet; English or
    Chinese headers). An optional ``published_on`` / ``公示日期`` column is kept and parsed.

    Args:
        path: the file.
        register: codes of registered enterprises (the grade file's), so a result for an
            unregistered code is quarantined as the contract says; None skips that check.
        as_of: results dated after it are quarantined (``date_after_snapshot``);
            default today.

    Raises:
        load.ContractError: a file that cannot be read as the table (names the problem).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"results file {path} does not exist")
    codes = None if register is None else pa.array(pd.Series(register).astype(str).tolist())
    snapshot = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.today().normalize()
    loaded = load.load_table(path, contract.TABLES["inspections"], snapshot, register=codes)
    loaded.accepted = _parse_published(loaded.accepted)
    return loaded


def _parse_published(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    source = next((c for c in PUBLISHED_HEADERS if c in frame.columns), None)
    if source is None:
        frame["published_on"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[s]")
        return frame
    text = frame[source].astype("str").fillna("").str.strip()
    dates, invalid = load.parse_dates(text)
    if invalid.any():
        bad = text[invalid].head(3).tolist()
        raise load.ContractError(f"column {source} (公示日期) has unreadable dates, e.g. {bad}")
    if source != "published_on":
        frame = frame.drop(columns=[source])
    frame["published_on"] = dates
    return frame


# ----------------------------------------------------------------------------- reconcile
@dataclass
class Reconciliation:
    """A plan's results set against its task list (对账).

    Attributes:
        plan_id: the plan.
        tasks: the task list as given.
        rows: every accepted result row with ``reconciliation`` (a ``STATUS_*`` value) and
            the ``task_id`` it was matched to (``matched_task_id``, null if none).
        matched: one row per task with a result: the task's columns plus the result's
            (``result``, ``found_problem``, ``inspected_on``, ``method``, ``published_on``)
            and ``verdict`` (False for not_operating / closed / deregistered).
        missing: tasks without a result (未反馈).
        quarantine: rows the contract rejected, with their reasons.
    """

    plan_id: str
    tasks: pd.DataFrame
    rows: pd.DataFrame
    matched: pd.DataFrame
    missing: pd.DataFrame
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)

    def of_status(self, status: str) -> pd.DataFrame:
        """Result rows with one reconciliation status."""
        return self.rows[self.rows["reconciliation"] == status]

    def to_dict(self, examples: int = 50) -> dict:
        """The reconciliation report (``reconciliation.json``): counts and the rows at issue."""

        def listing(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
            cols = [c for c in columns if c in frame.columns]
            part = frame[cols].head(examples).astype(object)
            return part.where(part.notna(), None).to_dict("records")

        row_cols = ["uscc", "task_id", "plan_id", "inspected_on", "result"]
        counts = {s: int((self.rows["reconciliation"] == s).sum()) for s in STATUS_ZH}
        return {
            "plan_id": self.plan_id,
            "tasks": len(self.tasks),
            "results_read": len(self.rows) + len(self.quarantine),
            "results_accepted": len(self.rows),
            "results_quarantined": len(self.quarantine),
            "status_counts": counts,
            "status_labels": STATUS_ZH,
            "tasks_with_result": len(self.matched),
            "tasks_without_result": len(self.missing),
            "missing": listing(self.missing, ["task_id", "uscc", "name", "item", "department"]),
            "unknown_task_ids": listing(self.of_status(STATUS_UNKNOWN_TASK), row_cols),
            "not_drawn": listing(self.of_status(STATUS_NOT_DRAWN), row_cols),
            "other_plan": listing(self.of_status(STATUS_OTHER_PLAN), row_cols),
            "duplicates": listing(self.of_status(STATUS_DUPLICATE), row_cols),
            "quarantined": listing(
                self.quarantine,
                [load.ROW_COLUMN, load.REASON_COLUMN, load.DETAIL_COLUMN],
            ),
            "listed_at_most": examples,
        }


TASK_REQUIRED = ("task_id", "plan_id", "uscc", "grade", "stratum", "inclusion_probability")


def check_tasks(tasks: pd.DataFrame) -> pd.DataFrame:
    """Check a task list has what evaluation needs; one plan, unique task ids.

    Raises:
        ValueError: naming the missing columns, the plans found or the repeated task ids.
    """
    missing = [c for c in TASK_REQUIRED if c not in tasks.columns]
    if missing:
        raise ValueError(
            f"task list lacks column(s) {', '.join(missing)}; "
            f"a task list has {', '.join(TASK_REQUIRED)} (see interfaces: tasks.parquet)"
        )
    plans = tasks["plan_id"].dropna().astype(str).unique().tolist()
    if len(plans) != 1:
        raise ValueError(f"task list must hold one plan; found {plans or 'none'}")
    repeated = tasks["task_id"][tasks["task_id"].duplicated()].astype(str).unique().tolist()
    if repeated:
        raise ValueError(f"task list repeats task id(s) {', '.join(repeated[:5])}")
    pi = pd.to_numeric(tasks["inclusion_probability"], errors="coerce")
    bad = tasks.loc[~((pi > 0) & (pi <= 1)), "task_id"].astype(str).tolist()
    if bad:
        raise ValueError(
            f"inclusion_probability (入样概率) must lie in (0, 1]; tasks {', '.join(bad[:5])} "
            f"have {pi[~((pi > 0) & (pi <= 1))].head(5).tolist()}"
        )
    return tasks


def reconcile(
    tasks: pd.DataFrame,
    results: pd.DataFrame | load.LoadedTable,
    plan_id: str | None = None,
) -> Reconciliation:
    """Match results to tasks; report every row that does not fit (nothing is dropped).

    A row is matched to a task by ``task_id`` when it has one, and the ``uscc`` must then
    be the task's; a row without ``task_id`` is matched by ``uscc`` when exactly one open
    task drew that enterprise. A row naming another plan is ``other_plan``; a task id the
    plan does not have is ``unknown_task``; an enterprise the plan did not draw (or not
    under the task id given) is ``not_drawn``; a second result for a matched task is a
    ``duplicate`` (the earlier inspection counts).

    Args:
        tasks: the plan's task list (interfaces: ``tasks.parquet``).
        results: accepted result rows (contract ``inspections`` columns) or a
            :class:`~workbench.intake.load.LoadedTable` from :func:`read_results` (its
            quarantine is carried into the report).
        plan_id: the plan (default: the task list's).
    """
    tasks = check_tasks(tasks).reset_index(drop=True)
    plan_id = plan_id or str(tasks["plan_id"].iloc[0])
    quarantine = pd.DataFrame()
    if isinstance(results, load.LoadedTable):
        quarantine = results.quarantine
        results = results.accepted
    rows = _as_result_rows(results)
    task_id = tasks["task_id"].astype(str)
    task_uscc = dict(zip(task_id, tasks["uscc"].astype(str), strict=True))
    status = np.full(len(rows), STATUS_MATCHED, dtype=object)
    matched_task = np.full(len(rows), None, dtype=object)
    has_task = rows["task_id"].notna().to_numpy()
    other_plan = (rows["plan_id"].notna() & (rows["plan_id"].astype(str) != plan_id)).to_numpy()
    # 1. by task id
    for i in np.flatnonzero(has_task & ~other_plan):
        tid, code = str(rows["task_id"].iat[i]), str(rows["uscc"].iat[i])
        if tid not in task_uscc:
            status[i] = STATUS_UNKNOWN_TASK
        elif task_uscc[tid] != code:
            status[i] = STATUS_NOT_DRAWN
        else:
            matched_task[i] = tid
    status[other_plan] = STATUS_OTHER_PLAN
    # 2. by enterprise, for rows without a task id
    tasks_of = tasks.groupby(tasks["uscc"].astype(str))["task_id"].agg(lambda s: list(map(str, s)))
    for i in np.flatnonzero(~has_task & ~other_plan):
        candidates = tasks_of.get(str(rows["uscc"].iat[i]), [])
        if not candidates:
            status[i] = STATUS_NOT_DRAWN
        elif len(candidates) == 1:
            matched_task[i] = candidates[0]
        else:  # several tasks drew this enterprise: only a task id can tell them apart
            status[i] = STATUS_UNKNOWN_TASK
    # 3. one result per task: the earliest inspection counts, later ones are duplicates
    rows["reconciliation"] = status
    rows["matched_task_id"] = pd.array(matched_task, dtype="string")
    order = rows.sort_values(["inspected_on", "source_order"], kind="stable").index
    is_match = rows["reconciliation"] == STATUS_MATCHED
    dup = rows.loc[order][is_match.loc[order]].duplicated("matched_task_id", keep="first")
    rows.loc[dup[dup].index, "reconciliation"] = STATUS_DUPLICATE
    rows.loc[dup[dup].index, "matched_task_id"] = pd.NA

    first = rows[rows["reconciliation"] == STATUS_MATCHED]
    result_cols = ["result", "found_problem", "inspected_on", "method", "published_on"]
    picked = first[["matched_task_id", *result_cols]].rename(columns={"matched_task_id": "task_id"})
    if "item" in first.columns:
        picked["result_item"] = first["item"].to_numpy()
    merged = tasks.assign(task_id=task_id).merge(picked, on="task_id", how="left")
    has_result = merged["result"].notna()
    matched = merged[has_result].copy()
    # a plain bool column, never the result's string dtype: mapping an empty string
    # Series keeps its dtype, and string & bool has no kernel in pandas/arrow
    matched["verdict"] = np.array(
        [contract.RESULT_FOUND_PROBLEM[r] is not None for r in matched["result"]], dtype=bool
    )
    matched["found"] = matched["verdict"] & matched["found_problem"].fillna(False).astype(bool)
    missing = tasks[~has_result.to_numpy()].copy()
    return Reconciliation(
        plan_id,
        tasks,
        rows.drop(columns=["source_order"]),
        matched.reset_index(drop=True),
        missing,
        quarantine,
    )


def _as_result_rows(results: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("uscc", "inspected_on", "result") if c not in results.columns]
    if missing:
        raise ValueError(f"results lack required column(s) {', '.join(missing)}")
    rows = results.copy().reset_index(drop=True)
    for col in INSPECTION_COLUMNS:
        if col not in rows.columns:
            rows[col] = pd.NA
    unknown = sorted(set(rows["result"].dropna()) - set(contract.RESULT_FOUND_PROBLEM))
    if unknown:
        raise ValueError(
            f"results carry unknown result code(s) {unknown}; "
            f"allowed: {', '.join(contract.RESULT_FOUND_PROBLEM)} (read files with read_results)"
        )
    if "published_on" not in rows.columns:
        rows["published_on"] = pd.NaT
    rows["inspected_on"] = pd.to_datetime(rows["inspected_on"])
    rows["published_on"] = pd.to_datetime(rows["published_on"])
    derived = rows["result"].map(contract.RESULT_FOUND_PROBLEM).astype("boolean")
    rows["found_problem"] = rows["found_problem"].astype("boolean").fillna(derived)
    for col in ("uscc", "task_id", "plan_id"):
        rows[col] = rows[col].astype("string")
    rows["source_order"] = np.arange(len(rows))
    return rows
