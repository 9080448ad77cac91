"""Comparing two models (模型比较): a challenger against the champion, for reviewers.

``workbench compare RUN_A RUN_B`` scores the same validation rows — the labelled
validation month ends of the default training design on the newest ingest — with both
runs' models, and writes a Chinese page (AUC and KS with paired bootstrap intervals, ROC
and KS overlays, indicators added or dropped, the points tables side by side, the grade
migration between the two models on one month, each gate's verdict), logged to both
runs under ``compare/``. Without RUN_A the champion is the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench import config, workspace
from workbench.errors import NotReadyError, ParameterError
from workbench.stages.registry import option
from workbench.workspace.folders import IngestFolder


@dataclass(frozen=True)
class Parameters:
    """Parameters of ``workbench compare``."""

    run_b: str = option("", "the challenger's MLflow run id", positional=True, metavar="RUN_B")
    run_a: str = option(
        "", "the reference run id (default: the champion of --family)", metavar="RUN_A"
    )
    family: str = option("generic", "model family of the champion")
    data: str = option("", "ingest folder (default: the newest ingest)", path=True)
    month: str = option(
        "", "month YYYY-MM whose indicators show the grade migration (default: the newest)"
    )
    out: str = option("", "the HTML page (default: reports/compare/<A>-vs-<B>.html)", path=True)


def resolve(params: Parameters, settings: config.Settings | None = None) -> Parameters:
    """The champion as reference when RUN_A is not given; the newest ingest and month."""
    from workbench import governance

    if not params.run_b:
        raise ParameterError("name the challenger: workbench compare RUN_B [--run-a RUN_A]")
    run_a = params.run_a or governance.resolve_alias(params.family).run_id
    ws = workspace.current()
    data = IngestFolder(Path(params.data)) if params.data else ws.ingest.require_latest()
    data.require("run `workbench ingest --data EXPORT_FOLDER` first")
    month = params.month or ws.indicators.latest_month() or ""
    out = params.out or str(ws.reports / "compare" / f"{run_a[:8]}-vs-{params.run_b[:8]}.html")
    return Parameters(params.run_b, run_a, params.family, str(data.path), month, out)


def run(params: Parameters, settings: config.Settings | None = None) -> dict:
    """Score the validation rows with both models and write the page."""
    from workbench.governance.compare import compare
    from workbench.stages.train import default_panel

    data = IngestFolder(Path(params.data))
    packs = () if params.family == "generic" else (params.family,)
    folder, validation_from = default_panel(data, data.snapshot, packs)
    panel = folder.read_panel()
    rows = panel[(panel["snapshot"] >= validation_from) & panel["label"].notna()]
    if rows.empty:
        raise NotReadyError(f"the panel {folder.path} has no labelled validation rows")
    month_frame = None
    if params.month:
        indicators = workspace.current().indicators.at(params.month)
        month_frame = indicators.read_indicators() if indicators.exists() else None
    page = compare(
        params.run_a, params.run_b, rows, month_frame=month_frame, month=params.month,
        out=params.out,
    )  # fmt: skip
    return {"page": str(page), "run_a": params.run_a, "run_b": params.run_b, "rows": len(rows)}


def read(params: Parameters) -> dict:
    """The page of a finished comparison."""
    return {"page": params.out, "run_a": params.run_a, "run_b": params.run_b, "rows": None}


def month(params: Parameters) -> str:
    """Comparisons are not monthly."""
    return "models"


def describe(params: Parameters, summary: dict) -> list[str]:
    """What the CLI prints."""
    return [
        f"comparison of {summary['run_a']} (reference) and {summary['run_b']}: {summary['page']}",
        "  logged to both runs under compare/ (MLflow UI: the runs' Artifacts tab)",
    ]
