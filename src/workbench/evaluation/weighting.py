"""Learning from inspections without bias (无偏学习): design weights 1/π.

Grade-based sampling inspects a D enterprise far more often than an A one, and an A
enterprise mostly when something triggered it (a complaint, a data alert). The inspected
enterprises are therefore not a picture of the register: a model or a rate computed from
them as they are learns "who happened to be inspected" along with "who violates".

Every drawn enterprise carries its inclusion probability π (入样概率). Weighting each
inspected enterprise by ``1/π`` — it stands for ``1/π`` enterprises like it in the frame —
makes weighted sums unbiased for the frame's totals (Horvitz–Thompson), whatever the
ratios per grade or stratum were. Hence:

* **Rates** (per grade, overall) from inspection findings: :func:`weighted_rate`, the
  weighted mean ``Σ y/π / Σ 1/π`` (the Hájek form of HT, which equals HT when the strata
  sizes are exact). The unweighted mean is biased whenever π varies inside the group
  being summarised (e.g. triggered and untriggered A enterprises, or B across regions
  with different ratios) and for any group mixing grades (the overall rate).
* **Training** when inspection findings are (part of) the label: rows that come from a
  plan's draw get :func:`training_weights` ``1/π`` as ``sample_weight``, normalised to mean
  1 so regularisation keeps its strength; the model then fits the frame, not the
  inspected sample. Rows not drawn by a plan (complaint-triggered inspections, register
  events) have no π: they keep weight 1 (``not_drawn_weight``) — documented, not hidden.

* **Expected finding rates** for the next draw (预期检出率): :func:`calibrated_finding_rates`,
  past plan results per grade at the draw, weighted by 1/π — what an inspection of a
  grade's frame enterprise has found, rather than the model's 12-month PD (a different
  event on a different scale).

Enterprises with π = 0 (outside the frame) can never be represented by weighting; the
evaluation reports their grade's coverage instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def inclusion_weights(inclusion_probability) -> np.ndarray:
    """Design weights ``1/π`` (抽样权数).

    Raises:
        ValueError: for a π that is missing, not positive or above 1 (names how many and
            an example), since a weight cannot be made up for it.
    """
    try:
        pi = np.asarray(inclusion_probability, dtype=float).ravel()
    except (TypeError, ValueError):  # text among the values: those become NaN, then refused
        pi = np.asarray(pd.to_numeric(pd.Series(inclusion_probability), errors="coerce"), float)
    bad = ~((pi > 0) & (pi <= 1))
    if bad.any():
        raise ValueError(
            f"inclusion probability (入样概率) must lie in (0, 1]: {int(bad.sum())} value(s) "
            f"do not, e.g. {pi[bad][:3].tolist()}"
        )
    return 1.0 / pi


def weighted_rate(
    found,
    inclusion_probability,
    groups=None,
    order: list[str] | None = None,
) -> pd.DataFrame:
    """Per group and overall: the 1/π-weighted rate beside the unweighted one.

    Args:
        found: 0/1 (or bool) outcome per inspected enterprise with a verdict.
        inclusion_probability: its π.
        groups: group label per row (e.g. grade); None for the overall rate only.
        order: the groups' order in the output (default: sorted).

    Returns:
        Rows per group then ``合计``: ``group``, ``inspected``, ``unweighted_rate``,
        ``weighted_rate``, ``represented`` (Σ 1/π: the frame enterprises they stand for).
    """
    y = np.asarray(found, dtype=float).ravel()
    w = inclusion_weights(inclusion_probability)
    if len(y) != len(w):
        raise ValueError(f"{len(y)} outcomes but {len(w)} inclusion probabilities")
    if groups is None:
        labels = np.full(len(y), "合计", dtype=object)
    else:
        labels = np.asarray(groups, dtype=object).astype(str)
    present, inverse = np.unique(labels, return_inverse=True)
    count = np.bincount(inverse, minlength=len(present))
    sum_y = np.bincount(inverse, weights=y, minlength=len(present))
    sum_w = np.bincount(inverse, weights=w, minlength=len(present))
    sum_wy = np.bincount(inverse, weights=w * y, minlength=len(present))
    at = {key: i for i, key in enumerate(present)}
    keys = [] if groups is None else list(order or present)
    rows = []
    for key in [*keys, "合计"]:
        if key == "合计":
            n, sy, sw, swy = len(y), y.sum(), w.sum(), (w * y).sum()
        elif key in at:
            i = at[key]
            n, sy, sw, swy = int(count[i]), sum_y[i], sum_w[i], sum_wy[i]
        else:
            n = sy = sw = swy = 0
        rows.append(
            {
                "group": key,
                "inspected": n,
                "unweighted_rate": sy / n if n else np.nan,
                "weighted_rate": swy / sw if n else np.nan,
                "represented": float(sw),
            }
        )
    return pd.DataFrame(rows)


def training_weights(
    frame: pd.DataFrame,
    probability_column: str = "inclusion_probability",
    not_drawn_weight: float = 1.0,
    normalise: bool = True,
) -> pd.Series:
    """Sample weights for training on rows whose label comes from inspection findings.

    Rows with a π get ``1/π``; rows without one (not from a plan's draw) get
    ``not_drawn_weight``. With ``normalise`` the weights are scaled to mean 1.

    Raises:
        ValueError: for a π outside (0, 1], or a missing column.
    """
    if probability_column not in frame.columns:
        raise ValueError(
            f"no column {probability_column!r}: join the task list's inclusion probabilities "
            "to the training rows first (rows not drawn keep it empty)"
        )
    pi = pd.to_numeric(frame[probability_column], errors="coerce")
    weights = pd.Series(float(not_drawn_weight), index=frame.index)
    drawn = pi.notna()
    weights[drawn] = inclusion_weights(pi[drawn])
    if normalise and len(weights):
        weights = weights / weights.mean()
    return weights.rename("sample_weight")


def inspection_sample(matched: pd.DataFrame) -> pd.DataFrame:
    """A plan's inspected enterprises with a verdict, as a weighted training sample.

    ``matched`` is :attr:`workbench.evaluation.reconciliation.Reconciliation.matched`;
    the result holds ``uscc``, ``snapshot`` (the grading snapshot the draw used),
    ``grade``, ``stratum``, ``label`` (problem found, 0/1), ``inclusion_probability`` and
    ``sample_weight`` (1/π, mean 1). No-verdict results are left out (they carry no label).
    """
    part = matched[matched["verdict"].astype(bool)].copy()
    cols = [c for c in ("uscc", "snapshot", "grade", "stratum") if c in part.columns]
    out = part[cols].copy()
    out["label"] = part["found"].astype(bool).astype(int).to_numpy()
    out["inclusion_probability"] = part["inclusion_probability"].astype(float).to_numpy()
    out["sample_weight"] = training_weights(out).to_numpy()
    return out.reset_index(drop=True)


def recorded_draws(evaluation_root=None) -> pd.DataFrame:
    """Every plan-drawn, inspected enterprise with a verdict so far: uscc, snapshot, π.

    Read from the evaluation folders' ``training_sample.parquet`` (``snapshot`` is the
    grading snapshot the draw used).
    """
    from pathlib import Path

    from workbench import workspace

    root = Path(evaluation_root) if evaluation_root else workspace.data_dir() / "evaluation"
    parts = [
        pd.read_parquet(p, columns=["uscc", "snapshot", "inclusion_probability"])
        for p in sorted(root.glob("*/*/training_sample.parquet"))
    ]
    if not parts:
        return pd.DataFrame(columns=["uscc", "snapshot", "inclusion_probability"])
    return pd.concat(parts, ignore_index=True)


def attach_inclusion_probabilities(
    panel: pd.DataFrame, draws: pd.DataFrame, horizon_months: int
) -> pd.DataFrame:
    """The panel with ``inclusion_probability`` for rows whose label window saw a plan draw.

    A row (enterprise, snapshot s) is drawn-dependent when a plan drew and inspected the
    enterprise at a grading snapshot g with s ≤ g < s + horizon: that inspection's finding
    can make the row's label. Several draws in one window combine as the probability of
    being drawn at least once, 1 − Π(1 − π). Other rows keep an empty π (weight 1).
    """
    out = panel.copy()
    out["inclusion_probability"] = np.nan
    if draws.empty or panel.empty:
        return out
    d = draws.assign(uscc=draws["uscc"].astype(str), g=pd.to_datetime(draws["snapshot"]))[
        ["uscc", "g", "inclusion_probability"]
    ]
    rows = out[["uscc", "snapshot"]].assign(
        uscc=out["uscc"].astype(str), s=pd.to_datetime(out["snapshot"]), row=np.arange(len(out))
    )
    joined = rows.merge(d, on="uscc", how="inner")
    window_end = joined["s"] + pd.DateOffset(months=horizon_months)
    inside = joined[(joined["g"] >= joined["s"]) & (joined["g"] < window_end)]
    if inside.empty:
        return out
    missed = (1 - inside["inclusion_probability"].astype(float)).groupby(inside["row"]).prod()
    out.iloc[missed.index.to_numpy(), out.columns.get_loc("inclusion_probability")] = (
        1 - missed
    ).to_numpy()
    return out


#: Task-list columns the calibration reads (``snapshot`` and ``plan_id`` tell draws apart).
CALIBRATION_TASK_COLUMNS = (
    "task_id",
    "plan_id",
    "snapshot",
    "uscc",
    "grade",
    "inclusion_probability",
)


def calibrated_finding_rates(
    inspections: pd.DataFrame | None,
    tasks: pd.DataFrame | None,
    snapshot,
    months: int = 12,
) -> pd.DataFrame:
    """Past plans' finding rate per grade (检查发现问题率), weighted by 1/π.

    Every result of the last ``months`` months up to ``snapshot`` that answers a task of
    an earlier draw (matched on ``task_id``) counts once per drawn enterprise: a finding
    if any of its tasks found a problem, none otherwise — a result without a verdict
    (closed, deregistered) is an inspection that found nothing, as it is for the plan's
    expected findings. Each stands for ``1/π`` enterprises of its grade's frame at the
    time, so the rate estimates what inspecting that frame finds (HT, Hájek form), whatever
    the ratios were. The grade is the one the draw used.

    Args:
        inspections: contract ``inspections`` rows (``task_id``, ``inspected_on``,
            ``found_problem``), e.g. the month's ingest with results fed back.
        tasks: earlier task lists with :data:`CALIBRATION_TASK_COLUMNS`.
        snapshot: the day the rates are for; nothing later is used.
        months: how far back.

    Returns:
        One row per grade seen (index ``grade``): ``inspected`` (enterprises),
        ``found``, ``represented`` (Σ 1/π) and ``rate`` (Σ y/π ÷ Σ 1/π). Empty when there
        is nothing to calibrate on.
    """
    columns = ["inspected", "found", "represented", "rate"]
    empty = pd.DataFrame(columns=columns, index=pd.Index([], name="grade"), dtype=float)
    if inspections is None or tasks is None or inspections.empty or tasks.empty:
        return empty
    if "task_id" not in inspections or not set(CALIBRATION_TASK_COLUMNS) <= set(tasks):
        return empty
    snapshot = pd.Timestamp(snapshot)
    dates = pd.to_datetime(inspections["inspected_on"])
    recent = inspections[
        inspections["task_id"].notna()
        & (dates > snapshot - pd.DateOffset(months=months))
        & (dates <= snapshot)
    ]
    design = tasks[list(CALIBRATION_TASK_COLUMNS)].drop_duplicates("task_id")
    joined = (
        recent[["task_id", "found_problem"]]
        .assign(task_id=recent["task_id"].astype(str))
        .merge(design.assign(task_id=design["task_id"].astype(str)), on="task_id", how="inner")
    )
    if joined.empty:
        return empty
    joined["y"] = joined["found_problem"].astype("boolean").fillna(False).astype(bool)
    per = joined.groupby(
        [
            joined["plan_id"].astype(str),
            pd.to_datetime(joined["snapshot"]),
            joined["uscc"].astype(str),
        ]
    ).agg(
        grade=("grade", "first"),
        y=("y", "any"),
        pi=("inclusion_probability", "first"),
    )
    w = inclusion_weights(per["pi"])
    frame = pd.DataFrame(
        {"grade": per["grade"].astype(str).to_numpy(), "y": per["y"].to_numpy(), "w": w}
    )
    frame["wy"] = frame["w"] * frame["y"]
    out = frame.groupby("grade").agg(
        inspected=("y", "size"), found=("y", "sum"), represented=("w", "sum"), wy=("wy", "sum")
    )
    out["rate"] = out["wy"] / out["represented"]
    return out[columns].astype(float)
