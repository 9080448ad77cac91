"""Run logging (运行留痕): the store, the experiments, and every run the workbench records.

Every MLflow call of the workbench goes through :func:`store`, which yields an
``MlflowClient`` on the workbench store; every run is opened with :func:`open_run`, which
tags it with the git commit and the family, logs the configuration fingerprint, and ends
it ``FAILED`` when the block raises, so no crash leaves a run ``RUNNING`` for ever.

The store is local by default (``<repo>/mlflow/mlflow.db`` with artifacts beside it; the
paths are absolute because MLflow records them, and relative sqlite URIs would resolve
against whatever folder a notebook runs in). ``WORKBENCH_MLFLOW_URI`` switches to a
tracking server. Nothing is ever logged to MLflow's ``Default`` experiment, whose artifacts
land in ``./mlruns`` of the current folder.

Each family has one experiment per purpose, so a reviewer finds each kind of run in its
own list: ``workbench-<family>`` (training 模型训练, the registered model's name too),
``workbench-<family>-grading`` (monthly grading 月度评级) and
``workbench-<family>-monitoring`` (health 模型监测). All are created as machine-learning
experiments (tag ``mlflow.experimentKind``), so the MLflow UI opens them on their runs
rather than on GenAI traces.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from workbench import config, workspace

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from workbench.governance.registry import ModelRef
    from workbench.scoring.model import GradingModel

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # it would call an outside host
# tqdm bars on stderr would show as noise in the CLI and as pink boxes in executed notebooks
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

log = logging.getLogger(__name__)

URI_VARIABLE = "WORKBENCH_MLFLOW_URI"
ARTIFACTS_VARIABLE = "WORKBENCH_MLFLOW_ARTIFACTS"
MODEL_PREFIX = "workbench-"
FAMILY_TAG = "workbench.family"
MODEL_CODE = Path(__file__).with_name("mlflow_model.py")
PURPOSE_TAG = "workbench.purpose"
#: purpose → (what the experiment holds, in Chinese and English)
PURPOSES = {
    "training": "模型训练 training runs: metrics, evidence, the registered model, gate verdicts",
    "grading": "月度评级 monthly grading runs: grade distribution (aggregates only)",
    "monitoring": "模型监测 monthly health runs: PSI, migration, retraining advice",
}
STAGE_PURPOSE = {"train": "training", "grade": "grading", "health": "monitoring"}
#: MLflow 3's experiment type; "custom_model_development" makes the UI open on runs
KIND_TAG, KIND_ML = "mlflow.experimentKind", "custom_model_development"
_URI_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
_PARAM_MAX = 6000  # MLflow's cap on a parameter value
_BATCH_PARAMS, _BATCH_METRICS = 100, 1000  # MLflow's caps per log_batch call


# ------------------------------------------------------------------------------- the store
def tracking_uri() -> str:
    """Where runs and the model registry live.

    ``$WORKBENCH_MLFLOW_URI`` when set (e.g. ``http://127.0.0.1:5000`` for a tracking
    server, ``postgresql://user@db-host/mlflow`` for the shared database), else the local
    store ``sqlite:///<repo>/mlflow/mlflow.db`` (absolute; the folder is created).
    """
    env = os.environ.get(URI_VARIABLE, "").strip()
    if env:
        return env
    folder = workspace.repo_root() / "mlflow"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def artifact_root() -> Path:
    """Absolute folder for artifacts logged straight to a store (not through a server).

    ``$WORKBENCH_MLFLOW_ARTIFACTS`` when set (the folder every machine of a shared
    PostgreSQL store mounts), else ``<repo>/mlflow/artifacts``.
    """
    env = os.environ.get(ARTIFACTS_VARIABLE, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    return workspace.repo_root() / "mlflow" / "artifacts"


def experiment_name(family: str, purpose: str = "training") -> str:
    """The experiment of a family's runs of one purpose (see :data:`PURPOSES`).

    ``workbench-<family>`` for training (also the registered model's name),
    ``workbench-<family>-<purpose>`` for grading and monitoring.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose {purpose!r} is not one of {', '.join(PURPOSES)}")
    base = f"{MODEL_PREFIX}{family}"
    return base if purpose == "training" else f"{base}-{purpose}"


def is_server(uri: str) -> bool:
    """Whether ``uri`` is a tracking server (HTTP) rather than a local store."""
    return uri.startswith(("http://", "https://"))


@contextlib.contextmanager
def store() -> Iterator[MlflowClient]:
    """An ``MlflowClient`` on the workbench store; MLflow's process state restored after.

    The one way the workbench talks to MLflow. The fluent URIs are pointed at the store
    too for the block, because logging a pyfunc model and loading ``models:/`` URIs only
    exist as fluent calls. MLflow keeps those URIs as process state (module globals
    mirrored into ``MLFLOW_TRACKING_URI`` / ``MLFLOW_REGISTRY_URI``); restoring them keeps
    a notebook's or a test's own MLflow use undisturbed. Import is lazy: ``import mlflow``
    costs ~1.3 s.
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


def ensure_experiment(family: str, purpose: str = "training") -> str:
    """The id of the family's experiment for ``purpose``, created on first use.

    Against the local store it is created with
    ``artifact_location=<artifact_root>/<family>[-<purpose>]`` (absolute); against a server
    the server's own artifact root applies, since a local path would mean nothing on
    another machine.
    """
    with store() as client:
        return _ensure_experiment(client, family, purpose)


def _ensure_experiment(client: MlflowClient, family: str, purpose: str = "training") -> str:
    name = experiment_name(family, purpose)
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        if found.tags.get(KIND_TAG) != KIND_ML:  # a store from before: mark it once
            client.set_experiment_tag(found.experiment_id, KIND_TAG, KIND_ML)
        return found.experiment_id
    location = None
    if not is_server(tracking_uri()):
        folder = artifact_root() / name.removeprefix(MODEL_PREFIX)
        folder.mkdir(parents=True, exist_ok=True)
        location = folder.as_uri()
    tags = {
        FAMILY_TAG: family,
        PURPOSE_TAG: purpose,
        KIND_TAG: KIND_ML,
        "mlflow.note.content": f"{family}: {PURPOSES[purpose]}",
    }
    return client.create_experiment(name, artifact_location=location, tags=tags)


# ------------------------------------------------------------------------- what a run says
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


def config_params() -> dict[str, str]:
    """``config_fingerprint`` and ``config_folder`` (配置指纹): which configuration ran.

    Two runs with the same fingerprint ran with byte-identical gates, labels, schemes,
    plans and catalogs; the folder is the bureau's ``conf/`` or ``defaults``.
    """
    settings = config.current()
    return {
        "config_fingerprint": settings.fingerprint,
        "config_folder": str(settings.folder) if settings.folder else "defaults",
    }


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


def clean_metrics(metrics: Mapping) -> dict[str, float]:
    """Metric names as text, values as float; raises ValueError naming a non-number."""
    out = {}
    for key, value in metrics.items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError) as err:
            raise ValueError(f"metric {key!r} is {value!r}, not a number") from err
    return out


# ---------------------------------------------------------------------------- an open run
@dataclass(frozen=True)
class OpenRun:
    """A run being logged: the client on the store and the run's ids (see :func:`open_run`)."""

    client: MlflowClient
    run_id: str
    experiment_id: str

    def log_params(self, params: Mapping) -> None:
        """Flattened (dotted keys), each value cut to MLflow's 6,000 characters."""
        from mlflow.entities import Param

        items = [Param(k, v[:_PARAM_MAX]) for k, v in flatten_params(params).items()]
        for start in range(0, len(items), _BATCH_PARAMS):
            self.client.log_batch(self.run_id, params=items[start : start + _BATCH_PARAMS])

    def log_metrics(self, metrics: Mapping, step: int = 0) -> None:
        """Numbers only (a non-number raises ValueError before anything is logged)."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, v, now, step) for k, v in clean_metrics(metrics).items()]
        for start in range(0, len(items), _BATCH_METRICS):
            self.client.log_batch(self.run_id, metrics=items[start : start + _BATCH_METRICS])

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        """A file, or a folder's contents, under ``artifact_path`` (the root if empty)."""
        path = Path(path)
        if path.is_dir():
            self.client.log_artifacts(self.run_id, str(path), artifact_path or None)
        else:
            self.client.log_artifact(self.run_id, str(path), artifact_path or None)


@contextlib.contextmanager
def open_run(
    family: str,
    *,
    purpose: str | None = None,
    run_name: str | None = None,
    tags: Mapping | None = None,
    params: Mapping | None = None,
) -> Iterator[OpenRun]:
    """A new run in the family's experiment, ended ``FINISHED``, or ``FAILED`` on any error.

    ``purpose`` picks the experiment (:func:`experiment_name`); by default it follows the
    ``stage`` tag (``train`` → training, ``grade`` → grading, ``health`` → monitoring;
    anything else → training). The run is tagged with ``git_commit``, the family and the
    purpose (``tags`` may add or override) and gets :func:`config_params`, then ``params``
    (the configuration fingerprint wins over a same-named key in ``params``). A Ctrl-C
    ends it ``KILLED``. Training, grading and health runs all open here, so none can be
    left ``RUNNING`` by a crash. Runs are never nested across experiments: a run that
    refers to another (the champion's training run) names it in a tag.
    """
    from mlflow.entities import RunStatus

    given = {str(k): str(v) for k, v in (tags or {}).items()}
    purpose = purpose or STAGE_PURPOSE.get(given.get("stage", ""), "training")
    run_tags = {"git_commit": git_commit(), FAMILY_TAG: family, PURPOSE_TAG: purpose, **given}
    with store() as client:
        experiment_id = _ensure_experiment(client, family, purpose)
        created = client.create_run(experiment_id, run_name=run_name, tags=run_tags)
        run = OpenRun(client, created.info.run_id, experiment_id)
        try:
            settings = config_params()  # first, so even a refused parameter leaves them
            run.log_params(settings)
            run.log_params(
                {k: v for k, v in flatten_params(params or {}).items() if k not in settings}
            )
            yield run
        except BaseException as err:
            status = "KILLED" if isinstance(err, KeyboardInterrupt) else "FAILED"
            try:
                client.set_terminated(run.run_id, status)
            except Exception:  # the original error matters more than the bookkeeping
                log.warning("could not mark MLflow run %s %s", run.run_id, status, exc_info=True)
            raise
        client.set_terminated(run.run_id, RunStatus.to_string(RunStatus.FINISHED))


def log_file(run_id: str, path: str | Path, artifact_path: str | None = None) -> None:
    """Add one file to an existing (usually finished) run: a model card, a notebook."""
    with store() as client:
        client.log_artifact(run_id, str(path), artifact_path)


# ------------------------------------------------------------------------- the model input
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


# ------------------------------------------------------------------------- the runs logged
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
            parameter value at 6,000 characters). ``config_fingerprint`` and
            ``config_folder`` are added.
        metrics: numbers; the gates read ``valid_auc``, ``valid_ks``, ``psi_score``,
            ``grades_monotone`` and ``max_feature_missing_share``.
        artifacts: a file or folder to log at the run's artifact root, or a mapping
            ``{artifact sub-folder: file or folder}`` (``""`` for the root).
        input_example: rows of the model's input (e.g. a validation sample): the
            signature is built from their columns and from the model's output on them; the
            first five are stored with the model.
        tags: extra run tags (``git_commit``, the family and ``stage=train`` are added).
        run_name: the display name; by default :func:`training_run_name` (family, scheme,
            last validation month), never one of MLflow's invented names.

    Returns:
        The run id, the registered model name and the new version.

    Raises:
        ValueError: a metric that is not a number.
        FileNotFoundError: an artifact path that does not exist.
    """
    import mlflow

    metric_values = clean_metrics(metrics)
    to_log = _artifact_items(artifacts)
    signature = model_signature(model, input_example)
    example = model_input(input_example.head(5), model.features).reset_index(drop=True)
    run_tags = {
        "stage": "train",
        "catalog_fingerprint": model.catalog_fingerprint,
        **(tags or {}),
    }
    name = experiment_name(model.family)  # the registered model shares the family's name
    run_name = run_name or training_run_name(model, params)
    with (
        open_run(
            model.family, purpose="training", run_name=run_name, tags=run_tags, params=params
        ) as run,
        tempfile.TemporaryDirectory(prefix="workbench-model-") as tmp,
    ):
        run.client.log_dict(run.run_id, json.loads(json.dumps(params, default=str)), "params.json")
        run.log_metrics(metric_values)
        for sub, path in to_log:
            run.log_artifact(path, sub)
        pickle_path = model.save(Path(tmp) / "grading_model.pkl")
        # logging a pyfunc model exists only as a fluent call: attach it to this run
        with mlflow.start_run(run_id=run.run_id):
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
    return TrainingRun(run.run_id, name, str(info.registered_model_version), run.experiment_id)


def training_run_name(model: GradingModel, params: Mapping) -> str:
    """``train-<family>-<scheme>-<YYYY-MM>``: what a training run is, at a glance.

    The month is the last validation snapshot (the newest data the model was judged
    on), else ``validation_from``; left out when the parameters name neither.
    """
    scheme = getattr(getattr(model.scheme, "scheme", None), "id", None) or params.get("scheme")
    snapshots = params.get("valid_snapshots") or []
    when = str(snapshots[-1] if snapshots else params.get("validation_from") or "")[:7]
    return "-".join(str(p) for p in ("train", model.family, scheme, when) if p)


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


def log_grading_run(
    ref: ModelRef,
    family: str,
    *,
    params: Mapping,
    metrics: Mapping,
    artifacts: list[Path],
    tags: Mapping | None = None,
) -> str:
    """Record a grading month in ``workbench-<family>-grading`` (aggregates; returns the run id).

    The run is named ``grade-<family>-v<version>-<snapshot>`` and tagged with the model
    version and its training run (``model_run_id``). Enterprise-level grades stay in the
    signed grade folder: MLflow is read by more people than the grade file may be.
    """
    metric_values = clean_metrics(metrics)
    run_tags = {
        "stage": "grade",
        "model_name": ref.name,
        "model_version": ref.version,
        "model_run_id": ref.run_id,
        "model_alias": ref.alias,
        **(tags or {}),
    }
    name = f"grade-{family}-v{ref.version}-{params.get('snapshot', '')}".rstrip("-")
    with open_run(family, purpose="grading", run_name=name, tags=run_tags, params=params) as run:
        run.log_metrics(metric_values)
        for path in artifacts:
            run.log_artifact(path)
    return run.run_id
