"""The indicator lab (指标实验室): try an indicator without touching the monthly outputs.

An analyst writes an indicator as a YAML snippet (the catalog's own format), and the lab
computes it on a training panel of the newest ingest — in a scratch folder under
``scratch/indicator-lab/`` that no stage reads — then shows what a reviewer asks first:

- its binning table and event rate per bin (optbinning, the same binning training uses;
  the quick IV of ``indicators/signal.py`` is a coarser, binning-free reading);
- its IV per snapshot (stable, or a one-month accident?) and its missing rate;
- its correlation with the champion's indicators (training drops one of two strongly
  correlated indicators, so a new indicator that repeats an old one adds nothing);
- a retrained model with it, compared with the champion on the same validation months.

The retrained run is logged to MLflow tagged ``workbench.experiment = indicator-lab`` and
registered like any training, so it can become champion only through
``workbench promote RUN`` and its gates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from workbench import workspace
from workbench.errors import ParameterError
from workbench.indicators import Catalog, load_catalog
from workbench.indicators.signal import information_value
from workbench.scoring import labels
from workbench.scoring.panel import build_panel
from workbench.workspace import atomic_directory
from workbench.workspace.folders import IngestFolder, PanelFolder

log = logging.getLogger(__name__)

EXPERIMENT_TAG = "workbench.experiment"
EXPERIMENT = "indicator-lab"

#: The README's example: price-law penalties over 36 months.
EXAMPLE = """\
id: pen_price_36m
name: 近36个月价格违法处罚次数
dimension: 监管信息
source: penalties
window: 36m
aggregation: count
filter: {violation_type: {contains_any: [价格]}}
direction: increasing
description: 价格违法行为反映经营规范程度。
"""


def scratch_dir() -> Path:
    """``scratch/indicator-lab/`` in the workspace: the lab's own, read by no stage."""
    return workspace.current().root / "scratch" / "indicator-lab"


@dataclass
class LabPanel:
    """A panel with the candidate indicators, and how it was made."""

    frame: pd.DataFrame
    catalog: Catalog
    candidates: list[str]
    train: list[pd.Timestamp]
    validation: list[pd.Timestamp]
    folder: Path
    data: IngestFolder
    notes: list[str] = field(default_factory=list)

    @property
    def training_rows(self) -> pd.DataFrame:
        """Labelled rows of the training snapshots."""
        rows = self.frame[self.frame["snapshot"].isin(self.train)]
        return rows[rows["label"].notna()]


def candidate_catalog(snippet: str, folder: Path) -> tuple[Catalog, list[str]]:
    """The generic catalog extended by the snippet's indicators (one mapping or a list).

    Raises:
        ParameterError: the snippet is not YAML of indicators; CatalogError: an indicator
            is malformed (naming the field and what is allowed).
    """
    try:
        items = yaml.safe_load(snippet)
    except yaml.YAMLError as err:
        raise ParameterError(f"the indicator snippet is not valid YAML: {err}") from None
    items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ParameterError(
            "the indicator snippet must be one indicator (a mapping with id, name, source, …) "
            "or a list of them"
        )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "candidate_catalog.yaml"
    path.write_text(
        yaml.safe_dump({"extends": "generic", "indicators": items}, allow_unicode=True),
        encoding="utf-8",
    )
    return load_catalog(path), [str(i.get("id")) for i in items]


def build_lab_panel(
    snippet: str = EXAMPLE, data: str | Path | None = None, as_of: str | None = None
) -> LabPanel:
    """Compute the candidate catalog on the default training design of the newest ingest.

    The panel (training and validation month ends with the 12-month embargo, labels cut at
    ``as_of``) is written to the scratch folder, never to ``data/``.
    """
    from workbench.stages.train import default_snapshots

    ws = workspace.current()
    ingest = IngestFolder(Path(data)) if data else ws.ingest.require_latest()
    ingest.require("run `workbench ingest --data EXPORT_FOLDER` first")
    as_of = as_of or ingest.snapshot
    folder = scratch_dir()
    catalog, candidates = candidate_catalog(snippet, folder)
    design = default_snapshots(as_of)
    train, validation = design[0], design[1]
    frame = build_panel(
        ingest.tables, train + validation, catalog, labels.load_label_definition(), as_of
    )
    with atomic_directory(folder / "panel", PanelFolder.MARKER) as tmp:
        frame.to_parquet(PanelFolder(tmp).file("panel"), index=False)
    return LabPanel(frame, catalog, candidates, list(train), list(validation), folder, ingest)


def binning_table(lab: LabPanel, indicator: str) -> pd.DataFrame:
    """Optbinning's table of one indicator on the training rows (bins, counts, event rate, WoE, IV)."""
    import logging as _logging

    _logging.getLogger("__cvxpy__").disabled = True
    from optbinning import OptimalBinning

    rows = lab.training_rows
    spec = lab.catalog.get(indicator)
    dtype = "categorical" if spec.categorical else "numerical"
    x = rows[indicator]
    x = x.astype(object) if spec.categorical else pd.to_numeric(x, errors="coerce")
    binning = OptimalBinning(name=indicator, dtype=dtype, solver="cp")
    binning.fit(x.to_numpy(), rows["label"].astype(int).to_numpy())
    table = binning.binning_table.build()
    table = table.rename(columns={"Event rate": "event_rate"})
    table.insert(0, "bin", table.pop("Bin").map(_bin_text))
    return table


def _bin_text(value) -> str:
    if isinstance(value, str):
        return value
    return "、".join(str(v) for v in np.ravel(value))


def iv_by_snapshot(lab: LabPanel, indicator: str) -> pd.DataFrame:
    """IV, missing rate and bad rate of one indicator at every labelled snapshot."""
    spec = lab.catalog.get(indicator)
    out = []
    for snapshot, rows in lab.frame[lab.frame["label"].notna()].groupby("snapshot"):
        iv = information_value(rows[indicator], rows["label"], categorical=spec.categorical)
        out.append(
            {
                "snapshot": snapshot,
                "period": "training" if snapshot in lab.train else "validation",
                "IV": round(float(iv), 4),
                "missing_rate": round(float(rows[indicator].isna().mean()), 4),
                "nonzero_rate": round(float((rows[indicator].fillna(0) != 0).mean()), 4),
                "bad_rate": round(float(rows["label"].mean()), 4),
            }
        )
    return pd.DataFrame(out)


def champion_features(family: str = "generic") -> list[str]:
    """The champion's indicators (empty when there is no champion yet)."""
    from workbench import governance

    if governance.champion_version(family) is None:
        return []
    model, _ = governance.load_grading_model(family)
    return list(model.features)


def correlation_with_champion(lab: LabPanel, indicator: str, family: str = "generic"):
    """Spearman correlation of the indicator with each of the champion's indicators."""
    features = [f for f in champion_features(family) if f in lab.frame and f != indicator]
    rows = lab.training_rows
    numeric = [f for f in features if pd.api.types.is_numeric_dtype(rows[f])]
    if not numeric or not pd.api.types.is_numeric_dtype(rows[indicator]):
        return pd.DataFrame(columns=["indicator", "name", "spearman"])
    corr = rows[numeric].corrwith(rows[indicator], method="spearman")
    table = pd.DataFrame(
        {
            "indicator": corr.index,
            "name": [lab.catalog.get(f).name for f in corr.index],
            "spearman": corr.round(3).to_numpy(),
        }
    )
    return table.reindex(table["spearman"].abs().sort_values(ascending=False).index).reset_index(
        drop=True
    )


def retrain(lab: LabPanel, family: str = "generic", scheme: str = "national_4") -> dict:
    """Fit with the candidates, log an experiment run, compare with the champion.

    Returns ``{"run_id", "version", "comparison"}``; the comparison table holds the
    validation metrics of the champion's run and of the experiment, side by side.
    """
    from workbench import governance
    from workbench.scoring.train import train_family
    from workbench.views.training import write_artifacts

    result = train_family(
        lab.frame, lab.catalog, family=family, scheme_id=scheme,
        validation_from=str(lab.validation[0].date()),
    )  # fmt: skip
    evidence = write_artifacts(result, lab.folder / "evidence")
    run = governance.log_training_run(
        result.model,
        params={**result.params, "candidates": ",".join(lab.candidates)},
        metrics=result.metrics,
        artifacts=evidence,
        input_example=lab.frame[result.model.features].head(5),
        tags={"stage": "train", EXPERIMENT_TAG: EXPERIMENT, "data": str(lab.data.path)},
        run_name=f"indicator-lab {family} {'+'.join(lab.candidates)}",
    )
    champion = _champion_metrics(family)
    names = {
        "valid_auc": "验证期 AUC",
        "valid_ks": "验证期 KS",
        "psi_score": "评分 PSI",
        "n_features": "入模指标数",
    }
    comparison = pd.DataFrame(
        {
            "指标": list(names.values()),
            "在用模型（champion）": [champion.get(k) for k in names],
            "实验模型": [result.metrics.get(k) for k in names],
        }
    )
    iv = result.iv_table
    kept = iv[iv["feature"].isin(lab.candidates)] if "feature" in iv else iv
    return {
        "run_id": run.run_id,
        "version": run.version,
        "comparison": comparison,
        "candidates_in_iv_table": kept,
    }


def _champion_metrics(family: str) -> dict:
    from workbench import governance

    if governance.champion_version(family) is None:
        return {}
    ref = governance.resolve_alias(family)
    with governance.store() as client:
        return dict(client.get_run(ref.run_id).data.metrics)
