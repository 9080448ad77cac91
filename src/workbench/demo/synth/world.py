"""The month-by-month life of the city: true risk, violations and how they surface.

One loop over months (January 2014 → the snapshot); inside a month everything is
vectorised over enterprises. Every month each living enterprise

1. may exit (注销 cancel, 迁出 move out; 吊销 revocation in the June/December batches
   for those long on the abnormal list or on the serious-violation list),
2. may fall dormant (a 僵尸 shell: no business, no reports, unreachable),
3. has a true violation probability ``p = sigmoid(logit)`` (see ``_truth/README.md``)
   and violates with it; a violation opens a non-compliant episode lasting a few
   months unless detected and corrected,
4. is exposed to detection: the double-random draw, complaints (and the inspections
   they trigger), and other enforcement; detection leads to a penalty with a
   probability rising with severity,
5. and to the registry processes: annual reports (January–June for the previous
   year), abnormal listings (July for missing reports; after unreachable or failed
   disclosure checks), serious-violation listings, judicial cases, registration changes.

Events are collected as column arrays per table and filtered once at the end (no
event after the snapshot, none before establishment or after exit).
"""

from __future__ import annotations

import copy
import zlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from workbench import contract

from . import vocab
from .register import DOMAINS, IND, Register
from .timeline import NEVER, Timeline, child_rng

# ----------------------------------------------------------------------------- parameters

RHO_DRIFT = 0.97  # AR(1) per-enterprise drift (a slow, mean-reverting random walk)
SIGMA_DRIFT = 0.10
DECAY_H = 0.75  # self-excitation: h ← 0.75 h + violations this month
BETA_H = 0.7
H_CAP = 2.0
BETA_NET = 0.35  # per recent violation of an enterprise with the same legal representative
NET_CAP = 3.0
AGE_EFFECT = ((12, 0.5), (36, 0.25), (120, 0.0), (NEVER, -0.15))  # (age < months, logit shift)
SIGMA_TREND = 0.12  # per-section linear trend, logit per year
SHOCK = 0.6  # logit shift for 4 months in two sections
DORMANT_P_FACTOR = 0.3
MEAN_EPISODE = 6.0  # months a violation stays uncorrected if never detected
SEVERITY_CUTS = ((0.80, 0.975), (0.68, 0.94))  # (minor|, serious|) for normal / high-risk
HIGH_RISK_LOGIT = -2.5
DORMANCY_HAZARD = {"individual_business": 0.0014, "cooperative": 0.003}
DORMANCY_HAZARD_DEFAULT = 0.0010
DORMANT_EXIT_FACTOR = 3.0
MOVE_OUT_HAZARD = 0.0003
RANDOM_RATE = ((2016, 0.0), (2019, 0.0015), (10_000, 0.003))  # (year <, monthly share drawn)
DETECT_INSPECTION = 0.8
FALSE_FINDING = 0.02
DETECT_ANNUAL_REPORT = 0.8  # disclosure check of an enterprise with an overdue report
ENFORCEMENT = 0.025  # monthly detection of a non-compliant enterprise by other means
SEVERITY_DETECT = np.array([1.0, 1.5, 2.5])
DOMAIN_DETECT = {"food": 1.5, "food_production": 1.5, "drug": 1.5, "device": 1.3}
COMPLAINT_BASE = 0.0015
COMPLAINT_NC = 0.05
SUBSTANTIATED = (0.12, 0.6)  # compliant, non-compliant
COMPLAINT_INSPECT = 0.5
COMPLAINT_DETECT = 0.6  # substantiated complaint handled without an inspection
CORRECT_ON_DETECT = 0.9
PENALTY_PROB = np.array([0.55, 0.9, 0.97])
FINE_MEDIAN = np.array([2_000.0, 20_000.0, 150_000.0])
WARNING_SHARE = 0.4  # minor penalties that are a warning without fine
ON_TIME = {"individual_business": 2.2, "cooperative": 1.8}  # logit of filing on time
ON_TIME_DEFAULT = 2.8
LATE_SHARE = (0.8, 0.05)  # of those not on time, share filing late: normal / dormant
JUDICIAL_BASE = {"individual_business": 0.0003, "company": 0.0020, "partnership": 0.0015}
JUDICIAL_DEFAULT = 0.0010
CHANGE_BASE = {"individual_business": 0.003, "cooperative": 0.004}
CHANGE_DEFAULT = 0.012

SEVERITIES = ("minor", "serious", "grave")
CHANNELS = ("random_inspection", "complaint_inspection", "complaint", "enforcement")
RESULTS = tuple(contract.RESULT_FOUND_PROBLEM)
R = {r: i for i, r in enumerate(RESULTS)}
CHANGE_ITEMS = tuple(contract.CODE_LISTS["change_item"].labels)
ITEMS = (vocab.DISCLOSURE_ITEM, vocab.DISCLOSURE_ITEM_INDIVIDUAL, vocab.COMPLAINT_ITEM) + tuple(
    dict.fromkeys(i for items in vocab.DOMAIN_ITEMS.values() for i in items)
)
ITEM_IDX = {s: i for i, s in enumerate(ITEMS)}
CATEGORIES = tuple(dict.fromkeys(c for cs in vocab.COMPLAINT_CATEGORIES.values() for c in cs))
FOUND_CODES = [R[r] for r in RESULTS if contract.RESULT_FOUND_PROBLEM[r]]
VIOLATION_TYPES = tuple(dict.fromkeys(v for vs in vocab.VIOLATION_TYPES.values() for v in vs))


@dataclass
class World:
    """What happened: event columns per table plus the hidden truth."""

    events: dict[str, dict[str, np.ndarray]]
    exit_day: np.ndarray  # NEVER when still registered
    exit_status: np.ndarray  # object: '' / cancelled / revoked / moved_out
    dormant_month: np.ndarray  # month index when the enterprise fell dormant (NEVER = never)
    risk: np.ndarray  # (n, window months) float32, NaN when not alive
    noncompliant: np.ndarray  # (n, window months) bool
    truth: dict[str, np.ndarray] = field(default_factory=dict)  # violations
    drift_sd: float = 0.0


class _Sink:
    """Column chunks per table, concatenated once."""

    def __init__(self) -> None:
        self.chunks: dict[str, dict[str, list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))

    def add(self, table: str, **cols: np.ndarray) -> None:
        n = {len(v) for v in cols.values()}
        assert len(n) == 1, (table, {k: len(v) for k, v in cols.items()})
        if n.pop():
            for k, v in cols.items():
                self.chunks[table][k].append(np.asarray(v))

    def arrays(self) -> dict[str, dict[str, np.ndarray]]:
        return {
            t: {k: np.concatenate(v) for k, v in cols.items()} for t, cols in self.chunks.items()
        }


def _categorical(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(probs) / np.sum(probs)
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(probs) - 1)


def _ids(prefix: str, seq: np.ndarray, width: int) -> np.ndarray:
    """Identifiers ``prefix`` + zero-padded sequence numbers."""
    if not len(seq):
        return np.zeros(0, dtype=object)
    return np.char.add(prefix, np.char.zfill(seq.astype(str), width)).astype(object)


def _shift_weekend(days: np.ndarray) -> np.ndarray:
    wd = (days + 3) % 7
    return days + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))


def _by_type(reg: Register, table: dict[str, float], default: float) -> np.ndarray:
    values = np.array([table.get(t[0], default) for t in vocab.ENTITY_TYPES])
    return values[reg.type_idx]


def _trend(rng: np.random.Generator, tl: Timeline) -> tuple[np.ndarray, list[str]]:
    """Section × month logit shift: linear trends, food seasonality and two shocks."""
    sections = list(contract.INDUSTRY_SECTIONS)
    t = np.arange(tl.n)
    mid = tl.window_first + tl.months / 2
    slope = rng.normal(0.0, SIGMA_TREND, len(sections))
    trend = slope[:, None] * (t[None, :] - mid) / 12.0
    notes = []
    shocked = rng.choice(len(sections), 2, replace=False)
    for s in shocked:
        start = int(rng.integers(tl.window_first, max(tl.window_first + 1, tl.n - 4)))
        trend[s, start : start + 4] += SHOCK
        notes.append(
            f"{sections[s]}: +{SHOCK} in months {start}..{min(start + 3, tl.n - 1)} (0 = 2014-01)"
        )
    for s, slope_s in zip(sections, slope, strict=True):
        notes.append(f"{s}: trend {slope_s:+.3f}/year")
    return trend, notes


#: What the monthly loop reads and writes (the state of :func:`initial_state`).
_LOOP_NAMES = (
    "abn_since",
    "abn_until",
    "ages_cut",
    "ages_val",
    "ar_overdue_until",
    "ar_pending_late",
    "ar_pending_missing",
    "ar_pending_year",
    "beta_h",
    "beta_net",
    "chg_base",
    "complaint_task_seq",
    "consumer",
    "domain",
    "domain_detect",
    "dorm_hazard",
    "dormant",
    "dormant_month",
    "drift",
    "est_m",
    "est_year",
    "exit_day",
    "exit_hazard",
    "exit_m",
    "exit_status",
    "food_domain",
    "h",
    "individual",
    "jud_base",
    "latent",
    "n",
    "n_ep",
    "nc_ep",
    "nc_sev",
    "nc_until",
    "ncmat",
    "on_time_logit",
    "pending",
    "reg",
    "revoke_flag",
    "risk",
    "rng_ar",
    "rng_chg",
    "rng_comp",
    "rng_exit",
    "rng_insp",
    "rng_jud",
    "rng_list",
    "rng_pen",
    "rng_state",
    "section_idx",
    "serious_3y",
    "serious_until",
    "sigma_drift",
    "sink",
    "static",
    "tl",
    "trend",
    "w0",
)
STATE = frozenset(_LOOP_NAMES) | {"stationary", "trend_notes"}


def simulate(reg: Register, tl: Timeline, seed: int, trend_seed: int | None = None) -> World:
    """Run the city month by month (``trend_seed``: the city's, when this is one shard)."""
    state = initial_state(reg, tl, seed, trend_seed)
    advance(state, tl.n)
    return to_world(state)


def initial_state(reg: Register, tl: Timeline, seed: int, trend_seed: int | None = None) -> dict:
    """Everything the monthly loop carries, before January 2014 (see :func:`advance`).

    ``trend_seed`` draws the sections' trends and shocks: the economy every shard of a
    city shares (default: ``seed``).
    """
    n = reg.n
    rng_state = child_rng(seed, "dynamics")
    rng_insp = child_rng(seed, "inspections")
    rng_comp = child_rng(seed, "complaints")
    rng_pen = child_rng(seed, "penalties")
    rng_ar = child_rng(seed, "annual_reports")
    rng_list = child_rng(seed, "listings")
    rng_jud = child_rng(seed, "judicial")
    rng_chg = child_rng(seed, "changes")
    rng_exit = child_rng(seed, "exits")
    trend, trend_notes = _trend(child_rng(seed if trend_seed is None else trend_seed, "trend"), tl)
    sink = _Sink()

    individual = reg.type_idx == IND["individual_business"]
    section_idx = np.array([list(contract.INDUSTRY_SECTIONS).index(s) for s in reg.section])
    domain = reg.domain_idx
    consumer = np.array([i.consumer for i in vocab.INDUSTRIES])[reg.industry_idx]
    domain_detect = np.array([DOMAIN_DETECT.get(d, 1.0) for d in DOMAINS])[domain]
    food_domain = np.isin(domain, [DOMAINS.index("food"), DOMAINS.index("food_production")])
    exit_hazard = np.array([t[3] for t in vocab.ENTITY_TYPES])[reg.type_idx]
    dorm_hazard = _by_type(reg, DORMANCY_HAZARD, DORMANCY_HAZARD_DEFAULT)
    on_time_logit = _by_type(reg, ON_TIME, ON_TIME_DEFAULT)
    jud_base = _by_type(reg, JUDICIAL_BASE, JUDICIAL_DEFAULT)
    chg_base = _by_type(reg, CHANGE_BASE, CHANGE_DEFAULT)
    static = reg.base_logit + reg.frailty + reg.cluster_effect[reg.person]
    latent = reg.frailty + reg.cluster_effect[reg.person]

    est_m = tl.month_of_day(reg.est_day)  # -1: before 2014
    est_year = reg.est_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    pre_gone = reg.pre_exit_day >= 0
    exit_m = np.where(pre_gone, -1, NEVER).astype(np.int64)
    exit_day = np.where(pre_gone, reg.pre_exit_day, NEVER).astype(np.int64)
    exit_status = reg.pre_exit_status.copy()

    # the risk structure (the demo's constants unless the city's profile changes them)
    beta_h = BETA_H if reg.risk.id == "default" else reg.risk.beta_h
    beta_net = BETA_NET if reg.risk.id == "default" else reg.risk.beta_net
    sigma_drift = SIGMA_DRIFT if reg.risk.id == "default" else reg.risk.drift_sigma
    # state
    stationary = sigma_drift / np.sqrt(1 - RHO_DRIFT**2)
    drift = (stationary * rng_state.standard_normal(n)).astype(np.float64)
    h = np.zeros(n)
    old = est_m < 0
    dormant = old & (rng_state.random(n) < 0.05)
    dormant_month = np.where(dormant, 0, NEVER).astype(np.int64)
    nc_until = np.full(n, -1, dtype=np.int64)
    nc_sev = np.zeros(n, dtype=np.int8)
    nc_ep = np.full(n, -1, dtype=np.int64)
    n_ep = 0
    abn_since = np.full(n, -1, dtype=np.int64)
    abn_until = np.full(n, -1, dtype=np.int64)  # month the open listing episode ends
    serious_until = np.full(n, -1, dtype=np.int64)
    serious_3y = np.zeros(n, dtype=bool)
    revoke_flag = np.zeros(n, dtype=bool)
    ar_overdue_until = np.full(n, -1, dtype=np.int64)  # the last report is missing until then
    ar_pending_year = np.full(n, -1, dtype=np.int64)  # report year whose status is decided
    ar_pending_late = np.full(n, NEVER, dtype=np.int64)  # late filing day or NEVER
    ar_pending_missing = np.zeros(n, dtype=bool)  # not filed by June 30
    w0 = tl.window_first
    risk = np.full((n, tl.months), np.nan, dtype=np.float32)
    ncmat = np.zeros((n, tl.months), dtype=bool)
    ages_cut = np.array([a for a, _ in AGE_EFFECT])
    ages_val = np.array([v for _, v in AGE_EFFECT]) * reg.risk.age_scale
    pending: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    complaint_task_seq: dict[int, int] = defaultdict(int)
    carried = locals()
    return {"month": 0, **{name: carried[name] for name in STATE}}


def advance(state: dict, stop: int) -> None:  # noqa: C901 - one loop, kept whole
    """Simulate the months from ``state["month"]`` (0 = 2014-01) up to ``stop`` (excluded).

    The state is updated in place, so a copy taken between months can be continued
    with other random streams (:func:`fork_state`): same past, another future.
    """
    (
        abn_since,
        abn_until,
        ages_cut,
        ages_val,
        ar_overdue_until,
        ar_pending_late,
        ar_pending_missing,
        ar_pending_year,
        beta_h,
        beta_net,
        chg_base,
        complaint_task_seq,
        consumer,
        domain,
        domain_detect,
        dorm_hazard,
        dormant,
        dormant_month,
        drift,
        est_m,
        est_year,
        exit_day,
        exit_hazard,
        exit_m,
        exit_status,
        food_domain,
        h,
        individual,
        jud_base,
        latent,
        n,
        n_ep,
        nc_ep,
        nc_sev,
        nc_until,
        ncmat,
        on_time_logit,
        pending,
        reg,
        revoke_flag,
        risk,
        rng_ar,
        rng_chg,
        rng_comp,
        rng_exit,
        rng_insp,
        rng_jud,
        rng_list,
        rng_pen,
        rng_state,
        section_idx,
        serious_3y,
        serious_until,
        sigma_drift,
        sink,
        static,
        tl,
        trend,
        w0,
    ) = (state[name] for name in _LOOP_NAMES)
    for t in range(state["month"], stop):
        year, month = int(tl.cal_year[t]), int(tl.cal_month[t])
        m_start = tl.month_start[t]
        # ---------------------------------------------------------------- exits
        alive = (est_m < t) & (exit_m > t)
        a = np.flatnonzero(alive)
        hz = exit_hazard[a] * np.where(dormant[a], DORMANT_EXIT_FACTOR, 1.0)
        hz = hz * np.where(t - est_m[a] < 24, 1.3, 1.0)
        u = rng_exit.random(len(a))
        cancel = u < hz
        move = (~cancel) & (u < hz + MOVE_OUT_HAZARD) & ~individual[a]
        revoke = revoke_flag[a].copy()
        if month in (6, 12):
            long_abn = (
                (abn_since[a] >= 0) & (abn_until[a] > t) & (t - abn_since[a] >= 24) & dormant[a]
            )
            revoke |= long_abn & (rng_exit.random(len(a)) < 0.25)
            revoke |= serious_3y[a] & (serious_until[a] > t) & (rng_exit.random(len(a)) < 0.5)
        leaving = cancel | move | revoke
        li = a[leaving]
        exit_m[li] = t
        exit_day[li] = tl.workday(tl.random_day(rng_exit, np.full(len(li), t)), np.full(len(li), t))
        exit_status[li] = np.where(
            revoke[leaving], "revoked", np.where(move[leaving], "moved_out", "cancelled")
        )
        revoke_flag[li] = False
        alive[li] = False
        a = a[~leaving]
        na = len(a)
        # ---------------------------------------------------------------- dormancy
        newly = (~dormant[a]) & (rng_state.random(na) < dorm_hazard[a] * np.exp(0.3 * latent[a]))
        dormant[a[newly]] = True
        dormant_month[a[newly]] = t
        dm = dormant[a]
        # ---------------------------------------------------------------- true risk
        age = (m_start - reg.est_day[a]) / 30.44
        nb = (
            np.bincount(reg.person[a], weights=h[a], minlength=len(reg.cluster_effect))[
                reg.person[a]
            ]
            - h[a]
        )
        logit = (
            static[a]
            + drift[a]
            + trend[section_idx[a], t]
            + ages_val[np.searchsorted(ages_cut, age, side="right")]
            + beta_h * np.minimum(h[a], H_CAP)
            + beta_net * np.minimum(nb, NET_CAP)
        )
        logit = logit + np.where(food_domain[a] & np.isin(month, (1, 2, 6, 7, 8)), 0.2, 0.0)
        p = 1.0 / (1.0 + np.exp(-logit))
        p = np.where(dm, p * DORMANT_P_FACTOR, p)
        viol = rng_state.random(na) < p
        vi = a[viol]
        # severity: heavier for high-risk enterprises
        hi = logit[viol] > HIGH_RISK_LOGIT
        cut1 = np.where(hi, SEVERITY_CUTS[1][0], SEVERITY_CUTS[0][0])
        cut2 = np.where(hi, SEVERITY_CUTS[1][1], SEVERITY_CUTS[0][1])
        us = rng_state.random(len(vi))
        sev = np.where(us < cut1, 0, np.where(us < cut2, 1, 2)).astype(np.int8)
        dur = rng_state.geometric(1.0 / MEAN_EPISODE, len(vi))
        open_ = nc_until[vi] > t
        new_ep = vi[~open_]
        nc_ep[new_ep] = n_ep + np.arange(len(new_ep))
        n_ep += len(new_ep)
        nc_sev[vi] = np.where(open_, np.maximum(nc_sev[vi], sev), sev)
        nc_until[vi] = np.maximum(np.where(open_, nc_until[vi], t), t + dur)
        sink.add(
            "viol",
            ent=vi,
            month=np.full(len(vi), t),
            severity=sev,
            episode=nc_ep[vi],
            day=tl.random_day(rng_state, np.full(len(vi), t)),
        )
        nc = nc_until[a] > t
        if t >= w0:
            risk[a, t - w0] = p
            ncmat[a, t - w0] = nc
        # ---------------------------------------------------------------- detection
        detected = np.zeros(na, dtype=bool)
        det_channel = np.full(na, -1, dtype=np.int8)
        det_day = np.zeros(na, dtype=np.int64)
        ar_overdue = ar_overdue_until[a] > t
        # (a) the double-random draw from the register as it stood two months ago
        rate = next(r for y, r in RANDOM_RATE if year < y)
        if rate > 0:
            pool = np.flatnonzero((est_m < t - 2) & (exit_m > t - 2))
            k = int(round(rate * len(pool)))
            drawn = np.sort(rng_insp.choice(pool, k, replace=False)) if k else np.zeros(0, np.int64)
            pos = np.minimum(np.searchsorted(a, drawn), na - 1)
            in_a = a[pos] == drawn
            res, item, method, day = _inspect(
                rng_insp,
                tl,
                t,
                drawn,
                in_a,
                pos,
                nc,
                dm,
                ar_overdue,
                domain,
                individual,
                reg,
                exit_day,
            )
            found_nc = np.zeros(len(drawn), dtype=bool)
            found_nc[in_a] = np.isin(res[in_a], FOUND_CODES) & nc[pos[in_a]] & ~dm[pos[in_a]]
            # attribute detections
            fi = pos[found_nc]
            fresh = ~detected[fi]
            detected[fi] = True
            det_channel[fi[fresh]] = 0
            det_day[fi[fresh]] = day[found_nc][fresh]
            plan_id = f"SSJ-{reg.place.plan_code}-{year}-{month:02d}"
            seq = np.arange(1, len(drawn) + 1)
            sink.add(
                "inspections",
                ent=drawn,
                day=day,
                result=res,
                item=item,
                method=method,
                plan=np.full(len(drawn), plan_id, dtype=object),
                task=_ids(plan_id + "-T", seq, 5),
            )
            _after_inspection(pending, rng_list, t, drawn[in_a], res[in_a], day[in_a])
        # (b) complaints
        sevm = np.array([1.0, 1.5, 2.0])[nc_sev[a]]
        lam = consumer[a] * (COMPLAINT_BASE + COMPLAINT_NC * nc * sevm) * np.where(dm, 0.2, 1.0)
        cnt = rng_comp.poisson(lam)
        ci = np.repeat(np.arange(na), cnt)
        if len(ci):
            cday = tl.random_day(rng_comp, np.full(len(ci), t))
            subst = rng_comp.random(len(ci)) < np.where(nc[ci], SUBSTANTIATED[1], SUBSTANTIATED[0])
            cat_opts = [vocab.COMPLAINT_CATEGORIES[d] for d in DOMAINS]
            dom_c = domain[a[ci]]
            k_cat = (rng_comp.random(len(ci)) * np.array([len(c) for c in cat_opts])[dom_c]).astype(
                np.int64
            )
            cat = np.array([CATEGORIES.index(c) for c in sum(cat_opts, ())])[
                np.concatenate([[0], np.cumsum([len(c) for c in cat_opts])[:-1]])[dom_c] + k_cat
            ]
            report = rng_comp.random(len(ci)) < 0.3  # 举报 rather than 投诉
            sink.add(
                "complaints", ent=a[ci], day=cday, category=cat, substantiated=subst, report=report
            )
            # a substantiated complaint: an inspection (half of them), else handled directly
            first = np.unique(ci[subst], return_index=True)[1]
            sci = ci[subst][first]
            sday = cday[subst][first]
            go = rng_comp.random(len(sci)) < COMPLAINT_INSPECT
            ii = sci[go]
            iday = _shift_weekend(sday[go] + rng_comp.integers(2, 20, len(ii)))
            found = np.where(
                nc[ii],
                rng_comp.random(len(ii)) < DETECT_INSPECTION,
                rng_comp.random(len(ii)) < 0.25,
            )
            res = np.where(
                dm[ii],
                np.where(rng_comp.random(len(ii)) < 0.6, R["not_operating"], R["unreachable"]),
                np.where(found, _found_codes(rng_comp, len(ii), disclosure=False), R["no_problem"]),
            )
            cseq0 = complaint_task_seq[year]
            complaint_task_seq[year] += len(ii)
            seq = np.arange(cseq0 + 1, cseq0 + 1 + len(ii))
            sink.add(
                "inspections",
                ent=a[ii],
                day=iday,
                result=res,
                item=np.full(len(ii), ITEM_IDX[vocab.COMPLAINT_ITEM]),
                method=np.zeros(len(ii), dtype=np.int64),
                plan=np.full(len(ii), "", dtype=object),
                task=_ids(f"TS-{reg.place.plan_code}-{year}-", seq, 6),
            )
            _after_inspection(pending, rng_list, t, a[ii], res, iday)
            hit = ii[found & nc[ii] & ~dm[ii]]
            fresh = hit[~detected[hit]]
            detected[fresh] = True
            det_channel[fresh] = 1
            det_day[fresh] = iday[np.searchsorted(ii, fresh)]
            direct = sci[~go]
            direct = direct[nc[direct] & (rng_comp.random(len(direct)) < COMPLAINT_DETECT)]
            fresh = direct[~detected[direct]]
            detected[fresh] = True
            det_channel[fresh] = 2
            det_day[fresh] = _shift_weekend(sday[~go][np.searchsorted(sci[~go], fresh)] + 15)
        # (c) other enforcement (专项整治, 抽检, 网络监测, referrals)
        enf = nc & (
            rng_pen.random(na) < ENFORCEMENT * SEVERITY_DETECT[nc_sev[a]] * domain_detect[a]
        )
        fresh = np.flatnonzero(enf & ~detected)
        detected[fresh] = True
        det_channel[fresh] = 3
        det_day[fresh] = tl.workday(
            tl.random_day(rng_pen, np.full(len(fresh), t)), np.full(len(fresh), t)
        )
        # detections → penalties, corrections
        di = np.flatnonzero(detected & nc)
        de = a[di]
        if len(de):
            sink.add(
                "detections",
                episode=nc_ep[de],
                month=np.full(len(de), t),
                channel=det_channel[di],
                day=det_day[di],
            )
            sv = nc_sev[de]
            pen = rng_pen.random(len(de)) < PENALTY_PROB[sv]
            pe = de[pen]
            pday = _shift_weekend(det_day[di][pen] + rng_pen.integers(7, 90, len(pe)))
            psv = sv[pen]
            fine = np.round(FINE_MEDIAN[psv] * np.exp(0.8 * rng_pen.standard_normal(len(pe))), -2)
            fine[(psv == 0) & (rng_pen.random(len(pe)) < WARNING_SHARE)] = 0.0
            vt_opts = [vocab.VIOLATION_TYPES[d] for d in DOMAINS]
            dom_p = domain[pe]
            k_vt = (rng_pen.random(len(pe)) * np.array([len(v) for v in vt_opts])[dom_p]).astype(
                np.int64
            )
            vtype = np.array([VIOLATION_TYPES.index(v) for v in sum(vt_opts, ())])[
                np.concatenate([[0], np.cumsum([len(v) for v in vt_opts])[:-1]])[dom_p] + k_vt
            ]
            city = rng_pen.random(len(pe)) < np.array([0.08, 0.2, 0.5])[psv]
            rep_u = rng_pen.random(len(pe))
            repaired = np.where(psv == 0, rep_u < 0.45, np.where(psv == 1, rep_u < 0.25, False))
            rday = (
                pday
                + np.where(psv == 0, 90, 365)
                + rng_pen.exponential(150, len(pe)).astype(np.int64)
            )
            rday = np.where(repaired, _shift_weekend(rday), NEVER)
            sink.add(
                "penalties",
                ent=pe,
                day=pday,
                severity=psv,
                vtype=vtype,
                fine=fine,
                city=city,
                repaired=rday,
                episode=nc_ep[pe],
            )
            grave = pe[psv == 2]
            gday = pday[psv == 2]
            to_list = rng_list.random(len(grave)) < 0.5
            lday = _shift_weekend(gday[to_list] + rng_list.integers(10, 40, int(to_list.sum())))
            early = rng_list.random(len(lday)) < 0.2
            rem = np.where(early, lday + rng_list.integers(365, 730, len(lday)), lday + 3 * 365)
            sink.add(
                "serious",
                ent=grave[to_list],
                day=lday,
                reason=np.full(len(lday), 1),
                removed=_shift_weekend(rem),
            )
            serious_until[grave[to_list]] = tl.n + 36  # until removal, long after the window
            revoke_flag[grave[rng_list.random(len(grave)) < 0.05]] = True
            corrected = rng_state.random(len(de)) < CORRECT_ON_DETECT
            nc_until[de[corrected]] = t + 1
        # ---------------------------------------------------------------- judicial
        jl = jud_base[a] * np.exp(0.5 * (latent[a] + drift[a])) * np.where(dm, 1.5, 1.0)
        ji = a[rng_jud.random(na) < jl]
        if len(ji):
            jday = tl.workday(tl.random_day(rng_jud, np.full(len(ji), t)), np.full(len(ji), t))
            amount = np.round(np.exp(rng_jud.normal(np.where(individual[ji], 9.5, 11.5), 1.2)), -2)
            sink.add("judicial", ent=ji, day=jday, role=np.zeros(len(ji), np.int8), amount=amount)
            ex = rng_jud.random(len(ji)) < 0.3 + 0.2 * (latent[ji] > 1)
            eday = _shift_weekend(jday[ex] + rng_jud.integers(120, 420, int(ex.sum())))
            sink.add(
                "judicial",
                ent=ji[ex],
                day=eday,
                role=np.ones(int(ex.sum()), np.int8),
                amount=amount[ex],
            )
            dis = rng_jud.random(int(ex.sum())) < 0.3
            dday = _shift_weekend(eday[dis] + rng_jud.integers(60, 270, int(dis.sum())))
            sink.add(
                "judicial",
                ent=ji[ex][dis],
                day=dday,
                role=np.full(int(dis.sum()), 2, np.int8),
                amount=amount[ex][dis],
            )
        # ---------------------------------------------------------------- registration changes
        shell = latent[a] > 1.0
        cl = chg_base[a] * np.exp(0.3 * latent[a]) * np.where(dm, 0.3, 1.0)
        chi = np.flatnonzero(rng_chg.random(na) < cl)
        if len(chi):
            probs_corp = np.array([0.15, 0.20, 0.05, 0.12, 0.30, 0.13, 0.05])  # CHANGE_ITEMS order
            probs_shell = np.array([0.35, 0.35, 0.05, 0.05, 0.10, 0.07, 0.03])
            probs_ind = np.array([0.0, 0.40, 0.20, 0.05, 0.25, 0.0, 0.10])
            item = np.where(
                individual[a[chi]],
                _categorical(rng_chg, probs_ind, len(chi)),
                np.where(
                    shell[chi],
                    _categorical(rng_chg, probs_shell, len(chi)),
                    _categorical(rng_chg, probs_corp, len(chi)),
                ),
            )
            cday = tl.workday(tl.random_day(rng_chg, np.full(len(chi), t)), np.full(len(chi), t))
            sink.add("changes", ent=a[chi], day=cday, item=item)
        # ---------------------------------------------------------------- annual reports
        if month == 1:
            ry = year - 1
            el = a[est_year[a] <= ry]
            lg = (
                on_time_logit[el]
                - 0.6 * latent[el]
                - 3.5 * dormant[el]
                - 0.5 * (t - est_m[el] < 18)
            )
            if ry < 2015:
                lg = lg - 0.7  # the first years of the new regime
            on_time = rng_ar.random(len(el)) < 1 / (1 + np.exp(-lg))
            late = (~on_time) & (
                rng_ar.random(len(el)) < np.where(dormant[el], LATE_SHARE[1], LATE_SHARE[0])
            )
            jan1 = tl.month_start[t]
            fday = jan1 + (rng_ar.random(len(el)) ** 0.5 * 181).astype(np.int64)
            lday = jan1 + 181 + rng_ar.geometric(1 / 130, len(el))
            filed = np.where(on_time, fday, np.where(late, lday, NEVER))
            sink.add("annual_reports", ent=el, year=np.full(len(el), ry), filed=filed)
            ar_pending_year[el] = ry
            ar_pending_missing[el] = ~on_time
            ar_pending_late[el] = np.where(late, lday, NEVER)
        if month == 7:
            miss = a[(ar_pending_year[a] == year - 1) & ar_pending_missing[a]]
            ld = tl.workday(m_start + rng_list.integers(0, 15, len(miss)), np.full(len(miss), t))
            rem = ar_pending_late[miss]
            rem = np.where(
                rem < NEVER,
                _shift_weekend(np.maximum(rem, ld) + rng_list.integers(1, 10, len(miss))),
                NEVER,
            )
            _list_abnormal(sink, tl, t, miss, ld, 0, rem, abn_since, abn_until)
            ar_overdue_until[miss] = np.where(
                rem < NEVER, tl.month_of_day(np.minimum(rem, tl.month_last[-1])) + 1, NEVER
            )
        # dormant shells found unreachable by other means (mail returned, grid checks)
        un = a[dm & (rng_list.random(na) < 0.004) & ~((abn_since[a] >= 0) & (abn_until[a] > t))]
        if len(un):
            ld = tl.workday(tl.random_day(rng_list, np.full(len(un), t)), np.full(len(un), t))
            _list_abnormal(sink, tl, t, un, ld, 3, np.full(len(un), NEVER), abn_since, abn_until)
        # pending listings from this month's inspections
        _flush_inspection_listings(pending, sink, rng_list, tl, t, dormant, abn_since, abn_until)
        # three years on the abnormal list → serious-violation list
        three = a[
            ~individual[a]
            & (abn_since[a] >= 0)
            & (abn_until[a] > t)
            & (t - abn_since[a] == 36)
            & (serious_until[a] <= t)
        ]
        if len(three):
            _list_serious(sink, tl, rng_list, three, t, reason=0)
            serious_until[three] = t + 36
            serious_3y[three] = True
        # shells registered with false materials (虚假登记), rare
        fr = a[(reg.cluster_size[a] >= 4) & (rng_list.random(na) < 0.00004)]
        if len(fr):
            _list_serious(sink, tl, rng_list, fr, t, reason=2)
            serious_until[fr] = t + 36
        # ---------------------------------------------------------------- state updates
        hv = np.zeros(n)
        hv[vi] = 1.0
        h *= DECAY_H
        h += hv
        drift = RHO_DRIFT * drift + sigma_drift * rng_state.standard_normal(n)
    state.update(drift=drift, n_ep=n_ep, month=max(state["month"], stop))


#: State that the loop only reads: shared between a state and its forks.
_READ_ONLY = frozenset(
    {
        "ages_cut",
        "ages_val",
        "beta_h",
        "beta_net",
        "chg_base",
        "consumer",
        "domain",
        "domain_detect",
        "dorm_hazard",
        "est_m",
        "est_year",
        "exit_hazard",
        "food_domain",
        "individual",
        "jud_base",
        "latent",
        "n",
        "on_time_logit",
        "reg",
        "section_idx",
        "sigma_drift",
        "static",
        "stationary",
        "tl",
        "trend",
        "trend_notes",
        "w0",
    }
)


def fork_state(state: dict, key: tuple[int, ...]) -> dict:
    """A copy of ``state`` that continues with other random streams: same past, new future.

    Every random stream is replaced by one drawn from ``key`` (e.g. seed, month,
    replicate); the fork's events go to an empty sink, so they are the events of the
    months it simulates. Used to estimate what could still happen after a snapshot
    (:mod:`.ceiling`); :func:`simulate` never forks.
    """
    fork = {}
    for name, value in state.items():
        if name.startswith("rng_"):
            fork[name] = np.random.default_rng([*key, zlib.crc32(name.encode("utf-8"))])
        elif name == "sink":
            fork[name] = _Sink()
        elif name in _READ_ONLY:
            fork[name] = value
        elif isinstance(value, np.ndarray):
            fork[name] = value.copy()  # object arrays hold immutable strings
        elif name == "pending":
            fork[name] = [tuple(copy.copy(x) for x in item) for item in value]
        else:
            fork[name] = copy.copy(value)
    return fork


def to_world(state: dict) -> World:
    """The finished simulation as a :class:`World`."""
    sink, stationary = state["sink"], state["stationary"]
    events = sink.arrays()
    return World(
        events=events,
        exit_day=state["exit_day"],
        exit_status=state["exit_status"],
        dormant_month=state["dormant_month"],
        risk=state["risk"],
        noncompliant=state["ncmat"],
        truth={"trend_notes": np.array(state["trend_notes"], dtype=object)},
        drift_sd=float(stationary),
    )


# ----------------------------------------------------------------------------- inspections


def _found_codes(rng: np.random.Generator, k: int, disclosure: bool) -> np.ndarray:
    if disclosure:
        probs = {
            "not_disclosed": 0.45,
            "corrected": 0.33,
            "false_disclosure": 0.12,
            "pending": 0.05,
            "refused": 0.05,
        }
    else:
        probs = {"corrected": 0.5, "pending": 0.2, "other_violation": 0.25, "refused": 0.05}
    codes = np.array([R[c] for c in probs])
    return codes[_categorical(rng, np.array(list(probs.values())), k)]


def _inspect(rng, tl, t, drawn, in_a, pos, nc, dm, ar_overdue, domain, individual, reg, exit_day):
    """Results of the double-random draw: item, method, day and result per drawn enterprise."""
    k = len(drawn)
    dom = domain[drawn]
    disclosure = rng.random(k) < 0.5
    opts = [vocab.DOMAIN_ITEMS[d] for d in DOMAINS]
    pick = (rng.random(k) * np.array([len(o) for o in opts])[dom]).astype(np.int64)
    flat = np.array([ITEM_IDX[i] for o in opts for i in o])
    offs = np.concatenate([[0], np.cumsum([len(o) for o in opts])[:-1]])
    item = np.where(
        disclosure,
        np.where(
            individual[drawn],
            ITEM_IDX[vocab.DISCLOSURE_ITEM_INDIVIDUAL],
            ITEM_IDX[vocab.DISCLOSURE_ITEM],
        ),
        flat[offs[dom] + pick],
    )
    online = np.isin(
        reg.industry_idx[drawn],
        [i for i, x in enumerate(vocab.INDUSTRIES) if x.code in ("F5292", "F5193")],
    )
    um = rng.random(k)
    method = np.where(
        disclosure,
        np.where(um < 0.6, 0, np.where(um < 0.9, 1, 2)),
        np.where(online & (um < 0.6), 2, np.where(um < 0.9, 0, 1)),
    )
    day = tl.workday(tl.random_day(rng, np.full(k, t)), np.full(k, t))
    res = np.full(k, R["no_problem"], dtype=np.int64)
    # exited since the draw: deregistered, after the exit
    gone = ~in_a
    res[gone] = R["deregistered"]
    day[gone] = _shift_weekend(exit_day[drawn[gone]] + rng.integers(1, 30, int(gone.sum())))
    p = pos[in_a]
    is_nc, is_dm, overdue = nc[p], dm[p], ar_overdue[p]
    u = rng.random(len(p))
    r_in = np.full(len(p), R["no_problem"], dtype=np.int64)
    found = is_nc & (u < DETECT_INSPECTION)
    disc = disclosure[in_a]
    r_in[found] = np.where(
        disc[found],
        _found_codes(rng, int(found.sum()), True),
        _found_codes(rng, int(found.sum()), False),
    )
    ar = (~found) & overdue & disc & (rng.random(len(p)) < DETECT_ANNUAL_REPORT)
    r_in[ar] = R["not_disclosed"]
    fp = (~found) & (~ar) & (rng.random(len(p)) < FALSE_FINDING)
    r_in[fp] = np.where(rng.random(int(fp.sum())) < 0.6, R["corrected"], R["not_disclosed"])
    ud = rng.random(len(p))
    r_in[is_dm] = np.where(
        ud[is_dm] < 0.45,
        R["not_operating"],
        np.where(ud[is_dm] < 0.85, R["unreachable"], R["closed"]),
    )
    res[in_a] = r_in
    return res, item, method, day


def _after_inspection(pending, rng, t, ents, res, days) -> None:
    """Unreachable → address listing; failed disclosure → listing after the deadline."""
    pend = []
    m = res == R["unreachable"]
    pend.append((ents[m], days[m] + rng.integers(5, 25, int(m.sum())), np.full(int(m.sum()), 3)))
    m = res == R["false_disclosure"]
    pend.append((ents[m], days[m] + rng.integers(10, 40, int(m.sum())), np.full(int(m.sum()), 2)))
    m = (res == R["not_disclosed"]) & (rng.random(len(res)) < 0.3)
    pend.append((ents[m], days[m] + rng.integers(40, 80, int(m.sum())), np.full(int(m.sum()), 1)))
    for e, d, r in pend:
        if len(e):
            pending.append((t, e, _shift_weekend(d), r))


def _flush_inspection_listings(pending, sink, rng, tl, t, dormant, abn_since, abn_until) -> None:
    """Listings decided by inspections, entered in the month their day falls in."""
    keep = []
    for item in pending:
        _, e, d, r = item
        now = d <= tl.month_last[t]
        if now.any():
            ee, dd, rr = e[now], d[now], r[now]
            dm = dormant[ee]
            stay = dm | (rng.random(len(ee)) < 0.15)
            rem = np.where(stay, NEVER, _shift_weekend(dd + rng.integers(30, 240, len(ee))))
            for reason in np.unique(rr):
                mm = rr == reason
                _list_abnormal(
                    sink, tl, t, ee[mm], dd[mm], int(reason), rem[mm], abn_since, abn_until
                )
        if (~now).any():
            keep.append((item[0], e[~now], d[~now], r[~now]))
    pending[:] = keep


def _list_abnormal(sink, tl, t, ents, days, reason, removed, abn_since, abn_until) -> None:
    """Enter listings and keep the per-enterprise open-episode bounds up to date."""
    if not len(ents):
        return
    sink.add("abnormal", ent=ents, day=days, reason=np.full(len(ents), reason), removed=removed)
    last = tl.month_last[-1]
    rem_m = np.where(removed <= last, tl.month_of_day(np.minimum(removed, last)), NEVER)
    open_ = (abn_since[ents] >= 0) & (abn_until[ents] > t)
    abn_since[ents] = np.where(open_, abn_since[ents], t)
    abn_until[ents] = np.where(open_, np.maximum(abn_until[ents], rem_m), rem_m)


def _list_serious(sink, tl: Timeline, rng, ents: np.ndarray, t: int, reason: int) -> None:
    """List ``ents`` on the serious-violation list in month ``t`` for three years."""
    listed = tl.workday(tl.random_day(rng, np.full(len(ents), t)), np.full(len(ents), t))
    sink.add(
        "serious",
        ent=ents,
        day=listed,
        reason=np.full(len(ents), reason, np.int64),
        removed=_shift_weekend(listed + 3 * 365),
    )
