"""One writer at a time, and kernels that keep their sockets to themselves.

A second run of the same stage and month is refused with a message naming the running
one (two real processes); a run killed with SIGKILL never blocks the next. Stage
kernels keep their connection file and IPC sockets in a private runtime folder.
"""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest
from grade_data import signed_month

from workbench import cli, workspace
from workbench.stages import health, registry, runner
from workbench.stages.notebook import kernel_manager_class
from workbench.workspace import integrity

#: A health run that blocks inside the stage (holding the lock) until a file appears.
HOLDER = textwrap.dedent(
    """
    import pathlib, sys, time
    from workbench import cli
    from workbench.stages import health

    release = pathlib.Path(sys.argv[1])
    real = health.run_health

    def slow(*args, **kwargs):
        release.with_suffix(".started").touch()
        while not release.exists():
            time.sleep(0.05)
        return real(*args, **kwargs)

    health.run_health = slow
    sys.exit(cli.main(["health", "--month", "2026-09", "--no-mlflow"]))
    """
)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private workspace with two signed months (enough for a health run)."""
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.delenv(integrity.KEY_ENV, raising=False)
    monkeypatch.delenv(integrity.KEY_ENV_FILE, raising=False)
    (tmp_path / "pyproject.toml").write_text("# test home\n")
    signed_month("2026-08")
    signed_month("2026-09", grades=("A", "C", "C", "D"))
    return tmp_path


def _start_holder(tmp_path, name: str) -> tuple[subprocess.Popen, object]:
    release = tmp_path / name
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(release)],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = release.with_suffix(".started")
    deadline = time.monotonic() + 120
    while not started.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the first run never started its stage"
        time.sleep(0.1)
    return proc, release


def test_a_second_run_of_the_same_stage_and_month_is_refused(home, tmp_path, capsys):
    first, release = _start_holder(tmp_path, "release")
    try:
        assert cli.main(["health", "--month", "2026-09", "--no-mlflow"]) == 2
        err = capsys.readouterr().err
        assert "workbench health for 2026-09 is already running" in err
        assert f"pid {first.pid} on " in err and ", started 20" in err
        assert not workspace.current().health.at("2026-09").exists()
        # another month is another output: it runs meanwhile
        assert cli.main(["health", "--month", "2026-08", "--no-mlflow"]) == 0
    finally:
        release.touch()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    # the lock went with the run: the next one writes
    assert cli.main(["health", "--month", "2026-09", "--no-mlflow"]) == 0
    capsys.readouterr()


def test_a_killed_run_never_blocks_the_next(home, tmp_path, capsys):
    first, _ = _start_holder(tmp_path, "never")
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    assert cli.main(["health", "--month", "2026-09", "--no-mlflow"]) == 0
    assert "model health 2026-09" in capsys.readouterr().out


def test_the_lock_is_keyed_by_stage_and_output(home):
    stage = registry.get("health")
    september = health.Parameters(month="2026-09")
    august = health.Parameters(month="2026-08")
    assert runner.lock_path(stage, september) != runner.lock_path(stage, august)
    assert runner.lock_path(stage, september).parent == home / ".workbench" / "locks"
    with runner.one_writer(stage, september) as lock:
        assert stat.S_IMODE(lock.stat().st_mode) & 0o077 == 0
        with pytest.raises(runner.StageBusy, match=f"pid {os.getpid()}"):
            with runner.one_writer(stage, september):
                pass  # pragma: no cover - refused before
    with runner.one_writer(stage, september):
        pass  # released on leaving


def test_kernel_connection_file_and_sockets_stay_in_the_private_runtime(tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    before = set(os.listdir(workspace.notebooks_dir()))
    manager = kernel_manager_class(runtime)(kernel_name="python3")
    manager.start_kernel(cwd=str(runtime))
    try:
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=120)
        client.stop_channels()
        assert manager.connection_file == str(runtime / "kernel.json")
        assert manager.transport == "ipc" and manager.ip.startswith(str(runtime))
        sockets = [p for p in runtime.iterdir() if stat.S_ISSOCK(p.stat().st_mode)]
        assert sockets and (runtime / "kernel.json").is_file()
        assert stat.S_IMODE((runtime / "kernel.json").stat().st_mode) & 0o077 == 0
    finally:
        manager.shutdown_kernel(now=True)
    assert set(os.listdir(workspace.notebooks_dir())) <= before
