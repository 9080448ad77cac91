"""The stage registry (阶段登记表): every stage declared once; the rest is derived from it.

A stage is one module in ``workbench.stages`` plus one :class:`Stage` entry below. The
module defines:

- ``Parameters`` — a dataclass whose fields are the stage's parameters, each made with
  :func:`option` (help text, flag, whether it is a path). The CLI sub-command, its
  ``--help``, the notebook's parameters cell (checked by a test) and the cycle's calls all
  come from it.
- ``resolve(params, settings) -> Parameters`` — fill defaults, check values (a
  :class:`~workbench.errors.WorkbenchError` names what is wrong), nothing written.
- ``run(params, settings) -> dict`` — do the work, write the outputs, return the summary.
- ``read(params) -> dict`` — the summary of a finished run, read from its outputs.
- ``describe(params, summary) -> list[str]`` — the lines the CLI prints.
- ``month(params) -> str`` — the month whose report folder keeps the executed notebook.
- ``cycle_parameters(ctx) -> Parameters | None`` (stages with ``cycle=True``) — how the
  monthly cycle runs it for one month; None skips it that month.

Adding a stage (for example a ``share`` stage that writes per-department extracts)::

    # src/workbench/stages/share.py
    @dataclass
    class Parameters:
        month: str = option("", "grade month YYYY-MM (default: the latest graded)")
    def resolve(params, settings): ...
    def run(params, settings): ...
    ...
    # here, in STAGES:
    Stage("share", "分类结果共享", "per-department extracts of a month's grades",
          "workbench.stages.share", reads=("grades",), writes=("share",)),

and ``workbench share --help``, the cycle (with ``cycle=True``) and the README's stage
table (``tests/test_registry.py`` checks it) follow.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any


def option(
    default: Any,
    help: str,  # noqa: A002 - argparse's own word
    *,
    path: bool = False,
    flag: str | None = None,
    positional: bool = False,
    choices: tuple[str, ...] | None = None,
    metavar: str | None = None,
    cli: bool = True,
) -> Any:
    """A stage parameter: a dataclass field carrying its help text and how the CLI shows it.

    Args:
        default: the default value (its type is the parameter's type).
        help: one line for ``--help`` (English, with the Chinese term where useful).
        path: a file or folder; a relative path is resolved against the caller's working
            directory before a notebook runs.
        flag: the CLI flag when it is not ``--<name-with-dashes>``.
        positional: a positional CLI argument (e.g. ``promote RUN``).
        choices: the allowed values.
        metavar: the placeholder shown in ``--help``.
        cli: False for a notebook-only parameter the CLI sets itself.
    """
    meta = {
        "help": help,
        "path": path,
        "flag": flag,
        "positional": positional,
        "choices": choices,
        "metavar": metavar,
        "cli": cli,
    }
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class Stage:
    """One stage of the monthly work, declared once."""

    name: str  # the CLI sub-command
    title: str  # 中文名
    help: str  # one line for ``workbench --help``
    module: str  # the module defining Parameters, resolve, run, read, describe, month
    notebook: str | None = None  # the stage notebook in notebooks/, if any
    reads: tuple[str, ...] = ()  # kinds of output folders read (workspace.folders)
    writes: tuple[str, ...] = ()  # kinds written
    cycle: bool = True  # part of the monthly cycle
    run_before_notebook: bool = False  # compute first; the notebook only shows (show_only)

    @property
    def impl(self) -> ModuleType:
        """The stage's module."""
        return importlib.import_module(self.module)

    @property
    def parameters(self) -> type:
        """The stage's ``Parameters`` dataclass."""
        return self.impl.Parameters

    def fields(self) -> list[dataclasses.Field]:
        """The parameters' fields, in declaration order."""
        return list(dataclasses.fields(self.parameters))

    def notebook_parameters(self) -> set[str]:
        """The names the stage's notebook must declare in its ``parameters`` cell."""
        names = {f.name for f in self.fields()}
        return names | ({"show_only"} if self.run_before_notebook else set())


STAGES: list[Stage] = [
    Stage(
        "check",
        "数据就绪评估",
        "what an export allows: history per table, indicators, the training design",
        "workbench.stages.check",
        cycle=False,
    ),
    Stage(
        "ingest",
        "数据归集",
        "load and validate a folder of exports; quarantine; data-quality report",
        "workbench.stages.ingest",
        notebook="01_ingest.ipynb",
        writes=("ingest",),
    ),
    Stage(
        "indicators",
        "指标计算",
        "the indicator matrix as of a date, signal check; or a training panel",
        "workbench.stages.indicators",
        notebook="02_indicators.ipynb",
        reads=("ingest",),
        writes=("indicators", "panel"),
    ),
    Stage(
        "train",
        "模型训练",
        "fit a scorecard family, validate out of time; MLflow run + registered model",
        "workbench.stages.train",
        notebook="03_train.ipynb",
        reads=("ingest", "panel", "evaluation"),
        writes=("model", "panel"),
    ),
    Stage(
        "promote",
        "模型晋级",
        "set the champion alias when the run passes the gates",
        "workbench.stages.promote",
        reads=("model",),
    ),
    Stage(
        "compare",
        "模型比较",
        "compare a challenger's run with the champion's on the same rows; Chinese page",
        "workbench.stages.compare",
        reads=("ingest", "panel", "indicators"),
        writes=("report_months",),
        cycle=False,
    ),
    Stage(
        "grade",
        "月度分类",
        "grade every active enterprise with the champion; signed folder",
        "workbench.stages.grade",
        notebook="04_grade.ipynb",
        reads=("ingest", "grades"),
        writes=("grades",),
    ),
    Stage(
        "sample",
        "双随机抽查",
        "double-random draw by grade: task list, public notice (or --replay)",
        "workbench.stages.sample",
        notebook="05_sample.ipynb",
        reads=("grades", "ingest", "plans"),
        writes=("plans",),
        run_before_notebook=True,
    ),
    Stage(
        "evaluate",
        "效果评估",
        "reconcile a plan's results, publish them, how well sampling worked",
        "workbench.stages.evaluate",
        notebook="06_evaluate.ipynb",
        reads=("plans", "results", "grades", "ingest"),
        writes=("evaluations",),
    ),
    Stage(
        "health",
        "模型监测",
        "model health: PSI month over month, warnings; MLflow run",
        "workbench.stages.health",
        reads=("grades", "indicators"),
        writes=("health",),
    ),
    Stage(
        "report",
        "领导报告",
        "the month's leadership report (HTML + PDF) and reports/index.html",
        "workbench.stages.report",
        notebook="07_report.ipynb",
        reads=("grades", "plans", "evaluations", "health"),
        writes=("report_months",),
    ),
]


def get(name: str) -> Stage:
    """The stage called ``name``."""
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise KeyError(f"unknown stage {name!r}; stages: {', '.join(s.name for s in STAGES)}")


def cycle_stages() -> list[Stage]:
    """The stages the monthly cycle runs, in order."""
    return [s for s in STAGES if s.cycle]


@contextlib.contextmanager
def registered(stage: Stage, after: str | None = None) -> Iterator[Stage]:
    """Add a stage for the duration of a block (tests; a plug-in trying a stage out)."""
    index = len(STAGES) if after is None else STAGES.index(get(after)) + 1
    STAGES.insert(index, stage)
    try:
        yield stage
    finally:
        STAGES.remove(stage)
