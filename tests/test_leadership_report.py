"""The monthly leadership report: content, aggregates only, missing inputs, rendering.

The stage outputs it reads are fabricated here as small frames with exactly the column
names of the file interfaces (grades, sampling, health); the evaluation is computed from
a hand-made plan and its results by the evaluation's own estimators, so every figure
the page shows has one source. Two months are built: the first (no previous month to
compare with, no PSI) and a later one.
"""

import re
import unicodedata

import numpy as np
import pandas as pd
import pytest

from workbench import workspace
from workbench.contract import uscc
from workbench.errors import NotReadyError
from workbench.evaluation import estimators
from workbench.reporting import browser
from workbench.reporting import leadership as leadership_report

MONTH, PREVIOUS = "2026-10", "2026-09"
GRADES = ["A", "B", "C", "D"]
LABELS = {"A": "信用风险低", "B": "信用风险一般", "C": "信用风险较高", "D": "信用风险高"}
REGIONS = ["410402", "410403", "410421"]
HEADINGS = [title for _, title in leadership_report.SECTIONS]


# ----------------------------------------------------------------------------- fixtures


def _enterprises(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = rng.choice(REGIONS, n)
    codes = uscc.make_codes(np.full(n, "1"), region, np.arange(n) + 1000 * seed)
    words = ["恒昌", "瑞丰", "鑫源", "华泰", "永盛", "福临", "金穗", "德兴"]
    names = [
        f"平顶山市{words[i % 8]}{['商贸', '食品', '建材', '餐饮'][i % 4]}第{i}号有限公司"
        for i in range(n)
    ]
    grade = rng.choice(GRADES, n, p=[0.5, 0.35, 0.1, 0.05])
    return pd.DataFrame(
        {
            "uscc": codes,
            "name": names,
            "snapshot": pd.Timestamp("2026-10-31"),
            "entity_type": "company",
            "industry_section": rng.choice(["C", "F", "H"], n),
            "region_code": region,
            "score": rng.normal(600, 40, n).round(1),
            "pd": rng.uniform(0.001, 0.2, n),
            "model_grade": grade,
            "override_rule": np.where(np.arange(n) % 17 == 0, "严重违法失信名单", None),
            "grade": grade,
            "observation": np.arange(n) % 11 == 0,
            "reason_1": "近12个月行政处罚次数",
            "reason_1_points": -12.0,
            "reason_2": None,
            "reason_2_points": np.nan,
            "reason_3": None,
            "reason_3_points": np.nan,
            "model_name": "workbench-generic",
            "model_version": "3",
            "run_id": "abc123",
            "scheme": "national_4",
        }
    )


def write_grades(data, month: str, frame: pd.DataFrame, first: bool = False) -> None:
    """data/grades/<month>/: the files of the grade stage (issue 5), from ``frame``.

    ``first``: the first month with grades — no previous month, every enterprise new,
    no early warnings.
    """
    out = data / "grades" / month
    out.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out / "grades.parquet")
    with open(out / "grades.csv", "w", encoding="utf-8-sig", newline="") as handle:
        handle.write("# 内部参考，不对外公开\n")
        frame.to_csv(handle, index=False)
    counts = frame["grade"].value_counts().reindex(GRADES, fill_value=0)
    previous = None if first else str(pd.Period(month, "M") - 1)
    warned = frame[frame["grade"].isin(["C", "D"])].iloc[: 0 if first else None]
    workspace.write_json(
        out / "summary.json",
        {
            "snapshot": f"{month}-28",
            "month": month,
            "previous_month": previous,
            "scheme": {
                "id": "national_4",
                "name": "全国四类",
                "grades": GRADES,
                "labels": LABELS,
                "cutoffs": [620.0, 580.0, 560.0],
            },
            "model": {"name": "workbench-generic", "version": "3", "run_id": "abc123"},
            "enterprises": len(frame),
            "counts": {g: int(c) for g, c in counts.items()},
            "overridden": int(frame["override_rule"].notna().sum()),
            "observation": int(frame["observation"].sum()),
            "warnings": len(warned),
        },
    )
    pd.DataFrame(
        {
            "grade": GRADES,
            "label": [LABELS[g] for g in GRADES],
            "enterprises": counts.values,
            "mean_pd": frame.groupby("grade")["pd"].mean().reindex(GRADES).values,
            "share": counts.values / len(frame),
            "model_grade_enterprises": frame["model_grade"]
            .value_counts()
            .reindex(GRADES, fill_value=0)
            .values,
        }
    ).to_csv(out / "distribution.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame(
        {
            "rule": ["serious_violation", "revoked_licence"],
            "description": ["列入严重违法失信名单的，直接评为D类", "吊销许可证的，直接评为D类"],
            "moved": [int(frame["override_rule"].notna().sum()), 0],
        }
    ).to_csv(out / "overrides.csv", index=False, encoding="utf-8-sig")
    migration = pd.DataFrame(
        [[30, 4, 1, 0, 2], [3, 20, 2, 1, 1], [0, 1, 5, 1, 0], [0, 0, 1, 2, 0], [5, 3, 1, 0, 0]],
        index=pd.Index([*GRADES, "新增"], name="上月等级"),
        columns=pd.Index([*GRADES, "退出"], name="本月等级"),
    )
    if first:  # every enterprise is new: one row
        migration = pd.DataFrame(
            [[*counts.to_numpy(), 0]],
            index=pd.Index(["新增"], name="上月等级"),
            columns=pd.Index([*GRADES, "退出"], name="本月等级"),
        )
    migration.to_csv(out / "migration.csv", encoding="utf-8-sig")
    cells = [  # region, section, enterprises, high-risk: aggregates of a larger city
        ("410402", "C", 420, 38),
        ("410402", "F", 1310, 160),
        ("410402", "H", 380, 95),
        ("410403", "C", 260, 12),
        ("410403", "F", 940, 70),
        ("410403", "H", 12, 6),  # too small to show
        ("410421", "F", 610, 44),
        ("410421", "K", 3, 3),  # too small to show: all three high risk
    ]
    region_industry = pd.DataFrame(
        cells, columns=["region_code", "industry_section", "enterprises", "high_risk"]
    )
    region_industry["high_risk_share"] = (
        region_industry["high_risk"] / region_industry["enterprises"]
    )
    region_industry["region_name"] = region_industry["region_code"].map(
        {"410402": "新华区", "410403": "卫东区", "410421": "宝丰县"}
    )
    region_industry["industry_name"] = region_industry["industry_section"].map(
        {"C": "制造业", "F": "批发和零售业", "H": "住宿和餐饮业", "K": "房地产业"}
    )
    region_industry.to_csv(out / "region_industry.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame(
        {
            "uscc": warned["uscc"],
            "name": warned["name"],
            "region_code": warned["region_code"],
            "industry_section": warned["industry_section"],
            "previous_grade": "A",
            "grade": warned["grade"],
            "model_grade": warned["model_grade"],
            "override_rule": warned["override_rule"],
            "score": warned["score"],
            "warning": np.where(warned["grade"] == "D", "新进入D类", "等级下降两级及以上"),
            "reason_1": warned["reason_1"],
        }
    ).to_csv(out / "warnings.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame(
        {
            "indicator": ["pen_36m", "cmp_36m", "insp_problem_ratio"],
            "name_zh": ["近36个月行政处罚次数", "近36个月投诉举报次数", "抽查发现问题比例"],
            "dimension": ["监管信息", "社会评价", "监管信息"],
            "mean_abs_shap": [18.2, 9.5, 14.1],
        }
    ).to_csv(out / "importance.csv", index=False, encoding="utf-8-sig")


#: The plan per grade (hand-made): share of the grade in the eligible frame (A: the
#: triggered ones), share of the frame drawn, and among the drawn the shares without a
#: verdict and with a finding.
PLAN = {
    "A": (0.05, 1.0, 0.03, 0.05),
    "B": (0.9, 0.1, 0.03, 0.08),
    "C": (0.9, 0.3, 0.03, 0.25),
    "D": (0.9, 1.0, 0.03, 0.5),
}
#: The synthetic city's truth for the same inspections (only the demo has one).
ORACLE = {"uniform": 0.6, "model_plan": 1.0, "same_plan": 1.3, "top": 2.6, "true_risk": 2.2}


def write_sampling_and_evaluation(
    data, month: str, enterprises: pd.DataFrame, plan_id: str = "demo_monthly"
) -> dict:
    """data/sampling/<month>/<plan>/strata.csv and data/evaluation/<month>/<plan>/….

    The plan is drawn by hand from ``enterprises`` (the month's grade file) as
    :data:`PLAN` says; the evaluation files come from the estimators. Returns the
    summary.
    """
    rows, strata = [], []
    for grade, (in_frame, ratio, no_verdict, finding) in PLAN.items():
        members = enterprises[enterprises["grade"] == grade]
        frame = max(int(in_frame * len(members)), 2)
        drawn = max(int(np.ceil(ratio * frame)), 2)
        lost, found = int(round(no_verdict * drawn)), int(round(finding * drawn))
        pick = members.iloc[:drawn]
        for i, (code, name, pd_) in enumerate(
            zip(pick["uscc"], pick["name"], pick["pd"], strict=True)
        ):
            rows.append(
                (code, name, grade, drawn / frame, i >= lost, lost <= i < lost + found, pd_)
            )
        strata.append(
            {
                "stratum": grade,
                "grade": grade,
                "label": LABELS[grade],
                "registered": len(members),
                "excluded": 0 if grade == "A" else len(members) - frame,
                "not_triggered": len(members) - frame if grade == "A" else 0,
                "population": frame,
                "drawn": drawn,
                "ratio": ratio,
                "inclusion_probability": drawn / frame,
            }
        )
    columns = ["uscc", "name", "grade", "inclusion_probability", "verdict", "found", "pd"]
    matched = pd.DataFrame(rows, columns=columns).assign(stratum=lambda f: f["grade"])
    matched["task_id"] = [f"{plan_id}-{i:05d}" for i in range(len(matched))]
    tasks = matched.drop(columns=["verdict", "found"])
    strata = pd.DataFrame(strata)
    sampling = data / "sampling" / month / plan_id
    sampling.mkdir(parents=True, exist_ok=True)
    strata.to_csv(sampling / "strata.csv", index=False, encoding="utf-8-sig")
    design = estimators.stratum_table(tasks, strata)
    table = estimators.per_grade(matched, tasks, design, GRADES, LABELS, enterprises)
    summary = estimators.summarise(matched, tasks, design, table, GRADES)
    m = summary["inspected"]
    summary.update(
        {
            "plan_id": plan_id,
            "month": month,
            "tasks_without_result": 3,
            "reconciliation": {"matched": m, "unknown_task": 1, "not_drawn": 0},
            "deadline": {"within_working_days": 20, "on_time": m - 5, "late": 3, "overdue": 2},
            "oracle": {
                "inspections": m,
                "plan_found": summary["found"],
                "uniform_expected": ORACLE["uniform"] * summary["found"],
                "model_plan_expected": ORACLE["model_plan"] * summary["found"],
                "same_plan_expected": ORACLE["same_plan"] * summary["found"],
                "captured_share": (ORACLE["model_plan"] - ORACLE["uniform"])
                / (ORACLE["same_plan"] - ORACLE["uniform"]),
                "oracle_expected": ORACLE["top"] * summary["found"],
                "true_risk_expected": ORACLE["true_risk"] * summary["found"],
            },
        }
    )
    evaluation = data / "evaluation" / month / plan_id
    evaluation.mkdir(parents=True, exist_ok=True)
    table.to_csv(evaluation / "per_grade.csv", index=False, encoding="utf-8-sig")
    workspace.write_json(evaluation / "summary.json", summary)
    workspace.write_json(
        evaluation / "reconciliation.json",
        {
            "plan_id": plan_id,
            "tasks": m + 3,
            "tasks_with_result": m,
            "tasks_without_result": 3,
            "status_counts": {"matched": m, "unknown_task": 1, "not_drawn": 0},
            "missing": [{"task_id": "T-0007", "uscc": "91410402MA0000001X", "name": "某某公司"}],
            "unknown_task_ids": [{"task_id": "X-1"}],
            "not_drawn": [],
        },
    )
    return summary


def write_health(data, month: str, first: bool = False) -> None:
    """data/health/<month>/psi.csv and health.json, as the health stage writes them.

    ``first``: the first month — nothing to compare with, so no PSI at all.
    """
    out = data / "health" / month
    out.mkdir(parents=True, exist_ok=True)
    if first:
        pd.DataFrame(columns=["indicator", "name", "psi", "kind", "level"]).to_csv(
            out / "psi.csv", index=False, encoding="utf-8-sig"
        )
        workspace.write_json(
            out / "health.json",
            {"month": month, "previous": None, "warnings": [], "retrain_recommended": False},
        )
        return
    psi = pd.DataFrame(
        {
            "kind": ["score", "grade", "indicator", "indicator", "indicator"],
            "indicator": ["score", "grade", "pen_36m", "cmp_36m", "insp_problem_ratio"],
            "name": [
                "信用风险评分",
                "信用风险等级分布",
                "近36个月行政处罚次数",
                "近36个月投诉举报次数",
                "抽查问题比例",
            ],
            "psi": [0.042, 0.018, 0.31, 0.12, 0.01],
        }
    )
    psi["level"] = pd.cut(
        psi["psi"], [0, 0.1, 0.25, 9], right=False, labels=["stable", "warn", "alert"]
    )
    psi.to_csv(out / "psi.csv", index=False, encoding="utf-8-sig")
    workspace.write_json(
        out / "health.json",
        {
            "month": month,
            "previous": str(pd.Period(month, "M") - 1),
            "psi_score": 0.042,
            "retrain_recommended": True,
            "warnings": [
                {
                    "kind": "indicator",
                    "level": "alert",
                    "message": "近36个月行政处罚次数 PSI 0.310（显著变化）",
                },
                {
                    "kind": "indicator",
                    "level": "warn",
                    "message": "近36个月投诉举报次数 PSI 0.120（关注）",
                },
            ],
        },
    )


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private workspace root (the session's WORKBENCH_HOME stays untouched)."""
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    return tmp_path


#: Enterprises in the fabricated grade files (enough for strata of a few dozen).
ENTERPRISES = 1600


def write_month(data, month: str, enterprises: pd.DataFrame, first: bool = False) -> dict:
    """Every input of a month; returns the evaluation summary."""
    write_grades(data, month, enterprises, first=first)
    summary = write_sampling_and_evaluation(data, month, enterprises)
    write_health(data, month, first=first)
    return summary


@pytest.fixture
def full_month(home):
    """Every input of MONTH present, and the first month before it for the trend."""
    data = home / "data"
    enterprises = _enterprises(ENTERPRISES, seed=1)
    write_month(data, PREVIOUS, _enterprises(ENTERPRISES, seed=2), first=True)
    write_month(data, MONTH, enterprises)
    return enterprises


@pytest.fixture(scope="module")
def built_report(tmp_path_factory):
    """Both months' reports built with every input (HTML + PDF for MONTH, HTML for PREVIOUS)."""
    home = tmp_path_factory.mktemp("report-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(home))
        enterprises = _enterprises(ENTERPRISES, seed=1)
        first = write_month(home / "data", PREVIOUS, _enterprises(ENTERPRISES, seed=2), True)
        summary = write_month(home / "data", MONTH, enterprises)
        leadership_report.build_month_report(PREVIOUS, pdf=False, update_index=False)
        page = leadership_report.build_month_report(MONTH)
    return page, enterprises, summary, page.parent.parent / PREVIOUS / page.name, first


def _pdf_pages(path) -> list[str]:
    """The PDF's text per page, folded back to the characters the HTML has.

    The CJK font shares some glyphs between code points, and Chromium's ToUnicode map
    names one of them: radicals (⽉ ⻛ ⻔ ⻅) and 戶 come back for 月 风 门 见 户.
    """
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDF's text layer")
    fold = str.maketrans({"⻛": "风", "⻔": "门", "⻅": "见", "戶": "户"})
    pages = pypdf.PdfReader(path).pages
    return [unicodedata.normalize("NFKC", p.extract_text()).translate(fold) for p in pages]


def _sections(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="(\w+)">(.*?)</section>', page, re.DOTALL))


# ----------------------------------------------------------------------------- content


def _pct(value) -> str:
    return f"{value * 100:.1f}%"


def test_report_has_every_section_and_the_key_figures(built_report):
    path, enterprises, summary, _, _ = built_report
    page = path.read_text(encoding="utf-8")
    assert path.name == "leadership.html" and path.parent.name == MONTH
    assert path.with_suffix(".pdf").stat().st_size > 10_000
    sections = _sections(page)
    assert list(sections) == [key for key, _ in leadership_report.SECTIONS]
    for key, title in leadership_report.SECTIONS:
        assert f"<h2>{title}</h2>" in sections[key]
        assert "无数据" not in sections[key], key
    overview = sections["overview"]
    assert f"{len(enterprises):,} 户" in overview
    high = enterprises["grade"].isin(["C", "D"]).mean()
    assert f"{high * 100:.1f}%" in overview
    lift = summary["lift"]["lift"]
    assert lift["low"] > 1  # the hand-made plan finds clearly more than a uniform draw
    assert f"{lift['value']:.2f} 倍" in overview
    assert f"{lift['low']:.2f}–{lift['high']:.2f}" in overview  # lift with its interval
    assert "显著高于随机抽查" in overview
    assert f"检出率 {_pct(summary['hit_rate'])}" in overview  # the plan's finding rate
    uniform = summary["lift"]["uniform_expected_found"]
    expected = leadership_report.markup.expected
    assert f"预期发现问题 {expected(uniform['value'])} 户" in overview  # … against a uniform draw
    assert "违法率" not in overview  # a finding rate is not a violation rate
    assert "0.042" in overview  # score PSI
    # migration read by hand from the fixture's matrix: up 4+1+2+1+1, down 3+1+1
    assert '风险等级上升 <span class="bad">9</span> 户' in sections["grades"]
    assert '下降 <span class="good">5</span> 户' in sections["grades"]
    assert "本月新增 9 户" in sections["grades"] and "退出" in sections["grades"]
    assert "列入严重违法失信名单的，直接评为D类" in sections["grades"]
    assert "吊销许可证" not in sections["grades"]  # a rule that moved no one
    # D: its findings among its inspections with a verdict, with the Wilson interval
    d = next(row for row in summary["per_grade"] if row["grade"] == "D")
    cell = f"{_pct(d['hit_rate'])} [{_pct(d['hit_low'])}, {_pct(d['hit_high'])}]"
    assert cell in sections["sampling"]
    # every estimate says what it covers: the eligible frame, not the whole grade
    rate = summary["population_rate"]
    assert f"本计划可抽取的 {rate['frame_population']:,.0f} 户" in sections["sampling"]
    assert f"占分类企业 {rate['graded_population']:,.0f} 户" in sections["sampling"]
    extra = summary["lift"]["extra_found"]
    assert f"多发现问题约 {expected(extra['value'])} 户" in sections["sampling"]
    # the synthetic city's truth: the same plan with perfect grades, and the ceiling
    oracle = summary["oracle"]
    assert "同一方案（同样比例与规则），按真实风险分级" in sections["sampling"]
    assert f"{oracle['same_plan_expected']:.1f}" in sections["sampling"]
    assert f"现有模型已实现 <b>{oracle['captured_share'] * 100:.0f}%</b>" in sections["sampling"]
    assert f"{oracle['oracle_expected']:.1f}" in sections["sampling"]
    assert "<td>未回填结果的任务</td>" not in sections["sampling"]
    assert '未回填结果的任务</td><td class="">3' in sections["sampling"]
    assert "T-0007" not in page and "某某公司" not in page  # the lists are counted, not shown
    assert "显著变化" in sections["health"] and "建议复核并重新训练模型" in sections["health"]
    assert "新华区（410402）" in sections["region"]
    n_warned = enterprises["grade"].isin(["C", "D"]).sum()
    assert f"本月风险预警企业 <b>{n_warned}</b> 户" in sections["warnings"]
    assert "新进入D类" in sections["warnings"]
    assert page.count("data:image/png;base64,") >= 5


def test_first_month_says_there_is_nothing_to_compare_with(built_report):
    _, enterprises, _, first, _ = built_report
    sections = _sections(first.read_text(encoding="utf-8"))
    overview = sections["overview"]
    assert "首个分类月份" in overview and "新增" not in overview  # no migration noise
    assert "首个分类月份" in sections["grades"] and "等级迁移" in sections["grades"]
    assert "首个分类月份" in sections["health"] and "PSI" in sections["health"]
    assert 'class="good"' not in sections["health"]  # nothing measured, nothing called healthy
    assert "首个分类月份" in sections["warnings"] and "<table" not in sections["warnings"]


def test_report_contains_no_enterprise_level_data(built_report):
    """Every code and name of the grade file is searched in the HTML and the PDF text."""
    path, enterprises, _, _, _ = built_report
    page = path.read_text(encoding="utf-8")
    for code, name in zip(enterprises["uscc"], enterprises["name"], strict=True):
        assert code not in page
        assert name not in page
    assert "score" not in _sections(page)["overview"]
    compact = re.sub(r"\s+", "", "".join(_pdf_pages(path.with_suffix(".pdf"))))
    assert "本月概况" in compact and "双随机抽查成效" in compact  # the text layer is readable…
    for code, name in zip(enterprises["uscc"], enterprises["name"], strict=True):
        assert code not in compact
        assert name not in compact  # … and holds no enterprise


def test_names_equal_to_a_common_label_do_not_block_the_report(home):
    """住宿和餐饮业 is an industry and 信用风险一般 a grade label: they name no one."""
    enterprises = _enterprises(ENTERPRISES, seed=1)
    enterprises.loc[0, "name"] = "住宿和餐饮业"
    enterprises.loc[1, "name"] = "信用风险一般"
    enterprises.loc[2, "name"] = "双随机抽查成效"  # a heading of the report itself
    write_month(home / "data", MONTH, enterprises)
    page = leadership_report.build_month_report(MONTH, pdf=False).read_text(encoding="utf-8")
    assert "住宿和餐饮业" in page and "信用风险一般" in page
    # a real leak still refuses: the same enterprise's code, another one's name
    labels = leadership_report.common_labels(leadership_report.load_inputs(MONTH))
    with pytest.raises(leadership_report.ReportLeakError, match=enterprises.loc[0, "uscc"]):
        leadership_report.check_no_enterprise_data(
            page + enterprises.loc[0, "uscc"], enterprises, labels
        )
    with pytest.raises(leadership_report.ReportLeakError, match="第7号有限公司"):
        leadership_report.check_no_enterprise_data(
            page + enterprises.loc[7, "name"], enterprises, labels
        )


def test_small_region_industry_cells_are_left_out(full_month):
    inputs = leadership_report.load_inputs(MONTH)
    section = leadership_report.sections.region_section(inputs)
    assert "共 2 个组合因企业少于 30 户未显示" in section  # 410403 × H (12), 410421 × K (3)
    ranked = section.split("风险最集中")[1].split("各区域汇总")[0]
    assert "房地产业" not in ranked and "100.0%" not in ranked  # K: 3 of 3 high risk
    assert "住宿和餐饮业" in ranked  # 410402 × H, 95 of 380, is shown
    assert "25.0%" in ranked


def test_report_is_self_contained(built_report):
    page = built_report[0].read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", page, re.IGNORECASE)
    assert not re.search(r"https?://", page)
    with pytest.raises(ValueError, match="scripts"):
        leadership_report.check_self_contained("<html><script>alert(1)</script></html>")
    with pytest.raises(ValueError, match="external"):
        leadership_report.check_self_contained('<img src="https://example.org/x.png">')


def test_report_builds_when_every_input_is_missing(home):
    path = leadership_report.build_month_report(MONTH, pdf=False)
    sections = _sections(path.read_text(encoding="utf-8"))
    for key in ("grades", "sampling", "region", "health", "warnings"):
        assert "无数据" in sections[key], key
    assert "data/grades/2026-10/summary.json" in sections["grades"]  # names what it looked for
    assert "本月尚无信用风险分类结果" in sections["overview"]
    assert not path.with_suffix(".pdf").exists()


def test_report_builds_with_only_grades(home):
    write_grades(home / "data", MONTH, _enterprises(80, seed=3))
    stale = home / "reports" / MONTH / "leadership.pdf"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"%PDF old")
    sections = _sections(leadership_report.build_month_report(MONTH, pdf=False).read_text())
    assert "无数据" not in sections["grades"]
    assert "无数据" in sections["sampling"] and "无数据" in sections["health"]
    assert "本月尚无双随机抽查评估结果" in sections["overview"]
    assert not stale.exists()  # an older PDF does not stay beside the new HTML


def test_a_leak_refuses_to_write_and_keeps_last_report(full_month, home):
    first = leadership_report.build_month_report(MONTH, pdf=False)
    before = first.read_bytes()
    warnings = home / "data" / "grades" / MONTH / "warnings.csv"
    frame = pd.read_csv(warnings, encoding="utf-8-sig", dtype=str)
    frame.loc[0, "warning"] = full_month["name"].iloc[0]  # a free-text column naming one
    frame.to_csv(warnings, index=False, encoding="utf-8-sig")
    with pytest.raises(leadership_report.ReportLeakError, match="aggregates only"):
        leadership_report.build_month_report(MONTH, pdf=False)
    assert first.read_bytes() == before
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]


def test_bad_month_is_refused(home):
    with pytest.raises(ValueError, match="YYYY-MM"):
        leadership_report.build_month_report("2026-13")
    with pytest.raises(ValueError, match="YYYY-MM"):
        leadership_report.load_inputs("October")


def test_latest_month_and_key_figures_table(home):
    with pytest.raises(NotReadyError, match="no stage outputs"):  # empty: say so
        leadership_report.latest_month()
    write_health(home / "data", "2027-01")
    assert leadership_report.latest_month() == "2027-01"
    enterprises = _enterprises(ENTERPRISES, seed=4)
    write_grades(home / "data", MONTH, enterprises)
    write_sampling_and_evaluation(home / "data", MONTH, enterprises)
    table = leadership_report.key_figures_table(MONTH)
    assert list(table.columns) == ["指标", "数值", "说明"]
    assert "分级抽查提升倍数" in set(table["指标"])


def test_index_links_every_month_newest_first(full_month, home):
    leadership_report.build_month_report(PREVIOUS, pdf=False, update_index=False)
    runs = home / "reports" / MONTH / "runs"
    runs.mkdir(parents=True)
    (runs / "20261101-090000-01_ingest.html").write_text("<html></html>")
    (runs / "20261101-091500-03_train-failed.html").write_text("<html></html>")
    leadership_report.build_month_report(MONTH, pdf=False)
    index = (home / "reports" / "index.html").read_text(encoding="utf-8")
    assert index.index("2026年10月") < index.index("2026年9月")
    assert 'href="2026-10/leadership.html"' in index and 'href="2026-09/leadership.html"' in index
    assert 'href="2026-10/runs/20261101-090000-01_ingest.html">数据归集与质量' in index
    assert "（运行失败）" in index  # a failed run is listed as such
    for href in re.findall(r'href="([^"]+)"', index):
        assert (home / "reports" / href).is_file(), href
    leadership_report.check_self_contained(index)


# ----------------------------------------------------------------------------- rendering


def _gray(png) -> np.ndarray:
    from PIL import Image

    with Image.open(png) as image:
        return np.asarray(image.convert("L"), dtype=float) / 255


def test_rendered_page_is_not_blank_and_has_the_chinese_headings(built_report, tmp_path):
    path = built_report[0]
    pixels = _gray(browser.screenshot(path, tmp_path / "page.png", width=1100, height=1400))
    assert pixels.std() > 0.05, "the screenshot is (nearly) uniform: a blank page"
    assert (pixels < 0.5).mean() > 0.01, "almost no dark pixels: no text drawn"
    dom = browser.dump_dom(path)
    found = re.findall(r"<h2>([^<]+)</h2>", dom)
    assert found == HEADINGS


def test_pdf_embeds_a_cjk_font(built_report):
    data = built_report[0].with_suffix(".pdf").read_bytes()
    assert data.startswith(b"%PDF")
    names = set(re.findall(rb"/FontName\s*/[A-Z]{6}\+([A-Za-z0-9-]+)", data))
    assert any(re.match(rb"(NotoSansCJK|SourceHanSans|WenQuanYi)", n) for n in names), names


#: A4 height and the report's top and bottom page margins (@page: 14 mm, 16 mm), in points.
A4_HEIGHT, TOP_MARGIN, BOTTOM_MARGIN = 841.9, 14 / 25.4 * 72, 16 / 25.4 * 72


def _page_fill(pdf) -> list[float]:
    """How far down each page's body its lowest text reaches (0: empty, 1: full).

    Text positions come from pypdf's text layer: the text matrix mapped through the
    current transformation (Chromium draws top-down and flips). Every figure has its
    caption below it, so the lowest text also bounds the figures.
    """
    from pypdf import PdfReader

    fills = []
    for page in PdfReader(pdf).pages:
        lowest = []

        def visit(text, cm, tm, font, size, lowest=lowest):
            if text.strip():
                lowest.append(cm[1] * tm[4] + cm[3] * tm[5] + cm[5])

        page.extract_text(visitor_text=visit)
        top = float(page.mediabox.height) - TOP_MARGIN
        body = top - BOTTOM_MARGIN
        fills.append((top - min(lowest)) / body if lowest else 0.0)
    return fills


def _check_pages_flow(pdf) -> list[str]:
    """A4; the summary opens page one; no page but the last is less than half full."""
    from pypdf import PdfReader

    box = PdfReader(pdf).pages[0].mediabox
    assert round(float(box.width)) == 595 and round(float(box.height)) == 842  # A4
    pages, fills = _pdf_pages(pdf), _page_fill(pdf)
    assert "本月概况" in pages[0]
    for number, fill in enumerate(fills[:-1], start=1):
        assert fill >= 0.5, f"page {number} of {len(fills)} is {fill:.0%} full: {fills}"
    # the page count follows the content: no more pages than the filled area needs
    assert len(fills) <= int(np.ceil(sum(fills))) + 1, fills
    return pages


def test_pdf_sections_flow_without_half_empty_pages(built_report):
    pages = _check_pages_flow(built_report[0].with_suffix(".pdf"))
    assert "分级抽查提升倍数" in pages[0]
    # sections flow: some page holds the end of one section and the start of the next
    starts = [sum(heading in page for heading in HEADINGS) for page in pages]
    assert max(starts) >= 2, starts


def _identifiers() -> set[str]:
    """ASCII ids the configuration and the contract give things, which leadership never reads.

    Plan ids, model families and registered model names, grade schemes, override rules
    and the indicators their conditions name, entity types — the ids the issue found in
    Chinese pages (demo_monthly, workbench-generic, sv_current, individual_business).
    """
    import yaml

    from workbench import config, contract
    from workbench.governance.registry import model_name

    settings = config.current()
    ids = set(settings.plans) | set(settings.catalogs)
    ids |= {model_name(family) for family in settings.catalogs}
    schemes = yaml.safe_load(settings.grade_schemes.read_text(encoding="utf-8"))["schemes"]
    ids |= set(schemes)
    for rule in yaml.safe_load(settings.overrides.read_text(encoding="utf-8"))["rules"]:
        ids.add(rule["id"])
        ids |= set(rule.get("when") or {}) | set((rule.get("observe") or {}).get("unless_any", {}))
    ids |= set(contract.CODE_LISTS["entity_type"].labels)
    return ids


def _visible_ascii_words(page: str) -> set[str]:
    """ASCII words a reader sees on the page (no styles, no embedded images, no markup)."""
    body = re.sub(r"<style.*?</style>", " ", page, flags=re.DOTALL)
    text = leadership_report._text(body)
    return set(re.findall(r"[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]", text))


def test_leadership_page_of_the_demo_shows_no_ascii_identifier_and_flows(
    prepared_home, monkeypatch, tmp_path
):
    """The real stages' month (demo provider) as leadership gets it: HTML and PDF."""
    from conftest import NOTEBOOK_MONTH

    monkeypatch.setenv("WORKBENCH_HOME", str(prepared_home))
    page = leadership_report.render_html(leadership_report.load_inputs(NOTEBOOK_MONTH))
    identifiers = _identifiers()
    assert {"demo_monthly", "workbench-generic", "sv_current", "individual_business"} <= identifiers
    leaked = _visible_ascii_words(page) & identifiers
    assert not leaked, f"ASCII ids on the leadership page: {sorted(leaked)}"
    assert "通用型信用风险评分模型" in page  # the model by its family's Chinese name
    html_path = tmp_path / "leadership.html"
    html_path.write_text(page, encoding="utf-8")
    pages = _check_pages_flow(browser.print_pdf(html_path, tmp_path / "leadership.pdf"))
    compact = re.sub(r"\s+", "", "".join(pages))
    assert not {i for i in identifiers if i in compact}, "an ASCII id in the PDF's text"


def test_fabricated_months_show_no_ascii_identifier(built_report):
    for page in (built_report[0], built_report[3]):
        words = _visible_ascii_words(page.read_text(encoding="utf-8"))
        assert not words & (_identifiers() | {"serious_violation", "revoked_licence"}), page


NO_CJK_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def test_headings_render_as_glyphs_not_tofu(tmp_path):
    """Chinese headings are drawn with real glyphs, not missing-glyph boxes (豆腐块).

    Method: one page, styled with the report's own CSS (its font stack), draws each
    distinct character of the six section headings in its own fixed 64×64 cell, then
    eight private-use characters (U+E000…) that no font maps — those are drawn as the
    missing-glyph box, the very picture of tofu in this browser. Three checks on the
    cropped cells: (1) the private-use cells are identical to each other and not empty,
    which shows what tofu looks like here and that cell comparison is exact; (2) every
    heading character's cell is far from that box; (3) the heading cells all differ from
    each other — tofu would make them one repeated box. A control run of the same page
    with fontconfig restricted to DejaVu (no CJK font) must fail check (2), proving the
    test can catch tofu.
    """
    chars = sorted(set("".join(HEADINGS)))
    tofu = [chr(0xE000 + i) for i in range(8)]
    per_row, cell = 16, 64
    padding = (-len(chars)) % per_row
    cells = chars + [" "] * padding + tofu
    spans = "".join(f'<span class="c">{c}</span>' for c in cells)
    page = tmp_path / "probe.html"
    page.write_text(
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>'
        f"{leadership_report.REPORT_CSS}"
        f"body {{ margin: 0; padding: 0; max-width: none; width: {per_row * cell}px; }}"
        f".c {{ display: inline-block; width: {cell}px; height: {cell}px; font-size: 44px;"
        f" line-height: {cell}px; text-align: center; vertical-align: top; overflow: hidden; }}"
        f"</style></head><body>{spans}</body></html>",
        encoding="utf-8",
    )

    def crops(env=None) -> list[np.ndarray]:
        png = browser.screenshot(
            page, tmp_path / "probe.png", width=per_row * cell, height=400, env=env
        )
        pixels = _gray(png)
        out = []
        for i in range(len(cells)):
            r, c = divmod(i, per_row)
            out.append(pixels[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell])
        return out

    def distance(a, b) -> float:
        return float(np.abs(a - b).mean())

    rendered = crops()
    heading_cells, box_cells = rendered[: len(chars)], rendered[-len(tofu) :]
    box = box_cells[0]
    assert (box < 0.5).mean() > 0.005, "the private-use character drew nothing, not a box"
    box_spread = max(distance(box, b) for b in box_cells)
    assert box_spread < 0.002, "missing-glyph boxes differ from each other: cannot compare"
    to_box = [distance(c, box) for c in heading_cells]
    assert min(to_box) > 0.02, f"{chars[int(np.argmin(to_box))]!r} renders like a missing glyph"
    pairs = [
        distance(heading_cells[i], heading_cells[j])
        for i in range(len(chars))
        for j in range(i + 1, len(chars))
    ]
    assert min(pairs) > 0.01, "two different heading characters render identically"

    fonts = tmp_path / "no-cjk.conf"
    fonts.write_text(NO_CJK_FONTCONFIG.format(cache=tmp_path / "fc-cache"), encoding="utf-8")
    control = crops(env={"FONTCONFIG_FILE": str(fonts)})
    control_box = control[-1]
    assert min(distance(c, control_box) for c in control[: len(chars)]) < 0.002, (
        "without a CJK font the headings should render as boxes: the control did not catch tofu"
    )


def test_report_renders_differently_without_the_cjk_font(built_report, tmp_path):
    """The issue's other check: the same page rendered with no CJK font looks different."""
    path = built_report[0]
    fonts = tmp_path / "no-cjk.conf"
    fonts.write_text(NO_CJK_FONTCONFIG.format(cache=tmp_path / "fc-cache"), encoding="utf-8")
    kwargs = {"width": 1100, "height": 300}
    normal = _gray(browser.screenshot(path, tmp_path / "with.png", **kwargs))
    without = _gray(
        browser.screenshot(
            path, tmp_path / "without.png", env={"FONTCONFIG_FILE": str(fonts)}, **kwargs
        )
    )
    assert np.abs(normal - without).mean() > 0.01


# ------------------------------------------------------------- honest figures, in Chromium
def _dom_text(dom: str) -> str:
    """What a reader sees of a DOM: tags out."""
    text = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', "", dom))
    return re.sub(r"\s+", " ", text.replace("&nbsp;", " "))


def _dom_tables(page_html: str) -> list[pd.DataFrame]:
    """The page's tables as text frames (header row → columns)."""
    tables = []
    for body in re.findall(r"<table[^>]*>(.*?)</table>", page_html, re.DOTALL):
        head = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th[^>]*>(.*?)</th>", body)]
        rows = [
            [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)]
            for row in re.findall(r"<tbody>.*?</tbody>", body, re.DOTALL)[0].split("</tr>")
            if "<td" in row
        ]
        width = len(rows[0]) if rows else len(head)
        tables.append(pd.DataFrame(rows, columns=head[-width:] if rows else head))
    return tables


def _intervals(text: str) -> list[tuple[str, str]]:
    """Every interval the page states: '[a%, b%]' in tables, '95% 区间 a–b' in text."""
    pairs = re.findall(r"\[(-?[\d.,]+%?), (-?[\d.,]+%?)\]", text)
    pairs += re.findall(r"95% 区间 (-?[\d.,]+%?)–(-?[\d.,]+%?)", text)
    return pairs


def _check_honest(page, evaluated: bool = True) -> str:
    """No zero-width interval; each quantity one number; returns the DOM text."""
    dom = browser.dump_dom(page)  # the page as Chromium parsed it
    text = _dom_text(dom)
    pairs = _intervals(text)
    assert not evaluated or len(pairs) >= 5, "the page states fewer intervals than it should"
    for low, high in pairs:
        assert low != high, f"a zero-width interval: {low}–{high}"
    overview = text.split("信用风险分类结果")[0]
    if evaluated:
        # one finding rate: the summary card, the plain-language finding and the table's 合计
        rates = set(re.findall(r"检出率 ([\d.]+%)", overview))
        assert len(rates) == 1, rates
        tables = _dom_tables(dom)
        per_grade = next(t for t in tables if "检出率 [95% 区间]²" in t.columns)
        total = per_grade[per_grade["等级"] == "合计"].iloc[0]
        assert total["检出率 [95% 区间]²"].startswith(rates.pop())
        # one frame size per grade: the design table and the per-grade table agree
        design = next(t for t in tables if "抽取比例（占名录）" in t.columns).set_index("等级")
        shown = per_grade.set_index("等级")
        for grade in design.index:
            assert design.at[grade, "抽查名录户数"] == shown.at[grade, "抽查名录户数"], grade
        # one graded count per grade: the grade distribution and the per-grade table agree
        distribution = next(t for t in tables if "企业数（户）" in t.columns).set_index("等级")
        for grade in distribution.index:
            assert distribution.at[grade, "企业数（户）"] == shown.at[grade, "分类户数"], grade
        # one uniform expectation and one lift, wherever they are said
        uniform = set(re.findall(r"(?:预期发现问题|预期发现) ([\d,.]+) 户", text))
        assert len(uniform) == 1, uniform
        lifts = set(re.findall(r"(?:是其|提升倍数) ([\d.]+)", text))
        assert len(lifts) <= 1, lifts
    return text


def test_leadership_pages_state_honest_figures_in_chromium(built_report):
    """The first and a later month, as Chromium shows them (fabricated inputs)."""
    path, _, summary, first, _ = built_report
    later = _check_honest(path)
    assert "同一方案（同样比例与规则），按真实风险分级" in later  # the same-plan oracle
    assert "现有模型已实现" in later
    assert f"{summary['lift']['lift']['value']:.2f} 倍" in later
    opening = _check_honest(first)
    assert "首个分类月份" in opening and "新增" not in opening.split("信用风险分类结果")[0]


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*")
@pytest.mark.filterwarnings("ignore:.*Any type hint is inferred:UserWarning:mlflow.types.*")
@pytest.mark.filterwarnings("ignore::workbench.scoring.scorecard.ScorecardWarning")
def test_first_month_of_the_real_stages_states_honest_figures(prepared_home, monkeypatch, tmp_path):
    """The notebook home's one month, run through every real stage with the demo provider."""
    from conftest import NOTEBOOK_MONTH

    monkeypatch.setenv("WORKBENCH_HOME", str(prepared_home))
    inputs = leadership_report.load_inputs(NOTEBOOK_MONTH)
    page = tmp_path / "leadership.html"
    page.write_text(leadership_report.render_html(inputs), encoding="utf-8")
    text = _check_honest(page)
    assert "首个分类月份" in text and "违法率" not in text.replace("不等于违法率", "")
    assert "同一方案（同样比例与规则），按真实风险分级" in text  # the same-plan oracle (demo)


def test_a_month_without_grades_is_refused_and_the_index_untouched(full_month, home, capsys):
    """`workbench report --month 2030-01`: one line, exit 2, no report, index unchanged."""
    from workbench import cli

    index = home / "reports" / "index.html"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text("<html>earlier index</html>", encoding="utf-8")
    args = ["report", "--month", "2030-01", "--no-pdf", "--no-notebook"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no grades for 2030-01" in err and MONTH in err
    assert index.read_text(encoding="utf-8") == "<html>earlier index</html>"
    assert not (home / "reports" / "2030-01").exists()
    # without --month: the latest month with outputs, here indicators only, is refused too
    later = home / "data" / "indicators" / "2030-02"
    later.mkdir(parents=True)
    (later / "indicators.parquet").write_bytes(b"")
    assert cli.main(["report", "--no-pdf", "--no-notebook"]) == 2
    assert "no grades for 2030-02" in capsys.readouterr().err
    assert index.read_text(encoding="utf-8") == "<html>earlier index</html>"
