"""The oracle (理论上限): what the same inspections would find knowing the hidden truth.

Only a synthetic city has a truth, so this lives in the demo package; the demo provider
adds its figures to an evaluation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def oracle(inspected_state: pd.DataFrame, population_state: pd.DataFrame, found: int) -> dict:
    """What the same number of inspections would find with the true probabilities.

    Args:
        inspected_state: the truth for the inspected enterprises (``finding_probability``).
        population_state: the truth for every enterprise that could have been drawn
            (``finding_probability``, ``p_violation``).
        found: problems the plan actually found.

    Returns:
        ``oracle_expected`` — the ``m`` highest true finding probabilities summed (knowing
        who is non-compliant now: the ceiling); ``true_risk_expected`` — the ``m``
        enterprises with the highest true violation probability (a perfect risk model);
        ``plan_expected`` — the plan's own expected findings under the truth;
        ``uniform_expected`` — ``m`` × the population's mean; and ``plan_found``.
    """
    m = len(inspected_state)
    q = population_state["finding_probability"].to_numpy(dtype=float)
    top = np.sort(q)[::-1][:m]
    by_risk = population_state.sort_values("p_violation", ascending=False, na_position="last")
    out = {
        "inspections": m,
        "plan_found": int(found),
        "plan_expected": float(inspected_state["finding_probability"].sum()),
        "uniform_expected": float(m * q.mean()) if len(q) else np.nan,
        "true_risk_expected": float(by_risk["finding_probability"].head(m).sum()),
        "oracle_expected": float(top.sum()),
        "population": len(q),
    }
    out["plan_share_of_oracle"] = found / out["oracle_expected"] if out["oracle_expected"] else None
    return out
