"""The scorecard training core on data with a known logistic truth, and grade schemes."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from workbench.scoring import grades
from workbench.scoring.scorecard import ScorecardOptions, fit_scorecard


@pytest.fixture(scope="module")
def known_truth():
    rng = np.random.default_rng(7)
    n = 40_000
    age = rng.exponential(60, n)
    penalties = rng.poisson(0.15, n).astype(float)
    days_since = np.where(rng.random(n) < 0.7, np.nan, rng.uniform(0, 1500, n))
    kind = rng.choice(["company", "individual_business", "cooperative"], n, p=[0.3, 0.65, 0.05])
    noise = rng.normal(size=n)
    logit = (
        -3.2
        - 0.01 * age
        + 0.9 * penalties
        + np.where(np.isnan(days_since), 0.0, 1.2 - 0.001 * np.nan_to_num(days_since))
        + pd.Series(kind)
        .map({"company": 0.0, "individual_business": 0.4, "cooperative": -0.3})
        .to_numpy()
    )
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    X = pd.DataFrame(
        {
            "age": age,
            "penalties": penalties,
            "days_since": days_since,
            "kind": kind,
            "noise": noise,
            "age_copy": age * 1.01 + 0.5,
        }
    )
    half = n // 2
    return X.iloc[:half], y[:half], X.iloc[half:], y[half:], p[half:]


@pytest.fixture(scope="module")
def model(known_truth):
    X, y, *_ = known_truth
    return fit_scorecard(
        X, y, categorical=["kind"], monotonic={"age": "descending", "penalties": "ascending"}
    )


def test_reaches_the_truth_and_drops_noise_and_duplicates(model, known_truth):
    _, _, Xv, yv, pv = known_truth
    auc, ceiling = roc_auc_score(yv, model.pd(Xv)), roc_auc_score(yv, pv)
    assert auc > ceiling - 0.02, (auc, ceiling)
    decisions = model.iv_table.set_index("feature")["decision"]
    assert decisions["noise"].startswith("iv below")
    assert {decisions["age"], decisions["age_copy"]} >= {"selected"}
    assert decisions[["age", "age_copy"]].str.startswith("correlated with age").sum() == 1
    assert {"penalties", "days_since", "kind"} <= set(model.features)


def test_points_scaling(model, known_truth):
    _, _, Xv, _, _ = known_truth
    score, pd_ = model.score(Xv), model.pd(Xv)
    logit = np.log(pd_ / (1 - pd_))
    slope, intercept = np.polyfit(logit, score, 1)
    assert slope == pytest.approx(-20 / np.log(2), rel=1e-6)  # PDO 20
    # 600 points at good:bad odds of 50:1, i.e. PD = 1/51
    assert intercept + slope * np.log(1 / 50) == pytest.approx(600, abs=1e-6)


def test_pd_from_score_matches_the_regression(model, known_truth):
    _, _, Xv, _, _ = known_truth
    np.testing.assert_allclose(model.pd_from_score(model.score(Xv)), model.pd(Xv), rtol=1e-9)


def test_points_per_feature_sum_to_the_score(model, known_truth):
    _, _, Xv, _, _ = known_truth
    points = model.points(Xv)
    assert list(points.columns) == model.features
    np.testing.assert_allclose(points.sum(axis=1).to_numpy(), model.score(Xv), atol=1e-6)
    # a row with a missing days_since gets that bin's points, not the average's
    missing = Xv["days_since"].isna().to_numpy()
    assert points.loc[missing, "days_since"].nunique() == 1


def test_missing_values_get_their_empirical_woe(model):
    table = model.points_table()
    missing = table[(table["Variable"] == "days_since") & (table["Bin"] == "Missing")]
    assert len(missing) == 1
    assert abs(float(missing["WoE"].iloc[0])) > 0.1  # "never" is informative, not average


def test_binning_follows_the_declared_trend(model):
    bins = model.binning_table("penalties")
    rates = bins.loc[~bins.index.isin(["Special", "Missing", "Totals"]), "Event rate"]
    rates = rates[bins.loc[rates.index, "Count"] > 0].astype(float).to_numpy()
    assert np.all(np.diff(rates) > 0)


@pytest.mark.parametrize(
    ("y", "message"),
    [([0, 1, 2, 0], "0/1"), ([0, 0, 0, 0], "single class"), ([0, 1, np.nan, 0], "0/1")],
)
def test_bad_targets(y, message):
    with pytest.raises(ValueError, match=message):
        fit_scorecard(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}), y)


def test_bad_options():
    with pytest.raises(ValueError, match="monotonic trend of x"):
        fit_scorecard(pd.DataFrame({"x": [1.0, 2.0]}), [0, 1], monotonic={"x": "up"})
    with pytest.raises(ValueError, match="min_bin_share"):
        ScorecardOptions(min_bin_share=0.7).check()


# ------------------------------------------------------------------------- grade schemes


def test_presets_load():
    schemes = grades.load_schemes()
    assert schemes["national_4"].codes == ("A", "B", "C", "D")
    assert schemes["five_class"].codes == ("A", "B", "C", "D", "E")
    assert schemes["national_4"].labels[0] == "信用风险低"


def test_share_calibration_hits_the_shares():
    scores = np.random.default_rng(1).normal(600, 50, 100_000)
    calibrated = grades.load_schemes()["national_4"].calibrate(scores)
    assigned = calibrated.assign(scores)
    shares = pd.Series(assigned).value_counts(normalize=True)
    for code, share in zip("ABCD", (0.48, 0.42, 0.06, 0.04), strict=True):
        assert shares[code] == pytest.approx(share, abs=0.001)
    assert calibrated.assign(np.array([scores.max() + 1]))[0] == "A"


def test_score_bands_like_shenzhen():
    calibrated = grades.load_schemes()["shenzhen_bands"].calibrate(np.array([600.0]))
    got = calibrated.assign(np.array([800, 750.0, 671, 670.9, 601, 555, 554.9]))
    assert list(got) == ["A+", "A", "A", "B", "B", "C", "D"]


def test_pd_bands():
    scheme = grades.load_schemes()["national_4_pd"]
    pds = np.array([0.005, 0.02, 0.05, 0.2])
    scores = 600 - 100 * np.log(pds / (1 - pds))  # higher score, lower PD
    assert list(scheme.calibrate(scores, pds).assign(scores)) == ["A", "B", "C", "D"]


def test_wilson_interval_known_values():
    low, high = grades.wilson_interval(np.array([0, 5]), np.array([10, 10]))
    assert low[0] == pytest.approx(0.0, abs=1e-12)
    assert high[0] == pytest.approx(0.2775, abs=1e-4)
    assert (low[1], high[1]) == pytest.approx((0.2366, 0.7634), abs=1e-4)


def test_grade_table_and_order():
    scheme = grades.load_schemes()["national_4"]
    calibrated = grades.CalibratedScheme(scheme, (3.0, 2.0, 1.0))
    score = np.array([4, 4, 4, 4, 2.5, 2.5, 2.5, 1.5, 1.5, 0.5])
    label = np.array([0, 0, 0, 0, 0, 0, 1, 0, 1, 1])
    table = grades.grade_table(calibrated.assign(score), label, calibrated)
    assert table["bad_rate"].round(4).tolist() == [0.0, 0.3333, 0.5, 1.0]
    assert grades.strictly_increasing(table)
    flat = grades.grade_table(calibrated.assign(score), np.zeros(10), calibrated)
    assert not grades.strictly_increasing(flat)


def test_scheme_errors_name_file_scheme_and_field(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "schemes:\n  mine:\n    grades: [{code: A}, {code: B}]\n    method: shares\n"
        "    shares: [0.5, 0.4]\n",
        encoding="utf-8",
    )
    with pytest.raises(grades.SchemeError, match=r"s.yaml: scheme mine: field 'shares' sums"):
        grades.load_schemes(path)
    path.write_text(
        "schemes:\n  mine:\n    grades: [{code: A}, {code: B}]\n    method: vote\n",
        encoding="utf-8",
    )
    with pytest.raises(grades.SchemeError, match="field 'method' is 'vote'"):
        grades.load_schemes(path)
