"""The scorecard as a scikit-learn estimator (评分卡估计器): ``clone``, pipelines, CV, grid search.

:class:`ScorecardClassifier` is a thin layer over :func:`workbench.scoring.scorecard.fit_scorecard`:
its parameters are the :class:`~workbench.scoring.scorecard.ScorecardOptions` fields plus
``categorical`` and ``monotonic``, and the fitted ``scorecard_`` is the same
:class:`~workbench.scoring.scorecard.FittedScorecard` the training stage grades with, so a
model tuned with ``GridSearchCV`` scores exactly as the stage would::

    from sklearn.model_selection import cross_val_score
    from workbench.scoring.estimator import ScorecardClassifier
    model = ScorecardClassifier(categorical=["entity_type"])
    cross_val_score(model, X, y, scoring="roc_auc", cv=5)

As in scikit-learn, the event is ``classes_[1]``: with 0/1 labels that is 1 = bad.
``predict_proba`` and ``decision_function`` are read off the (rounded) points, like the
grades; ``predict_score`` gives the points themselves (higher = lower risk).

Input: a DataFrame (categorical columns named in ``categorical``) or a numeric array
(columns named ``x0``, ``x1``, …). Missing values are allowed (their own bin); infinite
values are refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    assert_all_finite,
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from workbench.scoring.scorecard import (
    FittedScorecard,
    ScorecardInputError,
    ScorecardOptions,
    fit_scorecard,
)


class ScorecardClassifier(ClassifierMixin, BaseEstimator):
    """WoE scorecard classifier (binary) with integer points; see the module docstring.

    Args:
        categorical: columns binned as categories (names, or positions for arrays).
        monotonic: column → monotonic trend of the event rate (``ascending`` = more is
            riskier, ``descending``, ``auto``).
        base_score, base_odds, pdo, …: the :class:`ScorecardOptions` of the same name.

    Attributes:
        scorecard_: the fitted :class:`FittedScorecard` (points table, IV table, …).
        classes_: the two labels; ``classes_[1]`` is the event (bad).
        n_features_in_, feature_names_in_: as in scikit-learn.
    """

    def __init__(
        self,
        categorical=(),
        monotonic=None,
        *,
        base_score=600.0,
        base_odds=50.0,
        pdo=20.0,
        min_bin_events=10,
        min_prebin_share=0.002,
        max_n_prebins=20,
        prebinning="cart",
        max_n_bins=None,
        trend="auto",
        zero_bin=True,
        max_pvalue=None,
        min_level_rows=None,
        category_bin_caps=(),
        chance_ratio=3.0,
        material_iv=0.001,
        min_iv=0.0,
        max_corr=0.95,
        max_features=25,
        l2_c=None,
        bin_effects=True,
        cv_folds=5,
        cv_max_rows=30_000,
        rounding=True,
        random_state=0,
    ):
        self.categorical = categorical
        self.monotonic = monotonic
        self.base_score = base_score
        self.base_odds = base_odds
        self.pdo = pdo
        self.min_bin_events = min_bin_events
        self.min_prebin_share = min_prebin_share
        self.max_n_prebins = max_n_prebins
        self.prebinning = prebinning
        self.max_n_bins = max_n_bins
        self.trend = trend
        self.zero_bin = zero_bin
        self.max_pvalue = max_pvalue
        self.min_level_rows = min_level_rows
        self.category_bin_caps = category_bin_caps
        self.chance_ratio = chance_ratio
        self.material_iv = material_iv
        self.min_iv = min_iv
        self.max_corr = max_corr
        self.max_features = max_features
        self.l2_c = l2_c
        self.bin_effects = bin_effects
        self.cv_folds = cv_folds
        self.cv_max_rows = cv_max_rows
        self.rounding = rounding
        self.random_state = random_state

    def __sklearn_tags__(self):
        """Binary only; missing values allowed (they get their own bin)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def _options(self) -> ScorecardOptions:
        names = ScorecardOptions.__dataclass_fields__
        return ScorecardOptions(**{n: getattr(self, n) for n in names})

    def _frame(self, X, reset: bool) -> pd.DataFrame:
        """A DataFrame of X with the fitted column names; arrays must be numeric."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}); need ≥ 1")
            if all(isinstance(c, str) for c in X.columns):
                return X
            return X.set_axis([f"x{i}" for i in range(X.shape[1])], axis=1)
        array = (
            validate_data(self, X, reset=reset, dtype="numeric", ensure_all_finite="allow-nan")
            if reset
            else check_array(X, dtype="numeric", ensure_all_finite="allow-nan")
        )
        if not reset and array.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {array.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])

    def _columns(self, frame: pd.DataFrame, spec) -> list:
        """Column names from names or positions (positions for arrays)."""
        out = []
        for c in spec or ():
            if isinstance(c, int | np.integer) and c not in frame.columns:
                out.append(frame.columns[int(c)])
            else:
                out.append(c)
        return out

    def fit(self, X, y, sample_weight=None, groups=None):
        """Bin, select and fit on ``X`` and the binary target ``y``; return ``self``.

        ``groups``: a label per row kept together in the fit's held-out checks (an
        enterprise's month ends in a panel).
        """
        frame = self._frame(X, reset=True)
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None")
        y = column_or_1d(y, warn=True)
        if y.dtype.kind in "fc":
            assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        if len(y) != len(frame):
            raise ScorecardInputError(
                f"X has {len(frame)} rows but y has {len(y)}: one target per row is needed"
            )
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has only one class ({self.classes_.tolist()}): a scorecard needs both "
                "bad and good rows"
            )
        if len(self.classes_) > 2:
            raise ValueError(
                "Only binary classification is supported (bad versus good). The type of "
                f"the target is {type_of_target(y)} ({len(self.classes_)} classes)."
            )
        if sample_weight is not None and not np.any(np.asarray(sample_weight, float)):
            raise ValueError("sample_weight is zero on every row: nothing to fit")
        target = (y == self.classes_[1]).astype(int)
        monotonic = {
            k: v
            for k, v in zip(
                self._columns(frame, list(self.monotonic or {})),
                (self.monotonic or {}).values(),
                strict=True,
            )
        }
        self.scorecard_: FittedScorecard = fit_scorecard(
            frame,
            target,
            categorical=self._columns(frame, self.categorical),
            monotonic=monotonic,
            options=self._options(),
            sample_weight=None if sample_weight is None else np.asarray(sample_weight, float),
            allow_empty=True,
            groups=None if groups is None else np.asarray(groups),
        )
        return self

    def predict_score(self, X) -> np.ndarray:
        """Scorecard points (评分) of each row: base points + the points of its bins."""
        check_is_fitted(self)
        return self.scorecard_.score(self._frame(X, reset=False))

    def predict_proba(self, X) -> np.ndarray:
        """``[P(classes_[0]), P(classes_[1])]`` per row, the PD of the row's points."""
        score = self.predict_score(X)
        p = self.scorecard_.pd_from_score(score)
        return np.column_stack([1 - p, p])

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of ``classes_[1]`` (the event) — minus the points, rescaled."""
        score = self.predict_score(X)
        return self.scorecard_.log_odds_from_score(score)

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where its probability exceeds one half."""
        event = self.predict_proba(X)[:, 1] > 0.5
        return self.classes_[event.astype(int)]
