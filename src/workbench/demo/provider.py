"""The demo provider (演示提供者): what only a synthetic city with a hidden truth can give.

Registered as the ``demo`` plug-in of ``workbench.providers`` (pyproject.toml), so the
pipeline finds it by name and never imports this package. It supplies:

- inspection results for a drawn plan, simulated from the truth (the feedback loop
  closes on the demo city);
- the ceilings of a trained model on its validation rows (the label's Bayes limit and
  the true violation risk's AUC);
- the oracle of an evaluation: what the same number of inspections would find knowing
  the truth — over a uniform draw of the eligible frame, under the same plan with grades
  by the true risk, and unconstrained (:mod:`workbench.demo.oracle`).

On data without a truth (a bureau's export) every hook returns nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import workspace
from workbench.workspace.folders import IngestFolder, PlanFolder


def truth_dir_of(ingest: IngestFolder | None) -> Path | None:
    """The ``_truth/`` folder of the synthetic city an ingest read, or None."""
    if ingest is None or not ingest.exists():
        return None
    truth = ingest.source / "_truth"
    return truth if truth.is_dir() else None


def _plan_truth(plan: PlanFolder) -> Path | None:
    """The truth of the city the plan's month was ingested from (else the demo city's)."""
    ws = workspace.current()
    truth = truth_dir_of(ws.ingest.for_month(plan.month))
    if truth is None:
        fallback = workspace.default_city_dir() / "_truth"
        truth = fallback if fallback.is_dir() else None
    return truth


class DemoProvider:
    """Simulated inspections and truth ceilings for the synthetic demo city."""

    name = "demo"

    def inspection_results(self, plan: PlanFolder, seed: int) -> Path | None:
        """Simulate the plan's inspections from the truth into its results inbox."""
        from workbench.demo import inspections

        truth = _plan_truth(plan)
        if truth is None:
            return None
        frame = inspections.simulate_results(plan.read_tasks(), truth, seed=seed)
        inbox = workspace.current().results.at(plan.month, plan.plan_id)
        return inspections.write_results(frame, inbox.file("inspections"))

    def training_metrics(self, validation: pd.DataFrame, data: IngestFolder) -> dict:
        """The synthetic city's ceilings on the validation rows."""
        from workbench.demo.synth.ceiling import truth_ceiling

        truth = truth_dir_of(data)
        return truth_ceiling(validation, truth) if truth is not None else {}

    def evaluation_extras(
        self, plan: PlanFolder, units: pd.DataFrame, population: pd.DataFrame | None
    ) -> dict:
        """The oracle: the same inspections knowing the truth, under the same plan too.

        Gives the uniform draw over the eligible frame, the plan's expectation, the same
        plan with grades by the true risk (``same_plan_expected``, ``captured_share``) and
        the unconstrained top-m figures (:mod:`workbench.demo.oracle`). When the plan or
        its inputs cannot be found again, ``same_plan_note`` says why.
        """
        from workbench.demo import inspections
        from workbench.demo.oracle import oracle

        truth = _plan_truth(plan)
        if truth is None or population is None or units.empty:
            return {}
        day = pd.to_datetime(units["inspected_on"]).median()
        state = inspections.truth_state(truth, population["uscc"], day).set_index("uscc")
        inspected = state.loc[units["uscc"].astype(str)]
        model, perfect, pool, note = _same_plan(plan, state)
        if model is None:  # the plan cannot be redone: its sample's own truth, the whole register
            model = {"drawn": 0, "expected": 0.0, "frame": 0, "frame_mean": np.nan}
            pool = state
        figures = oracle(inspected, int(units["found"].sum()), model, perfect, pool)
        figures["truth_month"] = f"{state['truth_month'].iloc[0]:%Y-%m}"
        if note:
            figures["same_plan_note"] = note
        return {"oracle": figures}


def _same_plan(plan: PlanFolder, state: pd.DataFrame):
    """The plan redone on the model's grades and on grades by the true risk.

    Returns ``(model, perfect, pool, note)``: :func:`expected_under_plan` of both, the
    truth of the enterprises the plan could inspect at all, and a note when the plan
    cannot be redone (then the first three are None).
    """
    from fractions import Fraction

    from workbench.demo.oracle import expected_under_plan, true_risk_grades
    from workbench.sampling import population as pop_mod
    from workbench.sampling.design import GRADE_COLUMNS
    from workbench.sampling.plan import GradeRule, PlanError, load_plan
    from workbench.stages import sample as sample_stage
    from workbench.workspace.integrity import sha256_file

    ws = workspace.current()
    record = plan.draw()
    spec = None
    for name in (record.get("plan_id"), Path(str((record.get("plan") or {}).get("file"))).stem):
        try:
            candidate = load_plan(str(name))
        except (PlanError, OSError, ValueError):
            continue
        if candidate.sha256 == (record.get("plan") or {}).get("sha256"):
            spec = candidate
            break
    grades = ws.grades.at(plan.month)
    ingest = ws.ingest.for_month(plan.month)  # as the sample stage finds it
    if spec is None or not grades.exists() or ingest is None:
        return None, None, None, "the plan file or its grades/ingest were not found again"
    register = (record.get("register") or {}).get("sha256")
    if register and register != sha256_file(ingest.table_path("enterprises")):
        return None, None, None, "the register the plan was drawn from is not the ingest's now"
    frame = grades.read_grades(columns=list(GRADE_COLUMNS)).reset_index(drop=True)
    summary = grades.maybe_json("summary") or {}
    order = [str(g) for g in (summary.get("scheme") or {}).get("grades", [])]
    order = order or sorted(frame["grade"].astype(str).unique())
    rules = dict(spec.grades)
    if spec.budget is not None and spec.budget.apply:  # drawn with the proposal's ratios
        strata = plan.read_csv("strata").drop_duplicates("grade").set_index("grade")["ratio"]
        rules = {
            g: GradeRule(
                Fraction(float(strata[g])).limit_denominator(10**7), r.min, r.max, r.triggered_only
            )
            for g, r in rules.items()
            if g in strata.index
        }
    tables = {
        name: ingest.read_table(name)
        for name in sample_stage.INPUT_TABLES
        if ingest.has_table(name)
    }
    snapshot = pd.Timestamp(record["snapshot"])
    earlier = sample_stage._read_earlier(sample_stage.earlier_task_lists(plan.month))
    inside = pop_mod.population_mask(
        frame, spec.population, snapshot, tables.get("enterprises"), tables.get("licenses")
    )
    members = frame.loc[inside].reset_index(drop=True)
    uscc = members["uscc"].astype(str)
    excluded = pop_mod.recently_inspected(
        uscc,
        tuple(i.name for i in spec.items),
        snapshot,
        spec.same_item_months,
        tables.get("inspections"),
        earlier,
    )
    triggered = pop_mod.trigger_reasons(uscc, tables, spec.triggers, snapshot).notna().to_numpy()
    truth = state.reindex(uscc)
    q = truth["finding_probability"].fillna(0).to_numpy(dtype=float)
    regions = members["region_code"] if spec.by_region else None
    model = expected_under_plan(members["grade"], q, excluded, triggered, rules, regions)
    risk = state.reindex(frame["uscc"].astype(str))["p_violation"].reset_index(drop=True)
    whole = true_risk_grades(frame["grade"], risk, order)
    perfect = expected_under_plan(
        whole[inside].reset_index(drop=True), q, excluded, triggered, rules, regions
    )
    pool = truth[~excluded].reset_index()
    note = ""
    recorded = {
        h: c
        for h, c in (record.get("counts", {}).get("by_stratum") or {}).items()
        if c["population"]
    }
    if recorded and recorded != model["strata"]:
        note = "the plan redone on the model's grades differs from the recorded draw"
    return model, perfect, pool, note


def describe_truth(ingest: IngestFolder) -> str:
    """One line on whether an ingest has a truth (for the cycle's log)."""
    truth = truth_dir_of(ingest)
    if truth is None:
        return "no synthetic truth"
    generator = truth / "generator.json"
    seed = json.loads(generator.read_text()).get("seed") if generator.is_file() else "?"
    return f"synthetic truth in {truth} (seed {seed})"
