"""Model comparison (模型对比): two logged runs, one page, checked in headless Chromium."""

import re

import numpy as np
import pandas as pd
import pytest

from workbench import config, governance
from workbench.governance import compare
from workbench.reporting import browser
from workbench.scoring.grades import load_schemes
from workbench.scoring.model import GradingModel
from workbench.scoring.scorecard import fit_scorecard
from workbench.views.compare import SECTIONS

pytestmark = [
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]
PASSING = {
    "valid_auc": 0.74,
    "valid_ks": 0.36,
    "psi_score": 0.03,
    "grades_monotone": 1,
    "max_feature_missing_share": 0.06,
}


@pytest.fixture(scope="module")
def frame():
    """Synthetic enterprises with a known logistic truth (3,000 rows)."""
    rng = np.random.default_rng(5)
    n = 3000
    age = rng.exponential(60, n)
    penalties = rng.poisson(0.3, n).astype("int64")
    kind = rng.choice(["company", "individual_business"], n, p=[0.4, 0.6])
    logit = -2.3 - 0.015 * age + 0.9 * penalties + np.where(kind == "company", -0.6, 0)
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"age": age, "penalties": penalties, "kind": kind, "label": label})


def _model(frame, features, categorical=()):
    scorecard = fit_scorecard(frame[features], frame["label"], categorical=list(categorical))
    scheme = load_schemes()["national_4"].calibrate(scorecard.score(frame), scorecard.pd(frame))
    return GradingModel("cmp", scorecard, scheme, catalog_fingerprint="sha256:test")


def _log(model, frame, run_name=None):
    return governance.log_training_run(
        model,
        params={"scheme": "national_4"},
        metrics=PASSING,
        artifacts=None,
        input_example=frame.head(5),
        run_name=run_name,
    )


def test_compare_two_runs_writes_a_chinese_page_without_script(frame, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.delenv(governance.URI_VARIABLE, raising=False)
    monkeypatch.delenv(config.CONF_ENV, raising=False)
    champion = _log(_model(frame, ["age", "penalties"]), frame)
    assert governance.promote(champion.run_id).promoted  # gate verdicts become tags
    # a hostile run name must reach the page as text, never as markup
    challenger = _log(
        _model(frame, ["age", "penalties", "kind"], ["kind"]),
        frame,
        run_name="<script>alert(1)</script>",
    )
    page = compare.compare(
        champion.run_id,
        challenger.run_id,
        frame,
        month_frame=frame.drop(columns="label"),
        month="2026-09",
        out=tmp_path / "compare.html",
        n_bootstrap=50,
    )
    dom = browser.dump_dom(page)
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in dom
    assert '<html lang="zh-CN">' in dom and "内部参考，不对外公开" in dom
    assert "<script" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "B 新增" in dom  # kind: added by the challenger
    assert re.search(r"<td>auc_min</td>\s*<td>passed: valid_auc", dom)
    assert dom.count("data:image/png;base64,") == 1  # the ROC and KS overlays, inline

    # the page is logged to both runs
    with governance.store() as client:
        for run_id in (champion.run_id, challenger.run_id):
            logged = {a.path for a in client.list_artifacts(run_id, "compare")}
            assert logged == {"compare/compare.html"}


def test_paired_intervals_cover_the_estimates(frame):
    label = frame["label"].to_numpy()
    strong = frame["penalties"].to_numpy() - frame["age"].to_numpy() / 60
    weak = strong + np.random.default_rng(1).normal(0, 3, len(frame))
    table = compare.discrimination(label, weak, strong, n=60)
    assert set(table["指标"]) == {"AUC", "KS"} and len(table) == 6
    assert (table["下限"] <= table["估计"]).all() and (table["估计"] <= table["上限"]).all()
    gain = table[(table["指标"] == "AUC") & (table["模型"] == "B − A")].iloc[0]
    assert gain["下限"] > 0  # the less noisy model is better on the same rows


def test_rows_without_a_model_indicator_are_refused(frame, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.delenv(governance.URI_VARIABLE, raising=False)
    run = _log(_model(frame, ["age", "penalties"]), frame)
    with pytest.raises(compare.CompareError, match="lack indicators penalties"):
        compare.compare(run.run_id, run.run_id, frame.drop(columns="penalties"), log=False)
    with pytest.raises(compare.CompareError, match="cannot be compared"):
        compare.compare(run.run_id, "deadbeef", frame, log=False)
