"""Simulated inspection results for the demo city (演示：模拟抽查结果) — demo only.

A real bureau returns results from its inspection system. On the synthetic city they are
drawn from the hidden truth (``<city>/_truth``) with the same rules the city itself uses
for its double-random draws (:mod:`workbench.synth.world`), so the feedback loop really
closes and the evaluation can be checked against the truth:

* an enterprise that exited (``exited_on``) by the inspection day → ``deregistered``;
* a dormant one (``dormant_since``, 僵尸企业) → ``not_operating`` 45 % / ``unreachable``
  40 % / ``closed`` 15 %;
* otherwise, non-compliant in the inspection month (``monthly_risk.non_compliant``; the
  latest month the truth holds when the inspection lies after it) → a problem is found
  with probability ``DETECT_INSPECTION`` (0.8); a compliant one yields a (false) finding
  with ``FALSE_FINDING`` (0.02).

The truth is read, never written; same tasks and seed → the same results.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.demo.synth import vocab
from workbench.demo.synth.world import DETECT_INSPECTION, FALSE_FINDING
from workbench.evaluation import calendar, reconciliation

log = logging.getLogger(__name__)

#: Results of a dormant enterprise (as the city's own draws give them).
DORMANT_RESULTS = {"not_operating": 0.45, "unreachable": 0.40, "closed": 0.15}
#: Kinds of problem found, for disclosure checks and for other items.
FOUND_DISCLOSURE = {
    "not_disclosed": 0.45,
    "corrected": 0.33,
    "false_disclosure": 0.12,
    "pending": 0.05,
    "refused": 0.05,
}
FOUND_OTHER = {"corrected": 0.5, "pending": 0.2, "other_violation": 0.25, "refused": 0.05}
FALSE_FINDING_RESULTS = {"corrected": 0.6, "not_disclosed": 0.4}
DISCLOSURE_ITEMS = (vocab.DISCLOSURE_ITEM, vocab.DISCLOSURE_ITEM_INDIVIDUAL)


def truth_dir_for(data: str | Path | None = None) -> Path | None:
    """The synthetic truth folder of an ingest output (its ``data_dir``/_truth) or the demo city.

    None when the data is not a synthetic city (a bureau's exports have no truth).
    """
    import json

    from workbench import workspace

    if data is not None:
        quality = Path(data) / "quality.json"
        if quality.is_file():
            city = Path(json.loads(quality.read_text(encoding="utf-8"))["data_dir"])
            truth = city / "_truth"
            return truth if truth.is_dir() else None
    truth = workspace.default_city_dir() / "_truth"
    return truth if truth.is_dir() else None


def truth_state(truth_dir: str | Path, uscc: pd.Series, day) -> pd.DataFrame:
    """Each enterprise's true state on a day, and the chance an inspection finds a problem.

    Args:
        truth_dir: the city's ``_truth`` folder.
        uscc: the enterprises.
        day: one day for all, or one per enterprise (aligned with ``uscc``).

    Returns one row per code (in the order given): ``exited``, ``dormant``,
    ``non_compliant``, ``p_violation`` (that month's true violation probability), the
    ``truth_month`` used and ``finding_probability`` — what an inspection that day yields
    as a problem (``unreachable`` counts as one, as the contract says):
    0 if exited, 0.40 if dormant, else 0.8·nc + 0.02·(1 − 0.8·nc).
    """
    truth_dir = Path(truth_dir)
    codes = pd.Series(uscc, dtype="string").reset_index(drop=True).astype(str)
    if np.ndim(day) == 0:
        days = pd.Series(pd.Timestamp(day).normalize(), index=codes.index)
    else:
        days = pd.to_datetime(pd.Series(np.asarray(day))).dt.normalize()
        if len(days) != len(codes):
            raise ValueError(f"{len(codes)} enterprises but {len(days)} days")
    entities = pd.read_parquet(
        truth_dir / "entities.parquet", columns=["uscc", "dormant_since", "exited_on"]
    ).set_index("uscc")
    ent = entities.reindex(codes)
    exited = (pd.to_datetime(ent["exited_on"]).to_numpy() <= days.to_numpy()).astype(bool)
    dormant = (pd.to_datetime(ent["dormant_since"]).to_numpy() <= days.to_numpy()) & ~exited
    months = _truth_months(truth_dir, days)
    nc = np.zeros(len(codes), dtype=bool)
    p = np.full(len(codes), np.nan)
    for month in months.unique():
        rows = np.flatnonzero((months == month).to_numpy())
        risk = pd.read_parquet(
            truth_dir / "monthly_risk.parquet", filters=[("month", "==", month.date())]
        ).set_index("uscc")
        risk = risk.reindex(codes.iloc[rows])
        nc[rows] = risk["non_compliant"].fillna(False).astype(bool).to_numpy()
        p[rows] = risk["p_violation"].astype(float).to_numpy()
    nc &= ~exited & ~dormant
    compliant_q = DETECT_INSPECTION * nc + FALSE_FINDING * (1 - DETECT_INSPECTION * nc)
    q = np.where(exited, 0.0, np.where(dormant, DORMANT_RESULTS["unreachable"], compliant_q))
    return pd.DataFrame(
        {
            "uscc": codes,
            "exited": exited,
            "dormant": dormant,
            "non_compliant": nc,
            "p_violation": p,
            "truth_month": months.to_numpy(),
            "finding_probability": q,
        }
    )


def _truth_months(truth_dir: Path, days: pd.Series) -> pd.Series:
    """Per day, the month-end the truth holds for its month, or the truth's latest month."""
    import pyarrow.parquet as pq

    column = pq.read_table(truth_dir / "monthly_risk.parquet", columns=["month"]).column(0)
    available = np.sort(pd.to_datetime(pd.Series(column.unique().to_pylist())).to_numpy())
    wanted = (days + pd.offsets.MonthEnd(0)).to_numpy()
    pos = np.searchsorted(available, wanted, side="right") - 1
    if (pos < 0).any():
        first = pd.Timestamp(available[0]).date()
        raise ValueError(f"the truth in {truth_dir} starts {first}, after {days.min().date()}")
    if (available[pos] < wanted).any():
        log.info("truth ends %s: used for later days", pd.Timestamp(available[-1]).date())
    return pd.Series(pd.to_datetime(available[pos]), index=days.index)


def _pick(rng: np.random.Generator, probs: dict[str, float], k: int) -> np.ndarray:
    names = np.array(list(probs), dtype=object)
    p = np.array(list(probs.values()), dtype=float)
    return names[rng.choice(len(names), size=k, p=p / p.sum())] if k else names[:0]


def _working_days(start: pd.Timestamp, end: pd.Timestamp) -> list[pd.Timestamp]:
    days = pd.date_range(start, end, freq="D")
    try:
        return [d for d in days if calendar.is_working_day(d)]
    except calendar.CalendarError as err:  # demo only: weekdays stand in, and we say so
        log.warning("%s; simulating on Monday–Friday instead", err)
        return [d for d in days if d.dayofweek < 5]


def simulate_results(
    tasks: pd.DataFrame,
    truth_dir: str | Path,
    seed: int = 0,
    missing_share: float = 0.01,
    late_share: float = 0.03,
) -> pd.DataFrame:
    """Results of a task list drawn from the synthetic truth (contract ``inspections`` rows).

    Args:
        tasks: the plan's task list (``task_id``, ``plan_id``, ``uscc``, ``item``,
            ``window_start``, ``window_end``).
        truth_dir: the city's ``_truth`` folder.
        seed: with the same tasks, the same results.
        missing_share: share of tasks that return no result (as happens), so the
            reconciliation has something to report.
        late_share: share of results published 21–30 working days after the inspection
            (the others 2–15), so the deadline check has something to flag.

    Returns:
        ``uscc, inspected_on, result, plan_id, task_id, item, method, found_problem,
        repaired_on, published_on`` — one row per task that returns a result.
    """
    if not 0 <= missing_share < 1 or not 0 <= late_share <= 1:
        raise ValueError("missing_share must lie in [0, 1) and late_share in [0, 1]")
    tasks = reconciliation.check_tasks(tasks).reset_index(drop=True)
    rng = np.random.default_rng([int(seed), 7_2026])
    n = len(tasks)
    start = pd.to_datetime(tasks["window_start"])
    end = pd.to_datetime(tasks["window_end"])
    inspected = pd.Series(pd.NaT, index=tasks.index, dtype="datetime64[ns]")
    for (a, b), idx in tasks.groupby([start, end]).groups.items():
        days = _working_days(a, b)
        if not days:
            raise ValueError(f"inspection window {a.date()}–{b.date()} has no working day")
        inspected[idx] = np.array(days, dtype="datetime64[ns]")[
            rng.integers(0, len(days), len(idx))
        ]
    state = truth_state(truth_dir, tasks["uscc"], inspected)
    item = (
        tasks["item"].astype(str) if "item" in tasks.columns else pd.Series("", index=tasks.index)
    )
    disclosure = item.isin(DISCLOSURE_ITEMS).to_numpy()
    result = np.full(n, "no_problem", dtype=object)
    u = rng.random(n)
    nc = state["non_compliant"].to_numpy()
    found = nc & (u < DETECT_INSPECTION)
    false_found = ~nc & (u < FALSE_FINDING)
    for mask, mix in (
        (found & disclosure, FOUND_DISCLOSURE),
        (found & ~disclosure, FOUND_OTHER),
        (false_found, FALSE_FINDING_RESULTS),
    ):
        result[mask] = _pick(rng, mix, int(mask.sum()))
    dormant = state["dormant"].to_numpy()
    result[dormant] = _pick(rng, DORMANT_RESULTS, int(dormant.sum()))
    result[state["exited"].to_numpy()] = "deregistered"
    method = np.where(
        disclosure,
        _pick(rng, {"实地核查": 0.6, "书面检查": 0.3, "网络监测": 0.1}, n),
        _pick(rng, {"实地核查": 0.9, "书面检查": 0.1}, n),
    )
    late = rng.random(n) < late_share
    delay = np.where(late, rng.integers(21, 31, n), rng.integers(2, 16, n))
    published = [
        pd.Timestamp(calendar.add_working_days(day, int(k)))
        if _calendar_knows(day, int(k))
        else pd.NaT
        for day, k in zip(inspected, delay, strict=True)
    ]
    out = pd.DataFrame(
        {
            "uscc": tasks["uscc"].astype(str),
            "inspected_on": inspected.dt.normalize(),
            "result": result,
            "plan_id": tasks["plan_id"].astype(str),
            "task_id": tasks["task_id"].astype(str),
            "item": item,
            "method": method,
            "found_problem": pd.Series(result).map(_found_problem).astype("boolean"),
            "repaired_on": pd.Series(pd.NaT, index=tasks.index, dtype="datetime64[ns]"),
            "published_on": pd.to_datetime(pd.Series(published, index=tasks.index)),
        }
    )
    returned = rng.random(n) >= missing_share
    return out[returned].reset_index(drop=True)


def _found_problem(code: str):
    from workbench import contract

    return contract.RESULT_FOUND_PROBLEM[code]


def _calendar_knows(day: pd.Timestamp, k: int) -> bool:
    try:
        calendar.add_working_days(day, k)
        return True
    except calendar.CalendarError:
        return False


def write_results(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write results as an ``inspections`` Parquet file, as a bureau's system could send it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path
