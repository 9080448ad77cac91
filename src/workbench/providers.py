"""What the pipeline may ask of the world outside the bureau's data (外部提供者).

The pipeline itself never knows where inspection results come from or what the truth
is. In production, results arrive as files (``workbench evaluate --results``) and there
is no truth. The demo city plugs a :class:`Provider` into the monthly cycle that
simulates inspections from the city's hidden truth and reports the ceilings (Bayes
limit, oracle) only a synthetic city can know. The pipeline only sees this protocol; the
layer rules (``.importlinter``) forbid it to import the demo package.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from workbench.workspace.folders import IngestFolder, PlanFolder


class Provider(Protocol):
    """Hooks the monthly cycle calls; every method may return nothing."""

    name: str

    def inspection_results(self, plan: PlanFolder, seed: int) -> Path | None:
        """Write the results of a drawn plan's inspections; return the file (or None)."""

    def training_metrics(self, validation: pd.DataFrame, data: IngestFolder) -> dict:
        """Extra metrics on the validation rows (e.g. ceilings known from a truth)."""

    def evaluation_extras(
        self, plan: PlanFolder, units: pd.DataFrame, population: pd.DataFrame | None
    ) -> dict:
        """Extra evaluation figures (e.g. the oracle under the same plan).

        ``units``: one row per inspected enterprise; ``population``: the graded
        enterprises the plan drew from (``uscc``, ``grade``, ``pd``) when known.
        """


class NoProvider:
    """Production: results come as files, nothing is known beyond the data."""

    name = "none"

    def inspection_results(self, plan: PlanFolder, seed: int) -> Path | None:
        """Nothing is simulated: a bureau's results arrive as files."""
        return None

    def training_metrics(self, validation: pd.DataFrame, data: IngestFolder) -> dict:
        """No truth, no ceilings."""
        return {}

    def evaluation_extras(
        self, plan: PlanFolder, units: pd.DataFrame, population: pd.DataFrame | None
    ) -> dict:
        """No truth, no oracle."""
        return {}


ENTRY_POINT_GROUP = "workbench.providers"


def available() -> dict[str, str]:
    """Provider name → its entry point (the installed plug-ins)."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load(name: str = "") -> Provider:
    """The provider plug-in called ``name`` (entry point group ``workbench.providers``).

    An empty name is production: :class:`NoProvider`. Plug-ins are found by name at run
    time, so the pipeline never imports the demo (the layer rules check it).

    Raises:
        ParameterError: an unknown name, naming the installed providers.
    """
    if not name:
        return NoProvider()
    from importlib.metadata import entry_points

    from workbench.errors import ParameterError

    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        raise ParameterError(
            f"unknown provider {name!r}; installed: {', '.join(available()) or 'none'}"
        )
    return found[0].load()()
