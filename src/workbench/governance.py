"""Model governance (模型治理) in MLflow: the record of every training run, and promotion.

Every training run becomes one MLflow run in the experiment ``workbench-<family>`` with its
parameters, metrics, git commit and artifacts; the grading model (score, PD, grade) is
logged as a pyfunc and registered as ``workbench-<family>``. Promotion (晋级) sets the alias
``champion`` (在用模型) on a run's version only when the run passes the gates of
``gates.yaml``; the champion it replaces becomes ``challenger`` (挑战者模型). Scoring reads
``models:/workbench-<family>@champion``, so grades always come from a reviewed model.

The store is local by default (``<repo>/mlflow/mlflow.db`` with artifacts beside it; the
paths are absolute because MLflow records them, and relative sqlite URIs would resolve
against whatever folder a notebook runs in). ``WORKBENCH_MLFLOW_URI`` switches to a
tracking server. Nothing is ever logged to MLflow's ``Default`` experiment, whose artifacts
land in ``./mlruns`` of the current folder.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import yaml

from workbench import workspace
from workbench.model import GradingModel

if TYPE_CHECKING:
    from mlflow import MlflowClient

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # it would call an outside host
# tqdm bars on stderr would show as noise in the CLI and as pink boxes in executed notebooks
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

URI_VARIABLE = "WORKBENCH_MLFLOW_URI"
MODEL_PREFIX = "workbench-"
FAMILY_TAG = "workbench.family"
CHAMPION, CHALLENGER = "champion", "challenger"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MODEL_CODE = Path(__file__).with_name("mlflow_model.py")
_URI_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


# ------------------------------------------------------------------------------- the store
def tracking_uri() -> str:
    """Where runs and the model registry live.

    ``$WORKBENCH_MLFLOW_URI`` when set (e.g. ``http://127.0.0.1:5000`` for a shared
    server), else the local store ``sqlite:///<repo>/mlflow/mlflow.db`` (absolute; the
    folder is created).
    """
    env = os.environ.get(URI_VARIABLE, "").strip()
    if env:
        return env
    folder = workspace.repo_root() / "mlflow"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def artifact_root() -> Path:
    """Absolute folder for the local store's artifacts: ``<repo>/mlflow/artifacts``."""
    return workspace.repo_root() / "mlflow" / "artifacts"


def model_name(family: str) -> str:
    """The registered model name of a family (``workbench-generic``, ``workbench-food``)."""
    return f"{MODEL_PREFIX}{family}"


def _is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


@contextlib.contextmanager
def _store() -> Iterator[MlflowClient]:
    """Point MLflow's fluent API at the workbench store for the block, then restore it.

    MLflow keeps the URIs as process state (module globals mirrored into
    ``MLFLOW_TRACKING_URI`` / ``MLFLOW_REGISTRY_URI``); restoring them keeps a notebook's
    or a test's own MLflow use undisturbed. Import is lazy: ``import mlflow`` costs ~1.3 s.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.tracking._model_registry import utils as registry_state
    from mlflow.tracking._tracking_service import utils as tracking_state

    uri = tracking_uri()
    saved_env = {k: os.environ.get(k) for k in _URI_ENV}
    saved_tracking = getattr(tracking_state, "_tracking_uri", None)
    saved_registry = getattr(registry_state, "_registry_uri", None)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield MlflowClient(tracking_uri=uri, registry_uri=uri)
    finally:
        mlflow.set_tracking_uri(saved_tracking)
        mlflow.set_registry_uri(saved_registry)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def ensure_experiment(family: str) -> str:
    """The id of the experiment ``workbench-<family>``, created on first use.

    Against the local store it is created with ``artifact_location=<artifact_root>/<family>``
    (absolute); against a server the server's own artifact root applies, since a local path
    would mean nothing on another machine.
    """
    with _store() as client:
        return _ensure_experiment(client, family)


def _ensure_experiment(client, family: str) -> str:
    name = model_name(family)
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return found.experiment_id
    location = None
    if not _is_server(tracking_uri()):
        folder = artifact_root() / family
        folder.mkdir(parents=True, exist_ok=True)
        location = folder.as_uri()
    return client.create_experiment(name, artifact_location=location, tags={FAMILY_TAG: family})


# --------------------------------------------------------------------------- logging a run
@dataclass(frozen=True)
class TrainingRun:
    """What :func:`log_training_run` recorded: the run and the registered model version."""

    run_id: str
    model_name: str
    version: str
    experiment_id: str = ""

    @property
    def model_uri(self) -> str:
        """``models:/<name>/<version>``: this exact version, whatever the aliases say."""
        return f"models:/{self.model_name}/{self.version}"


def flatten_params(params: Mapping, prefix: str = "") -> dict[str, str]:
    """Nested dicts to dotted keys (``binning.min_bin_share``); other values as text.

    Lists and tuples are written as JSON so ``["food", "drugs"]`` reads back unambiguously.
    """
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_params(value, prefix=f"{name}."))
        elif isinstance(value, list | tuple):
            flat[name] = json.dumps(list(value), ensure_ascii=False, default=str)
        else:
            flat[name] = str(value)
    return flat


def git_commit() -> str:
    """``git rev-parse HEAD`` of the code's checkout (``-dirty`` if it has local changes).

    The checkout is :func:`workspace.source_root` (the code that trained the model), not
    ``WORKBENCH_HOME`` (where data lives). ``unknown`` outside a git checkout.
    """
    root = workspace.source_root()
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _pip_requirements() -> list[str]:
    """Pinned to the versions installed now: explicit requirements log in ~0.1 s.

    MLflow's inference of requirements loads the model in a subprocess (5–7 s). The
    ``workbench`` package itself is not on an index; the loading environment has it.
    """
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for dist in ("mlflow", "pandas", "numpy", "scikit-learn", "optbinning", "pyarrow"):
        try:
            pins.append(f"{dist}=={version(dist)}")
        except PackageNotFoundError:
            pins.append(dist)
    return pins


def _clean_metrics(metrics: Mapping) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError) as err:
            raise ValueError(f"metric {key!r} is {value!r}, not a number") from err
    return out


def model_input(frame: pd.DataFrame, features: list[str] | None = None) -> pd.DataFrame:
    """A frame as the logged model's signature wants it (模型输入): numbers as float64.

    The signature declares every numeric indicator ``double`` because any indicator may
    be missing (NaN) in a given month, and MLflow refuses to convert int64 columns to
    double (beyond 0/1 values) rather than guess. Integer and boolean columns are cast;
    column labels become plain objects. With ``features``, only those columns are kept.
    Indicator frames from the workbench's engine are float64 already; other frames (an
    analyst's own, a parquet with integer counts) need this before ``predict``.
    """
    frame = frame[list(features)] if features is not None else frame
    frame = frame.copy()
    # plain labels: MLflow compares labels with a range, deprecated for pandas 3 ``str``
    frame.columns = pd.Index(list(frame.columns), dtype=object)
    for col in frame.columns:
        if pd.api.types.is_integer_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col]):
            frame[col] = frame[col].astype("float64")
    return frame


def model_signature(model: GradingModel, example: pd.DataFrame):
    """Input: each feature, required, ``double`` if numeric else ``string``; output inferred.

    Written out rather than inferred from a few rows because inference marks a column
    with missing values in the sample as optional (droppable) and types an all-missing
    sample column by accident.
    """
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, DataType, Schema

    example = model_input(example, model.features)
    inputs = Schema(
        [
            ColSpec(
                DataType.double
                if pd.api.types.is_numeric_dtype(example[name])
                else DataType.string,
                name,
                required=True,
            )
            for name in model.features
        ]
    )
    outputs = infer_signature(example, model.predict(example).reset_index(drop=True)).outputs
    return ModelSignature(inputs=inputs, outputs=outputs)


def log_training_run(
    model: GradingModel,
    *,
    params: Mapping,
    metrics: Mapping,
    artifacts: Mapping[str, str | Path] | str | Path | None,
    input_example: pd.DataFrame,
    tags: Mapping | None = None,
    run_name: str | None = None,
) -> TrainingRun:
    """Record one training run and register its grading model (训练留痕 + 模型注册).

    Args:
        model: the fitted grading model; its ``family`` picks the experiment and the
            registered model (``workbench-<family>``).
        params: training parameters; nested dicts are flattened to dotted keys. The full
            nested form is also kept as the artifact ``params.json`` (MLflow caps a
            parameter value at 6,000 characters).
        metrics: numbers; the gates read ``valid_auc``, ``valid_ks``, ``psi_score``,
            ``grades_monotone`` and ``max_feature_missing_share``.
        artifacts: a file or folder to log at the run's artifact root, or a mapping
            ``{artifact sub-folder: file or folder}`` (``""`` for the root).
        input_example: rows of the model's input (e.g. a validation sample): the
            signature is built from their columns and from the model's output on them; the
            first five are stored with the model.
        tags: extra run tags (``git_commit`` and the family are added).
        run_name: MLflow's display name (MLflow invents one otherwise).

    Returns:
        The run id, the registered model name and the new version.

    Raises:
        ValueError: a metric that is not a number.
        FileNotFoundError: an artifact path that does not exist.
    """
    import mlflow

    metric_values = _clean_metrics(metrics)
    to_log = _artifact_items(artifacts)
    signature = model_signature(model, input_example)
    example = model_input(input_example.head(5), model.features).reset_index(drop=True)
    run_tags = {
        "git_commit": git_commit(),
        FAMILY_TAG: model.family,
        "catalog_fingerprint": model.catalog_fingerprint,
        **{str(k): str(v) for k, v in (tags or {}).items()},
    }
    name = model_name(model.family)
    with _store() as client, tempfile.TemporaryDirectory(prefix="workbench-model-") as tmp:
        experiment_id = _ensure_experiment(client, model.family)
        with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=run_tags) as run:
            flat = flatten_params(params)
            mlflow.log_params({k: v[:6000] for k, v in flat.items()})
            mlflow.log_dict(json.loads(json.dumps(params, default=str)), "params.json")
            mlflow.log_metrics(metric_values)
            for sub, path in to_log:
                if path.is_dir():
                    mlflow.log_artifacts(str(path), artifact_path=sub or None)
                else:
                    mlflow.log_artifact(str(path), artifact_path=sub or None)
            pickle_path = model.save(Path(tmp) / "grading_model.pkl")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(MODEL_CODE),
                artifacts={"grading_model": str(pickle_path)},
                pip_requirements=_pip_requirements(),
                signature=signature,
                input_example=example,
                registered_model_name=name,
                await_registration_for=0,
            )
            run_id = run.info.run_id
    return TrainingRun(run_id, name, str(info.registered_model_version), experiment_id)


def _artifact_items(artifacts) -> list[tuple[str, Path]]:
    if artifacts is None:
        return []
    items = (
        [(str(k), Path(v)) for k, v in artifacts.items()]
        if isinstance(artifacts, Mapping)
        else [("", Path(artifacts))]
    )
    for _, path in items:
        if not path.exists():
            raise FileNotFoundError(f"artifact {path} does not exist")
    return items


# ---------------------------------------------------------------------------------- gates
class GateConfigError(ValueError):
    """A gates file that cannot be used, naming the file and the key."""


@dataclass(frozen=True)
class GateCheck:
    """One gate on one run: its verdict, the run's value and the threshold."""

    gate: str
    metric: str
    op: str  # "≥", "<", "≤", "="
    threshold: float | None
    value: float | None
    passed: bool

    @property
    def message(self) -> str:
        """E.g. ``gate valid_auc ≥ 0.65 failed: 0.612``."""
        verdict = "passed" if self.passed else "failed"
        if self.threshold is None:
            return f"gate {self.gate} skipped (switched off)"
        shown = "not logged" if self.value is None else f"{self.value:.4g}"
        return f"gate {self.metric} {self.op} {self.threshold:g} {verdict}: {shown}"


@dataclass(frozen=True)
class Gates:
    """Promotion gates (晋级门槛); ``None`` switches a gate off. See ``gates.yaml``."""

    auc_min: float | None = 0.65
    ks_min: float | None = 0.25
    psi_max: float | None = 0.25
    grades_monotone: bool = True
    max_missing_share: float | None = 0.99

    def check(self, metrics: Mapping[str, float]) -> list[GateCheck]:
        """Every gate on a run's metrics; a metric the run did not log fails its gate."""
        rules = [
            ("auc_min", "valid_auc", "≥", self.auc_min, lambda v, t: v >= t),
            ("ks_min", "valid_ks", "≥", self.ks_min, lambda v, t: v >= t),
            ("psi_max", "psi_score", "<", self.psi_max, lambda v, t: v < t),
            (
                "grades_monotone",
                "grades_monotone",
                "=",
                1.0 if self.grades_monotone else None,
                lambda v, t: v == t,
            ),
            (
                "max_missing_share",
                "max_feature_missing_share",
                "≤",
                self.max_missing_share,
                lambda v, t: v <= t,
            ),
        ]
        checks = []
        for gate, metric, op, threshold, ok in rules:
            value = metrics.get(metric)
            if value is not None and math.isnan(value):
                value = None
            if threshold is None:
                passed = True
            else:
                passed = value is not None and bool(ok(value, threshold))
            checks.append(GateCheck(gate, metric, op, threshold, value, passed))
        return checks


def load_gates(path: str | Path | None = None) -> Gates:
    """Read a gates file (the packaged ``gates.yaml`` by default).

    Keys left out keep their defaults. Raises :class:`GateConfigError` naming the file and
    the key for an unknown key, a value that is not a number, or a share outside [0, 1].
    """
    source = Path(path) if path else Path(str(resources.files("workbench") / "gates.yaml"))
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise GateConfigError(f"{source}: not valid YAML ({err})") from err
    if not isinstance(data, dict):
        raise GateConfigError(f"{source}: expected a mapping of gate: threshold")
    known = {f.name for f in fields(Gates)}
    values: dict = {}
    for key, value in data.items():
        if key not in known:
            raise GateConfigError(
                f"{source}: key {key!r} is not a gate; allowed: {', '.join(sorted(known))}"
            )
        if key == "grades_monotone":
            if not isinstance(value, bool):
                raise GateConfigError(f"{source}: key 'grades_monotone' must be true or false")
            values[key] = value
            continue
        if value is None:
            values[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GateConfigError(f"{source}: key {key!r} is {value!r}; expected a number")
        if not 0 <= value <= 1:
            raise GateConfigError(f"{source}: key {key!r} is {value}; expected a value in [0, 1]")
        values[key] = float(value)
    return Gates(**values)


# ------------------------------------------------------------------------------ promotion
@dataclass
class PromotionResult:
    """The outcome of :func:`promote`, with every gate's verdict.

    Attributes:
        promoted: True when ``alias`` now points at ``version``.
        previous: the version that held ``alias`` before (None if none).
        challenger: the version now holding ``challenger`` when this promotion moved one.
    """

    run_id: str
    model_name: str
    version: str
    alias: str
    promoted: bool
    checks: list[GateCheck] = field(default_factory=list)
    previous: str | None = None
    challenger: str | None = None

    @property
    def failures(self) -> list[GateCheck]:
        """The gates that failed."""
        return [c for c in self.checks if not c.passed]

    @property
    def message(self) -> str:
        """One paragraph for the CLI: what happened and why."""
        if self.promoted:
            text = f"{self.model_name} version {self.version} is now @{self.alias}"
            if self.challenger:
                text += f"; version {self.challenger} is now @{CHALLENGER}"
            return text + "."
        held = f"version {self.previous}" if self.previous else "no version"
        lines = [
            f"run {self.run_id} not promoted; @{self.alias} stays on {held}:",
            *(f"  {c.message}" for c in self.failures),
        ]
        return "\n".join(lines)


class PromotionError(RuntimeError):
    """A run that cannot be promoted at all (unknown run, no registered model version)."""


def promote(
    run_id: str, gates: Gates | str | Path | None = None, alias: str = CHAMPION
) -> PromotionResult:
    """Set ``alias`` on the run's registered version if the run passes every gate.

    On failure nothing moves and the result names each failed gate with the run's value
    and the threshold. On success the version that held ``alias`` (if another) gets
    ``challenger``. Either way the version is tagged with the gate verdicts, so the
    registry records every attempt.

    Args:
        run_id: the training run (as printed by ``workbench train``).
        gates: a :class:`Gates`, a gates YAML path, or None for the packaged gates.
        alias: the alias to set (``champion``).

    Raises:
        PromotionError: unknown run, or no registered version created by it.
    """
    from mlflow.exceptions import MlflowException

    if not isinstance(gates, Gates):
        gates = load_gates(gates)
    with _store() as client:
        try:
            run = client.get_run(run_id)
        except MlflowException as err:
            raise PromotionError(f"no run {run_id} in {tracking_uri()}") from err
        family = run.data.tags.get(FAMILY_TAG)
        versions = [
            v
            for v in client.search_model_versions(f"run_id = '{run_id}'")
            if family is None or v.name == model_name(family)
        ]
        if not versions:
            raise PromotionError(f"run {run_id} registered no model version")
        version = max(versions, key=lambda v: int(v.version))
        name = version.name
        checks = gates.check(run.data.metrics)
        previous = _alias_version(client, name, alias)
        result = PromotionResult(run_id, name, str(version.version), alias, False, checks)
        result.previous = previous
        passed = not result.failures
        client.set_model_version_tag(
            name,
            version.version,
            "gates",
            "passed" if passed else "; ".join(c.message for c in result.failures),
        )
        if not passed:
            return result
        if previous is not None and previous != result.version:
            client.set_registered_model_alias(name, CHALLENGER, previous)
            result.challenger = previous
        client.set_registered_model_alias(name, alias, result.version)
        result.promoted = True
        return result


def _alias_version(client, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def champion_version(family: str, alias: str = CHAMPION) -> str | None:
    """The version of ``workbench-<family>`` holding ``alias``, or None."""
    with _store() as client:
        return _alias_version(client, model_name(family), alias)


def load_champion(family: str, alias: str = CHAMPION):
    """Load ``models:/workbench-<family>@champion`` as an MLflow pyfunc.

    ``.predict(frame)`` returns ``score``, ``pd`` and ``model_grade`` with a fresh index.
    """
    import mlflow

    with _store():
        return mlflow.pyfunc.load_model(f"models:/{model_name(family)}@{alias}")


# --------------------------------------------------------------------------------- server
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
    the port or the database. Only loopback hosts are accepted: the store holds grades
    that are internal (内部参考，不对外公开).
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
            raise ValueError(f"host {host!r} is not loopback; allowed: {', '.join(LOOPBACK)}")
        self.backend_uri = backend_uri or tracking_uri()
        if _is_server(self.backend_uri):
            raise ValueError(
                f"{URI_VARIABLE} points at a server ({self.backend_uri}); open it instead"
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


# -------------------------------------------------------------------------------- grading
class ModelNotFoundError(LookupError):
    """No registered model, or no version under the alias: says what exists and what to do."""


@dataclass(frozen=True)
class ModelRef:
    """Which registered model version grades a month (written into every grade file)."""

    name: str
    version: str
    run_id: str
    alias: str


def resolve_alias(family: str, alias: str = CHAMPION) -> ModelRef:
    """The version behind ``workbench-<family>@<alias>``.

    Raises:
        ModelNotFoundError: naming the model and alias, listing the versions and aliases
            that do exist, and the command that would fix it.
    """
    from mlflow.exceptions import MlflowException

    name = model_name(family)
    with _store() as client:
        try:
            registered = client.get_registered_model(name)
        except MlflowException:
            raise ModelNotFoundError(
                f"no registered model {name}: train and promote one first "
                f"(workbench train --family {family}; workbench promote RUN)"
            ) from None
        try:
            version = client.get_model_version_by_alias(name, alias)
        except MlflowException:
            aliases = getattr(registered, "aliases", {}) or {}
            known = ", ".join(f"{a}→v{v}" for a, v in sorted(aliases.items())) or "none"
            versions = sorted(
                int(v.version) for v in client.search_model_versions(f"name='{name}'")
            )
            raise ModelNotFoundError(
                f"{name} has no version with alias {alias!r} (aliases: {known}; versions: "
                f"{', '.join(map(str, versions)) or 'none'}); promote a run with "
                "`workbench promote RUN` or pass an existing alias"
            ) from None
    return ModelRef(name, str(version.version), str(version.run_id), alias)


def load_grading_model(family: str, alias: str = CHAMPION) -> tuple[GradingModel, ModelRef]:
    """The :class:`GradingModel` registered under ``alias``, loaded through MLflow.

    Loaded as the pyfunc any process would load, then unwrapped: grading needs the
    scorecard itself (points per indicator for the reasons), not only its predictions.
    """
    import mlflow

    ref = resolve_alias(family, alias)
    with _store():
        pyfunc = mlflow.pyfunc.load_model(f"models:/{ref.name}/{ref.version}")
    return pyfunc.unwrap_python_model().model, ref


def log_grading_run(
    ref: ModelRef,
    family: str,
    *,
    params: Mapping,
    metrics: Mapping,
    artifacts: list[Path],
    tags: Mapping | None = None,
) -> str:
    """Record a grading month in the family's experiment (aggregates only; returns the run id).

    Enterprise-level grades stay in the signed grade folder: MLflow is read by more people
    than the grade file may be.
    """
    import mlflow

    run_tags = {
        "git_commit": git_commit(),
        FAMILY_TAG: family,
        "stage": "grade",
        "model_name": ref.name,
        "model_version": ref.version,
        "model_run_id": ref.run_id,
        "model_alias": ref.alias,
        **{str(k): str(v) for k, v in (tags or {}).items()},
    }
    with _store() as client:
        experiment_id = _ensure_experiment(client, family)
        with mlflow.start_run(
            experiment_id=experiment_id,
            run_name=f"grade-{params.get('snapshot', '')}",
            tags=run_tags,
        ) as run:
            mlflow.log_params({k: v[:6000] for k, v in flatten_params(params).items()})
            mlflow.log_metrics(_clean_metrics(metrics))
            for path in artifacts:
                mlflow.log_artifact(str(path))
            return run.info.run_id
