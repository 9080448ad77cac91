"""Reasons for a grade (评级理由): exact per-indicator contributions, checked against SHAP.

A scorecard is additive, so the points an indicator gives an enterprise minus the average
points it gives the reference population *are* that indicator's interventional SHAP
value, in points. ``contributions`` computes them from the points; ``shap_agreement``
recomputes them with ``shap.LinearExplainer`` on the regression's per-indicator log-odds
terms (coefficient × WoE, plus a bin's own effect where kept; scaled by ``−pdo/ln 2``)
so a reviewer can see the two agree; ``reasons`` turns the most negative
ones into the sentences an inspector reads ("近36个月投诉举报次数 3：−8.1 分").
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from workbench.scoring.scorecard import FittedScorecard


def contributions(
    fitted: FittedScorecard,
    X: pd.DataFrame,
    background: pd.DataFrame,
    rounded: bool | None = None,
) -> pd.DataFrame:
    """Points per indicator relative to the background's mean points (SHAP, in points).

    Each row sums to the row's score minus the background's mean score. The reasons use
    the scorecard's own (integer) points; ``rounded=False`` gives the logistic
    regression's exact points, which are what SHAP is compared with.
    """
    reference = fitted.points(background, rounded=rounded).mean()
    return fitted.points(X, rounded=rounded) - reference


def shap_agreement(fitted: FittedScorecard, X: pd.DataFrame, background: pd.DataFrame) -> float:
    """Largest absolute gap, in points, between SHAP and the exact (unrounded) contributions.

    Rounding each bin's points to an integer moves a contribution by at most half a point;
    SHAP on the logistic regression must agree with the exact points to rounding error.
    """
    import shap

    terms = fitted.log_odds_terms(X).to_numpy()
    terms_bg = fitted.log_odds_terms(background).to_numpy()
    # the regression is linear in its per-feature log-odds terms (coefficient × WoE, plus a
    # bin's own effect where the scorecard kept them), each with weight 1
    model = (np.ones(terms.shape[1]), fitted.log_odds_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.LinearExplainer(
            model, shap.maskers.Independent(terms_bg, max_samples=len(terms_bg))
        )
        values = explainer(terms, silent=True).values
    in_points = -fitted.options.pdo / np.log(2) * values
    exact = contributions(fitted, X, background, rounded=False).to_numpy()
    return float(np.abs(in_points - exact).max())


def _value_text(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "无记录"
    if isinstance(value, float | np.floating):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return str(value)


def reasons(
    contrib: pd.DataFrame,
    X: pd.DataFrame,
    names: dict[str, str],
    top: int = 3,
    min_points: float = 1.0,
) -> pd.DataFrame:
    """The ``top`` indicators that lower each enterprise's score most, as Chinese text.

    Returns ``reason_1..top`` (``名称 取值：−x.x 分``) and ``reason_1_points..``. Only
    indicators that lower the score by at least ``min_points`` are given (empty
    otherwise): a fraction of a point explains nothing to an inspector.
    """
    values = contrib.to_numpy()
    order = np.argsort(values, axis=1)[:, :top]
    columns = np.asarray(contrib.columns)
    shown = X[list(columns)].to_numpy(dtype=object)  # positional: one pass, no per-row iloc
    label = np.asarray([names.get(f, f) for f in columns], dtype=object)
    rows = np.arange(len(contrib))
    out = {}
    for k in range(top):
        index = order[:, k]
        points = values[rows, index]
        given = points <= -min_points
        # format each distinct (value, points) text once: counts repeat across a city
        value_text = pd.Series(shown[rows, index]).map(_cached_value_text, na_action=None)
        text = (
            pd.Series(label[index], dtype=object)
            + " "
            + value_text
            + "："
            + pd.Series(np.round(points, 1)).map("{:+.1f} 分".format)
        )
        out[f"reason_{k + 1}"] = np.where(given, text.to_numpy(dtype=object), "")
        out[f"reason_{k + 1}_points"] = np.where(given, np.round(points, 2), np.nan)
    return pd.DataFrame(out, index=contrib.index)


def _cached_value_text(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "无记录"  # NaN ≠ NaN: never a cache key
    return _typed_value_text(type(value), value)


@functools.lru_cache(maxsize=200_000)
def _typed_value_text(_kind: type, value) -> str:
    """Cached by type and value: 1 and 1.0 are equal keys but not the same text."""
    return _value_text(value)
