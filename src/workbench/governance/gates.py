"""Promotion gates (晋级门槛) and promotion (晋级): only a reviewed run becomes the champion.

Promotion sets the alias ``champion`` (在用模型) on a run's registered version only when the
run passes every gate of ``gates.yaml`` (the bureau's copy in ``conf/``, else the packaged
default); the champion it replaces becomes ``challenger`` (挑战者模型). Scoring reads
``models:/workbench-<family>@champion``, so grades always come from a model that passed.
Every attempt, passed or not, is written on the version as the tag ``gates`` and on the
training run as one tag per gate (``gate.auc_min`` = ``passed: valid_auc 0.74 ≥ 0.65``) plus
``gates`` = ``passed`` / ``failed``, so reviewers see and filter verdicts in the run list.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from workbench import config
from workbench.errors import ConfigError, WorkbenchError
from workbench.governance.registry import CHALLENGER, CHAMPION, alias_version, model_name
from workbench.governance.tracking import FAMILY_TAG, MODEL_PREFIX, store, tracking_uri

if TYPE_CHECKING:
    from mlflow import MlflowClient


# ---------------------------------------------------------------------------------- gates
class GateConfigError(ConfigError):
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
    def verdict(self) -> str:
        """``passed``, ``failed`` or ``off`` (a gate switched off in ``gates.yaml``)."""
        if self.threshold is None:
            return "off"
        return "passed" if self.passed else "failed"

    @property
    def shown_value(self) -> str:
        """The run's value to four significant digits, or ``not logged``."""
        return "not logged" if self.value is None else f"{self.value:.4g}"

    @property
    def message(self) -> str:
        """E.g. ``gate valid_auc ≥ 0.65 failed: 0.612``."""
        if self.threshold is None:
            return f"gate {self.gate} skipped (switched off)"
        return f"gate {self.metric} {self.op} {self.threshold:g} {self.verdict}: {self.shown_value}"

    @property
    def tag(self) -> str:
        """The run tag's value, e.g. ``passed: valid_auc 0.74 ≥ 0.65``."""
        if self.threshold is None:
            return "off: switched off in gates.yaml"
        return f"{self.verdict}: {self.metric} {self.shown_value} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class Gates:
    """Promotion gates (晋级门槛); ``None`` switches a gate off. See ``gates.yaml``."""

    auc_min: float | None = 0.65
    ks_min: float | None = 0.25
    psi_max: float | None = 0.25
    grades_monotone: bool = True
    max_missing_share: float | None = 0.99
    grades_order_z_min: float | None = None

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
            (
                "grades_order_z_min",
                "grades_order_z",
                "≥",
                self.grades_order_z_min,
                lambda v, t: v >= t,
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
    """Read a gates file; by default the configured one (the bureau's, else the packaged).

    Keys left out keep their defaults. Raises :class:`GateConfigError` naming the file and
    the key for an unknown key, a value that is not a number, or a share outside [0, 1].
    """
    source = Path(path) if path else config.current().gates
    data = config.read_yaml(source, dict, "a mapping of gate: threshold", GateConfigError)
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
        if key == "grades_order_z_min":  # standard errors: any sign
            values[key] = float(value)
            continue
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
        """For the CLI: the verdict, then every gate with the run's value and the threshold."""
        if self.promoted:
            head = f"{self.model_name} version {self.version} is now @{self.alias}"
            if self.challenger:
                head += f"; version {self.challenger} is now @{CHALLENGER}"
            head += "; gates (晋级门槛):"
        else:
            held = f"version {self.previous}" if self.previous else "no version"
            head = f"run {self.run_id} not promoted; @{self.alias} stays on {held}; gates:"
        return "\n".join([head, *(f"  {c.message}" for c in self.checks)])


class PromotionError(WorkbenchError):
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
        gates: a :class:`Gates`, a gates YAML path, or None for the configured gates.
        alias: the alias to set (``champion``).

    Raises:
        PromotionError: unknown run (naming the training runs that do exist), or no
            registered version created by it.
        GateConfigError: a gates file that cannot be used.
    """
    from mlflow.exceptions import MlflowException

    if not isinstance(gates, Gates):
        gates = load_gates(gates)
    with store() as client:
        try:
            run = client.get_run(run_id)
        except MlflowException:
            raise PromotionError(
                f"no MLflow run {run_id} in {tracking_uri()}; {_known_runs(client)}"
            ) from None
        family = run.data.tags.get(FAMILY_TAG)
        versions = [
            v
            for v in client.search_model_versions(f"run_id = '{run_id}'")
            if family is None or v.name == model_name(family)
        ]
        if not versions:
            stage = run.data.tags.get("stage", "unknown")
            raise PromotionError(
                f"run {run_id} ({stage} run) registered no model version; promote a "
                "training run (the run id `workbench train` printed)"
            )
        version = max(versions, key=lambda v: int(v.version))
        name = version.name
        checks = gates.check(run.data.metrics)
        previous = alias_version(client, name, alias)
        result = PromotionResult(run_id, name, str(version.version), alias, False, checks)
        result.previous = previous
        passed = not result.failures
        client.set_model_version_tag(
            name,
            version.version,
            "gates",
            "passed" if passed else "; ".join(c.message for c in result.failures),
        )
        _tag_verdicts(client, run_id, checks, passed)
        if not passed:
            return result
        if previous is not None and previous != result.version:
            client.set_registered_model_alias(name, CHALLENGER, previous)
            result.challenger = previous
        client.set_registered_model_alias(name, alias, result.version)
        result.promoted = True
        return result


def _tag_verdicts(client: MlflowClient, run_id: str, checks: list[GateCheck], passed: bool):
    """Each gate's verdict as a tag on the training run (the latest attempt wins)."""
    from mlflow.entities import RunTag

    tags = [RunTag(f"gate.{c.gate}", c.tag) for c in checks]
    tags.append(RunTag("gates", "passed" if passed else "failed"))
    client.log_batch(run_id, tags=tags)


def _known_runs(client: MlflowClient, per_experiment: int = 5) -> str:
    """The latest training runs of each workbench experiment, for an unknown-run message."""
    from mlflow.entities import ViewType

    experiments = client.search_experiments(
        view_type=ViewType.ACTIVE_ONLY, filter_string=f"name LIKE '{MODEL_PREFIX}%'"
    )
    parts = []
    for experiment in sorted(experiments, key=lambda e: e.name):
        runs = client.search_runs(
            [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=50
        )
        training = [r.info.run_id for r in runs if r.data.tags.get("stage", "train") == "train"]
        if training:
            shown = ", ".join(training[:per_experiment])
            more = " (more in `workbench ui`)" if len(training) > per_experiment else ""
            parts.append(f"latest training runs of experiment {experiment.name}: {shown}{more}")
    return "; ".join(parts) or "no training runs yet: run `workbench train` first"
