"""JupyterLab for analysts (分析人员的 JupyterLab): loopback only, stopped whole.

``workbench lab`` starts JupyterLab on ``notebooks/`` with this environment (the
notebooks import ``workbench`` and find the workspace through ``WORKBENCH_HOME``). It
listens on a loopback address only — the notebooks show internal grades — and runs in its
own process group, so stopping ``workbench lab`` (Ctrl-C or SIGTERM from a service
manager) stops JupyterLab and every kernel it started, leaving nothing serving. Kernels
run in sessions of their own (jupyter_client starts them so), which is why the whole
family of processes is collected before the server is stopped, and what survives the
server is stopped after it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from workbench import workspace
from workbench.errors import ParameterError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def lab_command(host: str, port: int) -> list[str]:
    """The JupyterLab command line (as root too: containers and CI run as root)."""
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--notebook-dir={workspace.notebooks_dir()}",
        f"--ServerApp.ip={host}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--no-browser",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def run_lab(host: str = "127.0.0.1", port: int = 8888, grace: float = 10.0) -> int:
    """Run JupyterLab until it exits or we are told to stop; then stop its whole group.

    Raises:
        ParameterError: a host that is not loopback.
    """
    if host not in LOOPBACK:
        raise ParameterError(f"host {host!r} is not loopback; allowed: {', '.join(LOOPBACK)}")
    env = dict(os.environ, WORKBENCH_HOME=str(workspace.repo_root()))
    process = subprocess.Popen(lab_command(host, port), env=env, start_new_session=True)

    def stop(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return process.wait()
    except KeyboardInterrupt:
        return _stop_group(process, grace)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_group(process: subprocess.Popen, grace: float) -> int:
    """Stop the server's group and every process it started; SIGKILL after ``grace``.

    JupyterLab shuts its kernels down on SIGTERM; a kernel that outlives it (a hung one,
    or a server that had to be killed) is stopped here, since it runs in another group.
    """
    import psutil

    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_alive(process):
            time.sleep(0.2)
        if not _group_alive(process):
            break
    alive = [p for p in family if p.is_running()]
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(alive, timeout=grace)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(alive, timeout=grace)
    return 0


def _group_alive(process: subprocess.Popen) -> bool:
    process.poll()  # reap the server once it exits, so the group can empty
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True
