"""The train stage (模型训练): panel, fit, evidence on disk, run in MLflow.

Writes into its output folder (atomically)::

    model.pkl            the GradingModel (also inside the MLflow model)
    run.json             MLflow run id, registered model name and version, metrics
    iv_table.csv, points_table.csv, grade_table.csv, binning/<indicator>.csv
    roc.png, score_distribution.png, grade_bad_rate.png, model_card.md
    validation.parquet   the validation rows with score, PD and grade
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench import config, providers, workspace
from workbench.errors import NotReadyError, ParameterError
from workbench.evaluation import weighting
from workbench.indicators import load_catalog
from workbench.scoring import labels
from workbench.scoring.design import (  # noqa: F401  (VALID_MONTHS: the stage's constant)
    MAX_TRAIN_MONTHS,
    VALID_MONTHS,
    Design,
    plan_design,
)
from workbench.scoring.panel import build_panel, write_panel
from workbench.scoring.train import train_family
from workbench.stages.registry import option
from workbench.views.training import write_artifacts
from workbench.workspace import atomic_directory, write_json
from workbench.workspace.folders import IngestFolder, ModelFolder, PanelFolder, check_day

TRAIN_MONTHS = MAX_TRAIN_MONTHS  # at most this many month ends fitted on (fewer when short)


@dataclass(frozen=True)
class Parameters:
    """Parameters of ``workbench train`` (and of ``notebooks/03_train.ipynb``)."""

    data: str = option("", "ingest output folder (default: the latest ingest)", path=True)
    panel: str = option(
        "",
        "training panel (a panel.parquet or its folder; default: built from the data — the "
        "longest training window, up to 10 month ends, that fits before a 12-month embargo "
        "(隔离期) and 3 validation month ends)",
        path=True,
    )
    as_of: str = option(
        "",
        "outcomes known as of YYYY-MM-DD: labels are cut there (default: the data's snapshot)",
        metavar="YYYY-MM-DD",
    )
    family: str = option(
        "generic", "model family: generic, or a pack: food, drugs, special_equipment"
    )
    scheme: str = option(
        "national_4", "grade scheme (分类方案) of the configuration, e.g. national_4, five_class"
    )
    catalog: str = option(
        "", "indicator catalog YAML (default: the configuration's generic catalog)", path=True
    )
    validation_from: str = option(
        "", "first validation snapshot YYYY-MM-DD (with --panel)", metavar="YYYY-MM-DD"
    )
    retire: str = option(
        "",
        "indicators to leave out of this training, comma-separated (e.g. "
        "ar_not_on_time_ratio,county); listed in the IV table as retired",
        metavar="IDS",
    )
    out: str = option("", "output folder (default: data/models/<family>)", path=True)
    provider: str = option(
        "",
        "provider plug-in adding metrics only it can know (demo: the synthetic city's "
        "ceilings); default none",
    )


def resolve(params: Parameters, settings: config.Settings | None = None) -> Parameters:
    """Check the parameters and fill the defaults (latest ingest; the embargoed panel).

    Raises:
        ParameterError: a missing folder or file, a malformed date, an unknown scheme or
            provider; NotReadyError when there is no ingest yet.
    """
    from workbench.scoring.grades import load_schemes

    ws = workspace.current()
    data = IngestFolder(Path(params.data)) if params.data else ws.ingest.require_latest()
    data.require("run `workbench ingest --data EXPORT_FOLDER` first")
    panel = params.panel
    if panel:
        path = Path(panel)
        if path.is_dir():
            path = PanelFolder(path).file("panel")
        if not path.is_file():
            raise ParameterError(f"panel {panel} does not exist")
        panel = str(path)
    for name, value in (("--as-of", params.as_of), ("--validation-from", params.validation_from)):
        if value:
            check_day(value, name)
    if params.out:  # refused now, not after the fit
        workspace.check_replaceable(params.out, ModelFolder.MARKER)
    schemes = load_schemes()
    if params.scheme not in schemes:
        raise ParameterError(f"scheme {params.scheme!r}: allowed {', '.join(schemes)}")
    providers.load(params.provider)  # an unknown provider fails here, before any work
    retire = _retired(params.retire)
    if retire:
        ids = {i.id for i in load_catalog(params.catalog or None, _packs(params.family)).all}
        unknown = [r for r in retire if r not in ids]
        if unknown:
            raise ParameterError(
                f"--retire names {', '.join(unknown)}, not in the indicator catalog "
                "(the ids are the indicator columns: `workbench indicators` lists them)"
            )
    as_of = params.as_of or data.snapshot
    if not panel:  # the design the data allows, said before any work (or what is missing)
        print(default_design(data, as_of).describe(), file=sys.stderr, flush=True)
    return Parameters(
        data=str(data.path),
        panel=panel,
        as_of=as_of,
        family=params.family,
        scheme=params.scheme,
        catalog=params.catalog,
        validation_from=params.validation_from,
        retire=",".join(retire),
        out=params.out or str(ws.models.at(params.family).path),
        provider=params.provider,
    )


def _retired(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.strip() for r in text.split(",") if r.strip()))


def _packs(family: str) -> tuple[str, ...]:
    return () if family == "generic" else (family,)


def _read_panel(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def default_snapshots(
    as_of: str,
    definition: labels.LabelDefinition | None = None,
    history_start: str | pd.Timestamp | None = None,
) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """Training and validation month ends of the default design, with the embargo between.

    Validation: the last ``VALID_MONTHS`` month ends whose label is observable by
    ``as_of``; training: the longest run of month ends (up to ``TRAIN_MONTHS``) whose
    label windows end before validation begins and which the history starting at
    ``history_start`` covers (see :func:`workbench.scoring.design.plan_design`).

    Raises:
        DesignError: (a NotReadyError) when the history is too short, saying how much
            more is needed.
    """
    definition = definition or labels.load_label_definition()
    design = plan_design(as_of, definition.horizon_months, history_start)
    return list(design.train), list(design.valid)


def default_design(
    data: IngestFolder, as_of: str, definition: labels.LabelDefinition | None = None
) -> Design:
    """The design the ingested data allows as of ``as_of`` (the readiness report's).

    Raises:
        NotReadyError: when no label table is present, or the history is too short — the
            message names what is missing and how much more history would do.
    """
    from workbench.intake import readiness

    definition = definition or labels.load_label_definition()
    label_tables = tuple(dict.fromkeys(e.source for e in definition.events))
    profiles = readiness.profile_ingest(data.tables, data.quality())
    if not any(profiles[t].present for t in label_tables):
        raise NotReadyError(
            "training needs at least one of the tables the label uses ("
            + ", ".join(label_tables)
            + f"); the ingest {data.path} has none — see `workbench check --data {data.path}`"
        )
    start, _ = readiness.history_start(profiles, label_tables)
    try:
        return plan_design(as_of, definition.horizon_months, start)
    except NotReadyError as err:
        raise NotReadyError(
            f"cannot train on {data.path}: {err}. `workbench check --data {data.path}` shows "
            "what the data allows"
        ) from err


def default_panel(
    data: IngestFolder, as_of: str, packs: tuple[str, ...] = (), catalog: str = ""
) -> tuple[PanelFolder, str]:
    """Build (once per data and date) the default design's panel; return it, validation start.

    Labels only see outcomes known by ``as_of`` (the monthly cycle passes each month's
    end, so nothing later is visible to that month's training). The panel is written
    atomically to ``data/panel/as-of-<date>[-<packs>]/`` so an analyst can open it.
    """
    definition = labels.load_label_definition()
    chosen = default_design(data, as_of, definition)
    train, valid = list(chosen.train), list(chosen.valid)
    name = f"as-of-{as_of}" + (f"-{'-'.join(packs)}" if packs else "")
    folder = workspace.current().panels.at(name)
    design = {
        "data": str(data.path),
        "as_of": as_of,
        "train": [str(s.date()) for s in train],
        "validation": [str(s.date()) for s in valid],
        "catalog": catalog,
        "config_fingerprint": config.current().fingerprint,
    }
    if folder.exists() and folder.maybe_json("design") == design:
        return folder, design["validation"][0]
    frame = build_panel(
        data.tables, train + valid, load_catalog(catalog or None, packs), definition, as_of
    )
    return write_panel(frame, folder.path, design), design["validation"][0]


def run(params: Parameters, settings: config.Settings | None = None) -> dict:
    """Train; write the evidence; log and register the run in MLflow."""
    return run_training(params)


def read(params: Parameters) -> dict:
    """The run summary of a finished training."""
    return ModelFolder(Path(params.out)).run()


def month(params: Parameters) -> str:
    """The month whose report folder keeps the executed notebook (that of ``as_of``)."""
    return params.as_of[:7]


def after_notebook(params: Parameters, executed: Path) -> None:
    """Log the rendered notebook to the training run."""
    governance_log_file(read(params)["run_id"], executed.with_suffix(".html"), "notebook")


def describe(params: Parameters, summary: dict) -> list[str]:
    """What the CLI prints."""
    m = summary["metrics"]
    lines = [summary["params"]["design"]] if summary.get("params", {}).get("design") else []
    excluded = summary.get("params", {}).get("excluded") or {}
    if excluded:
        lines.append(f"left out of training ({len(excluded)}; reasons in the IV table):")
        lines += [f"  {name}: {why}" for name, why in excluded.items()]
    lines += [
        f"trained {summary['family']}: validation AUC {m['valid_auc']:.4f}, "
        f"KS {m['valid_ks']:.4f}, PSI {m['psi_score']:.4f}, grades rise strictly: "
        f"{'yes' if m['grades_monotone'] else 'NO'}"
    ]
    if "reference_lgbm_auc" in m:
        lines.append(
            f"  a LightGBM reference on the same indicators and split reaches AUC "
            f"{m['reference_lgbm_auc']:.4f} (gap {m['gap_to_reference']:+.4f})"
        )
    if "reference_lgbm_grades_monotone" in m:
        lines.append(
            "  its grades by the same scheme rise strictly: "
            f"{'yes' if m['reference_lgbm_grades_monotone'] else 'no'} "
            f"(weakest step z = {m['reference_lgbm_order_z']:.2f}; "
            f"the scorecard's {m['grades_order_z']:.2f})"
        )
    if "truth_violation_auc" in m:
        lines.append(
            f"  the synthetic city's true violation risk reaches AUC "
            f"{m['truth_violation_auc']:.4f} on the same rows"
        )
    if "truth_label_auc" in m:
        lines.append(
            f"  the label's ceiling (Bayes limit, simulated) is AUC "
            f"{m['truth_label_auc']:.4f} on the same rows"
        )
    if "run_id" in summary:
        lines.append(
            f"MLflow run {summary['run_id']}: {summary['model_name']} version {summary['version']}"
        )
    lines.append(f"evidence: {ModelFolder(Path(params.out)).evidence.path}")
    if "run_id" in summary:
        lines.append(f"promote it with: workbench promote {summary['run_id']}")
    return lines


def cycle_parameters(ctx) -> Parameters | None:
    """Train on what was known at the month's end — only when the cycle asks for it."""
    if not ctx.retrain_reason:
        return None
    return Parameters(
        data=str(workspace.current().ingest.at(ctx.month).path),
        as_of=ctx.month_end,
        family=ctx.family,
        scheme=ctx.scheme,
        provider=ctx.provider,
    )


def run_training(params: Parameters, log_to_mlflow: bool = True) -> dict:
    """Train, write the evidence, log and register in MLflow; return the run summary."""
    from workbench import governance
    from workbench.intake import readiness

    packs = _packs(params.family)
    catalog = load_catalog(params.catalog or None, packs)
    data = IngestFolder(Path(params.data))
    design = None
    if params.panel:
        panel = _read_panel(Path(params.panel))
        validation_from = params.validation_from or None
    else:
        design = default_design(data, params.as_of)
        folder, validation_from = default_panel(data, params.as_of, packs, params.catalog)
        panel = folder.read_panel()
        validation_from = params.validation_from or validation_from
    ready = readiness.assess_ingest(data, catalog, as_of=params.as_of)
    panel = weighting.attach_inclusion_probabilities(
        panel, weighting.recorded_draws(), labels.load_label_definition().horizon_months
    )
    result = train_family(
        panel,
        catalog,
        family=params.family,
        scheme_id=params.scheme,
        validation_from=validation_from,
        unavailable=ready.unavailable(),
        retired=_retired(params.retire),
    )
    if design is not None:
        result.params["design"] = design.describe()
    result.metrics.update(providers.load(params.provider).training_metrics(result.validation, data))
    summary = {"family": params.family, "metrics": result.metrics, "params": result.params}
    with atomic_directory(params.out, ModelFolder.MARKER) as tmp:
        written = ModelFolder(tmp)
        result.model.save(written.file("model"))
        result.validation.to_parquet(written.file("validation"), index=False)
        if log_to_mlflow:
            run = governance.log_training_run(
                result.model,
                params=result.params,
                metrics=result.metrics,
                artifacts=write_artifacts(result, written.evidence.path),
                input_example=panel[result.model.features].head(5),
                tags={"stage": "train", "data": str(params.data)},
            )
            summary.update(run_id=run.run_id, model_name=run.model_name, version=run.version)
            # the model card names its run: rewrite it now that the id is known, and log it
            write_artifacts(result, written.evidence.path, run.run_id)
            governance_log_file(run.run_id, written.evidence.file("model_card"))
        else:
            write_artifacts(result, written.evidence.path)
        write_json(written.file("run"), summary)
    return summary


def governance_log_file(run_id: str, path: Path, artifact_path: str | None = None) -> None:
    """Add one file to a finished run (the model card with its id, the rendered notebook)."""
    from workbench import governance

    governance.log_file(run_id, path, artifact_path)


def cycle_record(ctx, summary: dict, echo) -> None:
    """Tell the cycle which run to promote."""
    ctx.trained_run = summary["run_id"]
    ctx.record["trained"] = {
        "run_id": summary["run_id"],
        "version": summary["version"],
        "valid_auc": summary["metrics"]["valid_auc"],
    }
