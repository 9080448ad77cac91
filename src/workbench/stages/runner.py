"""Running one stage (运行阶段): the single path the CLI, the cycle and scripts share.

``execute`` takes a stage from the registry and its ``Parameters``; resolves relative
paths against the caller's working directory; checks and fills the parameters (nothing
is written when they are wrong); then either runs the stage's notebook through Papermill
(the audit trail) or calls the stage's ``run`` directly (``notebook=False``). Stages that
``run_before_notebook`` compute first and hand the notebook ``show_only=True``, so a bad
plan fails with its own message before any kernel starts.

One writer at a time: the whole run holds a lock on its stage and output (the output
folder, else the month), so a second run of the same stage and month is refused with a
message naming the running one, instead of both writing. Everything the run writes is
owner-only (``umask 077``; ``data/``, ``reports/`` and ``mlflow/`` are made 0700).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import config, workspace
from workbench.errors import WorkbenchError
from workbench.stages import registry
from workbench.stages.registry import Stage


class StageBusy(WorkbenchError, RuntimeError):
    """The same stage is already writing the same output (names the running one)."""


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
    with workspace.owner_only(), one_writer(stage, params):
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


def lock_target(stage: Stage, params: Any) -> str:
    """What one run of ``stage`` writes: its output folder, else its month."""
    out = getattr(params, "out", "")
    return str(out) if out else str(stage.impl.month(params))


def lock_path(stage: Stage, params: Any) -> Path:
    """The lock file of a stage and output: ``.workbench/locks/<stage>-<month>-<hash>.lock``."""
    target = lock_target(stage, params)
    digest = hashlib.sha256(f"{stage.name}\0{target}".encode()).hexdigest()[:12]
    month = str(stage.impl.month(params)).replace("/", "_")
    return workspace.repo_root() / ".workbench" / "locks" / f"{stage.name}-{month}-{digest}.lock"


@contextlib.contextmanager
def one_writer(stage: Stage, params: Any) -> Iterator[Path]:
    """Hold the lock of ``stage`` on its output for the whole run; refuse when it is taken.

    The operating system releases the lock when its holder dies (``kill -9`` included), so
    a crashed run never blocks the next one. Beside the lock, a small JSON file says who
    holds it, for the refusal's message.

    Raises:
        StageBusy: another process runs the same stage on the same output.
    """
    import filelock

    path = lock_path(stage, params)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    holder = path.with_suffix(".holder.json")
    lock = filelock.FileLock(path, timeout=0, mode=0o600)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise StageBusy(
            f"workbench {stage.name} for {lock_target(stage, params)} is already running "
            f"({_describe_holder(holder, path)}); wait until it has finished, then run again"
        ) from None
    try:
        holder.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": dt.datetime.now().isoformat(timespec="seconds"),
                    "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                    "stage": stage.name,
                    "target": lock_target(stage, params),
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        yield path
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def _describe_holder(holder: Path, lock_file: Path) -> str:
    """``pid 123 on host, since …: `command``` — or what little is known."""
    try:
        info = json.loads(holder.read_text(encoding="utf-8"))
        started = f"pid {info['pid']} on {info['host']}, started {info['started']}"
        return f"{started}: `{info['command']}`"
    except (OSError, ValueError, KeyError):
        return f"another process holds {lock_file}"


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
