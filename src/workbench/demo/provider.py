"""The demo provider (演示提供者): what only a synthetic city with a hidden truth can give.

Registered as the ``demo`` plug-in of ``workbench.providers`` (pyproject.toml), so the
pipeline finds it by name and never imports this package. It supplies:

- inspection results for a drawn plan, simulated from the truth (the feedback loop
  closes on the demo city);
- the ceilings of a trained model on its validation rows (the label's Bayes limit and
  the true violation risk's AUC);
- the oracle of an evaluation: what the same number of inspections would find knowing
  the truth.

On data without a truth (a bureau's export) every hook returns nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

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
        """The oracle: the same number of inspections with the true probabilities."""
        from workbench.demo import inspections
        from workbench.demo.oracle import oracle

        truth = _plan_truth(plan)
        if truth is None or population is None or units.empty:
            return {}
        day = pd.to_datetime(units["inspected_on"]).median()
        state = inspections.truth_state(truth, population["uscc"], day)
        inspected = state.set_index("uscc").loc[units["uscc"].astype(str)]
        figures = oracle(inspected, state, int(units["found"].sum()))
        figures["truth_month"] = f"{state['truth_month'].iloc[0]:%Y-%m}"
        return {"oracle": figures}


def describe_truth(ingest: IngestFolder) -> str:
    """One line on whether an ingest has a truth (for the cycle's log)."""
    truth = truth_dir_of(ingest)
    if truth is None:
        return "no synthetic truth"
    generator = truth / "generator.json"
    seed = json.loads(generator.read_text()).get("seed") if generator.is_file() else "?"
    return f"synthetic truth in {truth} (seed {seed})"
