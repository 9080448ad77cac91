"""The promote stage (模型晋级): the champion alias moves only through the gates.

``workbench promote RUN`` checks the training run's metrics against the gates of the
configuration (``gates.yaml``: AUC and KS floors, strictly rising bad rate by grade,
PSI, missing shares). It prints every gate with its value and threshold; when all pass,
the run's registered version becomes ``@champion`` and the previous champion
``@challenger``; otherwise the champion stays and the exit code is 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench import config, workspace
from workbench.errors import NotReadyError, ParameterError
from workbench.stages.registry import option
from workbench.workspace.folders import ModelFolder

PROMOTION_REFUSED = 3  # exit code when a gate fails (the champion stays)


@dataclass(frozen=True)
class Parameters:
    """Parameters of ``workbench promote``."""

    run: str = option(
        "",
        "MLflow run id printed by `workbench train` (default: the latest training of --family)",
        positional=True,
        metavar="RUN",
    )
    family: str = option("generic", "model family whose latest training is promoted")
    gates: str = option("", "gates YAML (default: the configuration's gates.yaml)", path=True)


def resolve(params: Parameters, settings: config.Settings | None = None) -> Parameters:
    """The run defaults to the family's latest training (data/models/<family>/run.json)."""
    if params.gates and not Path(params.gates).is_file():
        raise ParameterError(f"gates file {params.gates} does not exist")
    run = params.run
    if not run:
        folder: ModelFolder = workspace.current().models.at(params.family)
        if not folder.exists():
            raise NotReadyError(
                f"no trained {params.family} model in {folder.path}: run `workbench train` "
                "first, or pass the run id"
            )
        run = folder.run()["run_id"]
    return Parameters(run, params.family, params.gates)


def run(params: Parameters, settings: config.Settings | None = None) -> dict:
    """Check the gates; move the alias when they pass."""
    from workbench import governance

    result = governance.promote(params.run, gates=params.gates or None)
    return {
        "run_id": params.run,
        "promoted": result.promoted,
        "message": result.message,
        "gates": [
            {
                "gate": c.gate,
                "metric": c.metric,
                "op": c.op,
                "threshold": c.threshold,
                "value": c.value,
                "verdict": c.verdict,
            }
            for c in result.checks
        ],
        "exit_code": 0 if result.promoted else PROMOTION_REFUSED,
    }


def read(params: Parameters) -> dict:
    """Promotion has no files: its outcome is the registry alias."""
    return run(params)


def month(params: Parameters) -> str:
    """Promotion is not monthly; its record is the MLflow run."""
    return "models"


def describe(params: Parameters, summary: dict) -> list[str]:
    """Every gate with its value and threshold, then the verdict."""
    return summary["message"].splitlines()


def cycle_parameters(ctx) -> Parameters | None:
    """The cycle promotes what it has just trained (nothing when it did not train)."""
    if ctx.trained_run is None:
        return None
    return Parameters(run=ctx.trained_run, family=ctx.family)


def cycle_record(ctx, summary: dict, echo) -> None:
    """A first model that fails the gates leaves nothing to grade with: stop the cycle."""
    from workbench import governance

    for line in summary["message"].splitlines():
        echo(f"  {line}")
    ctx.record.setdefault("trained", {})["promoted"] = summary["promoted"]
    if not summary["promoted"] and governance.champion_version(ctx.family) is None:
        raise NotReadyError(
            "the first model did not pass the gates, so there is no champion to grade with: "
            + summary["message"].replace("\n", "; ")
        )
