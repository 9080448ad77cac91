"""Results in: reconciliation, the results notice, the 20-working-day deadline, feedback."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from evaluation_data import draw_plan, make_codes

from workbench.demo import inspections as inspection_sim
from workbench.evaluation import calendar, feedback, reconciliation, results_notice
from workbench.workspace.folders import EvaluationFolder, IngestFolder

D = dt.date


# ----------------------------------------------------------------------------- calendar
def test_working_days_across_national_day_2026_counted_by_hand():
    # 2026: Mid-autumn 09-25..27, National Day 10-01..07; adjusted workdays Sun 09-20, Sat 10-10
    assert calendar.is_working_day("2026-10-10")  # a Saturday that is a workday (调休)
    assert calendar.is_working_day("2026-09-20")  # a Sunday that is a workday
    assert not calendar.is_working_day("2026-10-05")  # a Monday inside the holiday
    assert not calendar.is_working_day("2026-09-25")  # Friday, Mid-autumn
    # from Mon 09-28: 29(1) 30(2) | holiday | 10-08(3) 09(4) Sat 10(5) 12..16(6-10)
    # 19..23(11-15) 26..30(16-20)
    assert calendar.add_working_days("2026-09-28", 20) == D(2026, 10, 30)
    # from Fri 09-18: Sun 20(1) 21..24(2-5) | Mid-autumn | 28..30(6-8) | holiday |
    # 10-08(9) 09(10) Sat 10(11) 12..16(12-16) 19..22(17-20)
    assert calendar.add_working_days("2026-09-18", 20) == D(2026, 10, 22)
    assert calendar.working_days_between("2026-09-28", "2026-10-30") == 20
    assert calendar.working_days_between("2026-09-30", "2026-10-08") == 1
    assert calendar.add_working_days("2026-09-30", 0) == D(2026, 9, 30)


def test_deadline_flags_late_overdue_and_open():
    rows = pd.DataFrame(
        {
            "task_id": ["t1", "t2", "t3", "t4", "t5"],
            "inspected_on": pd.to_datetime(["2026-09-28"] * 4 + ["2026-09-18"]),
            "published_on": pd.to_datetime(["2026-10-30", "2026-11-02", None, None, None]),
        }
    )
    out = reconciliation.publication_deadlines(rows, as_of="2026-11-02")
    assert list(out["deadline"].dt.date) == [D(2026, 10, 30)] * 4 + [D(2026, 10, 22)]
    assert list(out["deadline_status"]) == ["on_time", "late", "overdue", "overdue", "overdue"]
    assert list(out["working_days"]) == [20, 21, 21, 21, 27]
    assert list(out["flagged"]) == [False, True, True, True, True]
    still = reconciliation.publication_deadlines(rows.iloc[2:4], as_of="2026-10-29")
    assert list(still["deadline_status"]) == ["open", "open"]
    # rows without their own date take the notice's date
    batch = reconciliation.publication_deadlines(rows.iloc[2:], published_on="2026-10-22")
    assert list(batch["deadline_status"]) == ["on_time", "on_time", "on_time"]


def test_a_year_the_calendar_does_not_know_is_a_clear_error():
    with pytest.raises(calendar.CalendarError, match=r"2027.*upgrade"):
        calendar.add_working_days("2026-12-20", 20)
    with pytest.raises(calendar.CalendarError, match="holiday schedule"):
        calendar.is_working_day("2031-05-01")


# ----------------------------------------------------------------------------- reconcile
@pytest.fixture(scope="module")
def plan():
    codes = make_codes(700, seed=5)
    grades = np.repeat(["A", "B", "C", "D"], [300, 250, 100, 50])
    population = pd.DataFrame({"uscc": codes[:700], "grade": grades, "stratum": grades})
    population["name"] = [f"企业{i}" for i in range(700)]
    tasks = draw_plan(population, {"A": 30, "B": 50, "C": 40, "D": 50}, plan_id="P1")
    return population, tasks


def _results_for(tasks, plan_id="P1"):
    return pd.DataFrame(
        {
            "uscc": tasks["uscc"],
            "inspected_on": pd.Timestamp("2026-10-12"),
            "result": np.where(np.arange(len(tasks)) % 4 == 0, "corrected", "no_problem"),
            "plan_id": plan_id,
            "task_id": tasks["task_id"],
        }
    )


def test_reconciliation_reports_missing_unknown_not_drawn_other_plan_and_duplicates(plan):
    population, tasks = plan
    good = _results_for(tasks.iloc[:160])  # the last 10 tasks never report back
    not_drawn_codes = sorted(set(population["uscc"]) - set(tasks["uscc"]))[:3]
    extra = pd.DataFrame(
        {
            "uscc": [
                tasks["uscc"].iat[0],  # unknown task id
                tasks["uscc"].iat[1],  # a second result for task 2 (later): duplicate
                not_drawn_codes[0],  # no task id, enterprise not drawn
                not_drawn_codes[1],  # task id of task 3, but another enterprise
                not_drawn_codes[2],  # another plan's result
                tasks["uscc"].iat[165],  # no task id, drawn: matched by enterprise
            ],
            "inspected_on": pd.to_datetime(["2026-10-13"] * 6),
            "result": ["no_problem", "corrected", "pending", "no_problem", "no_problem", "closed"],
            "plan_id": ["P1", "P1", None, "P1", "P0", None],
            "task_id": ["P1-T99999", tasks["task_id"].iat[1], None, tasks["task_id"].iat[2], "X",
                        None],
        }
    )  # fmt: skip
    rec = reconciliation.reconcile(tasks, pd.concat([good, extra], ignore_index=True))
    counts = rec.to_dict()["status_counts"]
    assert counts == {
        "matched": 161,
        "unknown_task": 1,
        "not_drawn": 2,
        "other_plan": 1,
        "duplicate": 1,
    }
    assert len(rec.matched) == 161 and len(rec.missing) == 9
    assert set(rec.missing["task_id"]) == set(tasks["task_id"].iloc[160:]) - {
        tasks["task_id"].iat[165]
    }
    report = rec.to_dict()
    assert report["unknown_task_ids"][0]["task_id"] == "P1-T99999"
    assert {r["uscc"] for r in report["not_drawn"]} == set(not_drawn_codes[:2])
    assert report["other_plan"][0]["plan_id"] == "P0"
    # the earlier inspection of task 2 counts, the later one is the duplicate
    second = rec.matched.set_index("task_id").loc[tasks["task_id"].iat[1]]
    assert second["inspected_on"] == pd.Timestamp("2026-10-12")
    # closed: no verdict, leaves the denominators
    by_code = rec.matched.set_index("uscc").loc[tasks["uscc"].iat[165]]
    assert by_code["result"] == "closed" and not by_code["verdict"] and not by_code["found"]
    # nothing dropped: every row read is accounted for
    assert sum(counts.values()) == len(good) + len(extra)


def test_results_file_read_by_contract_with_chinese_headers_and_quarantine(plan, tmp_path):
    population, tasks = plan
    rows = _results_for(tasks.iloc[:5])
    rows["result"] = ["未发现问题", "发现问题已责令改正", "不存在的结果", "正常", "注销"]
    rows["inspected_on"] = ["2026-10-12", "2026/10/13", "2026-10-14", "2026-02-30", "20261015"]
    rows["公示日期"] = ["2026-10-20", "", "", "", "2026-10-16"]
    frame = rows.rename(
        columns={"uscc": "统一社会信用代码", "inspected_on": "检查日期", "result": "检查结果",
                 "plan_id": "抽查计划编号", "task_id": "任务编号"}
    )  # fmt: skip
    path = tmp_path / "抽查检查结果.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    loaded = reconciliation.read_results(path, register=population["uscc"], as_of="2026-11-30")
    assert sorted(loaded.quarantine["quarantine_reason"]) == ["invalid_date", "unknown_code"]
    rec = reconciliation.reconcile(tasks, loaded)
    assert len(rec.matched) == 3 and rec.to_dict()["results_quarantined"] == 2
    assert list(rec.matched["result"]) == ["no_problem", "corrected", "deregistered"]
    assert rec.matched["published_on"].iloc[0] == pd.Timestamp("2026-10-20")
    assert pd.isna(rec.matched["published_on"].iloc[1])


def test_bad_task_lists_are_refused_with_the_reason(plan):
    _, tasks = plan
    with pytest.raises(ValueError, match="inclusion_probability"):
        reconciliation.check_tasks(tasks.drop(columns=["inclusion_probability"]))
    broken = tasks.copy()
    broken.loc[3, "inclusion_probability"] = 0.0
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        reconciliation.check_tasks(broken)
    twice = pd.concat([tasks, tasks.iloc[:1]])
    with pytest.raises(ValueError, match="repeats task id"):
        reconciliation.check_tasks(twice)
    with pytest.raises(ValueError, match="unknown result code"):
        reconciliation.reconcile(tasks, _results_for(tasks.iloc[:2]).assign(result="maybe"))


# ----------------------------------------------------------------------------- notice
def test_results_notice_is_whitelisted_and_covers_every_drawn_enterprise(plan, tmp_path):
    _, tasks = plan
    rows = _results_for(tasks.iloc[:150])
    rows.loc[0, "published_on"] = pd.Timestamp("2026-11-20")  # published late
    rec = reconciliation.reconcile(tasks, rows)
    notice, deadlines = results_notice.results_notice(rec, published_on="2026-10-23")
    assert list(notice.columns) == list(results_notice.NOTICE_COLUMNS.values())
    assert len(notice) == len(tasks) and notice["统一社会信用代码"].is_unique
    assert (notice["检查结果"] == results_notice.RESULT_NOT_YET).sum() == 20
    not_yet = results_notice.RESULT_NOT_YET
    assert set(notice["检查结果"]) == {"未发现问题", "发现问题已责令改正", not_yet}
    cells = set(notice.astype(str).to_numpy().ravel())
    assert not cells & set(tasks["stratum"]) and not cells & set(tasks["grade"])
    assert not cells & set(tasks["inclusion_probability"].astype(str))
    assert not cells & set(tasks["inspectors"])
    assert deadlines["deadline_status"].value_counts().to_dict() == {"on_time": 149, "late": 1}
    paths = results_notice.write_results_notice(notice, tmp_path / "public")
    text = paths[1].read_text(encoding="utf-8")
    assert "抽查检查结果公示" in text and "信用风险" not in text
    with pytest.raises(ValueError, match="may only hold"):
        results_notice.write_results_notice(notice.assign(等级="A"), tmp_path / "x")


# ----------------------------------------------------------------------------- feedback
def test_results_become_events_for_the_next_ingest(plan, tmp_path):
    _, tasks = plan
    rows = _results_for(tasks.iloc[:20]).assign(plan_id=None)  # the export left plan_id empty
    rec = reconciliation.reconcile(tasks, rows)
    events = feedback.inspection_events(rec)
    assert (events["plan_id"] == "P1").all() and events["found_problem"].sum() == 5
    folder = tmp_path / "evaluation" / "2026-09" / "P1"
    folder.mkdir(parents=True)
    events.to_parquet(EvaluationFolder(folder).file("results"))
    assert len(feedback.recorded_results("2026-10-11", tmp_path / "evaluation")) == 0
    stored = feedback.recorded_results("2026-10-31", tmp_path / "evaluation")
    assert len(stored) == 20 and list(stored.columns) == reconciliation.INSPECTION_COLUMNS
    ingested = stored.iloc[:5].copy()  # the bureau's own export already has five of them
    combined = feedback.with_recorded_results(ingested, "2026-10-31", tmp_path / "evaluation")
    assert len(combined) == 20 and combined.dtypes.equals(ingested.dtypes)


# ----------------------------------------------------------------------------- simulation
def test_simulated_results_follow_the_truth_and_the_seed(clean_city):
    truth = clean_city / "_truth"
    entities = pd.read_parquet(truth / "entities.parquet")
    exited = entities[pd.to_datetime(entities["exited_on"]) < "2026-06-01"].head(20)
    dormant = entities[
        (pd.to_datetime(entities["dormant_since"]) < "2026-06-01") & entities["exited_on"].isna()
    ].head(20)
    risk = pd.read_parquet(
        truth / "monthly_risk.parquet", filters=[("month", "==", D(2026, 6, 30))]
    )
    changed = (pd.to_datetime(entities["dormant_since"]) <= "2026-06-30") | (
        pd.to_datetime(entities["exited_on"]) <= "2026-06-30"
    )
    alive = risk[~risk["uscc"].isin(entities.loc[changed, "uscc"])]
    nc = alive[alive["non_compliant"]].head(60)
    ok = alive[~alive["non_compliant"]].head(100)
    population = pd.concat(
        [
            pd.DataFrame({"uscc": f["uscc"], "stratum": s})
            for f, s in ((exited, "X"), (dormant, "Z"), (nc, "N"), (ok, "O"))
        ]
    ).assign(grade="B", name="某企业")
    counts = population["stratum"].value_counts().to_dict()
    tasks = draw_plan(population, counts, window=("2026-06-01", "2026-06-30"))
    first = inspection_sim.simulate_results(tasks, truth, seed=4, missing_share=0.0)
    again = inspection_sim.simulate_results(tasks, truth, seed=4, missing_share=0.0)
    pd.testing.assert_frame_equal(first, again)
    by = first.merge(tasks[["task_id", "stratum"]], on="task_id").groupby("stratum")["result"]
    assert set(by.get_group("X")) == {"deregistered"}
    assert set(by.get_group("Z")) <= {"not_operating", "unreachable", "closed"}
    assert set(by.get_group("O")) <= {"no_problem", "corrected", "not_disclosed"}
    found_nc = by.get_group("N").map(lambda r: r != "no_problem").mean()
    assert 0.6 < found_nc < 0.95  # DETECT_INSPECTION 0.8 on 60 enterprises
    days = pd.to_datetime(first["inspected_on"])
    assert days.between("2026-06-01", "2026-06-30").all()
    assert days.map(calendar.is_working_day).all()
    assert (pd.to_datetime(first["published_on"]) > days).all()
    fewer = inspection_sim.simulate_results(tasks, truth, seed=4, missing_share=0.5)
    assert 0 < len(fewer) < len(tasks)


def test_deadlines_beyond_the_calendar_can_be_marked_instead_of_failing():
    rows = pd.DataFrame(
        {"inspected_on": pd.to_datetime(["2026-11-02", "2026-12-21"]), "published_on": pd.NaT}
    )
    marked = reconciliation.publication_deadlines(rows, as_of="2026-12-31", calendar_unknown="mark")
    assert list(marked["deadline_status"]) == ["overdue", "calendar_unknown"]
    assert marked["deadline"].iloc[0] == pd.Timestamp("2026-11-30")
    assert pd.isna(marked["calendar_note"].iloc[0])
    assert "2027" in marked["calendar_note"].iloc[1] and not marked["flagged"].iloc[1]
    with pytest.raises(calendar.CalendarError):
        reconciliation.publication_deadlines(rows, as_of="2026-12-31")


def test_stored_results_reach_the_next_ingest_as_a_feedback_folder(clean_city, tmp_path):
    from workbench.stages import ingest

    codes = pd.read_csv(clean_city / "enterprises.csv", dtype=str)["uscc"].head(30)
    population = pd.DataFrame({"uscc": codes, "grade": "B", "stratum": "B", "name": "某企业"})
    tasks = draw_plan(population, {"B": 30}, plan_id="P9")
    rows = _results_for(tasks, plan_id="P9")
    rows["inspected_on"] = pd.to_datetime(["2026-10-20"] * 20 + ["2026-11-03"] * 10)
    rec = reconciliation.reconcile(tasks, rows)
    store = tmp_path / "evaluation"
    (store / "2026-10" / "P9").mkdir(parents=True)
    feedback.inspection_events(rec).to_parquet(
        EvaluationFolder(store / "2026-10" / "P9").file("results")
    )
    folder = feedback.write_feedback("2026-10-31", tmp_path / "feedback", store)
    assert len(pd.read_parquet(folder / "inspections.parquet")) == 20  # not those of November
    assert feedback.write_feedback("2026-10-01", tmp_path / "none", store) is None
    report = ingest.run_ingest(clean_city, "2026-10-31", tmp_path / "ingest", [folder])
    entry = next(e for e in report["feedback"] if e["table"] == "inspections")
    assert entry["accepted"] == 20 and entry["quarantined"] == 0
    table = IngestFolder(tmp_path / "ingest").read_table("inspections")
    fed = table[table["plan_id"] == "P9"]
    assert len(fed) == 20 and fed["found_problem"].sum() == 5
