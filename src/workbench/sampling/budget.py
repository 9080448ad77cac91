"""Ratios for a budget (按检查力量确定分级抽查比例): the most problems found per inspection.

Given the inspections the departments can do and an expected problem rate per grade,
the proposal maximises the expected number of problems found (发现问题数)

    max Σ_g r_g · N_g · x_g   subject to   Σ_g N_g · x_g ≤ budget,
                                          x_A ≤ x_B ≤ … (ratios never fall as risk rises),
                                          floor_g ≤ x_g ≤ min(ceiling_g, 1),
                                          Σ_g N_g · x_g ≥ overall_floor · Σ_g N_g,

a small linear programme (scipy's HiGHS). The floors carry the law (the 3 % overall floor
of enterprise-disclosure checks, 总局令第101号), the ceiling on A carries 无事不扰. The
answer is compared with a uniform draw of the same size, which every grade-blind plan is.

Expected rates (预期检出率) come from past plan results (检查发现问题率) of the last 12
months, per grade at the draw and weighted by 1/π (:func:`rates_from_hits`), falling back
— and saying so in ``source`` — to the model's mean PD where a grade has too few results;
or from the PD alone (``expected_rates: pd``). The PD is a 12-month probability of a bad
outcome, not a finding rate: on the demo city it understates the findings some 3×.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError


class BudgetError(WorkbenchError, ValueError):
    """Constraints that no ratios can meet, saying which and by how much."""


@dataclass(frozen=True)
class BudgetProposal:
    """Proposed ratios and counts per grade, with the uniform draw of the same size."""

    table: pd.DataFrame
    budget: int

    @property
    def drawn(self) -> int:
        """Enterprises the proposal draws (at most the budget)."""
        return int(self.table["drawn"].sum())

    @property
    def expected_findings(self) -> float:
        """Expected problems found by the proposal."""
        return float(self.table["expected_findings"].sum())

    @property
    def uniform_expected_findings(self) -> float:
        """Expected problems found by a grade-blind draw of the same size."""
        return float(self.table["uniform_expected_findings"].sum())

    def ratios(self) -> dict[str, Fraction]:
        """Exact per-grade ratios drawn/population, for a plan's ``grades`` section."""
        return {
            g: Fraction(int(d), int(n)) if n else Fraction(0)
            for g, d, n in zip(
                self.table["grade"], self.table["drawn"], self.table["population"], strict=True
            )
        }


def _pct(x: float) -> str:
    return f"{100 * float(x):.4g} %"


def propose_ratios(
    population: Mapping[str, int],
    rates: Mapping[str, float],
    budget: int,
    floors: Mapping[str, float] | None = None,
    ceilings: Mapping[str, float] | None = None,
    overall_floor: float = 0.0,
    overall_base: int | None = None,
    sources: Mapping[str, str] | None = None,
) -> BudgetProposal:
    """Per-grade ratios maximising expected findings under the policy constraints.

    Args:
        population: eligible enterprises per grade, in grade order (lowest risk first).
        rates: expected problem rate per inspected enterprise, per grade.
        budget: inspections available (enterprises).
        floors: minimum ratio per grade (default 0).
        ceilings: maximum ratio per grade (default 1), e.g. ``{"A": 0.02}``.
        overall_floor: minimum share drawn (e.g. 0.03) of ``overall_base`` enterprises.
        overall_base: the enterprises the overall floor refers to (default: the sum of
            ``population``; the stage passes the plan's whole population, trigger-only
            and excluded enterprises included).
        sources: where each grade's rate came from (``hit_rate`` or ``pd``), written
            beside it as ``rate_source``.

    Raises:
        BudgetError: naming the constraint that cannot be met and by how much.
    """
    from scipy.optimize import linprog

    grades = list(population)
    n = np.array([int(population[g]) for g in grades], dtype=float)
    r = np.array([float(rates[g]) for g in grades], dtype=float)
    floors, ceilings = dict(floors or {}), dict(ceilings or {})
    lo = np.array([float(floors.get(g, 0.0)) for g in grades])
    hi = np.array([min(float(ceilings.get(g, 1.0)), 1.0) for g in grades])
    if budget < 1:
        raise BudgetError(f"budget is {budget} inspections; it must be at least 1")
    for g, a, b in zip(grades, lo, hi, strict=True):
        if a > b:
            raise BudgetError(f"grade {g}: floor {_pct(a)} is above its ceiling {_pct(b)}")
    # ratios never fall from grade to grade: grade g is at least every earlier floor and at
    # most every later ceiling
    eff_lo, eff_hi = np.maximum.accumulate(lo), np.minimum.accumulate(hi[::-1])[::-1]
    for i in range(len(grades)):
        if eff_lo[i] > eff_hi[i] + 1e-12:
            j = int(np.argmax(lo[: i + 1] == eff_lo[i]))
            k = i + int(np.argmax(hi[i:] == eff_hi[i]))
            raise BudgetError(
                f"ratios must not decrease from {grades[0]} to {grades[-1]}, but grade "
                f"{grades[j]}'s floor {_pct(eff_lo[i])} exceeds grade {grades[k]}'s ceiling "
                f"{_pct(eff_hi[i])} (by {_pct(eff_lo[i] - eff_hi[i])})"
            )
    total = float(n.sum())
    base = int(total if overall_base is None else overall_base)
    need_floor = math.ceil(overall_floor * base - 1e-9)
    if need_floor > budget:
        raise BudgetError(
            f"budget of {budget:,} inspections is below the overall floor {_pct(overall_floor)} "
            f"of {base:,} enterprises = {need_floor:,} (short by {need_floor - budget:,})"
        )
    need_grades = float((eff_lo * n).sum())
    if need_grades > budget + 1e-9:
        detail = ", ".join(
            f"{g} {_pct(a)} of {int(c):,}" for g, a, c in zip(grades, eff_lo, n, strict=True) if a
        )
        raise BudgetError(
            f"budget of {budget:,} inspections is below what the grade floors need: "
            f"{math.ceil(need_grades):,} ({detail}; short by {math.ceil(need_grades) - budget:,})"
        )
    most = float((eff_hi * n).sum())
    if most + 1e-9 < need_floor:
        raise BudgetError(
            f"the ceilings allow at most {int(most):,} inspections, below the overall floor "
            f"{_pct(overall_floor)} = {need_floor:,} (short by {need_floor - int(most):,})"
        )
    k = len(grades)
    a_ub, b_ub = [n.copy()], [float(budget)]
    if need_floor:
        a_ub.append(-n)
        b_ub.append(-float(need_floor))
    for i in range(k - 1):
        row = np.zeros(k)
        row[i], row[i + 1] = 1.0, -1.0
        a_ub.append(row)
        b_ub.append(0.0)
    result = linprog(
        -(r * n),
        A_ub=np.array(a_ub),
        b_ub=np.array(b_ub),
        bounds=list(zip(lo, hi, strict=True)),
        method="highs",
    )
    if result.status != 0:
        raise BudgetError(f"no ratios meet the constraints ({result.message})")
    x = np.clip(result.x, lo, hi)
    drawn = np.minimum(np.floor(x * n + 1e-9), n).astype(np.int64)
    # rounding down may leave the overall floor short: add one at a time where risk is highest
    for i in np.argsort(-r, kind="stable"):
        while drawn.sum() < need_floor and drawn[i] < math.floor(eff_hi[i] * n[i] + 1e-9):
            drawn[i] += 1
    size = int(drawn.sum())
    uniform = size / total if total else 0.0
    table = pd.DataFrame(
        {
            "grade": grades,
            "population": n.astype(np.int64),
            "rate": r,
            "rate_source": [str((sources or {}).get(g, "")) for g in grades],
            "floor": lo,
            "ceiling": hi,
            "ratio": x,
            "drawn": drawn,
            "expected_findings": drawn * r,
            "uniform_ratio": uniform,
            "uniform_drawn": uniform * n,
            "uniform_expected_findings": uniform * n * r,
        }
    )
    return BudgetProposal(table, int(budget))


def rates_from_pd(frame: pd.DataFrame, by: str = "grade") -> pd.Series:
    """Mean model PD per group: the expected problem rate of an inspected enterprise."""
    return frame.groupby(by, sort=False)["pd"].mean()


def rates_from_hits(
    grades: pd.DataFrame,
    inspections: pd.DataFrame | None,
    snapshot: pd.Timestamp,
    months: int = 12,
    min_verdicts: int = 30,
    tasks: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Past finding rate (检查发现问题率) per grade, with the PD where results are thin.

    With ``tasks`` (the earlier draws' task lists: ``task_id``, ``plan_id``,
    ``snapshot``, ``uscc``, ``grade``, ``inclusion_probability``) the rate is calibrated
    on the results of those draws — per grade at the draw, weighted by 1/π, per inspected
    enterprise (:func:`workbench.evaluation.weighting.calibrated_finding_rates`); a grade
    with fewer than ``min_verdicts`` inspected enterprises uses its mean PD. Without
    ``tasks`` (no π known) every inspection of the last ``months`` months with a verdict
    counts alike under the enterprise's current grade.

    Returns:
        Per grade of the grade file: ``verdicts`` (results counted), ``hits``, ``rate``
        and ``source`` (``hit_rate`` or ``pd``).
    """
    pd_rate = rates_from_pd(grades)
    counts = pd.DataFrame({"verdicts": 0, "hits": 0}, index=pd_rate.index)
    past = pd.Series(np.nan, index=pd_rate.index)
    if tasks is not None:
        from workbench.evaluation.weighting import calibrated_finding_rates

        rates = calibrated_finding_rates(inspections, tasks, snapshot, months)
        counts["verdicts"] = rates["inspected"].reindex(counts.index).fillna(0).astype(int)
        counts["hits"] = rates["found"].reindex(counts.index).fillna(0).astype(int)
        past = rates["rate"].reindex(counts.index)
    elif inspections is not None and len(inspections) and "found_problem" in inspections:
        since = snapshot - pd.DateOffset(months=months)
        recent = inspections[
            (inspections["inspected_on"] > since)
            & (inspections["inspected_on"] <= snapshot)
            & inspections["found_problem"].notna()
        ]
        joined = recent.merge(grades[["uscc", "grade"]], on="uscc", how="inner")
        agg = joined.groupby("grade")["found_problem"].agg(["size", "sum"])
        counts["verdicts"] = agg["size"].reindex(counts.index).fillna(0).astype(int)
        counts["hits"] = agg["sum"].reindex(counts.index).fillna(0).astype(int)
        past = counts["hits"] / counts["verdicts"].clip(lower=1)
    enough = counts["verdicts"] >= min_verdicts
    counts["rate"] = np.where(enough, past, pd_rate.reindex(counts.index))
    counts["source"] = np.where(enough, "hit_rate", "pd")
    return counts
