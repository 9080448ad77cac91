"""Model health over time (模型健康监测): stability of the score, indicators and grades.

A scorecard stays valid only while the population it scores looks like the one it was
built on. Each month this compares the month's grade file and indicator matrix with the
previous month's:

* **PSI** (群体稳定性指数) of the score and of every indicator:
  ``PSI = Σ_b (a_b − e_b)·ln(a_b / e_b)`` over bins ``b`` fixed on the *previous* month
  (reference ``e``): deciles of a numeric column (the same edges and conventions as the
  training gate's :func:`workbench.train.population_stability`), one bin per category of
  a categorical one, and a bin of its own for missing values; shares below ``1e-6`` are
  raised to it so an empty bin costs a large but finite amount.
* **Warnings** at the usual thresholds: PSI ≥ 0.10 worth a look (关注), ≥ 0.25 a
  significant shift (显著变化) — the same 0.25 the promotion gate uses. Retraining is
  recommended when the score, the grade distribution or an indicator reaches 0.25.
* **Trends**: grade distribution per month and migration (upgrades, downgrades, stayed,
  new) from every month's grade files.

:func:`run_health` writes ``data/health/<YYYY-MM>/`` (``psi.csv``, ``grade_trend.csv``,
``migration_trend.csv``, ``health.json``); :func:`log_health_to_mlflow` records the
figures as metrics of a run nested under the champion's training run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import config, workspace
from workbench.errors import NotReadyError
from workbench.stages.registry import option
from workbench.workspace import atomic_directory, csvsafe, integrity, write_json
from workbench.workspace.folders import (
    GradeFolder,
    HealthFolder,
    IndicatorsFolder,
    MonthlyCollection,
    Workspace,
    check_month,
)

log = logging.getLogger(__name__)

WARN, ALERT = 0.10, 0.25
LEVEL_ZH = {"stable": "稳定", "warn": "关注", "alert": "显著变化"}
BINS = 10
EPSILON = 1e-6
NOT_INDICATORS = ("uscc", "snapshot")
NEW, EXITED = "新增", "退出"  # migration.csv: row of new enterprises, column of those gone


@dataclass(frozen=True)
class Parameters:
    """Parameters of ``workbench health``."""

    month: str = option("", "month YYYY-MM (default: the latest month with grades)")
    previous: str = option("", "reference month YYYY-MM (default: the month before with grades)")
    mlflow: bool = option(
        True,
        "do not log the figures to MLflow (default: a run under the champion)",
        flag="--no-mlflow",
    )


def resolve(params: Parameters, settings: config.Settings | None = None) -> Parameters:
    """Check the months; the month defaults to the latest graded one."""
    months = grades_months()
    month = check_month(params.month, "--month") if params.month else (months or [""])[-1]
    if not month:
        raise NotReadyError(
            f"no grade file under {workspace.current().grades.root}: run `workbench grade`"
        )
    previous = check_month(params.previous, "--previous") if params.previous else ""
    return Parameters(month, previous, params.mlflow)


def run(params: Parameters, settings: config.Settings | None = None) -> dict:
    """Compute and write the month's health."""
    return run_health(params.month, params.previous or None, log_mlflow=params.mlflow)


def read(params: Parameters) -> dict:
    """The health of a finished run."""
    return workspace.current().health.at(params.month).read_json("health")


def month(params: Parameters) -> str:
    """The month checked."""
    return params.month


def describe(params: Parameters, report: dict) -> list[str]:
    """What the CLI prints."""
    if report.get("previous") is None:
        lines = [f"model health {report['month']}: first month with grades, nothing to compare"]
    else:
        lines = [
            f"model health {report['month']} vs {report['previous']}: score PSI "
            f"{report['psi_score']:.4f}, grade PSI {report['psi_grade']:.4f}, indicators "
            f"{report['indicators_warn']} to watch (≥ 0.10), {report['indicators_alert']} "
            f"shifted (≥ 0.25)"
        ]
        lines += [f"  {w['level']}: {w['message']}" for w in report["warnings"][:10]]
        if report["retrain_recommended"]:
            lines.append("  retraining recommended (a PSI reached 0.25)")
    if report.get("mlflow_run_id"):
        lines.append(f"  MLflow run {report['mlflow_run_id']}")
    lines.append(f"health folder: {health_dir(report['month'])}")
    return lines


def cycle_parameters(ctx) -> Parameters:
    """The cycle checks each month against the one before."""
    return Parameters(month=ctx.month)


# ----------------------------------------------------------------------------- PSI
def _is_categorical(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def bin_shares(
    expected: pd.Series, actual: pd.Series, bins: int = BINS, categorical: bool | None = None
) -> pd.DataFrame:
    """Shares of the reference (``expected``) and current (``actual``) per bin.

    Numeric: edges at the reference's quantiles ``0, 1/bins, …, 1`` (duplicates merged,
    outer edges opened to ±∞), bins closed on the left as in ``numpy.histogram``.
    Categorical (text, bool): one bin per value seen in either month. Missing values form
    their own bin (``缺失``) when either month has any.
    """
    expected, actual = pd.Series(expected), pd.Series(actual)
    if categorical is None:
        categorical = _is_categorical(expected) or _is_categorical(actual)
    e_missing, a_missing = expected.isna(), actual.isna()
    if categorical:
        e_vals = expected[~e_missing].astype(str)
        a_vals = actual[~a_missing].astype(str)
        keys = sorted(set(e_vals) | set(a_vals))
        e_counts = e_vals.value_counts().reindex(keys, fill_value=0).to_numpy()
        a_counts = a_vals.value_counts().reindex(keys, fill_value=0).to_numpy()
        labels = list(keys)
    else:
        e_num = expected[~e_missing].to_numpy(dtype=float)
        a_num = actual[~a_missing].to_numpy(dtype=float)
        if len(e_num):
            edges = np.unique(np.quantile(e_num, np.linspace(0, 1, bins + 1)))
        else:
            edges = np.array([0.0, 1.0])
        edges[0], edges[-1] = -np.inf, np.inf
        if len(edges) == 2 and not np.isfinite(edges).any():
            edges = np.array([-np.inf, np.inf])
        e_counts = np.histogram(e_num, edges)[0]
        a_counts = np.histogram(a_num, edges)[0]
        labels = [f"[{lo:g}, {hi:g})" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    if e_missing.any() or a_missing.any():
        e_counts = np.append(e_counts, int(e_missing.sum()))
        a_counts = np.append(a_counts, int(a_missing.sum()))
        labels.append("缺失")
    return pd.DataFrame(
        {
            "bin": labels,
            "expected": e_counts / max(len(expected), 1),
            "actual": a_counts / max(len(actual), 1),
        }
    )


def psi(
    expected: pd.Series, actual: pd.Series, bins: int = BINS, categorical: bool | None = None
) -> float:
    """Population stability index of ``actual`` against the reference ``expected``."""
    shares = bin_shares(expected, actual, bins, categorical)
    e = np.clip(shares["expected"].to_numpy(), EPSILON, None)
    a = np.clip(shares["actual"].to_numpy(), EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_level(value: float) -> str:
    """``stable`` (< 0.10), ``warn`` (≥ 0.10) or ``alert`` (≥ 0.25)."""
    if value is None or not np.isfinite(value):
        return "stable"
    return "alert" if value >= ALERT else "warn" if value >= WARN else "stable"


def psi_table(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str] | None = None,
    names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """PSI of each column (default: all indicator columns both frames hold), worst first."""
    names = names or {}
    if columns is None:
        columns = [c for c in reference.columns if c in current.columns and c not in NOT_INDICATORS]
    rows = []
    for col in columns:
        value = psi(reference[col], current[col])
        rows.append(
            {
                "indicator": col,
                "name": names.get(col, col),
                "psi": value,
                "level": psi_level(value),
                "missing_previous": float(reference[col].isna().mean()),
                "missing_current": float(current[col].isna().mean()),
            }
        )
    table = pd.DataFrame(
        rows, columns=["indicator", "name", "psi", "level", "missing_previous", "missing_current"]
    )
    return table.sort_values("psi", ascending=False, kind="stable", ignore_index=True)


# ----------------------------------------------------------------------------- trends
def _grades(root: Path | None = None) -> MonthlyCollection:
    """The grade folders (of ``root`` when given, else of the workspace)."""
    return MonthlyCollection(root, GradeFolder) if root else workspace.current().grades


def grades_months(root: Path | None = None) -> list[str]:
    """Months with a complete grade folder, oldest first (temporary folders never count)."""
    return _grades(root).months()


def _summary(folder: GradeFolder) -> dict:
    return folder.maybe_json("summary") or {}


def grade_order(summary: dict, grades: pd.Series | None = None) -> list[str]:
    """Grades lowest risk first: from ``summary.json``'s scheme, else sorted codes."""
    scheme = summary.get("scheme") or {}
    if scheme.get("grades"):
        return [str(g) for g in scheme["grades"]]
    return sorted(pd.Series(grades).dropna().astype(str).unique()) if grades is not None else []


def grade_trend(months: list[str], root: Path | None = None) -> pd.DataFrame:
    """Enterprises and share per grade for each month (from the grade files)."""
    grades = _grades(root)
    rows = []
    for month in months:
        grade = grades.at(month).read_grades(columns=["grade"])["grade"]
        counts = grade.astype(str).value_counts()
        for code in grade_order(_summary(grades.at(month)), grade):
            n = int(counts.get(code, 0))
            rows.append({"month": month, "grade": code, "enterprises": n, "share": n / len(grade)})
    return pd.DataFrame(rows, columns=["month", "grade", "enterprises", "share"])


def migration_summary(migration: pd.DataFrame, order: list[str]) -> dict:
    """Counts of upgrades (to lower risk), downgrades, unchanged, new and exited.

    ``migration`` has the previous grade (or ``新增``) as index and the current grades
    (and ``退出`` for enterprises no longer graded) as columns: the grade stage's
    ``migration.csv``.
    """
    rank = {g: i for i, g in enumerate(order)}
    out = {"same": 0, "to_lower_risk": 0, "to_higher_risk": 0, "new": 0, "exited": 0}
    for prev, row in migration.iterrows():
        for cur, count in row.items():
            count = int(count) if pd.notna(count) else 0
            if str(cur) not in rank:
                if str(cur) == EXITED and str(prev) in rank:
                    out["exited"] += count
                continue
            if str(prev) == NEW or str(prev) not in rank:
                out["new"] += count
            elif rank[str(cur)] == rank[str(prev)]:
                out["same"] += count
            elif rank[str(cur)] < rank[str(prev)]:
                out["to_lower_risk"] += count
            else:
                out["to_higher_risk"] += count
    known = out["same"] + out["to_lower_risk"] + out["to_higher_risk"]
    for key in ("same", "to_lower_risk", "to_higher_risk"):
        out[f"{key}_share"] = out[key] / known if known else None
    return out


def migration_trend(months: list[str], root: Path | None = None) -> pd.DataFrame:
    """One row per month with a ``migration.csv``: stayed / up / down / new."""
    grades = _grades(root)
    rows = []
    for month in months:
        matrix = grades.at(month).maybe_csv("migration", index_col=0)
        if matrix is None:
            continue
        matrix.index = matrix.index.astype(str)
        order = grade_order(_summary(grades.at(month)), pd.Series(matrix.columns))
        rows.append({"month": month, **migration_summary(matrix, order)})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- a month
def previous_month(month: str, months: list[str]) -> str | None:
    """The latest month before ``month`` among ``months`` (None if there is none)."""
    earlier = [m for m in months if m < month]
    return earlier[-1] if earlier else None


def _indicator_names(folder: IndicatorsFolder) -> dict[str, str]:
    data = folder.maybe_json("catalog")
    if not data:
        return {}
    entries = list(data.get("indicators", []))
    for pack in data.get("packs", []) or []:
        entries += list(pack.get("indicators", []) if isinstance(pack, dict) else [])
    return {e["id"]: e.get("name", e["id"]) for e in entries if isinstance(e, dict) and "id" in e}


def month_health(month: str, previous: str | None = None, data: Path | None = None) -> tuple:
    """Health of ``month`` against ``previous`` (default: the month before with grades).

    Returns:
        ``(health, psi_frame, grade_trend, migration_trend)`` where ``health`` is the
        content of ``health.json`` and ``psi_frame`` holds ``score``, ``grade`` and every
        indicator (``kind`` says which).

    Raises:
        FileNotFoundError: when ``month`` has no grade file.
    """
    ws = Workspace(data.parent) if data else workspace.current()
    grades = ws.grades
    grades_root = grades.root
    months = grades.months()
    if month not in months:
        raise NotReadyError(
            f"no grade file for {month} in {grades_root} (months with grades: "
            f"{', '.join(months) or 'none'}): run `workbench grade` first"
        )
    previous = previous or previous_month(month, months)
    history = [m for m in months if m <= month]
    for used in sorted({*history, *([previous] if previous else [])}):
        integrity.require_intact(grades.at(used).path, used)
    current_summary = _summary(grades.at(month))
    health: dict = {
        "month": month,
        "previous": previous,
        "thresholds": {"warn": WARN, "alert": ALERT},
        "model": current_summary.get("model"),
        "warnings": [],
    }
    frames = []
    if previous is not None:
        cur = grades.at(month).read_grades(columns=["uscc", "score", "grade"])
        ref = grades.at(previous).read_grades(columns=["uscc", "score", "grade"])
        previous_summary = _summary(grades.at(previous))
        score_psi = psi(ref["score"], cur["score"], categorical=False)
        grade_psi = psi(ref["grade"].astype(str), cur["grade"].astype(str), categorical=True)
        frames.append(
            pd.DataFrame(
                [
                    {"indicator": "score", "name": "信用风险评分", "psi": score_psi},
                    {"indicator": "grade", "name": "信用风险等级分布", "psi": grade_psi},
                ]
            ).assign(kind=["score", "grade"])
        )
        health["previous_model"] = previous_summary.get("model")
        health["model_changed"] = (current_summary.get("model") or {}).get("version") != (
            previous_summary.get("model") or {}
        ).get("version")
        health["psi_score"], health["psi_grade"] = score_psi, grade_psi
        ind_cur, ind_ref = ws.indicators.at(month), ws.indicators.at(previous)
        if ind_cur.exists() and ind_ref.exists():
            table = psi_table(
                ind_ref.read_indicators(),
                ind_cur.read_indicators(),
                names=_indicator_names(ind_cur),
            )
            frames.append(table.assign(kind="indicator"))
        else:
            health["indicators_missing"] = True
    psi_frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["indicator", "name", "psi", "kind"])
    )
    psi_frame["level"] = psi_frame["psi"].map(psi_level)
    psi_frame["level_zh"] = psi_frame["level"].map(LEVEL_ZH)
    psi_frame = psi_frame[
        [
            c
            for c in (
                "kind",
                "indicator",
                "name",
                "psi",
                "level",
                "level_zh",
                "missing_previous",
                "missing_current",
            )
            if c in psi_frame.columns
        ]
    ]
    indicators = psi_frame[psi_frame["kind"] == "indicator"]
    health["indicators"] = int(len(indicators))
    health["indicators_warn"] = int((indicators["level"] == "warn").sum())
    health["indicators_alert"] = int((indicators["level"] == "alert").sum())
    health["psi_indicators_max"] = float(indicators["psi"].max()) if len(indicators) else None
    for _, row in psi_frame[psi_frame["level"] != "stable"].iterrows():
        health["warnings"].append(
            {
                "kind": row["kind"],
                "indicator": row["indicator"],
                "name": row["name"],
                "psi": round(float(row["psi"]), 6),
                "level": row["level"],
                "message": f"{row['name']} PSI {row['psi']:.3f}（{LEVEL_ZH[row['level']]}）",
            }
        )
    reasons = [w["message"] for w in health["warnings"] if w["level"] == "alert"]
    health["retrain_recommended"] = bool(reasons)
    health["retrain_reasons"] = reasons
    trend = grade_trend(history, grades_root)
    migration = migration_trend(history, grades_root)
    latest = migration[migration["month"] == month] if len(migration) else migration
    health["grade_shares"] = {
        r["grade"]: r["share"] for _, r in trend[trend["month"] == month].iterrows()
    }
    health["migration"] = latest.iloc[0].drop("month").to_dict() if len(latest) else None
    return health, psi_frame, trend, migration


def health_dir(month: str) -> Path:
    """``data/health/<YYYY-MM>``."""
    return workspace.current().health.at(month).path


def run_health(month: str | None = None, previous: str | None = None, log_mlflow: bool = False):
    """Compute one month's health and write ``data/health/<YYYY-MM>/`` atomically.

    Args:
        month: ``YYYY-MM`` (default: the latest month with a grade file).
        previous: the reference month (default: the month before with a grade file).
        log_mlflow: also record it in MLflow (:func:`log_health_to_mlflow`).

    Returns:
        The content of ``health.json``.
    """
    months = grades_months()
    if not month:
        if not months:
            raise NotReadyError(
                f"no grade file under {workspace.current().grades.root}: run `workbench grade`"
            )
        month = months[-1]
    health, psi_frame, trend, migration = month_health(month, previous)
    with atomic_directory(health_dir(month), HealthFolder.MARKER) as tmp:
        out = HealthFolder(tmp)
        csvsafe.to_csv(psi_frame, out.file("psi"))
        csvsafe.to_csv(trend, out.file("grade_trend"))
        csvsafe.to_csv(migration, out.file("migration_trend"))
        if log_mlflow:
            health["mlflow_run_id"] = log_health_to_mlflow(health, out.file("psi"))
        write_json(out.file("health"), health)
    return health


def read_health(month: str) -> tuple[dict, pd.DataFrame]:
    """``health.json`` and ``psi.csv`` of a month."""
    folder = workspace.current().health.at(month)
    return folder.read_json("health"), folder.read_csv("psi")


# ----------------------------------------------------------------------------- MLflow
def health_metrics(health: dict, psi_frame: pd.DataFrame | None = None) -> dict[str, float]:
    """The numbers of a month's health as MLflow metrics (``psi_score``, ``psi.<indicator>``…)."""
    metrics: dict[str, float] = {}
    for key in ("psi_score", "psi_grade", "psi_indicators_max"):
        if health.get(key) is not None:
            metrics[key] = float(health[key])
    for key in ("indicators_warn", "indicators_alert"):
        metrics[key] = float(health.get(key, 0))
    metrics["retrain_recommended"] = float(bool(health.get("retrain_recommended")))
    for grade, share in (health.get("grade_shares") or {}).items():
        metrics[f"grade_share.{grade}"] = float(share)
    for key in ("to_lower_risk_share", "to_higher_risk_share", "same_share"):
        value = (health.get("migration") or {}).get(key)
        if value is not None:
            metrics[f"migration.{key}"] = float(value)
    if psi_frame is not None:
        for _, row in psi_frame[psi_frame["kind"] == "indicator"].iterrows():
            metrics[f"psi.{row['indicator']}"] = float(row["psi"])
    return metrics


def log_health_to_mlflow(
    health: dict, psi_path: str | Path | None = None, family: str | None = None
) -> str:
    """Record a month's health as an MLflow run naming the champion's training run.

    The run lives in the experiment ``workbench-<family>-monitoring`` (family from the grade file's
    model name, else ``generic``), is named ``health-<YYYY-MM>``, carries the champion's
    version and the version that graded the month as tags, the configuration fingerprint
    as a parameter, the PSI figures as metrics and ``psi.csv`` / ``health.json`` as
    artifacts. A failure part-way ends the run ``FAILED``. Returns the run id.
    """
    import tempfile

    from workbench import governance

    model = health.get("model") or {}
    if family is None:
        name = str(model.get("name") or "")
        family = name.removeprefix(governance.MODEL_PREFIX) if name else "generic"
    psi_frame = pd.read_csv(psi_path, encoding="utf-8-sig") if psi_path else None
    metrics = health_metrics(health, psi_frame)
    tags = {
        "stage": "health",
        "month": health["month"],
        "graded_model_version": str(model.get("version", "")),
    }
    try:
        champion = governance.resolve_alias(family)
    except governance.ModelNotFoundError:
        pass  # no champion yet: a run of its own, not nested
    else:
        tags["champion_version"] = champion.version
        tags["champion_run_id"] = champion.run_id  # a link, not nesting across experiments
    with governance.open_run(family, run_name=f"health-{health['month']}", tags=tags) as run:
        run.log_metrics(metrics, step=int(health["month"].replace("-", "")))
        if psi_path:
            run.log_artifact(psi_path, "health")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "health.json"
            write_json(path, health)
            run.log_artifact(path, "health")
    log.info("health of %s logged to MLflow run %s", health["month"], run.run_id)
    return run.run_id


def cycle_record(ctx, report: dict, echo) -> None:
    """Health decides whether the next month retrains."""
    ctx.retrain_reason = (
        "health recommends retraining" if report.get("retrain_recommended") else None
    )
    ctx.record["health"] = {k: report.get(k) for k in ("psi_score", "retrain_recommended")}
