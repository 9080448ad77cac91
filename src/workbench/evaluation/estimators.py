"""How well sampling worked (抽查效果评估): finding rates, frame estimates, lift.

The draw is stratified simple random sampling without replacement (分层不放回简单随机抽样):
in stratum *h* of the plan's **eligible frame** (抽查名录：可抽取的企业), ``n_h`` of ``N_h``
enterprises are drawn, each with inclusion probability (入样概率) ``π_h = n_h / N_h``.
Enterprises outside the frame (π = 0: A without a trigger under 无事不扰, exclusions,
entity types the plan leaves out) cannot be estimated from the draw: every estimate here
covers the eligible frame, and its grade's ``coverage`` (frame ÷ graded) says how much of
the grade that is.

What is estimated. An inspection's outcome is a finding (发现问题: detected
non-compliance, a false finding, or an unreachable enterprise — the contract's
``found_problem``), not a violation: the figures are **finding rates** (检出率). The
quantity a reader wants is the *expected* finding rate of the frame's enterprises — what
inspecting them would find — not the realised outcomes of this month's inspections. So
outcomes are treated as Bernoulli draws from their stratum's rate (a superpopulation, or
model-based, view): a stratum inspected in full (π = 1) still has sampling error, and the
finite-population correction is not applied. Where enterprises differ in risk inside a
stratum this variance is slightly conservative, never zero.

* **Hit rate** (检出率) per grade: findings ÷ inspections with a verdict, with a 95 %
  Wilson interval — what the plan found.
* **Frame finding rate** per grade and overall, Horvitz–Thompson (HT): an inspected
  enterprise stands for ``w = N_h / m_h`` enterprises of its stratum (``m_h`` inspected
  with a result; tasks without a result are missing at random within their stratum).
  The rate among enterprises that can be inspected is ``R = Σ w·y / Σ w·v`` (y = problem
  found, v = a verdict was possible). Its variance is that of the linearised variable
  ``t = w·(y − R·v) / Σ w·v``: ``V = Σ_h Σ_{i∈h} (t_i − t̄_h)²`` (binomial within
  each stratum, so a grade of one stratum gets exactly the hit rate's Wilson interval
  when every result has a verdict). A stratum whose verdicts are
  all findings or all clean (or has a single unit) adds the binomial variance at
  ``(y + ½) / (k + 1)`` instead of the zero its sample variance shows. The interval is
  Wilson at the effective sample size ``R(1 − R)/V`` (Korn & Graubard), inside [0, 1];
  with no finding it is Wilson at the number of verdicts.
* **Lift** (提升倍数) over a uniform draw of the same size *over the same eligible
  frame* (the one baseline everywhere): findings per inspection of the plan
  ``A = Σ_h (m_h/m)·ȳ_h`` against ``B = Σ_h (N_h/N)·ȳ_h`` (no-verdict results count as no
  finding in both: a uniform draw meets closed enterprises too). Both are linear in the
  stratum means, so their variances and covariance follow exactly from the strata's —
  each stratum's taken binomial at the adjusted rate ``(y + 1)/(m + 2)``, since a Wald
  interval on raw rates is too narrow exactly when few findings make them low; the
  lift ``A/B`` gets a delta-method interval on the log scale. When ``A`` or ``B`` cannot
  be told from zero (its own 95 % interval reaches it) no ratio is meaningful: the lift
  then has no interval and says 样本不足.
* **无事不扰**: the share of inspections spent on the lowest grade.
* **Calibration**: the model's mean PD per grade beside the observed hit rate.

Every estimator works on per-stratum counts (drawn frame size ``N``, inspected ``m``,
findings and verdicts), as arrays whose last axis is the stratum, so a simulation can
evaluate thousands of draws at once with the same code (``tests/test_coverage.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.scoring.grades import Z, wilson_effective, wilson_interval

OVERALL = "合计"
#: Said where no interval is meaningful (too few inspections or findings).
INSUFFICIENT = "样本不足"
#: What every estimate covers: the plan's eligible frame (抽查名录), not the whole grade.
FRAME = "eligible_frame"
FRAME_ZH = "抽查名录（本计划可抽取的企业）"
VARIANCE_METHOD = (
    "superpopulation (model-based) variance: outcomes as Bernoulli draws from their "
    "stratum's rate, no finite-population correction, binomial floor for strata whose "
    "verdicts are all alike; ratios by Taylor linearisation; Wilson intervals at the "
    "effective sample size (Korn–Graubard); the lift's interval by the delta method on the "
    "log scale, none (样本不足) when its plan or uniform rate is not distinguishable from 0"
)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error, 95 % interval and a note (样本不足)."""

    value: float
    se: float
    low: float
    high: float
    note: str = ""

    def to_dict(self) -> dict:
        """Plain floats (NaN → None) for JSON; ``note`` only when there is one."""
        out = {k: _none(getattr(self, k)) for k in ("value", "se", "low", "high")}
        if self.note:
            out["note"] = self.note
        return out


NAN_ESTIMATE = Estimate(np.nan, np.nan, np.nan, np.nan, INSUFFICIENT)


# --------------------------------------------------------------------------- array core
def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def stratum_variance(beta, gamma, num, den, m, adjust: float | None = None) -> np.ndarray:
    """Variance of ``Σ_i t_i`` with ``t_i = β_h·num_i + γ_h·den_i`` inside stratum *h*.

    Arrays broadcast with the stratum as last axis. ``num`` and ``den`` are the counts
    of two 0/1 variables with ``num ≤ den`` unit by unit (findings and verdicts) among
    the ``m`` units of the stratum; that makes the counts sufficient.

    Without ``adjust`` each stratum adds ``Σ_i (t_i − t̄_h)²`` — the Bernoulli model's
    variance at the observed rates (``m_h`` times the sample variance with divisor
    ``m_h``, so that one stratum's rate gets exactly the binomial ``p(1 − p)/k``) — and a
    stratum whose ``den`` units are all ``num`` or none (its variance of ``num`` is zero,
    which says nothing about its rate) adds the binomial ``β_h²·den·p̃(1 − p̃)`` with
    ``p̃ = (num + ½)/(den + 1)`` as well. That is for Wilson intervals, which correct a
    low rate's small variance themselves.

    With ``adjust`` (for Wald-type intervals, the lift's) the variance is the model's:
    ``den`` is Bernoulli(``d = den/m``) and ``num`` given ``den`` Bernoulli at the
    adjusted rate ``p̃ = (num + adjust)/(den + 2·adjust)`` (Agresti–Coull's remedy: a
    Wald interval on the raw rate is too narrow exactly when few findings make it low).
    """
    beta, gamma, num, den, m = np.broadcast_arrays(_f(beta), _f(gamma), _f(num), _f(den), _f(m))
    if adjust is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.where(m > 0, den / np.where(m > 0, m, 1), 0.0)
        p = (num + adjust) / (den + 2 * adjust)
        per_unit = (
            beta**2 * d * p * (1 - d * p)
            + gamma**2 * d * (1 - d)
            + 2 * beta * gamma * d * p * (1 - d)
        )
        return (m * per_unit).sum(axis=-1)
    total = beta * num + gamma * den
    square = beta**2 * num + gamma**2 * den + 2 * beta * gamma * num
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = square - np.where(m > 0, total**2 / np.where(m > 0, m, 1), 0)
    spread = np.clip(np.nan_to_num(spread), 0, None)
    alike = (den > 0) & ((num == 0) | (num == den))
    p = (num + 0.5) / (den + 1)
    floor = np.where(alike, beta**2 * den * p * (1 - p), 0.0)
    return (spread + floor).sum(axis=-1)


#: Pseudo-counts of the adjusted rate ``(y + 1)/(m + 2)`` in the lift's variances.
WALD_ADJUST = 1.0


def ratio_arrays(N, m, num, den, z: float = Z) -> dict[str, np.ndarray]:
    """HT ratio ``Σ_h w_h·num_h / Σ_h w_h·den_h`` (``w_h = N_h/m_h``) with its interval.

    Args:
        N: frame size per stratum.
        m: inspected units per stratum (all, inside the domain or not).
        num: the numerator's count per stratum inside the domain (findings).
        den: the denominator's count per stratum inside the domain (verdicts).
        z: the normal quantile of the interval.

    Returns:
        ``value``, ``se``, ``low``, ``high`` and ``trials`` (Σ den), as arrays over the
        leading axes. Strata without a unit do not count (their frame is not covered).
    """
    N, m, num, den = np.broadcast_arrays(_f(N), _f(m), _f(num), _f(den))
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(m > 0, N / np.where(m > 0, m, 1), 0.0)
        total_den = (w * den).sum(axis=-1)
        ratio = np.where(total_den > 0, (w * num).sum(axis=-1) / total_den, np.nan)
        beta = w / total_den[..., None]
    variance = stratum_variance(beta, -ratio[..., None] * beta, num, den, m)
    trials = den.sum(axis=-1)
    low, high = wilson_effective(ratio, variance, trials, z)
    return {
        "value": ratio,
        "se": np.sqrt(variance),
        "low": low,
        "high": high,
        "trials": trials,
    }


def lift_arrays(N, m, found, z: float = Z) -> dict[str, np.ndarray]:
    """Findings per inspection: the plan (A) against a uniform draw over the frame (B).

    Args:
        N: frame size per stratum.
        m: inspected units per stratum.
        found: findings per stratum.
        z: the normal quantile of the interval.

    Returns:
        Arrays: ``plan`` (A), ``uniform`` (B) with ``uniform_low/high`` (Wilson at the
        effective size), ``var_plan``, ``var_uniform``, ``cov``, ``lift`` (A/B) with its
        delta-method ``lift_se`` and ``lift_low/high`` on the log scale (NaN where A or B
        is not distinguishable from zero: ``sufficient`` False), ``extra`` = m·(A − B) with
        ``extra_se``, and ``inspections`` (m).
    """
    N, m, found = np.broadcast_arrays(_f(N), _f(m), _f(found))
    inspections = m.sum(axis=-1)
    covered = np.where(m > 0, N, 0.0).sum(axis=-1)
    uniform = ratio_arrays(N, m, found, m, z)
    with np.errstate(invalid="ignore", divide="ignore"):
        plan = found.sum(axis=-1) / inspections
        beta_a = np.ones_like(m) / inspections[..., None]
        w = np.where(m > 0, N / np.where(m > 0, m, 1), 0.0)
        beta_b = w / covered[..., None]
        gamma_b = -uniform["value"][..., None] * beta_b
    zero, adj = np.zeros_like(m), WALD_ADJUST
    var_a = stratum_variance(beta_a, zero, found, m, m, adj)
    var_b = stratum_variance(beta_b, gamma_b, found, m, m, adj)
    var_sum = stratum_variance(beta_a + beta_b, gamma_b, found, m, m, adj)
    var_diff = stratum_variance(beta_a - beta_b, -gamma_b, found, m, m, adj)
    cov = (var_sum - var_a - var_b) / 2
    b = uniform["value"]
    with np.errstate(invalid="ignore", divide="ignore"):
        lift = plan / b
        lift_se = np.sqrt(np.clip(var_a - 2 * lift * cov + lift**2 * var_b, 0, None)) / b
        sufficient = (plan > z * np.sqrt(var_a)) & (b > z * np.sqrt(var_b))
        spread = z * lift_se / lift
        low = np.where(sufficient, lift * np.exp(-spread), np.nan)
        high = np.where(sufficient, lift * np.exp(spread), np.nan)
    return {
        "inspections": inspections,
        "frame_population": covered,
        "plan": plan,
        "var_plan": var_a,
        "uniform": b,
        "uniform_se": uniform["se"],
        "uniform_low": uniform["low"],
        "uniform_high": uniform["high"],
        "var_uniform": var_b,
        "cov": cov,
        "lift": lift,
        "lift_se": lift_se,
        "lift_low": low,
        "lift_high": high,
        "sufficient": sufficient,
        "extra": inspections * (plan - b),
        "extra_se": inspections * np.sqrt(var_diff),
    }


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
    """Per stratum: drawn ``n_h``, inclusion probability ``π_h`` and frame size ``N_h``.

    ``N_h`` comes from ``strata`` (the sampling stage's ``strata.csv``: ``stratum``,
    ``population`` — the eligible frame) when given, else from ``n_h / π_h``.

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
    units["v"] = units["verdict"].astype(bool).astype(float)
    units["y"] = (units["found"].astype(bool) & (units["v"] > 0)).astype(float)
    by = strata.set_index("stratum")
    units["N_h"] = units["stratum"].map(by["population"]).astype(float)
    units["m_h"] = units.groupby("stratum")["y"].transform("size").astype(float)
    units["f_h"] = units["m_h"] / units["N_h"]
    units["w"] = units["N_h"] / units["m_h"]
    return units


def stratum_counts(units: pd.DataFrame, domain: np.ndarray | None = None) -> pd.DataFrame:
    """Per stratum, the estimators' input.

    ``N`` (frame size), ``m`` (all inspected units) and, inside ``domain``, the inspected
    units ``m_d``, verdicts ``k`` and findings ``y``.
    """
    d = np.ones(len(units), bool) if domain is None else np.asarray(domain, bool)
    frame = pd.DataFrame(
        {
            "stratum": units["stratum"].to_numpy(),
            "N": units["N_h"].to_numpy(),
            "one": 1.0,
            "m_d": d.astype(float),
            "k": units["v"].to_numpy() * d,
            "y": units["y"].to_numpy() * d,
        }
    )
    return frame.groupby("stratum", sort=True).agg(
        N=("N", "first"), m=("one", "sum"), m_d=("m_d", "sum"), k=("k", "sum"), y=("y", "sum")
    )


def domain_ratio(units: pd.DataFrame, domain: np.ndarray, what: str = "rate") -> Estimate:
    """The frame's finding rate or no-verdict share over a domain (e.g. a grade).

    ``rate``: findings ÷ verdicts; ``no_verdict``: results without a verdict ÷ results.
    """
    c = stratum_counts(units, domain)
    if what == "rate":
        num, den = c["y"], c["k"]
    else:
        num, den = c["m_d"] - c["k"], c["m_d"]
    if float(den.sum()) <= 0:
        return NAN_ESTIMATE
    r = ratio_arrays(c["N"], c["m"], num, den)
    return Estimate(float(r["value"]), float(r["se"]), float(r["low"]), float(r["high"]))


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

    Columns say what they cover: ``frame_population`` (enterprises of the grade in the
    plan's eligible frame, what ``est_*`` estimate), ``graded`` (enterprises of the grade
    in the grade file) and ``coverage`` (their ratio); ``estimate_covers`` names the
    frame. ``est_note`` is 样本不足 where there is no verdict to estimate from.

    Args:
        matched: tasks with their result (``verdict``, ``found``, ``grade``, ``stratum``;
            ``pd`` when known).
        tasks: the whole task list (for drawn counts and the frame size per grade).
        strata: :func:`stratum_table` output.
        grades: grade codes from lowest to highest risk.
        grade_labels: Chinese label per grade.
        population: the graded enterprises (``grade``, ``pd``) for grade sizes, coverage
            and mean PD; None when the grade file is not at hand.
    """
    labels = grade_labels or {}
    tasks = drawn_enterprises(tasks)
    units = design_units(matched, strata)
    by = strata.set_index("stratum")
    draw_w = tasks["stratum"].astype(str).map(by["population"] / by["drawn"]).astype(float)
    rows = []
    for grade in [*grades, OVERALL]:
        if grade == OVERALL:
            in_grade, task_in = np.ones(len(units), bool), np.ones(len(tasks), bool)
        else:
            in_grade = (units["grade"].astype(str) == grade).to_numpy()
            task_in = (tasks["grade"].astype(str) == grade).to_numpy()
        part = units[in_grade]
        verdicts, found = int(part["v"].sum()), int(part["y"].sum())
        low, high = wilson_interval(np.array([found]), np.array([max(verdicts, 1)]), z=Z)
        rate = domain_ratio(units, in_grade, "rate") if verdicts else NAN_ESTIMATE
        no_verdict = domain_ratio(units, in_grade, "no_verdict") if len(part) else NAN_ESTIMATE
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
            "estimate_covers": FRAME,
            "frame_population": float(draw_w[task_in].sum()),
            "est_rate": rate.value,
            "est_se": rate.se,
            "est_low": rate.low,
            "est_high": rate.high,
            "est_note": rate.note,
            "est_no_verdict_share": no_verdict.value,
            "mean_pd_inspected": (
                float(part.loc[part["v"] > 0, "pd"].mean())
                if "pd" in part.columns and verdicts
                else np.nan
            ),
        }
        if population is not None:
            pop = population if grade == OVERALL else population[population["grade"] == grade]
            row["graded"] = len(pop)
            row["coverage"] = row["frame_population"] / len(pop) if len(pop) else np.nan
            row["mean_pd_graded"] = float(pop["pd"].mean()) if len(pop) else np.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    total = table.loc[table["grade"] == OVERALL, "inspected"].iloc[0]
    table["share_of_inspections"] = table["inspected"] / total if total else np.nan
    return table


# --------------------------------------------------------------------------- lift
def lift_over_uniform(matched: pd.DataFrame, strata: pd.DataFrame) -> dict:
    """Findings per inspection: the plan against a uniform draw of the same size (HT).

    The uniform draw is over the plan's eligible frame (strata with at least one
    result), the one baseline of the workbench. Returns ``inspections`` (m), ``found``,
    ``frame_population`` (N), ``baseline`` (what the uniform draw is over),
    ``plan_per_inspection`` (A, with a Wilson interval), ``uniform_per_inspection`` (B),
    ``uniform_expected_found`` (m·B), ``extra_found`` (m·(A − B)) and ``lift`` (A/B),
    each an :class:`Estimate` dict; ``lift`` carries ``note`` 样本不足 (and no interval)
    when A or B cannot be told from zero.
    """
    units = design_units(matched, strata)
    c = stratum_counts(units)
    m = float(c["m"].sum())
    if m == 0:
        return {"inspections": 0}
    # per inspection: a result without a verdict is no finding (y is 0 there)
    r = {k: float(v) for k, v in lift_arrays(c["N"], c["m"], c["y"]).items()}
    found = int(c["y"].sum())
    p_low, p_high = wilson_interval(np.array([found]), np.array([m]), z=Z)
    uniform = Estimate(r["uniform"], r["uniform_se"], r["uniform_low"], r["uniform_high"])
    lift = Estimate(r["lift"], r["lift_se"], r["lift_low"], r["lift_high"])
    if not r["sufficient"] or not np.isfinite(r["lift"]):
        lift = Estimate(r["lift"], r["lift_se"], np.nan, np.nan, INSUFFICIENT)
    return {
        "inspections": int(m),
        "found": found,
        "frame_population": r["frame_population"],
        "baseline": f"uniform draw of {int(m)} over the eligible frame "
        f"({r['frame_population']:,.0f} enterprises in strata with a result)",
        "plan_per_inspection": r["plan"],
        "plan_per_inspection_interval": [float(p_low[0]), float(p_high[0])],
        "plan_per_inspection_se": float(np.sqrt(r["var_plan"])),
        "uniform_per_inspection": uniform.to_dict(),
        "uniform_expected_found": Estimate(
            m * uniform.value, m * uniform.se, m * uniform.low, m * uniform.high
        ).to_dict(),
        "extra_found": Estimate(
            r["extra"],
            r["extra_se"],
            r["extra"] - Z * r["extra_se"],
            r["extra"] + Z * r["extra_se"],
        ).to_dict(),
        "lift": lift.to_dict(),
    }


def single_unit_strata(matched: pd.DataFrame) -> list[str]:
    """Strata with a single inspected unit (their variance rests on the binomial floor)."""
    counts = enterprise_results(matched)["stratum"].astype(str).value_counts()
    return sorted(counts[counts == 1].index)


# --------------------------------------------------------------------------- summary
def summarise(
    matched: pd.DataFrame,
    tasks: pd.DataFrame,
    strata: pd.DataFrame,
    table: pd.DataFrame,
    grades: list[str],
) -> dict:
    """The headline figures (``summary.json``) from the per-grade table and the lift.

    ``population_rate`` is the eligible frame's finding rate (the ``合计`` row of the
    table), labelled with what it covers: ``covers`` (``eligible_frame``),
    ``frame_population`` and, when the grade file was at hand, ``graded_population`` and
    ``coverage``.
    """
    overall = table[table["grade"] == OVERALL].iloc[0]
    first = table[table["grade"] == grades[0]].iloc[0] if grades else None
    lift = lift_over_uniform(matched, strata)
    uncovered = strata.loc[~strata["stratum"].isin(matched["stratum"].astype(str)), "stratum"]
    population_rate = {
        "value": _none(overall["est_rate"]),
        "se": _none(overall["est_se"]),
        "low": _none(overall["est_low"]),
        "high": _none(overall["est_high"]),
        "covers": FRAME,
        "covers_zh": FRAME_ZH,
        "frame_population": _none(overall["frame_population"]),
    }
    if "graded" in table.columns:
        population_rate["graded_population"] = _none(overall["graded"])
        population_rate["coverage"] = _none(overall["coverage"])
    if overall.get("est_note"):
        population_rate["note"] = str(overall["est_note"])
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
        "population_rate": population_rate,
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
            for row in table[[c for c in PER_GRADE_SUMMARY if c in table.columns]].to_dict(
                "records"
            )
        ],
        "strata": int(len(strata)),
        "strata_without_result": sorted(uncovered.tolist()),
        "single_unit_strata": single_unit_strata(matched),
        "variance_method": VARIANCE_METHOD,
    }


PER_GRADE_SUMMARY = [
    "grade", "label", "drawn", "inspected", "no_verdict", "found", "hit_rate", "hit_low",
    "hit_high", "estimate_covers", "frame_population", "graded", "coverage", "est_rate",
    "est_low", "est_high", "est_note", "share_of_inspections",
]  # fmt: skip


def _none(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None
