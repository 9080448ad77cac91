"""The monthly cycle (月度工作流程) on the demo city: every stage, month after month.

Each month: ingest (with last month's inspection results fed back) → indicators → train
and promote (the first month, and again when last month's health recommends it) → grade
→ sample → inspections (simulated from the synthetic truth) → evaluate → health → the
leadership report; all stage notebooks run through Papermill, every training, grading
and health check is an MLflow run.

The demo city is a history that has already happened up to its last day (the exports'
snapshot). The cycle replays its last months: each month's stages compute **as of that
month's end** — the indicators through the as-of views, the training labels from a
panel whose outcomes are cut at the month's end — so nothing later is visible to the
month's decisions. The plan drawn at a month's end is inspected in the next month, which
is why the last cycle month is the one before the data's last month.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from workbench import ingest, workspace

log = logging.getLogger(__name__)

DEFAULT_CYCLE_MONTHS = 6


@dataclass(frozen=True)
class CycleSettings:
    """What the demo cycle runs with."""

    city: Path
    data_snapshot: str  # the exports' last day
    months: tuple[str, ...]  # YYYY-MM, oldest first
    plan: str = "demo_monthly"
    family: str = "generic"
    scheme: str = "national_4"
    packs: str = "food"


def cycle_months(data_snapshot: str, count: int = DEFAULT_CYCLE_MONTHS) -> tuple[str, ...]:
    """The ``count`` months ending the month before the data's last one (see module doc)."""
    if count < 1:
        raise ValueError("the cycle needs at least one month")
    last = pd.Period(pd.Timestamp(data_snapshot), "M") - 1
    return tuple(str(last - k) for k in range(count - 1, -1, -1))


def month_end(month: str) -> str:
    """The last day of ``YYYY-MM`` as ``YYYY-MM-DD``."""
    return str(pd.Period(month, "M").end_time.date())


def feedback_folder(month: str, data_snapshot: str) -> list[Path]:
    """The plan results recorded before ``month`` as one ingest feedback folder (or none).

    Only results of plans evaluated so far exist, i.e. of earlier months; rows dated after
    the exports' snapshot are left out (ingest would quarantine them).
    """
    from workbench import results

    folder = results.write_feedback(data_snapshot, workspace.data_dir() / "feedback" / month)
    return [folder] if folder else []


def panel_as_of(data: Path, month: str, packs: tuple[str, ...] = ()) -> tuple[Path, str]:
    """A training panel with only the outcomes known at ``month``'s end; and its validation start.

    The default design of ``workbench train`` (10 training month ends, a 12-month
    embargo, 3 validation month ends) ending at the latest snapshot whose 12-month outcome
    window closed by the month's end, labels computed from data cut at that day.
    """
    from workbench import labels, train_stage
    from workbench.indicators import load_catalog
    from workbench.panel import build_panel, latest_labelled_snapshot
    from workbench.train import embargoed_snapshots

    definition = labels.load_label_definition()
    known = month_end(month)
    train, valid = embargoed_snapshots(
        latest_labelled_snapshot(known, definition),
        horizon_months=definition.horizon_months,
        train_months=train_stage.TRAIN_MONTHS,
        valid_months=train_stage.VALID_MONTHS,
    )
    frame = build_panel(
        data / "tables", train + valid, load_catalog(packs=packs), definition, known
    )
    out = workspace.data_dir() / "panel" / f"as-of-{month}"
    out.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out / "panel.parquet", index=False)
    return out / "panel.parquet", str(valid[0].date())


class Progress:
    """One line per step, with the month, its position and the seconds it took."""

    def __init__(self, total: int, echo: Callable[[str], None] = print):
        self.total, self.echo, self.started = total, echo, time.perf_counter()

    def step(self, index: int, month: str, what: str, fn: Callable, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` as one announced, timed step; return its result."""
        start = time.perf_counter()
        head = f"[{index}/{self.total} {month}] {what}"
        self.echo(f"{head} …")
        result = fn(*args, **kwargs)
        self.echo(f"{head}: done in {time.perf_counter() - start:.0f} s")
        return result

    def elapsed(self) -> float:
        """Seconds since the cycle started."""
        return time.perf_counter() - self.started


def run_cycle(settings: CycleSettings, echo: Callable[[str], None] = print) -> dict:
    """Run every month of the cycle; return what was done per month."""
    from workbench import (
        evaluate_stage,
        governance,
        grading,
        health,
        leadership_report,
        stages,
    )

    progress = Progress(len(settings.months), echo)
    done: dict[str, dict] = {}
    retrain_reason = None if governance.champion_version(settings.family) else "no champion yet"
    for index, month in enumerate(settings.months, 1):
        record: dict = {}
        data = workspace.ingest_dir(month)
        feedback = feedback_folder(month, settings.data_snapshot)
        step = partial(progress.step, index, month)
        step(
            "ingest" + (" (with the results of earlier plans fed back)" if feedback else ""),
            stages.run_stage,
            "ingest",
            {
                "data": str(settings.city),
                "snapshot": settings.data_snapshot,
                "out": str(data),
                "feedback": ",".join(map(str, feedback)),
            },
            month,
        )
        report = ingest.read_report(data)
        record["fed_back_rows"] = sum(e["accepted"] for e in report.get("feedback", []))
        step(
            "indicators",
            stages.run_stage,
            "indicators",
            {
                "data": str(data),
                "snapshot": month_end(month),
                "packs": settings.packs,
                "out": str(workspace.data_dir() / "indicators" / month),
            },
            month,
        )
        if retrain_reason:
            record["trained"] = step(
                f"train + promote ({retrain_reason})",
                _train_and_promote,
                settings,
                month,
                data,
                echo,
            )
        step(
            "grade",
            stages.run_stage,
            "grade",
            {
                "snapshot": month,
                "data": str(data),
                "family": settings.family,
                "alias": governance.CHAMPION,
                "overrides": "",
                "out": str(grading.grades_root() / month),
            },
            month,
        )
        record["graded"] = grading.read_summary(grading.grades_root() / month)["enterprises"]
        drawn = step("sample (double random)", _sample, settings, month, data)
        plan_id = drawn["plan_id"]
        record["tasks"] = drawn["counts"]["tasks"]
        step(
            "inspections (simulated from the synthetic truth)",
            evaluate_stage.simulate_plan_results,
            month,
            plan_id,
            seed=int(month.replace("-", "")),
        )
        step(
            "evaluate",
            stages.run_stage,
            "evaluate",
            {"month": month, "plan_id": plan_id, "simulate": "auto"},
            month,
        )
        evaluation = evaluate_stage.read_outputs(evaluate_stage.evaluation_dir(month, plan_id))[0]
        record["evaluation"] = _headline(evaluation)
        checked = step("model health", health.run_health, month, log_mlflow=True)
        retrain_reason = (
            "health recommends retraining" if checked.get("retrain_recommended") else None
        )
        record["health"] = {k: checked.get(k) for k in ("psi_score", "retrain_recommended")}
        step("leadership report", stages.run_stage, "report", {"month": month}, month)
        done[month] = record
    leadership_report.build_index()
    return {"months": done, "seconds": round(progress.elapsed(), 1)}


def _sample(settings: CycleSettings, month: str, data: Path) -> dict:
    """Draw the month's plan, then render the sample notebook on the drawn files."""
    from workbench import stages
    from workbench.sampling import stage as sampling

    params = sampling.resolve_parameters(settings.plan, month=month)
    drawn = sampling.run_sample(params.plan, params.grades, params.out, ingest_dir=data)
    stages.run_stage(
        "sample",
        {
            "plan": str(params.plan),
            "grades": str(params.grades),
            "data": str(data),
            "out": str(params.out),
            "show_only": True,
        },
        month,
    )
    return drawn


def _headline(summary: dict) -> dict:
    """The figures the final lines print: hit rate against the uniform estimate, lift."""
    lift = summary.get("lift") or {}
    uniform = lift.get("uniform_per_inspection") or {}
    ratio = lift.get("lift") or {}
    return {
        "inspected": summary.get("inspected"),
        "found": summary.get("found"),
        "hit_rate": lift.get("plan_per_inspection"),
        "uniform_rate": uniform.get("value"),
        "uniform_low": uniform.get("low"),
        "uniform_high": uniform.get("high"),
        "lift": ratio.get("value"),
        "lift_low": ratio.get("low"),
        "lift_high": ratio.get("high"),
    }


def _train_and_promote(settings: CycleSettings, month: str, data: Path, echo) -> dict:
    """Fit on a panel known at ``month``'s end, then promote through the gates."""
    from workbench import governance, stages, train_stage

    panel, validation_from = panel_as_of(data, month)
    out = workspace.data_dir() / "models" / settings.family
    stages.run_stage(
        "train",
        {
            "data": str(data),
            "panel": str(panel),
            "family": settings.family,
            "scheme": settings.scheme,
            "validation_from": validation_from,
            "out": str(out),
        },
        month,
    )
    summary = train_stage.read_run(out)
    result = governance.promote(summary["run_id"])
    echo(f"  {result.message}")
    if not result.promoted and governance.champion_version(settings.family) is None:
        raise RuntimeError(
            f"the first model did not pass the gates, so there is no champion to grade with: "
            f"{result.message}"
        )
    m = summary["metrics"]
    return {
        "run_id": summary["run_id"],
        "version": summary["version"],
        "valid_auc": m["valid_auc"],
        "promoted": result.promoted,
    }
