"""Inspection results (抽查检查结果): reconciled with the task list, published, fed back.

Results of a plan's tasks arrive as rows of the contract's ``inspections`` table (a bureau
export, or :mod:`workbench.inspection_sim` in the demo). Nothing is dropped on the way:

* :func:`reconcile` matches them with the task list and reports every row that does not
  fit — tasks without a result (未反馈), unknown task ids, results for enterprises that
  were not drawn (非抽中主体), results of another plan, repeated results, rows the contract
  rejects — next to the matched rows the evaluation uses.
* :func:`results_notice` is the 一公开 of results: one row per drawn enterprise, built
  from :data:`NOTICE_COLUMNS` only (the same whitelist idea as the plan notice), so a
  grade, score, PD, reason, π or stratum cannot reach it.
* :func:`publication_deadlines` tracks the rule that results are published within 20
  working days (工作日) of the inspection, on the Chinese calendar: statutory holidays
  are not working days and adjusted weekend workdays (调休上班) are. The calendar comes
  from the ``chinese_calendar`` package, which knows each year only once the State
  Council has published it; a date beyond its data is a :class:`CalendarError`, never a
  silent guess.
* :func:`inspection_events` turns the results into contract rows, stored with the
  evaluation; :func:`write_feedback` hands every stored result known at a snapshot to
  that month's ingest as a feedback folder (回流数据), so indicators (``insp_*``) and
  labels (``inspection_problem``) see them under each enterprise's name.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench import contract, load, workspace

#: Working days within which an inspection result must be published (公示时限).
PUBLISH_WITHIN_WORKING_DAYS = 20

#: The results notice (抽查结果公示): column → Chinese header. Nothing else is published.
NOTICE_COLUMNS: dict[str, str] = {
    "plan_id": "抽查计划编号",
    "uscc": "统一社会信用代码",
    "name": "企业名称",
    "item": "抽查事项",
    "department": "检查实施部门",
    "inspected_on": "检查日期",
    "result": "检查结果",
    "published_on": "公示日期",
}
#: Shown in the notice for a drawn enterprise whose result has not come back yet.
RESULT_NOT_YET = "检查结果尚未录入"

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


# ----------------------------------------------------------------------------- calendar
class CalendarError(ValueError):
    """A day the Chinese working-day calendar has no data for (a year not yet published)."""


def _calendar_year_range() -> tuple[int, int]:
    import chinese_calendar

    years = [d.year for d in chinese_calendar.holidays] + [
        d.year for d in chinese_calendar.workdays
    ]
    return min(years), max(years)


def is_working_day(day: dt.date | pd.Timestamp | str) -> bool:
    """True on a Chinese working day: weekdays except holidays, plus adjusted workdays.

    Raises:
        CalendarError: for a year ``chinese_calendar`` has no data for, naming the day,
            the years it covers and what to do.
    """
    return _is_working_day(pd.Timestamp(day).date())


@functools.lru_cache(maxsize=8192)
def _is_working_day(day: dt.date) -> bool:
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as err:
        first, last = _calendar_year_range()
        version = getattr(chinese_calendar, "__version__", "?")
        raise CalendarError(
            f"working days of {day.isoformat()} are unknown: chinese-calendar {version} has "
            f"the holiday schedule (节假日安排) of {first}–{last} only; upgrade it "
            f"(pip install -U chinese-calendar) once the State Council has published "
            f"{day.year}'s schedule"
        ) from err


def add_working_days(start: dt.date | pd.Timestamp | str, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted).

    E.g. 20 working days after an inspection on Monday 2026-09-28: the National Day
    holiday (10-01…10-07) does not count, the adjusted workday Saturday 10-10 does, and
    the deadline is Friday 2026-10-30.
    """
    if days < 0:
        raise ValueError(f"days must be non-negative, not {days}")
    day = pd.Timestamp(start).date()
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        counted += _is_working_day(day)
    return day


def working_days_between(start: dt.date | pd.Timestamp | str, end: dt.date | pd.Timestamp | str):
    """Working days in ``(start, end]`` (0 when ``end`` is not after ``start``)."""
    first, last = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    count, day = 0, first
    while day < last:
        day += dt.timedelta(days=1)
        count += _is_working_day(day)
    return count


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
            :class:`~workbench.load.LoadedTable` from :func:`read_results` (its
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
    matched["verdict"] = matched["result"].map(
        lambda r: contract.RESULT_FOUND_PROBLEM[r] is not None
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


# ----------------------------------------------------------------------------- notice
def results_notice(
    reconciliation: Reconciliation,
    published_on: str | pd.Timestamp,
    within: int = PUBLISH_WITHIN_WORKING_DAYS,
    as_of: str | pd.Timestamp | None = None,
    calendar_unknown: str = "raise",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The results notice (抽查结果公示) and the deadline check behind it.

    Every drawn enterprise appears once: with its result (Chinese label) and the day it is
    published (its own ``published_on`` when the export carries one, else
    ``published_on``), or with :data:`RESULT_NOT_YET`. Only :data:`NOTICE_COLUMNS` are
    built, from the task list's plan, enterprise, item and department.

    Returns:
        ``(notice, deadlines)``: the notice with Chinese headers (public), and per matched
        task the deadline check of :func:`publication_deadlines` (internal;
        ``calendar_unknown`` is passed on to it).
    """
    tasks = reconciliation.tasks.assign(task_id=reconciliation.tasks["task_id"].astype(str))
    matched = reconciliation.matched
    deadlines = publication_deadlines(
        matched[["task_id", "uscc", "inspected_on", "published_on"]],
        published_on=published_on,
        as_of=as_of if as_of is not None else published_on,
        within=within,
        calendar_unknown=calendar_unknown,
    )
    by_task = deadlines.set_index("task_id")
    result_of = matched.set_index("task_id")["result"]
    notice = pd.DataFrame(
        {
            "plan_id": tasks["plan_id"].astype(str),
            "uscc": tasks["uscc"].astype(str),
            "name": tasks.get("name", pd.Series("", index=tasks.index)).astype(str),
            "item": tasks.get("item", pd.Series("", index=tasks.index)).astype(str),
            "department": tasks.get("department", pd.Series("", index=tasks.index)).astype(str),
        }
    )
    tid = tasks["task_id"]
    notice["inspected_on"] = tid.map(by_task["inspected_on"]).dt.strftime("%Y-%m-%d")
    notice["result"] = (
        tid.map(result_of)
        .map(lambda r: contract.code_label("inspection_result", r) if pd.notna(r) else None)
        .fillna(RESULT_NOT_YET)
    )
    notice["published_on"] = pd.Timestamp(published_on).strftime("%Y-%m-%d")
    notice["published_on"] = (
        tid.map(by_task["published_on"]).dt.strftime("%Y-%m-%d").fillna(notice["published_on"])
    )
    notice = notice.fillna("")
    if "draw_order" in tasks.columns:
        notice = notice.iloc[np.argsort(tasks["draw_order"].to_numpy(), kind="stable")]
    notice = notice[list(NOTICE_COLUMNS)].rename(columns=NOTICE_COLUMNS).reset_index(drop=True)
    return notice, deadlines.reset_index(drop=True)


def write_results_notice(notice: pd.DataFrame, folder: str | Path, title: str = "") -> list[Path]:
    """Write ``results_notice.csv`` (UTF-8 with BOM) and ``results_notice.html``.

    Raises:
        ValueError: when the notice holds a column outside the whitelist.
    """
    extra = sorted(set(notice.columns) - set(NOTICE_COLUMNS.values()))
    if extra:
        raise ValueError(f"the results notice may only hold {list(NOTICE_COLUMNS.values())}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = folder / "results_notice.csv", folder / "results_notice.html"
    notice.to_csv(csv_path, index=False, encoding="utf-8-sig")
    plan = notice["抽查计划编号"].iloc[0] if len(notice) else ""
    heading = html.escape(title or f"“双随机、一公开”抽查检查结果公示（{plan}）")
    table = notice.to_html(index=False, escape=True, border=0, classes="notice")
    html_path.write_text(
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{heading}</title><style>"
        "body{font-family:'Noto Sans CJK SC','Source Han Sans SC',sans-serif;margin:2em}"
        "table.notice{border-collapse:collapse}"
        "table.notice th,table.notice td{border:1px solid #999;padding:4px 8px}"
        f"</style></head><body><h1>{heading}</h1>"
        f"<p>共 {len(notice)} 户市场主体。</p>{table}</body></html>\n",
        encoding="utf-8",
    )
    return [csv_path, html_path]


# ----------------------------------------------------------------------------- feedback
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


RESULTS_FILE = "results.parquet"


def recorded_results(
    snapshot: str | pd.Timestamp, evaluation_root: str | Path | None = None
) -> pd.DataFrame:
    """Every stored plan result dated on or before ``snapshot``, as ``inspections`` rows.

    Reads ``data/evaluation/*/*/results.parquet`` (written by the evaluation stage); a
    task evaluated twice counts once (the most recent evaluation's row).
    """
    root = Path(evaluation_root) if evaluation_root else workspace.data_dir() / "evaluation"
    frames = [
        pd.read_parquet(p).assign(_stored=p.stat().st_mtime_ns)
        for p in sorted(root.glob(f"*/*/{RESULTS_FILE}"))
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
    return workspace.data_dir() / "feedback" / month


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
    with workspace.atomic_directory(folder) as tmp:
        rows.to_parquet(tmp / "inspections.parquet", index=False)
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
