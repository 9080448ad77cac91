"""Double-random sampling, unit level: plans, the draw, π, budget, inspectors, notice.

Small hand-made frames; expected numbers computed by hand or by the documented procedure.
"""

import hashlib
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.sampling import budget, draw, inspectors, notice, plan, population
from workbench.sampling.plan import GradeRule, Item, Plan, PlanError, Triggers

SNAP = pd.Timestamp("2026-10-31")


def make_plan(**overrides) -> Plan:
    base = dict(
        id="t",
        title="测试计划",
        seed=7,
        departments=("甲局",),
        items=(Item("企业公示信息情况检查", ("甲局",)),),
        grades={g: GradeRule(Fraction(1, 10)) for g in "ABCD"},
    )
    base.update(overrides)
    return Plan(**base)


def uscc_list(n, prefix="U"):
    return [f"{prefix}{i:06d}" for i in range(n)]


def frame_of(sizes: dict[str, int]) -> pd.DataFrame:
    rows = []
    for grade, n in sizes.items():
        rows += [(u, grade) for u in uscc_list(n, prefix=f"9{grade}")]
    f = pd.DataFrame(rows, columns=["uscc", "grade"])
    f["stratum"] = f["grade"]
    f["eligible"] = True
    return f


# ---------------------------------------------------------------------------- plans


def write_plan(tmp_path, text: str):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
id: p1
title: 测试
seed: 5
departments: [甲局, 乙局]
items:
  - name: 企业公示信息情况检查
  - {name: 价格行为检查, departments: [乙局]}
grades:
  A: {ratio: "100%", triggered_only: true, max: 10}
  B: 0.07
  C: "10%"
  D: {ratio: 1, min: 3}
"""


def test_plan_loads_with_exact_ratios(tmp_path):
    p = plan.load_plan(write_plan(tmp_path, GOOD))
    assert p.grades["B"].ratio == Fraction(7, 100)  # exact, not 0.07000000000000001
    assert p.grades["B"].count(100) == 7  # float 0.07 * 100 would ceil to 8
    assert p.grades["A"].triggered_only and p.grades["A"].max == 10
    assert p.items[0].departments == ("甲局", "乙局") and p.items[1].departments == ("乙局",)
    assert p.inspectors_per_task == 2 and len(p.sha256) == 64


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("seed: 5", "seed: -1"), "field 'seed' is -1"),
        (("id: p1", "id: 'a b'"), "field 'id' is 'a b'"),
        (('C: "10%"', 'C: "110%"'), "field 'grades.C.ratio' is '110%'"),
        (("B: 0.07", "B: {ratio: 0.07, often: 2}"), "grades.B' has unknown key(s) often"),
        (("seed: 5", "seed: 5\ncolour: red"), "unknown key(s) colour"),
        (("departments: [乙局]}", "departments: [丙局]}"), "names 丙局, not among the plan's"),
        (("seed: 5", "seed: 5\ninspectors: {per_task: 1}"), "at least 2"),
        (("seed: 5", "seed: 5\npopulation: {entity_types: [bank]}"), "allowed: company"),
        (("seed: 5", "seed: 5\nwindow: {start: 2026-12-01, end: 2026-11-01}"), "before"),
        (("D: {ratio: 1, min: 3}", "D: {ratio: 1, min: 3, max: 2}"), "below 'min' 3"),
        (("seed: 5", "seed: 5\nexpected_rates: truth"), "allowed: pd, hit_rate"),
    ],
)
def test_plan_errors_name_file_and_field(tmp_path, change, message):
    path = write_plan(tmp_path, GOOD.replace(*change))
    with pytest.raises(PlanError) as err:
        plan.load_plan(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_plan_must_cover_the_scheme_grades(tmp_path):
    p = plan.load_plan(write_plan(tmp_path, GOOD))
    with pytest.raises(
        PlanError, match="no rule for grade.s. E; the grade scheme has A, B, C, D, E"
    ):
        p.check_grades(["A", "B", "C", "D", "E"])


def test_packaged_presets_load_with_the_practice_ratios():
    presets = plan.packaged_plans()
    assert {"henan_2021", "bayannur", "demo_monthly"} <= set(presets)
    henan = plan.load_plan("henan_2021")
    assert {g: r.ratio for g, r in henan.grades.items()} == {
        "A": Fraction(1, 100),
        "B": Fraction(2, 100),
        "C": Fraction(10, 100),
        "D": Fraction(30, 100),
    }
    bayannur = plan.load_plan("bayannur")
    assert [bayannur.grades[g].ratio for g in "ABCD"] == [
        Fraction(2, 100),
        Fraction(5, 100),
        1,
        1,
    ]
    demo = plan.load_plan("demo_monthly")
    assert demo.grades["A"].triggered_only
    assert demo.items[0].name == "企业公示信息情况检查"


# ---------------------------------------------------------------------------- the draw


def test_exact_counts_per_grade_and_pi():
    f = frame_of({"A": 1000, "B": 1001, "C": 37, "D": 5})
    rules = {
        "A": GradeRule(Fraction(3, 100)),  # 30
        "B": GradeRule(Fraction(3, 100)),  # ceil(30.03) = 31
        "C": GradeRule(Fraction(1, 10), min=8),  # ceil(3.7) = 4 → min 8
        "D": GradeRule(Fraction(1, 10), min=8),  # min above N → all 5, π = 1
    }
    counts = draw.stratum_counts(f, rules, list("ABCD"))
    assert counts["drawn"].tolist() == [30, 31, 8, 5]
    assert counts["inclusion_probability"].tolist() == [30 / 1000, 31 / 1001, 8 / 37, 1.0]
    drawn = draw.draw(f, counts, seed=1, plan_id="t", month="2026-10")
    assert drawn.groupby("grade").size().to_dict() == {"A": 30, "B": 31, "C": 8, "D": 5}
    assert drawn["draw_order"].tolist() == list(range(1, 75))
    assert drawn["uscc"].is_unique
    capped = draw.stratum_counts(f, {**rules, "A": GradeRule(Fraction(1, 2), max=12)}, list("ABCD"))
    assert capped.loc[0, "drawn"] == 12 and capped.loc[0, "inclusion_probability"] == 12 / 1000


def test_the_draw_follows_the_documented_procedure():
    """Anyone can redo the draw with hashlib alone, from the module docstring."""
    f = frame_of({"B": 50, "D": 20})
    counts = draw.stratum_counts(
        f, {"B": GradeRule(Fraction(1, 10)), "D": GradeRule(Fraction(1, 4))}, ["B", "D"]
    )
    got = draw.draw(f, counts, seed=42, plan_id="p", month="2026-10")

    def key(text):
        return hashlib.sha256(text.encode()).hexdigest()

    expected = []
    for stratum, n in (("B", 5), ("D", 5)):
        members = f.loc[f["stratum"] == stratum, "uscc"]
        expected += sorted(members, key=lambda u, s=stratum: key(f"42|p|2026-10|{s}|{u}"))[:n]
    expected.sort(key=lambda u: key(f"42|p|2026-10|draw-order|{u}"))
    assert got["uscc"].tolist() == expected


def test_inclusion_probabilities_confirmed_by_repeated_draws():
    """500 draws with seeds 0..499: each enterprise's inclusion frequency matches π.

    Tolerance: per stratum, the chi-square statistic of the inclusion counts (scaled for
    the fixed sample size) has p > 0.001, and no enterprise deviates by more than 4.5
    binomial standard deviations.
    """
    f = frame_of({"A": 40, "B": 60, "C": 25})
    rules = {
        "A": GradeRule(Fraction(1, 20)),
        "B": GradeRule(Fraction(1, 4)),
        "C": GradeRule(Fraction(2, 5)),
    }
    counts = draw.stratum_counts(f, rules, ["A", "B", "C"])
    pi = dict(zip(counts["stratum"], counts["inclusion_probability"], strict=True))
    runs = 500
    hits = pd.Series(0, index=f["uscc"])
    for seed in range(runs):
        got = draw.draw(f, counts, seed=seed, plan_id="stat", month="2026-10")
        hits[got["uscc"]] += 1
    for stratum, group in f.groupby("stratum"):
        p = pi[stratum]
        c = hits[group["uscc"]].to_numpy()
        n_h = len(c)
        assert c.sum() == runs * counts.set_index("stratum").loc[stratum, "drawn"]
        var = runs * p * (1 - p)
        statistic = ((c - runs * p) ** 2).sum() / var * (n_h - 1) / n_h
        assert stats.chi2.sf(statistic, n_h - 1) > 0.001, stratum
        assert np.abs(c - runs * p).max() < 4.5 * math.sqrt(var), stratum


def test_different_seeds_and_months_draw_differently():
    f = frame_of({"B": 1000})
    counts = draw.stratum_counts(f, {"B": GradeRule(Fraction(1, 10))}, ["B"])
    a = set(draw.draw(f, counts, 1, "p", "2026-10")["uscc"])
    b = set(draw.draw(f, counts, 2, "p", "2026-10")["uscc"])
    c = set(draw.draw(f, counts, 1, "p", "2026-11")["uscc"])
    assert a == set(draw.draw(f, counts, 1, "p", "2026-10")["uscc"])
    assert len(a & b) < 25 and len(a & c) < 25  # independent draws overlap ~10


def test_key_order_breaks_128_bit_ties_by_the_full_digest():
    words = np.array([[1, 2, 9, 9], [1, 2, 3, 4], [0, 5, 0, 0]], dtype=np.uint64)
    assert draw.key_order(words).tolist() == [2, 1, 0]


# ------------------------------------------------------------------ frame and triggers


def grade_rows(spec):
    rows = [
        {
            "uscc": u,
            "name": f"企业{u}",
            "grade": g,
            "pd": p,
            "entity_type": "company",
            "industry_section": "F",
            "region_code": "410402",
        }
        for u, g, p in spec
    ]
    return pd.DataFrame(rows)


def test_a_enters_only_when_triggered():
    g = grade_rows(
        [
            ("A1", "A", 0.01),  # complaint 10 days ago → triggered
            ("A2", "A", 0.01),  # complaint 200 days ago → too old
            ("A3", "A", 0.01),  # penalty 30 days ago → data alert
            ("A4", "A", 0.01),  # complaint after the snapshot → not known yet
            ("A5", "A", 0.01),  # nothing
            ("A6", "A", 0.01),  # referral
            ("B1", "B", 0.1),
            ("B2", "B", 0.1),
        ]
    )
    tables = {
        "complaints": pd.DataFrame(
            {
                "uscc": ["A1", "A2", "A4", "B1"],
                "received_on": pd.to_datetime(
                    ["2026-10-21", "2026-04-14", "2026-11-02", "2026-10-01"]
                ),
            }
        ),
        "penalties": pd.DataFrame({"uscc": ["A3"], "decided_on": pd.to_datetime(["2026-10-01"])}),
        "referrals": pd.DataFrame({"uscc": ["A6"], "referred_on": pd.to_datetime(["2026-09-30"])}),
    }
    p = make_plan(
        grades={
            "A": GradeRule(Fraction(1), triggered_only=True),
            "B": GradeRule(Fraction(1)),
        },
        triggers=Triggers(days=90),
    )
    f = population.build_frame(g, p, SNAP, tables)
    eligible = set(f.loc[f["eligible"], "uscc"])
    assert eligible == {"A1", "A3", "A6", "B1", "B2"}
    trig = dict(zip(f["uscc"], f["trigger"], strict=True))
    assert trig["A1"] == "投诉举报 2026-10-21"
    assert trig["A3"] == "行政处罚 2026-10-01"
    assert trig["A6"] == "转办移送 2026-09-30"
    assert pd.isna(trig["B1"])  # the trigger column is for trigger-only grades
    counts = draw.stratum_counts(f, p.grades, ["A", "B"])
    assert counts.set_index("stratum").loc["A", "population"] == 3  # π refers to triggered A
    drawn = draw.draw(f, counts, 1, "t", "2026-10")
    assert set(drawn.loc[drawn["grade"] == "A", "uscc"]) == {"A1", "A3", "A6"}
    no_alerts = make_plan(grades=p.grades, triggers=Triggers(days=90, data_alerts=False))
    f2 = population.build_frame(g, no_alerts, SNAP, tables)
    assert set(f2.loc[f2["eligible"] & (f2["grade"] == "A"), "uscc"]) == {"A1", "A6"}


def test_recently_inspected_for_the_same_item_is_excluded():
    g = grade_rows([(u, "B", 0.1) for u in ("E1", "E2", "E3", "E4", "E5")])
    inspections = pd.DataFrame(
        {
            "uscc": ["E1", "E2", "E3"],
            "inspected_on": pd.to_datetime(["2026-03-01", "2026-03-01", "2025-09-30"]),
            "item": ["企业公示信息情况检查", "价格行为检查", "企业公示信息情况检查"],
        }
    )
    earlier = pd.DataFrame(
        {
            "uscc": ["E4"],
            "item": ["企业公示信息情况检查"],
            "window_start": pd.to_datetime(["2026-08-01"]),
        }
    )
    p = make_plan(grades={"B": GradeRule(Fraction(1))})
    f = population.build_frame(g, p, SNAP, {"inspections": inspections}, earlier)
    assert set(f.loc[f["excluded"], "uscc"]) == {"E1", "E4"}  # E2 other item, E3 > 12 months
    none = make_plan(grades={"B": GradeRule(Fraction(1))}, same_item_months=0)
    assert not population.build_frame(g, none, SNAP, {"inspections": inspections})["excluded"].any()


def test_population_filters():
    g = grade_rows([("X1", "B", 0.1), ("X2", "B", 0.1), ("X3", "B", 0.1)])
    g.loc[1, "entity_type"] = "individual_business"
    g.loc[2, "region_code"] = "410482"
    keep = population.population_mask(
        g, plan.Population(exclude_entity_types=("individual_business",), regions=("41040",)), SNAP
    )
    assert keep.tolist() == [True, False, False]


def test_professional_domain_by_licence_or_industry():
    g = grade_rows([("F1", "B", 0.1), ("F2", "B", 0.1), ("F3", "B", 0.1), ("F4", "B", 0.1)])
    register = pd.DataFrame(
        {"uscc": ["F1", "F2", "F3", "F4"], "industry_code": ["H6210", "F5191", "F5191", "C1391"]}
    )
    licenses = pd.DataFrame(
        {
            "uscc": ["F2", "F3"],
            "license_type": ["food_business", "food_business"],
            "granted_on": pd.to_datetime(["2020-01-01", "2020-01-01"]),
            "revoked_on": pd.to_datetime(["NaT", "2026-05-01"]),
        }
    )
    keep = population.population_mask(
        g, plan.Population(domain="food"), SNAP, register=register, licenses=licenses
    )
    # F1 restaurant (H62), F2 food licence, F3 licence revoked, F4 starch maker (C13)
    assert keep.tolist() == [True, True, False, True]


def test_strata_by_region():
    g = grade_rows([(f"R{i}", "B", 0.1) for i in range(30)])
    g.loc[:9, "region_code"] = "410421"
    p = make_plan(grades={"B": GradeRule(Fraction(1, 4))}, by_region=True)
    f = population.build_frame(g, p, SNAP, {})
    counts = draw.stratum_counts(f, p.grades, ["B"])
    assert counts[["stratum", "population", "drawn"]].values.tolist() == [
        ["B/410402", 20, 5],
        ["B/410421", 10, 3],
    ]
    drawn = draw.draw(f, counts, 3, "t", "2026-10")
    assert drawn.groupby("stratum").size().to_dict() == {"B/410402": 5, "B/410421": 3}
    assert set(drawn.loc[drawn["stratum"] == "B/410421", "region_code"]) == {"410421"}


# ---------------------------------------------------------------------------- budget


POP = {"A": 5000, "B": 4000, "C": 600, "D": 400}
RATES = {"A": 0.01, "B": 0.05, "C": 0.3, "D": 0.7}


def check_constraints(prop, floors, ceilings, overall_floor, budget_n):
    t = prop.table
    ratios = t["ratio"].to_numpy()
    assert (np.diff(ratios) >= -1e-9).all()  # non-decreasing A → D
    for g, r in zip(t["grade"], ratios, strict=True):
        assert r >= floors.get(g, 0) - 1e-9
        assert r <= ceilings.get(g, 1) + 1e-9
    assert prop.drawn <= budget_n
    assert prop.drawn >= math.ceil(overall_floor * sum(POP.values()) - 1e-9)
    assert (t["drawn"] <= t["population"]).all()
    assert (np.abs(t["drawn"] - t["ratio"] * t["population"]) <= 1 + 1e-9).all()


def test_budget_proposal_beats_uniform_and_respects_every_constraint():
    floors, ceilings = {"A": 0.002, "B": 0.01}, {"A": 0.02}
    prop = budget.propose_ratios(POP, RATES, 600, floors, ceilings, overall_floor=0.03)
    check_constraints(prop, floors, ceilings, 0.03, 600)
    assert prop.expected_findings > 1.5 * prop.uniform_expected_findings
    # the uniform draw of the same size is feasible here, so the optimum can only be better;
    # a grid over the ratios finds nothing better than the linear programme
    best = 0.0
    grid = np.linspace(0, 1, 41)
    for c in grid:
        for d in grid[grid >= c]:
            b = max(floors["B"], min(c, (600 - 400 * d - 600 * c - 5000 * 0.002) / 4000))
            if b > c or b < floors["B"]:
                continue
            a = floors["A"]
            if 5000 * a + 4000 * b + 600 * c + 400 * d <= 600:
                best = max(best, 5000 * a * 0.01 + 4000 * b * 0.05 + 600 * c * 0.3 + 400 * d * 0.7)
    assert prop.expected_findings >= best - 1.0  # within rounding of one enterprise


def test_budget_with_equal_rates_cannot_beat_uniform():
    prop = budget.propose_ratios(POP, dict.fromkeys(POP, 0.1), 500)
    assert prop.expected_findings == pytest.approx(prop.uniform_expected_findings, abs=0.2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            dict(budget=200, overall_floor=0.03),
            "below the overall floor 3 % of 10,000 enterprises = 300 (short by 100)",
        ),
        (
            dict(budget=100, floors={"B": 0.05}),
            "floors need: 250 (B 5 % of 4,000, C 5 % of 600, D 5 % of 400; short by 150)",
        ),
        (
            dict(budget=500, floors={"A": 0.05}, ceilings={"A": 0.02}),
            "grade A: floor 5 % is above its ceiling 2 %",
        ),
        (
            dict(budget=500, floors={"B": 0.1}, ceilings={"C": 0.05}),
            "grade B's floor 10 % exceeds grade C's ceiling 5 %",
        ),
    ],
)
def test_budget_errors_say_which_constraint_and_by_how_much(kwargs, message):
    with pytest.raises(budget.BudgetError) as err:
        budget.propose_ratios(POP, RATES, **kwargs)
    assert message in str(err.value)


def test_hit_rates_fall_back_to_pd_where_thin():
    g = grade_rows([(f"H{i}", "B", 0.2) for i in range(40)] + [("L1", "A", 0.01)])
    insp = pd.DataFrame(
        {
            "uscc": [f"H{i}" for i in range(40)] + ["L1"],
            "inspected_on": pd.Timestamp("2026-06-01"),
            "found_problem": pd.array([True] * 10 + [False] * 30 + [True], dtype="boolean"),
        }
    )
    rates = budget.rates_from_hits(g, insp, SNAP)
    assert rates.loc["B", "rate"] == 0.25 and rates.loc["B", "source"] == "hit_rate"
    assert rates.loc["A", "rate"] == 0.01 and rates.loc["A", "source"] == "pd"


# ------------------------------------------------------------------------ inspectors


def register(n, dept="甲局", region="410402", items="企业公示信息情况检查", active=True, start=0):
    return pd.DataFrame(
        {
            "inspector_id": [f"I{start + i:03d}" for i in range(n)],
            "name": [f"检查员{start + i}" for i in range(n)],
            "department": dept,
            "region_code": region,
            "active": pd.array([active] * n, dtype="boolean"),
            "items": items,
        }
    )


def task_frame(n, region="410402", item="企业公示信息情况检查"):
    return pd.DataFrame(
        {
            "task_id": [f"T{i:04d}" for i in range(n)],
            "uscc": [f"E{i:04d}" for i in range(n)],
            "region_code": region,
            "item": item,
        }
    )


def test_inspectors_respect_conflicts_last_inspector_and_workload():
    reg = pd.concat(
        [
            register(10),
            register(2, active=False, start=10),  # not in post
            register(2, items="价格行为检查", start=12),  # not qualified
            register(2, dept="乙局", start=14),  # another department
        ],
        ignore_index=True,
    )
    tasks = task_frame(45)
    rng = np.random.default_rng(3)
    conflicts = pd.DataFrame(
        {
            "inspector_id": [f"I{i:03d}" for i in rng.integers(0, 10, 60)],
            "uscc": [f"E{i:04d}" for i in rng.integers(0, 45, 60)],
        }
    ).drop_duplicates()
    earlier = pd.DataFrame(
        {
            "task_id": [f"old{i}" for i in range(45)] + [f"older{i}" for i in range(45)],
            "uscc": [f"E{i:04d}" for i in range(45)] * 2,
            "window_end": pd.to_datetime(["2026-09-30"] * 45 + ["2026-05-31"] * 45),
            "inspectors": [f"I{i % 10:03d};I{(i + 1) % 10:03d}" for i in range(45)]
            + [f"I{(i + 5) % 10:03d}" for i in range(45)],
        }
    )
    p = make_plan(max_tasks_per_inspector=10)
    out = inspectors.assign_inspectors(tasks, reg, p, "2026-10", conflicts, earlier)
    barred = set(zip(conflicts["uscc"], conflicts["inspector_id"], strict=True))
    for u, ids, dept in zip(out["uscc"], out["inspectors"], out["department"], strict=True):
        chosen = ids.split(";")
        assert len(chosen) == 2 and len(set(chosen)) == 2
        assert dept == "甲局"
        assert all(int(c[1:]) < 10 for c in chosen)  # active, qualified, right department
        assert not any((u, c) in barred for c in chosen)  # 回避
        i = int(u[1:])
        assert not {f"I{i % 10:03d}", f"I{(i + 1) % 10:03d}"} & set(chosen)  # last inspectors
    load = out["inspectors"].str.split(";").explode().value_counts()
    assert load.max() <= 10
    assert load.max() - load.min() <= 2  # balanced
    again = inspectors.assign_inspectors(tasks, reg, p, "2026-10", conflicts, earlier)
    assert again["inspectors"].tolist() == out["inspectors"].tolist()  # reproducible
    other = inspectors.assign_inspectors(
        tasks, reg, make_plan(seed=8, max_tasks_per_inspector=10), "2026-10", conflicts, earlier
    )
    assert other["inspectors"].tolist() != out["inspectors"].tolist()


def test_infeasible_capacity_message():
    reg = register(3, dept="市场监管局食品科", items="食品经营许可事项检查")
    p = make_plan(
        departments=("市场监管局食品科",),
        items=(Item("食品经营许可事项检查", ("市场监管局食品科",)),),
        max_tasks_per_inspector=20,
    )
    with pytest.raises(inspectors.InfeasiblePlan) as err:
        inspectors.assign_inspectors(
            task_frame(120, item="食品经营许可事项检查"), reg, p, "2026-10"
        )
    assert (
        "市场监管局食品科 · 食品经营许可事项检查: 3 qualified inspectors for 120 tasks at most "
        "20 each (need 240 assignments, capacity 60, short by 180)"
    ) in str(err.value)


def test_infeasible_too_few_qualified_message():
    reg = pd.concat(
        [
            register(1),
            register(3, items="价格行为检查", start=1),
            register(2, active=False, start=4),
        ],
        ignore_index=True,
    )
    with pytest.raises(inspectors.InfeasiblePlan) as err:
        inspectors.assign_inspectors(task_frame(5), reg, make_plan(), "2026-10")
    assert (
        "甲局 · 企业公示信息情况检查: 1 qualified active inspector(s) for 5 tasks, "
        "each task needs 2 (short by 1)" in str(err.value)
    )


def test_infeasible_region_and_department_messages():
    reg = register(4, region="410403")
    with pytest.raises(inspectors.InfeasiblePlan) as err:
        inspectors.assign_inspectors(task_frame(3, region="410402"), reg, make_plan(), "2026-10")
    assert "covering region 410402 (3 tasks)" in str(err.value)
    p = make_plan(departments=("甲局", "丁局"), items=(Item("企业公示信息情况检查", ("丁局",)),))
    with pytest.raises(inspectors.InfeasiblePlan, match=r"no department of the plan \(丁局\)"):
        inspectors.assign_inspectors(task_frame(3, region="410403"), reg, p, "2026-10")
    assert inspectors.departments_without_inspectors(reg, p) == ["丁局"]


def test_infeasible_task_after_conflicts_message():
    reg = register(3)
    conflicts = pd.DataFrame({"inspector_id": ["I000", "I001"], "uscc": ["E0000", "E0000"]})
    with pytest.raises(inspectors.InfeasiblePlan) as err:
        inspectors.assign_inspectors(task_frame(2), reg, make_plan(), "2026-10", conflicts)
    assert (
        "task T0000 (E0000, 企业公示信息情况检查): 甲局 has 3 qualified inspectors, 2 declared in "
        "conflict (回避), 0 who last inspected it, 0 at the workload limit of 40; 1 left, 2 "
        "needed (short by 1)"
    ) in str(err.value)


def county_and_city(first: str, county: int = 2, city: int = 3):
    """A county bureau (县局, region 410421) and the city bureau over it (市局, 410400).

    Returns the register (the county's inspectors first) and a plan whose one item lists
    ``first`` before the other bureau.
    """
    counties = register(county, dept="县局", region="410421")
    reg = pd.concat(
        [counties, register(city, dept="市局", region="410400", start=county)],
        ignore_index=True,
    )
    order = (first, "市局" if first == "县局" else "县局")
    return reg, make_plan(
        departments=("县局", "市局"), items=(Item("企业公示信息情况检查", order),)
    )


def test_a_task_its_county_cannot_staff_goes_to_the_city_bureau():
    """回避 in a county unit of two: the prefecture bureau covering the county sends two."""
    reg, p = county_and_city(first="县局")
    tasks = task_frame(3, region="410421")
    conflicts = pd.DataFrame({"inspector_id": ["I000"], "uscc": ["E0001"]})
    out = inspectors.assign_inspectors(tasks, reg, p, "2026-10", conflicts)
    assert out["department"].tolist() == ["县局", "市局", "县局"]
    county_pairs = [set(out["inspectors"].iloc[i].split(";")) for i in (0, 2)]
    assert county_pairs == [{"I000", "I001"}] * 2
    assert set(out["inspectors"].iloc[1].split(";")) <= {"I002", "I003", "I004"}
    everyone = pd.DataFrame(
        {"inspector_id": [f"I{i:03d}" for i in range(4)], "uscc": ["E0001"] * 4}
    )
    with pytest.raises(inspectors.InfeasiblePlan) as err:
        inspectors.assign_inspectors(tasks, reg, p, "2026-10", everyone)
    assert str(err.value).startswith("task T0001 (E0001, 企业公示信息情况检查): 县局 has 2 ")
    assert str(err.value).endswith(
        "none of the 1 other departments covering it can staff it either"
    )


def test_city_department_covers_counties_and_county_comes_first():
    reg, p = county_and_city(first="市局")
    tasks = pd.concat([task_frame(2, region="410421"), task_frame(2, region="410402")])
    tasks["task_id"] = ["a", "b", "c", "d"]
    out = inspectors.assign_inspectors(tasks, reg, p, "2026-10")
    assert out["department"].tolist() == ["县局", "县局", "市局", "市局"]


def test_splitmix64_reference_values():
    # reference: the first outputs of Vigna's splitmix64 generator seeded with 0 (its
    # state advances by the golden gamma before the finaliser, exactly as here)
    got = inspectors.splitmix64(np.array([0, 0x9E3779B97F4A7C15], dtype=np.uint64))
    assert [int(x) for x in got] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]


# ---------------------------------------------------------------------------- notice


def test_notice_takes_only_whitelisted_columns_sorted_by_code():
    tasks = pd.DataFrame(
        {
            "plan_id": ["p", "p"],
            "item": ["企业公示信息情况检查"] * 2,
            "department": ["甲局", "甲局"],
            "uscc": ["Z2", "Z1"],
            "name": ["乙公司", "甲公司"],
            "window_start": pd.to_datetime(["2026-11-01"] * 2),
            "window_end": pd.to_datetime(["2026-12-31"] * 2),
            "grade": ["D", "A"],
            "inclusion_probability": [0.3, 1.0],
        }
    )
    table = notice.build_notice(tasks, make_plan())
    assert list(table.columns) == [
        "抽查计划编号",
        "抽查计划名称",
        "抽查事项",
        "检查部门",
        "统一社会信用代码",
        "企业名称",
        "检查开始日期",
        "检查结束日期",
    ]
    assert table["统一社会信用代码"].tolist() == ["Z1", "Z2"]
    html = notice.render_notice_html(table, make_plan())
    assert "2026-11-01 至 2026-12-31" in html and "0.3" not in html
