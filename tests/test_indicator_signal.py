"""On the 100k demo city the generic indicators carry real signal, and it is the truth's."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from workbench.demo import synth
from workbench.indicators import Engine, load_catalog
from workbench.indicators.signal import information_value, iv_table
from workbench.scoring import labels
from workbench.scoring.panel import latest_labelled_snapshot

DATA_SNAPSHOT = synth.DEFAULT_END


@pytest.fixture(scope="module")
def labelled(city_100k):
    base = city_100k
    definition = labels.load_label_definition()
    snapshot = latest_labelled_snapshot(DATA_SNAPSHOT, definition)
    catalog = load_catalog()
    with Engine(base / "ingest" / "tables") as engine:
        matrix = engine.compute(snapshot, catalog)
        target = labels.compute_labels(engine, snapshot, definition, DATA_SNAPSHOT)
    frame = matrix.merge(target, on="uscc")
    risk = pd.read_parquet(base / "city" / "_truth" / "monthly_risk.parquet")
    risk["month"] = pd.to_datetime(risk["month"])
    window = risk[
        (risk["month"] > snapshot) & (risk["month"] <= snapshot + pd.DateOffset(months=12))
    ]
    # true probability of at least one violation in the label window: 1 − Π(1 − p)
    log_none = np.log1p(-window["p_violation"].astype(float)).groupby(window["uscc"]).sum()
    frame = frame.join((1 - np.exp(log_none)).rename("true_risk"), on="uscc")
    return frame, catalog


def test_several_indicators_carry_signal(labelled):
    frame, catalog = labelled
    table = iv_table(frame, frame["label"], catalog)
    strong = table[table["IV"] > 0.1]
    assert len(strong) >= 5, table.head(10)
    assert {"监管信息", "社会评价"} <= set(strong["维度"])


def test_the_truth_explains_the_label(labelled):
    frame, _ = labelled
    known = frame[frame["label"].notna()]
    assert roc_auc_score(known["label"], known["true_risk"].fillna(0)) > 0.7


def test_true_risk_correlates_with_the_strongest_indicators(labelled):
    frame, catalog = labelled
    table = iv_table(frame, frame["label"], catalog)
    numeric = [i for i in table["指标"] if not catalog.get(i).categorical][:5]
    for rank, ind_id in enumerate(numeric):
        rho = frame[ind_id].corr(frame["true_risk"], method="spearman")
        sign = {"increasing": 1, "decreasing": -1}.get(catalog.get(ind_id).direction, 0)
        assert sign != 0, ind_id
        assert sign * rho > (0.1 if rank == 0 else 0.05), (ind_id, rho)


def test_information_value_by_hand():
    # two bins: x=0 has 90 good / 10 bad, x=1 has 10 good / 10 bad (+0.5 each)
    x = pd.Series([0] * 100 + [1] * 20)
    y = pd.Series([0] * 90 + [1] * 10 + [0] * 10 + [1] * 10)
    good = np.array([90.5, 10.5]) / 101
    bad = np.array([10.5, 10.5]) / 21
    expected = float(((bad - good) * np.log(bad / good)).sum())
    assert information_value(x, y) == pytest.approx(expected)
    assert information_value(pd.Series([1] * 120), y) == pytest.approx(0.0)
