"""Charts and tables of a grading month, for the grade notebook (aggregates only).

The grade notebook's HTML rendering sits in ``reports/<YYYY-MM>/`` beside other stage
renderings, so it shows distributions, migration and counts — never an enterprise's grade.
"""

from __future__ import annotations

import pandas as pd

from workbench.views.style import use_cjk_font


def distribution_figure(distribution: pd.DataFrame):
    """Enterprises per grade: model grade beside final grade (after overrides)."""
    import matplotlib.pyplot as plt

    use_cjk_font()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    x = range(len(distribution))
    ax.bar([i - 0.2 for i in x], distribution["model_grade_enterprises"], 0.4, label="模型等级")
    ax.bar([i + 0.2 for i in x], distribution["enterprises"], 0.4, label="最终等级（定性调整后）")
    ax.set_xticks(
        list(x),
        [
            f"{g}\n{lab}"
            for g, lab in zip(distribution["grade"], distribution["label"], strict=True)
        ],
    )
    ax.set_ylabel("企业数（户）")
    ax.set_title("信用风险分类结果")
    ax.legend()
    fig.tight_layout()
    return fig


def importance_figure(importance: pd.DataFrame, top: int = 15):
    """Global importance: mean |SHAP| in points per indicator, coloured by dimension."""
    import matplotlib.pyplot as plt

    use_cjk_font()
    head = importance.head(top).iloc[::-1]
    dims = list(dict.fromkeys(importance["dimension"]))
    colours = {d: plt.cm.tab10(i) for i, d in enumerate(dims)}
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(head) + 1.2))
    ax.barh(head["name_zh"], head["mean_abs_shap"], color=[colours[d] for d in head["dimension"]])
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[d]) for d in dims]
    ax.legend(handles, dims, fontsize=8, loc="lower right")
    ax.set_xlabel("平均 |SHAP|（分）")
    ax.set_title(f"指标全局重要性（前 {len(head)} 项）")
    fig.tight_layout()
    return fig


def region_industry_heatmap(table: pd.DataFrame, min_enterprises: int = 30):
    """Heatmap of the high-risk share (cells with fewer than ``min_enterprises`` left out).

    Small cells are left out because a share over a handful of enterprises is noise and,
    in a report, close to naming them; they are drawn grey, apart from a true 0 %, and
    every shown cell carries its value.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from workbench.config.regions import region_name

    use_cjk_font()
    names = (
        table["region_name"]
        if "region_name" in table
        else table["region_code"].astype(str).map(region_name)
    )
    masked = table.assign(
        region=names,
        share=table["high_risk_share"].where(table["enterprises"] >= min_enterprises),
    )
    grid = masked.pivot_table(
        index="region", columns="industry_section", values="share", aggfunc="first"
    )
    grid = grid.reindex(columns=sorted(masked["industry_section"].astype(str).unique()))
    values = grid.to_numpy(dtype=float) * 100
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * grid.shape[1] + 2), 0.45 * len(grid) + 1.8))
    ax.set_facecolor("#d9d9d9")
    image = ax.imshow(np.ma.masked_invalid(values), cmap="OrRd", aspect="auto", vmin=0)
    top = np.nanmax(values) if np.isfinite(values).any() else 0
    for i, j in zip(*np.nonzero(np.isfinite(values)), strict=True):
        colour = "white" if values[i, j] > top * 0.6 else "#222"
        ax.text(j, i, f"{values[i, j]:.0f}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(grid.shape[1]), grid.columns)
    ax.set_yticks(range(len(grid)), grid.index)
    ax.set_xlabel("行业门类（GB/T 4754）")
    ax.set_title(f"高风险企业占比（%），按区域 × 行业；灰色：无企业或不足 {min_enterprises} 户")
    fig.colorbar(image, ax=ax, label="高风险占比（%）")
    fig.tight_layout()
    return fig


def rules_view(rules, scheme_id: str, codes: tuple[str, ...], family: str = "generic"):
    """The override rules as inspectors read them: indicators by their Chinese names.

    ``sv_current > 0`` means nothing to an inspector; 当前列入严重违法失信名单 > 0 does.
    """
    from workbench.grading.overrides import rules_table
    from workbench.indicators import load_catalog

    packs = () if family == "generic" else (family,)
    names = {i.id: i.name for i in load_catalog(None, packs).all}
    return rules_table(rules, scheme_id, codes, names=names)


def migration_view(migration: pd.DataFrame) -> pd.DataFrame:
    """The migration matrix with Chinese row and column headings (上月 A → 本月 B)."""
    import re

    def grade(g) -> bool:  # A, A+, B …; not 新增 / 退出
        return re.fullmatch(r"[A-Z][+-]?", str(g)) is not None

    table = migration.copy()
    table.index = [f"上月 {g}" if grade(g) else str(g) for g in table.index]
    table.columns = [f"本月 {g}" if grade(g) else str(g) for g in table.columns]
    return table.fillna(0).astype(int).rename_axis("上月等级 → 本月等级")


def dimension_importance(importance: pd.DataFrame) -> pd.DataFrame:
    """Mean |SHAP| summed per dimension (维度), largest first."""
    table = importance.groupby("dimension")["mean_abs_shap"].sum().sort_values(ascending=False)
    return table.rename("平均|SHAP|合计（分）").rename_axis("维度").reset_index()


def warnings_overview(warnings_table: pd.DataFrame) -> pd.DataFrame:
    """Early warnings counted by kind and region (no enterprise named)."""
    from workbench.config.regions import region_name

    if warnings_table.empty:
        return pd.DataFrame({"预警类型": [], "区域": [], "企业数": []})
    return (
        warnings_table.assign(区域=warnings_table["region_code"].astype(str).map(region_name))
        .groupby(["warning", "区域"])
        .size()
        .rename("企业数")
        .reset_index()
        .rename(columns={"warning": "预警类型"})
    )
