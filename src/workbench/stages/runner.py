"""Running one stage (运行阶段): the single path the CLI, the cycle and scripts share.

``execute`` takes a stage from the registry and its ``Parameters``; resolves relative
paths against the caller's working directory; checks and fills the parameters (nothing
is written when they are wrong); then either runs the stage's notebook through Papermill
(the audit trail) or calls the stage's ``run`` directly (``notebook=False``). Stages that
``run_before_notebook`` compute first and hand the notebook ``show_only=True``, so a bad
plan fails with its own message before any kernel starts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import config, workspace
from workbench.stages import registry
from workbench.stages.registry import Stage


@dataclass(frozen=True)
class Outcome:
    """What one stage run produced."""

    stage: str
    parameters: Any  # the resolved Parameters
    summary: dict
    executed: Path | None  # the executed notebook copy (None without a notebook)

    @property
    def page(self) -> Path | None:
        """The HTML rendering of the executed notebook."""
        return self.executed.with_suffix(".html") if self.executed else None


def absolute_paths(params: Any) -> Any:
    """``params`` with every path parameter made absolute (against the working directory)."""
    changes = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if f.metadata.get("path") and isinstance(value, str | Path) and str(value):
            changes[f.name] = str(workspace.resolve(value))
    return dataclasses.replace(params, **changes) if changes else params


def notebook_arguments(params: Any) -> dict:
    """The notebook's parameters: the resolved fields as plain strings, numbers, booleans."""
    out = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple | list):
            value = ",".join(map(str, value))
        elif value is None:
            value = ""
        out[f.name] = value
    return out


def execute(
    stage: Stage | str,
    params: Any = None,
    *,
    notebook: bool = True,
    settings: config.Settings | None = None,
) -> Outcome:
    """Run one stage; return its outcome.

    Raises:
        WorkbenchError: anything the user can fix (the message says what and how).
    """
    stage = registry.get(stage) if isinstance(stage, str) else stage
    impl = stage.impl
    settings = settings or config.current()
    params = absolute_paths(params if params is not None else impl.Parameters())
    params = impl.resolve(params, settings)
    use_notebook = notebook and stage.notebook is not None and not _skip_notebook(impl, params)
    summary: dict | None = None
    executed = None
    if not use_notebook or stage.run_before_notebook:
        summary = impl.run(params, settings)
    if use_notebook:
        from workbench.stages.notebook import run_notebook

        arguments = notebook_arguments(params)
        if stage.run_before_notebook:
            arguments["show_only"] = True
        executed = run_notebook(stage.notebook, arguments, impl.month(params))
        if hasattr(impl, "after_notebook"):
            impl.after_notebook(params, executed)
    if summary is None:
        summary = impl.read(params)
    return Outcome(stage.name, params, summary, executed)


def _skip_notebook(impl, params) -> bool:
    """A stage may run without its notebook for some parameters (e.g. a replay)."""
    return bool(getattr(impl, "notebook_skipped", lambda p: False)(params))


def describe(outcome: Outcome) -> list[str]:
    """The lines the CLI prints for an outcome."""
    impl = registry.get(outcome.stage).impl
    lines = list(impl.describe(outcome.parameters, outcome.summary))
    if outcome.page is not None:
        lines.append(f"{outcome.stage} notebook: {outcome.page}")
    return lines
