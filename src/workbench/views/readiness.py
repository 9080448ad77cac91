"""The readiness report (数据就绪评估) for people: CLI lines, tables for the ingest notebook.

They read the plain dict :meth:`workbench.intake.readiness.Readiness.to_dict` gives and
only present it — what the export holds, what can be computed and from when, the design
the data allows or what is missing, and the next commands.
"""

from __future__ import annotations

import html

import pandas as pd

from workbench.views.style import escaped_table

STATUS_ZH = {"available": "可计算", "partial": "部分月份", "unavailable": "不可用"}


def lines(report: dict) -> list[str]:
    """What ``workbench check`` prints: tables, history, indicators, design, next steps."""
    out = [f"readiness of {report['source']} (data snapshot {report['snapshot']}):"]
    out.append("tables (history per table):")
    for name, t in report["tables"].items():
        if not t["present"]:
            out.append(f"  {name:<19} {t['zh']}: absent")
            continue
        span = f"{t['first']} … {t['last']} ({t['months']} months)" if t["first"] else "undated"
        held = t.get("quarantined") or {}
        kept = f" (+{sum(held.values()):,} quarantined)" if held else ""
        out.append(f"  {name:<19} {t['zh']}: {t['rows']:,} rows{kept}, {span}")
    start = report["history_start"]
    out.append(
        f"history: the label's tables start {start} ({report['history_table']}); "
        f"{report['labelled_snapshots']} labelled month ends "
        + (
            f"({report['first_labelled']} … {report['last_labelled']}, each with its "
            f"{report['horizon_months']}-month outcome)"
            if report["labelled_snapshots"]
            else f"(a label needs {report['horizon_months']} months after its snapshot)"
        )
        if start
        else "history: no dated row in the label's tables"
    )
    counts = pd.Series([i["status"] for i in report["indicators"]]).value_counts()
    out.append(
        f"indicators: {counts.get('available', 0)} computable, {counts.get('partial', 0)} "
        f"with an incomplete window in the first training months, "
        f"{counts.get('unavailable', 0)} unavailable"
    )
    groups: dict[tuple[str, str], list[str]] = {}
    for row in report["indicators"]:
        if row["status"] != "available":
            groups.setdefault((row["status"], row["reason"]), []).append(row["id"])
    for (status, reason), ids in groups.items():
        out.append(f"  {status}: {reason}: {', '.join(ids)}")
    design = report["design"]
    if design:
        out.append(
            f"training design: {len(design['train'])} training month ends "
            f"{design['train'][0][:7]} … {design['train'][-1][:7]}, embargo (隔离期) "
            f"{design['embargo_months']} months, {len(design['validation'])} validation month "
            f"ends {design['validation'][0][:7]} … {design['validation'][-1][:7]} "
            f"(after {design['warmup_months']} months of history)"
        )
    else:
        out.append(f"training: not possible yet — {report['design_problem']}")
    missing = [m for m in report["missing"] if m != report["design_problem"]]
    if missing:
        out.append("missing:")
        out += [f"  {m}" for m in missing]
    if report.get("unknown_files"):
        out.append(
            "files not read (no contract table of that name, e.g. penalties.csv or "
            f"行政处罚.xlsx; see docs/data-contract.md): {', '.join(report['unknown_files'])}"
        )
    for sheet in report.get("unused_sheets", []):
        out.append(f"  sheet {sheet['sheet']!r} of {sheet['table']} not used: {sheet['why']}")
    if report["next_steps"]:
        out.append("next:")
        out += [f"  {step}" for step in report["next_steps"]]
    return out


def tables_frame(report: dict) -> pd.DataFrame:
    """One row per contract table: present, rows, first and last date, absent columns."""
    return pd.DataFrame(
        [
            {
                "表": f"{name} {t['zh']}",
                "状态": "有" if t["present"] else "缺",
                "行数": t["rows"],
                "最早日期": t["first"] or "",
                "最晚日期": t["last"] or "",
                "月数": t["months"],
                "缺少的列": "、".join(t["absent_columns"]),
            }
            for name, t in report["tables"].items()
        ]
    )


def indicators_frame(report: dict, only_problems: bool = True) -> pd.DataFrame:
    """Indicators with their status, the month their window is complete from, and why."""
    frame = pd.DataFrame(report["indicators"])
    if only_problems:
        frame = frame[frame["status"] != "available"]
    frame = frame.assign(状态=frame["status"].map(STATUS_ZH))
    return frame.rename(
        columns={"id": "指标", "window": "窗口", "from": "起始月", "reason": "说明"}
    )[["指标", "名称", "窗口", "状态", "起始月", "说明"]]


def headline_markdown(report: dict) -> str:
    """Two lines in Chinese: the design the data allows, or what is missing."""
    design = report["design"]
    if design:
        return (
            f"**可训练**：训练期 {design['train'][0][:7]} – {design['train'][-1][:7]}"
            f"（{len(design['train'])} 个月末），隔离期 {design['embargo_months']} 个月，"
            f"验证期 {design['validation'][0][:7]} – {design['validation'][-1][:7]}"
            f"（{len(design['validation'])} 个月末）。"
        )
    return f"**暂不能训练**：{html.escape(report['design_problem'])}"


def tables_table(report: dict):
    """:func:`tables_frame` styled for reading."""
    return escaped_table(tables_frame(report), {"行数": "{:,}"})


def indicators_table(report: dict):
    """:func:`indicators_frame` styled for reading (only indicators with a remark)."""
    return escaped_table(indicators_frame(report))
