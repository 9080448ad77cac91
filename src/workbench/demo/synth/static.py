"""Tables that follow from the register and the life of the city rather than the monthly loop.

Licences (行政许可), relations (关联关系), the inspector register (执法检查人员名录库) and
declared conflicts of interest (回避关系).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench import contract
from workbench.contract import uscc

from . import vocab
from .register import DOMAINS, OUTSIDE_REGIONS, Register, _distinct
from .timeline import NEVER, Timeline, child_rng, day_of
from .world import World

VALIDITY_DAYS = 5 * 365  # food, drug, device and production licences run five years
REGIME_START = {
    "food_business": day_of("2015-10-01"),
    "medical_device_business": day_of("2014-06-01"),
}
LICENCE_TYPES = tuple(contract.CODE_LISTS["license_type"].labels)


def licences(reg: Register, world: World, tl: Timeline, seed: int) -> dict[str, np.ndarray]:
    """Licences with renewals every five years; revoked after grave food/drug penalties."""
    rng = child_rng(seed, "licences")
    latent = reg.frailty + reg.cluster_effect[reg.person]
    ents, types = [], []
    for ii, ind in enumerate(vocab.INDUSTRIES):
        members = np.flatnonzero(reg.industry_idx == ii)
        for ltype, share in ind.licences:
            # risky operators more often trade without the licence they need
            has = rng.random(len(members)) < share * np.where(latent[members] > 1.5, 0.7, 1.0)
            ents.append(members[has])
            types.append(np.full(int(has.sum()), LICENCE_TYPES.index(ltype)))
    ent = np.concatenate(ents)
    ltype = np.concatenate(types)
    order = np.lexsort((ltype, ent))
    ent, ltype = ent[order], ltype[order]
    regime = np.array([REGIME_START.get(t, 0) for t in LICENCE_TYPES])[ltype]
    first = reg.est_day[ent] + rng.integers(5, 90, len(ent))
    first = np.where(first < regime, regime + rng.integers(0, 240, len(ent)), first)
    expires = np.array([t != "special_equipment_use" for t in LICENCE_TYPES])[ltype]
    exit_day = world.exit_day[ent]
    dormant_day = np.where(
        world.dormant_month[ent] < tl.n,
        tl.month_start[np.minimum(world.dormant_month[ent], tl.n - 1)],
        NEVER,
    )
    # revocation after a grave penalty in the licence's domain
    pen = world.events.get("penalties", {})
    revoke_day = np.full(len(ent), NEVER, dtype=np.int64)
    if pen:
        grave = pen["severity"] == 2
        dom = reg.domain_idx[pen["ent"][grave]]
        licensed_dom = np.isin(
            dom, [DOMAINS.index(d) for d in ("food", "food_production", "drug", "device")]
        )
        g_ent = pen["ent"][grave][licensed_dom]
        g_day = pen["day"][grave][licensed_dom]
        firstg = pd.DataFrame({"ent": g_ent, "day": g_day}).groupby("ent")["day"].min()
        hit = np.isin(ent, firstg.index.to_numpy()) & np.isin(
            LICENCE_TYPES_ARR[ltype],
            ["food_business", "food_production", "drug_retail", "medical_device_business"],
        )
        lucky = rng.random(len(ent)) < 0.5
        revoke_day[hit & lucky] = firstg.reindex(ent[hit & lucky]).to_numpy() + rng.integers(
            0, 30, int((hit & lucky).sum())
        )
    out = {k: [] for k in ("ent", "type", "granted", "expires", "revoked")}
    granted = first
    alive = np.ones(len(ent), dtype=bool)
    for _ in range(12):
        end_of = np.where(expires, granted + VALIDITY_DAYS - 1, NEVER)
        ok = alive & (granted <= tl.end_day) & (granted < exit_day) & (granted < revoke_day)
        rv = np.where(revoke_day <= end_of, revoke_day, NEVER)
        for k, v in (
            ("ent", ent),
            ("type", ltype),
            ("granted", granted),
            ("expires", end_of),
            ("revoked", rv),
        ):
            out[k].append(v[ok])
        # renewal shortly before expiry when still trading (not dormant, not revoked, not exited)
        renew_day = end_of - rng.integers(0, 30, len(ent))
        alive = (
            ok
            & expires
            & (renew_day < exit_day)
            & (renew_day < dormant_day)
            & (rv == NEVER)
            & (rng.random(len(ent)) < 0.93)
        )
        granted = renew_day
        if not alive.any():
            break
    res = {k: np.concatenate(v) for k, v in out.items()}
    order = np.lexsort((res["granted"], res["ent"]))
    return {k: v[order] for k, v in res.items()}


LICENCE_TYPES_ARR = np.array(LICENCE_TYPES, dtype=object)


def relations(reg: Register, seed: int) -> pd.DataFrame:
    """Same legal representative (both directions), branches, shareholders and investments."""
    rng = child_rng(seed, "relations")
    parts = []
    # same_legal_rep: every ordered pair inside a cluster of the same person key
    multi = np.flatnonzero(reg.cluster_size > 1)
    order = multi[np.lexsort((multi, reg.person[multi]))]
    persons = reg.person[order]
    starts = np.r_[0, np.flatnonzero(np.diff(persons)) + 1]
    sizes = np.diff(np.r_[starts, len(order)])
    group_start = np.repeat(starts, sizes)
    group_size = np.repeat(sizes, sizes)
    pos = np.arange(len(order)) - group_start
    for d in range(1, int(sizes.max()) if len(sizes) else 1):
        m = (
            d < group_size
        )  # (pos, pos + d mod size) over d = 1..size-1 covers every ordered pair once
        left = order[m]
        right = order[group_start[m] + (pos[m] + d) % group_size[m]]
        parts.append(pd.DataFrame({"a": left, "b": reg.uscc[right], "rel": "same_legal_rep"}))
    # branch: the parent names its branch
    br = np.flatnonzero(reg.parent >= 0)
    parts.append(pd.DataFrame({"a": reg.parent[br], "b": reg.uscc[br], "rel": "branch"}))
    # shareholders: a tenth of companies have a corporate shareholder, in the register or elsewhere
    comp = np.flatnonzero(
        np.isin(reg.type_idx, [1, 4, 5])
    )  # company, partnership, foreign_invested
    owned = comp[rng.random(len(comp)) < 0.10]
    investors = np.flatnonzero(np.isin(reg.type_idx, [1, 4]))
    inside = rng.random(len(owned)) < 0.6
    holder = investors[rng.integers(0, len(investors), len(owned))] if len(investors) else owned
    inside &= holder != owned
    n_out = int((~inside).sum())
    out_codes = uscc.make_codes(
        np.full(n_out, "1"),
        np.array(OUTSIDE_REGIONS)[rng.integers(0, len(OUTSIDE_REGIONS), n_out)],
        _distinct(rng, 10**8, n_out),
    )
    parts.append(
        pd.DataFrame({"a": owned[inside], "b": reg.uscc[holder[inside]], "rel": "shareholder"})
    )
    parts.append(
        pd.DataFrame({"a": holder[inside], "b": reg.uscc[owned[inside]], "rel": "investment"})
    )
    parts.append(pd.DataFrame({"a": owned[~inside], "b": out_codes, "rel": "shareholder"}))
    df = pd.concat(parts, ignore_index=True)
    df = df.sort_values(["a", "rel", "b"], kind="stable").drop_duplicates(["a", "b", "rel"])
    return pd.DataFrame(
        {
            "uscc": reg.uscc[df["a"].to_numpy()],
            "related_uscc": df["b"].to_numpy(dtype=object),
            "relation": df["rel"].to_numpy(dtype=object),
            "_ent": df["a"].to_numpy(),
        }
    )


def _person_names(rng: np.random.Generator, k: int) -> np.ndarray:
    sur = np.array(list(vocab.SURNAMES), dtype=object)
    giv = np.array(list(vocab.GIVEN_CHARS), dtype=object)
    one = sur[rng.integers(0, len(sur), k)] + giv[rng.integers(0, len(giv), k)]
    two = one + giv[rng.integers(0, len(giv), k)]
    return np.where(rng.random(k) < 0.7, two, one)


def inspectors(reg: Register, seed: int) -> pd.DataFrame:
    """About one inspector per 400 enterprises: city units and county bureaus."""
    rng = child_rng(seed, "inspectors")
    place = reg.place
    k = max(20, int(round(reg.n / 400)))
    n_city = max(len(vocab.CITY_DEPARTMENTS), int(round(0.3 * k)))
    rows = []
    dept_idx = rng.integers(0, len(vocab.CITY_DEPARTMENTS), n_city)
    for j in range(n_city):
        dname, domains = vocab.CITY_DEPARTMENTS[dept_idx[j]]
        items = [vocab.DISCLOSURE_ITEM] + [i for d in domains for i in vocab.DOMAIN_ITEMS[d]]
        rows.append((place.city_bureau + dname, place.code, items))
    shares = np.array([c[2] for c in place.counties])
    county = rng.choice(len(shares), k - n_city, p=shares / shares.sum())
    all_domain_items = [i for items in vocab.DOMAIN_ITEMS.values() for i in items]
    units = ("综合执法大队", "城关市场监管所", "第一市场监管所", "第二市场监管所", "食品药品监管股")
    for c in county:
        code, cname = place.counties[c][0], place.counties[c][1]
        bureau = place.county_bureau(cname)
        unit = units[int(rng.integers(0, len(units)))]
        extra = list(rng.choice(len(all_domain_items), int(rng.integers(2, 5)), replace=False))
        items = [vocab.DISCLOSURE_ITEM, vocab.DISCLOSURE_ITEM_INDIVIDUAL] + [
            all_domain_items[i] for i in sorted(extra)
        ]
        rows.append((bureau + unit, code, list(dict.fromkeys(items))))
    dept = np.array([r[0] for r in rows], dtype=object)
    region = np.array([r[1] for r in rows], dtype=object)
    order = np.lexsort((dept, region))
    seq = np.arange(1, k + 1)
    df = pd.DataFrame(
        {
            "inspector_id": [f"ZF{region[o]}{s:04d}" for o, s in zip(order, seq, strict=True)],
            "name": _person_names(rng, k),
            "department": dept[order],
            "region_code": region[order],
            "active": rng.random(k) < 0.92,
            "items": [";".join(rows[o][2]) for o in order],
            "cert_no": [
                f"{place.province_short}{region[o]}{int(x):06d}"
                for o, x in zip(order, rng.integers(0, 10**6, k), strict=True)
            ],
        }
    )
    return df


def conflicts(reg: Register, world: World, insp: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Declared conflicts: a few enterprises per inspector, mostly in the inspector's county."""
    rng = child_rng(seed, "conflicts")
    active = world.exit_day >= NEVER
    county_codes = np.array([c[0] for c in reg.place.counties])
    reg_code = county_codes[reg.county_idx]
    rows_i, rows_e = [], []
    counts = rng.poisson(2.5, len(insp))
    pools = {rc: np.flatnonzero(active & (reg_code == rc)) for rc in county_codes}
    pools[reg.place.code] = np.flatnonzero(active)
    for j, (rc, cnt) in enumerate(zip(insp["region_code"], counts, strict=True)):
        if not cnt:
            continue
        pool = pools[rc]
        if not len(pool):
            continue
        pick = pool[rng.integers(0, len(pool), cnt)]
        rows_i += [j] * cnt
        rows_e += list(pick)
    reasons = np.array(vocab.CONFLICT_REASONS, dtype=object)
    reason = reasons[
        np.searchsorted(np.cumsum([0.4, 0.3, 0.1, 0.2]), rng.random(len(rows_i)), side="right")
    ]
    df = pd.DataFrame(
        {
            "inspector_id": insp["inspector_id"].to_numpy()[rows_i],
            "uscc": reg.uscc[rows_e],
            "reason": reason,
            "_ent": rows_e,
        }
    )
    return df.drop_duplicates(["inspector_id", "uscc"]).reset_index(drop=True)
