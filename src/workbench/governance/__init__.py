"""Model governance (模型治理) in MLflow: every run recorded, promotion only through gates.

Every training, grading and health check is one MLflow run, in one experiment per purpose
(``workbench-<family>``, ``workbench-<family>-grading``, ``workbench-<family>-monitoring``),
tagged with the git commit and the configuration fingerprint; the grading model (score,
PD, grade) is registered as ``workbench-<family>``, and the alias
``champion`` (在用模型) moves only when a run passes the gates of ``gates.yaml``.

One job per module:

- :mod:`~workbench.governance.tracking` — the store, experiments, logging runs;
- :mod:`~workbench.governance.gates` — the gates and :func:`promote`;
- :mod:`~workbench.governance.registry` — aliases, the champion, loading a model;
- :mod:`~workbench.governance.server` — the MLflow UI server (``workbench ui``);
- :mod:`~workbench.governance.mlflow_model` — the pyfunc wrapper MLflow loads;
- :mod:`~workbench.governance.compare` — a challenger against the champion on the same rows.

The public names are re-exported here: ``from workbench import governance;
governance.promote(run_id)``.
"""

from workbench.governance.gates import (
    GateCheck,
    GateConfigError,
    Gates,
    PromotionError,
    PromotionResult,
    load_gates,
    promote,
)
from workbench.governance.registry import (
    CHALLENGER,
    CHAMPION,
    ModelNotFoundError,
    ModelRef,
    alias_version,
    champion_version,
    load_champion,
    load_grading_model,
    model_name,
    resolve_alias,
)
from workbench.governance.server import BACKENDS, LOOPBACK, MLflowServer, free_port, redact_uri
from workbench.governance.tracking import (
    ARTIFACTS_VARIABLE,
    FAMILY_TAG,
    KIND_ML,
    KIND_TAG,
    MODEL_CODE,
    MODEL_PREFIX,
    PURPOSE_TAG,
    PURPOSES,
    STAGE_PURPOSE,
    URI_VARIABLE,
    OpenRun,
    TrainingRun,
    artifact_root,
    clean_metrics,
    config_params,
    ensure_experiment,
    experiment_name,
    flatten_params,
    git_commit,
    log_file,
    log_grading_run,
    log_training_run,
    model_input,
    model_signature,
    open_run,
    store,
    tracking_uri,
    training_run_name,
)

__all__ = [
    "ARTIFACTS_VARIABLE",
    "BACKENDS",
    "CHALLENGER",
    "CHAMPION",
    "FAMILY_TAG",
    "KIND_ML",
    "KIND_TAG",
    "LOOPBACK",
    "MODEL_CODE",
    "MODEL_PREFIX",
    "PURPOSES",
    "PURPOSE_TAG",
    "STAGE_PURPOSE",
    "URI_VARIABLE",
    "GateCheck",
    "GateConfigError",
    "Gates",
    "MLflowServer",
    "ModelNotFoundError",
    "ModelRef",
    "OpenRun",
    "PromotionError",
    "PromotionResult",
    "TrainingRun",
    "alias_version",
    "artifact_root",
    "champion_version",
    "clean_metrics",
    "config_params",
    "ensure_experiment",
    "experiment_name",
    "flatten_params",
    "free_port",
    "git_commit",
    "load_champion",
    "load_gates",
    "load_grading_model",
    "log_file",
    "log_grading_run",
    "log_training_run",
    "model_input",
    "model_name",
    "model_signature",
    "open_run",
    "promote",
    "redact_uri",
    "resolve_alias",
    "store",
    "tracking_uri",
    "training_run_name",
]
