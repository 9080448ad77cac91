"""The scorecard (评分卡): optbinning WOE/IV binning, selection, logistic regression, points.

The training core takes **any** frame of features and a binary target — not only the
enterprise contract — so analysts can reuse it and compare it with other scorecard tools
on public data::

    from workbench.scoring.scorecard import fit_scorecard
    model = fit_scorecard(X, y, categorical=["entity_type"], monotonic={"age": "descending"})
    model.score(X_new); model.pd(X_new); model.iv_table

Choices, each measured or documented upstream (``docs/sources.md``, "Scorecard choices"):
missing and special values get their *empirical* WoE (optbinning's default of 0 silently
treats them as average); categorical columns are declared, never guessed from dtype;
variables are selected by information value and by correlation between WoE columns —
not by optbinning's ``quality_score``, which dropped informative variables here.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

logging.getLogger("__cvxpy__").disabled = True  # optbinning's import logs a harmless error

from optbinning import BinningProcess, Scorecard  # noqa: E402  (before cvxpy users)
from sklearn.linear_model import LogisticRegression  # noqa: E402

log = logging.getLogger(__name__)

TRENDS = ("ascending", "descending", "auto", "auto_asc_desc", "convex", "concave", "peak", "valley")


@dataclass(frozen=True)
class ScorecardOptions:
    """Binning, selection and points scaling (defaults from practice).

    Points: ``base_score`` points at good:bad odds of ``base_odds``; every ``pdo`` points
    double the odds (600 / 50 / 20).
    """

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0
    min_bin_share: float = 0.02  # no bin holds less than 2 % of the rows (sparse signals)
    max_n_bins: int = 6
    min_iv: float = 0.02  # below: "no discrimination"
    max_corr: float = 0.75  # |ρ| between WoE columns above which the weaker one goes
    max_features: int = 25
    l2_c: float = 1.0  # inverse L2 strength of the logistic regression

    def check(self) -> None:
        """Raise ValueError naming the option when one is out of range."""
        if not 0 < self.min_bin_share < 0.5:
            raise ValueError("min_bin_share must lie in (0, 0.5)")
        if self.pdo <= 0 or self.base_odds <= 0:
            raise ValueError("pdo and base_odds must be positive")
        if not 0 < self.max_corr <= 1:
            raise ValueError("max_corr must lie in (0, 1]")
        if self.max_n_bins < 2 or self.max_features < 1:
            raise ValueError("max_n_bins must be ≥ 2 and max_features ≥ 1")


@dataclass
class FittedScorecard:
    """A fitted scorecard: what was selected and why, and how to score.

    Attributes:
        features: the variables in the model, strongest first.
        iv_table: every candidate with its IV and the selection decision (``selected``,
            ``iv below …``, ``correlated with …``, ``beyond max_features``).
        scorecard: the fitted optbinning ``Scorecard`` (its binning process is
            ``scorecard.binning_process_``).
    """

    features: list[str]
    categorical: list[str]
    iv_table: pd.DataFrame
    scorecard: Scorecard
    options: ScorecardOptions
    monotonic: dict[str, str] = field(default_factory=dict)

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise KeyError(f"the frame lacks the model's feature(s) {missing}")
        frame = X[self.features].copy()
        for col in self.categorical:
            if col in frame:
                frame[col] = frame[col].astype(object)
        return frame

    def score(self, X: pd.DataFrame) -> np.ndarray:
        """Points (higher = lower risk)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return np.asarray(self.scorecard.score(self._frame(X)), dtype=float)

    def pd(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of the bad outcome (PD) from the logistic regression."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return np.asarray(self.scorecard.predict_proba(self._frame(X))[:, 1], dtype=float)

    def points(self, X: pd.DataFrame) -> pd.DataFrame:
        """Points each feature contributes for each row; the row sums are the scores.

        The scorecard is additive: ``score = Σ_j (c − f·β_j·WoE_j)`` with ``f = pdo/ln 2``
        and the constant ``c`` (scaling offset minus ``f·intercept``) split evenly over
        the features, exactly as optbinning builds its points table. These per-feature
        points are the exact explanation of a grade (the basis of its reasons).
        """
        frame = self._frame(X)
        binning = self.scorecard.binning_process_
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            woe = binning.transform(
                frame, metric="woe", metric_missing="empirical", metric_special="empirical"
            )
        estimator = self.scorecard.estimator_
        factor = self.options.pdo / np.log(2)
        offset = self.options.base_score - factor * np.log(self.options.base_odds)
        constant = (offset - factor * float(estimator.intercept_[0])) / len(self.features)
        coef = dict(zip(self.features, estimator.coef_[0], strict=True))
        return pd.DataFrame(
            {f: constant - factor * coef[f] * woe[f].to_numpy() for f in self.features},
            index=X.index,
        )

    def pd_from_score(self, score: np.ndarray) -> np.ndarray:
        """PD from points, without a second pass over the data.

        With ``pdo_odds`` scaling the score is exactly linear in the log-odds of the
        logistic regression: ``score = base − pdo/ln 2 · (logit(PD) − ln(1/base_odds))``.
        """
        factor = self.options.pdo / np.log(2)
        logit = (
            np.log(1 / self.options.base_odds)
            - (np.asarray(score) - self.options.base_score) / factor
        )
        return 1 / (1 + np.exp(-logit))

    def points_table(self) -> pd.DataFrame:
        """Points per variable and bin (the table leadership and reviewers read)."""
        table = self.scorecard.table(style="detailed")
        keep = ["Variable", "Bin", "Count", "Count (%)", "Event rate", "WoE", "IV", "Points"]
        table = table[[c for c in keep if c in table.columns]].reset_index(drop=True)
        # categorical bins are arrays of categories: written as text for CSV and people
        table["Bin"] = table["Bin"].map(
            lambda b: b if isinstance(b, str) else "、".join(str(v) for v in np.ravel(b))
        )
        return table

    def binning_table(self, feature: str) -> pd.DataFrame:
        """Optbinning's binning table of one feature (bins, counts, event rate, WoE, IV)."""
        binned = self.scorecard.binning_process_.get_binned_variable(feature)
        return binned.binning_table.build()


def _binning_process(names, categorical, monotonic, options) -> BinningProcess:
    params = {}
    for name in names:
        trend = monotonic.get(name, "auto")
        if name in categorical:
            continue  # categories are ordered by event rate; no trend applies
        params[name] = {"monotonic_trend": trend}
    return BinningProcess(
        variable_names=list(names),
        categorical_variables=[c for c in names if c in categorical],
        min_prebin_size=options.min_bin_share,
        min_bin_size=options.min_bin_share,
        max_n_bins=options.max_n_bins,
        binning_fit_params=params,
    )


def fit_scorecard(
    X: pd.DataFrame,
    y: pd.Series | np.ndarray,
    *,
    categorical: list[str] | tuple[str, ...] = (),
    monotonic: dict[str, str] | None = None,
    options: ScorecardOptions | None = None,
    sample_weight: np.ndarray | None = None,
) -> FittedScorecard:
    """Fit a scorecard on any features and a 0/1 target.

    Args:
        X: candidate features (numbers, or categories named in ``categorical``).
        y: 1 = bad (the event), 0 = good.
        categorical: columns binned as categories.
        monotonic: column → optbinning monotonic trend of the event rate
            (``ascending``: more means riskier; ``descending``; ``auto`` is the default).
        options: binning, selection and scaling options.
        sample_weight: row weights (e.g. 1/π for inspection outcomes).

    Raises:
        ValueError: for a target that is not 0/1 with both classes, an unknown trend,
            or no variable left after selection.
    """
    options = options or ScorecardOptions()
    options.check()
    monotonic = dict(monotonic or {})
    categorical = [c for c in categorical if c in X.columns]
    target = np.asarray(y, dtype=float)
    if np.isnan(target).any() or not set(np.unique(target)) <= {0.0, 1.0}:
        raise ValueError("the target must be 0/1 without missing values")
    if len(np.unique(target)) < 2:
        raise ValueError("the target has a single class: nothing to learn")
    for name, trend in monotonic.items():
        if trend not in TRENDS:
            raise ValueError(f"monotonic trend of {name} is {trend!r}; allowed: {TRENDS}")
    frame = X.copy()
    for col in categorical:
        frame[col] = frame[col].astype(object)
    names = list(frame.columns)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        screen = _binning_process(names, categorical, monotonic, options)
        screen.fit(frame, target, sample_weight=sample_weight)
        summary = screen.summary().set_index("name")
        iv = summary["iv"].astype(float).reindex(names).fillna(0.0)
        decisions = {n: "" for n in names}
        candidates = [n for n in iv.sort_values(ascending=False).index]
        for n in candidates:
            if iv[n] < options.min_iv:
                decisions[n] = f"iv below {options.min_iv}"
        strong = [n for n in candidates if not decisions[n]]
        woe = (
            screen.transform(
                frame[names], metric="woe", metric_missing="empirical", metric_special="empirical"
            )[strong]
            if strong
            else None
        )
    kept: list[str] = []
    for n in strong:
        if len(kept) >= options.max_features:
            decisions[n] = f"beyond max_features={options.max_features}"
            continue
        if kept:
            corr = woe[kept].corrwith(woe[n]).abs()
            worst = corr.idxmax()
            if corr[worst] > options.max_corr:
                decisions[n] = f"correlated with {worst} (|ρ|={corr[worst]:.2f})"
                continue
        kept.append(n)
        decisions[n] = "selected"
    if not kept:
        raise ValueError(
            f"no variable passes selection (all IV below {options.min_iv}); nothing to fit"
        )
    estimator = LogisticRegression(C=options.l2_c, max_iter=2000)
    scorecard = Scorecard(
        binning_process=_binning_process(kept, categorical, monotonic, options),
        estimator=estimator,
        scaling_method="pdo_odds",
        scaling_method_params={
            "pdo": options.pdo,
            "odds": options.base_odds,
            "scorecard_points": options.base_score,
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        scorecard.fit(
            frame[kept],
            target,
            sample_weight=sample_weight,
            metric_missing="empirical",
            metric_special="empirical",
        )
    table = pd.DataFrame(
        {
            "feature": names,
            "iv": [float(iv[n]) for n in names],
            "decision": [decisions[n] for n in names],
        }
    )
    table = table.sort_values("iv", ascending=False, ignore_index=True)
    log.info("scorecard: %d of %d candidates selected", len(kept), len(names))
    return FittedScorecard(
        kept,
        [c for c in categorical if c in kept],
        table,
        scorecard,
        options,
        {k: v for k, v in monotonic.items() if k in kept},
    )
