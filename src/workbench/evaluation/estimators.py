"""How well sampling worked (抽查效果评估): hit rates, design-based estimates, lift, oracle.

The draw is stratified simple random sampling without replacement (分层不放回简单随机抽样):
in stratum *h* of the sampling frame, ``n_h`` of ``N_h`` enterprises are drawn, each with
inclusion probability (入样概率) ``π_h = n_h / N_h``. Everything here follows from that
design:

* **Hit rate** (检出率) per grade: problems found / inspections with a verdict, with a
  95 % Wilson interval — what the plan found.
* **Population violation rate** per grade and overall, Horvitz–Thompson (HT): every
  inspected enterprise stands for ``w = N_h / m_h`` enterprises of its stratum (``m_h`` =
  inspected with a result; tasks without a result are treated as missing at random
  within their stratum). The rate among enterprises that can be inspected is the ratio
  ``R = Σ w·y / Σ w·v`` (y = problem found, v = a verdict was possible). Its variance is
  the **stratified SRSWOR variance with finite-population correction** applied to the
  linearised variable ``u = (y − R·v) / Σ w·v`` (Taylor linearisation of a ratio):
  ``V = Σ_h N_h² (1 − m_h/N_h) s²_{u,h} / m_h``. A grade is a domain: ``u`` is zero
  outside it, so a stratum need not lie inside one grade. Intervals are Wilson intervals
  at the effective sample size ``R(1 − R)/V`` (Korn & Graubard), which stay inside [0, 1]
  and behave near 0; a domain observed completely (π = 1 everywhere) has no sampling
  error; a domain where nothing was found uses its number of verdicts as sample size.
* **Lift** (提升倍数) over a uniform draw of the same size: problems per inspection of the
  plan ``A = Σ_h (m_h/m)·ȳ_h`` against the HT estimate of what a uniform draw finds per
  inspection ``B = Σ_h (N_h/N)·ȳ_h`` (no-verdict results count as no problem in both: a
  uniform draw meets closed enterprises too). Both are linear in the stratum means, so
  ``Var(A − B) = Σ_h (a_h − b_h)² V_h`` exactly, with ``V_h = (1 − f_h) s²_h / m_h``;
  the lift ``A/B`` gets a delta-method interval on the log scale.
* **无事不扰**: the share of inspections spent on the lowest grade.
* **Calibration**: the model's mean PD per grade beside the observed hit rate and the HT
  rate. (PD is "bad within 12 months", a finding is "a problem now": a shape check.)
* **Oracle** (synthetic city only): the problems the same number of inspections would
  find with the true probabilities — the ceiling.

Enterprises outside the frame (π = 0: A without a trigger under 无事不扰, exclusions)
cannot be estimated from the draw; their grade's ``coverage`` says how much is missing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from workbench.scoring.grades import wilson_interval

Z = 1.959963984540054  # two-sided 95 %
OVERALL = "合计"


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and 95 % interval."""

    value: float
    se: float
    low: float
    high: float

    def to_dict(self) -> dict:
        """Plain floats (NaN → None) for JSON."""
        return {
            k: (None if v is None or not np.isfinite(v) else float(v))
            for k, v in asdict(self).items()
        }


NAN_ESTIMATE = Estimate(np.nan, np.nan, np.nan, np.nan)


# --------------------------------------------------------------------------- the design
def drawn_enterprises(tasks: pd.DataFrame) -> pd.DataFrame:
    """One row per drawn enterprise: the design unit.

    A plan with several items has one task per enterprise and item, all carrying the
    enterprise's stratum and π.

    Raises:
        ValueError: an enterprise listed under two strata.
    """
    if "uscc" not in tasks.columns:
        return tasks
    strata_per = tasks.groupby(tasks["uscc"].astype(str))["stratum"].nunique()
    if (strata_per > 1).any():
        raise ValueError(
            f"enterprise {strata_per[strata_per > 1].index[0]} is drawn in several strata"
        )
    return tasks.drop_duplicates("uscc").reset_index(drop=True)


def enterprise_results(matched: pd.DataFrame) -> pd.DataFrame:
    """One row per inspected enterprise (the enterprise is what was drawn).

    It has a verdict if any of its tasks has one, and a problem if any task found one.
    """
    if "uscc" not in matched.columns or not matched["uscc"].duplicated().any():
        return matched
    key = matched["uscc"].astype(str)
    first = matched.drop_duplicates("uscc").set_index(key.drop_duplicates())
    flags = matched.assign(_k=key).groupby("_k")[["verdict", "found"]].any()
    first["verdict"] = flags["verdict"].reindex(first.index).to_numpy()
    first["found"] = flags["found"].reindex(first.index).to_numpy()
    return first.reset_index(drop=True)


def stratum_table(tasks: pd.DataFrame, strata: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per stratum: drawn ``n_h``, inclusion probability ``π_h`` and population ``N_h``.

    ``N_h`` comes from ``strata`` (the sampling stage's ``strata.csv``: ``stratum``,
    ``population``) when given, else from ``n_h / π_h``.

    Raises:
        ValueError: a stratum whose tasks carry different π (not SRSWOR within the stratum),
            or whose population disagrees with ``n_h / π_h``.
    """
    tasks = drawn_enterprises(tasks)
    pi = pd.to_numeric(tasks["inclusion_probability"], errors="raise")
    grouped = pd.DataFrame({"stratum": tasks["stratum"].astype(str), "pi": pi}).groupby(
        "stratum", sort=True
    )["pi"]
    table = grouped.agg(drawn="size", inclusion_probability="first", pi_min="min", pi_max="max")
    uneven = table[~np.isclose(table["pi_min"], table["pi_max"], rtol=1e-9, atol=1e-12)]
    if len(uneven):
        raise ValueError(
            "inclusion probabilities differ inside stratum "
            f"{', '.join(uneven.index[:5])}: the evaluation assumes simple random sampling "
            "without replacement within each stratum (one π per stratum)"
        )
    implied = table["drawn"] / table["inclusion_probability"]
    if strata is not None:
        pop = strata.assign(stratum=strata["stratum"].astype(str)).set_index("stratum")
        table["population"] = pop["population"].reindex(table.index).astype(float)
        if table["population"].isna().any():
            lost = table.index[table["population"].isna()].tolist()
            raise ValueError(f"strata table has no population for stratum {', '.join(lost[:5])}")
        off = ~np.isclose(table["population"], implied, rtol=0.01, atol=0.5)
        if off.any():
            h = table.index[off][0]
            raise ValueError(
                f"stratum {h}: population {table.at[h, 'population']:g} but "
                f"{table.at[h, 'drawn']} drawn with π = {table.at[h, 'inclusion_probability']:g} "
                f"implies {implied[h]:.1f}"
            )
    else:
        table["population"] = np.round(implied)
    return table[["drawn", "inclusion_probability", "population"]].reset_index()


def design_units(matched: pd.DataFrame, strata: pd.DataFrame) -> pd.DataFrame:
    """The inspected units with their design: ``y``, ``v``, stratum ``N_h``, ``m_h``, weight.

    ``matched`` has one row per task with a result (``stratum``, ``grade``, ``verdict``,
    ``found``); ``strata`` is :func:`stratum_table`'s output.
    """
    matched = enterprise_results(matched)
    units = matched.assign(stratum=matched["stratum"].astype(str)).copy()
    units["y"] = units["found"].astype(bool).astype(float)
    units["v"] = units["verdict"].astype(bool).astype(float)
    by = strata.set_index("stratum")
    units["N_h"] = units["stratum"].map(by["population"]).astype(float)
    units["m_h"] = units.groupby("stratum")["y"].transform("size").astype(float)
    units["f_h"] = units["m_h"] / units["N_h"]
    units["w"] = units["N_h"] / units["m_h"]
    return units


def total_variance(units: pd.DataFrame, z: np.ndarray) -> float:
    """Estimated variance of the HT total ``Σ w·z`` (stratified SRSWOR with FPC).

    ``Σ_h N_h² (1 − f_h) s²_{z,h} / m_h``; a stratum with a single unit contributes 0
    (its variance cannot be estimated; such strata are reported as ``single_unit``).
    """
    frame = pd.DataFrame({"h": units["stratum"].to_numpy(), "z": np.asarray(z, dtype=float)})
    s2 = frame.groupby("h")["z"].var(ddof=1).fillna(0.0)
    first = units.groupby("stratum")[["N_h", "m_h", "f_h"]].first()
    part = (
        first["N_h"] ** 2
        * (1 - first["f_h"]).clip(lower=0)
        * s2.reindex(first.index)
        / first["m_h"]
    )
    return float(part.sum())


def domain_ratio(
    units: pd.DataFrame, numerator: np.ndarray, denominator: np.ndarray, domain: np.ndarray
) -> Estimate:
    """HT ratio ``Σ w·num / Σ w·den`` over a domain, with its linearised variance.

    Used for the violation rate (num = found, den = verdict) and the no-verdict share.
    """
    num = np.asarray(numerator, dtype=float) * domain
    den = np.asarray(denominator, dtype=float) * domain
    w = units["w"].to_numpy()
    total_den = float(np.sum(w * den))
    if total_den <= 0:
        return NAN_ESTIMATE
    ratio = float(np.sum(w * num) / total_den)
    u = (num - ratio * den) / total_den
    variance = total_variance(units, u)
    census = bool(np.all(units.loc[domain.astype(bool) & (den > 0), "f_h"] >= 1 - 1e-12))
    low, high = _proportion_interval(ratio, variance, int((den > 0).sum()), census)
    return Estimate(ratio, float(np.sqrt(max(variance, 0.0))), low, high)


def _proportion_interval(p: float, variance: float, n: int, census: bool) -> tuple[float, float]:
    """Wilson interval at the effective sample size ``p(1−p)/V`` (Korn–Graubard)."""
    if census:
        return p, p
    if variance > 0 and 0 < p < 1:
        n_eff = p * (1 - p) / variance
    else:
        n_eff = float(n)
    if n_eff <= 0:
        return np.nan, np.nan
    low, high = wilson_interval(np.array([p * n_eff]), np.array([n_eff]), z=Z)
    return float(low[0]), float(high[0])


# --------------------------------------------------------------------------- per grade
def per_grade(
    matched: pd.DataFrame,
    tasks: pd.DataFrame,
    strata: pd.DataFrame,
    grades: list[str],
    grade_labels: dict[str, str] | None = None,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The per-grade table (``per_grade.csv``) with an overall row (``合计``).

    Args:
        matched: tasks with their result (``verdict``, ``found``, ``grade``, ``stratum``;
            ``pd`` when known).
        tasks: the whole task list (for drawn counts and the frame size per grade).
        strata: :func:`stratum_table` output.
        grades: grade codes from lowest to highest risk.
        grade_labels: Chinese label per grade.
        population: the graded population (``grade``, ``pd``) for grade sizes, coverage
            and mean PD; None when the grade file is not at hand.
    """
    labels = grade_labels or {}
    tasks = drawn_enterprises(tasks)
    units = design_units(matched, strata)
    by = strata.set_index("stratum")
    draw_w = tasks["stratum"].astype(str).map(by["population"] / by["drawn"]).astype(float)
    rows = []
    for grade in [*grades, OVERALL]:
        in_grade = (
            np.ones(len(units), bool)
            if grade == OVERALL
            else (units["grade"].astype(str) == grade).to_numpy()
        )
        task_in = (
            np.ones(len(tasks), bool)
            if grade == OVERALL
            else (tasks["grade"].astype(str) == grade).to_numpy()
        )
        part = units[in_grade]
        verdicts, found = int(part["v"].sum()), int(part["y"].sum())
        low, high = wilson_interval(np.array([found]), np.array([max(verdicts, 1)]), z=Z)
        rate = domain_ratio(units, units["y"], units["v"], in_grade.astype(float))
        no_verdict = domain_ratio(
            units, 1 - units["v"], np.ones(len(units)), in_grade.astype(float)
        )
        row = {
            "grade": grade,
            "label": labels.get(grade, "全部" if grade == OVERALL else ""),
            "drawn": int(task_in.sum()),
            "inspected": len(part),
            "no_verdict": len(part) - verdicts,
            "with_verdict": verdicts,
            "found": found,
            "hit_rate": found / verdicts if verdicts else np.nan,
            "hit_low": float(low[0]) if verdicts else np.nan,
            "hit_high": float(high[0]) if verdicts else np.nan,
            "est_rate": rate.value,
            "est_se": rate.se,
            "est_low": rate.low,
            "est_high": rate.high,
            "est_no_verdict_share": no_verdict.value,
            "frame_population": float(draw_w[task_in].sum()),
            "mean_pd_inspected": (
                float(part.loc[part["v"] > 0, "pd"].mean())
                if "pd" in part.columns and verdicts
                else np.nan
            ),
        }
        if population is not None:
            pop = population if grade == OVERALL else population[population["grade"] == grade]
            row["population"] = len(pop)
            row["coverage"] = row["frame_population"] / len(pop) if len(pop) else np.nan
            row["mean_pd_population"] = float(pop["pd"].mean()) if len(pop) else np.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    total = table.loc[table["grade"] == OVERALL, "inspected"].iloc[0]
    table["share_of_inspections"] = table["inspected"] / total if total else np.nan
    return table


# --------------------------------------------------------------------------- lift
def lift_over_uniform(matched: pd.DataFrame, strata: pd.DataFrame) -> dict:
    """Problems per inspection: the plan against a uniform draw of the same size (HT).

    Returns a dict with ``inspections`` (m), ``found``, ``plan_per_inspection`` (A),
    ``uniform_per_inspection`` (B, an :class:`Estimate`), ``uniform_expected_found``
    (m·B), ``extra_found`` (m·(A − B)) and ``lift`` (A/B), each with its interval, and the
    frame size ``N`` the uniform draw is over (strata with at least one result).
    """
    units = design_units(matched, strata)
    st = units.groupby("stratum").agg(
        m_h=("y", "size"), ybar=("y", "mean"), s2=("y", "var"), N_h=("N_h", "first")
    )
    st["s2"] = st["s2"].fillna(0.0)
    st["V_h"] = (1 - st["m_h"] / st["N_h"]).clip(lower=0) * st["s2"] / st["m_h"]
    m, big_n = float(st["m_h"].sum()), float(st["N_h"].sum())
    if m == 0:
        return {"inspections": 0}
    a_h, b_h = st["m_h"] / m, st["N_h"] / big_n
    plan = float((a_h * st["ybar"]).sum())
    uniform = float((b_h * st["ybar"]).sum())
    var_a = float((a_h**2 * st["V_h"]).sum())
    var_b = float((b_h**2 * st["V_h"]).sum())
    cov = float((a_h * b_h * st["V_h"]).sum())
    var_diff = float(((a_h - b_h) ** 2 * st["V_h"]).sum())
    se_b, se_diff = np.sqrt(var_b), np.sqrt(var_diff)
    out = {
        "inspections": int(m),
        "found": int(units["y"].sum()),
        "frame_population": big_n,
        "plan_per_inspection": plan,
        "plan_per_inspection_se": float(np.sqrt(var_a)),
        "uniform_per_inspection": Estimate(
            uniform, se_b, max(uniform - Z * se_b, 0.0), uniform + Z * se_b
        ).to_dict(),
        "uniform_expected_found": Estimate(
            m * uniform, m * se_b, max(m * (uniform - Z * se_b), 0.0), m * (uniform + Z * se_b)
        ).to_dict(),
        "extra_found": Estimate(
            m * (plan - uniform),
            m * se_diff,
            m * (plan - uniform - Z * se_diff),
            m * (plan - uniform + Z * se_diff),
        ).to_dict(),
    }
    if uniform > 0 and plan > 0:
        lift = plan / uniform
        var_lift = (var_a - 2 * lift * cov + lift**2 * var_b) / uniform**2
        se_log = np.sqrt(max(var_lift, 0.0)) / lift
        out["lift"] = Estimate(
            lift,
            float(np.sqrt(max(var_lift, 0.0))),
            lift * np.exp(-Z * se_log),
            lift * np.exp(Z * se_log),
        ).to_dict()
    else:
        out["lift"] = NAN_ESTIMATE.to_dict()
    return out


def single_unit_strata(matched: pd.DataFrame) -> list[str]:
    """Strata with a single inspected unit but unobserved others (variance not estimable)."""
    counts = enterprise_results(matched)["stratum"].astype(str).value_counts()
    return sorted(counts[counts == 1].index)


# --------------------------------------------------------------------------- oracle
# --------------------------------------------------------------------------- summary
def summarise(
    matched: pd.DataFrame,
    tasks: pd.DataFrame,
    strata: pd.DataFrame,
    table: pd.DataFrame,
    grades: list[str],
) -> dict:
    """The headline figures (``summary.json``) from the per-grade table and the lift."""
    overall = table[table["grade"] == OVERALL].iloc[0]
    first = table[table["grade"] == grades[0]].iloc[0] if grades else None
    lift = lift_over_uniform(matched, strata)
    uncovered = strata.loc[~strata["stratum"].isin(matched["stratum"].astype(str)), "stratum"]
    return {
        "grades": list(grades),
        "tasks": int(len(tasks)),
        "drawn": int(len(drawn_enterprises(tasks))),
        "inspected": int(overall["inspected"]),
        "with_verdict": int(overall["with_verdict"]),
        "no_verdict": int(overall["no_verdict"]),
        "found": int(overall["found"]),
        "hit_rate": _none(overall["hit_rate"]),
        "hit_rate_interval": [_none(overall["hit_low"]), _none(overall["hit_high"])],
        "population_rate": {
            "value": _none(overall["est_rate"]),
            "se": _none(overall["est_se"]),
            "low": _none(overall["est_low"]),
            "high": _none(overall["est_high"]),
        },
        "lowest_grade": grades[0] if grades else None,
        "share_on_lowest_grade": _none(first["share_of_inspections"])
        if first is not None
        else None,
        "drawn_share_on_lowest_grade": (
            _none(first["drawn"] / overall["drawn"]) if first is not None and len(tasks) else None
        ),
        "lift": lift,
        "per_grade": [
            {k: (_none(v) if isinstance(v, float | np.floating) else v) for k, v in row.items()}
            for row in table[PER_GRADE_SUMMARY].to_dict("records")
        ],
        "strata": int(len(strata)),
        "strata_without_result": sorted(uncovered.tolist()),
        "single_unit_strata": single_unit_strata(matched),
        "variance_method": (
            "stratified SRSWOR with finite-population correction; ratios by Taylor "
            "linearisation; Wilson intervals at the effective sample size"
        ),
    }


PER_GRADE_SUMMARY = [
    "grade", "label", "drawn", "inspected", "no_verdict", "found", "hit_rate", "hit_low",
    "hit_high", "est_rate", "est_low", "est_high", "share_of_inspections",
]  # fmt: skip


def _none(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None
