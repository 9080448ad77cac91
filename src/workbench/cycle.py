"""The monthly cycle (月度工作流程): every stage of the registry, month after month.

Each month runs the registry's cycle stages in order — ingest (with the results of
earlier plans fed back) → indicators → train + promote (the first month, and again when
last month's health recommends it) → grade → sample → evaluate → health → report — each
through the same :func:`workbench.stages.runner.execute` the CLI uses, with its notebook.
A stage says how the cycle runs it (``cycle_parameters``) and what it tells the cycle
(``cycle_record``); adding a stage to the registry adds it here.

The exports are a history that has already happened up to their last day. The cycle
replays its last months: each month's stages compute **as of that month's end** — the
indicators through the as-of views, the training labels from a panel whose outcomes are
cut at the month's end — so nothing later is visible to the month's decisions. The plan
drawn at a month's end is inspected in the next month, which is why the last cycle month
is the one before the data's last month.

This module is also the wiring of the demo: :func:`run_demo` generates the demo city and
plugs the ``demo`` provider (simulated inspections, truth ceilings) into the cycle. It is
the only module outside :mod:`workbench.demo` that imports it (``.importlinter``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench import config, workspace
from workbench.errors import ParameterError

log = logging.getLogger(__name__)

DEFAULT_CYCLE_MONTHS = 6


@dataclass(frozen=True)
class CycleSettings:
    """What the cycle runs with."""

    exports: Path  # the bureau's export folder (the demo city on the demo)
    data_snapshot: str  # the exports' last day
    months: tuple[str, ...]  # YYYY-MM, oldest first
    plan: str  # the sampling plan drawn each month
    family: str = "generic"
    scheme: str = "national_4"
    packs: str = ""
    provider: str = ""  # provider plug-in: "demo" simulates inspections from the truth


@dataclass
class MonthContext:
    """One month of the cycle: what stages are parameterised with, and what they report."""

    month: str
    settings: CycleSettings
    feedback: list[Path]
    retrain_reason: str | None
    trained_run: str | None = None
    plan_id: str | None = None
    record: dict = field(default_factory=dict)

    @property
    def month_end(self) -> str:
        """The last day of the month (``YYYY-MM-DD``): every stage computes as of it."""
        return month_end(self.month)

    def __getattr__(self, name: str):
        """Settings read through the context (``ctx.family``, ``ctx.plan`` …)."""
        if name in CycleSettings.__dataclass_fields__:
            return getattr(self.settings, name)
        raise AttributeError(name)


def cycle_months(data_snapshot: str, count: int = DEFAULT_CYCLE_MONTHS) -> tuple[str, ...]:
    """The ``count`` months ending the month before the data's last one (see module doc)."""
    if count < 1:
        raise ParameterError("the cycle needs at least one month (--cycle ≥ 1)")
    last = pd.Period(pd.Timestamp(data_snapshot), "M") - 1
    return tuple(str(last - k) for k in range(count - 1, -1, -1))


def month_end(month: str) -> str:
    """The last day of ``YYYY-MM`` as ``YYYY-MM-DD``."""
    return str(pd.Period(month, "M").end_time.date())


def feedback_folders(month: str, data_snapshot: str) -> list[Path]:
    """The plan results recorded before ``month`` as one ingest feedback folder (or none).

    Only results of plans evaluated so far exist, i.e. of earlier months; rows dated after
    the exports' snapshot are left out (ingest would quarantine them).
    """
    from workbench.evaluation import feedback

    target = workspace.current().feedback.at(month).path
    folder = feedback.write_feedback(data_snapshot, target)
    return [folder] if folder else []


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
    from workbench import governance
    from workbench.reporting import leadership
    from workbench.stages import registry, runner

    progress = Progress(len(settings.months), echo)
    done: dict[str, dict] = {}
    retrain = None if governance.champion_version(settings.family) else "no champion yet"
    for index, month in enumerate(settings.months, 1):
        ctx = MonthContext(
            month, settings, feedback_folders(month, settings.data_snapshot), retrain
        )
        for stage in registry.cycle_stages():
            params = stage.impl.cycle_parameters(ctx)
            if params is None:
                continue
            label = f"{stage.name} ({stage.title})"
            outcome = progress.step(index, month, label, runner.execute, stage, params)
            record = getattr(stage.impl, "cycle_record", None)
            if record is not None:
                record(ctx, outcome.summary, echo)
        retrain = ctx.retrain_reason
        done[month] = ctx.record
    with workspace.owner_only():  # like every stage's output
        leadership.build_index()
    return {"months": done, "seconds": round(progress.elapsed(), 1)}


# --------------------------------------------------------------------------- the demo


def generate_city(out: str | None = None, echo: Callable[[str], None] = print, **options) -> int:
    """``workbench synth``: generate a synthetic city with its hidden truth."""
    from workbench.demo import synth

    target = workspace.resolve(out) or workspace.default_city_dir()
    summary = synth.generate_city(target, **options)
    echo(f"synthetic city: {target}")
    for table, rows in summary.rows.items():
        echo(f"  {table:<20} {rows:>10,} rows")
    if summary.errors:
        echo(
            f"  {summary.errors:,} rows corrupted on purpose (listed in _truth/injected_errors.csv)"
        )
    echo(f"  ({summary.seconds:.1f} s; truth for tests and benchmarks in {target / '_truth'})")
    return 0


def demo_settings(city: Path, data_snapshot: str, months: int) -> CycleSettings:
    """The cycle on the demo city: its plan, the food pack, the demo provider."""
    return CycleSettings(
        exports=city,
        data_snapshot=data_snapshot,
        months=cycle_months(data_snapshot, months),
        plan="demo_monthly",
        packs="food",
        provider="demo",
    )


def run_demo(
    entities: int = 100_000,
    months: int = 36,
    seed: int = 2026,
    cycle_months: int = DEFAULT_CYCLE_MONTHS,
    echo: Callable[[str], None] = print,
) -> int:
    """``workbench demo``: generate the demo city when needed, then run the monthly cycle."""
    from workbench.demo import city as demo_city

    params = demo_city.CityParameters(entities=entities, months=months, seed=seed)
    city = demo_city.ensure_city(params)
    echo(f"demo city: {city} ({params.entities:,} entities, {params.months} months)")
    settings_file = config.conf_dir() / config.FILES["settings"][0]
    if not settings_file.exists():  # so that 01_ingest opens on the demo city by default
        settings_file.parent.mkdir(parents=True, exist_ok=True)
        settings_file.write_text(f"exports: {city}\n", encoding="utf-8")
        echo(f"export folder configured in {settings_file} (exports: {city})")
    settings = demo_settings(city, str(pd.Timestamp(params.end).date()), cycle_months)
    echo(
        f"monthly cycle: {settings.months[0]} … {settings.months[-1]} "
        f"({len(settings.months)} months, every stage as of each month's end)"
    )
    outcome = run_cycle(settings, echo)
    for month, record in outcome["months"].items():
        echo(f"  {month}: " + headline(record))
    reports = workspace.current().reports / "index.html"
    echo(f"done in {outcome['seconds'] / 60:.1f} min. Reports: {reports} (open it in a browser)")
    echo(
        "next: `.venv/bin/workbench lab` opens JupyterLab on notebooks/, "
        "`.venv/bin/workbench ui` the MLflow UI on http://127.0.0.1:5000"
    )
    return 0


def headline(record: dict) -> str:
    """One line per month: graded, tasks, hit rate against the uniform draw, lift."""
    ev = record.get("evaluation", {})
    trained = record.get("trained")
    text = f"graded {record.get('graded', 0):,}, {record.get('tasks', 0):,} tasks, "
    if ev.get("lift") is not None:
        text += (
            f"problems found per inspection {ev['hit_rate']:.1%} vs "
            f"{ev['uniform_rate']:.1%} for a uniform draw "
            f"(95 % {ev['uniform_low']:.1%}–{ev['uniform_high']:.1%}); lift "
            f"{ev['lift']:.2f} ({ev['lift_low']:.2f}–{ev['lift_high']:.2f})"
        )
    elif ev.get("lift_note"):
        rate = ev.get("hit_rate")
        shown = f"{rate:.1%}" if rate is not None else "n/a"
        text += f"problems found per inspection {shown}; lift: {ev['lift_note']}"
    elif ev:
        text += "no lift (no result with a verdict)"
    else:
        text += "no evaluation"
    if trained:
        text += f"; trained v{trained['version']}"
    return text
