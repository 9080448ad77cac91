"""Running stage notebooks (阶段笔记本) with Papermill: parameters checked, every run kept.

Each stage is a thin parameterised notebook in ``notebooks/``. Papermill only *warns*
about a parameter the notebook does not declare and then runs with the defaults, so
:func:`run_notebook` refuses unknown names before starting. Every executed copy (the
audit trail, with its parameters in ``metadata.papermill``) is kept under
``reports/<YYYY-MM>/runs/`` with a name of its own — a later or a failed run never
replaces an earlier one — beside an HTML rendering without code for readers.

Kernels run in a private, owner-only runtime directory (0700, made per run) that holds
their connection file, their IPC sockets and their working directory — never the source
tree nor the user's shared Jupyter runtime folder: two runs never share sockets, nobody
else can connect to a kernel, and a killed run leaves nothing behind in ``notebooks/``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from workbench import workspace
from workbench.errors import ParameterError, StageFailed

log = logging.getLogger(__name__)

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def kernel_manager_class(runtime: Path):
    """A kernel manager whose connection file and IPC sockets live in ``runtime``.

    IPC sockets, not TCP: nothing needs the kernel over the network, and ipykernel warns
    (on the user's terminal) about unencrypted TCP. By default jupyter_client would put
    the connection file (with the kernel's key) in the shared Jupyter runtime folder and
    the sockets relative to the working directory; both are pinned to ``runtime``.
    """
    from jupyter_client.manager import KernelManager

    class LocalKernelManager(KernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("connection_file", str(runtime / "kernel.json"))
            kwargs.setdefault("ip", str(runtime / "kernel-ipc"))
            super().__init__(**kwargs)

    return LocalKernelManager


def notebook_parameters(notebook: str | Path) -> dict[str, dict]:
    """The parameters a notebook declares (name → papermill's inferred description)."""
    import papermill

    return dict(papermill.inspect_notebook(str(notebook)))


def audit_copy(notebook: str, month: str) -> Path:
    """A new, unused path for one run's executed copy: ``reports/<month>/runs/<time>-<nb>``."""
    runs = workspace.current().report_months.at(month).runs
    runs.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        suffix = f"-{n}" if n else ""
        candidate = runs / f"{stamp}{suffix}-{notebook}"
        try:  # claim the name atomically: two runs in the same second never collide
            with open(candidate, "x", encoding="utf-8"):
                return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"no free audit-copy name in {runs}")


def run_notebook(notebook: str, parameters: dict, month: str, html: bool = True) -> Path:
    """Execute ``notebooks/<notebook>`` with ``parameters``; return the executed copy.

    Raises:
        ParameterError: a parameter the notebook does not declare.
        StageFailed: the notebook raised; the message is the notebook's own error first,
            then the path of the kept executed copy.
    """
    import papermill

    source = workspace.notebooks_dir() / notebook
    declared = notebook_parameters(source)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ParameterError(
            f"{source.name} has no parameter(s) {', '.join(unknown)}; "
            f"it declares: {', '.join(declared)}"
        )
    executed = audit_copy(notebook, month)
    os.environ.setdefault("WORKBENCH_HOME", str(workspace.repo_root()))
    runtime = Path(tempfile.mkdtemp(prefix="workbench-kernel-"))  # 0700 by construction
    log.info("running %s → %s", source.name, executed)
    try:
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(runtime),
            progress_bar=False,
            kernel_manager_class=kernel_manager_class(runtime),
        )
    except papermill.PapermillExecutionError as err:
        failed = executed.with_name(executed.stem + "-failed.ipynb")
        if executed.is_file():
            executed.rename(failed)
        message = _ANSI.sub("", str(err.evalue)).strip().splitlines()
        raise StageFailed(
            f"{message[0] if message else err.ename} (failed notebook: {failed})"
        ) from None
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
    if html:
        from workbench.views.style import render_html

        render_html(executed, executed.with_suffix(".html"))
    return executed
