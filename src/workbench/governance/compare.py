"""Model comparison (模型对比): a challenger and the champion judged on the same rows.

Ticking two runs in the MLflow UI shows their metrics side by side, but each was measured
on its own validation rows, without intervals. :func:`compare` loads both registered
models from their runs, scores the *same* rows with both, and writes one Chinese page:
AUC and KS with paired bootstrap intervals (the same resamples for both models, so the
difference has an interval too), ROC and KS overlays, the points tables side by side,
indicators added or dropped, the grade migration between the two models on one month's
enterprises, and each gate's verdict (the ``gate.*`` tags that ``promote`` wrote). The
page is logged to both runs under ``compare/``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.governance.tracking import log_file, model_input, store

if TYPE_CHECKING:
    from workbench.scoring.model import GradingModel

BOOTSTRAP = 200  # resamples: enough for a 95 % interval's second digit on AUC


class CompareError(WorkbenchError):
    """Runs that cannot be compared (unknown run, no model, rows without labels)."""


@dataclass
class RunSide:
    """One side of the comparison: what the run carries."""

    run_id: str
    name: str
    model: GradingModel
    tags: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        """The indicators the run's model reads."""
        return self.model.features


def read_run(run_id: str) -> RunSide:
    """The run's name, tags, metrics and its logged grading model (``runs:/<id>/model``)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    with store() as client:
        try:
            run = client.get_run(run_id)
            pyfunc = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
        except (MlflowException, OSError) as err:
            raise CompareError(
                f"run {run_id} cannot be compared: {str(err).splitlines()[0]}; pass two "
                "training run ids (as printed by `workbench train`)"
            ) from None
    model = pyfunc.unwrap_python_model().model
    return RunSide(run_id, run.info.run_name or run_id, model, run.data.tags, run.data.metrics)


def ks(label: np.ndarray, risk: np.ndarray) -> float:
    """Largest gap between the bad and good cumulative distributions of risk."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(label, risk)
    return float(np.max(tpr - fpr))


def discrimination(
    label: np.ndarray, risk_a: np.ndarray, risk_b: np.ndarray, *, n: int = BOOTSTRAP, seed: int = 0
) -> pd.DataFrame:
    """AUC and KS of A, B and B − A with paired bootstrap 95 % intervals on the same rows.

    Each resample draws rows with replacement once and scores both models on it, so the
    interval of the difference reflects that the rows are shared.
    """
    from sklearn.metrics import roc_auc_score

    label = np.asarray(label, dtype=int)
    if len(np.unique(label)) < 2:
        raise CompareError("the comparison rows need both good and bad outcomes (label 0 and 1)")
    measures = {"AUC": roc_auc_score, "KS": ks}
    rng = np.random.default_rng(seed)
    draws = {k: [] for k in measures}
    for _ in range(n):
        idx = rng.integers(0, len(label), len(label))
        if len(np.unique(label[idx])) < 2:
            continue
        for key, fn in measures.items():
            a, b = fn(label[idx], risk_a[idx]), fn(label[idx], risk_b[idx])
            draws[key].append((a, b, b - a))
    rows = []
    for key, fn in measures.items():
        point = (fn(label, risk_a), fn(label, risk_b))
        sample = np.array(draws[key])
        for i, who in enumerate(("A", "B", "B − A")):
            value = point[i] if i < 2 else point[1] - point[0]
            low, high = np.quantile(sample[:, i], [0.025, 0.975])
            rows.append({"指标": key, "模型": who, "估计": value, "下限": low, "上限": high})
    return pd.DataFrame(rows)


def indicator_changes(a: list[str], b: list[str]) -> pd.DataFrame:
    """Each indicator of either model: in both, added by B, or dropped by B."""
    rows = [{"指标": f, "变化": "保留"} for f in a if f in b]
    rows += [{"指标": f, "变化": "B 新增"} for f in b if f not in a]
    rows += [{"指标": f, "变化": "B 删除"} for f in a if f not in b]
    return pd.DataFrame(rows, columns=["指标", "变化"])


def points_side_by_side(a: GradingModel, b: GradingModel) -> pd.DataFrame:
    """The two points tables joined on indicator and bin (blank where a model has no bin)."""
    keep = ["Variable", "Bin", "Points"]
    left = a.scorecard.points_table()[keep].rename(columns={"Points": "A 分值"})
    right = b.scorecard.points_table()[keep].rename(columns={"Points": "B 分值"})
    both = left.merge(right, on=["Variable", "Bin"], how="outer", sort=False)
    return both.rename(columns={"Variable": "指标", "Bin": "分箱"})


def grade_migration(a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """Enterprises by grade under A (rows) and under B (columns), on the same month."""
    table = pd.crosstab(a.rename("A 等级"), b.rename("B 等级"), margins=True, margins_name="合计")
    return table


def gate_verdicts(side_a: RunSide, side_b: RunSide) -> pd.DataFrame:
    """Each gate's verdict on both runs, as ``promote`` tagged them (未检查 if never run)."""
    gates = sorted({k for s in (side_a, side_b) for k in s.tags if k.startswith("gate.")})
    return pd.DataFrame(
        {
            "门槛": [g.removeprefix("gate.") for g in gates],
            "A": [side_a.tags.get(g, "未检查") for g in gates],
            "B": [side_b.tags.get(g, "未检查") for g in gates],
        }
    )


@dataclass
class Comparison:
    """Everything the page shows (see :mod:`workbench.views.compare`)."""

    a: RunSide
    b: RunSide
    label: np.ndarray
    risk_a: np.ndarray
    risk_b: np.ndarray
    discrimination: pd.DataFrame
    indicators: pd.DataFrame
    points: pd.DataFrame
    migration: pd.DataFrame | None
    gates: pd.DataFrame
    month: str = ""


def compare(
    run_a: str,
    run_b: str,
    rows: pd.DataFrame,
    *,
    month_frame: pd.DataFrame | None = None,
    month: str = "",
    out: str | Path | None = None,
    log: bool = True,
    n_bootstrap: int = BOOTSTRAP,
) -> Path:
    """Write the comparison page of two training runs; log it to both runs.

    Args:
        run_a: the reference run (usually the champion's).
        run_b: the challenger.
        rows: validation rows with a 0/1 ``label`` and every indicator either model reads;
            both models score exactly these rows.
        month_frame: one month's indicators (every enterprise) for the grade migration.
        month: that month (``YYYY-MM``), shown on the page.
        out: the HTML file (default: a temporary file, logged and returned).
        log: log the page to both runs as ``compare/<A>-vs-<B>.html``.
        n_bootstrap: bootstrap resamples for the intervals.

    Raises:
        CompareError: an unknown run, rows without a label or without a model's indicator.
    """
    from workbench.views import compare as page

    side_a, side_b = read_run(run_a), read_run(run_b)
    if "label" not in rows:
        raise CompareError("the comparison rows have no 'label' column (0 good, 1 bad)")
    missing = sorted(set(side_a.features + side_b.features) - set(rows.columns))
    if missing:
        raise CompareError(f"the comparison rows lack indicators {', '.join(missing)}")
    label = rows["label"].to_numpy(dtype=int)
    risk_a = side_a.model.predict(model_input(rows, side_a.features))["pd"].to_numpy()
    risk_b = side_b.model.predict(model_input(rows, side_b.features))["pd"].to_numpy()
    migration = None
    if month_frame is not None:
        grades_a = side_a.model.predict(model_input(month_frame, side_a.features))
        grades_b = side_b.model.predict(model_input(month_frame, side_b.features))
        migration = grade_migration(grades_a["model_grade"], grades_b["model_grade"])
    result = Comparison(
        side_a,
        side_b,
        label,
        risk_a,
        risk_b,
        discrimination(label, risk_a, risk_b, n=n_bootstrap),
        indicator_changes(side_a.features, side_b.features),
        points_side_by_side(side_a.model, side_b.model),
        migration,
        gate_verdicts(side_a, side_b),
        month,
    )
    name = f"{run_a[:8]}-vs-{run_b[:8]}.html"
    target = Path(out) if out else Path(tempfile.mkdtemp(prefix="workbench-compare-")) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page.render(result), encoding="utf-8")
    if log:
        for run_id in (run_a, run_b):
            log_file(run_id, target, "compare")
    return target
