"""Charts and headline of a plan's evaluation (抽查效果评估), for its folder and notebook.

Internal material (内部参考): the charts show per-grade hit rates against a uniform draw,
the Horvitz–Thompson estimates, the calibration of the model's PD and the lift, with
Chinese labels because the readers are the bureau's analysts and leaders.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

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
        label="随机均匀抽查预期检出率（全体估计）",
    )
    if np.isfinite(overall["est_low"]):
        ax.axhspan(overall["est_low"], overall["est_high"], color="#c0392b", alpha=0.12)
    ax.set_xticks(x, grades["grade"])
    ax.set_xlabel("信用风险等级")
    ax.set_ylabel("发现问题比例")
    ax.set_title("各等级抽查检出率与随机均匀抽查对比")
    ax.legend(fontsize=8)
    paths.append(_save(fig, folder / "hit_rate.png"))

    fig, ax = plt.subplots(figsize=(7, 4))
    labels = [*grades["grade"], "合计"]
    est = table["est_rate"].to_numpy(dtype=float)
    err = report.error_bars(est, table["est_low"], table["est_high"])
    ax.errorbar(np.arange(len(labels)), est, yerr=err, fmt="o", capsize=4, color="#2c7a4b")
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set_ylabel("估计违法率（按入样概率加权）")
    ax.set_title("全体市场主体违法率估计（Horvitz–Thompson，95% 区间）")
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

    fig, ax = plt.subplots(figsize=(8.5, 4))
    lift = summary["lift"]
    names = ["本次按等级抽查（实际）", "随机均匀抽查（估计）"]
    values = [lift.get("found", 0), (lift.get("uniform_expected_found") or {}).get("value") or 0]
    lows = [0, values[1] - ((lift.get("uniform_expected_found") or {}).get("low") or values[1])]
    highs = [0, ((lift.get("uniform_expected_found") or {}).get("high") or values[1]) - values[1]]
    oracle = summary.get("oracle")
    if oracle:
        names += ["完美风险模型（真值）", "理论上限（已知违法状态）"]
        values += [oracle["true_risk_expected"], oracle["oracle_expected"]]
        lows += [0, 0]
        highs += [0, 0]
    ax.bar(
        names,
        values,
        yerr=np.clip(np.nan_to_num([lows, highs]), 0, None),
        capsize=4,
        color=["#3b6ea5", "#c0392b", "#95a5a6", "#7f8c8d"][: len(names)],
    )
    ax.set_ylabel(f"发现问题户数（检查 {lift.get('inspections', 0)} 户）")
    ax.set_title("同样检查户数下发现问题的数量")
    paths.append(_save(fig, folder / "lift.png"))
    return paths


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
    lines = [
        f"- 抽查计划 **{summary['plan_id']}**：抽中 {summary['drawn']} 户（任务 "
        f"{summary['tasks']} 个），已反馈结果 {summary['inspected']} 户（其中无法判定 "
        f"{summary['no_verdict']} 户），未反馈任务 {summary['tasks_without_result']} 个，"
        f"发现问题 **{summary['found']}** 户。",
        f"- 检出率 {pct(summary['hit_rate'])}（95% 区间 {pct(summary['hit_rate_interval'][0])}–"
        f"{pct(summary['hit_rate_interval'][1])}）；全体估计违法率 "
        f"{pct(summary['population_rate']['value'])}（{pct(summary['population_rate']['low'])}–"
        f"{pct(summary['population_rate']['high'])}）。",
    ]
    if lift.get("lift", {}).get("value") is not None:
        u = lift["uniform_expected_found"]
        lines.append(
            f"- 同样检查 {lift['inspections']} 户，随机均匀抽查预计发现 {u['value']:.1f} 户"
            f"（{u['low']:.1f}–{u['high']:.1f}），按等级抽查实际发现 {lift['found']} 户："
            f"**{lift['lift']['value']:.2f} 倍**"
            f"（{lift['lift']['low']:.2f}–{lift['lift']['high']:.2f}）。"
        )
    if summary.get("share_on_lowest_grade") is not None:
        lines.append(
            f"- 无事不扰：{summary['lowest_grade']} 级主体占检查量 "
            f"{pct(summary['share_on_lowest_grade'])}。"
        )
    oracle = summary.get("oracle")
    if oracle:
        lines.append(
            f"- 合成城市真值：理论上限 {oracle['oracle_expected']:.1f} 户，完美风险模型 "
            f"{oracle['true_risk_expected']:.1f} 户，本计划期望 {oracle['plan_expected']:.1f} 户，"
            f"随机均匀 {oracle['uniform_expected']:.1f} 户。"
        )
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
