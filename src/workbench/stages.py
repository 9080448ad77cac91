"""Running stage notebooks (阶段笔记本) with Papermill: parameters checked, copies kept.

Each stage is a thin parameterised notebook in ``notebooks/``. Papermill only *warns*
about a parameter the notebook does not declare and then runs with the defaults, so
``run_stage`` refuses unknown names before starting. The executed copy (the audit
trail, with its parameters in ``metadata.papermill``) lands in ``reports/<YYYY-MM>/``
with an HTML rendering without code for readers.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from workbench import report, workspace

log = logging.getLogger(__name__)


def _kernel_manager_class():
    """A kernel manager that talks to the kernel over local IPC sockets, not TCP.

    Nothing needs the kernel over the network, and ipykernel warns (on the user's
    terminal) about unencrypted TCP.
    """
    from jupyter_client.manager import KernelManager

    class LocalKernelManager(KernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)

    return LocalKernelManager


STAGE_NOTEBOOKS = {
    "ingest": "01_ingest.ipynb",
    "indicators": "02_indicators.ipynb",
    "train": "03_train.ipynb",
    "grade": "04_grade.ipynb",
    "sample": "05_sample.ipynb",
    "evaluate": "06_evaluate.ipynb",
    "report": "07_report.ipynb",
}


def notebook_parameters(notebook: str | Path) -> dict[str, dict]:
    """The parameters a notebook declares (name → papermill's inferred description)."""
    import papermill

    return dict(papermill.inspect_notebook(str(notebook)))


def run_stage(stage: str, parameters: dict, month: str, html: bool = True) -> Path:
    """Execute a stage notebook into ``reports/<month>/``; return the executed copy.

    Raises:
        ValueError: for an unknown stage or a parameter the notebook does not declare.
    """
    import papermill

    if stage not in STAGE_NOTEBOOKS:
        raise ValueError(f"unknown stage {stage!r}; stages: {', '.join(STAGE_NOTEBOOKS)}")
    source = workspace.notebooks_dir() / STAGE_NOTEBOOKS[stage]
    declared = notebook_parameters(source)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ValueError(
            f"{source.name} has no parameter(s) {', '.join(unknown)}; "
            f"it declares: {', '.join(declared)}"
        )
    out_dir = workspace.reports_dir() / month
    out_dir.mkdir(parents=True, exist_ok=True)
    executed = out_dir / source.name
    env_root = os.environ.setdefault("WORKBENCH_HOME", str(workspace.repo_root()))
    log.info("running %s (WORKBENCH_HOME=%s)", source.name, env_root)
    papermill.execute_notebook(
        str(source),
        str(executed),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(source.parent),
        progress_bar=False,
        kernel_manager_class=_kernel_manager_class(),
    )
    if html:
        report.render_html(executed, executed.with_suffix(".html"))
    return executed
