import numpy as np
import pandas as pd
import pytest

from workbench.grading import explain
from workbench.scoring.scorecard import fit_scorecard


@pytest.fixture(scope="module")
def fitted_and_data():
    rng = np.random.default_rng(3)
    n = 20_000
    X = pd.DataFrame(
        {
            "complaints": rng.poisson(0.3, n).astype(float),
            "age": rng.exponential(50, n),
            "kind": rng.choice(["company", "individual_business"], n, p=[0.4, 0.6]),
        }
    )
    logit = -3 + 0.8 * X["complaints"] - 0.01 * X["age"] + (X["kind"] == "company") * 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = fit_scorecard(
        X, y, categorical=["kind"], monotonic={"complaints": "ascending", "age": "descending"}
    )
    return model, X


def test_contributions_are_shap_in_points(fitted_and_data):
    model, X = fitted_and_data
    background = X.sample(2000, random_state=0)
    rows = X.head(500)
    contrib = explain.contributions(model, rows, background)
    expected = model.score(rows) - model.score(background).mean()
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), expected, atol=1e-6)
    assert explain.shap_agreement(model, rows, background) < 1e-6


def test_reasons_name_the_indicators_that_lower_the_score(fitted_and_data):
    model, X = fitted_and_data
    background = X.sample(2000, random_state=0)
    rows = pd.DataFrame(
        {"complaints": [4.0, 0.0], "age": [1.0, 300.0], "kind": ["company", "individual_business"]}
    )
    contrib = explain.contributions(model, rows, background)
    table = explain.reasons(
        contrib, rows, {"complaints": "近36个月投诉举报次数", "age": "成立月数"}
    )
    assert table.loc[0, "reason_1"].startswith("近36个月投诉举报次数 4：-")
    assert table.loc[0, "reason_1_points"] < 0
    # every reason given lowers the score; the strongest comes first
    first, second = table.loc[0, "reason_1_points"], table.loc[0, "reason_2_points"]
    assert np.isnan(second) or first <= second < 0
    # an old enterprise without complaints has no reason from complaints
    assert "投诉" not in "".join(table.loc[1, ["reason_1", "reason_2", "reason_3"]])
