"""Turn the register and the simulated events into contract tables (and the truth tables).

Every table comes out as a :class:`pyarrow.Table` with the contract's column names in the
contract's order, canonical codes, ``date32`` dates and no row dated after the snapshot
(licence expiry excepted), before establishment or after exit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench import contract

from . import static, vocab
from .register import DOMAINS, INDUSTRY_CODES, TYPE_CODES, Register
from .timeline import NEVER, Timeline, child_rng, day_of
from .world import (
    CATEGORIES,
    CHANGE_ITEMS,
    CHANNELS,
    ITEMS,
    RESULTS,
    SEVERITIES,
    VIOLATION_TYPES,
    World,
)

ABNORMAL_REASONS = tuple(contract.CODE_LISTS["abnormal_reason"].labels)
SERIOUS_REASONS = tuple(contract.CODE_LISTS["serious_reason"].labels)
ROLES = tuple(contract.CODE_LISTS["judicial_role"].labels)


def _dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    days = np.asarray(days, dtype=np.int64)
    if valid is None:
        valid = np.ones(len(days), dtype=bool)
    return pa.array(np.where(valid, days, 0).astype("datetime64[D]"), type=pa.date32(), mask=~valid)


def _text(values) -> pa.Array:
    return pa.array(np.asarray(values, dtype=object), type=pa.string())


def _codes(names: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return _text(np.array(names, dtype=object)[np.asarray(idx, dtype=np.int64)])


def _table(name: str, cols: dict[str, pa.Array]) -> pa.Table:
    order = [c.name for c in contract.TABLES[name].columns if c.name in cols]
    missing = [c.name for c in contract.TABLES[name].required if c.name not in cols]
    assert not missing, (name, missing)
    return pa.table({c: cols[c] for c in order})


def _keep(
    reg: Register, world: World, tl: Timeline, ent: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """Event rows dated after establishment, before exit and not after the snapshot."""
    return (day <= tl.end_day) & (day > reg.est_day[ent]) & (day < world.exit_day[ent])


def _sort(ent: np.ndarray, day: np.ndarray) -> np.ndarray:
    return np.lexsort((ent, day))


def build_tables(
    reg: Register, world: World, tl: Timeline, seed: int
) -> tuple[dict[str, pa.Table], dict]:
    """Build all 13 contract tables; also return what the truth tables need."""
    ev = world.events
    U = reg.uscc
    out: dict[str, pa.Table] = {}
    end = tl.end_day

    # ------------------------------------------------------------------ enterprises
    exited = world.exit_day < NEVER
    status = np.where(exited, world.exit_status, "active").astype(object)
    out["enterprises"] = _table(
        "enterprises",
        {
            "uscc": _text(U),
            "name": _text(reg.name),
            "entity_type": _codes(TYPE_CODES, reg.type_idx),
            "industry_code": _codes(INDUSTRY_CODES, reg.industry_idx),
            "region_code": _text(
                np.array([c[0] for c in reg.place.counties], dtype=object)[reg.county_idx]
            ),
            "established_on": _dates(reg.est_day),
            "status": _text(status),
            "registered_capital": pa.array(reg.capital, mask=np.isnan(reg.capital)),
            "status_changed_on": _dates(world.exit_day, exited),
            "legal_rep_key": _text(reg.person_key),
            "address": _text(reg.address),
        },
    )

    # ------------------------------------------------------------------ annual reports
    ar = ev["annual_reports"]
    e, year, filed = ar["ent"], ar["year"], ar["filed"]
    deadline = np.array([day_of(f"{y + 1}-06-30") for y in range(2000, 2100)])[year - 2000]
    x_day = world.exit_day[e]
    is_filed = (filed <= end) & (filed < x_day)
    keep = is_filed | ((deadline <= end) & (x_day > deadline))
    o = np.flatnonzero(keep)[np.lexsort((e[keep], year[keep]))]
    out["annual_reports"] = _table(
        "annual_reports",
        {
            "uscc": _text(U[e[o]]),
            "report_year": pa.array(year[o], type=pa.int32()),
            "filed_on": _dates(filed[o], is_filed[o]),
        },
    )

    # ------------------------------------------------------------------ penalties
    p = ev["penalties"]
    keep = _keep(reg, world, tl, p["ent"], p["day"])
    o = np.flatnonzero(keep)[_sort(p["ent"][keep], p["day"][keep])]
    pe, pday, psev = p["ent"][o], p["day"][o], p["severity"][o]
    counties = reg.place.counties
    city_short = reg.place.name[0]  # the city bureau's case numbers: 平 (通化 beside 通化县's 通)
    if city_short in {c[3] for c in counties}:
        city_short = reg.place.name[:2]
    county_short = np.array([c[3] for c in counties] + [city_short], dtype=object)
    bureau = np.array(
        [reg.place.county_bureau(c[1]) for c in counties] + [reg.place.city_bureau],
        dtype=object,
    )
    auth = np.where(p["city"][o], len(counties), reg.county_idx[pe])
    pyear = pday.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    seq = (
        pd.DataFrame({"a": auth, "y": pyear}).groupby(["a", "y"], sort=False).cumcount().to_numpy()
        + 1
    )
    case_id = (
        county_short[auth]
        + "市监罚〔"
        + pyear.astype(str).astype(object)
        + "〕"
        + np.char.zfill(seq.astype(str), 4).astype(object)
        + "号"
    )
    rep = p["repaired"][o]
    out["penalties"] = _table(
        "penalties",
        {
            "uscc": _text(U[pe]),
            "case_id": _text(case_id),
            "decided_on": _dates(pday),
            "severity": _codes(SEVERITIES, psev),
            "authority": _text(bureau[auth]),
            "violation_type": _codes(VIOLATION_TYPES, p["vtype"][o]),
            "fine_amount": pa.array(p["fine"][o]),
            "repaired_on": _dates(rep, rep <= end),
        },
    )
    pen_episode = pd.Series(case_id, index=p["episode"][o]).groupby(level=0).first()

    # ------------------------------------------------------------ abnormal / serious lists
    for name, key, reasons in (
        ("abnormal_list", "abnormal", ABNORMAL_REASONS),
        ("serious_violations", "serious", SERIOUS_REASONS),
    ):
        a = ev.get(key)
        if a is None:
            a = {
                "ent": np.zeros(0, np.int64),
                "day": np.zeros(0, np.int64),
                "reason": np.zeros(0, np.int64),
                "removed": np.zeros(0, np.int64),
            }
        keep = _keep(reg, world, tl, a["ent"], a["day"])
        o = np.flatnonzero(keep)[_sort(a["ent"][keep], a["day"][keep])]
        rem = a["removed"][o]
        rem_ok = (rem <= end) & (rem < world.exit_day[a["ent"][o]])
        out[name] = _table(
            name,
            {
                "uscc": _text(U[a["ent"][o]]),
                "listed_on": _dates(a["day"][o]),
                "reason": _codes(reasons, a["reason"][o]),
                "removed_on": _dates(rem, rem_ok),
            },
        )

    # ------------------------------------------------------------------ inspections
    i = ev["inspections"]
    res = i["result"]
    dereg = res == RESULTS.index("deregistered")
    keep = (i["day"] <= end) & (dereg | _keep(reg, world, tl, i["ent"], i["day"]))
    o = np.flatnonzero(keep)[_sort(i["ent"][keep], i["day"][keep])]
    rng = child_rng(seed, "inspection_repairs")
    r = res[o]
    fp = np.array([contract.RESULT_FOUND_PROBLEM[x] for x in RESULTS], dtype=object)[r]
    rep_day = i["day"][o] + 90 + rng.exponential(90, len(o)).astype(np.int64)
    rep_ok = (r == RESULTS.index("corrected")) & (rng.random(len(o)) < 0.3) & (rep_day <= end)
    out["inspections"] = _table(
        "inspections",
        {
            "uscc": _text(U[i["ent"][o]]),
            "inspected_on": _dates(i["day"][o]),
            "result": _codes(RESULTS, r),
            "plan_id": pa.array(np.where(i["plan"][o] == "", None, i["plan"][o]), type=pa.string()),
            "task_id": _text(i["task"][o]),
            "item": _codes(ITEMS, i["item"][o]),
            "method": _codes(vocab.METHODS, i["method"][o]),
            "found_problem": pa.array(fp, type=pa.bool_()),
            "repaired_on": _dates(rep_day, rep_ok),
        },
    )

    # ------------------------------------------------------------------ complaints
    c = ev["complaints"]
    keep = _keep(reg, world, tl, c["ent"], c["day"])
    o = np.flatnonzero(keep)[_sort(c["ent"][keep], c["day"][keep])]
    out["complaints"] = _table(
        "complaints",
        {
            "uscc": _text(U[c["ent"][o]]),
            "received_on": _dates(c["day"][o]),
            "category": _codes(CATEGORIES, c["category"][o]),
            "substantiated": pa.array(c["substantiated"][o]),
        },
    )

    # ------------------------------------------------------------------ licences
    lic = static.licences(reg, world, tl, seed)
    out["licenses"] = _table(
        "licenses",
        {
            "uscc": _text(U[lic["ent"]]),
            "license_type": _codes(static.LICENCE_TYPES, lic["type"]),
            "granted_on": _dates(lic["granted"]),
            "expires_on": _dates(lic["expires"], lic["expires"] < NEVER),
            "revoked_on": _dates(lic["revoked"], lic["revoked"] <= end),
        },
    )

    # ------------------------------------------------------------------ changes, judicial
    ch = ev["changes"]
    keep = _keep(reg, world, tl, ch["ent"], ch["day"])
    o = np.flatnonzero(keep)[_sort(ch["ent"][keep], ch["day"][keep])]
    out["changes"] = _table(
        "changes",
        {
            "uscc": _text(U[ch["ent"][o]]),
            "changed_on": _dates(ch["day"][o]),
            "item": _codes(CHANGE_ITEMS, ch["item"][o]),
        },
    )
    j = ev["judicial"]
    keep = _keep(reg, world, tl, j["ent"], j["day"])
    o = np.flatnonzero(keep)[np.lexsort((j["role"][keep], j["ent"][keep], j["day"][keep]))]
    out["judicial"] = _table(
        "judicial",
        {
            "uscc": _text(U[j["ent"][o]]),
            "filed_on": _dates(j["day"][o]),
            "role": _codes(ROLES, j["role"][o]),
            "amount": pa.array(j["amount"][o]),
        },
    )

    # ------------------------------------------------------------ relations, inspectors, conflicts
    rel = static.relations(reg, seed)
    out["relations"] = _table(
        "relations", {k: _text(rel[k]) for k in ("uscc", "related_uscc", "relation")}
    )
    insp = static.inspectors(reg, seed)
    out["inspectors"] = _table(
        "inspectors",
        {
            k: (pa.array(insp[k].to_numpy(dtype=bool)) if k == "active" else _text(insp[k]))
            for k in insp.columns
        },
    )
    conf = static.conflicts(reg, world, insp, seed)
    out["conflicts"] = _table(
        "conflicts", {k: _text(conf[k]) for k in ("inspector_id", "uscc", "reason")}
    )

    out = {name: out[name] for name in contract.TABLES}
    return out, {"pen_episode": pen_episode}


# ---------------------------------------------------------------------------------- truth


def truth_tables(reg: Register, world: World, tl: Timeline, extra: dict) -> dict[str, pa.Table]:
    """The hidden truth: latent variables, monthly probabilities and every true violation."""
    dormant = world.dormant_month < tl.n
    dm_day = tl.month_start[np.minimum(world.dormant_month, tl.n - 1)]
    entities = pa.table(
        {
            "uscc": _text(reg.uscc),
            "entity_type": _codes(TYPE_CODES, reg.type_idx),
            "industry_code": _codes(INDUSTRY_CODES, reg.industry_idx),
            "domain": _codes(DOMAINS, reg.domain_idx),
            "base_logit": pa.array(reg.base_logit.astype(np.float32)),
            "frailty": pa.array(reg.frailty.astype(np.float32)),
            "bad_actor": pa.array(reg.bad_actor),
            "cluster_id": pa.array(reg.person.astype(np.int64)),
            "cluster_size": pa.array(reg.cluster_size.astype(np.int32)),
            "cluster_effect": pa.array(reg.cluster_effect[reg.person].astype(np.float32)),
            "static_logit": pa.array(
                (reg.base_logit + reg.frailty + reg.cluster_effect[reg.person]).astype(np.float32)
            ),
            "dormant_since": _dates(dm_day, dormant),
            "exited_on": _dates(world.exit_day, world.exit_day < NEVER),
        }
    )
    # monthly risk, long: month-major, enterprise order inside a month
    alive = ~np.isnan(world.risk)
    t_idx, e_idx = np.nonzero(alive.T)
    month_days = tl.month_last[tl.window_first :]
    uscc_arr = pa.array(reg.uscc, type=pa.string())
    monthly = pa.table(
        {
            "uscc": uscc_arr.take(pa.array(e_idx)),
            "month": _dates(month_days[t_idx]),
            "p_violation": pa.array(world.risk.T[alive.T].astype(np.float32)),
            "non_compliant": pa.array(world.noncompliant.T[alive.T]),
        }
    )
    v = world.events["viol"]
    det = world.events.get("detections")
    n_ep = int(v["episode"].max()) + 1 if len(v["episode"]) else 0
    det_day = np.full(n_ep, NEVER, dtype=np.int64)
    det_ch = np.full(n_ep, -1, dtype=np.int64)
    if det is not None and len(det["episode"]):
        order = np.lexsort((det["day"], det["episode"]))
        ep_sorted = det["episode"][order]
        first = np.r_[True, ep_sorted[1:] != ep_sorted[:-1]]
        det_day[ep_sorted[first]] = det["day"][order][first]
        det_ch[ep_sorted[first]] = det["channel"][order][first]
    ep = v["episode"]
    d_day = det_day[ep]
    detected = (d_day <= tl.end_day) & (d_day >= v["day"])
    case = extra["pen_episode"].reindex(ep).to_numpy(dtype=object)
    case = np.where(pd.isna(case), None, case)
    o = np.lexsort((v["ent"], v["month"]))
    violations = pa.table(
        {
            "violation_id": pa.array(np.arange(len(o), dtype=np.int64)),
            "uscc": _text(reg.uscc[v["ent"][o]]),
            "month": _dates(tl.month_last[v["month"][o]]),
            "occurred_on": _dates(np.minimum(v["day"][o], tl.end_day)),
            "severity": _codes(SEVERITIES, v["severity"][o]),
            "kind": _codes(DOMAINS, reg.domain_idx[v["ent"][o]]),
            "episode_id": pa.array(ep[o].astype(np.int64)),
            "detected": pa.array(detected[o]),
            "detected_on": _dates(d_day[o], detected[o]),
            "detected_by": pa.array(
                np.array(CHANNELS + (None,), dtype=object)[np.where(detected[o], det_ch[ep[o]], 4)],
                type=pa.string(),
            ),
            "case_id": pa.array(np.where(detected[o], case[o], None), type=pa.string()),
        }
    )
    return {"entities": entities, "monthly_risk": monthly, "violations": violations}
