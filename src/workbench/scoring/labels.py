"""The target (训练目标): "bad within N months after the snapshot", without leakage.

An enterprise active at the snapshot ``s`` is labelled from the events dated in
``(s, s + N months]`` only — the indicators see ``(…, s]``, the label ``(s, s + N]``,
so no event is on both sides. Which events count and how exits are treated is data
(``labels.yaml``); the default follows the issue: a penalty of severity ≥ serious, an
abnormal listing other than for a missing annual report, a serious-violation listing,
an inspection that found a problem. Leaving the register is never silently "good":
see the ``exits`` section of the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

from workbench import config, contract
from workbench.indicators.catalog import SOURCES, CatalogError, _check_filter
from workbench.indicators.engine import Engine, _ident, _lit

EXIT_RULES = ("bad", "exclude", "good")


@dataclass(frozen=True)
class LabelEvent:
    """One kind of event that makes an enterprise bad."""

    id: str
    name: str
    source: str
    date: str
    filter: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LabelDefinition:
    """The label: horizon, events and what leaving the register means."""

    horizon_months: int
    events: tuple[LabelEvent, ...]
    exits: dict[str, str]

    def describe(self) -> str:
        """One line in Chinese for reports and MLflow."""
        names = "、".join(e.name for e in self.events)
        return f"基准日后{self.horizon_months}个月内发生：{names}"


def load_label_definition(path: str | Path | None = None) -> LabelDefinition:
    """Read and check a label YAML (the packaged ``labels.yaml`` by default).

    Raises:
        CatalogError: naming the file and the field at fault.
    """
    source = Path(path) if path else config.current().labels
    where = str(source)
    data = config.read_yaml(
        source, dict, "a mapping with horizon_months, events, exits", CatalogError
    )
    horizon = data.get("horizon_months")
    if not isinstance(horizon, int) or not 1 <= horizon <= 60:
        raise CatalogError(f"{where}: horizon_months must be a whole number of months, 1–60")
    events = []
    allowed = [f.name for f in fields(LabelEvent)]
    items = data.get("events") or []
    for number, item in enumerate(items if isinstance(items, list) else [items], 1):
        if not isinstance(item, dict) or set(item) - set(allowed) or "id" not in item:
            raise CatalogError(
                f"{where}: event {number}: expected a mapping with the keys {', '.join(allowed)}"
            )
        try:
            event = LabelEvent(**item)
        except TypeError:
            raise CatalogError(
                f"{where}: event {item['id']}: needs the keys {', '.join(allowed[:4])}"
            ) from None
        view = SOURCES.get(event.source)
        if view is None or event.source in ("enterprises", "relations"):
            raise CatalogError(
                f"{where}: event {event.id}: source {event.source!r} is not an event table"
            )
        dates = [c.name for c in contract.TABLES[event.source].columns if c.kind == "date"]
        if event.date not in dates:
            raise CatalogError(
                f"{where}: event {event.id}: field 'date' is {event.date!r}; "
                f"allowed: {', '.join(dates)}"
            )
        _check_filter(event.filter, view, f"{where}: event {event.id}: field 'filter'")
        events.append(event)
    if not events:
        raise CatalogError(f"{where}: at least one event is needed")
    exits = dict(data.get("exits") or {})
    for status in ("revoked", "cancelled", "moved_out"):
        rule = exits.setdefault(status, "exclude")
        if rule not in EXIT_RULES:
            raise CatalogError(
                f"{where}: exits.{status} is {rule!r}; allowed: {', '.join(EXIT_RULES)}"
            )
    return LabelDefinition(horizon, tuple(events), exits)


def label_window_end(snapshot: str | pd.Timestamp, definition: LabelDefinition) -> pd.Timestamp:
    """The last day the label of ``snapshot`` looks at (s + N months)."""
    return pd.Timestamp(snapshot) + pd.DateOffset(months=definition.horizon_months)


def compute_labels(
    engine: Engine,
    snapshot: str | pd.Timestamp,
    definition: LabelDefinition,
    data_snapshot: str | pd.Timestamp,
) -> pd.DataFrame:
    """Label every enterprise active at ``snapshot``.

    Returns ``uscc``, ``label`` (1 bad, 0 good, missing = excluded), ``label_status``
    (bad / good / exited / revoked) and ``first_bad_on``.

    Raises:
        ValueError: when the window runs past the data (the label is not observable yet).
    """
    s = pd.Timestamp(snapshot).normalize()
    end = label_window_end(s, definition)
    if end > pd.Timestamp(data_snapshot):
        latest = pd.Timestamp(data_snapshot) - pd.DateOffset(months=definition.horizon_months)
        raise ValueError(
            f"the label of snapshot {s.date()} needs events up to {end.date()}, but the data "
            f"ends on {pd.Timestamp(data_snapshot).date()}: choose a snapshot on or before "
            f"{latest.date()}"
        )
    s_sql, end_sql = f"DATE {_lit(str(s.date()))}", f"DATE {_lit(str(end.date()))}"
    engine._create_asof_views(s)
    events = []
    for event in definition.events:
        date = f"CAST({_ident(event.date)} AS DATE)"
        conditions = [f"{date} > {s_sql}", f"{date} <= {end_sql}", *Engine._condition(event.filter)]
        events.append(
            f"SELECT uscc, {date} AS on_date FROM raw_{event.source} WHERE "
            + " AND ".join(conditions)
        )
    exit_rules = definition.exits
    sql = f"""
        WITH pop AS (SELECT uscc FROM asof_enterprises WHERE active_at),
        bad AS (SELECT uscc, min(on_date) AS first_bad_on FROM ({" UNION ALL ".join(events)})
                GROUP BY uscc),
        exits AS (SELECT uscc, status, CAST(status_changed_on AS DATE) AS left_on
                  FROM raw_enterprises
                  WHERE status <> 'active' AND CAST(status_changed_on AS DATE) > {s_sql}
                    AND CAST(status_changed_on AS DATE) <= {end_sql})
        SELECT pop.uscc, bad.first_bad_on, exits.status AS exit_status, exits.left_on
        FROM pop LEFT JOIN bad USING (uscc) LEFT JOIN exits USING (uscc)
        ORDER BY pop.uscc
    """
    frame = engine.con.sql(sql).to_arrow_table().to_pandas()
    bad_before_exit = frame["first_bad_on"].notna() & (
        frame["left_on"].isna() | (frame["first_bad_on"] <= frame["left_on"])
    )
    rule = frame["exit_status"].map(exit_rules)
    status = pd.Series("good", index=frame.index, dtype=object)
    status[frame["first_bad_on"].notna()] = "bad"
    exited = frame["exit_status"].notna() & ~bad_before_exit
    status[exited & (rule == "exclude")] = "exited"
    status[exited & (rule == "bad")] = "revoked"
    label = pd.Series(0.0, index=frame.index)
    label[status.isin(["bad", "revoked"])] = 1.0
    label[status == "exited"] = float("nan")
    label[exited & (rule == "good")] = 0.0
    return pd.DataFrame(
        {
            "uscc": frame["uscc"],
            "label": label.astype("Float64"),
            "label_status": status,
            "first_bad_on": pd.to_datetime(frame["first_bad_on"]),
        }
    )
