"""`workbench lab` and `workbench ui` start the real servers on loopback, and stop whole."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from workbench import cli
from workbench.errors import ParameterError
from workbench.governance import free_port
from workbench.lab import run_lab


def _start(args):
    return subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass
    proc.stdout.close()


def test_lab_refuses_a_host_that_is_not_loopback(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["lab", "--host", "0.0.0.0"])
    assert exit_.value.code == 2
    assert "invalid choice: '0.0.0.0'" in capsys.readouterr().err
    with pytest.raises(ParameterError, match="not loopback"):
        run_lab(host="192.168.1.10")


def test_lab_serves_the_notebooks_and_stops_whole_on_sigterm():
    port = free_port()
    proc = _start(["lab", "--port", str(port)])
    family = []
    try:
        deadline, url, seen = time.monotonic() + 90, None, []
        while time.monotonic() < deadline and url is None:
            line = proc.stdout.readline()
            seen.append(line)
            found = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=\w+", line)
            url = found.group(0) if found else None
            assert proc.poll() is None or url, "".join(seen[-20:])
        assert url, "".join(seen[-20:])
        token = url.split("token=")[1]
        api = f"http://127.0.0.1:{port}/api/contents?token={token}"
        names = set()
        while time.monotonic() < deadline and not names:
            try:  # the URL is printed just before the socket accepts connections
                with urllib.request.urlopen(api, timeout=20) as answer:
                    names = {item["name"] for item in json.load(answer)["content"]}
            except OSError:
                time.sleep(0.5)
        assert {"01_ingest.ipynb", "02_indicators.ipynb", "03_train.ipynb"} <= names
        # a kernel, as an analyst opening a notebook starts one (in a session of its own)
        start = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/kernels?token={token}",
            data=b'{"name": "python3"}',
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(start, timeout=60) as answer:
            assert json.load(answer)["id"]
        while time.monotonic() < deadline and len(family) < 2:
            family = psutil.Process(proc.pid).children(recursive=True)
            time.sleep(0.2)
        assert len(family) >= 2, family  # JupyterLab and its kernel
        # a service manager stops `workbench lab` alone (SIGTERM to its pid, not a group)
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        _stop(proc)
    _, alive = psutil.wait_procs(family, timeout=20)
    assert not alive, f"still running after `workbench lab` stopped: {alive}"
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2).close()


def test_ui_answers_health_on_loopback():
    port = free_port()
    proc = _start(["ui", "--port", str(port)])
    health = f"http://127.0.0.1:{port}/health"
    try:
        deadline, answered = time.monotonic() + 90, False
        while time.monotonic() < deadline and not answered:
            try:
                with urllib.request.urlopen(health, timeout=5) as r:
                    assert r.read().decode().strip() == "OK"
                    answered = True
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(1)
        assert answered, "the MLflow UI did not answer /health within 90 s"
    finally:
        _stop(proc)
    # stopping `workbench ui` stops the server it started (no orphan keeps the port)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(health, timeout=2).close()
            time.sleep(0.5)
        except OSError:
            return
    raise AssertionError("the MLflow server still answers after `workbench ui` was stopped")
