"""How well sampling worked: hand-computed Wilson / Horvitz–Thompson figures, the stage."""

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from evaluation_data import draw_plan, grades_from_truth, private_home, write_grades, write_plan

from workbench import workspace
from workbench.errors import WorkbenchError
from workbench.evaluation import estimators as evaluate
from workbench.evaluation import results_notice
from workbench.stages import evaluate as evaluate_stage

Z = 1.959963984540054


def _wilson(found, n, z=Z):
    """Wilson score interval written out (the textbook formula)."""
    p = found / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def _two_strata(closed_in_b=0):
    """Stratum B1: N=100, 10 inspected, 3 found; stratum D1: N=20, 10 inspected, 6 found."""
    rows = []
    for i in range(10):
        rows.append(("B1", "B", 0.1, i < 3, True))
    for i in range(10):
        rows.append(("D1", "D", 0.5, i < 6, True))
    for i in range(closed_in_b):
        rows[9 - i] = ("B1", "B", 0.1, False, False)  # closed: no verdict
    tasks = pd.DataFrame(rows, columns=["stratum", "grade", "inclusion_probability", "f", "v"])
    tasks["task_id"] = [f"T{i}" for i in range(len(tasks))]
    matched = tasks.rename(columns={"f": "found", "v": "verdict"})
    return tasks, matched


def test_wilson_and_horvitz_thompson_against_hand_computed_values():
    tasks, matched = _two_strata()
    strata = evaluate.stratum_table(tasks)
    assert strata.set_index("stratum")["population"].to_dict() == {"B1": 100, "D1": 20}
    table = evaluate.per_grade(matched, tasks, strata, ["A", "B", "C", "D"]).set_index("grade")
    # hit rate of B: 3 of 10 → Wilson by hand
    low, high = _wilson(3, 10)
    assert table.at["B", "hit_rate"] == pytest.approx(0.3)
    assert (table.at["B", "hit_low"], table.at["B", "hit_high"]) == pytest.approx((low, high))
    assert (low, high) == pytest.approx((0.1078, 0.6032), abs=1e-4)  # the published table
    # HT overall: (100·0.3 + 20·0.6) / 120
    assert table.at["合计", "est_rate"] == pytest.approx(42 / 120)
    # the Bernoulli model's variance within each stratum: p(1 − p), no finite-population
    # correction — (N_h/N)² p_h(1 − p_h) / m_h summed
    s2_b, s2_d = 0.3 * 0.7, 0.6 * 0.4
    var = (100 / 120) ** 2 * s2_b / 10 + (20 / 120) ** 2 * s2_d / 10
    assert var == pytest.approx(0.01525, abs=1e-7)
    assert table.at["合计", "est_se"] == pytest.approx(math.sqrt(var))
    assert table.at["B", "est_se"] == pytest.approx(math.sqrt(s2_b / 10))
    assert table.at["D", "est_se"] == pytest.approx(math.sqrt(s2_d / 10))
    # a grade of one stratum: Wilson at the effective size p(1-p)/V = 10, the hit rate's
    assert (table.at["B", "est_low"], table.at["B", "est_high"]) == pytest.approx((low, high))
    n_eff = 0.35 * 0.65 / var
    assert (table.at["合计", "est_low"], table.at["合计", "est_high"]) == pytest.approx(
        _wilson(0.35 * n_eff, n_eff)
    )
    # every estimate says what it covers: the frame, 120 enterprises here
    assert (table["estimate_covers"] == evaluate.FRAME).all()
    assert table.at["合计", "frame_population"] == 120 and table.at["B", "frame_population"] == 100
    # grades without inspections stay empty, not zero, and say why
    assert table.at["A", "drawn"] == 0 and np.isnan(table.at["A", "est_rate"])
    assert table.at["A", "est_note"] == evaluate.INSUFFICIENT
    assert table.at["B", "share_of_inspections"] == pytest.approx(0.5)


def test_lift_over_uniform_against_hand_computed_values():
    tasks, matched = _two_strata()
    lift = evaluate.lift_over_uniform(matched, evaluate.stratum_table(tasks))
    plan, uniform = (10 * 0.3 + 10 * 0.6) / 20, (100 * 0.3 + 20 * 0.6) / 120
    # the lift's variances: binomial at the adjusted rates (y + 1)/(m + 2), no FPC
    p_b, p_d = 4 / 12, 7 / 12
    v_b, v_d = p_b * (1 - p_b) / 10, p_d * (1 - p_d) / 10
    a, b = (0.5, 0.5), (100 / 120, 20 / 120)
    var_diff = (a[0] - b[0]) ** 2 * v_b + (a[1] - b[1]) ** 2 * v_d
    assert lift["plan_per_inspection"] == pytest.approx(0.45)
    assert lift["frame_population"] == 120 and "eligible frame" in lift["baseline"]
    assert lift["uniform_per_inspection"]["value"] == pytest.approx(uniform)
    assert lift["uniform_expected_found"]["value"] == pytest.approx(20 * uniform)
    assert lift["extra_found"]["value"] == pytest.approx(20 * (plan - uniform))
    assert lift["extra_found"]["se"] == pytest.approx(20 * math.sqrt(var_diff))
    var_a = a[0] ** 2 * v_b + a[1] ** 2 * v_d
    var_b = b[0] ** 2 * v_b + b[1] ** 2 * v_d
    cov = a[0] * b[0] * v_b + a[1] * b[1] * v_d
    ratio = plan / uniform
    se = math.sqrt(var_a - 2 * ratio * cov + ratio**2 * var_b) / uniform
    assert lift["lift"]["value"] == pytest.approx(9 / 7)
    assert lift["lift"]["se"] == pytest.approx(se)
    assert lift["lift"]["low"] == pytest.approx(ratio * math.exp(-Z * se / ratio))
    assert lift["lift"]["high"] == pytest.approx(ratio * math.exp(Z * se / ratio))


def test_one_finding_in_24_inspections_claims_no_lift():
    """The issue's small city: the lift was '14.58 (14.58–14.58)'; now 样本不足."""
    rows = [("A1", "A", 1.0, False, True)] * 6 + [("D1", "D", 1.0, i == 0, True) for i in range(18)]
    tasks = pd.DataFrame(rows, columns=["stratum", "grade", "inclusion_probability", "f", "v"])
    tasks["task_id"] = [f"T{i}" for i in range(len(tasks))]
    matched = tasks.rename(columns={"f": "found", "v": "verdict"})
    strata = evaluate.stratum_table(tasks)
    lift = evaluate.lift_over_uniform(matched, strata)
    assert lift["lift"]["note"] == evaluate.INSUFFICIENT
    assert lift["lift"]["low"] is None and lift["lift"]["high"] is None
    table = evaluate.per_grade(matched, tasks, strata, ["A", "D"]).set_index("grade")
    # fully drawn strata, one of them without any finding: intervals of real width
    assert table.at["A", "est_rate"] == 0 and table.at["A", "est_high"] > 0.2
    for grade in ("A", "D", "合计"):
        assert table.at[grade, "est_high"] - table.at[grade, "est_low"] > 0.05, grade


def test_no_verdict_results_leave_the_denominator_and_enter_the_variance():
    tasks, matched = _two_strata(closed_in_b=2)  # B1: 3 found, 5 no problem, 2 closed
    table = evaluate.per_grade(matched, tasks, evaluate.stratum_table(tasks), ["B", "D"]).set_index(
        "grade"
    )
    assert table.at["B", "with_verdict"] == 8 and table.at["B", "no_verdict"] == 2
    assert table.at["B", "hit_rate"] == pytest.approx(3 / 8)
    assert table.at["B", "est_rate"] == pytest.approx(0.375)
    assert table.at["B", "est_no_verdict_share"] == pytest.approx(0.2)
    # linearised u = (y − 0.375 v) / 80: three of 0.625/80, five of −0.375/80, two of 0
    u = np.array([0.625] * 3 + [-0.375] * 5 + [0] * 2) / 80
    s2 = np.sum((u - u.mean()) ** 2) / 10  # the Bernoulli model's: divisor m
    assert table.at["B", "est_se"] == pytest.approx(math.sqrt(100**2 * s2 / 10))


def test_full_coverage_stratum_keeps_its_sampling_error():
    """π = 1 tells who was inspected, not their expected finding rate: no zero width."""
    tasks, matched = _two_strata()
    tasks.loc[tasks["stratum"] == "D1", "inclusion_probability"] = 1.0
    table = evaluate.per_grade(matched, tasks, evaluate.stratum_table(tasks), ["B", "D"]).set_index(
        "grade"
    )
    assert table.at["D", "est_se"] == pytest.approx(math.sqrt(0.6 * 0.4 / 10))
    assert (table.at["D", "est_low"], table.at["D", "est_high"]) == pytest.approx(_wilson(6, 10))


def test_uneven_probabilities_inside_a_stratum_are_refused():
    tasks, _ = _two_strata()
    tasks.loc[0, "inclusion_probability"] = 0.2
    with pytest.raises(ValueError, match="differ inside stratum B1"):
        evaluate.stratum_table(tasks)
    strata = pd.DataFrame({"stratum": ["B1", "D1"], "population": [100, 25]})
    with pytest.raises(ValueError, match="stratum D1: population 25"):
        evaluate.stratum_table(_two_strata()[0], strata)


# ----------------------------------------------------------------------------- the stage
MONTH = "2026-09"


@pytest.fixture(scope="module")
def home(clean_city, tmp_path_factory):
    with private_home(tmp_path_factory.mktemp("evaluate-home"), clean_city):
        yield


@pytest.fixture(scope="module")
def evaluated(clean_city, home):
    """Grades from the small city's truth, a plan drawn from them, results simulated."""
    grades = grades_from_truth(clean_city / "_truth", "2026-09-30")
    write_grades(MONTH, grades)
    rng = np.random.default_rng(8)
    population = grades.assign(stratum=grades["grade"])
    a = population["grade"] == "A"
    triggered = a & (rng.random(len(population)) < 0.05)
    population.loc[triggered, "stratum"] = "A-triggered"
    population.loc[triggered, "trigger"] = "投诉举报"
    frame = population[~a | triggered]  # 无事不扰: untriggered A are outside the frame
    counts = frame["stratum"].value_counts()
    drawn = {
        "A-triggered": int(counts["A-triggered"]) // 2,
        "B": round(0.05 * counts["B"]),
        "C": round(0.3 * counts["C"]),
        "D": int(counts["D"]),
    }
    tasks = draw_plan(frame, drawn, plan_id="SSJ-TEST-2026-09", snapshot="2026-09-30")
    plan_dir = write_plan(MONTH, tasks)
    params = evaluate_stage.resolve(evaluate_stage.Parameters(month=MONTH, seed=3, provider="demo"))
    summary = evaluate_stage.run_evaluation(params)
    return params, summary, tasks, grades, plan_dir


def test_stage_writes_every_output(evaluated):
    params, summary, tasks, grades, _ = evaluated
    out = Path(params.out)
    assert out == workspace.data_dir() / "evaluation" / MONTH / "SSJ-TEST-2026-09"
    for name in (
        "results.parquet", "reconciliation.json", "reconciliation.csv", "per_grade.csv",
        "per_stratum.csv", "summary.json", "deadlines.csv", "training_sample.parquet",
        "public/results_notice.csv", "public/results_notice.html", "charts/hit_rate.png",
        "charts/estimates.png", "charts/calibration.png", "charts/lift.png",
    ):  # fmt: skip
        assert (out / name).is_file(), name
    assert summary["results_source"] == "supplied by the demo provider"
    assert summary["drawn"] == len(tasks)
    assert summary["inspected"] + summary["tasks_without_result"] == len(tasks)
    rec = json.loads((out / "reconciliation.json").read_text(encoding="utf-8"))
    assert rec["tasks_without_result"] == summary["tasks_without_result"]
    notice = pd.read_csv(out / "public/results_notice.csv", encoding="utf-8-sig", dtype=str)
    assert list(notice.columns) == list(results_notice.NOTICE_COLUMNS.values())
    assert len(notice) == len(tasks)
    public = set(notice.to_numpy().ravel().astype(str))
    assert not public & set(tasks["stratum"]) and not public & set(grades["grade"])
    events = pd.read_parquet(out / "results.parquet")
    assert len(events) == summary["inspected"] and (events["plan_id"] == params.plan).all()


def test_stage_figures_hold_together(evaluated):
    params, summary, tasks, grades, _ = evaluated
    table = pd.read_csv(Path(params.out) / "per_grade.csv", encoding="utf-8-sig")
    table = table.set_index("grade")
    assert list(table.index) == ["A", "B", "C", "D", "合计"]
    assert table.loc[["A", "B", "C", "D"], "drawn"].sum() == len(tasks)
    # only triggered A were in the frame: coverage says so; D was drawn in full
    assert table.at["A", "coverage"] < 0.2 and table.at["D", "coverage"] == pytest.approx(1)
    # D is drawn in full: its interval still has the width its inspections support
    d = table.loc["D"]
    assert d["est_low"] < d["est_rate"] < d["est_high"]
    assert d["est_se"] == pytest.approx(
        math.sqrt(d["est_rate"] * (1 - d["est_rate"]) / d["with_verdict"]), rel=0.05
    )
    assert (table["estimate_covers"] == evaluate.FRAME).all()
    assert table.at["合计", "graded"] == len(grades)
    rate = summary["population_rate"]
    assert rate["covers"] == evaluate.FRAME and rate["graded_population"] == len(grades)
    assert rate["frame_population"] == pytest.approx(table.at["合计", "frame_population"])
    assert summary["share_on_lowest_grade"] == pytest.approx(
        table.at["A", "inspected"] / table.at["合计", "inspected"]
    )
    lift = summary["lift"]
    assert lift["lift"]["value"] > 1 and lift["lift"]["low"] < lift["lift"]["value"]
    oracle = summary["oracle"]
    assert oracle["oracle_expected"] >= oracle["true_risk_expected"] >= 0
    assert oracle["oracle_expected"] >= oracle["plan_expected"] > 0
    # a hand-made plan has no plan file to redo it with: the same-plan figures say so
    assert "same_plan_expected" not in oracle and oracle["same_plan_note"]
    d = summary["deadline"]
    assert d["on_time"] + d["late"] + d["overdue"] + d["open"] == summary["inspected"]


def _clean_results(tasks: pd.DataFrame, n: int) -> pd.DataFrame:
    """A bureau's results file for the first ``n`` tasks: inspected, nothing found."""
    return pd.DataFrame(
        {
            "统一社会信用代码": tasks["uscc"].iloc[:n],
            "检查日期": "2026-10-12",
            "检查结果": "未发现问题",
            "任务编号": tasks["task_id"].iloc[:n],
        }
    )


def test_explicit_results_file_and_its_errors(evaluated, tmp_path):
    params, _, tasks, _, _ = evaluated
    with pytest.raises(WorkbenchError, match="does not exist"):
        evaluate_stage.resolve(
            evaluate_stage.Parameters(month=MONTH, results=str(tmp_path / "no.csv"))
        )
    with pytest.raises(WorkbenchError, match="unknown provider 'maybe'; installed: demo"):
        evaluate_stage.resolve(evaluate_stage.Parameters(month=MONTH, provider="maybe"))
    with pytest.raises(WorkbenchError, match="plans of 2026-09: SSJ-TEST-2026-09"):
        evaluate_stage.resolve(evaluate_stage.Parameters(month=MONTH, plan="NOPE"))
    path = tmp_path / "inspections.csv"
    _clean_results(tasks, 40).to_csv(path, index=False, encoding="utf-8-sig")
    out = tmp_path / "eval"
    p = evaluate_stage.resolve(
        evaluate_stage.Parameters(month=MONTH, results=str(path), out=str(out))
    )
    summary = evaluate_stage.run_evaluation(p, charts=False)
    assert summary["inspected"] == 40 and summary["found"] == 0
    assert summary["tasks_without_result"] == len(tasks) - 40


def test_evaluate_notebook_runs_by_papermill(evaluated, tmp_path):
    import papermill

    params = evaluated[0]
    executed = tmp_path / "06_evaluate.ipynb"
    papermill.execute_notebook(
        str(workspace.notebooks_dir() / "06_evaluate.ipynb"),
        str(executed),
        parameters={"month": MONTH, "plan": params.plan},
        kernel_name="python3",
        progress_bar=False,
    )
    text = executed.read_text(encoding="utf-8")
    assert "各等级抽查检出率" in text and "image/png" in text


def test_a_plan_with_two_items_is_evaluated_per_enterprise():
    tasks, _ = _two_strata()
    tasks["uscc"] = [f"E{i}" for i in range(len(tasks))]
    two = pd.concat([tasks.assign(item="甲"), tasks.assign(item="乙")], ignore_index=True)
    two["task_id"] = two["task_id"] + "-" + two["item"]
    # item 甲 carries the findings of _two_strata; item 乙 finds a problem in E5 as well
    matched = two.rename(columns={"f": "found", "v": "verdict"})
    matched.loc[(matched["item"] == "乙"), "found"] = False
    matched.loc[(matched["item"] == "乙") & (matched["uscc"] == "E5"), "found"] = True
    strata = evaluate.stratum_table(two)
    assert strata.set_index("stratum")["drawn"].to_dict() == {"B1": 10, "D1": 10}
    table = evaluate.per_grade(matched, two, strata, ["B", "D"]).set_index("grade")
    assert table.at["B", "drawn"] == 10 and table.at["B", "inspected"] == 10
    assert table.at["B", "found"] == 4  # E0–E2 by 甲, E5 by 乙: four enterprises
    assert table.at["合计", "est_rate"] == pytest.approx((100 * 0.4 + 20 * 0.6) / 120)
    moved = two.copy()
    moved.loc[0, "stratum"] = "D1"
    with pytest.raises(ValueError, match="drawn in several strata"):
        evaluate.stratum_table(moved)


# ----------------------------------------------------------------- calibrated expectations
def test_expected_rates_are_calibrated_on_past_results_weighted_by_pi():
    """Two past draws: B at π = 0.1 (1 finding in 4), D at π = 0.5 (2 in 4)."""
    from workbench.evaluation import weighting
    from workbench.sampling import budget

    tasks = pd.DataFrame(
        {
            "task_id": [f"T{i}" for i in range(8)],
            "plan_id": "P",
            "snapshot": pd.Timestamp("2026-08-31"),
            "uscc": [f"E{i}" for i in range(8)],
            "grade": ["B"] * 4 + ["D"] * 4,
            "inclusion_probability": [0.1] * 4 + [0.5] * 4,
        }
    )
    results = pd.DataFrame(
        {
            "task_id": [f"T{i}" for i in range(8)] + ["OTHER"],
            "inspected_on": pd.Timestamp("2026-09-15"),
            # E3 closed (no verdict): an inspection that found nothing
            "found_problem": pd.array(
                [True, False, False, None, True, True, False, False, True], dtype="boolean"
            ),
        }
    )
    rates = weighting.calibrated_finding_rates(results, tasks, "2026-09-30")
    assert rates.loc["B", "rate"] == pytest.approx(0.25) and rates.loc["B", "represented"] == 40
    assert rates.loc["D", "rate"] == pytest.approx(0.5) and rates.loc["D", "inspected"] == 4
    # a mixed group shows why 1/π matters: unweighted 3 of 8, weighted (10 + 4) / 48
    pooled = weighting.calibrated_finding_rates(results, tasks.assign(grade="X"), "2026-09-30")
    assert pooled.loc["X", "rate"] == pytest.approx(14 / 48)
    # nothing after the snapshot, nothing from before the window
    assert weighting.calibrated_finding_rates(results, tasks, "2026-09-14").empty
    grades = pd.DataFrame({"uscc": ["E0", "E4"], "grade": ["B", "D"], "pd": [0.01, 0.2]})
    hits = budget.rates_from_hits(
        grades, results, pd.Timestamp("2026-09-30"), min_verdicts=4, tasks=tasks
    )
    assert hits.loc["B", "source"] == "hit_rate" and hits.loc["B", "rate"] == pytest.approx(0.25)
    thin = budget.rates_from_hits(
        grades, results, pd.Timestamp("2026-09-30"), min_verdicts=5, tasks=tasks
    )
    assert (thin["source"] == "pd").all() and thin.loc["D", "rate"] == pytest.approx(0.2)


def test_same_plan_oracle_grades_by_true_risk_with_the_models_shares():
    from workbench.demo import oracle
    from workbench.sampling.plan import GradeRule

    model = pd.Series(["A", "A", "B", "B", "B", "D"])
    risk = pd.Series([0.9, 0.1, 0.2, 0.3, 0.05, 0.01])
    perfect = oracle.true_risk_grades(model, risk, ["A", "B", "C", "D"])
    assert perfect.tolist() == ["D", "B", "B", "B", "A", "A"]
    rules = {
        "A": GradeRule(Fraction(1), triggered_only=True),
        "B": GradeRule(Fraction(1, 3)),
        "D": GradeRule(Fraction(1)),
    }
    q = np.array([0.8, 0.1, 0.2, 0.3, 0.05, 0.4])
    excluded = np.array([False, False, False, False, False, True])
    triggered = np.array([True, False, False, False, True, False])
    out = oracle.expected_under_plan(model, q, excluded, triggered, rules)
    # A: only the triggered one (0.8) in full; B: 1 of its 3; D: excluded
    assert out["drawn"] == 2 and out["frame"] == 4
    assert out["expected"] == pytest.approx(0.8 + (0.2 + 0.3 + 0.05) / 3)
    assert out["frame_mean"] == pytest.approx((0.8 + 0.2 + 0.3 + 0.05) / 4)
    best = oracle.expected_under_plan(perfect, q, excluded, triggered, rules)
    # D: the riskiest (0.8); B: 1 of 3 (mean 0.2); A: the triggered one (0.05)
    assert best["expected"] == pytest.approx(0.8 + 0.2 + 0.05)


def test_results_without_a_valid_row_are_one_line_and_leave_the_evaluation(
    evaluated, tmp_path, capsys
):
    """A header only, or only invalid rows: exit 2, one line, the quarantine kept, nothing
    of the earlier evaluation changed."""
    from workbench import cli

    params = evaluated[0]
    before = {p: p.read_bytes() for p in Path(params.out).rglob("*") if p.is_file()}
    header = "统一社会信用代码,检查日期,检查结果,任务编号\n"
    empty = tmp_path / "hdr.csv"
    empty.write_text(header, encoding="utf-8")
    invalid = tmp_path / "bad.csv"
    invalid.write_text(header + "9122,2025-08-32,未知,X\n", encoding="utf-8")
    for path, expected in ((empty, "has no result rows"), (invalid, "none of its 1 rows")):
        args = ["evaluate", "--month", MONTH, "--results", str(path), "--no-notebook"]
        assert cli.main(args) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and expected in err, err
        assert "Traceback" not in err and "dtype" not in err
    kept = sorted((workspace.current().report_months.at(MONTH).runs).glob("*-quarantine.csv"))
    assert kept and str(kept[-1]) in err
    rows = pd.read_csv(kept[-1], encoding="utf-8-sig", dtype=str)
    assert len(rows) == 1 and rows["quarantine_reason"].notna().all()
    after = {p: p.read_bytes() for p in Path(params.out).rglob("*") if p.is_file()}
    assert after == before


def test_valid_and_invalid_results_together_quarantine_the_invalid(evaluated, tmp_path):
    tasks = evaluated[2]
    path = tmp_path / "mixed.csv"
    rows = _clean_results(tasks, 5)
    rows.loc[len(rows)] = ["9122", "2025-08-32", "未知", "X"]
    rows.to_csv(path, index=False, encoding="utf-8-sig")
    out = tmp_path / "eval"
    p = evaluate_stage.resolve(
        evaluate_stage.Parameters(month=MONTH, results=str(path), out=str(out))
    )
    summary = evaluate_stage.run_evaluation(p, charts=False)
    assert summary["inspected"] == 5 and summary["results_quarantined"] == 1
    quarantine = pd.read_csv(out / "quarantine.csv", encoding="utf-8-sig", dtype=str)
    assert len(quarantine) == 1 and quarantine["quarantine_reason"].notna().all()


def test_reconcile_without_a_matched_row_keeps_boolean_verdicts():
    """Mapping an empty string column keeps its string dtype: verdict must still be bool."""
    from workbench.evaluation import reconciliation

    tasks, _ = _two_strata()
    tasks["uscc"] = [f"E{i}" for i in range(len(tasks))]
    tasks["plan_id"] = "P"
    results = pd.DataFrame(
        {
            "uscc": pd.Series(["X1"], dtype="string"),
            "inspected_on": ["2026-10-12"],
            "result": pd.Series(["no_problem"], dtype="string"),
        }
    )
    rec = reconciliation.reconcile(tasks, results)
    assert rec.matched.empty and rec.matched["verdict"].dtype == bool
    assert rec.matched["found"].dtype == bool


def test_published_on_before_the_inspections_is_refused_and_counts_read_well(evaluated, tmp_path):
    params, summary, tasks, _, _ = evaluated
    path = tmp_path / "inspections.csv"
    _clean_results(tasks, 3).to_csv(path, index=False, encoding="utf-8-sig")
    early = evaluate_stage.Parameters(
        month=MONTH, results=str(path), out=str(tmp_path / "e"), published_on="2026-10-01"
    )
    with pytest.raises(WorkbenchError, match="before the last inspection .2026-10-12."):
        evaluate_stage.run_evaluation(evaluate_stage.resolve(early), charts=False)
    assert not (tmp_path / "e").exists()
    one = {**summary, "tasks_without_result": 1}
    line = evaluate_stage.describe(params, one)[0]
    assert "1 task without a result" in line and "tasks" not in line.split("without")[0][-8:]
