"""Input checks of fit_scorecard: every bad input names the argument or column (issue 12)."""

import numpy as np
import pandas as pd
import pytest

from workbench.errors import WorkbenchError
from workbench.scoring.scorecard import (
    ScorecardInputError,
    ScorecardOptions,
    ScorecardWarning,
    fit_scorecard,
)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(12)
    n = 400
    X = pd.DataFrame(
        {
            "age": rng.exponential(50, n),
            "kind": rng.choice(["company", "individual"], n),
        }
    )
    y = (rng.random(n) < 1 / (1 + np.exp(3 - 0.02 * X["age"]))).astype(int)
    return X, y


def _fails(X, y, match, **kwargs):
    with pytest.raises(ScorecardInputError, match=match) as caught:
        fit_scorecard(X, y, **kwargs)
    assert isinstance(caught.value, WorkbenchError) and isinstance(caught.value, ValueError)


def test_an_all_missing_column(data):
    X, y = data
    _fails(
        X.assign(empty=np.nan), y, r"column 'empty' is missing on every row", categorical=["kind"]
    )


def test_a_datetime_column(data):
    X, y = data
    X = X.assign(founded=pd.Timestamp("2020-01-01"))
    _fails(X, y, r"column 'founded' holds dates.*convert it", categorical=["kind"])


def test_duplicated_column_names(data):
    X, y = data
    twice = pd.concat([X[["age"]], X[["age"]]], axis=1)
    _fails(twice, y, r"duplicated column names: \['age'\]")


def test_x_and_y_of_different_lengths(data):
    X, y = data
    _fails(X, y[:-5], r"X has 400 rows but y has 395", categorical=["kind"])


def test_groups_of_another_length(data):
    X, y = data
    _fails(X, y, r"groups must hold one label per row \(400\)", categorical=["kind"], groups=[1, 2])


def test_a_good_bad_string_target(data):
    X, _ = data
    y = pd.Series(np.where(np.arange(len(X)) % 3 == 0, "bad", "good"))
    _fails(X, y, r"y must be 0/1 \(1 = bad.*'bad', 'good'.*map them", categorical=["kind"])


@pytest.mark.parametrize(
    ("y", "message"),
    [
        ([0, 1, 2, 0], r"y must be 0/1.*\[0\.0, 1\.0, 2\.0\]"),
        ([0, 0, 0, 0], "single class"),
        ([0, 1, np.nan, 0], r"without missing values; 1 missing"),
    ],
)
def test_other_bad_targets(y, message):
    _fails(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}), y, message)


def test_infinite_values(data):
    X, y = data
    X = X.assign(ratio=np.where(np.arange(len(X)) < 3, np.inf, 1.0))
    _fails(X, y, r"column 'ratio' has 3 infinite value\(s\)", categorical=["kind"])


def test_a_numpy_array_as_x(data):
    X, y = data
    _fails(X[["age"]].to_numpy(), y, r"X must be a pandas DataFrame.*numpy.ndarray")


def test_unknown_names_in_categorical_and_monotonic(data):
    X, y = data
    _fails(X, y, r"categorical= names \['sector'\], which are not columns", categorical=["sector"])
    _fails(
        X,
        y,
        r"monotonic= names \['agee'\], which are not columns",
        categorical=["kind"],
        monotonic={"agee": "ascending"},
    )


def test_an_unknown_trend(data):
    X, y = data
    _fails(
        X,
        y,
        r"monotonic trend of age is 'up'; allowed: ascending",
        monotonic={"age": "up"},
        categorical=["kind"],
    )


def test_text_not_declared_categorical(data):
    X, y = data
    _fails(X, y, r"column 'kind' holds .* not numbers: name it in categorical=")


def test_bad_options():
    with pytest.raises(ScorecardInputError, match="min_prebin_share must lie in"):
        ScorecardOptions(min_prebin_share=0.7).check()
    with pytest.raises(ScorecardInputError, match="max_corr must lie in"):
        ScorecardOptions(max_corr=0).check()


def test_few_events_per_candidate_warn_with_the_counts(data):
    X, y = data
    rng = np.random.default_rng(0)
    wide = pd.concat(
        [X[["age"]]] + [pd.DataFrame({f"v{i}": rng.normal(size=len(X))}) for i in range(9)], axis=1
    )
    with pytest.warns(ScorecardWarning, match=rf"only {int(y.sum())} events .* for 10 candidate"):
        fit_scorecard(wide, y, options=ScorecardOptions(chance_ratio=1.0, l2_c=1.0))
