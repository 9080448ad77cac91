"""The register (名录库): who the enterprises are, before anything happens to them.

Draws entity types, industries, counties, establishment dates, capital, legal
representatives (shared ones form clusters), names, addresses and codes, plus the
static part of the hidden risk (base logit, frailty, cluster effect).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench import contract
from workbench.contract import uscc

from . import vocab
from .profile import PLACES, RISKS, CityProfile, Place, RiskStructure
from .timeline import SIM_START, Timeline, child_rng

TYPE_CODES = tuple(t[0] for t in vocab.ENTITY_TYPES)
IND = {t: i for i, t in enumerate(TYPE_CODES)}
INDUSTRY_CODES = tuple(ind.code for ind in vocab.INDUSTRIES)
DOMAINS = tuple(vocab.DOMAIN_ITEMS)
OUTSIDE_REGIONS = ("410100", "410300", "410500", "411100", "411300", "110108", "310115", "440305")

#: Intercept and coefficients of the static risk (see _truth/README.md).
ALPHA = -6.15
BETA_CAPITAL = -0.12  # per unit of standardised log capital within the type
SIGMA_FRAILTY = 0.75
BAD_ACTOR_SHARE = 0.07
BAD_ACTOR_SHIFT = 2.5
SIGMA_CLUSTER = 0.45
CLUSTER_SIZE_SHIFT = 0.30  # per log(cluster size)


@dataclass
class Register:
    """Column arrays of the register plus the static hidden risk."""

    n: int
    uscc: np.ndarray  # object array of codes
    type_idx: np.ndarray
    industry_idx: np.ndarray
    county_idx: np.ndarray
    est_day: np.ndarray
    capital: np.ndarray  # 万元, NaN for branches
    person: np.ndarray  # legal representative (person index)
    person_key: np.ndarray  # object array of keys
    cluster_size: np.ndarray  # enterprises sharing the legal representative
    name: np.ndarray
    address: np.ndarray
    pre_exit_day: np.ndarray  # exit before the simulation (-1 = none)
    pre_exit_status: np.ndarray  # object: revoked / cancelled / ''
    parent: np.ndarray  # branch → parent index in the register (-1 none / outside)
    parent_outside: np.ndarray  # object: outside parent code or ''
    # hidden risk
    base_logit: np.ndarray
    frailty: np.ndarray
    bad_actor: np.ndarray
    cluster_effect: np.ndarray  # per person
    place: Place = PLACES["pingdingshan"]
    risk: RiskStructure = RISKS["default"]
    serials: np.ndarray | None = None  # the codes' serial numbers (shards avoid them)
    person_digits: np.ndarray | None = None  # digits of the legal-representative keys

    @property
    def section(self) -> np.ndarray:
        """Industry section letter of every entity."""
        letters = np.array([c[0] for c in INDUSTRY_CODES])
        return letters[self.industry_idx]

    @property
    def domain_idx(self) -> np.ndarray:
        """Supervision domain of every entity (index into DOMAINS)."""
        dom = np.array([DOMAINS.index(i.domain) for i in vocab.INDUSTRIES])
        return dom[self.industry_idx]


def _establishment_days(rng: np.random.Generator, n: int, end_day: int) -> np.ndarray:
    """Entry dates 1992→end: growth of ~9 %/year, a step up after the 2014 reform."""
    months = np.arange(
        np.datetime64("1992-01"), np.datetime64(end_day, "D").astype("datetime64[M]") + 1
    )
    yrs = (months - months[-1]).astype(np.float64) / 12.0
    weight = np.exp(0.09 * yrs) * np.where(months >= np.datetime64("2014-03"), 1.5, 1.0)
    # the pandemic dip (2020-02..2020-04) and the Spring Festival lull each February
    weight *= np.where(
        (months >= np.datetime64("2020-02")) & (months <= np.datetime64("2020-04")), 0.5, 1.0
    )
    weight *= np.where(months.astype(np.int64) % 12 == 1, 0.7, 1.0)
    cdf = np.cumsum(weight) / weight.sum()
    idx = np.searchsorted(cdf, rng.random(n), side="right")
    start = months[idx].astype("datetime64[D]").astype(np.int64)
    last = (months[idx] + 1).astype("datetime64[D]").astype(np.int64) - 1
    last = np.minimum(last, end_day)
    return start + (rng.random(n) * (last - start + 1)).astype(np.int64)


def _weighted_sample(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """K distinct indices drawn with probability proportional to weights (Efraimidis–Spirakis)."""
    keys = rng.exponential(size=len(weights)) / np.maximum(weights, 1e-12)
    return np.argsort(keys, kind="stable")[:k]


def _distinct(rng: np.random.Generator, high: int, k: int) -> np.ndarray:
    """K distinct integers below ``high`` in random order (high >> k)."""
    vals = np.unique(rng.integers(0, high, int(k * 1.05) + 100))
    while len(vals) < k:  # pragma: no cover - only when high is close to k
        vals = np.unique(np.concatenate([vals, rng.integers(0, high, k)]))
    return rng.permutation(vals)[:k]


def _redraw(
    rng: np.random.Generator, values: np.ndarray, taken: np.ndarray, low: int, high: int
) -> np.ndarray:
    """``values`` with those in ``taken`` (or repeated) replaced by fresh distinct draws."""
    values = values.copy()
    while True:
        bad = np.flatnonzero(np.isin(values, taken) | _repeated(values))
        if not len(bad):
            return values
        values[bad] = rng.integers(low, high, len(bad))


def _repeated(values: np.ndarray) -> np.ndarray:
    """True for every occurrence of a value after its first."""
    first = np.zeros(len(values), dtype=bool)
    first[np.unique(values, return_index=True)[1]] = True
    return ~first


def _pick(rng: np.random.Generator, options: np.ndarray, n: int) -> np.ndarray:
    return options[rng.integers(0, len(options), n)]


def _legal_reps(rng: np.random.Generator, type_idx: np.ndarray) -> np.ndarray:
    """Person index per entity: 85 % single, the rest in clusters of 2–12 (network risk)."""
    n = len(type_idx)
    weight_by_type = np.array([0.5, 2.0, 0.3, 2.0, 3.0, 1.0, 1.0])
    n_multi = int(round(0.15 * n))
    sizes = np.minimum(2 + rng.geometric(0.45, size=max(n_multi, 1)) - 1, 12)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n_multi, side="right") + 1]
    total = int(min(sizes.sum(), n))
    members = _weighted_sample(rng, weight_by_type[type_idx], total)
    cluster_of_member = np.repeat(np.arange(len(sizes)), sizes)[:total]
    person = np.full(n, -1, dtype=np.int64)
    person[members] = cluster_of_member
    singles = np.flatnonzero(person < 0)
    person[singles] = len(sizes) + np.arange(len(singles))
    # persons numbered in a random order so keys carry no information
    perm = rng.permutation(int(person.max()) + 1)
    return perm[person]


def _names(rng, reg_type, ind_idx, county_idx, parent, parent_outside_name, place) -> np.ndarray:
    n = len(reg_type)
    chars = np.array(list(vocab.TRADE_CHARS))
    counties = place.counties
    county_names = np.array([c[1] for c in counties], dtype=object)
    company_word = np.array([i.company_word for i in vocab.INDUSTRIES], dtype=object)
    trade = _pick(rng, chars, n).astype(object) + _pick(rng, chars, n).astype(object)
    # individual businesses: 平顶山市湛河区鑫源烩面馆 / 宝丰县鑫源超市
    shop_lists = [i.shop_words or ("经营部",) for i in vocab.INDUSTRIES]
    shop_pick = (rng.random(n) * np.array([len(s) for s in shop_lists])[ind_idx]).astype(np.int64)
    flat = np.array([w for s in shop_lists for w in s], dtype=object)
    offs = np.concatenate([[0], np.cumsum([len(s) for s in shop_lists])[:-1]])
    shop = flat[offs[ind_idx] + shop_pick]
    county = county_names[county_idx]
    is_district = np.array([c[1].endswith("区") for c in counties])[county_idx]
    city, city_word = place.name, place.city_word
    province_word = place.province_word
    place = np.where(is_district, city + county, county)
    t = reg_type
    prefix = np.empty(n, dtype=object)
    suffix = np.empty(n, dtype=object)
    word = company_word[ind_idx]
    lead = np.where(rng.random(n) < 0.25, province_word, city_word).astype(object)
    kind = np.where(
        np.isin(ind_idx, [INDUSTRY_CODES.index(c) for c in ("A0313", "A0311")]), "养殖", "种植"
    )
    rules = (
        ("individual_business", place, shop),  # 平顶山市湛河区鑫源烩面馆 / 宝丰县鑫源超市
        ("company", lead, word + "有限公司"),
        ("branch", lead, word + "有限公司"),  # replaced below by the parent's name
        ("foreign_invested", np.full(n, city_word, dtype=object), word + "有限公司"),
        ("sole_proprietorship", place, word + "经营部"),
        ("partnership", np.full(n, city_word, dtype=object), word + "合伙企业（有限合伙）"),
        ("cooperative", place, kind.astype(object) + "专业合作社"),
    )
    for code, pre, post in rules:
        m = t == IND[code]
        prefix[m] = pre[m]
        suffix[m] = post[m]
    name = prefix + trade + suffix
    # duplicates get a third character, then a number
    dup = pd.Series(name).duplicated(keep="first").to_numpy()
    trade = np.where(dup, trade + _pick(rng, chars, n).astype(object), trade)
    name = prefix + trade + suffix
    s = pd.Series(name)
    k = s.groupby(s, sort=False).cumcount().to_numpy()
    again = k > 0
    name[again] = name[again] + "（" + (k[again] + 1).astype(str).astype(object) + "）"
    # branches: parent's name + place + 分公司
    m = np.flatnonzero(t == IND["branch"])
    short = np.array([c[1].rstrip("区县市") for c in counties], dtype=object)[county_idx]
    pname = np.where(parent[m] >= 0, name[np.maximum(parent[m], 0)], parent_outside_name[m])
    name[m] = pname + short[m] + "分公司"
    s = pd.Series(name)
    k = s.groupby(s, sort=False).cumcount().to_numpy()
    again = k > 0
    stem = pd.Series(name[again], dtype=object).str.slice(0, -3).to_numpy(dtype=object)
    name[again] = stem + "第" + (k[again] + 1).astype(str).astype(object) + "分公司"
    return name


def _addresses(rng, county_idx, place: Place) -> np.ndarray:
    n = len(county_idx)
    out = np.empty(n, dtype=object)
    number = rng.integers(1, 400, n).astype(str).astype(object)
    tail = _pick(rng, np.array(vocab.ADDRESS_TAILS, dtype=object), n)
    for ci, (_, cname, _, _, roads) in enumerate(place.counties):
        m = county_idx == ci
        road = _pick(rng, np.array(roads, dtype=object), int(m.sum()))
        out[m] = f"{place.province}{place.name}{cname}" + road + number[m] + tail[m]
    return out


def build_register(
    n: int,
    seed: int,
    timeline: Timeline,
    profile: CityProfile | None = None,
    avoid: tuple[np.ndarray, np.ndarray] | None = None,
) -> Register:
    """Draw the register of ``n`` entities and their static hidden risk.

    ``profile`` changes the place, the industry mix and the risk structure (default: the
    demo city, draw for draw). ``avoid`` (serial numbers, legal-representative key
    digits) are already taken by earlier shards of the same city: codes and keys that
    collide with them are drawn again from a stream of their own, so that a city written
    in shards keeps every USCC and every person distinct (none given: draw for draw as
    before).
    """
    profile = profile or CityProfile()
    place, risk = profile.where, profile.risk_structure
    rng = child_rng(seed, "register")
    shares = np.array([t[1] for t in vocab.ENTITY_TYPES])
    type_idx = rng.choice(len(shares), n, p=shares / shares.sum())
    group = np.array([vocab.TYPE_GROUP[t] for t in TYPE_CODES])[type_idx]
    w = np.array([i.weights for i in vocab.INDUSTRIES])  # (industries, 3)
    if profile.industry_mix != "default":
        w = w * profile.section_factors()[:, None]
    ind_idx = np.empty(n, dtype=np.int64)
    for g in range(3):
        m = group == g
        p = w[:, g] / w[:, g].sum()
        ind_idx[m] = rng.choice(len(p), int(m.sum()), p=p)
    cshare = np.array([c[2] for c in place.counties])
    county_idx = rng.choice(len(cshare), n, p=cshare / cshare.sum())
    est_day = _establishment_days(rng, n, timeline.end_day)

    # branches belong to a company (70 % in this register) and share its industry
    parent = np.full(n, -1, dtype=np.int64)
    companies = np.flatnonzero(type_idx == IND["company"])
    branches = np.flatnonzero(type_idx == IND["branch"])
    inside = rng.random(len(branches)) < 0.7
    if len(companies):
        cand = companies[rng.integers(0, len(companies), len(branches))]
        ok = inside & (est_day[cand] < est_day[branches])
        parent[branches[ok]] = cand[ok]
        ind_idx[branches[ok]] = ind_idx[cand[ok]]
    chars = np.array(list(vocab.TRADE_CHARS))
    outside_name = np.full(n, "", dtype=object)
    ob = branches[parent[branches] < 0]
    outside_name[ob] = (
        place.province_word
        + _pick(rng, chars, len(ob)).astype(object)
        + _pick(rng, chars, len(ob)).astype(object)
        + np.array([i.company_word for i in vocab.INDUSTRIES], dtype=object)[ind_idx[ob]]
        + "有限公司"
    )

    # registered capital (万元), log-normal by type
    capital = np.full(n, np.nan)
    z = rng.standard_normal(n)
    for t, (median, sigma) in vocab.CAPITAL.items():
        m = type_idx == IND[t]
        if median > 0:
            capital[m] = np.round(median * np.exp(sigma * z[m]), 2)
    capital = np.maximum(capital, 0.1)
    capital[type_idx == IND["branch"]] = np.nan
    z_cap = np.where(np.isnan(capital), 0.0, z)

    person = _legal_reps(rng, type_idx)
    n_person = int(person.max()) + 1
    cluster_size = np.bincount(person, minlength=n_person)[person]
    key_digits = _distinct(rng, 9 * 10**8, n_person) + 10**8
    if avoid is not None:
        key_digits = _redraw(child_rng(seed, "register:keys"), key_digits, avoid[1], 10**8, 10**9)
    person_key = np.char.add("P", key_digits.astype(str)).astype(object)[person]

    # codes: region = county, category by type, distinct serials
    serial_vals = _distinct(rng, 10**8, n)
    if avoid is not None:
        serial_vals = _redraw(child_rng(seed, "register:serials"), serial_vals, avoid[0], 0, 10**8)
    category = np.array([contract.USCC_CATEGORY[t] for t in TYPE_CODES])[type_idx]
    region = np.array([c[0] for c in place.counties])[county_idx]
    codes = uscc.make_codes(category, region, serial_vals)

    names = _names(rng, type_idx, ind_idx, county_idx, parent, outside_name, place)
    addresses = _addresses(rng, county_idx, place)

    # entities that left before 2014 (the register keeps them)
    sim_start = int(SIM_START.astype("datetime64[D]").astype(np.int64))
    monthly_exit = np.array([t[3] for t in vocab.ENTITY_TYPES])[type_idx]
    age = np.maximum(sim_start - est_day, 0) / 365.25
    gone = (est_day < sim_start) & (rng.random(n) < 1 - np.exp(-monthly_exit * 12 * 0.8 * age))
    pre_exit_day = np.full(n, -1, dtype=np.int64)
    pre_exit_day[gone] = (
        est_day[gone]
        + 30
        + (rng.random(int(gone.sum())) * np.maximum(sim_start - est_day[gone] - 31, 1)).astype(
            np.int64
        )
    )
    pre_exit_status = np.full(n, "", dtype=object)
    pre_exit_status[gone] = np.where(rng.random(int(gone.sum())) < 0.3, "revoked", "cancelled")

    # the static hidden risk
    type_shift = np.array([t[2] for t in vocab.ENTITY_TYPES])[type_idx]
    ind_risk = np.array([i.risk for i in vocab.INDUSTRIES])[ind_idx]
    attributes = type_shift + ind_risk
    if risk.attribute_scale != 1.0:  # scaled around the mean: the overall rate stays
        attributes = attributes.mean() + risk.attribute_scale * (attributes - attributes.mean())
    base_logit = ALPHA + risk.intercept_shift + attributes + risk.capital_beta * z_cap
    bad = rng.random(n) < risk.bad_actor_share
    frailty = risk.frailty_sigma * rng.standard_normal(n) + risk.bad_actor_shift * bad
    size_p = np.bincount(person, minlength=n_person)
    cluster_effect = np.where(
        size_p > 1,
        risk.cluster_sigma * rng.standard_normal(n_person)
        + CLUSTER_SIZE_SHIFT * np.log(np.maximum(size_p, 1)),
        0.0,
    )
    # a branch shares part of its parent's frailty
    pb = np.flatnonzero(parent >= 0)
    frailty[pb] = 0.6 * frailty[parent[pb]] + 0.8 * frailty[pb]

    return Register(
        n=n,
        uscc=codes,
        type_idx=type_idx,
        industry_idx=ind_idx,
        county_idx=county_idx,
        est_day=est_day,
        capital=capital,
        person=person,
        person_key=person_key,
        cluster_size=cluster_size,
        name=names,
        address=addresses,
        pre_exit_day=pre_exit_day,
        pre_exit_status=pre_exit_status,
        parent=parent,
        parent_outside=outside_name,
        base_logit=base_logit,
        frailty=frailty,
        bad_actor=bad,
        cluster_effect=cluster_effect,
        place=place,
        risk=risk,
        serials=serial_vals,
        person_digits=key_digits,
    )
