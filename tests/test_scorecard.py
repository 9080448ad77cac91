"""The scorecard training core on data with a known logistic truth, and grade schemes."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from workbench.scoring import grades, scorecard
from workbench.scoring.scorecard import BASE_POINTS, ScorecardOptions, fit_scorecard
from workbench.views.training import _thin_bins

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning:optbinning")


@pytest.fixture(scope="module")
def known_truth():
    rng = np.random.default_rng(7)
    n = 40_000
    age = rng.exponential(60, n)
    penalties = rng.poisson(0.15, n).astype(float)
    days_since = np.where(rng.random(n) < 0.7, np.nan, rng.uniform(0, 1500, n))
    kind = rng.choice(["company", "individual_business", "cooperative"], n, p=[0.3, 0.65, 0.05])
    # a rare, strong indicator: non-zero on 0.5 % of the rows (a grave penalty, say)
    grave = np.where(rng.random(n) < 0.005, rng.integers(1, 3, n), 0).astype(float)
    noise = rng.normal(size=n)
    logit = (
        -3.2
        - 0.01 * age
        + 0.9 * penalties
        + 2.0 * (grave > 0)
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
            "grave": grave,
            "noise": noise,
            "age_copy": age * 1.01 + 0.5,
            # 500 identifiers of pure noise (a registration office, a street …)
            "office": rng.integers(0, 500, n).astype(str),
        }
    )
    half = n // 2
    return X.iloc[:half], y[:half], X.iloc[half:], y[half:], p[half:]


@pytest.fixture(scope="module")
def model(known_truth):
    X, y, *_ = known_truth
    return fit_scorecard(
        X,
        y,
        categorical=["kind", "office"],
        monotonic={"age": "descending", "penalties": "ascending"},
    )


def test_reaches_the_truth_and_drops_noise_and_duplicates(model, known_truth):
    _, _, Xv, yv, pv = known_truth
    auc, ceiling = roc_auc_score(yv, model.pd(Xv)), roc_auc_score(yv, pv)
    assert auc > ceiling - 0.01, (auc, ceiling)
    decisions = model.iv_table.set_index("feature")["decision"]
    assert decisions["noise"] != "selected"
    assert decisions[["age", "age_copy"]].eq("selected").sum() == 1
    assert decisions[["age", "age_copy"]].str.startswith("correlated with age").sum() == 1
    assert {"penalties", "days_since", "kind", "grave"} <= set(model.features)
    # every candidate has its reason, every reason is text
    assert len(model.iv_table) == 8 and model.iv_table["decision"].str.len().gt(0).all()


def test_a_rare_strong_indicator_keeps_its_nonzero_bin(model, known_truth):
    X, *_ = known_truth
    assert 0.004 < (X["grave"] > 0).mean() < 0.006
    assert model.iv_table.set_index("feature").at["grave", "decision"] == "selected"
    table = model.points_table()
    grave = table[table["Variable"] == "grave"].set_index("Bin")
    assert list(grave.index) == ["0", "[1, inf)"]  # the structural zero apart from ≥ 1
    assert grave.at["[1, inf)", "Count (%)"] < 0.01
    assert grave.at["[1, inf)", "Event rate"] > 3 * grave.at["0", "Event rate"]
    assert grave.at["[1, inf)", "Points"] < grave.at["0", "Points"]


def test_a_500_level_noise_column_is_not_selected(model):
    decision = model.iv_table.set_index("feature").at["office", "decision"]
    assert decision != "selected"
    assert "office" not in model.features


def test_points_are_integers_and_the_score_is_their_exact_sum(model, known_truth):
    _, _, Xv, _, _ = known_truth
    points = model.points(Xv)
    assert list(points.columns) == model.features
    assert np.all(points.to_numpy() == np.round(points.to_numpy()))
    assert float(model.base_points).is_integer()
    np.testing.assert_array_equal(
        points.sum(axis=1).to_numpy() + model.base_points, model.score(Xv)
    )
    # the table: a base-points row, then every variable's bins with integer points
    table = model.points_table()
    assert table.loc[0, "Variable"] == BASE_POINTS and table.loc[0, "Points"] == model.base_points
    assert table["Points"].dtype == "int64"
    assert set(table["Variable"]) == {BASE_POINTS, *model.features}
    # each variable's worst bin scores 0, so points read as "earned"
    assert (table[table["Variable"] != BASE_POINTS].groupby("Variable")["Points"].min() == 0).all()


def test_empty_special_and_missing_bins_are_not_shown(model):
    table = model.points_table()
    days = table[table["Variable"] == "days_since"]
    assert (days["Bin"] == "Missing").sum() == 1  # it occurs: 70 % never had one
    age = table[table["Variable"] == "age"]
    assert not age["Bin"].isin(["Special", "Missing"]).any()
    every = model.points_table(all_bins=True)
    assert every[every["Variable"] == "age"]["Bin"].isin(["Special", "Missing"]).sum() == 2


def test_rounding_moves_the_score_by_at_most_half_a_point_per_variable(model, known_truth):
    _, _, Xv, _, _ = known_truth
    exact = model.points(Xv, rounded=False).sum(axis=1).to_numpy() + model.exact_base_points
    gap = np.abs(model.score(Xv) - exact)
    assert gap.max() <= 0.5 * (len(model.features) + 1)


def test_unrounded_points_are_the_regression_exactly(model, known_truth):
    _, _, Xv, _, _ = known_truth
    expected = model.log_odds_terms(Xv).sum(axis=1).to_numpy() + model.log_odds_intercept
    np.testing.assert_allclose(model.log_odds(Xv), expected, atol=1e-9)
    # points scaling: 600 points at good:bad odds of 50:1, 20 more points double the odds
    exact = model.points(Xv, rounded=False).sum(axis=1).to_numpy() + model.exact_base_points
    np.testing.assert_allclose(exact, 600 - 20 / np.log(2) * (expected - np.log(1 / 50)))


def test_pd_is_the_pd_of_the_score(model, known_truth):
    _, _, Xv, _, _ = known_truth
    score = model.score(Xv)
    np.testing.assert_allclose(model.pd(Xv), model.pd_from_score(score), rtol=1e-12)
    logit = np.log(model.pd(Xv) / (1 - model.pd(Xv)))
    slope, intercept = np.polyfit(logit, score, 1)
    assert slope == pytest.approx(-20 / np.log(2), rel=1e-9)
    assert intercept + slope * np.log(1 / 50) == pytest.approx(600, abs=1e-6)


def test_missing_values_get_their_empirical_woe(model, known_truth):
    table = model.points_table()
    missing = table[(table["Variable"] == "days_since") & (table["Bin"] == "Missing")]
    assert abs(float(missing["WoE"].iloc[0])) > 0.1  # "never" is informative, not average
    _, _, Xv, _, _ = known_truth
    points = model.points(Xv)
    assert points.loc[Xv["days_since"].isna(), "days_since"].nunique() == 1


def test_binning_follows_the_declared_trend(model):
    bins = model.binning_table("age").drop(index="Totals")
    clean = bins[~bins["Bin"].isin(["Special", "Missing"]) & (bins["Count"] > 0)]
    rates = clean["Event rate"].astype(float).to_numpy()
    assert len(rates) >= 3 and np.all(np.diff(rates) < 0)  # declared: older is safer
    table = model.points_table()
    penalties = table[table["Variable"] == "penalties"].set_index("Bin")["Event rate"]
    assert list(penalties.index) == ["0", "[1, 1.50)", "[1.50, inf)"]
    assert penalties.is_monotonic_increasing  # declared: more penalties, riskier


def test_an_unseen_category_scores_as_average_risk(model, known_truth):
    _, _, Xv, _, _ = known_truth
    row = Xv.head(1).assign(kind="foundation")
    woe = model.woe(row)
    assert woe.at[row.index[0], "kind"] == 0.0
    assert model.score(row)[0] == model.points(row).sum(axis=1).iloc[0] + model.base_points


def test_optbinning_view_scores_the_same(model, known_truth):
    _, _, Xv, _, _ = known_truth
    card = model.scorecard  # a fitted optbinning Scorecard assembled from the one pass
    np.testing.assert_array_equal(card.score(model._frame(Xv)), model.score(Xv))
    woe = card.binning_process_.transform(
        model._frame(Xv), metric="woe", metric_missing="empirical", metric_special="empirical"
    )
    np.testing.assert_allclose(woe.to_numpy(), model.woe(Xv).to_numpy(), atol=1e-12)


def test_sample_weights_change_the_fit(known_truth):
    X, y, *_ = known_truth
    X = X[["age", "penalties"]]
    weights = np.where(y == 1, 3.0, 1.0)
    plain = fit_scorecard(X, y, options=ScorecardOptions(l2_c=1.0))
    weighted = fit_scorecard(X, y, sample_weight=weights, options=ScorecardOptions(l2_c=1.0))
    assert weighted.base_points < plain.base_points  # bads weigh more: riskier on average


def test_a_noise_column_does_not_move_the_cv_auc():
    """Done-when of issue 13 on a German-credit-sized table (1,000 rows, 3-fold CV)."""
    rng = np.random.default_rng(13)
    n = 1000
    X = pd.DataFrame(
        {
            "duration": rng.integers(4, 72, n).astype(float),
            "amount": rng.lognormal(8, 0.8, n),
            "checking": rng.choice(["none", "<0", "0-200", ">200"], n, p=[0.4, 0.27, 0.27, 0.06]),
            "history": rng.choice(["critical", "paid", "delayed", "none"], n),
        }
    )
    logit = (
        -1.6
        + 0.03 * (X["duration"] - 20)
        + X["checking"].map({"none": -1.0, "<0": 0.7, "0-200": 0.3, ">200": -0.5})
        + X["history"].map({"critical": -0.6, "paid": 0.0, "delayed": 0.3, "none": 0.6})
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    noisy = X.assign(noise=rng.integers(0, 500, n).astype(str))
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))

    def cv_auc(frame, categorical):
        aucs = []
        for train, test in folds:
            fitted = fit_scorecard(
                frame.iloc[train],
                y[train],
                categorical=categorical,
                monotonic={"duration": "ascending", "amount": "auto_asc_desc"},
            )
            aucs.append(roc_auc_score(y[test], fitted.pd(frame.iloc[test])))
        return np.mean(aucs)

    plain = cv_auc(X, ["checking", "history"])
    with_noise = cv_auc(noisy, ["checking", "history", "noise"])
    assert abs(with_noise - plain) < 0.005, (plain, with_noise)


def _german_credit():
    """UCI's German credit (1,000 rows; tests/data/README.md): no download at run time."""
    data = pd.read_csv(Path(__file__).parent / "data" / "germancredit.csv.gz")
    y = (data.pop("creditability") == "bad").astype(int).to_numpy()
    categorical = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
    data[categorical] = data[categorical].astype(object)
    return data, y, categorical


def test_a_500_level_noise_column_does_not_move_german_credit():
    """Done-when of issue 13 on the real German credit data, on a small (2-fold) CV."""
    X, y, categorical = _german_credit()
    rng = np.random.default_rng(500)
    noisy = X.assign(noise=np.array([f"N{v:03d}" for v in rng.integers(0, 500, len(X))]))
    folds = list(StratifiedKFold(2, shuffle=True, random_state=0).split(X, y))
    plain, with_noise = [], []
    for train, test in folds:
        fitted = fit_scorecard(X.iloc[train], y[train], categorical=categorical)
        plain.append(roc_auc_score(y[test], fitted.pd(X.iloc[test])))
        fitted = fit_scorecard(noisy.iloc[train], y[train], categorical=[*categorical, "noise"])
        assert "noise" not in fitted.features
        with_noise.append(roc_auc_score(y[test], fitted.pd(noisy.iloc[test])))
    assert np.mean(plain) > 0.7  # the data carry signal: the comparison means something
    assert abs(np.mean(with_noise) - np.mean(plain)) < 0.005, (plain, with_noise)


def test_a_variable_weak_alone_joins_when_it_helps_beside_the_others():
    """German credit's instalment rate: not significant out of fold alone, a real term
    beside the others (its cross-fitted WoE lowers the held-out log-loss)."""
    X, y, categorical = _german_credit()
    fitted = fit_scorecard(X, y, categorical=categorical)
    table = fitted.iv_table.set_index("feature")
    rate = "installment_rate_in_percentage_of_disposable_income"
    assert rate in fitted.features
    assert table.loc[rate, "note"].startswith("weak alone; beside the others +")
    assert table.loc[rate, "decision"] == "selected"
    assert 0 < table.loc[rate, "cross_iv"]  # it was judged out of fold first


def test_a_collinear_drop_frees_its_place_for_the_next_candidate():
    """x2 is strong alone only through x1 (its own effect is the other way): its
    coefficient turns against its WoE and it goes; with room for two, x3 takes the place."""
    rng = np.random.default_rng(7)
    n = 20_000
    x1, x3 = rng.normal(size=n), rng.normal(size=n)
    x2 = x1 + 0.5 * rng.normal(size=n)
    logit = -1.5 + 1.5 * x1 - 0.5 * x2 + 0.4 * x3
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3})
    card = fit_scorecard(X, y, options=ScorecardOptions(max_features=2))
    decisions = card.iv_table.set_index("feature")["decision"]
    assert sorted(card.features) == ["x1", "x3"]
    assert decisions["x2"].startswith("coefficient against its own WoE")


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


def test_grade_intervals_count_an_enterprises_month_ends_once():
    """Three agreeing month ends of one enterprise carry one enterprise's information."""
    rng = np.random.default_rng(3)
    outcome = (rng.random(200) < 0.1).astype(float)
    enterprise = np.arange(200)
    alone = grades.wilson_interval(np.array([outcome.sum()]), np.array([200]), z=grades.Z)
    one_row_each = grades.clustered_wilson(outcome, enterprise)
    assert one_row_each == pytest.approx((alone[0][0], alone[1][0]))
    three_rows_each = grades.clustered_wilson(np.repeat(outcome, 3), np.repeat(enterprise, 3))
    assert three_rows_each == pytest.approx(one_row_each)
    as_rows = grades.clustered_wilson(np.repeat(outcome, 3), None)
    assert as_rows[1] - as_rows[0] < 0.6 * (one_row_each[1] - one_row_each[0])
    scheme = grades.load_schemes()["national_4"]
    calibrated = grades.CalibratedScheme(scheme, (3.0, 2.0, 1.0))
    score = np.repeat(rng.uniform(0, 4, 200), 3)
    table = grades.grade_table(
        calibrated.assign(score), np.repeat(outcome, 3), calibrated, groups=np.repeat(enterprise, 3)
    )
    assert table["count"].sum() == 600 and table["enterprises"].sum() == 200


def test_order_z_tells_an_inversion_the_data_shows_from_noise():
    """The weakest step between grades, in (clustered) standard errors."""
    scheme = grades.load_schemes()["national_4"]
    calibrated = grades.CalibratedScheme(scheme, (3.0, 2.0, 1.0))

    def table(rates, rows):
        grade = np.repeat(["A", "B", "C", "D"], rows)
        label = np.concatenate(
            [np.arange(n) < round(r * n) for r, n in zip(rates, rows, strict=True)]
        )
        return grades.grade_table(grade, label.astype(float), calibrated)

    rising = grades.order_z(table([0.01, 0.02, 0.04, 0.10], [4000] * 4))
    assert rising > 2
    noise = table([0.01, 0.02, 0.06, 0.05], [2000, 2000, 100, 100])
    assert not grades.strictly_increasing(noise) and -1.645 < grades.order_z(noise) < 0
    # the same swap, measured on 40 times the rows, is an inversion the data shows
    shown = table([0.01, 0.02, 0.06, 0.05], [2000, 2000, 4000, 4000])
    assert grades.order_z(shown) < -1.645
    b, c = noise.iloc[1], noise.iloc[2]  # the weakest step of the noisy table is C → D
    d = noise.iloc[3]
    pooled = (c.bad_rate + d.bad_rate) / 2  # rows apart: the classic pooled two-proportion z
    expected = (d.bad_rate - c.bad_rate) / np.sqrt(pooled * (1 - pooled) * (2 / 100))
    assert grades.order_z(noise) == pytest.approx(expected)
    assert b.se == pytest.approx(np.sqrt(0.02 * 0.98 / 2000))
    flat = table([0.0, 0.0, 0.0, 0.0], [10] * 4)
    assert grades.order_z(flat) == 0.0


def test_a_grade_without_a_bad_row_is_not_an_inversion_by_itself():
    # B: 739 enterprises at three month ends, 13 of them bad at all three (1.8 %); C: 125
    # enterprises, none bad — 0 of 125 at B's rate has a chance of about 11 %
    scheme = grades.load_schemes()["national_4"]
    calibrated = grades.CalibratedScheme(scheme, (3.0, 2.0, 1.0))
    per_grade = {"A": (800, 4), "B": (739, 13), "C": (125, 0), "D": (95, 6)}
    grade, label, enterprise = [], [], []
    for code, (firms, bad) in per_grade.items():
        for k in range(firms):
            grade += [code] * 3
            label += [float(k < bad)] * 3
            enterprise += [f"{code}{k}"] * 3
    table = grades.grade_table(
        np.array(grade), np.array(label), calibrated, groups=np.array(enterprise)
    )
    b, c = table.iloc[1], table.iloc[2]
    assert c.bad_rate == 0 and c.se == 0
    own_errors = (c.bad_rate - b.bad_rate) / np.hypot(b.se, c.se)
    assert own_errors < -1.645  # each grade's own error: C's 0 would be known exactly
    z = grades.order_z(table)
    assert -1.645 < z < 0  # under "the same rate", 0 of 125 enterprises is within noise
    # C has no design effect of its own (no bad row): it takes B's, here exactly 3
    pooled = 13 / (739 + 125)
    assert z == pytest.approx(
        -b.bad_rate / np.sqrt(pooled * (1 - pooled) * 3 * (1 / 2217 + 1 / 375))
    )
    # rows apart (no design effect) the same counts look three times as sure
    rows_apart = grades.grade_table(np.array(grade), np.array(label), calibrated)
    assert grades.order_z(rows_apart) == pytest.approx(z * np.sqrt(3))


def test_order_z_pools_unequal_grades_and_divides_by_the_design_effect():
    # rows apart: the pooled two-proportion z of the weakest step (C → D, 6 % → 5 %)
    scheme = grades.load_schemes()["national_4"]
    calibrated = grades.CalibratedScheme(scheme, (3.0, 2.0, 1.0))
    counts = {"A": (3000, 30), "B": (2000, 40), "C": (400, 24), "D": (150, 8)}
    grade = np.repeat(list(counts), [n for n, _ in counts.values()])
    label = np.concatenate([np.arange(n) < bad for n, bad in counts.values()]).astype(float)
    rows_apart = grades.grade_table(grade, label, calibrated)
    pooled = (24 + 8) / (400 + 150)
    expected = (8 / 150 - 24 / 400) / np.sqrt(pooled * (1 - pooled) * (1 / 400 + 1 / 150))
    assert grades.order_z(rows_apart) == pytest.approx(expected)
    # each outcome as an enterprise of four alike month ends: four times the rows, design
    # effect 4 — no surer than the enterprises themselves; counted as rows, twice as sure
    four_rows = (np.repeat(grade, 4), np.repeat(label, 4), calibrated)
    enterprises = grades.grade_table(*four_rows, groups=np.repeat(np.arange(len(label)), 4))
    assert grades.order_z(enterprises) == pytest.approx(expected)
    assert grades.order_z(grades.grade_table(*four_rows)) == pytest.approx(2 * expected)
    # a pair without a design effect of its own (rates 1 and 0): the rows per enterprise
    extreme = np.repeat(np.r_[np.zeros(30), np.ones(30), np.zeros(60)], 2)
    steps = np.repeat(np.repeat(["A", "B", "C", "D"], 30), 2)
    pairs = grades.grade_table(steps, extreme, calibrated, groups=np.repeat(np.arange(120), 2))
    rows = grades.grade_table(steps, extreme, calibrated)
    assert grades.order_z(pairs) == pytest.approx(grades.order_z(rows) / np.sqrt(2))


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


def _log_loss_of(y, p):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_bins_take_their_own_effect_where_held_out_rows_ask_for_it():
    # x2's risk is a step, but its marginal WoE also carries x1's slope (ρ = 0.7): one
    # coefficient per variable cannot undo that, an effect per bin can
    rng = np.random.default_rng(11)
    n = 40_000
    x1 = rng.normal(size=n)
    x2 = 0.7 * x1 + 0.71 * rng.normal(size=n)
    logit = -1.5 + 1.2 * x1 + 1.0 * (x2 > 0.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"x1": x1, "x2": x2})
    train, test = slice(0, n // 2), slice(n // 2, None)
    with_effects = fit_scorecard(X[train], y[train])
    woe_only = fit_scorecard(X[train], y[train], options=ScorecardOptions(bin_effects=False))
    assert with_effects.bin_effects_c is not None and woe_only.bin_effects_c is None
    gain = _log_loss_of(y[test], woe_only.pd(X[test])) - _log_loss_of(
        y[test], with_effects.pd(X[test])
    )
    assert gain > 0.001, gain  # nats per row, on rows neither model saw
    # the points stay a scorecard: integers per bin whose sum is the score
    points = with_effects.points(X[test])
    np.testing.assert_array_equal(
        points.sum(axis=1).to_numpy() + with_effects.base_points, with_effects.score(X[test])
    )
    # without bin effects the terms are the WoE regression's, exactly
    woe = woe_only.woe(X[test]).to_numpy()
    np.testing.assert_allclose(
        woe_only.log_odds(X[test]), woe_only.estimator.decision_function(woe), atol=1e-9
    )


def test_held_out_checks_keep_an_enterprises_month_ends_together():
    # a panel: 2,000 enterprises at 5 month ends, each with a risk nothing measures and a
    # code of its own (a phone number, say). The code "predicts" the enterprise's other
    # month ends, in sample and in row folds alike; for an enterprise never seen it says
    # nothing, which only folds that hold out whole enterprises can tell
    rng = np.random.default_rng(5)
    enterprises, months = 2_000, 5
    risk, hidden = rng.normal(size=enterprises), 1.5 * rng.normal(size=enterprises)
    p = np.repeat(1 / (1 + np.exp(-(-1.5 + risk + hidden))), months)
    y = (rng.random(enterprises * months) < p).astype(int)
    X = pd.DataFrame(
        {
            "risk": np.repeat(risk, months) + 0.1 * rng.normal(size=enterprises * months),
            "phone": np.repeat(rng.permutation(enterprises).astype(str), months),
        }
    )
    uscc = np.repeat(np.arange(enterprises), months)
    options = ScorecardOptions(min_level_rows=months)  # every code a level of its own
    by_row = fit_scorecard(X, y, categorical=["phone"], options=options)
    by_enterprise = fit_scorecard(X, y, categorical=["phone"], options=options, groups=uscc)
    assert "phone" in by_row.features
    assert by_enterprise.features == ["risk"]
    record = by_enterprise.iv_table.set_index("feature").loc["phone"]
    assert record["iv"] > 1 and record["cross_iv"] <= 0
    assert "does not hold out of fold" in record["decision"]


def test_a_bin_resting_on_one_bad_enterprise_is_flagged():
    # a panel of 3,000 enterprises at 10 month ends: five large industry divisions of real
    # risk, and a small one of 8 enterprises whose only bad one is bad at all ten month
    # ends — ten bad rows, as many as a bin needs, from a single enterprise
    rng = np.random.default_rng(3)
    months, rates = 10, {"A": 0.02, "B": 0.05, "C": 0.10, "D": 0.20, "E": 0.30}
    division = np.r_[np.repeat(list(rates), 600), ["S"] * 8]
    bad = np.r_[rng.random(3_000) < np.repeat(list(rates.values()), 600), [True] + [False] * 7]
    X = pd.DataFrame({"division": np.repeat(division, months)})
    y = np.repeat(bad.astype(int), months)
    uscc = np.repeat(np.arange(len(division)), months)
    model = fit_scorecard(X, y, categorical=["division"], groups=uscc)
    record = model.iv_table.set_index("feature").loc["division"]
    assert record["decision"] == "selected"
    bins = model.points_table().query("Variable == 'division'")["Bin"].astype(str)
    assert "S" in set(bins), bins  # the small division is a bin of its own
    assert record["bad_enterprises_min"] == 1
    assert "a bin rests on 1 bad enterprise(s)" in record["note"]
    card_line = _thin_bins(model.iv_table, events=10)  # the model card's line
    assert "1 个入模指标" in card_line and "最少 1 家：division" in card_line
    # rows apart (no enterprises given): nothing to count
    rows_apart = fit_scorecard(X, y, categorical=["division"]).iv_table.set_index("feature")
    assert np.isnan(rows_apart.loc["division", "bad_enterprises_min"])


#: the caps the option offers (off by default)
CAPS = ScorecardOptions(category_bin_caps=(6, 4, 3, 2))


def _division_panel(seed, rates, enterprises, months=10):
    """A panel: each division's enterprises bad (at all their month ends) at its rate."""
    rng = np.random.default_rng(seed)
    division = np.repeat(list(rates), enterprises)
    bad = rng.random(len(division)) < np.repeat(list(rates.values()), enterprises)
    X = pd.DataFrame({"division": np.repeat(division, months)})
    return X, np.repeat(bad.astype(int), months), np.repeat(np.arange(len(division)), months)


def test_a_categoricals_bins_are_capped_when_fewer_hold_out_better():
    # two large divisions of real risk (2 %, 12 %) and twenty of ten enterprises at 6 %:
    # a small division whose one bad enterprise brings ten bad rows can be a bin of its own
    rates = {"L1": 0.02, "L2": 0.12} | {f"s{i:02d}": 0.06 for i in range(20)}
    enterprises = [1_400, 1_400] + [10] * 20
    X, y, uscc = _division_panel(1, rates, enterprises)
    free = fit_scorecard(X, y, categorical=["division"], groups=uscc)  # the default: no caps
    capped = fit_scorecard(X, y, categorical=["division"], groups=uscc, options=CAPS)
    free_bins = free.iv_table.set_index("feature").loc["division", "n_bins"]
    record = capped.iv_table.set_index("feature").loc["division"]
    assert free_bins > 2 and record["n_bins"] == 2
    assert "at most 2 bins" in record["note"] and f"the optimiser's {free_bins}" in record["note"]
    # new enterprises of the same divisions: the small ones are predicted better
    X_new, y_new, _ = _division_panel(101, rates, enterprises)
    small = X_new["division"].str.startswith("s").to_numpy()
    assert log_loss(y_new[small], capped.pd(X_new)[small]) < log_loss(
        y_new[small], free.pd(X_new)[small]
    )
    # rows apart (no enterprises given): the optimiser's bins, as before
    rows_apart = fit_scorecard(X, y, categorical=["division"], options=CAPS).iv_table
    assert not rows_apart["note"].astype(str).str.contains("at most").any()


def test_the_cap_needs_its_gain_beyond_an_error_clustered_by_enterprise(monkeypatch):
    # 24 divisions of 125 enterprises, half at 3 %, half at 10 %: the optimiser's bins
    # rank them; three bins gain cross-fitted IV only within the noise of 3,000 enterprises
    rates = {f"d{i:02d}": (0.03 if i % 2 == 0 else 0.10) for i in range(24)}
    X, y, uscc = _division_panel(0, rates, 125)
    X_new, y_new, _ = _division_panel(100, rates, 125)
    kept = fit_scorecard(X, y, categorical=["division"], groups=uscc, options=CAPS)
    record = kept.iv_table.set_index("feature").loc["division"]
    assert record["n_bins"] > 6 and "at most" not in str(record["note"])
    # judged with a row-wise error (ten month ends as ten witnesses), a cap gets through
    # and holds out worse on new enterprises
    row_wise = lambda delta, y, w, groups: scorecard._cross_fitted_iv(delta, y, w)  # noqa: E731
    monkeypatch.setattr(scorecard, "_clustered_gain", row_wise)
    capped = fit_scorecard(X, y, categorical=["division"], groups=uscc, options=CAPS)
    assert "at most" in capped.iv_table.set_index("feature").loc["division", "note"]
    assert roc_auc_score(y_new, capped.pd(X_new)) < roc_auc_score(y_new, kept.pd(X_new))
