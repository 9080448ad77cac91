"""The MLflow UI server (模型管理界面) on loopback, as one process group that always ends.

``mlflow server`` forks a worker; killing only the parent would leave an orphan holding the
port and the store. The server therefore starts in its own process group, and stopping it
signals the whole group. Only loopback hosts are allowed: the store holds grades that are
internal (内部参考，不对外公开).

A bureau's shared store (共享存储) is a PostgreSQL database with an artifact folder every
reviewer's machine mounts: each reviewer runs ``workbench ui --backend-store-uri
postgresql://user@db-host/mlflow --artifact-root /mnt/mlflow-artifacts`` on their own
loopback, and analysts log to the same database (``WORKBENCH_MLFLOW_URI`` and
``WORKBENCH_MLFLOW_ARTIFACTS``, see :mod:`~workbench.governance.tracking`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from workbench.errors import ConfigError, ParameterError
from workbench.governance.tracking import URI_VARIABLE, artifact_root, is_server, tracking_uri

LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: backend stores the workbench runs MLflow on (a local file, or the shared database)
BACKENDS = ("sqlite", "postgresql")


def redact_uri(uri: str) -> str:
    """``uri`` with any password replaced by ``***``, for printing and logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` now (the OS picks it)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class MLflowServer:
    """An MLflow tracking server (UI + REST) on loopback, against the workbench store.

    Used by ``workbench ui`` and by tests::

        with MLflowServer() as server:
            print(server.url)   # http://127.0.0.1:<port>
            server.wait()       # until Ctrl-C (the UI), or query server.url (tests)

    The server runs in its own process group (it forks a worker): leaving the block sends
    SIGTERM to the whole group, then SIGKILL after ``grace`` seconds, so no orphan keeps
    the port or the database. Only loopback hosts are accepted (another raises
    :class:`~workbench.errors.ParameterError`): the store holds grades that are internal
    (内部参考，不对外公开). With ``WORKBENCH_MLFLOW_URI`` naming a server there is nothing
    to start (:class:`~workbench.errors.ConfigError`): open that server instead.
    """

    def __init__(
        self,
        backend_uri: str | None = None,
        artifacts: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        timeout: float = 60.0,
        grace: float = 10.0,
        log_path: str | Path | None = None,
    ):
        if host not in LOOPBACK:
            raise ParameterError(f"host {host!r} is not loopback; allowed: {', '.join(LOOPBACK)}")
        self.backend_uri = backend_uri or tracking_uri()
        if is_server(self.backend_uri):
            raise ConfigError(
                f"{URI_VARIABLE} points at a server ({self.backend_uri}); open it instead"
            )
        scheme = self.backend_uri.split(":", 1)[0].split("+", 1)[0]
        if scheme not in BACKENDS:
            raise ParameterError(
                f"backend store {redact_uri(self.backend_uri)!r} is not supported; allowed: "
                "sqlite:///<absolute path> or postgresql://user@host[:port]/database"
            )
        self.artifacts = Path(artifacts) if artifacts else artifact_root()
        self.host, self.port = host, port or free_port(host)
        self.timeout, self.grace = timeout, grace
        self.log_path = Path(log_path) if log_path else None
        self._own_log = log_path is None  # a temporary log, removed by stop()
        self.process: subprocess.Popen | None = None
        self.startup_seconds: float | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def command(self) -> list[str]:
        """The ``mlflow server`` command line (same interpreter as the workbench)."""
        return [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            self.backend_uri,
            "--default-artifact-root",
            str(self.artifacts),
            "--artifacts-destination",
            str(self.artifacts),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]

    def start(self) -> MLflowServer:
        """Start the server and wait for ``/health``; raise with its log if it fails."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        if self.log_path is None:
            self.log_path = Path(tempfile.mkstemp(prefix="mlflow-server-", suffix=".log")[1])
        env = dict(
            os.environ,
            MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",  # 2 processes instead of 10
            MLFLOW_DISABLE_TELEMETRY="true",
        )
        started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.artifacts.parent,  # any stray default folder lands in mlflow/
                start_new_session=True,
            )
        try:
            self._wait_healthy(started)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _wait_healthy(self, started: float) -> None:
        deadline = started + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited with {self.process.returncode}:\n{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise TimeoutError(
            f"mlflow server not healthy on {self.url} after {self.timeout:g} s:\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait(self) -> int:
        """Block until the server exits (Ctrl-C in ``workbench ui``); its exit code."""
        return self.process.wait()

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it after ``grace`` seconds."""
        proc, self.process = self.process, None
        if proc is None:
            return
        self._terminate(proc)
        if self._own_log and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None

    def _terminate(self, proc: subprocess.Popen) -> None:
        pgid = proc.pid  # start_new_session: the server leads its own process group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            pass
        # the worker may outlive the main process: make sure the whole group is gone
        deadline = time.monotonic() + self.grace
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def __enter__(self) -> MLflowServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
