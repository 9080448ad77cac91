"""Charts and headline of a plan's evaluation (抽查效果评估), for its folder and notebook.

Internal material (内部参考): the charts show per-grade finding rates (检出率) against the
eligible frame's, the Horvitz–Thompson estimates (each covering the plan's eligible
frame, 抽查名录, not the whole grade), the calibration of the model's PD and the findings
against a uniform draw of the same size over the same frame, with Chinese labels because
the readers are the bureau's analysts and leaders.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.config import labels
from workbench.evaluation.estimators import OVERALL
from workbench.views import style as report


def write_charts(table: pd.DataFrame, summary: dict, folder: Path) -> list[Path]:
    """Hit rate vs uniform, HT estimates, calibration and lift charts (PNG, Chinese labels)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report.use_cjk_font()
    folder.mkdir(parents=True, exist_ok=True)
    grades = table[table["grade"] != OVERALL]
    overall = table[table["grade"] == OVERALL].iloc[0]
    x = np.arange(len(grades))
    paths = []

    fig, ax = plt.subplots(figsize=(7, 4))
    rate = grades["hit_rate"].to_numpy(dtype=float)
    err = report.error_bars(rate, grades["hit_low"], grades["hit_high"])
    ax.bar(
        x,
        rate,
        color="#3b6ea5",
        yerr=err,
        capsize=4,
        label="本次抽查检出率（95% 区间）",
    )
    ax.axhline(
        overall["est_rate"],
        color="#c0392b",
        linestyle="--",
        label="抽查名录全体检出率估计（随机均匀抽查的预期）",
    )
    if np.isfinite(overall["est_low"]):
        ax.axhspan(overall["est_low"], overall["est_high"], color="#c0392b", alpha=0.12)
    ax.set_xticks(x, grades["grade"])
    ax.set_xlabel("信用风险等级")
    ax.set_ylabel("检出率（发现问题户数 ÷ 有结论的检查户数）")
    ax.set_title("各等级抽查检出率与抽查名录全体对比")
    # below the axes: inside, it covered the lowest grade's interval
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)
    paths.append(_save(fig, folder / "hit_rate.png"))

    fig, ax = plt.subplots(figsize=(7, 4))
    labels = [*grades["grade"], "合计"]
    est = table["est_rate"].to_numpy(dtype=float)
    err = report.error_bars(est, table["est_low"], table["est_high"])
    ax.errorbar(np.arange(len(labels)), est, yerr=err, fmt="o", capsize=4, color="#2c7a4b")
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set_ylabel("检出率估计（按入样概率加权）")
    ax.set_title("抽查名录（可抽取企业）检出率估计（Horvitz–Thompson，95% 区间）")
    paths.append(_save(fig, folder / "estimates.png"))

    fig, ax = plt.subplots(figsize=(5, 5))
    pd_col = "mean_pd_inspected"
    if grades[pd_col].notna().any():
        ax.errorbar(
            grades[pd_col],
            rate,
            yerr=report.error_bars(rate, grades["hit_low"], grades["hit_high"]),
            fmt="o",
            capsize=4,
            color="#3b6ea5",
        )
        for _, row in grades.iterrows():
            ax.annotate(
                row["grade"],
                (row[pd_col], row["hit_rate"]),
                xytext=(5, 5),
                textcoords="offset points",
            )
        top = float(np.nanmax([grades[pd_col].max(), np.nanmax(grades["hit_high"])])) * 1.1
        ax.plot([0, top], [0, top], color="#999999", linestyle=":", label="PD = 检出率")
        ax.legend(fontsize=8)
    else:
        ax.text(
            0.5,
            0.5,
            "无模型 PD（未找到等级文件）",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_xlabel("模型平均违约概率 PD（12个月）")
    ax.set_ylabel("实际检出率")
    ax.set_title("校准：模型 PD 与实际检出率")
    paths.append(_save(fig, folder / "calibration.png"))

    fig, ax = plt.subplots(figsize=(9.5, 4))
    lift = summary["lift"]
    uniform = lift.get("uniform_expected_found") or {}
    bars = [("本次按等级抽查（实际）", lift.get("found", 0), None, None, "#3b6ea5")]
    bars.append(
        (
            "随机均匀抽查（估计）",
            uniform.get("value") or 0,
            uniform.get("low"),
            uniform.get("high"),
            "#c0392b",
        )
    )
    for name, value, color in oracle_bars(summary.get("oracle")):
        bars.append((name, value, None, None, color))
    values = np.array([b[1] for b in bars], dtype=float)
    lows = np.array([np.nan if b[2] is None else b[2] for b in bars], dtype=float)
    highs = np.array([np.nan if b[3] is None else b[3] for b in bars], dtype=float)
    ax.bar(
        [b[0] for b in bars],
        values,
        yerr=report.error_bars(values, lows, highs),
        capsize=4,
        color=[b[4] for b in bars],
    )
    ax.tick_params(axis="x", labelsize=7)
    ax.set_ylabel(f"发现问题户数（检查 {lift.get('inspections', 0)} 户）")
    ax.set_title("同样检查户数下发现问题的数量（随机均匀抽查：在抽查名录内等概率抽取）")
    paths.append(_save(fig, folder / "lift.png"))
    return paths


#: per_grade.csv columns shown in the notebook, with their Chinese headings.
PER_GRADE_HEADERS = {
    "grade": "等级",
    "label": "类别",
    "graded": "分类户数",
    "frame_population": "抽查名录户数",
    "coverage": "覆盖率",
    "drawn": "抽中",
    "inspected": "已反馈",
    "no_verdict": "无法判定",
    "found": "发现问题",
    "hit_rate": "检出率",
    "hit_low": "检出率下限",
    "hit_high": "检出率上限",
    "est_rate": "名录检出率估计",
    "est_low": "估计下限",
    "est_high": "估计上限",
    "est_note": "说明",
    "share_of_inspections": "检查量占比",
}
_COUNTS = ("graded", "frame_population", "drawn", "inspected", "no_verdict", "found")


def per_grade_view(per_grade: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """The per-grade table with Chinese headings, and how to show each column.

    Households are whole numbers and rates percentages (a count shown as 273.7136 reads
    as a fraction of an enterprise).
    """
    shown = per_grade[[c for c in PER_GRADE_HEADERS if c in per_grade.columns]]
    formats = {
        PER_GRADE_HEADERS[c]: "{:,.0f}" if c in _COUNTS else "{:.1%}"
        for c in shown.columns
        if c not in ("grade", "label", "est_note")
    }
    return shown.rename(columns=PER_GRADE_HEADERS), formats


def oracle_bars(oracle: dict | None) -> list[tuple[str, float, str]]:
    """The synthetic city's truth as bars: (label, expected findings, colour)."""
    if not oracle:
        return []
    wanted = (
        ("uniform_expected", "随机均匀抽查（真值）", "#e6a19a"),
        ("model_plan_expected", "本方案·模型分级（真值）", "#8fb1d6"),
        ("same_plan_expected", "同一方案·按真实风险分级（真值）", "#95a5a6"),
        ("oracle_expected", "不受方案约束的上限（真值）", "#7f8c8d"),
    )
    return [
        (label, float(oracle[key]), color)
        for key, label, color in wanted
        if oracle.get(key) is not None
    ]


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def headline_markdown(summary: dict) -> str:
    """The evaluation's headline in Chinese (for the notebook)."""

    def pct(v):
        return "—" if v is None else f"{100 * v:.1f}%"

    lift = summary["lift"]
    rate = summary["population_rate"]
    frame = rate.get("frame_population")
    covers = f"抽查名录（本计划可抽取的 {frame:,.0f} 户" if frame else "抽查名录（"
    if rate.get("graded_population"):
        covers += f"，占分类企业 {rate['graded_population']:,.0f} 户的 {pct(rate.get('coverage'))}"
    covers += "）"
    lines = [
        f"- 抽查计划 **{labels.plan_title(summary['plan_id'], summary.get('title'))}**："
        f"抽中 {summary['drawn']} 户（任务 "
        f"{summary['tasks']} 个），已反馈结果 {summary['inspected']} 户（其中无法判定 "
        f"{summary['no_verdict']} 户），未反馈任务 {summary['tasks_without_result']} 个，"
        f"发现问题 **{summary['found']}** 户。",
        f"- 检出率（发现问题户数 ÷ 有结论的检查户数）{pct(summary['hit_rate'])}（95% 区间 "
        f"{pct(summary['hit_rate_interval'][0])}–{pct(summary['hit_rate_interval'][1])}）；"
        f"{covers}的检出率估计 {pct(rate['value'])}（{pct(rate['low'])}–{pct(rate['high'])}）。"
        "检出率是检查发现问题的比例，不等于违法率。",
    ]
    uniform = lift.get("uniform_expected_found") or {}
    if uniform.get("value") is not None:
        text = (
            f"- 同样检查 {lift['inspections']} 户，在抽查名录内随机均匀抽查预计发现 "
            f"{uniform['value']:.1f} 户（{uniform['low']:.1f}–{uniform['high']:.1f}），按等级抽查"
            f"实际发现 {lift['found']} 户"
        )
        ratio = lift.get("lift") or {}
        if ratio.get("low") is not None:
            text += f"：**{ratio['value']:.2f} 倍**（{ratio['low']:.2f}–{ratio['high']:.2f}）。"
        else:
            text += "；提升倍数：样本不足（发现问题太少，无法给出有意义的区间）。"
        lines.append(text)
    if summary.get("share_on_lowest_grade") is not None:
        lines.append(
            f"- 无事不扰：{summary['lowest_grade']} 级主体占检查量 "
            f"{pct(summary['share_on_lowest_grade'])}。"
        )
    lines += oracle_lines(summary.get("oracle"))
    d = summary["deadline"]
    lines.append(
        f"- 结果公示（{d['within_working_days']} 个工作日内）：按时 {d['on_time']}，逾期公示 "
        f"{d['late']}，逾期未公示 {d['overdue']}，尚在期限内 {d['open']}"
        + (
            f"；另有 {d['calendar_unknown']} 条的期限落在节假日安排尚未收录的年份，暂无法判定"
            "（待 chinese-calendar 收录后重新评估）"
            if d.get("calendar_unknown")
            else ""
        )
        + "。"
    )
    return "\n".join(lines)


def captured_note(share: float) -> str:
    """What a captured share above 100 % means (said beside it)."""
    if share <= 1:
        return ""
    return "（超过 100%：在本方案的比例与规则下，按真实风险分级并不比现有模型分级发现得更多）"


def oracle_lines(oracle: dict | None) -> list[str]:
    """The synthetic city's truth in Chinese: same-plan oracle, captured share, ceiling."""
    if not oracle:
        return []
    m = oracle.get("inspections")
    parts = [f"- 合成城市真值（同样检查 {m} 户的预期发现问题户数）："]
    if oracle.get("uniform_expected") is not None:
        parts.append(f"随机均匀抽查 {oracle['uniform_expected']:.1f} 户；")
    if oracle.get("model_plan_expected") is not None:
        parts.append(f"本方案按模型分级 {oracle['model_plan_expected']:.1f} 户；")
    if oracle.get("same_plan_expected") is not None:
        parts.append(
            f"同一方案（同样比例与规则）按真实风险分级 {oracle['same_plan_expected']:.1f} 户；"
        )
    parts.append(
        f"不受方案约束、直接检查真实发现概率最高的 {m} 户 {oracle['oracle_expected']:.1f} 户"
        "（理论上限）。"
    )
    lines = ["".join(parts)]
    if oracle.get("captured_share") is not None:
        lines.append(
            f"- 在本方案下，完美分级相对随机均匀抽查可多发现的问题中，现有模型已实现 "
            f"**{100 * oracle['captured_share']:.0f}%**{captured_note(oracle['captured_share'])}。"
        )
    return lines
