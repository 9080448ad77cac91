"""The sample stage on the small generated city: files, rules, confidentiality, replay.

The grade file is fabricated per the agreed interface (random scores) so that these tests
do not depend on the grading stage.
"""

import hashlib
import json
import math
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import papermill
import pytest

from workbench import workspace
from workbench.demo import synth
from workbench.errors import WorkbenchError
from workbench.sampling import inspectors
from workbench.sampling.design import TASK_COLUMNS
from workbench.sampling.notice import NOTICE_COLUMNS
from workbench.stages import ingest
from workbench.stages import sample as stage
from workbench.workspace import integrity

PLAN = """
id: test_plan
title: 测试抽查计划
seed: 99
departments: [平顶山市市场监督管理局]
items:
  - name: 企业公示信息情况检查
population: {population}
grades:
  A: {a}
  B: "2%"
  C: "10%"
  D: "30%"
triggers: {{days: 90}}
exclusions: {{same_item_months: {months}}}
inspectors: {{per_task: 2, max_tasks_each: {limit}}}
window: {{days: 30}}
{extra}
"""


def write_plan(
    folder,
    population="{}",
    a='{ratio: "100%", triggered_only: true}',
    months=12,
    limit=25,
    extra="",
):
    path = folder / "plan.yaml"
    path.write_text(
        PLAN.format(population=population, a=a, months=months, limit=limit, extra=extra),
        encoding="utf-8",
    )
    return path


def fabricate_grades(ingested, out, month="2026-10", seed=0):
    """A grade file per the interface: every active enterprise, random score, A–D by shares."""
    ent = pd.read_parquet(ingested / "tables" / "enterprises.parquet")
    ent = ent[ent["status"] == "active"].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    score = rng.normal(600, 50, len(ent))
    pd_ = 1 / (1 + np.exp((score - 520) / 30))
    rank = pd.Series(score).rank(ascending=False, method="first").to_numpy() / len(ent)
    grade = np.select([rank <= 0.48, rank <= 0.90, rank <= 0.96], ["A", "B", "C"], "D")
    snapshot = pd.Timestamp(month) + pd.offsets.MonthEnd(0)
    frame = pd.DataFrame(
        {
            "uscc": ent["uscc"],
            "name": ent["name"],
            "snapshot": snapshot,
            "entity_type": ent["entity_type"],
            "industry_section": ent["industry_section"],
            "region_code": ent["region_code"],
            "score": score.round(1),
            "pd": pd_,
            "model_grade": grade,
            "override_rule": pd.array([None] * len(ent), dtype="string"),
            "grade": grade,
            "observation": False,
            "reason_1": np.where(grade == "D", "近12个月被列入经营异常名录", "成立年限较长"),
            "reason_1_points": -12.5,
            "reason_2": "注册资本较高",
            "reason_2_points": 4.0,
            "reason_3": pd.array([None] * len(ent), dtype="string"),
            "reason_3_points": np.nan,
            "model_name": "workbench-generic",
            "model_version": "3",
            "run_id": "0123456789abcdef",
            "scheme": "national_4",
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out / "grades.parquet", index=False)
    summary = {
        "snapshot": month,
        "scheme": {
            "id": "national_4",
            "grades": ["A", "B", "C", "D"],
            "labels": {
                "A": "信用风险低",
                "B": "信用风险一般",
                "C": "信用风险较高",
                "D": "信用风险高",
            },
        },
        "enterprises": len(frame),
        "counts": {k: int(v) for k, v in frame["grade"].value_counts().items()},
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    integrity.write_manifest(out, {"month": month})  # stages use signed folders only
    return out


@pytest.fixture(scope="module")
def city(clean_city, tmp_path_factory):
    base = tmp_path_factory.mktemp("sampling")
    ingest.run_ingest(clean_city, synth.DEFAULT_END, base / "ingest")
    fabricate_grades(base / "ingest", base / "grades" / "2026-10")
    return base


@pytest.fixture
def isolated_history(tmp_path, monkeypatch):
    """Earlier months' task lists live in a private workspace for the test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return workspace.current().plans.root


@pytest.fixture(scope="module")
def drawn(city, tmp_path_factory):
    folder = tmp_path_factory.mktemp("drawn")
    plan = write_plan(folder)
    out = folder / "out"
    record = stage.run_sample(plan, city / "grades" / "2026-10", out, ingest_dir=city / "ingest")
    return plan, out, record


def test_stage_writes_the_agreed_files(city, drawn):
    plan, out, record = drawn
    for name in (
        "tasks.parquet",
        "tasks.csv",
        "strata.csv",
        "draw.json",
        "public/notice.csv",
        "public/notice.html",
    ):
        assert (out / name).is_file(), name
    tasks = pd.read_parquet(out / "tasks.parquet")
    assert tuple(tasks.columns) == TASK_COLUMNS
    assert tasks["task_id"].is_unique and tasks["draw_order"].tolist() == list(
        range(1, len(tasks) + 1)
    )
    assert (tasks["snapshot"] == pd.Timestamp("2026-10-31")).all()
    assert (tasks["window_start"] == pd.Timestamp("2026-11-01")).all()
    assert (tasks["window_end"] == pd.Timestamp("2026-11-30")).all()
    assert (tasks["seed"] == 99).all()
    csv = pd.read_csv(out / "tasks.csv", encoding="utf-8-sig", dtype=str)
    assert csv["task_id"].tolist() == tasks["task_id"].tolist()
    draw = json.loads((out / "draw.json").read_text(encoding="utf-8"))
    assert draw["plan"]["sha256"] == hashlib.sha256(plan.read_bytes()).hexdigest()
    register = city / "ingest" / "tables" / "enterprises.parquet"
    assert draw["register"]["sha256"] == hashlib.sha256(register.read_bytes()).hexdigest()
    assert draw["counts"]["tasks"] == len(tasks) == record["counts"]["tasks"]


def test_exact_counts_and_pi_per_grade(city, drawn):
    _, out, _ = drawn
    tasks = pd.read_parquet(out / "tasks.parquet")
    strata = pd.read_csv(out / "strata.csv", encoding="utf-8-sig").set_index("stratum")
    grades = pd.read_parquet(city / "grades" / "2026-10" / "grades.parquet")
    counts = grades["grade"].value_counts()
    for g, ratio in (("B", 0.02), ("C", 0.10), ("D", 0.30)):
        n_frame = strata.loc[g, "population"]
        assert strata.loc[g, "registered"] == counts[g]
        assert strata.loc[g, "drawn"] == math.ceil(round(ratio * n_frame, 9))
        assert (tasks["grade"] == g).sum() == strata.loc[g, "drawn"]
        assert (
            tasks.loc[tasks["grade"] == g, "inclusion_probability"]
            == strata.loc[g, "drawn"] / n_frame
        ).all()
    # A: only the triggered, all of them (100 %), π = 1 over the triggered sub-population
    a = tasks[tasks["grade"] == "A"]
    assert len(a) == strata.loc["A", "population"] > 0
    assert strata.loc["A", "not_triggered"] > 0.9 * counts["A"]
    assert a["trigger"].notna().all() and (a["inclusion_probability"] == 1.0).all()
    assert tasks.loc[tasks["grade"] != "A", "trigger"].isna().all()
    assert strata["expected_findings"].sum() > strata["uniform_expected_findings"].sum()


def test_inspector_rules_hold_on_the_real_registers(city, drawn):
    _, out, _ = drawn
    tasks = pd.read_parquet(out / "tasks.parquet")
    reg = pd.read_parquet(city / "ingest" / "tables" / "inspectors.parquet").set_index(
        "inspector_id"
    )
    conflicts = pd.read_parquet(city / "ingest" / "tables" / "conflicts.parquet")
    barred = set(zip(conflicts["uscc"], conflicts["inspector_id"], strict=True))
    for row in tasks.itertuples():
        ids = row.inspectors.split(";")
        assert len(set(ids)) == 2
        for i in ids:
            assert reg.loc[i, "active"] and reg.loc[i, "department"].startswith(
                "平顶山市市场监督管理局"
            )
            assert row.item in reg.loc[i, "items"].split(";")
            assert (row.uscc, i) not in barred
        names = row.inspector_names.split(";")
        assert names == [reg.loc[i, "name"] for i in ids]
    assert tasks["inspectors"].str.split(";").explode().value_counts().max() <= 25


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self._in = [], False

    def handle_starttag(self, tag, attrs):
        self._in = tag in ("td", "th")
        if self._in:
            self.cells.append("")

    def handle_endtag(self, tag):
        self._in = False

    def handle_data(self, data):
        if self._in:
            self.cells[-1] += data


def _text_forms(value) -> set[str]:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return set()
    forms = {str(value)}
    if isinstance(value, float | np.floating):
        forms |= {f"{value:g}", f"{value:.1f}", f"{value:.2f}", f"{value:.4f}", repr(float(value))}
    if isinstance(value, pd.Timestamp):
        forms.add(str(value.date()))
    return {f for f in forms if f}


def confidential_leaks(grades, tasks, notice, html) -> list[str]:
    """Every grade-file column (but uscc, name) and internal task column found in a notice.

    Values are compared as whole cells (a letter A inside a company name is no leak), in
    the text forms a number or date could take.
    """
    parser = _Cells()
    parser.feed(html)
    headers = set(NOTICE_COLUMNS.values()) | {"抽查计划名称"}
    leaks = [f"header {c}" for c in notice.columns if c not in headers]
    leaks += [f"html header {c}" for c in parser.cells[: len(notice.columns)] if c not in headers]
    cells = set(notice.to_numpy().ravel()) | set(parser.cells)
    for col in grades.columns:
        if col in {"uscc", "name"}:  # the only grade-file columns a notice may show
            continue
        if col in notice.columns or re.search(rf"\b{re.escape(col)}\b", html):
            leaks.append(f"column {col}")
        values = set().union(*(_text_forms(v) for v in grades[col].unique()))
        if values & cells:
            leaks.append(f"{col}: {sorted(values & cells)[:3]}")
    for col in (
        "grade",
        "stratum",
        "inclusion_probability",
        "trigger",
        "inspectors",
        "inspector_names",
        "draw_order",
    ):
        values = set().union(*(_text_forms(v) for v in tasks[col].unique()))
        if values & cells:
            leaks.append(f"task {col}")
    return leaks


def read_notice(out):
    notice = pd.read_csv(out / "public" / "notice.csv", encoding="utf-8-sig", dtype=str)
    return notice, (out / "public" / "notice.html").read_text(encoding="utf-8")


def test_public_notice_contains_nothing_confidential(city, drawn):
    _, out, _ = drawn
    grades = pd.read_parquet(city / "grades" / "2026-10" / "grades.parquet")
    tasks = pd.read_parquet(out / "tasks.parquet")
    notice, html = read_notice(out)
    assert confidential_leaks(grades, tasks, notice, html) == []
    # the notice lists exactly the drawn enterprises, not in draw order
    assert sorted(notice["统一社会信用代码"]) == sorted(tasks["uscc"])
    assert notice["统一社会信用代码"].tolist() == sorted(notice["统一社会信用代码"])
    assert "内部" not in html and "随机种子" not in html


def test_the_leak_check_catches_a_grade_or_a_pd(city, drawn):
    _, out, _ = drawn
    grades = pd.read_parquet(city / "grades" / "2026-10" / "grades.parquet")
    tasks = pd.read_parquet(out / "tasks.parquet")
    notice, html = read_notice(out)
    by_uscc = grades.set_index("uscc")
    bad = notice.assign(备注=notice["统一社会信用代码"].map(by_uscc["grade"]))
    assert "grade: ['A', 'B', 'C']" in confidential_leaks(grades, tasks, bad, html)
    first = notice["统一社会信用代码"].iloc[0]
    leaked_pd = f"{by_uscc.loc[first, 'pd']:.4f}"
    bad_html = html.replace("</tbody>", f"<tr><td>{leaked_pd}</td></tr></tbody>")
    assert any(x.startswith("pd:") for x in confidential_leaks(grades, tasks, notice, bad_html))
    bad_html = html.replace("<th>企业名称</th>", "<th>企业名称</th><th>score</th>")
    assert "column score" in confidential_leaks(grades, tasks, notice, bad_html)


def test_replay_is_byte_for_byte_and_detects_changes(city, drawn, tmp_path):
    plan, out, _ = drawn
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    result = stage.run_sample(
        plan, city / "grades" / "2026-10", copy, replay=True, ingest_dir=city / "ingest"
    )
    assert result["replay"] == "identical"
    assert "tasks.parquet" in result["files"] and "public/notice.html" in result["files"]
    # an edited task list: the first differing file and row are named
    lines = (copy / "tasks.csv").read_text(encoding="utf-8-sig").splitlines()
    lines[3] = lines[3].replace("企业公示信息情况检查", "价格行为检查")
    (copy / "tasks.csv").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(stage.ReplayMismatch, match=r"^tasks\.csv: row 3: recorded"):
        stage.run_sample(
            plan, city / "grades" / "2026-10", copy, replay=True, ingest_dir=city / "ingest"
        )
    # a changed grade file: the draw differs and the changed input is named
    grades = tmp_path / "grades" / "2026-10"
    shutil.copytree(city / "grades" / "2026-10", grades)
    frame = pd.read_parquet(grades / "grades.parquet")
    tasks = pd.read_parquet(out / "tasks.parquet")
    moved = tasks.loc[tasks["grade"] != "D", "uscc"].iloc[0]
    frame.loc[frame["uscc"] == moved, "grade"] = "D"
    frame.to_parquet(grades / "grades.parquet", index=False)
    with pytest.raises(
        stage.ReplayMismatch, match=r"inputs changed since the recorded draw: grades"
    ):
        stage.run_sample(plan, grades, out, replay=True, ingest_dir=city / "ingest")
    with pytest.raises(stage.SamplingError, match="nothing recorded"):
        stage.run_sample(
            plan,
            city / "grades" / "2026-10",
            tmp_path / "none",
            replay=True,
            ingest_dir=city / "ingest",
        )


def test_next_month_excludes_the_last_inspectors_and_recent_tasks(city, tmp_path, isolated_history):
    few = "{entity_types: [partnership, foreign_invested, sole_proprietorship]}"
    plan = write_plan(tmp_path, population=few, a='"100%"', months=0, limit=30)
    plan = plan.rename(tmp_path / "all.yaml")
    plan.write_text(
        plan.read_text(encoding="utf-8")
        .replace('"2%"', '"100%"')
        .replace('"10%"', '"100%"')
        .replace('"30%"', '"100%"'),
        encoding="utf-8",
    )
    sept = fabricate_grades(city / "ingest", tmp_path / "grades" / "2026-09", month="2026-09")
    first = stage.run_sample(plan, sept, ingest_dir=city / "ingest")
    assert first["out"] == str(isolated_history / "2026-09" / "test_plan")
    before = pd.read_parquet(isolated_history / "2026-09" / "test_plan" / "tasks.parquet")
    assert len(before) == first["counts"]["population"] > 20  # full coverage
    octo = stage.run_sample(plan, city / "grades" / "2026-10", ingest_dir=city / "ingest")
    after = pd.read_parquet(isolated_history / "2026-10" / "test_plan" / "tasks.parquet")
    assert octo["inputs"]["earlier_task_lists"][0]["file"] == "2026-09/test_plan/tasks.parquet"
    last = dict(zip(before["uscc"], before["inspectors"].str.split(";"), strict=True))
    for u, ids in zip(after["uscc"], after["inspectors"].str.split(";"), strict=True):
        assert not set(ids) & set(last[u]), u
    # with the 12-month exclusion, September's tasks keep everyone out in October
    again = write_plan(tmp_path, population=few, months=12, limit=30)
    result = stage.run_sample(
        again, city / "grades" / "2026-10", tmp_path / "o2", ingest_dir=city / "ingest"
    )
    assert result["counts"]["excluded"] == result["counts"]["population"]
    assert result["counts"]["tasks"] == 0
    assert pd.read_parquet(tmp_path / "o2" / "tasks.parquet").empty
    assert len(pd.read_csv(tmp_path / "o2" / "public" / "notice.csv", encoding="utf-8-sig")) == 0


@pytest.mark.parametrize("preset", ["demo_monthly", "henan_2021"])
def test_presets_run_on_the_small_city(city, tmp_path, preset):
    """The notebook's default plan must also work on the test session's small city."""
    if preset == "henan_2021":  # county bureaus only: too few inspectors in a 3,000 city
        with pytest.raises(inspectors.InfeasiblePlan, match="covering region|qualified active"):
            stage.run_sample(
                preset, city / "grades" / "2026-10", tmp_path / "o", ingest_dir=city / "ingest"
            )
        return
    record = stage.run_sample(
        preset, city / "grades" / "2026-10", tmp_path / "o", ingest_dir=city / "ingest"
    )
    assert record["counts"]["tasks"] > 10
    assert "平顶山市市场监督管理局信用监管科" in record["counts"]["by_department"]
    assert any("no inspector of the register" in w for w in record["warnings"])


def test_region_strata_and_hit_rates(city, tmp_path):
    extra = "strata: {by_region: true}\nexpected_rates: hit_rate"
    plan = write_plan(tmp_path, a='"5%"', limit=40, extra=extra)
    stage.run_sample(plan, city / "grades" / "2026-10", tmp_path / "o", ingest_dir=city / "ingest")
    strata = pd.read_csv(
        tmp_path / "o" / "strata.csv", encoding="utf-8-sig", dtype={"region_code": str}
    )
    tasks = pd.read_parquet(tmp_path / "o" / "tasks.parquet")
    assert (strata["stratum"] == strata["grade"] + "/" + strata["region_code"]).all()
    assert strata["grade"].tolist() == sorted(strata["grade"])  # grade order, then region
    assert set(strata["rate_source"]) <= {"hit_rate", "pd"}
    per = tasks.groupby("stratum").size()
    for row in strata.itertuples():
        assert (
            per.get(row.stratum, 0)
            == row.drawn
            == min(row.population, math.ceil(round(row.ratio * row.population, 9)))
        )


def test_infeasible_plan_is_refused_and_writes_nothing(city, tmp_path):
    plan = write_plan(tmp_path, limit=2)
    with pytest.raises(
        inspectors.InfeasiblePlan, match=r"qualified inspectors for \d+ tasks at most 2 each"
    ):
        stage.run_sample(
            plan, city / "grades" / "2026-10", tmp_path / "out", ingest_dir=city / "ingest"
        )
    assert not (tmp_path / "out").exists()


def test_budget_proposal_applied_draws_its_counts(city, tmp_path):
    extra = 'budget: {inspections: 80, overall_floor: "3%", floors: {B: "1%"}, apply: true}'
    plan = write_plan(tmp_path, a='"1%"', extra=extra)
    record = stage.run_sample(
        plan, city / "grades" / "2026-10", tmp_path / "out", ingest_dir=city / "ingest"
    )
    budget = pd.read_csv(tmp_path / "out" / "budget.csv", encoding="utf-8-sig").set_index("grade")
    strata = pd.read_csv(tmp_path / "out" / "strata.csv", encoding="utf-8-sig").set_index("stratum")
    assert (strata["drawn"] == budget["drawn"]).all()
    assert budget["drawn"].sum() <= 80
    assert budget["drawn"].sum() >= math.ceil(0.03 * record["counts"]["population"])
    assert budget["expected_findings"].sum() > budget["uniform_expected_findings"].sum()


def test_no_grades_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    with pytest.raises(WorkbenchError, match="no grades under .*workbench grade"):
        stage.resolve(stage.Parameters(plan="demo_monthly"))


def test_notebook_runs_by_papermill(city, tmp_path):
    executed = tmp_path / "05_sample.ipynb"
    papermill.execute_notebook(
        str(workspace.notebooks_dir() / "05_sample.ipynb"),
        str(executed),
        parameters={
            "grades": str(city / "grades" / "2026-10"),
            "data": str(city / "ingest"),
            "out": str(tmp_path / "out"),
            "plan": str(write_plan(tmp_path)),
            "show_only": False,
        },
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    nb = json.loads(executed.read_text(encoding="utf-8"))
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    assert [o for o in outputs if o["output_type"] == "error"] == []
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3  # counts, expected findings, workload
    assert (tmp_path / "out" / "public" / "notice.html").is_file()


def test_a_relative_plan_file_runs_through_the_notebook_and_replays(
    city, tmp_path, monkeypatch, capsys
):
    """README: relative paths are taken from where the command runs, notebook or not; the
    printed replay command is one that works."""
    import shlex

    from workbench import cli

    monkeypatch.chdir(tmp_path)
    write_plan(tmp_path)
    grades, data = city / "grades" / "2026-10", city / "ingest"
    common = ["--grades", str(grades), "--data", str(data), "--out", "drawn"]
    assert cli.main(["sample", "plan.yaml", *common]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    hint = next(line for line in printed.splitlines() if "replay it with:" in line)
    command = shlex.split(hint.split("replay it with: ", 1)[1])
    assert command[:2] == ["workbench", "sample"] and command[2] == str(tmp_path / "plan.yaml")
    monkeypatch.chdir(city)  # the printed command works from anywhere, as printed
    assert cli.main(command[1:]) == 0
    assert "identical, byte for byte" in capsys.readouterr().out
