"""The sampling design in memory (抽样设计): frame, strata, the draw, tasks, the budget.

:func:`draw_sample` makes the whole draw of one plan on one month's grades without
touching a file: the sampling frame (eligibility, triggers, exclusions), the stratum
counts, the SHA-256 draw with every enterprise's inclusion probability π, the tasks with
their inspectors, the per-stratum design table and (when the plan asks) the budget
proposal. The stage (:mod:`workbench.stages.sample`) reads the inputs and writes the
files; :mod:`.replay` compares a redraw with a recorded one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.sampling import budget as budget_mod
from workbench.sampling import draw as draw_mod
from workbench.sampling import inspectors as insp_mod
from workbench.sampling import population as pop_mod
from workbench.sampling.plan import GradeRule, Plan

#: Columns of tasks.parquet, in order .
TASK_COLUMNS = (
    "task_id",
    "plan_id",
    "draw_order",
    "uscc",
    "name",
    "grade",
    "stratum",
    "inclusion_probability",
    "trigger",
    "item",
    "department",
    "inspectors",
    "inspector_names",
    "region_code",
    "industry_section",
    "snapshot",
    "window_start",
    "window_end",
    "seed",
)


#: Grade-file columns the draw reads.
GRADE_COLUMNS = (
    "uscc",
    "name",
    "snapshot",
    "entity_type",
    "industry_section",
    "region_code",
    "pd",
    "grade",
)


def draw_sample(
    plan: Plan,
    grades: pd.DataFrame,
    grade_order: list[str],
    month: str,
    tables: dict[str, pd.DataFrame],
    earlier_tasks: pd.DataFrame | None = None,
    labels: dict[str, str] | None = None,
) -> dict:
    """The whole draw in memory: frame, strata, drawn enterprises, staffed tasks, budget.

    Returns a dict with ``frame``, ``strata``, ``tasks``, ``budget`` (a
    :class:`~workbench.sampling.budget.BudgetProposal` or None), ``snapshot`` and
    ``window``.
    """
    plan.check_grades(grade_order)
    snapshot = pd.Timestamp(month) + pd.offsets.MonthEnd(0)
    window_start, window_end = plan.window.resolve(snapshot)
    if plan.triggers.referrals is not None:
        tables = {**tables, "referrals": pop_mod.read_referrals(plan.triggers.referrals)}
    frame = pop_mod.build_frame(grades, plan, snapshot, tables, earlier_tasks)
    hits = None
    if plan.expected_rates == "hit_rate":  # past plans' results, 1/π-weighted; else the PD
        hits = budget_mod.rates_from_hits(
            grades, tables.get("inspections"), snapshot, tasks=_calibration_tasks(earlier_tasks)
        )

    proposal = None
    rules = dict(plan.grades)
    if plan.budget is not None:
        eligible = frame[frame["eligible"]]
        sizes = eligible.groupby("grade").size()
        rates = _grade_rates(eligible, hits)
        proposal = budget_mod.propose_ratios(
            {g: int(sizes.get(g, 0)) for g in grade_order},
            {g: float(rates.get(g, 0.0)) for g in grade_order},
            plan.budget.inspections,
            {g: float(v) for g, v in plan.budget.floors.items()},
            {g: float(v) for g, v in plan.budget.ceilings.items()},
            float(plan.budget.overall_floor),
            overall_base=len(frame),
            sources=dict(hits["source"]) if hits is not None else dict.fromkeys(grade_order, "pd"),
        )
        if plan.budget.apply:
            rules = {
                g: GradeRule(ratio, rules[g].min, rules[g].max, rules[g].triggered_only)
                for g, ratio in proposal.ratios().items()
            }

    counts = draw_mod.stratum_counts(frame, rules, grade_order)
    drawn = draw_mod.draw(frame, counts, plan.seed, plan.id, month)
    tasks = _expand_tasks(drawn, plan, month, snapshot, window_start, window_end)
    tasks = insp_mod.assign_inspectors(
        tasks, tables["inspectors"], plan, month, tables.get("conflicts"), earlier_tasks
    )
    tasks = tasks[list(TASK_COLUMNS)]
    strata = _strata_table(frame, counts, rules, labels or {}, plan, hits)
    warnings = [
        f"department {d}: no inspector of the register (执法检查人员名录库) belongs to it"
        for d in insp_mod.departments_without_inspectors(tables["inspectors"], plan)
    ]
    return {
        "warnings": warnings,
        "frame": frame,
        "strata": strata,
        "tasks": tasks,
        "budget": proposal,
        "snapshot": snapshot,
        "window": (window_start, window_end),
        "rules": rules,
    }


def _calibration_tasks(earlier_tasks: pd.DataFrame | None) -> pd.DataFrame | None:
    """Earlier draws' tasks with what calibration needs (grade, π), else None."""
    from workbench.evaluation.weighting import CALIBRATION_TASK_COLUMNS

    if earlier_tasks is None or not set(CALIBRATION_TASK_COLUMNS) <= set(earlier_tasks):
        return None
    return earlier_tasks


def _grade_rates(rows: pd.DataFrame, hits: pd.DataFrame | None) -> pd.Series:
    if hits is not None:
        return hits["rate"]
    return budget_mod.rates_from_pd(rows)


def _expand_tasks(drawn, plan, month, snapshot, window_start, window_end) -> pd.DataFrame:
    """One task per drawn enterprise and plan item, in draw order then item order."""
    n_items = len(plan.items)
    rep = drawn.loc[drawn.index.repeat(n_items)].reset_index(drop=True)
    item_no = np.tile(np.arange(1, n_items + 1), len(drawn))
    rep["item"] = pd.array(
        [plan.items[i - 1].name for i in item_no] if len(rep) else [], dtype="string"
    )
    compact = month.replace("-", "")
    rep["task_id"] = pd.array(
        [
            f"{plan.id}-{compact}-{o:05d}-{i}"
            for o, i in zip(rep["draw_order"].to_numpy(), item_no, strict=True)
        ],
        dtype="string",
    )
    rep["plan_id"] = pd.array([plan.id] * len(rep), dtype="string")
    rep["snapshot"] = pd.Series(snapshot, index=rep.index).astype("datetime64[ms]")
    rep["window_start"] = pd.Series(window_start, index=rep.index).astype("datetime64[ms]")
    rep["window_end"] = pd.Series(window_end, index=rep.index).astype("datetime64[ms]")
    rep["seed"] = np.int64(plan.seed)
    rep["draw_order"] = rep["draw_order"].astype("int64")
    rep["inclusion_probability"] = rep["inclusion_probability"].astype("float64")
    for col in ("uscc", "name", "grade", "stratum", "trigger", "region_code", "industry_section"):
        rep[col] = rep[col].astype("string")
    return rep


def _strata_table(frame, counts, rules, labels, plan, hits) -> pd.DataFrame:
    """Per stratum: frame sizes, draw, π, expected findings against a uniform draw.

    The uniform draw (the one baseline of the workbench) draws the same number of
    enterprises over the plan's **eligible frame** (``population``: not excluded, and
    triggered where the grade is triggered-only), each stratum in proportion to its frame.
    Expected findings use one expected finding rate per stratum for both: the past
    results' 1/π-weighted rate of its grade (``rate_source`` ``hit_rate``) or the mean PD
    of its eligible enterprises (``pd``).
    """
    keys = ["stratum", "grade"]
    g = frame.groupby(keys, sort=False)
    table = counts.copy()
    by = table.set_index(keys).index

    def per(series: pd.Series, fill=0):
        return series.reindex(by).fillna(fill).to_numpy()

    table["registered"] = per(g.size()).astype(np.int64)
    table["excluded"] = per(g["excluded"].sum()).astype(np.int64)
    table["not_triggered"] = table["registered"] - table["excluded"] - table["population"]
    table["label"] = table["grade"].map(lambda x: labels.get(x, x))
    if plan.by_region:
        table["region_code"] = table["stratum"].str.split("/").str[1]
    table["ratio"] = [float(rules[x].ratio) for x in table["grade"]]
    eligible = frame[frame["eligible"]]
    if hits is not None:
        rate = table["grade"].map(hits["rate"]).astype(float).to_numpy()
        table["rate_source"] = table["grade"].map(hits["source"])
    else:
        rate = per(eligible.groupby(keys, sort=False)["pd"].mean(), np.nan)
        table["rate_source"] = "pd"
    table["expected_rate"] = rate
    table["expected_findings"] = np.nan_to_num(table["drawn"].to_numpy() * rate)
    size = table["population"].to_numpy(dtype=float)
    share = size / size.sum() if size.sum() else size * 0.0
    table["uniform_drawn"] = share * table["drawn"].sum()
    table["uniform_expected_findings"] = np.nan_to_num(table["uniform_drawn"] * rate)
    order = ["stratum", "grade", "label"] + (["region_code"] if plan.by_region else [])
    order += [
        "registered",
        "excluded",
        "not_triggered",
        "population",
        "drawn",
        "ratio",
        "inclusion_probability",
        "rate_source",
        "expected_rate",
        "expected_findings",
        "uniform_drawn",
        "uniform_expected_findings",
    ]
    return table[order]
