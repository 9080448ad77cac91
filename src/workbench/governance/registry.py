"""Model references (模型引用): which registered version an alias names, and loading it.

Each family has one registered model ``workbench-<family>``; the alias ``champion`` (在用模型)
names the version that grades, ``challenger`` (挑战者模型) the one it replaced. Grading
resolves the alias once and writes the exact version into every grade file, so a month's
grades name the model that made them even after the alias moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError
from workbench.governance.tracking import experiment_name, store

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from workbench.scoring.model import GradingModel

CHAMPION, CHALLENGER = "champion", "challenger"


def model_name(family: str) -> str:
    """The registered model name of a family (``workbench-generic``, ``workbench-food``)."""
    return experiment_name(family)


class ModelNotFoundError(WorkbenchError):
    """No registered model, or no version under the alias: says what exists and what to do."""


@dataclass(frozen=True)
class ModelRef:
    """Which registered model version grades a month (written into every grade file)."""

    name: str
    version: str
    run_id: str
    alias: str


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version of the registered model ``name`` holding ``alias``, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def champion_version(family: str, alias: str = CHAMPION) -> str | None:
    """The version of ``workbench-<family>`` holding ``alias``, or None."""
    with store() as client:
        return alias_version(client, model_name(family), alias)


def resolve_alias(family: str, alias: str = CHAMPION) -> ModelRef:
    """The version behind ``workbench-<family>@<alias>``.

    Raises:
        ModelNotFoundError: naming the model and alias, listing the versions and aliases
            that do exist, and the command that would fix it.
    """
    from mlflow.exceptions import MlflowException

    name = model_name(family)
    with store() as client:
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


def load_champion(family: str, alias: str = CHAMPION):
    """Load ``models:/workbench-<family>@champion`` as an MLflow pyfunc.

    ``.predict(frame)`` returns ``score``, ``pd`` and ``model_grade`` with a fresh index.
    """
    import mlflow

    with store():
        return mlflow.pyfunc.load_model(f"models:/{model_name(family)}@{alias}")


def load_grading_model(family: str, alias: str = CHAMPION) -> tuple[GradingModel, ModelRef]:
    """The :class:`GradingModel` registered under ``alias``, loaded through MLflow.

    Loaded as the pyfunc any process would load, then unwrapped: grading needs the
    scorecard itself (points per indicator for the reasons), not only its predictions.
    """
    import mlflow

    ref = resolve_alias(family, alias)
    with store():
        pyfunc = mlflow.pyfunc.load_model(f"models:/{ref.name}/{ref.version}")
    return pyfunc.unwrap_python_model().model, ref
