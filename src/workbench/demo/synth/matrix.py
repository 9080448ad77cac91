"""A matrix of cities unlike the demo (城市矩阵), each taken through the monthly stages.

Each :class:`Case` is a small city with a :class:`~.profile.CityProfile` — another
prefecture, industry mix or risk structure, 18 to 60 months of exported history, another
end month, optional tables absent. :func:`run_case` generates it and runs, with every
stage's defaults, ``ingest → train → promote → grade → sample`` through the same runner
the CLI uses, and records what a bureau would see: the design, the metrics, the bad rate
per grade on the held-out (out-of-time validation) labels, or the readiness message a
stage stopped with. ``tests/test_city_matrix.py`` asserts on it;
``bench/bench_city_matrix.py`` prints the table recorded in ``bench/README.md``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from . import generate_city
from .profile import CityProfile

#: A plan for any city: the demo plan with its departments replaced by the city's own.
PLAN = "demo_monthly"


@dataclass(frozen=True)
class Case:
    """One city of the matrix."""

    name: str
    profile: CityProfile
    end: str
    entities: int = 3000
    seed: int = 11

    @property
    def months(self) -> int:
        """Months the truth covers: the exported history (36 when it is not cut)."""
        return self.profile.history_months or 36


#: The grid: short histories that must stop with a readiness message, and four cities
#: that must train — each unlike the demo in several ways at once.
GRID: tuple[Case, ...] = (
    Case("h18", CityProfile(history_months=18), "2026-10-31"),
    Case("h24-services", CityProfile(history_months=24, industry_mix="services"), "2026-05-31"),
    Case(
        "h36-tonghua-no-optional",
        CityProfile(
            place="tonghua",
            history_months=36,
            absent=("complaints", "judicial", "licenses", "relations"),
        ),
        "2026-03-31",
    ),
    Case(
        "h36-attributes-services",
        CityProfile(history_months=36, industry_mix="services", risk="attributes"),
        "2026-06-30",
    ),
    Case(
        "h48-latent",
        CityProfile(history_months=48, risk="latent", absent=("judicial",)),
        "2026-10-31",
    ),
    Case(
        "h60-industrial-events",
        CityProfile(history_months=60, industry_mix="industrial", risk="events"),
        "2025-12-31",
    ),
)


@dataclass
class Outcome:
    """What one city gave."""

    case: Case
    stages: dict[str, str] = field(default_factory=dict)  # stage → "ok" or its message
    stopped: str | None = None  # the message the first stage that stopped gave
    design: str | None = None
    metrics: dict = field(default_factory=dict)
    bad_rate_by_grade: dict[str, float] = field(default_factory=dict)  # held-out labels
    rows_by_grade: dict[str, int] = field(default_factory=dict)
    #: 95 % interval of each grade's held-out bad rate, clustered by enterprise
    interval_by_grade: dict[str, tuple[float, float]] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


#: the end of a bureau's name (市场监督管理局); what follows it names a unit of the bureau
BUREAU = "市场监督管理局"


def city_plan(city: Path, out: Path) -> Path:
    """The demo plan with the city's own bureaus (its inspectors'), written to ``out``.

    Like the demo plan, it names bureaus, not their units: a plan department takes every
    unit whose name starts with it, so a task can be staffed from the whole bureau. Named
    unit by unit, a unit of two inspectors could not staff a task when one of them had
    declared a conflict (回避) with the drawn enterprise.
    """
    from workbench import config

    plan = yaml.safe_load((config.current().plans["demo_monthly"]).read_text(encoding="utf-8"))
    inspectors = next(city.glob("inspectors.*"), None)
    if inspectors is not None and inspectors.suffix == ".csv":
        names = pd.read_csv(inspectors, dtype=str)["department"].dropna().unique()
        plan["departments"] = sorted(
            {n.split(BUREAU)[0] + BUREAU if BUREAU in n else n for n in names}
        )
    plan["id"] = PLAN
    out.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def run_case(case: Case, root: Path) -> Outcome:
    """Generate the case's city under ``root`` and run the stages in the current workspace.

    A stage that raises a :class:`~workbench.errors.WorkbenchError` stops the city; its
    message is recorded (a readiness message when the data cannot support a model).
    """
    from workbench.errors import WorkbenchError
    from workbench.scoring.grades import clustered_wilson
    from workbench.stages import grade, ingest, promote, sample, train
    from workbench.stages.runner import execute
    from workbench.workspace.folders import ModelFolder

    started = time.perf_counter()
    outcome = Outcome(case)
    city = root / "city"
    generate_city(
        city,
        entities=case.entities,
        months=case.months,
        seed=case.seed,
        end=case.end,
        profile=case.profile,
    )
    steps = [
        ("ingest", lambda: ingest.Parameters(data=str(city))),
        ("train", lambda: train.Parameters()),
        ("promote", lambda: promote.Parameters(run=outcome.metrics["run_id"])),
        ("grade", lambda: grade.Parameters()),
        ("sample", lambda: sample.Parameters(plan=str(city_plan(city, root / "plan.yaml")))),
    ]
    for name, params in steps:
        try:
            done = execute(name, params(), notebook=False)
        except WorkbenchError as err:
            outcome.stages[name] = str(err)
            outcome.stopped = f"{name}: {err}"
            break
        outcome.stages[name] = "ok"
        if name == "train":
            summary = done.summary
            outcome.metrics = dict(summary["metrics"], run_id=summary["run_id"])
            outcome.design = summary["params"].get("design")
            outcome.excluded = dict(summary["params"].get("excluded") or {})
            validation = ModelFolder(Path(done.parameters.out)).read_parquet("validation")
            for g, part in validation.groupby("model_grade"):
                outcome.bad_rate_by_grade[g] = float(part["label"].mean())
                outcome.rows_by_grade[g] = len(part)
                outcome.interval_by_grade[g] = clustered_wilson(
                    part["label"].to_numpy(), part["uscc"].to_numpy()
                )
        if name == "promote" and done.summary.get("exit_code", 0):
            outcome.stopped = f"promote: gates failed: {done.summary}"
            break
    outcome.seconds = round(time.perf_counter() - started, 1)
    return outcome
