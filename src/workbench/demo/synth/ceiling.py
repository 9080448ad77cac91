"""The label-consistent ceiling (贝叶斯上限) of a synthetic city, by Monte-Carlo.

No model can rank enterprises better than by ``P(label = 1 | everything hidden at s)``:
the latent risk, open violation episodes, dormancy, detections whose penalty is not yet
decided, listings about to be entered… The truth tables hold the hidden state but not
that probability, because the label counts *surfaced* events (penalties, listings,
inspection findings — including findings that are not violations, such as an unreachable
shell), and whether something surfaces within 12 months is itself random.

So the generator is re-run (it is deterministic from the seed in ``_truth/``) up to the
snapshot ``s``; from there the city's future is simulated ``replicates`` times with fresh
random streams for the months of the label window, and the label definition
(``labels.yaml``: events, filters, exit rules) is applied to every simulated future
exactly as :func:`workbench.labels.compute_labels` applies it to the data. The share of
futures in which an enterprise is bad, among those in which it is labelled at all (not
exited without a bad event), estimates the probability; smoothed over the hidden state
(the generator is a Markov chain, so the state is all the future depends on) it needs
few futures.

An AUC from these probabilities is an honest *lower* bound of the Bayes limit: they use
nothing but the hidden state and simulated futures, never the observed labels, so no
predictor of the observed labels can do better in expectation than the true conditional
probability they approximate; what the approximation misses (finite futures, the
smoothing model's bias) can only lower it.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from workbench import contract
from workbench.indicators.catalog import filter_condition

from . import vocab
from .profile import CityProfile
from .register import build_register
from .tables import ABNORMAL_REASONS, ROLES, SERIOUS_REASONS
from .timeline import NEVER, Timeline, day_of
from .world import (
    CATEGORIES,
    CHANGE_ITEMS,
    ITEMS,
    RESULTS,
    SEVERITIES,
    VIOLATION_TYPES,
    advance,
    fork_state,
    initial_state,
)

log = logging.getLogger(__name__)

GENERATOR_FILE = "generator.json"
_README_CALL = re.compile(
    r"generate_city\(entities=(\d+), months=(\d+), seed=(\d+), end=\"(\d{4}-\d{2}-\d{2})\""
)
_FOUND = np.array([contract.RESULT_FOUND_PROBLEM[r] for r in RESULTS], dtype=object)


def generator_params(truth_dir: str | Path) -> dict:
    """``entities``, ``months``, ``seed`` and ``end`` the city was generated with.

    Read from ``_truth/generator.json``; cities generated before that file existed are
    read from the call quoted at the top of ``_truth/README.md``.

    Raises:
        FileNotFoundError: when neither says how the city was generated.
    """
    truth = Path(truth_dir)
    path = truth / GENERATOR_FILE
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("shard_size"):  # the ceiling re-runs one simulation, not shards
            raise ValueError(
                f"{truth}: the city was generated in shards of {data['shard_size']:,} "
                "entities; its ceiling is not computed (generate a city of one shard)"
            )
        params = {k: data[k] for k in ("entities", "months", "seed", "end")}
        if data.get("profile"):
            params["profile"] = data["profile"]
        return params
    readme = truth / "README.md"
    match = _README_CALL.search(readme.read_text(encoding="utf-8")) if readme.is_file() else None
    if match is None:
        raise FileNotFoundError(
            f"{truth}: neither {GENERATOR_FILE} nor a README naming the generate_city call"
        )
    entities, months, seed, end = match.groups()
    return {"entities": int(entities), "months": int(months), "seed": int(seed), "end": end}


def _frames(events: dict, exit_day: np.ndarray, est_day: np.ndarray, end_day: int) -> dict:
    """World event columns as the contract's label-relevant columns (dates as day numbers).

    Rows follow :func:`workbench.synth.tables.build_tables`: after establishment, before
    exit, not after the data's end (inspections that found the enterprise deregistered
    are kept after its exit).
    """

    def keep(ev: dict) -> np.ndarray:
        e, d = ev["ent"], ev["day"]
        return (d <= end_day) & (d > est_day[e]) & (d < exit_day[e])

    def table(key: str, date: str, columns) -> pd.DataFrame | None:
        ev = events.get(key)
        if ev is None or not len(ev["ent"]):
            return None
        mask = keep(ev)
        if key == "inspections":
            mask = (ev["day"] <= end_day) & (mask | (ev["result"] == RESULTS.index("deregistered")))
        cols = {"ent": ev["ent"][mask], date: ev["day"][mask]}
        for name, make in columns.items():
            cols[name] = make({k: v[mask] for k, v in ev.items()})
        return pd.DataFrame(cols)

    def codes(names, key):
        return lambda ev: np.array(names, dtype=object)[ev[key].astype(np.int64)]

    def day_or_none(key):
        return lambda ev: np.where(ev[key] < NEVER, ev[key], -1)

    return {
        "penalties": table(
            "penalties",
            "decided_on",
            {
                "severity": codes(SEVERITIES, "severity"),
                "violation_type": codes(VIOLATION_TYPES, "vtype"),
                "fine_amount": lambda ev: ev["fine"],
                "repaired_on": day_or_none("repaired"),
            },
        ),
        "abnormal_list": table(
            "abnormal",
            "listed_on",
            {"reason": codes(ABNORMAL_REASONS, "reason"), "removed_on": day_or_none("removed")},
        ),
        "serious_violations": table(
            "serious",
            "listed_on",
            {"reason": codes(SERIOUS_REASONS, "reason"), "removed_on": day_or_none("removed")},
        ),
        "inspections": table(
            "inspections",
            "inspected_on",
            {
                "result": codes(RESULTS, "result"),
                "found_problem": lambda ev: _FOUND[ev["result"].astype(np.int64)],
                "item": codes(ITEMS, "item"),
                "method": codes(vocab.METHODS, "method"),
            },
        ),
        "complaints": table(
            "complaints",
            "received_on",
            {
                "category": codes(CATEGORIES, "category"),
                "substantiated": lambda ev: ev["substantiated"],
            },
        ),
        "judicial": table(
            "judicial",
            "filed_on",
            {"role": codes(ROLES, "role"), "amount": lambda ev: ev["amount"]},
        ),
        "changes": table("changes", "changed_on", {"item": codes(CHANGE_ITEMS, "item")}),
    }


def _matches(frame: pd.DataFrame, spec: dict, where: str) -> np.ndarray:
    """Rows meeting a label filter, with the engine's SQL semantics (see ``Engine._condition``).

    ``not_in`` keeps missing values; a true/false column compared with ``eq`` counts a
    missing value as false; ``is_null`` on a date means "no such date".
    """
    from workbench.indicators.catalog import BOOLEAN_COLUMNS

    mask = np.ones(len(frame), dtype=bool)
    for column, condition in spec.items():
        if column not in frame.columns:
            raise ValueError(
                f"{where}: the ceiling's simulation does not produce column {column!r}; "
                f"available: {', '.join(c for c in frame.columns if c != 'ent')}"
            )
        values = frame[column]
        op, value = filter_condition(condition)
        missing = values.isna().to_numpy() | (values.to_numpy(dtype=object) == -1)
        if op == "eq" and value is None:
            hit = missing
        elif op == "eq":
            hit = (values.to_numpy(dtype=object) == value) & ~missing
        elif op == "in":
            hit = values.isin(value).to_numpy() & ~missing
        elif op == "not_in":
            hit = missing | ~values.isin(value).to_numpy()
        elif op == "contains_any":
            text = values.astype(object).where(~missing, "")
            hit = np.zeros(len(frame), dtype=bool)
            for v in value:
                hit |= text.map(lambda x, v=v: v in str(x)).to_numpy(dtype=bool)
        elif op == "is_null":
            hit = missing if value else ~missing
        else:  # pragma: no cover - checked when the label definition is loaded
            raise ValueError(f"{where}: unknown condition {op!r}")
        if column in BOOLEAN_COLUMNS and op == "eq":
            hit = hit & ~missing
        mask &= hit
    return mask


def _first_bad_day(frames: dict, definition, start: int, stop: int, n: int) -> np.ndarray:
    """Per enterprise, the first day in ``(start, stop]`` of any label event (NEVER if none)."""
    first = np.full(n, NEVER, dtype=np.int64)
    for event in definition.events:
        frame = frames.get(event.source)
        if event.source not in frames:
            raise ValueError(
                f"label event {event.id}: source {event.source!r} is not simulated by the "
                f"ceiling (simulated: {', '.join(frames)})"
            )
        if frame is None or frame.empty:
            continue
        if event.date not in frame.columns:
            raise ValueError(
                f"label event {event.id}: date {event.date!r} is not simulated by the ceiling"
            )
        day = frame[event.date].to_numpy(dtype=np.int64)
        mask = (day > start) & (day <= stop) & _matches(frame, event.filter, f"event {event.id}")
        np.minimum.at(first, frame["ent"].to_numpy()[mask], day[mask])
    return first


def _state_features(state: dict, month: int, stop_month: int, already_first: np.ndarray):
    """The hidden state of every enterprise after ``month``: what its future depends on.

    The generator is a Markov chain per enterprise (plus its legal representative's other
    enterprises); these columns are that state — static risk, drift, recent violations
    of the enterprise and of its peers, an open violation episode, dormancy, listing and
    annual-report status, exit hazards, detection exposure, the section trend ahead — and
    the label events already decided (a penalty decided after the snapshot for a detection
    before it).
    """
    reg, tl = state["reg"], state["tl"]
    t = month
    alive = (state["est_m"] < t + 1) & (state["exit_m"] > t)
    h = np.where(alive, state["h"], 0.0)
    peers_h = np.bincount(reg.person, weights=h, minlength=int(reg.person.max()) + 1)
    months_ahead = slice(t + 1, stop_month + 1)
    section = state["section_idx"]
    return pd.DataFrame(
        {
            "static": state["static"],
            "latent": state["latent"],
            "drift": state["drift"],
            "h": state["h"],
            "peers_h": peers_h[reg.person] - h,
            "age": (tl.month_start[t] - reg.est_day) / 30.44,
            "type": reg.type_idx,
            "trend_ahead": state["trend"][:, months_ahead].mean(axis=1)[section],
            "consumer": state["consumer"],
            "domain_detect": state["domain_detect"],
            "dormant": state["dormant"].astype(float),
            "dormant_for": np.where(state["dormant"], t - state["dormant_month"], -1),
            "episode_left": np.maximum(state["nc_until"] - t, 0),
            "episode_severity": state["nc_sev"],
            "abnormal_open": ((state["abn_since"] >= 0) & (state["abn_until"] > t)).astype(float),
            "abnormal_for": np.where(state["abn_since"] >= 0, t - state["abn_since"], -1),
            "report_overdue": (state["ar_overdue_until"] > t).astype(float),
            "report_missing": state["ar_pending_missing"].astype(float),
            "serious_open": (state["serious_until"] > t).astype(float),
            "serious_3y": state["serious_3y"].astype(float),
            "revoke_flag": state["revoke_flag"].astype(float),
            "exit_hazard": state["exit_hazard"],
            "cluster_size": reg.cluster_size,
            "decided_day": np.where(already_first < NEVER, already_first - tl.month_last[t], -1),
        }
    )


def _smooth(features: pd.DataFrame, bad: pd.Series, labelled: pd.Series) -> np.ndarray:
    """E[label | hidden state], fitted to the simulated futures (far less noisy than bad/R).

    A gradient-boosted model with cross-entropy on the share of futures that were bad
    (weighted by the futures that had a label). Its inputs are the hidden state only and
    its targets are simulated, so it never sees the observed labels it is judged on.
    """
    import lightgbm as lgb

    weight = labelled.to_numpy(dtype=float)
    use = weight > 0
    share = np.where(use, bad.to_numpy(dtype=float) / np.maximum(weight, 1), 0.0)
    model = lgb.LGBMRegressor(
        objective="cross_entropy",
        n_estimators=300,
        learning_rate=0.05,
        num_leaves=31,
        min_child_samples=100,
        random_state=0,
        verbose=-1,
    )
    model.fit(features[use], share[use], sample_weight=weight[use])
    return model.predict(features)


def _outcome(first_bad, exit_day, exit_status, start, stop, exits) -> tuple[np.ndarray, ...]:
    """Label (1 bad) and whether labelled at all, per enterprise — as in compute_labels."""
    bad = first_bad < NEVER
    left = (exit_day > start) & (exit_day <= stop)
    rule = np.array([exits.get(str(s), "exclude") for s in exit_status], dtype=object)
    exited = left & ~bad
    label = bad | (exited & (rule == "bad"))
    labelled = ~(exited & (rule == "exclude"))
    return label, labelled


def _regenerate(truth_dir: str | Path):
    """Parameters, timeline and register of the city, checked against its truth."""
    params = generator_params(truth_dir)
    tl = Timeline.build(params["end"], params["months"])
    reg = build_register(
        params["entities"], params["seed"], tl, CityProfile.from_dict(params.get("profile"))
    )
    stored = pd.read_parquet(Path(truth_dir) / "entities.parquet", columns=["uscc"])["uscc"]
    if len(stored) != reg.n or not np.array_equal(stored.to_numpy(dtype=object), reg.uscc):
        raise ValueError(
            f"{truth_dir}: the register regenerated from {params} differs from "
            "entities.parquet (another generator version?): regenerate the city"
        )
    return params, tl, reg


def _window(snapshot, definition, tl: Timeline) -> tuple[int, int, int, int]:
    """Label window ``(start, stop]`` in days and the months of its two ends."""
    s = pd.Timestamp(snapshot)
    if not s.is_month_end:
        raise ValueError(f"snapshot {s.date()}: the ceiling forks at month ends only")
    stop_ts = s + pd.DateOffset(months=definition.horizon_months)
    start, stop = day_of(str(s.date())), day_of(str(stop_ts.date()))
    if stop > tl.end_day:
        raise ValueError(
            f"snapshot {s.date()}: its label window ends {stop_ts.date()}, after the "
            f"simulated months (the city ends {np.datetime64(int(tl.end_day), 'D')})"
        )
    first, last = tl.month_of_day(np.array([start, stop]))
    return start, stop, int(first), int(last)


def _labels(events, exit_day, exit_status, reg, tl, definition, start, stop):
    """Label and labelled-at-all per enterprise for one history of the city."""
    frames = _frames(events, exit_day, reg.est_day, tl.end_day)
    first = _first_bad_day(frames, definition, start, stop, reg.n)
    return _outcome(first, exit_day, exit_status, start, stop, definition.exits)


def actual_labels(truth_dir: str | Path, snapshot, definition=None) -> pd.DataFrame:
    """The labels of the city's own history, from the simulation (no data files read).

    The same numbers :func:`workbench.labels.compute_labels` gives on the ingested
    contract tables — the check that the ceiling applies the label definition as the
    pipeline does. Returns ``uscc`` and ``label`` (1, 0, missing when excluded) for the
    enterprises active at ``snapshot``.
    """
    from workbench.scoring import labels

    definition = definition or labels.load_label_definition()
    params, tl, reg = _regenerate(truth_dir)
    start, stop, _, _ = _window(snapshot, definition, tl)
    state = initial_state(reg, tl, params["seed"])
    advance(state, tl.n)
    events = state["sink"].arrays()
    label, labelled = _labels(
        events, state["exit_day"], state["exit_status"], reg, tl, definition, start, stop
    )
    active = np.flatnonzero((reg.est_day <= start) & (state["exit_day"] > start))
    return pd.DataFrame(
        {
            "uscc": reg.uscc[active],
            "label": np.where(labelled[active], label[active].astype(float), np.nan),
        }
    )


def label_probabilities(
    truth_dir: str | Path,
    snapshots,
    definition=None,
    *,
    replicates: int = 16,
) -> pd.DataFrame:
    """Probability of a label event after each snapshot, for every enterprise active at it.

    Args:
        truth_dir: the city's ``_truth`` folder (its generator parameters are read there;
            the regenerated register must match ``entities.parquet``).
        snapshots: month-end snapshot dates.
        definition: a :class:`workbench.labels.LabelDefinition` (default: ``labels.yaml``).
        replicates: simulated futures per snapshot.

    Returns:
        ``uscc``, ``snapshot``, ``bad`` (futures in which it is bad), ``labelled`` (futures
        in which it has a label), ``p_label`` = bad / labelled (missing when never
        labelled) and ``p_state``, the smoothed probability (see :func:`_smooth`) — the
        one to rank by: with R futures, bad / R of a 2 % event is mostly 0 or 1/R, and
        its AUC is far below the limit (0.72 with 8 futures, 0.82 with 96 on the demo
        city, still rising), while ``p_state`` gave 0.849, 0.854 and 0.854 with 8, 32
        and 96 futures.

    Raises:
        ValueError: for a snapshot that is not a month end, whose window leaves the
            simulated months, or a city whose truth does not match its generator.
    """
    from workbench.scoring import labels

    if replicates < 2:
        raise ValueError("replicates must be at least 2")
    definition = definition or labels.load_label_definition()
    params, tl, reg = _regenerate(truth_dir)
    state = initial_state(reg, tl, params["seed"])
    parts = []
    for snapshot in sorted(pd.to_datetime(pd.Series(list(snapshots))).unique()):
        start, stop, month, last = _window(snapshot, definition, tl)
        advance(state, month + 1)
        # events already decided for dates after the snapshot (a penalty 7–90 days after
        # its detection): part of every future
        already = {
            k: {c: v[cols["day"] > start] for c, v in cols.items()}
            for k, cols in state["sink"].arrays().items()
            if "day" in cols
        }
        bad = np.zeros(reg.n, dtype=np.int64)
        labelled = np.zeros(reg.n, dtype=np.int64)
        for r in range(replicates):
            fork = fork_state(state, (params["seed"], zlib.crc32(b"ceiling"), month, r))
            advance(fork, last + 1)
            future = fork["sink"].arrays()
            events = dict(already)
            for k, cols in future.items():
                past = already.get(k, {})
                events[k] = {
                    c: np.concatenate([past[c], v]) if c in past else v for c, v in cols.items()
                }
            label, has_label = _labels(
                events, fork["exit_day"], fork["exit_status"], reg, tl, definition, start, stop
            )
            bad += label & has_label
            labelled += has_label
        idx = np.flatnonzero((reg.est_day <= start) & (state["exit_day"] > start))
        decided = _first_bad_day(
            _frames(already, state["exit_day"], reg.est_day, tl.end_day),
            definition,
            start,
            stop,
            reg.n,
        )
        features = _state_features(state, month, last, decided).iloc[idx]
        with np.errstate(invalid="ignore", divide="ignore"):
            p_label = np.where(labelled[idx] > 0, bad[idx] / labelled[idx], np.nan)
        part = pd.DataFrame(
            {
                "uscc": reg.uscc[idx],
                "snapshot": pd.Timestamp(snapshot),
                "bad": bad[idx],
                "labelled": labelled[idx],
                "p_label": p_label,
            }
        )
        part["p_state"] = _smooth(features.reset_index(drop=True), part["bad"], part["labelled"])
        parts.append(part)
        log.info("ceiling: %s, %d futures simulated", pd.Timestamp(snapshot).date(), replicates)
    return pd.concat(parts, ignore_index=True)


def truth_ceiling(
    validation: pd.DataFrame,
    truth_dir: str | Path,
    definition=None,
    *,
    replicates: int = 16,
) -> dict[str, float]:
    """The synthetic city's ceilings on the validation rows (only for a generated city).

    - ``truth_label_auc``: the Bayes limit of *this label* — the AUC of the probability
      of a label event in ``(s, s + horizon]`` given the whole hidden state at ``s``,
      estimated by simulating the city's future (:func:`label_probabilities`): a lower
      bound of the exact limit (on the demo city it moved by 0.005 between 8 and 96
      simulated futures, and not at all from 32 to 96).
    - ``truth_violation_auc``: the AUC of the true violation risk ``1 − Π(1 − p)`` over
      the window (``_truth/monthly_risk.parquet``). Not label-consistent: the label
      counts surfaced events, and whether a violation surfaces depends on exposure to
      detection; findings that are not violations (an unreachable shell) also count.

    Returns an empty dict without a truth; ``truth_label_auc`` is left out (with a
    warning) when the generator cannot be re-run for this city.
    """
    from workbench.scoring import labels

    definition = definition or labels.load_label_definition()
    horizon = definition.horizon_months
    path = Path(truth_dir) / "monthly_risk.parquet"
    if not path.is_file():
        return {}
    y = validation["label"].astype(int).to_numpy()
    risk = pd.read_parquet(path, columns=["uscc", "month", "p_violation"])
    risk["month"] = pd.to_datetime(risk["month"])
    parts = []
    for snapshot, group in validation.groupby("snapshot"):
        window = risk[
            (risk["month"] > snapshot) & (risk["month"] <= snapshot + pd.DateOffset(months=horizon))
        ]
        none = np.log1p(-window["p_violation"].astype(float)).groupby(window["uscc"]).sum()
        parts.append(group["uscc"].map(1 - np.exp(none)).fillna(0.0))
    violation = pd.concat(parts).reindex(validation.index)
    out = {"truth_violation_auc": float(roc_auc_score(y, violation))}
    try:
        probs = label_probabilities(
            truth_dir, validation["snapshot"].unique(), definition, replicates=replicates
        )
    except (ValueError, FileNotFoundError) as err:
        log.warning("label-consistent ceiling not computed: %s", err)
        return out
    p_label = validation[["uscc", "snapshot"]].merge(
        probs[["uscc", "snapshot", "p_state"]], on=["uscc", "snapshot"], how="left"
    )["p_state"]
    if p_label.isna().any():
        log.warning("ceiling: %d validation rows not in the simulated city", p_label.isna().sum())
    out["truth_label_auc"] = float(roc_auc_score(y, p_label.fillna(p_label.mean())))
    out["truth_label_mean_pd"] = float(p_label.mean())
    return out
