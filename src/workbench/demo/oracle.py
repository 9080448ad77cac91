"""The oracle (理论上限): what the same inspections would find knowing the hidden truth.

Only a synthetic city has a truth, so this lives in the demo package; the demo provider
adds its figures to an evaluation. Every figure is in expected findings for the same
number of inspections ``m`` as the plan's (its inspected enterprises), from each
enterprise's true chance that an inspection that day finds a problem
(``finding_probability``):

* **uniform** — a draw of ``m`` uniform over the plan's eligible frame: the baseline the
  evaluation's lift and the draw record use too;
* **the plan** — the plan as drawn with the model's grades (in expectation over the
  draw: ``Σ_h n_h·mean q_h``, per inspection × ``m``), and the sample it actually drew;
* **the same plan, perfect grades** (同一方案下的理论最优) — grades assigned by the true
  violation risk with the model's grade shares, then the same ratios, bounds, trigger
  rules and exclusions: the most any grading could reach under this plan;
* **unconstrained** — the ``m`` enterprises with the highest true finding chance (or
  violation risk) among those the plan could inspect at all (its population, not
  excluded), ignoring the grade rules (无事不扰 included): a ceiling no plan reaches.

``captured_share`` = (plan − uniform) ÷ (same plan with perfect grades − uniform): the
share of the gain over a uniform draw that better grades could buy which the model
already buys — the figure that says how much a better model is worth.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbench.sampling.plan import GradeRule


def true_risk_grades(model_grades: pd.Series, true_risk: pd.Series, order: list[str]) -> pd.Series:
    """Grades by the true risk with the model's counts per grade (the riskiest get the top).

    ``order`` lists the grades from the lowest risk to the highest; enterprises without
    a known risk count as the least risky.
    """
    counts = model_grades.astype(str).value_counts()
    sizes = np.array([int(counts.get(g, 0)) for g in order])
    risk = pd.to_numeric(true_risk, errors="coerce").fillna(-np.inf).to_numpy()
    rank = np.argsort(risk, kind="stable")  # lowest risk first
    out = np.empty(len(risk), dtype=object)
    out[rank] = np.repeat(np.array(order, dtype=object), sizes)
    return pd.Series(out, index=model_grades.index, dtype="string")


def expected_under_plan(
    grades: pd.Series,
    finding: np.ndarray,
    excluded: np.ndarray,
    triggered: np.ndarray,
    rules: Mapping[str, GradeRule],
    regions: pd.Series | None = None,
) -> dict:
    """Expected findings of a plan drawn on ``grades`` (one row per enterprise of its population).

    Within each stratum (grade, or grade/region when ``regions`` is given) the frame is
    the enterprises not excluded and — where the grade is triggered-only — triggered;
    ``n_h = rule.count(N_h)`` of them are drawn at random, so the stratum expects
    ``n_h × mean q`` findings.

    Returns:
        ``drawn``, ``expected``, ``frame`` (N), ``frame_mean`` (mean q over the frame) and
        ``strata`` (per stratum ``population`` and ``drawn``).
    """
    grade = grades.astype(str).to_numpy()
    trigger_only = np.isin(grade, [g for g, r in rules.items() if r.triggered_only])
    eligible = ~np.asarray(excluded, bool) & (~trigger_only | np.asarray(triggered, bool))
    stratum = grade if regions is None else grade + "/" + regions.astype(str).to_numpy()
    frame = pd.DataFrame({"stratum": stratum, "grade": grade, "q": finding})[eligible]
    per = frame.groupby("stratum").agg(grade=("grade", "first"), N=("q", "size"), q=("q", "mean"))
    per["drawn"] = [rules[g].count(int(n)) for g, n in zip(per["grade"], per["N"], strict=True)]
    return {
        "drawn": int(per["drawn"].sum()),
        "expected": float((per["drawn"] * per["q"]).sum()),
        "frame": int(per["N"].sum()),
        "frame_mean": float(frame["q"].mean()) if len(frame) else np.nan,
        "strata": {
            str(h): {"population": int(r.N), "drawn": int(r.drawn)} for h, r in per.iterrows()
        },
    }


def top(values: np.ndarray, by: np.ndarray, m: int) -> float:
    """Sum of ``values`` over the ``m`` rows with the highest ``by``."""
    order = np.argsort(-np.nan_to_num(np.asarray(by, float), nan=-np.inf), kind="stable")
    return float(np.asarray(values, float)[order[:m]].sum())


def oracle(
    inspected: pd.DataFrame,
    found: int,
    model: dict,
    perfect: dict | None,
    pool: pd.DataFrame,
) -> dict:
    """The evaluation's oracle figures (see the module docstring).

    Args:
        inspected: the truth of the plan's inspected enterprises (``finding_probability``).
        found: findings the plan actually made.
        model: :func:`expected_under_plan` with the model's grades.
        perfect: the same with :func:`true_risk_grades` (None when the plan could not
            be redone: only the unconstrained figures are given then).
        pool: the truth of every enterprise the plan could inspect at all
            (``finding_probability``, ``p_violation``).
    """
    m = len(inspected)
    q = pool["finding_probability"].to_numpy(dtype=float)
    out = {
        "inspections": m,
        "plan_found": int(found),
        "plan_expected": float(inspected["finding_probability"].sum()),
        "uniform_over": "eligible_frame",
        "frame": model["frame"],
        "uniform_expected": m * model["frame_mean"],
        "model_plan_drawn": model["drawn"],
        "model_plan_expected": m * model["expected"] / model["drawn"] if model["drawn"] else None,
        "pool": len(q),
        "true_risk_expected": top(q, pool["p_violation"].to_numpy(dtype=float), m),
        "oracle_expected": top(q, q, m),
    }
    if perfect is not None and perfect["drawn"]:
        out["same_plan_drawn"] = perfect["drawn"]
        out["same_plan_expected"] = m * perfect["expected"] / perfect["drawn"]
        gain = out["same_plan_expected"] - out["uniform_expected"]
        if out["model_plan_expected"] is not None and gain > 0:
            out["captured_share"] = (out["model_plan_expected"] - out["uniform_expected"]) / gain
    out["plan_share_of_oracle"] = found / out["oracle_expected"] if out["oracle_expected"] else None
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in out.items()}
