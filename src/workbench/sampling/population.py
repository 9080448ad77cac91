"""The sampling frame (抽查对象名录): who may be drawn, who is triggered, who is left out.

Starts from the month's grade file (one row per active enterprise) and applies, in order:

1. the plan's population filters (entity types, GB/T 4754 sections, GB/T 2260 regions,
   a professional domain: a licence of the pack's types held at the snapshot, or an
   industry code with one of the pack's prefixes);
2. exclusions (排除): an enterprise inspected for one of the plan's items within the
   last ``same_item_months`` months — from the ingested ``inspections`` table, and from
   earlier months' task lists, whose results may not have been reported yet;
3. triggers (触发) for trigger-only grades (无事不扰): within ``(snapshot − days,
   snapshot]`` a complaint (投诉举报), a data alert (数据预警) or a referral (转办移送).
   A data alert is a new event in the register's own sources: an abnormal-operation
   listing (经营异常名录), a serious-violation listing (严重违法失信名单), an
   administrative penalty (行政处罚), a 失信被执行人 court record, or a revoked licence.
   Referrals come from an optional CSV (``uscc``, ``referred_on``) named in the plan.

Only what is dated on or before the snapshot counts, so a later re-run sees the same frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.sampling.plan import Plan, Population, Triggers

#: Trigger kinds in the order they are written into ``trigger``: (label, table, date, filter)
TRIGGER_KINDS: tuple[tuple[str, str, str, str, dict], ...] = (
    ("complaints", "投诉举报", "complaints", "received_on", {}),
    ("data_alerts", "经营异常名录", "abnormal_list", "listed_on", {}),
    ("data_alerts", "严重违法失信名单", "serious_violations", "listed_on", {}),
    ("data_alerts", "行政处罚", "penalties", "decided_on", {}),
    ("data_alerts", "失信被执行人", "judicial", "filed_on", {"role": "dishonest_executed"}),
    ("data_alerts", "许可撤销", "licenses", "revoked_on", {}),
    ("referrals", "转办移送", "referrals", "referred_on", {}),
)


def population_mask(
    grades: pd.DataFrame,
    population: Population,
    snapshot: pd.Timestamp,
    register: pd.DataFrame | None = None,
    licenses: pd.DataFrame | None = None,
) -> np.ndarray:
    """Which rows of the grade file belong to the plan's population (抽查对象范围)."""
    keep = np.ones(len(grades), dtype=bool)
    etype = grades["entity_type"].astype("string").fillna("")
    if population.entity_types:
        keep &= etype.isin(population.entity_types).to_numpy()
    if population.exclude_entity_types:
        keep &= ~etype.isin(population.exclude_entity_types).to_numpy()
    if population.industry_sections:
        section = grades["industry_section"].astype("string").fillna("")
        keep &= section.isin(population.industry_sections).to_numpy()
    if population.regions:
        region = grades["region_code"].astype("string").fillna("")
        inside = np.zeros(len(grades), dtype=bool)
        for prefix in population.regions:
            inside |= region.str.startswith(prefix).to_numpy(dtype=bool)
        keep &= inside
    if population.domain:
        keep &= _in_domain(grades, population.domain, snapshot, register, licenses)
    return keep


def _in_domain(grades, domain_id, snapshot, register, licenses) -> np.ndarray:
    from workbench.indicators import load_catalog

    domain = load_catalog(packs=[domain_id]).packs[0].domain
    inside = np.zeros(len(grades), dtype=bool)
    if domain.industries and register is not None and len(register):
        codes = (
            grades[["uscc"]]
            .merge(
                register[["uscc", "industry_code"]].drop_duplicates("uscc"), on="uscc", how="left"
            )["industry_code"]
            .astype("string")
            .fillna("")
        )
        for prefix in domain.industries:
            inside |= codes.str.startswith(prefix).to_numpy(dtype=bool)
    if domain.licenses and licenses is not None and len(licenses):
        lic = licenses[licenses["license_type"].isin(domain.licenses)]
        held = lic["granted_on"] <= snapshot
        if "revoked_on" in lic:
            held &= ~(lic["revoked_on"] <= snapshot).fillna(False).astype(bool)
        inside |= grades["uscc"].isin(lic.loc[held.astype(bool), "uscc"]).to_numpy()
    return inside


def recently_inspected(
    uscc: pd.Series,
    items: tuple[str, ...],
    snapshot: pd.Timestamp,
    months: int,
    inspections: pd.DataFrame | None,
    earlier_tasks: pd.DataFrame | None,
) -> np.ndarray:
    """Enterprises inspected (or already tasked) for one of ``items`` within ``months``."""
    if months <= 0:
        return np.zeros(len(uscc), dtype=bool)
    since = snapshot - pd.DateOffset(months=months)
    seen: list[pd.Series] = []
    if inspections is not None and len(inspections) and "item" in inspections:
        dates = inspections["inspected_on"]
        hit = inspections["item"].isin(items) & (dates > since) & (dates <= snapshot)
        seen.append(inspections.loc[hit.fillna(False).astype(bool), "uscc"])
    if earlier_tasks is not None and len(earlier_tasks):
        dates = pd.to_datetime(earlier_tasks["window_start"])
        hit = earlier_tasks["item"].isin(items) & (dates > since) & (dates <= snapshot)
        seen.append(earlier_tasks.loc[hit.fillna(False).astype(bool), "uscc"])
    if not seen:
        return np.zeros(len(uscc), dtype=bool)
    return uscc.isin(pd.concat(seen, ignore_index=True)).to_numpy()


def trigger_reasons(
    uscc: pd.Series,
    tables: dict[str, pd.DataFrame],
    triggers: Triggers,
    snapshot: pd.Timestamp,
) -> pd.Series:
    """Why each enterprise is triggered (e.g. ``投诉举报 2026-10-12；行政处罚 2026-09-03``).

    Each kind is written once with its latest date in the window; an enterprise with no
    trigger gets a missing value. ``tables`` may lack a table: no events of that kind.
    """
    since = snapshot - pd.Timedelta(days=triggers.days)
    parts: list[pd.Series] = []
    for switch, label, table, column, where in TRIGGER_KINDS:
        if switch == "complaints" and not triggers.complaints:
            continue
        if switch == "data_alerts" and not triggers.data_alerts:
            continue
        frame = tables.get(table)
        if frame is None or not len(frame) or column not in frame:
            continue
        dates = pd.to_datetime(frame[column])
        hit = (dates > since) & (dates <= snapshot)  # enterprises are matched by the map below
        for key, value in where.items():
            hit &= frame[key] == value
        hit = hit.fillna(False).astype(bool)
        if not hit.any():
            continue
        latest = dates[hit].groupby(frame.loc[hit, "uscc"].to_numpy()).max()
        parts.append(label + " " + latest.dt.strftime("%Y-%m-%d"))
    if not parts:
        return pd.Series(pd.NA, index=uscc.index, dtype="string")
    joined = pd.concat(parts, axis=1).apply(lambda row: "；".join(row.dropna()), axis=1)
    return pd.Series(uscc.map(joined).to_numpy(), index=uscc.index, dtype="string")


def read_referrals(path) -> pd.DataFrame:
    """The referral list (转办移送): a CSV with ``uscc`` and ``referred_on`` (UTF-8, BOM ok)."""
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    missing = {"uscc", "referred_on"} - set(frame.columns)
    if missing:
        raise ValueError(
            f"{path}: referral list lacks column(s) {', '.join(sorted(missing))}; "
            "expected uscc, referred_on"
        )
    frame["referred_on"] = pd.to_datetime(frame["referred_on"], errors="raise")
    frame["uscc"] = frame["uscc"].str.strip().str.upper()
    return frame


def build_frame(
    grades: pd.DataFrame,
    plan: Plan,
    snapshot: pd.Timestamp,
    tables: dict[str, pd.DataFrame],
    earlier_tasks: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The plan's sampling frame: the population with its status for the draw.

    Returns the population rows of ``grades`` with ``excluded`` (recently inspected for a
    plan item), ``trigger`` (for trigger-only grades) and ``eligible`` (in the frame of
    its stratum), plus ``stratum`` (grade, or grade/region with ``strata.by_region``).
    """
    mask = population_mask(
        grades, plan.population, snapshot, tables.get("enterprises"), tables.get("licenses")
    )
    frame = grades.loc[mask].reset_index(drop=True)
    frame["excluded"] = recently_inspected(
        frame["uscc"],
        tuple(item.name for item in plan.items),
        snapshot,
        plan.same_item_months,
        tables.get("inspections"),
        earlier_tasks,
    )
    trigger_only = [g for g, rule in plan.grades.items() if rule.triggered_only]
    frame["trigger"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    needs = frame["grade"].isin(trigger_only) & ~frame["excluded"]
    if needs.any():
        frame.loc[needs, "trigger"] = trigger_reasons(
            frame.loc[needs, "uscc"], tables, plan.triggers, snapshot
        )
    frame["eligible"] = ~frame["excluded"] & (~needs | frame["trigger"].notna())
    grade = frame["grade"].astype(str)
    frame["stratum"] = grade + "/" + frame["region_code"].astype(str) if plan.by_region else grade
    return frame
