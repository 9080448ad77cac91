"""The train stage (模型训练): panel, fit, evidence on disk, run in MLflow.

Writes into its output folder (atomically)::

    model.pkl            the GradingModel (also inside the MLflow model)
    run.json             MLflow run id, registered model name and version, metrics
    iv_table.csv, points_table.csv, grade_table.csv, binning/<indicator>.csv
    roc.png, score_distribution.png, grade_bad_rate.png, model_card.md
    validation.parquet   the validation rows with score, PD and grade
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from workbench import labels, weighting, workspace
from workbench.indicators import load_catalog
from workbench.indicators.stage import latest_ingest
from workbench.panel import build_panel, latest_labelled_snapshot
from workbench.train import embargoed_snapshots, train_family, truth_ceiling
from workbench.training_report import write_artifacts
from workbench.workspace import atomic_directory, write_json

TRAIN_MONTHS = 10  # month ends fitted on
VALID_MONTHS = 3  # month ends validated on, out of time, after the embargo


class TrainParameters(NamedTuple):
    """Checked parameters of the train stage."""

    data: Path
    panel: Path | None
    family: str
    scheme: str
    validation_from: str | None
    out: Path


def resolve_parameters(
    data: str = "",
    panel: str = "",
    family: str = "generic",
    scheme: str = "national_4",
    validation_from: str = "",
    out: str = "",
) -> TrainParameters:
    """Check the parameters and fill the defaults (latest ingest; the embargoed panel).

    Raises:
        ValueError: for a missing folder or file, or a malformed date.
    """
    data_path = Path(data) if data else latest_ingest()
    if not (data_path / "tables").is_dir():
        raise ValueError(f"{data_path} is not an ingest output (no tables/)")
    panel_path = Path(panel) if panel else None
    if panel_path is not None and not panel_path.is_file():
        raise ValueError(f"panel file {panel_path} does not exist")
    if validation_from:
        pd.Timestamp(validation_from)  # raises ValueError when malformed
    out_path = Path(out) if out else workspace.data_dir() / "models" / family
    return TrainParameters(data_path, panel_path, family, scheme, validation_from or None, out_path)


def default_snapshots(data: Path) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """Training and validation month ends of the default panel, with the embargo between.

    Validation: the last ``VALID_MONTHS`` month ends whose label is observable; training:
    ``TRAIN_MONTHS`` month ends whose label windows end before validation begins (see
    :func:`workbench.train.embargoed_snapshots`).
    """
    definition = labels.load_label_definition()
    data_snapshot = json.loads((data / "quality.json").read_text(encoding="utf-8"))["snapshot"]
    return embargoed_snapshots(
        latest_labelled_snapshot(data_snapshot, definition),
        horizon_months=definition.horizon_months,
        train_months=TRAIN_MONTHS,
        valid_months=VALID_MONTHS,
    )


def default_panel(data: Path, packs: tuple[str, ...]) -> pd.DataFrame:
    """The panel of :func:`default_snapshots` (13 snapshots: 10 training, 3 validation)."""
    definition = labels.load_label_definition()
    data_snapshot = json.loads((data / "quality.json").read_text(encoding="utf-8"))["snapshot"]
    train, valid = default_snapshots(data)
    return build_panel(
        data / "tables", train + valid, load_catalog(packs=packs), definition, data_snapshot
    )


def run_training(params: TrainParameters, log_to_mlflow: bool = True) -> dict:
    """Train, write the evidence, log and register in MLflow; return the run summary."""
    from workbench import governance

    packs = () if params.family == "generic" else (params.family,)
    catalog = load_catalog(packs=packs)
    panel = pd.read_parquet(params.panel) if params.panel else default_panel(params.data, packs)
    panel = weighting.attach_inclusion_probabilities(
        panel, weighting.recorded_draws(), labels.load_label_definition().horizon_months
    )
    validation_from = params.validation_from
    if validation_from is None and params.panel is None:
        validation_from = str(default_snapshots(params.data)[1][0].date())
    result = train_family(
        panel,
        catalog,
        family=params.family,
        scheme_id=params.scheme,
        validation_from=validation_from,
    )
    city_truth = _truth_dir(params.data)
    if city_truth:
        result.metrics.update(truth_ceiling(result.validation, city_truth))
    summary = {"family": params.family, "metrics": result.metrics, "params": result.params}
    with atomic_directory(params.out) as tmp:
        result.model.save(tmp / "model.pkl")
        result.validation.to_parquet(tmp / "validation.parquet", index=False)
        if log_to_mlflow:
            run = governance.log_training_run(
                result.model,
                params=result.params,
                metrics=result.metrics,
                artifacts=write_artifacts(result, tmp / "evidence"),
                input_example=panel[result.model.features].head(5),
                tags={"stage": "train", "data": str(params.data)},
            )
            summary.update(run_id=run.run_id, model_name=run.model_name, version=run.version)
            # the model card names its run: rewrite it now that the id is known, and log it
            write_artifacts(result, tmp / "evidence", run.run_id)
            governance_log_file(run.run_id, tmp / "evidence" / "model_card.md")
        else:
            write_artifacts(result, tmp / "evidence")
        write_json(tmp / "run.json", summary)
    return summary


def governance_log_file(run_id: str, path: Path, artifact_path: str | None = None) -> None:
    """Add one file to a finished run (the model card with its id, the rendered notebook)."""
    from mlflow import MlflowClient

    from workbench import governance

    MlflowClient(tracking_uri=governance.tracking_uri()).log_artifact(
        run_id, str(path), artifact_path
    )


def _truth_dir(data: Path) -> Path | None:
    """The synthetic city's truth folder, when the ingested data is the demo city."""
    quality = json.loads((data / "quality.json").read_text(encoding="utf-8"))
    truth = Path(quality["data_dir"]) / "_truth"
    return truth if truth.is_dir() else None


def read_run(out: str | Path) -> dict:
    """The summary written by :func:`run_training`."""
    return json.loads((Path(out) / "run.json").read_text(encoding="utf-8"))
