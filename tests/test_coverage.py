"""Do the evaluation's 95 % intervals cover the truth 95 % of the time? (coverage simulation)

A city with a known truth is built once: 5,000 enterprises whose true violation risk is
logit-normal, graded A–D by a noisy model score (shares 48/42/6/4 as the national
scheme), with the demo world's inspection mechanics (a non-compliant enterprise is found
with probability 0.8, a compliant one falsely with 0.02; a dormant one is unreachable —
a finding — 40 % of the time and otherwise gives no verdict) and triggers (complaints,
data alerts) that come more often to riskier enterprises. Its plan is the demo's shape:
A only when triggered (无事不扰) and then in full, B 5 %, C 30 %, D in full.

Each round draws the plan afresh (stratified SRSWOR), loses 1 % of the results, draws
every outcome from its enterprise's true probabilities, and computes the reported
intervals with the project's own estimators (their array form, all rounds at once):

* the eligible frame's finding rate per grade — the triggered-only and fully drawn A,
  B, the partly drawn C, the fully drawn D — and overall: the truth is the frame's
  expected findings over its expected verdicts;
* the lift over a uniform draw of the same size over the frame: the truth is the plan's
  expected findings per inspection over the frame's.

Run ``pytest -s tests/test_coverage.py`` to see the figures.
"""

import numpy as np
import pytest

from workbench.demo.inspections import DORMANT_RESULTS
from workbench.demo.synth.world import DETECT_INSPECTION, FALSE_FINDING
from workbench.evaluation import estimators

ROUNDS = 2000
ENTERPRISES = 5000
GRADES = ("A", "B", "C", "D")
#: Share drawn per grade; A is also triggered-only.
RATIOS = {"A": 1.0, "B": 0.05, "C": 0.3, "D": 1.0}
MISSING = 0.01  # results that never come back
BAND = (0.93, 0.97)


def _city(seed: int = 2026):
    """Grades, true finding and no-verdict probabilities, triggers of a synthetic city."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(-2.6, 1.1, ENTERPRISES)
    risk = 1 / (1 + np.exp(-logit))
    score = logit + rng.normal(0, 0.7, ENTERPRISES)  # the model sees the risk through noise
    rank = (np.argsort(np.argsort(score)) + 0.5) / ENTERPRISES
    grade = np.select([rank <= 0.48, rank <= 0.90, rank <= 0.96], ["A", "B", "C"], "D")
    dormant = rng.random(ENTERPRISES) < 0.02
    detect = DETECT_INSPECTION * risk
    finding = np.where(
        dormant, DORMANT_RESULTS["unreachable"], detect + FALSE_FINDING * (1 - detect)
    )
    no_verdict = np.where(dormant, 1 - DORMANT_RESULTS["unreachable"], 0.0)
    triggered = rng.random(ENTERPRISES) < 0.05 + 0.5 * risk
    return grade, finding, no_verdict, triggered


@pytest.fixture(scope="module")
def simulation():
    """Per round and stratum (= grade): frame N, inspected m, verdicts k, findings y."""
    grade, finding, no_verdict, triggered = _city()
    eligible = (grade != "A") | triggered
    rng = np.random.default_rng(14)
    shape = (ROUNDS, len(GRADES))
    frame, m, k, y = np.zeros(len(GRADES)), np.zeros(shape), np.zeros(shape), np.zeros(shape)
    truth_found, truth_verdict = np.zeros(len(GRADES)), np.zeros(len(GRADES))
    for h, g in enumerate(GRADES):
        members = np.flatnonzero(eligible & (grade == g))
        n_frame = len(members)
        n_drawn = min(n_frame, int(np.ceil(RATIOS[g] * n_frame)))
        frame[h] = n_frame
        truth_found[h] = finding[members].mean()
        truth_verdict[h] = 1 - no_verdict[members].mean()
        if n_drawn < n_frame:  # SRSWOR: the n smallest of fresh random keys
            keys = rng.random((ROUNDS, n_frame))
            drawn = members[np.argpartition(keys, n_drawn - 1, axis=1)[:, :n_drawn]]
        else:
            drawn = np.broadcast_to(members, (ROUNDS, n_frame))
        back = rng.random(drawn.shape) >= MISSING
        u = rng.random(drawn.shape)
        found = u < finding[drawn]
        verdict = found | (u >= finding[drawn] + no_verdict[drawn])
        m[:, h], k[:, h], y[:, h] = back.sum(1), (verdict & back).sum(1), (found & back).sum(1)
    return {
        "N": np.broadcast_to(frame, shape),
        "m": m,
        "k": k,
        "y": y,
        "truth_found": truth_found,
        "truth_verdict": truth_verdict,
    }


def _covered(low, high, truth) -> float:
    return float(np.mean((low <= truth) & (truth <= high)))


def test_frame_finding_rate_intervals_cover_the_truth(simulation):
    s = simulation
    coverage = {}
    for h, g in enumerate(GRADES):
        inside = np.zeros(len(GRADES))
        inside[h] = 1
        est = estimators.ratio_arrays(s["N"], s["m"], s["y"] * inside, s["k"] * inside)
        assert (est["high"] - est["low"] > 0).all(), f"grade {g}: a zero-width interval"
        coverage[g] = _covered(est["low"], est["high"], s["truth_found"][h] / s["truth_verdict"][h])
    est = estimators.ratio_arrays(s["N"], s["m"], s["y"], s["k"])
    frame = s["N"][0]
    truth = (frame * s["truth_found"]).sum() / (frame * s["truth_verdict"]).sum()
    coverage["overall"] = _covered(est["low"], est["high"], truth)
    print(f"\ncoverage of the frame finding rate over {ROUNDS} rounds: {coverage}")
    for key, share in coverage.items():
        assert BAND[0] <= share <= BAND[1], f"{key}: {share:.1%} of intervals cover the truth"


def test_lift_intervals_cover_the_truth(simulation):
    s = simulation
    lift = estimators.lift_arrays(s["N"], s["m"], s["y"])
    frame = s["N"][0]
    plan = (s["m"] * s["truth_found"]).sum(1) / s["m"].sum(1)
    uniform = (frame * s["truth_found"]).sum() / frame.sum()
    assert lift["sufficient"].all()
    coverage = _covered(lift["lift_low"], lift["lift_high"], plan / uniform)
    uniform_coverage = _covered(lift["uniform_low"], lift["uniform_high"], uniform)
    print(f"\ncoverage of the lift: {coverage:.4f}; of the uniform rate: {uniform_coverage:.4f}")
    assert BAND[0] <= coverage <= BAND[1]
    assert BAND[0] <= uniform_coverage <= BAND[1]


def test_a_fully_drawn_stratum_keeps_its_uncertainty():
    """The finite-population correction would make this interval [p, p]."""
    full = estimators.ratio_arrays([40], [40], [6], [40])
    assert full["low"] < 6 / 40 < full["high"]
    none = estimators.ratio_arrays([40], [40], [0], [40])  # no finding at all
    assert none["low"] == 0 and none["high"] > 0
    every = estimators.ratio_arrays([12], [12], [12], [12])  # every verdict a finding
    assert every["low"] < 1 and every["high"] == 1


def test_the_simulation_uses_what_the_evaluation_reports(simulation):
    """One round through the stage's table functions gives the array figures above."""
    import pandas as pd

    s, rows = simulation, []
    for h, grade in enumerate(GRADES):
        m, k, y = (int(s[key][0, h]) for key in ("m", "k", "y"))
        for i in range(m):
            rows.append((grade, m / s["N"][0, h], i < k, i < y))
    matched = pd.DataFrame(rows, columns=["grade", "inclusion_probability", "verdict", "found"])
    matched["stratum"] = matched["grade"]
    strata = estimators.stratum_table(matched)
    table = estimators.per_grade(matched, matched, strata, list(GRADES)).set_index("grade")
    for h, grade in enumerate(GRADES):
        inside = np.zeros(len(GRADES))
        inside[h] = 1
        est = estimators.ratio_arrays(s["N"][0], s["m"][0], s["y"][0] * inside, s["k"][0] * inside)
        assert (table.at[grade, "est_low"], table.at[grade, "est_high"]) == pytest.approx(
            (float(est["low"]), float(est["high"]))
        )
    lift = estimators.lift_over_uniform(matched, strata)["lift"]
    arrays = estimators.lift_arrays(s["N"][0], s["m"][0], s["y"][0])
    assert (lift["low"], lift["high"]) == pytest.approx(
        (float(arrays["lift_low"]), float(arrays["lift_high"]))
    )
