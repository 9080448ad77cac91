"""What reviewers read about a training run (模型评审材料): charts, tables, model card.

Charts carry Chinese labels (CJK font enforced by :mod:`workbench.report`); the model
card states purpose, data, performance and limits, and that grades are an internal
reference (内部参考，不对外公开).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from workbench import report
from workbench.train import TrainingResult


def _plt():
    report.use_cjk_font()
    import matplotlib.pyplot as plt

    return plt


def roc_figure(result: TrainingResult):
    """ROC curve of the validation rows, with AUC and KS."""
    plt = _plt()
    v = result.validation
    fpr, tpr, _ = roc_curve(v["label"].astype(int), v["pd"])
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.plot(fpr, tpr, color="#3b6ea5", label=f"AUC = {result.metrics['valid_auc']:.3f}")
    ax.plot([0, 1], [0, 1], color="#aaa", linestyle="--", linewidth=1)
    ks_at = int(np.argmax(tpr - fpr))
    ax.vlines(
        fpr[ks_at],
        fpr[ks_at],
        tpr[ks_at],
        color="#c0392b",
        label=f"KS = {result.metrics['valid_ks']:.3f}",
    )
    ax.set_xlabel("误报率（好企业被判为高风险的比例）")
    ax.set_ylabel("检出率（坏企业被判为高风险的比例）")
    ax.set_title("验证期 ROC 曲线（跨时间验证）")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def score_distribution_figure(result: TrainingResult):
    """Score histograms of good and bad validation rows."""
    plt = _plt()
    v = result.validation
    fig, ax = plt.subplots(figsize=(7, 3.8))
    bins = np.linspace(v["score"].min(), v["score"].max(), 40)
    for value, name, color in (
        (0, "好（未出现不良事件）", "#3b6ea5"),
        (1, "坏（出现不良事件）", "#c0392b"),
    ):
        part = v.loc[v["label"] == value, "score"]
        ax.hist(part, bins=bins, density=True, alpha=0.55, color=color, label=name)
    for cutoff, code in zip(
        result.model.scheme.cutoffs, result.model.scheme.scheme.codes, strict=False
    ):
        ax.axvline(cutoff, color="#555", linewidth=0.8)
        ax.text(
            cutoff, ax.get_ylim()[1] * 0.95, f" {code} ≥ {cutoff:.0f}", fontsize=8, color="#555"
        )
    ax.set_xlabel("评分（分数越高风险越低）")
    ax.set_ylabel("密度")
    ax.set_title("验证期评分分布（竖线为等级切分点）")
    ax.legend()
    fig.tight_layout()
    return fig


def grade_bad_rate_figure(result: TrainingResult):
    """Observed bad rate per grade with 95 % Wilson intervals (must rise A → D)."""
    plt = _plt()
    t = result.grade_table
    fig, ax = plt.subplots(figsize=(6, 3.8))
    rate = 100 * t["bad_rate"]
    err = [100 * (t["bad_rate"] - t["ci_low"]), 100 * (t["ci_high"] - t["bad_rate"])]
    ax.bar(t["grade"], rate, color="#3b6ea5", yerr=err, capsize=4)
    tops = 100 * t["ci_high"]
    for x, (r, top, share) in enumerate(zip(rate, tops, t["share"], strict=True)):
        ax.text(x, top, f"{r:.2f}%\n(占{100 * share:.1f}%)", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, float(tops.max()) * 1.25)
    ax.set_ylabel("验证期坏样本率 (%)")
    ax.set_title("各等级坏样本率及95%置信区间")
    fig.tight_layout()
    return fig


def model_card(
    result: TrainingResult, run_id: str | None = None, truth_auc: float | None = None
) -> str:
    """The model card in Markdown (purpose, data, performance, limits)."""
    m, p = result.metrics, result.params
    rows = "\n".join(
        f"| {r.grade} | {r.label} | {r.count:,} | {100 * r.share:.1f}% | "
        f"{100 * r.bad_rate:.2f}% [{100 * r.ci_low:.2f}%, {100 * r.ci_high:.2f}%] |"
        for r in result.grade_table.itertuples()
    )
    features = "\n".join(
        f"- {row.feature}（{row.名称}）IV {row.iv:.3f}"
        for row in result.iv_table[result.iv_table["decision"] == "selected"].itertuples()
    )
    ceiling = (
        f"\n- 合成城市真实违法概率在同一验证样本上的 AUC（违法部分的上限）：{truth_auc:.4f}"
        if truth_auc is not None
        else ""
    )
    if "reference_lgbm_auc" in m:
        ceiling += (
            f"\n- 参照模型 LightGBM（同一指标、同一划分，含交互作用）验证期 AUC："
            f"{m['reference_lgbm_auc']:.4f}，评分卡差距 {m['gap_to_reference']:+.4f}"
        )
    return f"""# 模型卡：{p["family"]} 评分卡

**内部参考，不对外公开。** 信用风险分类结果只作为配置监管资源的参考，不是对企业的信用评级。

- MLflow run：`{run_id or "（未记录）"}`；指标目录指纹 `{p["catalog_fingerprint"][:16]}`
- 用途：按月对在业市场主体进行信用风险分类，支撑差异化“双随机、一公开”抽查。
- 目标：基准日后 12 个月内出现较重及以上处罚、异常名录（年报以外原因）、
  严重违法失信名单（因违法行为）或抽查发现问题。
- 数据：训练期 {", ".join(p["train_snapshots"])}；验证期（跨时间）
  {", ".join(p["valid_snapshots"])}；训练 {int(m["train_rows"]):,} 行，
  验证 {int(m["valid_rows"]):,} 行，坏样本率 {100 * m["valid_bad_rate"]:.2f}%。
- 方法：optbinning 最优分箱（缺失、特殊值单独分箱并使用经验 WoE）、按 IV 与 WoE
  相关性筛选变量、逻辑回归、评分刻度 {p["options"]["base_score"]:.0f} 分对应好坏比
  {p["options"]["base_odds"]:.0f}:1，每 {p["options"]["pdo"]:.0f} 分好坏比翻倍。
- 等级方案：{p["scheme"]}，切分分数 {p["scheme_cutoffs"]}。

## 表现（验证期）

- AUC {m["valid_auc"]:.4f}，KS {m["valid_ks"]:.4f}，Gini {m["valid_gini"]:.4f}，
  Brier {m["valid_brier"]:.4f}；训练期 AUC {m["train_auc"]:.4f}
- 评分稳定性 PSI（训练期 → 验证期）{m["psi_score"]:.4f}{ceiling}
- 坏样本率随等级严格上升：{"是" if m["grades_monotone"] else "**否**"}

| 等级 | 含义 | 企业数 | 占比 | 坏样本率 [95% 置信区间] |
|---|---|---|---|---|
{rows}

## 入模指标

{features}

## 局限

- 指标中的登记属性（注册资本、法定代表人）和关联关系取数据提取时的现值，无历史。
- 未被检查的企业其问题未被发现：目标含“抽查发现问题”，受抽查覆盖影响。
- 评分卡为可加模型，不刻画指标间交互；定性判定（严重违法失信名单等）在评分后单独适用。
"""


def write_artifacts(
    result: TrainingResult,
    folder: str | Path,
    run_id: str | None = None,
    truth_auc: float | None = None,
) -> Path:
    """Write tables (CSV, Excel-friendly), charts (PNG) and the model card into ``folder``."""
    folder = Path(folder)
    (folder / "binning").mkdir(parents=True, exist_ok=True)
    result.iv_table.to_csv(folder / "iv_table.csv", index=False, encoding="utf-8-sig")
    result.points_table.to_csv(folder / "points_table.csv", index=False, encoding="utf-8-sig")
    result.grade_table.to_csv(folder / "grade_table.csv", index=False, encoding="utf-8-sig")
    for feature in result.model.features:
        table = result.model.scorecard.binning_table(feature)
        table["Bin"] = table["Bin"].map(
            lambda b: b if isinstance(b, str) else "、".join(str(v) for v in np.ravel(b))
        )
        table.to_csv(folder / "binning" / f"{feature}.csv", encoding="utf-8-sig")
    plt = _plt()
    for name, make in (
        ("roc", roc_figure),
        ("score_distribution", score_distribution_figure),
        ("grade_bad_rate", grade_bad_rate_figure),
    ):
        fig = make(result)
        fig.savefig(folder / f"{name}.png", dpi=110)
        plt.close(fig)
    (folder / "model_card.md").write_text(model_card(result, run_id, truth_auc), encoding="utf-8")
    return folder


def metrics_frame(result: TrainingResult) -> pd.DataFrame:
    """Headline metrics with Chinese names, for the notebook."""
    m = result.metrics
    names = {
        "valid_auc": "验证期 AUC",
        "valid_ks": "验证期 KS",
        "valid_gini": "验证期 Gini",
        "valid_brier": "验证期 Brier",
        "train_auc": "训练期 AUC",
        "psi_score": "评分 PSI（训练→验证）",
        "n_features": "入模指标数",
        "valid_bad_rate": "验证期坏样本率",
    }
    return pd.DataFrame({"指标": list(names.values()), "数值": [round(m[k], 4) for k in names]})
