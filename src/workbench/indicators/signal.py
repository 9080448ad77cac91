"""Quick signal checks (指标区分度速查) for analysts: missing rates and information value.

Not the scorecard's binning (that is optbinning's job in training): a fast, transparent
screen — quantile bins, missing values in a bin of their own, categories as they are —
so that an analyst sees at once whether a new indicator carries signal (IV > 0.1).
The charts of these figures are in :mod:`workbench.views.indicators`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .catalog import Catalog

#: Conventional reading of IV in credit scoring (Siddiqi).
IV_BANDS = (
    (0.02, "无区分度"),
    (0.1, "弱"),
    (0.3, "中"),
    (0.5, "强"),
    (np.inf, "很强（核查是否泄漏）"),
)


def information_value(
    values: pd.Series, label: pd.Series, bins: int = 10, categorical: bool = False
) -> float:
    """IV of one indicator against a 0/1 label (rows with a missing label are ignored).

    Numbers with few distinct values are binned by value; others at quantiles of the
    non-zero values, with zero a bin of its own; missing values form their own bin;
    categories are bins as they are. Each bin's counts get +0.5 (so an empty side does
    not make the IV infinite).
    """
    keep = label.notna()
    x, y = values[keep], label[keep].astype(int)
    if categorical:
        groups = x.astype(object).where(x.notna(), "<缺失>")
    else:
        numeric = pd.to_numeric(x, errors="coerce").astype("float64")
        present = numeric.dropna()
        if present.nunique() <= bins:
            # few distinct values (counts, flags): each value is a bin, so a count that is
            # zero for 95 % of enterprises is not swallowed by a single quantile bin
            groups = numeric.astype(object).where(numeric.notna(), "<缺失>")
        else:
            # zero apart (zero-inflated amounts), quantiles over the rest
            rest = present[present != 0]
            edges = np.unique(np.quantile(rest, np.linspace(0, 1, bins + 1)))
            cut = pd.cut(numeric, edges, include_lowest=True, duplicates="drop")
            groups = cut.astype(object).where(numeric != 0, "0").where(numeric.notna(), "<缺失>")
    table = pd.crosstab(groups.astype(str), y).reindex(columns=[0, 1], fill_value=0) + 0.5
    good, bad = table[0] / table[0].sum(), table[1] / table[1].sum()
    return float(((bad - good) * np.log(bad / good)).sum())


def iv_table(matrix: pd.DataFrame, label: pd.Series, catalog: Catalog) -> pd.DataFrame:
    """IV, its reading and the missing rate of every indicator, strongest first."""
    rows = []
    for ind in catalog.all:
        scope = _applies(matrix, ind)
        column = matrix.loc[scope, ind.id]
        iv = information_value(column, label[scope], categorical=ind.categorical)
        rows.append(
            {
                "指标": ind.id,
                "名称": ind.name,
                "维度": ind.dimension,
                "专业包": ind.pack or "通用",
                "IV": round(iv, 4),
                "区分度": next(t for bound, t in IV_BANDS if iv < bound),
                "缺失率": round(float(column.isna().mean()), 4),
            }
        )
    return pd.DataFrame(rows).sort_values("IV", ascending=False, ignore_index=True)


def _applies(matrix: pd.DataFrame, ind) -> pd.Series:
    if ind.pack and f"in_{ind.pack}" in matrix:
        return matrix[f"in_{ind.pack}"].astype(bool)
    return pd.Series(True, index=matrix.index)


def missing_rates(matrix: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Missing rate per indicator, among the enterprises it applies to."""
    rows = []
    for ind in catalog.all:
        scope = _applies(matrix, ind)
        rows.append(
            {
                "指标": ind.id,
                "名称": ind.name,
                "适用主体数": int(scope.sum()),
                "缺失率": round(float(matrix.loc[scope, ind.id].isna().mean()), 4),
            }
        )
    return pd.DataFrame(rows)
