"""Tables, chart and headline of the data-quality report (数据质量报告), for the ingest notebook.

They read the report dict :func:`workbench.intake.quality.build_report` builds (the
``quality.json`` record) and only present it: Chinese headers, thousands separators and
percentages, because the readers are the bureau's data staff.
"""

from __future__ import annotations

import pandas as pd

from workbench import contract
from workbench.contract import TABLES
from workbench.views.style import escaped_table, use_cjk_font


def summary_frame(report: dict) -> pd.DataFrame:
    """Rows read / accepted / quarantined per table, with Chinese headers."""
    rows = [
        {
            "表": f"{name} {info['zh']}",
            "文件": info["file"],
            "编码": info["encoding"] or info["format"],
            "读入行数": info["rows_read"],
            "接收": info["accepted"],
            "隔离": info["quarantined"],
            "记名率": report["attribution"]["by_table"].get(name, {}).get("rate"),
            "覆盖率": report["coverage"]["by_table"].get(name, {}).get("share"),
        }
        for name, info in report["tables"].items()
    ]
    return pd.DataFrame(rows)


def summary_table(report: dict):
    """:func:`summary_frame` styled for reading: thousands separators, percentages, no index."""
    percent = lambda v: "—" if pd.isna(v) else f"{100 * v:.2f}%"  # noqa: E731
    return escaped_table(
        summary_frame(report),
        {"读入行数": "{:,}", "接收": "{:,}", "隔离": "{:,}", "记名率": percent, "覆盖率": percent},
    )


def reasons_frame(report: dict) -> pd.DataFrame:
    """Quarantined rows per table and reason (empty when nothing was quarantined)."""
    rows = [
        {"表": name, "原因": reason, "说明": contract.QUARANTINE_REASONS[reason], "行数": count}
        for name, info in report["tables"].items()
        for reason, count in info["by_reason"].items()
    ]
    return pd.DataFrame(rows, columns=["表", "原因", "说明", "行数"])


def coverage_figure(report: dict):
    """Bar chart of coverage per source, 记名率 in the title (Chinese labels)."""
    import matplotlib.pyplot as plt

    use_cjk_font()

    cov = report["coverage"]["by_table"]
    names = [f"{TABLES[t].zh}" for t in cov]
    shares = [100 * (v["share"] or 0) for v in cov.values()]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.5))
    ax.barh(names[::-1], shares[::-1], color="#3b6ea5")
    for y, share in enumerate(shares[::-1]):
        ax.text(share + 0.5, y, f"{share:.1f}%", va="center", fontsize=9)
    rate = report["attribution"]["rate"]
    rate_text = "—" if rate is None else f"{100 * rate:.2f}%"
    ax.set_title(f"各来源覆盖率（在业市场主体中有记录的比例）　记名率 {rate_text}")
    ax.set_xlabel("覆盖率 (%)")
    ax.set_xlim(0, 110)
    fig.tight_layout()
    return fig


def headline_markdown(report: dict) -> str:
    """A few sentences in Chinese that say what matters first (for the notebook/report)."""
    totals, attribution = report["totals"], report["attribution"]
    rate = attribution["rate"]
    rate_text = "—（无事件表）" if rate is None else f"{100 * rate:.2f}%"
    verdict = "达到" if attribution["meets_target"] else "**未达到**"
    lines = [
        f"- 数据基准日 **{report['snapshot']}**，数据目录 `{report['data_dir']}`。",
        f"- 共读入 **{totals['rows_read']:,}** 行，接收 **{totals['accepted']:,}** 行，"
        f"隔离 **{totals['quarantined']:,}** 行（隔离行保存在 `quarantine/` 中，附原因）。",
        f"- 记名率（事件记录归集到名录内市场主体的比例）**{rate_text}**，"
        f"{verdict} {100 * attribution['target']:.0f}% 的目标。",
        f"- 在业市场主体 **{report['coverage']['active_enterprises']:,}** 户；"
        f"名录中校验位不符的代码 **{report['check_digit_failures']['count']}** 个（保留并标记）。",
    ]
    if report["missing_tables"]:
        names = "、".join(f"{m['zh']}（{m['table']}）" for m in report["missing_tables"])
        lines.append(f"- 未提供的表（视为无此类记录）：{names}。")
    if report["unknown_files"]:
        lines.append(f"- 未识别的文件（未读取）：{'、'.join(report['unknown_files'])}。")
    for entry in report.get("feedback", []):
        lines.append(
            f"- 回流数据 `{entry['folder']}` 的 {entry['table']}：读入 {entry['rows_read']:,} 行，"
            f"接收 {entry['accepted']:,} 行，隔离 {entry['quarantined']:,} 行。"
        )
    return "\n".join(lines)
