"""What reviewers read about a training run (模型评审材料): charts, tables, model card.

Charts carry Chinese labels (CJK font enforced by :mod:`workbench.views.style`); the model
card states purpose, data, performance and limits, and that grades are an internal
reference (内部参考，不对外公开).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from workbench.scoring.grades import INVERSION_Z
from workbench.scoring.train import TrainingResult
from workbench.views import style as report
from workbench.workspace import csvsafe
from workbench.workspace.folders import EvidenceFolder


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
    """Observed bad rate per grade with 95 % Wilson intervals, clustered by enterprise."""
    plt = _plt()
    t = result.grade_table
    fig, ax = plt.subplots(figsize=(6, 3.8))
    rate = 100 * t["bad_rate"]
    err = report.error_bars(t["bad_rate"], t["ci_low"], t["ci_high"], scale=100)
    ax.bar(t["grade"], rate, color="#3b6ea5", yerr=err, capsize=4)
    tops = 100 * t["ci_high"]
    for x, (r, top, share) in enumerate(zip(rate, tops, t["share"], strict=True)):
        ax.text(x, top, f"{r:.2f}%\n(占{100 * share:.1f}%)", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, float(tops.max()) * 1.25)
    ax.set_ylabel("验证期坏样本率 (%)")
    ax.set_title("各等级坏样本率及95%置信区间")
    fig.tight_layout()
    return fig


def _gaps(m: dict) -> str:
    """The comparison section: scorecard, LightGBM reference, the city's ceilings."""
    lines = []
    if "reference_lgbm_auc" in m:
        lines.append(
            f"- 参照模型 LightGBM（同一指标、同一划分，含交互作用）验证期 AUC："
            f"{m['reference_lgbm_auc']:.4f}，比评分卡高 {m['gap_to_reference']:+.4f}"
        )
    if "truth_label_auc" in m:
        lines.append(
            f"- 合成城市的标签上限（贝叶斯上限，Bayes limit）：{m['truth_label_auc']:.4f}——"
            "已知基准日全部隐藏状态时，对同一标签（基准日后12个月内的不良事件）所能达到的最高 AUC"
        )
    if "truth_violation_auc" in m:
        lines.append(
            f"- 合成城市真实违法概率的 AUC：{m['truth_violation_auc']:.4f}（只含违法本身，"
            "不是本标签的上限）"
        )
    if not lines:
        return ""
    text = "\n## 与参照模型、理论上限的差距\n\n" + "\n".join(lines) + "\n"
    if "truth_label_auc" in m and "reference_lgbm_auc" in m:
        latent = m["truth_label_auc"] - max(m["reference_lgbm_auc"], m["valid_auc"])
        verdict = (
            "差距不超过 0.02，说明可加的评分卡已基本用尽这些指标。"
            if m["gap_to_reference"] <= 0.02
            else "差距超过 0.02：应检查指标间的交互作用（可构造组合指标）或分箱设置。"
        )
        text += f"""
如何解读：

- **评分卡 → LightGBM**（{m["gap_to_reference"]:+.4f}）：同一批指标里，更灵活的模型（交互作用、
  更细的切分）还能多找到的信号。{verdict}
- **LightGBM → 标签上限**（{latent:+.4f}）：指标本身不包含的信息，换模型无法弥补：企业潜在的
  违法倾向、法定代表人名下主体的共同风险、正在持续但尚未被发现的违法行为、已立案尚未作出的处罚、
  僵尸企业状态等。只有新的数据来源（新的指标）才能缩小这部分差距。
- 真实违法概率的 AUC 低于标签上限：标签记录的是“被发现并公示”的事件，是否被发现取决于投诉、
  专项执法等发现渠道；无法联系等非违法事件也计入标签。因此它不是本标签的上限。
- 标签上限由生成器重演基准日后的未来多次模拟估计（`workbench.synth.ceiling`），只用隐藏状态、
  不看实际标签，是精确上限的下界。
"""
    return text


def _order(m: dict) -> str:
    """The weakest step between neighbouring grades in standard errors, and what it means."""
    z = m.get("grades_order_z")
    if z is None or z != z:
        return ""
    meaning = "显著倒挂" if z < INVERSION_Z else ("在抽样误差之内" if z <= 0 else "逐级上升")
    return (
        f"（相邻等级最弱一步 z = {z:.2f}，{meaning}；两级坏样本率相同假设下、按企业聚类的标准误）"
    )


def _reference_order(m: dict) -> str:
    """The reference LightGBM graded by the same scheme: can the sample order the grades?"""
    if "reference_lgbm_grades_monotone" not in m:
        return ""
    rises = "是" if m["reference_lgbm_grades_monotone"] else "否"
    z, own = m.get("reference_lgbm_order_z"), m.get("grades_order_z")
    finite = [v is not None and v == v for v in (z, own)]
    if not finite[0]:
        detail = "（有等级没有验证样本）"
    else:
        detail = f"，最弱一步 z = {z:.2f}"
        both_flat = (
            all(finite)
            and not m["reference_lgbm_grades_monotone"]
            and not m["grades_monotone"]
            and min(z, own) >= INVERSION_Z
        )
        if both_flat:
            detail += "；两个模型的倒挂都在抽样误差之内：这一验证样本量难以支撑严格递增"
    return (
        "\n- 参照模型 LightGBM 按同一方案分级（同一分数刻度；按份额或 PD 分档时，切分点取自"
        f"它自己的训练期预测）：坏样本率严格上升 {rises}{detail}"
    )


def _thin_bins(iv_table: pd.DataFrame, events: int) -> str:
    """One line on the selected variables with a bin resting on few bad enterprises.

    A bin's event minimum counts rows; in a panel its bad rows can be a few enterprises'
    month ends, and then its points are those enterprises' outcomes.
    """
    if "bad_enterprises_min" not in iv_table:
        return ""
    selected = iv_table[iv_table["decision"] == "selected"]
    thin = selected[selected["bad_enterprises_min"] < events].sort_values("bad_enterprises_min")
    if thin.empty:
        return ""
    first = thin.iloc[0]
    return (
        f"\n\n注意：{len(thin)} 个入模指标有分箱的坏样本来自不足 {events} 家企业（最少 "
        f"{int(first['bad_enterprises_min'])} 家：{first['feature']}）——这些分箱的分值只代表少数"
        "企业的结局，样本外未必成立；企业数越少的城市越常见（IV 表 note 列逐一列出）。"
    )


def _enterprises(row) -> str:
    """Distinct enterprises of a grade-table row ("—" in a table written before they were)."""
    count = getattr(row, "enterprises", None)
    return "—" if count is None or count != count else f"{int(count):,}"


def model_card(result: TrainingResult, run_id: str | None = None) -> str:
    """The model card in Markdown (purpose, data, performance, limits)."""
    m, p = result.metrics, result.params
    rows = "\n".join(
        f"| {r.grade} | {r.label} | {r.count:,} | {_enterprises(r)} | {100 * r.share:.1f}% | "
        f"{100 * r.bad_rate:.2f}% [{100 * r.ci_low:.2f}%, {100 * r.ci_high:.2f}%] |"
        for r in result.grade_table.itertuples()
    )
    features = "\n".join(
        f"- {row.feature}（{row.名称}）IV {row.iv:.3f}"
        for row in result.iv_table[result.iv_table["decision"] == "selected"].itertuples()
    )
    features += _thin_bins(result.iv_table, p["options"].get("min_bin_events", 0))
    embargo = p.get("embargo_months", 0)
    return f"""# 模型卡：{p["family"]} 评分卡

**内部参考，不对外公开。** 信用风险分类结果只作为配置监管资源的参考，不是对企业的信用评级。

- MLflow run：`{run_id or "（未记录）"}`；指标目录指纹 `{p["catalog_fingerprint"][:16]}`
- 用途：按月对在业市场主体进行信用风险分类，支撑差异化“双随机、一公开”抽查。
- 目标：基准日后 12 个月内出现较重及以上处罚、异常名录（年报以外原因）、
  严重违法失信名单（因违法行为）或抽查发现问题。
- 数据：训练期 {", ".join(p["train_snapshots"])}；验证期（跨时间）
  {", ".join(p["valid_snapshots"])}；训练 {int(m["train_rows"]):,} 行，
  验证 {int(m["valid_rows"]):,} 行，坏样本率 {100 * m["valid_bad_rate"]:.2f}%。
- 隔离期：训练样本的标签窗口须在验证期开始前结束（间隔 {embargo} 个月），否则训练标签中
  含有验证期发生的事件，同一企业在两边出现，验证结果虚高。
- 方法：optbinning 最优分箱（缺失、特殊值单独分箱并使用经验 WoE）、按 IV 与 WoE
  相关性筛选变量、逻辑回归、评分刻度 {p["options"]["base_score"]:.0f} 分对应好坏比
  {p["options"]["base_odds"]:.0f}:1，每 {p["options"]["pdo"]:.0f} 分好坏比翻倍。
- 等级方案：{p["scheme"]}，切分分数 {p["scheme_cutoffs"]}。

## 表现（验证期）

- AUC {m["valid_auc"]:.4f}，KS {m["valid_ks"]:.4f}，Gini {m["valid_gini"]:.4f}，
  Brier {m["valid_brier"]:.4f}；训练期 AUC {m["train_auc"]:.4f}
- 评分稳定性 PSI（训练期 → 验证期）{m["psi_score"]:.4f}
- 坏样本率随等级严格上升：{"是" if m["grades_monotone"] else "**否**"}{_order(m)}{_reference_order(m)}

| 等级 | 含义 | 样本数（企业·月末） | 企业数 | 占比 | 坏样本率 [95% 置信区间，按企业聚类] |
|---|---|---|---|---|---|
{rows}
{_gaps(m)}
## 入模指标

{features}

## 局限

- 指标中的登记属性（注册资本、法定代表人）和关联关系取数据提取时的现值，无历史。
- 未被检查的企业其问题未被发现：目标含“抽查发现问题”，受抽查覆盖影响。
- 评分卡为可加模型，不刻画指标间交互；定性判定（严重违法失信名单等）在评分后单独适用。
- 注册的模型是经验证的模型，其最近的训练标签止于验证期开始：上线时已比可用数据晚约
  {embargo} 个月。
"""


def write_artifacts(result: TrainingResult, folder: str | Path, run_id: str | None = None) -> Path:
    """Write tables (CSV, Excel-friendly), charts (PNG) and the model card into ``folder``."""
    evidence = EvidenceFolder(Path(folder))
    evidence.file("binning").mkdir(parents=True, exist_ok=True)
    for name in ("iv_table", "points_table", "grade_table"):
        csvsafe.to_csv(getattr(result, name), evidence.file(name))
    for feature in result.model.features:
        table = result.model.scorecard.binning_table(feature)
        table["Bin"] = table["Bin"].map(
            lambda b: b if isinstance(b, str) else "、".join(str(v) for v in np.ravel(b))
        )
        csvsafe.to_csv(table, evidence.binning_table(feature), index=True)
    plt = _plt()
    for name, make in (
        ("roc", roc_figure),
        ("score_distribution", score_distribution_figure),
        ("grade_bad_rate", grade_bad_rate_figure),
    ):
        fig = make(result)
        fig.savefig(evidence.file(name), dpi=110)
        plt.close(fig)
    evidence.file("model_card").write_text(model_card(result, run_id), encoding="utf-8")
    return evidence.path


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
        "reference_lgbm_auc": "参照模型 LightGBM 验证期 AUC",
        "grades_order_z": "各等级坏样本率：相邻等级最弱一步 z",
        "reference_lgbm_order_z": "参照模型按同一方案分级：相邻等级最弱一步 z",
        "truth_label_auc": "合成城市标签上限 AUC",
        "truth_violation_auc": "合成城市真实违法概率 AUC",
    }
    names = {k: v for k, v in names.items() if k in m}
    return pd.DataFrame({"指标": list(names.values()), "数值": [round(m[k], 4) for k in names]})
