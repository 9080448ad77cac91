"""The results notice (抽查结果公示): the 一公开 of a plan's inspection results.

One row per drawn enterprise, built from :data:`NOTICE_COLUMNS` only — the same whitelist
idea as the plan notice — so a grade, score, PD, reason, π or stratum cannot reach the
public. Each published result is checked against the 20-working-day publication rule
(:func:`workbench.evaluation.reconciliation.publication_deadlines`); that check is
internal and returned beside the notice, never inside it.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import contract
from workbench.evaluation.reconciliation import (
    PUBLISH_WITHIN_WORKING_DAYS,
    Reconciliation,
    publication_deadlines,
)
from workbench.workspace import csvsafe
from workbench.workspace.folders import EvaluationFolder

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
    """Write the public results notice of an evaluation folder: CSV (UTF-8 with BOM), HTML.

    Raises:
        ValueError: when the notice holds a column outside the whitelist.
    """
    extra = sorted(set(notice.columns) - set(NOTICE_COLUMNS.values()))
    if extra:
        raise ValueError(f"the results notice may only hold {list(NOTICE_COLUMNS.values())}")
    evaluation = EvaluationFolder(Path(folder))
    csv_path, html_path = evaluation.file("notice_csv"), evaluation.file("notice_html")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    csvsafe.to_csv(notice, csv_path)
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
