"""Grade migration, early warning and regional/industry risk (等级迁移、预警、区域行业风险研判).

Grades are updated monthly (按月动态更新); what moved is what the bureau acts on first:
the migration matrix against last month shows whether the population drifts, the
warning list names the enterprises that worsened by two or more classes or entered the
worst grade (with their reasons), and the region × industry table shows where high-risk
enterprises concentrate (区域性、行业性风险研判). High risk = the two worst grades of the
scheme (C and D of the national four classes, D and E of five). The heatmap of the
region × industry table is drawn in :mod:`workbench.views.grading`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.config.regions import region_name
from workbench.contract import INDUSTRY_SECTIONS

NEW = "新增"  # graded this month, not last month
GONE = "退出"  # graded last month, not this month (exited or out of scope)
REASON_COLUMNS = ("reason_1", "reason_2", "reason_3")


def high_risk_grades(codes: tuple[str, ...]) -> tuple[str, ...]:
    """The grades counted as high risk: the worst two."""
    return tuple(codes[-2:])


def migration_matrix(
    previous: pd.DataFrame | None, current: pd.DataFrame, codes: tuple[str, ...]
) -> pd.DataFrame:
    """Counts of enterprises by last month's grade (rows) and this month's (columns).

    Rows carry ``新增`` for enterprises not graded last month, columns ``退出`` for those
    no longer graded. Without a previous month every enterprise is ``新增``.
    """
    rows, cols = [*codes, NEW], [*codes, GONE]
    before = (
        previous.set_index("uscc")["grade"]
        if previous is not None
        else pd.Series(dtype=object, name="grade")
    )
    now = current.set_index("uscc")["grade"]
    joined = pd.concat({"before": before, "now": now}, axis=1, join="outer")
    joined["before"] = joined["before"].astype(object).where(joined["before"].notna(), NEW)
    joined["now"] = joined["now"].astype(object).where(joined["now"].notna(), GONE)
    matrix = pd.crosstab(joined["before"], joined["now"]).reindex(
        index=rows, columns=cols, fill_value=0
    )
    matrix.index.name, matrix.columns.name = "上月等级", "本月等级"
    return matrix.astype(int)


def migration_rates(matrix: pd.DataFrame) -> pd.DataFrame:
    """Row shares of the matrix (where last month's A went, …), rows with no one dropped."""
    totals = matrix.sum(axis=1)
    return matrix[totals > 0].div(totals[totals > 0], axis=0)


def early_warnings(
    previous: pd.DataFrame | None, current: pd.DataFrame, codes: tuple[str, ...], jump: int = 2
) -> pd.DataFrame:
    """Enterprises that worsened by ``jump`` or more classes, or entered the worst grade.

    Keeps this month's reasons so an inspector sees why. Internal: it names enterprises.
    """
    rank = {code: i for i, code in enumerate(codes)}
    worst = codes[-1]
    now = current.copy()
    if previous is not None:
        before = previous.set_index("uscc")["grade"]
        now["previous_grade"] = now["uscc"].map(before)
    else:
        now["previous_grade"] = None
    now_rank = now["grade"].map(rank).to_numpy(dtype=float)
    before_rank = now["previous_grade"].map(rank).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        worsened = (now_rank - before_rank) >= jump
    entered_worst = (now["grade"] == worst).to_numpy() & (
        now["previous_grade"].ne(worst).to_numpy() | np.isnan(before_rank)
    )
    if previous is None:
        entered_worst = np.zeros(len(now), dtype=bool)  # no baseline: nothing "entered"
    flagged = now[worsened | entered_worst].copy()
    flagged["warning"] = np.where(
        worsened[worsened | entered_worst],
        "等级下降两级及以上",
        f"新进入{worst}类",
    )
    keep = [
        "uscc",
        "name",
        "region_code",
        "industry_section",
        "previous_grade",
        "grade",
        "model_grade",
        "override_rule",
        "score",
        "warning",
        *[c for c in REASON_COLUMNS if c in flagged.columns],
    ]
    return flagged[keep].sort_values(["grade", "score"], ascending=[False, True])


def region_industry(current: pd.DataFrame, codes: tuple[str, ...]) -> pd.DataFrame:
    """Enterprises, high-risk enterprises and their share per region × industry section."""
    high = current["grade"].isin(high_risk_grades(codes))
    table = (
        current.assign(high_risk=high)
        .groupby(["region_code", "industry_section"], observed=True, dropna=False)
        .agg(enterprises=("uscc", "size"), high_risk=("high_risk", "sum"))
        .reset_index()
    )
    table["high_risk_share"] = table["high_risk"] / table["enterprises"]
    table["region_name"] = table["region_code"].map(region_name)
    table["industry_name"] = table["industry_section"].map(
        lambda s: INDUSTRY_SECTIONS.get(str(s), (str(s),))[0]
    )
    return table
