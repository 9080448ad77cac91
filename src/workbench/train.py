"""Training a model family (模型训练): panel → out-of-time split → scorecard → grades.

Out-of-time validation is the default: the model is fitted on the earlier snapshots of the
panel and judged on the later ones, never on a random split. Everything a reviewer needs
is computed here and returned as plain frames and numbers; the stage (notebook + CLI)
writes them and logs them to MLflow through :mod:`workbench.governance`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from workbench.grades import CalibratedScheme, grade_table, load_schemes, strictly_increasing
from workbench.indicators import Catalog
from workbench.model import GradingModel
from workbench.scorecard import ScorecardOptions, fit_scorecard

log = logging.getLogger(__name__)

TREND = {"increasing": "ascending", "decreasing": "descending", "none": "auto"}


@dataclass
class TrainingResult:
    """What a training run produced: the model, its evidence, the split."""

    model: GradingModel
    metrics: dict[str, float]
    params: dict
    grade_table: pd.DataFrame  # validation rows per grade, bad rate with 95 % CI
    iv_table: pd.DataFrame
    points_table: pd.DataFrame
    validation: pd.DataFrame  # uscc, snapshot, label, score, pd, model_grade
    train_scores: np.ndarray = field(repr=False, default=None)


def ks_statistic(label: np.ndarray, risk: np.ndarray) -> float:
    """Kolmogorov–Smirnov distance between bad and good risk distributions."""
    fpr, tpr, _ = roc_curve(label, risk)
    return float(np.max(tpr - fpr))


def population_stability(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """PSI of ``actual`` against ``expected`` on the expected sample's deciles."""
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    e = np.histogram(expected, edges)[0] / len(expected)
    a = np.histogram(actual, edges)[0] / len(actual)
    e, a = np.clip(e, 1e-6, None), np.clip(a, 1e-6, None)
    return float(np.sum((a - e) * np.log(a / e)))


def family_features(catalog: Catalog, family: str) -> tuple[list, str | None]:
    """The indicators of a model family and the domain flag restricting its rows.

    ``generic`` = the generic catalog on every enterprise; a pack id = generic + that pack
    on the enterprises of its domain (通用+专业).
    """
    if family == "generic":
        return list(catalog.indicators), None
    for pack in catalog.packs:
        if pack.id == family:
            return list(catalog.indicators) + list(pack.indicators), f"in_{pack.id}"
    raise ValueError(
        f"family {family!r}: load the catalog with that pack (packs: "
        f"{', '.join(p.id for p in catalog.packs) or 'none'})"
    )


def lightgbm_reference(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    names: list[str],
    categorical: list[str],
    seed: int = 0,
) -> float:
    """Validation AUC of a LightGBM model on the same indicators and split.

    The reference a reviewer needs to read the scorecard's AUC: how much a flexible model
    (interactions, no monotonic constraint) finds in the same data. Modest settings
    (300 trees, 31 leaves, ≥ 200 rows per leaf), fixed seed.
    """
    import lightgbm as lgb

    def frame(rows: pd.DataFrame, categories: dict | None = None) -> pd.DataFrame:
        out = rows[names].copy()
        for col in categorical:
            values = out[col].astype(object)
            if categories is not None:  # a category unseen in training becomes missing
                values = values.where(values.isin(categories[col]))
            out[col] = pd.Categorical(
                values, categories=None if categories is None else categories[col]
            )
        return out

    x_train = frame(train)
    x_valid = frame(valid, {c: x_train[c].cat.categories for c in categorical})
    model = lgb.LGBMClassifier(
        n_estimators=300,
        learning_rate=0.05,
        num_leaves=31,
        min_child_samples=200,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=seed,
        verbose=-1,
    )
    model.fit(x_train, train["label"].astype(int))
    return float(roc_auc_score(valid["label"].astype(int), model.predict_proba(x_valid)[:, 1]))


def default_validation_from(snapshots: pd.Series, share: float = 0.25) -> pd.Timestamp:
    """The first snapshot of the validation period: the latest ``share`` of snapshots."""
    months = sorted(pd.to_datetime(snapshots).unique())
    if len(months) < 2:
        raise ValueError("out-of-time validation needs a panel of at least two snapshots")
    k = max(1, round(len(months) * share))
    return pd.Timestamp(months[-k])


def train_family(
    panel: pd.DataFrame,
    catalog: Catalog,
    *,
    family: str = "generic",
    scheme_id: str = "national_4",
    validation_from: str | None = None,
    options: ScorecardOptions | None = None,
    reference: bool = True,
) -> TrainingResult:
    """Fit and validate one model family on a panel (see :func:`workbench.panel.build_panel`).

    With ``reference`` a LightGBM model is fitted on the same indicators and split, and
    its validation AUC is reported beside the scorecard's (``reference_lgbm_auc``).

    Raises:
        ValueError: for an unknown family or scheme, or a panel too short to split.
    """
    options = options or ScorecardOptions()
    indicators, domain = family_features(catalog, family)
    schemes = load_schemes()
    if scheme_id not in schemes:
        raise ValueError(f"scheme {scheme_id!r}: allowed {', '.join(schemes)}")
    rows = panel[panel["label"].notna()]
    if domain:
        rows = rows[rows[domain].astype(bool)]
    cut = (
        pd.Timestamp(validation_from)
        if validation_from
        else default_validation_from(rows["snapshot"])
    )
    train, valid = rows[rows["snapshot"] < cut], rows[rows["snapshot"] >= cut]
    if train.empty or valid.empty:
        raise ValueError(f"validation_from {cut.date()} leaves no training or no validation rows")
    names = [i.id for i in indicators]
    categorical = [i.id for i in indicators if i.categorical]
    monotonic = {i.id: TREND[i.direction] for i in indicators if not i.categorical}
    y_train = train["label"].astype(int).to_numpy()
    y_valid = valid["label"].astype(int).to_numpy()
    fitted = fit_scorecard(
        train[names], y_train, categorical=categorical, monotonic=monotonic, options=options
    )
    train_score, train_pd = fitted.score(train), fitted.pd(train)
    valid_score, valid_pd = fitted.score(valid), fitted.pd(valid)
    calibrated: CalibratedScheme = schemes[scheme_id].calibrate(train_score, train_pd)
    model = GradingModel(
        family, fitted, calibrated, catalog.fingerprint(), {"validation_from": str(cut.date())}
    )
    valid_grades = calibrated.assign(valid_score)
    table = grade_table(valid_grades, y_valid, calibrated, valid_pd)
    missing = train[fitted.features].isna().mean()
    metrics = {
        "train_auc": roc_auc_score(y_train, train_pd),
        "valid_auc": roc_auc_score(y_valid, valid_pd),
        "valid_ks": ks_statistic(y_valid, valid_pd),
        "valid_brier": brier_score_loss(y_valid, valid_pd),
        "psi_score": population_stability(train_score, valid_score),
        "grades_monotone": float(strictly_increasing(table)),
        "max_feature_missing_share": float(missing.max()),
        "n_features": float(len(fitted.features)),
        "train_rows": float(len(train)),
        "valid_rows": float(len(valid)),
        "train_bad_rate": float(y_train.mean()),
        "valid_bad_rate": float(y_valid.mean()),
    }
    metrics["valid_gini"] = 2 * metrics["valid_auc"] - 1
    if reference:
        metrics["reference_lgbm_auc"] = lightgbm_reference(train, valid, names, categorical)
        metrics["gap_to_reference"] = metrics["reference_lgbm_auc"] - metrics["valid_auc"]
    params = {
        "family": family,
        "scheme": scheme_id,
        "scheme_cutoffs": [round(c, 3) for c in calibrated.cutoffs],
        "catalog_fingerprint": catalog.fingerprint(),
        "packs": [p.id for p in catalog.packs],
        "validation_from": str(cut.date()),
        "train_snapshots": sorted(
            str(d.date()) for d in pd.to_datetime(train["snapshot"].unique())
        ),
        "valid_snapshots": sorted(
            str(d.date()) for d in pd.to_datetime(valid["snapshot"].unique())
        ),
        "options": vars(options),
    }
    names_zh = {i.id: i.name for i in indicators}
    points = fitted.points_table()
    points.insert(1, "名称", points["Variable"].map(names_zh))
    iv = fitted.iv_table.copy()
    iv.insert(1, "名称", iv["feature"].map(names_zh))
    validation = valid[["uscc", "snapshot", "label"]].assign(
        score=valid_score, pd=valid_pd, model_grade=valid_grades
    )
    log.info(
        "trained %s: valid AUC %.4f KS %.4f", family, metrics["valid_auc"], metrics["valid_ks"]
    )
    return TrainingResult(
        model, metrics, params, table, iv, points, validation.reset_index(drop=True), train_score
    )


def truth_ceiling(
    validation: pd.DataFrame, truth_dir: str | Path, horizon_months: int = 12
) -> float | None:
    """AUC on the validation rows of the synthetic city's true violation risk.

    ``1 − Π(1 − p)`` over the label window, from ``_truth/monthly_risk.parquet``. Only
    for the demo city; None when there is no truth. The label also counts findings that
    are not violations (unreachable, undisclosed annual reports), so this is the ceiling
    of the violation part, not of every label event.
    """
    path = Path(truth_dir) / "monthly_risk.parquet"
    if not path.is_file():
        return None
    risk = pd.read_parquet(path, columns=["uscc", "month", "p_violation"])
    risk["month"] = pd.to_datetime(risk["month"])
    parts = []
    for snapshot, group in validation.groupby("snapshot"):
        window = risk[
            (risk["month"] > snapshot)
            & (risk["month"] <= snapshot + pd.DateOffset(months=horizon_months))
        ]
        none = np.log1p(-window["p_violation"].astype(float)).groupby(window["uscc"]).sum()
        parts.append(group["uscc"].map(1 - np.exp(none)).fillna(0.0))
    truth = pd.concat(parts).reindex(validation.index)
    return float(roc_auc_score(validation["label"].astype(int), truth))
