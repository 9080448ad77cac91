"""Tables and charts of one draw for the stage notebook (内部参考，不对外公开).

Chinese headers and labels, because the readers are the bureau's analysts and leaders.
"""

from __future__ import annotations

import re

import pandas as pd

from workbench import contract
from workbench.config import labels
from workbench.sampling.plan import Plan


def _pct(x) -> str:
    return f"{100 * float(x):.4g}%"


def _entity_types(codes) -> str:
    """Contract codes of entity types in Chinese (individual_business → 个体工商户)."""
    return "、".join(contract.code_label("entity_type", c) for c in codes)


def plan_table(plan: Plan) -> pd.DataFrame:
    """The plan's main fields, one per row (never the seed's value), in Chinese."""
    pop = plan.population
    scope = []
    if pop.entity_types:
        scope.append("主体类型：" + _entity_types(pop.entity_types))
    if pop.exclude_entity_types:
        scope.append("不含主体类型：" + _entity_types(pop.exclude_entity_types))
    if pop.industry_sections:
        scope.append("行业门类：" + "、".join(pop.industry_sections))
    if pop.regions:
        scope.append("行政区划：" + "、".join(pop.regions))
    if pop.domain:
        scope.append("专业领域：" + labels.family_name(pop.domain))
    ratios = "；".join(
        f"{g} {_pct(r.ratio)}"
        + (f"（至少{r.min}户）" if r.min else "")
        + (f"（至多{r.max}户）" if r.max is not None else "")
        + ("（仅触发时）" if r.triggered_only else "")
        for g, r in plan.grades.items()
    )
    window = (
        f"{plan.window.start} 至 {plan.window.end}"
        if plan.window.start
        else f"基准日次日起 {plan.window.days} 天"
    )
    rows = [
        ("计划编号", plan.id),
        ("计划名称", plan.title),
        # the seed stays in the internal draw.json: with the register it would reveal grades
        ("随机种子", "记于内部抽取记录 draw.json，不在本页显示"),
        ("参与部门", "、".join(plan.departments)),
        ("抽查事项", "、".join(i.name for i in plan.items)),
        ("抽查对象范围", "；".join(scope) or "全部在业市场主体"),
        ("分级抽查比例", ratios),
        ("分层", "等级 × 行政区划" if plan.by_region else "等级"),
        ("触发条件", f"近{plan.triggers.days}天投诉举报、数据预警、转办移送"),
        ("排除", f"近{plan.same_item_months}个月已检查同一事项" if plan.same_item_months else "无"),
        (
            "执法人员",
            f"每项任务 {plan.inspectors_per_task} 人，每人至多 {plan.max_tasks_per_inspector} 项",
        ),
        ("检查时间", window),
        (
            "预期发现率来源",
            {"pd": "模型违约概率（PD）", "hit_rate": "近12个月检查发现问题率"}[plan.expected_rates],
        ),
    ]
    return pd.DataFrame(rows, columns=["项目", "内容"])


STRATA_HEADERS = {
    "stratum": "层",
    "label": "等级",
    "registered": "范围内户数",
    "excluded": "近期已查（排除）",
    "not_triggered": "未触发（不抽）",
    "population": "抽样框户数 N",
    "drawn": "抽取户数 n",
    "ratio": "计划比例",
    "inclusion_probability": "入样概率 π",
    "expected_rate": "预期发现率",
    "expected_findings": "预期发现问题数",
    "uniform_drawn": "等量随机抽取户数",
    "uniform_expected_findings": "等量随机预期发现数",
}


#: How each column of :func:`strata_view` and :func:`budget_view` is shown: households
#: whole, expected findings to one decimal, shares as percentages, π to four digits.
FORMATS = {
    **{
        h: "{:,.0f}"
        for h in (
            "范围内户数",
            "近期已查（排除）",
            "未触发（不抽）",
            "抽样框户数 N",
            "抽取户数 n",
            "等量随机抽取户数",
            "抽样框户数",
            "建议抽取户数",
            "等量随机户数",
        )
    },
    **{h: "{:,.1f}" for h in ("预期发现问题数", "等量随机预期发现数")},
    **{h: "{:.2%}" for h in ("计划比例", "预期发现率", "比例下限", "比例上限", "建议比例")},
    "入样概率 π": "{:.4g}",
}


def formats(table: pd.DataFrame) -> dict[str, str]:
    """The :data:`FORMATS` of the columns ``table`` has (for ``escaped_table``)."""
    return {c: f for c, f in FORMATS.items() if c in table.columns}


def strata_view(strata: pd.DataFrame) -> pd.DataFrame:
    """Strata with Chinese headers and a total row."""
    table = strata.copy()
    table["label"] = table["grade"].astype(str) + " " + table["label"].astype(str)
    table = table[[c for c in STRATA_HEADERS if c in table]]
    total = {
        c: table[c].sum()
        for c in table
        if c
        in {
            "registered",
            "excluded",
            "not_triggered",
            "population",
            "drawn",
            "expected_findings",
            "uniform_drawn",
            "uniform_expected_findings",
        }
    }
    total.update({"stratum": "合计", "label": ""})
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    return table.rename(columns=STRATA_HEADERS)


#: The draw's warnings (recorded in English in draw.json, whose bytes a replay compares),
#: as the page says them in Chinese.
_WARNINGS_ZH = (
    (
        re.compile(
            r"department (.+): no inspector of the register \(执法检查人员名录库\) belongs to it"
        ),
        "检查部门“{0}”在执法检查人员名录库中没有在岗执法人员",
    ),
)


def _warning_zh(text: str) -> str:
    for pattern, zh in _WARNINGS_ZH:
        match = pattern.fullmatch(str(text))
        if match:
            return zh.format(*match.groups())
    return str(text)


def headline(draw: dict) -> str:
    """One paragraph (Markdown) on what was drawn and what it should find."""
    c = draw["counts"]
    ours, uniform = draw["expected_findings"], draw["uniform_expected_findings"]
    lift = f"，是等量随机抽取（{uniform:.1f}）的 {ours / uniform:.2f} 倍" if uniform else ""
    notes = "".join(f"\n\n> 注意：{_warning_zh(w)}" for w in draw.get("warnings", []))
    return (
        f"**{draw['title']}**（{draw['month']}）："
        f"范围内 {c['population']:,} 户，"
        f"近期已查排除 {c['excluded']:,} 户，未触发不抽 {c['not_triggered']:,} 户，抽样框 "
        f"{c['eligible']:,} 户；抽取 {c['drawn_enterprises']:,} 户、任务 {c['tasks']:,} 项。"
        f"按预期发现率，本计划预期发现问题 {ours:.1f} 户{lift}。检查时间 "
        f"{draw['window']['start']} 至 {draw['window']['end']}。{notes}"
    )


def counts_figure(strata: pd.DataFrame):
    """Bars per stratum: sampling frame against drawn, with the inclusion probability."""
    import matplotlib.pyplot as plt

    from workbench.views.style import use_cjk_font

    use_cjk_font()
    fig, ax = plt.subplots(figsize=(8, 4))
    x = range(len(strata))
    ax.bar(
        [i - 0.2 for i in x], strata["population"], width=0.4, label="抽样框户数", color="#9db4d0"
    )
    ax.bar([i + 0.2 for i in x], strata["drawn"], width=0.4, label="抽取户数", color="#c0392b")
    for i, (n, p) in enumerate(zip(strata["drawn"], strata["inclusion_probability"], strict=True)):
        ax.annotate(f"π={p:.3g}", (i + 0.2, n), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(list(x), strata["stratum"])
    ax.set_yscale("symlog")
    ax.set_xlabel("层（信用风险等级）")
    ax.set_ylabel("户数（对数刻度）")
    ax.set_title("各等级抽样框与抽取户数")
    ax.legend()
    fig.tight_layout()
    return fig


def findings_figure(strata: pd.DataFrame):
    """Expected problems found per grade: this plan against a uniform draw of the same size."""
    import matplotlib.pyplot as plt

    from workbench.views.style import use_cjk_font

    use_cjk_font()
    fig, ax = plt.subplots(figsize=(8, 4))
    x = range(len(strata))
    ax.bar(
        [i - 0.2 for i in x],
        strata["expected_findings"],
        width=0.4,
        label="本计划（分级抽查）",
        color="#c0392b",
    )
    ax.bar(
        [i + 0.2 for i in x],
        strata["uniform_expected_findings"],
        width=0.4,
        label="等量随机抽取（不分级）",
        color="#7f8c8d",
    )
    ax.set_xticks(list(x), strata["stratum"])
    ax.set_xlabel("层（信用风险等级）")
    ax.set_ylabel("预期发现问题户数")
    ours, uniform = strata["expected_findings"].sum(), strata["uniform_expected_findings"].sum()
    ax.set_title(f"预期发现问题：本计划 {ours:.1f} 户，等量随机 {uniform:.1f} 户")
    ax.legend()
    fig.tight_layout()
    return fig


def workload_table(tasks: pd.DataFrame) -> pd.DataFrame:
    """Per department: tasks, inspectors used, least and most tasks per inspector."""
    pairs = (
        tasks[["department", "inspectors"]]
        .assign(inspector=tasks["inspectors"].str.split(";"))
        .explode("inspector")
    )
    per = pairs.groupby(["department", "inspector"]).size()
    table = pd.DataFrame(
        {
            "任务数": tasks.groupby("department").size(),
            "选派人员数": per.groupby(level=0).size(),
            "人均任务": per.groupby(level=0).mean().round(1),
            "最少": per.groupby(level=0).min(),
            "最多": per.groupby(level=0).max(),
        }
    )
    table.index.name = "检查部门"
    return table.reset_index()


def workload_figure(tasks: pd.DataFrame, limit: int | None = None):
    """Histogram of tasks per inspector (workload), with the plan's limit."""
    import matplotlib.pyplot as plt

    from workbench.views.style import use_cjk_font

    use_cjk_font()
    load = tasks["inspectors"].str.split(";").explode().value_counts()
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.hist(load.to_numpy(), bins=range(0, int(load.max()) + 2), color="#2e86c1", rwidth=0.9)
    if limit:
        ax.axvline(limit, color="#c0392b", linestyle="--", label=f"每人上限 {limit} 项")
        ax.legend()
    ax.set_xlabel("每名执法人员承担的任务数")
    ax.set_ylabel("人数")
    ax.set_title(f"执法人员工作量（{len(load)} 人）")
    fig.tight_layout()
    return fig


BUDGET_HEADERS = {
    "grade": "等级",
    "population": "抽样框户数",
    "rate": "预期发现率",
    "floor": "比例下限",
    "ceiling": "比例上限",
    "ratio": "建议比例",
    "drawn": "建议抽取户数",
    "expected_findings": "预期发现问题数",
    "uniform_drawn": "等量随机户数",
    "uniform_expected_findings": "等量随机预期发现数",
}


def budget_view(budget: pd.DataFrame) -> pd.DataFrame:
    """The budget proposal with Chinese headers."""
    return budget[list(BUDGET_HEADERS)].rename(columns=BUDGET_HEADERS)
