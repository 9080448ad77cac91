"""The public notice (一公开): the plan and the drawn enterprises, from a whitelist only.

Nothing reaches the notice unless it is listed in :data:`NOTICE_COLUMNS` (task-list
column → Chinese header) or :data:`NOTICE_PLAN_FIELDS` (plan fields). Grades, scores,
PDs, reasons, inclusion probabilities, strata, triggers, inspectors and the draw order
are never read here, so no later change elsewhere can leak them. Rows are sorted by item
and credit code, never in draw order, so that a row's position says nothing about its
stratum whatever the draw-order rule becomes.

The seed is not printed: with the public register it would let a reader compute every
enterprise's selection keys and guess grades from who was (not) drawn. It is kept in
the internal ``draw.json`` for auditors, who hold the grade file anyway.
"""

from __future__ import annotations

import html

import pandas as pd

from workbench.sampling.plan import Plan

#: Task-list column → public header. The whitelist: nothing else is ever published.
NOTICE_COLUMNS: dict[str, str] = {
    "plan_id": "抽查计划编号",
    "item": "抽查事项",
    "department": "检查部门",
    "uscc": "统一社会信用代码",
    "name": "企业名称",
    "window_start": "检查开始日期",
    "window_end": "检查结束日期",
}

#: Plan fields shown in the notice's header.
NOTICE_PLAN_FIELDS = ("id", "title", "items", "departments")


def build_notice(tasks: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """The public table: one row per task, whitelisted columns with Chinese headers."""
    public = tasks[list(NOTICE_COLUMNS)].copy()
    for col in ("window_start", "window_end"):
        public[col] = pd.to_datetime(public[col]).dt.strftime("%Y-%m-%d")
    public = public.sort_values(["item", "uscc", "department"], kind="stable")
    public.insert(1, "title", plan.title)
    public = public.rename(columns={**NOTICE_COLUMNS, "title": "抽查计划名称"})
    return public.reset_index(drop=True).astype("string")


def _statement(enterprises: int, tasks: int) -> str:
    return (
        f"按照“双随机、一公开”要求，随机抽取检查对象 {enterprises} 户、检查任务 {tasks} 项，"
        "随机选派执法检查人员。抽查结果将于检查完成之日起20个工作日内公示。"
    )


def render_notice_html(notice: pd.DataFrame, plan: Plan) -> str:
    """A self-contained HTML page of the notice (UTF-8, no scripts, no external files)."""
    esc = html.escape
    items = "、".join(esc(i.name) for i in plan.items)
    departments = "、".join(esc(d) for d in dict.fromkeys(notice["检查部门"].tolist()))
    window = ""
    if len(notice):
        window = f"{esc(notice['检查开始日期'].min())} 至 {esc(notice['检查结束日期'].max())}"
    enterprises = notice["统一社会信用代码"].nunique()
    header = "".join(f"<th>{esc(c)}</th>" for c in notice.columns)
    row_text = pd.Series("<tr>", index=notice.index, dtype=object)
    for col in notice.columns:
        row_text = row_text + "<td>" + notice[col].astype(str).map(esc).astype(object) + "</td>"
    rows = "\n".join((row_text + "</tr>").tolist())
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{esc(plan.title)} — 抽查对象名单公示</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; font-size: 14px; }}
th, td {{ border: 1px solid #999; padding: 4px 8px; text-align: left; }}
th {{ background: #eee; }}
</style>
</head>
<body>
<h1>{esc(plan.title)}</h1>
<h2>“双随机、一公开”抽查对象名单公示</h2>
<p>抽查计划编号：{esc(plan.id)}</p>
<p>抽查事项：{items}</p>
<p>检查部门：{departments}</p>
<p>检查时间：{window}</p>
<p>{_statement(enterprises, len(notice))}</p>
<table>
<thead><tr>{header}</tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
