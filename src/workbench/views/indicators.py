"""Charts and tables of the indicators stage (指标体系), for the indicators notebook.

Presentation of what :mod:`workbench.indicators.signal` computes (IV, missing rates) and
of the catalog itself, with Chinese labels for the bureau's analysts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.indicators.catalog import Catalog
from workbench.views.style import escaped_table, use_cjk_font


def iv_figure(signal: pd.DataFrame, top: int = 20):
    """Horizontal bars of the ``top`` indicators by IV, with the 0.1 line (Chinese labels)."""
    import matplotlib.pyplot as plt

    use_cjk_font()

    head = signal.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(head) + 1.2))
    colors = ["#c0392b" if v >= 0.5 else "#3b6ea5" for v in head["IV"]]
    ax.barh(head["名称"], head["IV"], color=colors)
    ax.axvline(0.1, color="#888", linestyle="--", linewidth=1)
    ax.text(0.1, len(head) - 0.5, " IV = 0.1", color="#555", fontsize=8, va="bottom")
    ax.set_xlabel("信息值 IV")
    ax.set_title(f"区分度最强的 {len(head)} 个指标（红色：IV ≥ 0.5，请核查是否存在信息泄漏）")
    fig.tight_layout()
    return fig


def distribution_figure(matrix: pd.DataFrame, catalog: Catalog, ids: list[str]):
    """Histograms of a few numeric indicators (share of enterprises, zeros included)."""
    import matplotlib.pyplot as plt

    use_cjk_font()

    ids = [i for i in ids if not catalog.get(i).categorical][:6]
    cols = 3
    rows = max(1, -(-len(ids) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.8 * rows), squeeze=False)
    for ax, ind_id in zip(axes.flat, ids, strict=False):
        values = matrix[ind_id].dropna()
        ax.hist(
            values, bins=30, color="#3b6ea5", weights=np.full(len(values), 1 / max(len(values), 1))
        )
        ax.set_title(catalog.get(ind_id).name, fontsize=9)
        ax.set_ylabel("占比")
    for ax in list(axes.flat)[len(ids) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def catalog_view(catalog: Catalog):
    """The catalog as a styled table for the notebook (short columns kept on one line)."""
    short = ["指标", "名称", "维度", "专业包", "来源", "窗口", "聚合", "风险方向"]
    return escaped_table(catalog.table()).set_properties(subset=short, **{"white-space": "nowrap"})
