"""Learning without bias: 1/π weights make inspection-based rates unbiased, plain ones are not."""

import numpy as np
import pandas as pd
import pytest
from evaluation_data import grades_from_truth

from workbench.evaluation import weighting

REPETITIONS = 2000
SEED = 20261001


@pytest.fixture(scope="module")
def city_population(clean_city):
    """The small city's enterprises at 2026-09: grade, true non-compliance, complaint trigger."""
    truth = clean_city / "_truth"
    grades = grades_from_truth(truth, "2026-09-30")
    risk = pd.read_parquet(
        truth / "monthly_risk.parquet",
        filters=[("month", "==", pd.Timestamp("2026-09-30").date())],
    )
    frame = grades.merge(risk[["uscc", "non_compliant"]], on="uscc", validate="one_to_one")
    complaints = pd.read_csv(clean_city / "complaints.csv", dtype=str)
    recent = complaints[pd.to_datetime(complaints["received_on"]) > "2025-09-30"]
    frame["triggered"] = frame["uscc"].isin(recent["uscc"])  # 触发式: a complaint in 12 months
    split = frame["triggered"] & frame["grade"].isin(["A", "B"])  # π differs inside A and B
    frame["stratum"] = frame["grade"] + np.where(split, "-triggered", "")
    return frame


RATIOS = {"A": 0.03, "A-triggered": 0.5, "B": 0.05, "B-triggered": 0.5, "C": 0.3, "D": 1.0}


def test_weighted_rates_are_unbiased_where_unweighted_are_not(city_population):
    pop = city_population
    y = pop["non_compliant"].to_numpy(dtype=float)
    true_rate = pop.groupby("grade")["non_compliant"].mean().to_dict()
    true_rate["合计"] = y.mean()
    # triggered enterprises violate more: that is why π must vary inside grades A and B
    assert pop.loc[pop["triggered"], "non_compliant"].mean() > 3 * y.mean()
    rng = np.random.default_rng(SEED)
    strata = {h: np.flatnonzero(pop["stratum"].to_numpy() == h) for h in RATIOS}
    n_h = {h: max(2, round(RATIOS[h] * len(idx))) for h, idx in strata.items()}
    pi_h = {h: n_h[h] / len(strata[h]) for h in strata}
    grade = pop["grade"].to_numpy(dtype=object)
    pi_of = pop["stratum"].map(pi_h).to_numpy(dtype=float)
    weighted, plain = [], []
    for _ in range(REPETITIONS):
        drawn = np.concatenate(
            [rng.choice(idx, n_h[h], replace=False) for h, idx in strata.items()]
        )
        table = weighting.weighted_rate(y[drawn], pi_of[drawn], grade[drawn], order=list("ABCD"))
        weighted.append(table.set_index("group")["weighted_rate"])
        plain.append(table.set_index("group")["unweighted_rate"])
    weighted, plain = pd.DataFrame(weighted), pd.DataFrame(plain)
    truth = pd.Series(true_rate)[weighted.columns]
    mc_se = weighted.std(ddof=1) / np.sqrt(REPETITIONS)  # Monte-Carlo error of the mean
    bias_weighted = (weighted.mean() - truth).abs()
    bias_plain = (plain.mean() - truth).abs()
    # tolerance: 4 Monte-Carlo standard errors (and 1e-9 for strata observed in full)
    assert (bias_weighted <= 4 * mc_se + 1e-9).all(), pd.DataFrame(
        {"truth": truth, "weighted": weighted.mean(), "mc_se": mc_se}
    )
    # the unweighted mean misses by far more where π varies inside the group
    for group in ("A", "B", "合计"):
        assert bias_plain[group] > 10 * mc_se[group] + 0.005, (group, bias_plain[group])
        assert plain[group].mean() > truth[group]  # over-represents the risky ones
    # and where π is constant inside the group both are unbiased
    for group in ("C", "D"):
        assert bias_plain[group] <= 4 * mc_se[group] + 1e-9


def test_weights_and_their_errors():
    assert weighting.inclusion_weights([0.5, 0.25, 1.0]).tolist() == [2.0, 4.0, 1.0]
    for bad in ([0.0], [1.2], [np.nan], ["x"]):
        with pytest.raises(ValueError, match=r"must lie in \(0, 1\]"):
            weighting.inclusion_weights(bad)
    # hand example: found 1 of 2 at π=0.5 and 0 of 2 at π=0.1 → (1·2) / (2·2 + 2·10) = 1/12
    table = weighting.weighted_rate([1, 0, 0, 0], [0.5, 0.5, 0.1, 0.1], ["D", "D", "B", "B"])
    overall = table.set_index("group").loc["合计"]
    assert overall["weighted_rate"] == pytest.approx(2 / 24)
    assert overall["unweighted_rate"] == pytest.approx(0.25)
    assert overall["represented"] == pytest.approx(24)
    with pytest.raises(ValueError, match="4 outcomes but 3"):
        weighting.weighted_rate([1, 0, 0, 0], [0.5, 0.5, 0.1])


def test_training_weights_for_drawn_and_other_rows():
    frame = pd.DataFrame({"inclusion_probability": [0.5, 0.1, None, 1.0]})
    raw = weighting.training_weights(frame, normalise=False)
    assert raw.tolist() == [2.0, 10.0, 1.0, 1.0]
    scaled = weighting.training_weights(frame)
    assert scaled.mean() == pytest.approx(1.0) and scaled.iloc[1] / scaled.iloc[0] == 5
    with pytest.raises(ValueError, match="no column 'pi'"):
        weighting.training_weights(frame, probability_column="pi")


def test_inspection_sample_keeps_verdicts_with_their_weights():
    matched = pd.DataFrame(
        {
            "uscc": ["a", "b", "c"],
            "grade": ["A", "D", "D"],
            "stratum": ["A", "D", "D"],
            "inclusion_probability": [0.02, 1.0, 1.0],
            "verdict": [True, True, False],
            "found": [False, True, False],
        }
    )
    sample = weighting.inspection_sample(matched)
    assert sample["uscc"].tolist() == ["a", "b"]  # no verdict, no label
    assert sample["label"].tolist() == [0, 1]
    assert sample["sample_weight"].tolist() == pytest.approx([50 / 25.5, 1 / 25.5])


def test_panel_rows_get_the_probability_of_the_draws_in_their_label_window():
    from workbench.evaluation.weighting import attach_inclusion_probabilities, training_weights

    panel = pd.DataFrame(
        {
            "uscc": ["a", "a", "b", "c"],
            "snapshot": pd.to_datetime(["2025-01-31", "2024-01-31", "2025-01-31", "2025-01-31"]),
        }
    )
    draws = pd.DataFrame(
        {
            "uscc": ["a", "a", "b"],
            "snapshot": pd.to_datetime(["2025-06-30", "2025-09-30", "2026-01-31"]),
            "inclusion_probability": [0.1, 0.5, 0.3],
        }
    )
    out = attach_inclusion_probabilities(panel, draws, horizon_months=12)
    pi = out["inclusion_probability"].tolist()
    assert pi[0] == pytest.approx(1 - 0.9 * 0.5)  # two draws inside (2025-01, 2026-01]
    assert np.isnan(pi[1])  # both draws after its window
    assert np.isnan(pi[2])  # 2026-01-31 is the window's end: outside [s, s + 12 months)
    assert np.isnan(pi[3])  # never drawn
    weights = training_weights(out)
    raw = np.array([1 / 0.55, 1, 1, 1])
    assert weights.to_numpy() == pytest.approx(raw / raw.mean())


def test_training_uses_the_weights_when_the_panel_carries_them(tmp_path):
    from workbench.indicators import load_catalog
    from workbench.scoring.train import train_family

    rng = np.random.default_rng(5)
    snapshots = pd.to_datetime(
        [*pd.date_range("2022-01-31", periods=4, freq="ME"), "2023-06-30", "2023-07-31"]
    )
    n = 1500
    rows = []
    for s in snapshots:
        pen = rng.poisson(0.4, n)
        age = rng.exponential(80, n)
        y = rng.random(n) < 1 / (1 + np.exp(-(-2.2 + 0.8 * pen - 0.01 * age)))
        rows.append(
            pd.DataFrame(
                {
                    "uscc": [f"u{i}" for i in range(n)],
                    "snapshot": s,
                    "pen_36m": pen,
                    "age_months": age,
                    "label": y.astype(float),
                    "inclusion_probability": np.where(rng.random(n) < 0.1, 0.25, np.nan),
                }
            )
        )
    panel = pd.concat(rows, ignore_index=True)
    keep = ("pen_36m", "age_months")
    others = [i.id for i in load_catalog().all if i.id not in keep]
    path = tmp_path / "two.yaml"
    path.write_text(f"extends: generic\nretire: {others}\nindicators: []\n", encoding="utf-8")
    catalog = load_catalog(path)
    assert {i.id for i in catalog.all} == set(keep)
    weighted = train_family(
        panel, catalog, validation_from="2023-06-30", reference=False, embargo_months=12
    )
    plain = train_family(
        panel.drop(columns="inclusion_probability"),
        catalog,
        validation_from="2023-06-30",
        reference=False,
        embargo_months=12,
    )
    assert weighted.params["sample_weight"].startswith("1/π for ")
    assert plain.params["sample_weight"].startswith("none")
    assert not np.allclose(
        weighted.model.scorecard.scorecard.estimator_.coef_,
        plain.model.scorecard.scorecard.estimator_.coef_,
    )
