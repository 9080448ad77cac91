"""The readiness report (数据就绪评估): what a bureau's export allows, before any model.

A first export is rarely the demo: two years of history instead of ten, no judicial or
licence data, another month end. This module reads what the data holds — the tables and
columns present, how far back each table goes — and says, against the indicator catalog
and the label definition, what follows from it:

- the history depth of each table (first and last date) and the tables and columns absent;
- which indicators can be computed, and from which month on their windows are complete
  (an indicator whose source table is absent is unavailable and the model is built from
  the rest);
- how many labelled month ends exist (a label needs ``horizon`` months after its snapshot);
- the training design the data allows (:func:`workbench.scoring.design.plan_design`), or
  how many more months of history are needed;
- the commands that come next.

``workbench check --data DIR`` runs it on an export folder before ingest; the ingest
notebook shows it for what was ingested; ``workbench train`` uses the same history start
to derive its default design. Presentation lives in :mod:`workbench.views.readiness`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workbench import contract
from workbench.contract import TABLES
from workbench.scoring.design import (
    Design,
    DesignError,
    latest_labelled,
    minimum_history,
    month_end,
    plan_design,
)

#: A label table with fewer rows than this does not date the start of the history (its
#: first row may come long after the export begins, by chance).
MIN_ROWS_TO_DATE = 30
#: The share of a table's earliest rows ignored when dating its start (a stray old row).
STRAY_SHARE = 0.005
#: A label table starting this many months after the history is named in the report.
LATE_TABLE_MONTHS = 6
#: Tables kept as a state rather than a history (a licence granted in 2009 is still held).
STATE_TABLES = ("enterprises", "licenses", "relations", "inspectors", "conflicts")
#: Derived columns of the as-of views (indicators/engine.py) and the export columns they need.
DERIVED_FROM = {
    ("enterprises", "age_months"): "established_on",
    ("enterprises", "log_capital"): "registered_capital",
    ("enterprises", "county"): "region_code",
    ("enterprises", "industry_section"): "industry_code",
    ("enterprises", "industry_division"): "industry_code",
    ("annual_reports", "due_on"): "report_year",
    ("annual_reports", "filed"): "filed_on",
    ("annual_reports", "late"): "filed_on",
    ("annual_reports", "missing"): "filed_on",
    ("penalties", "repaired"): "repaired_on",
    ("inspections", "repaired"): "repaired_on",
    ("abnormal_list", "current"): "removed_on",
    ("serious_violations", "current"): "removed_on",
    ("licenses", "valid"): "expires_on",
    ("licenses", "expired"): "expires_on",
    ("licenses", "expiring_90d"): "expires_on",
    ("licenses", "revoked"): "revoked_on",
}


def event_date_column(table: str) -> str | None:
    """The column that dates a table's rows (its first date column), None for a state table."""
    if table in ("enterprises", "relations", "inspectors", "conflicts"):
        return None
    for col in TABLES[table].columns:
        if col.kind == "date":
            return col.name
    return None


@dataclass(frozen=True)
class TableProfile:
    """What one table of the data holds: rows, date range, columns absent."""

    name: str
    present: bool
    rows: int = 0
    date_column: str | None = None
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    absent_columns: tuple[str, ...] = ()  # optional contract columns the export lacks
    first_due: pd.Timestamp | None = None  # annual reports: the first deadline (6-30)
    start: pd.Timestamp | None = None  # where its history starts (a stray old row ignored)
    #: Rows quarantined (隔离) per reason: ``rows`` counts only the rows that passed, so a
    #: file that lost most of its rows (a stray quote, bad codes) must say so beside them.
    quarantined: tuple[tuple[str, int], ...] = ()

    @property
    def zh(self) -> str:
        """The table's Chinese name."""
        return TABLES[self.name].zh

    @property
    def months(self) -> int:
        """Months from the first to the last date (0 when undated or empty)."""
        if self.first is None or self.last is None:
            return 0
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1


def _arrow_profile(name: str, table: pa.Table, absent: list[str] | None) -> TableProfile:
    """A table's profile from its validated Arrow rows."""
    date_col = event_date_column(name)
    first = last = first_due = start = None
    if date_col and date_col in table.column_names and table.num_rows:
        dates = table.column(date_col).cast(pa.timestamp("s"))
        bounds = pc.min_max(dates)
        if bounds["min"].is_valid:
            first = pd.Timestamp(bounds["min"].as_py())
            last = pd.Timestamp(bounds["max"].as_py())
            quantile = pc.quantile(dates.cast(pa.int64()), q=STRAY_SHARE, interpolation="higher")[
                0
            ].as_py()
            start = pd.Timestamp(quantile, unit="s")
    if name == "annual_reports" and "report_year" in table.column_names and table.num_rows:
        year = pc.min(table.column("report_year")).as_py()
        if year is not None:
            first_due = pd.Timestamp(f"{int(year) + 1}-06-30")
    if absent is None:  # not recorded: an optional column without any value counts as absent
        absent = [
            c.name
            for c in TABLES[name].columns
            if not c.required
            and (
                c.name not in table.column_names
                or table.column(c.name).null_count == table.num_rows
            )
        ]
    return TableProfile(
        name, True, table.num_rows, date_col, first, last, tuple(absent), first_due, start
    )


def profile_frames(
    frames: Mapping[str, pd.DataFrame],
    absent: Mapping[str, list[str]] | None = None,
    quarantined: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, TableProfile]:
    """Profiles of validated tables held as frames (e.g. ``LoadedTable.accepted``)."""
    out = {}
    for name in TABLES:
        if name in frames:
            columns = [c.name for c in TABLES[name].columns if c.name in frames[name].columns]
            arrow = pa.Table.from_pandas(frames[name][columns], preserve_index=False)
            out[name] = dataclasses.replace(
                _arrow_profile(name, arrow, (absent or {}).get(name)),
                quarantined=tuple((quarantined or {}).get(name, {}).items()),
            )
        else:
            out[name] = TableProfile(name, False)
    return out


def profile_ingest(tables_dir: str | Path, quality: dict | None = None) -> dict[str, TableProfile]:
    """Profiles of an ingest's ``tables/`` (absent columns from its quality report when there)."""
    tables_dir = Path(tables_dir)
    recorded = (quality or {}).get("tables", {})
    out = {}
    for name in TABLES:
        path = tables_dir / f"{name}.parquet"
        if not path.is_file():
            out[name] = TableProfile(name, False)
            continue
        wanted = [c.name for c in TABLES[name].columns]
        available = pq.read_schema(path).names
        table = pq.read_table(path, columns=[c for c in wanted if c in available])
        absent = recorded.get(name, {}).get("absent_columns")
        out[name] = dataclasses.replace(
            _arrow_profile(name, table, absent),
            quarantined=tuple(recorded.get(name, {}).get("by_reason", {}).items()),
        )
    return out


def history_start(
    profiles: Mapping[str, TableProfile], label_tables: tuple[str, ...]
) -> tuple[pd.Timestamp | None, str | None]:
    """The first day the label's event history covers, and the table that dates it.

    The earliest start of the label's tables that are present: an export covers one
    period, and the densest table shows its beginning best — a sparse or seasonal table
    (serious-violation listings, the July batch of abnormal listings) begins later by
    chance. Each table's start ignores its earliest :data:`STRAY_SHARE` of rows (a stray
    row years before the export); tables with fewer than :data:`MIN_ROWS_TO_DATE` rows
    date nothing unless no table has more. A label table that begins much later is
    named in the report's ``missing`` lines.
    """
    dated = [
        p for t in label_tables if (p := profiles.get(t)) and p.present and p.start is not None
    ]
    dense = [p for p in dated if p.rows >= MIN_ROWS_TO_DATE] or dated
    if not dense:
        return None, None
    first = min(dense, key=lambda p: p.start)
    return first.start, first.name


@dataclass
class Readiness:
    """The readiness report of one data set (see the module documentation)."""

    source: str  # the export folder or ingest read
    snapshot: str  # the data's snapshot (YYYY-MM-DD)
    as_of: str  # outcomes known to (the design's as-of)
    tables: dict[str, TableProfile]
    horizon_months: int
    label_tables: tuple[str, ...]
    history_start: pd.Timestamp | None
    history_table: str | None
    indicators: pd.DataFrame  # id, 名称, source, window, status, from, reason
    design: Design | None
    design_problem: str | None
    more_months: int = 0  # months of history still missing (0 when a design fits)
    missing: list[str] = field(default_factory=list)  # what is missing, one line each
    next_steps: list[str] = field(default_factory=list)  # the commands that come next

    @property
    def ready_to_train(self) -> bool:
        """True when a default training design fits the data."""
        return self.design is not None

    @property
    def labelled_snapshots(self) -> list[pd.Timestamp]:
        """Month ends from the history's start whose label window is observable."""
        if self.history_start is None:
            return []
        last = latest_labelled(self.as_of, self.horizon_months)
        first = month_end(self.history_start)
        return list(pd.date_range(first, last, freq="ME")) if first <= last else []

    def unavailable(self) -> dict[str, str]:
        """Indicator id → why it cannot be computed (passed to training)."""
        rows = self.indicators[self.indicators["status"] == "unavailable"]
        return dict(zip(rows["id"], rows["reason"], strict=True))

    def to_dict(self) -> dict:
        """Plain data (JSON)."""
        labelled = self.labelled_snapshots
        return {
            "source": self.source,
            "snapshot": self.snapshot,
            "as_of": self.as_of,
            "tables": {
                name: {
                    "zh": p.zh,
                    "present": p.present,
                    "rows": p.rows,
                    "date_column": p.date_column,
                    "first": None if p.first is None else str(p.first.date()),
                    "last": None if p.last is None else str(p.last.date()),
                    "months": p.months,
                    "absent_columns": list(p.absent_columns),
                    "quarantined": dict(p.quarantined),
                }
                for name, p in self.tables.items()
            },
            "history_start": None if self.history_start is None else str(self.history_start.date()),
            "history_table": self.history_table,
            "horizon_months": self.horizon_months,
            "labelled_snapshots": len(labelled),
            "first_labelled": str(labelled[0].date()) if labelled else None,
            "last_labelled": str(labelled[-1].date()) if labelled else None,
            "design": None if self.design is None else self.design.to_dict(),
            "design_problem": self.design_problem,
            "more_months": self.more_months,
            "indicators": self.indicators.astype(object)
            .where(self.indicators.notna(), None)
            .to_dict("records"),
            "missing": self.missing,
            "next_steps": self.next_steps,
        }


def _needed_columns(ind) -> set[str]:
    """The view columns an indicator reads (its column, filters, numerator)."""
    cols = set(ind.filter) | set(ind.numerator)
    if ind.column:
        cols.add(ind.column)
    return cols


def _indicator_rows(catalog, profiles: Mapping[str, TableProfile], first_train) -> pd.DataFrame:
    """One row per indicator: available / partial / unavailable, from when, and why."""
    rows: list[dict] = []
    status: dict[str, str] = {}
    relational = ("peers_count", "peers_share", "related_count", "related_share")
    for ind in catalog.all:
        source = "relations" if ind.aggregation.startswith("related") else ind.source
        profile = profiles[source]
        reason, start = "", None
        if not profile.present:
            reason = f"table {source} ({profile.zh}) absent"
        else:
            needed = _needed_columns(ind)
            if ind.aggregation.startswith("peers"):
                needed = {"legal_rep_key"}
            absent = sorted(
                c for c in needed if DERIVED_FROM.get((source, c), c) in profile.absent_columns
            )
            if absent:
                shown = [DERIVED_FROM.get((source, c), c) for c in absent]
                reason = f"column {source}.{', '.join(dict.fromkeys(shown))} absent"
            blocked = [o for o in ind.of if status.get(o) == "unavailable"]
            if (
                not reason
                and ind.aggregation in relational
                and blocked
                and len(blocked) == len(ind.of)
            ):
                reason = f"its inputs {', '.join(blocked)} are unavailable"
        if not reason and profile.first is not None:
            if source == "annual_reports":
                start = profile.first_due
            elif ind.window_months:
                start = month_end(profile.first + pd.DateOffset(months=ind.window_months))
            else:
                start = month_end(profile.first)
        if reason:
            state = "unavailable"
        elif start is not None and first_train is not None and start > first_train:
            state = "partial"
            reason = (
                f"{'first value' if source == 'annual_reports' else 'window complete'} from "
                f"{start:%Y-%m}, after the first training month end {first_train:%Y-%m}"
            )
        else:
            state = "available"
        status[ind.id] = state
        rows.append(
            {
                "id": ind.id,
                "名称": ind.name,
                "source": ind.source,
                "window": ind.window,
                "status": state,
                "from": None if start is None else f"{start:%Y-%m}",
                "reason": reason,
            }
        )
    return pd.DataFrame(rows)


def assess(
    profiles: Mapping[str, TableProfile],
    snapshot: str,
    *,
    catalog=None,
    definition=None,
    as_of: str | None = None,
    source: str = "",
    ingested: bool = True,
) -> Readiness:
    """The readiness report of data with these table profiles, as of ``as_of``.

    Args:
        profiles: per contract table (:func:`profile_ingest`, :func:`profile_frames`).
        snapshot: the data's snapshot (its last day).
        catalog: the indicator catalog (default: the configuration's generic catalog).
        definition: the label definition (default: the configuration's ``labels.yaml``).
        as_of: outcomes known to (default: the snapshot).
        source: the folder read, for the report and the commands it suggests.
        ingested: False when ``source`` is an export folder not yet ingested.
    """
    from workbench.indicators import load_catalog
    from workbench.scoring import labels

    catalog = catalog or load_catalog()
    definition = definition or labels.load_label_definition()
    as_of = as_of or snapshot
    label_tables = tuple(dict.fromkeys(e.source for e in definition.events))
    start, limiting = history_start(profiles, label_tables)
    design = problem = None
    more = 0
    missing: list[str] = []
    present_labels = [t for t in label_tables if profiles[t].present]
    if not present_labels:
        problem = "training needs at least one of the tables the label uses: " + ", ".join(
            f"{t} ({TABLES[t].zh})" for t in label_tables
        )
    elif start is None:
        problem = "the label's tables hold no dated row: no outcome can be observed"
    else:
        try:
            design = plan_design(as_of, definition.horizon_months, start)
        except DesignError as err:
            problem, more = str(err), err.more_months
    if problem:
        missing.append(problem)
    for name in label_tables:
        p = profiles[name]
        late = start is not None and p.start is not None and p.rows >= MIN_ROWS_TO_DATE
        if late and p.start > start + pd.DateOffset(months=LATE_TABLE_MONTHS):
            missing.append(
                f"table {name} ({p.zh}) starts {p.start.date()}, later than the history "
                f"({start.date()}): before then its label events are not in the export"
            )
    first_train = design.train[0] if design is not None else None
    indicators = _indicator_rows(catalog, profiles, first_train)
    for name, profile in profiles.items():
        if not profile.present:
            missing.append(f"table {name} ({profile.zh}) absent: {contract.NEEDED_FOR[name]}")
        elif profile.absent_columns:
            missing.append(
                f"table {name} ({profile.zh}) lacks column(s) {', '.join(profile.absent_columns)}"
            )
    report = Readiness(
        source=source,
        snapshot=str(pd.Timestamp(snapshot).date()),
        as_of=str(pd.Timestamp(as_of).date()),
        tables=dict(profiles),
        horizon_months=definition.horizon_months,
        label_tables=label_tables,
        history_start=start,
        history_table=limiting,
        indicators=indicators,
        design=design,
        design_problem=problem,
        more_months=more,
        missing=missing,
    )
    report.next_steps = _next_steps(report, ingested)
    return report


def _next_steps(report: Readiness, ingested: bool) -> list[str]:
    """The commands that come next, as a user types them."""
    steps = []
    if not ingested:
        steps.append(f"workbench ingest --data {report.source}")
    if report.design is not None:
        steps += [
            "workbench train",
            "workbench promote RUN_ID   (the run id `workbench train` prints)",
            "workbench grade",
        ]
        if report.tables["inspectors"].present:
            steps.append("workbench sample PLAN   (a plan YAML file or a configured plan)")
    elif report.more_months:
        needed = minimum_history(report.horizon_months)
        steps.append(
            f"export {report.more_months} more month(s) of history (at least {needed} months "
            "in all), then run `workbench check` again"
        )
    return steps


def assess_ingest(folder, catalog=None, definition=None, as_of: str | None = None) -> Readiness:
    """The readiness report of an ingest output (an :class:`IngestFolder`)."""
    quality = folder.quality()
    profiles = profile_ingest(folder.tables, quality)
    return assess(
        profiles,
        quality["snapshot"],
        catalog=catalog,
        definition=definition,
        as_of=as_of,
        source=str(folder.path),
    )


def assess_loaded(
    loaded: Mapping, snapshot: str, source: str, catalog=None, definition=None
) -> Readiness:
    """The readiness report of an export folder just loaded (``intake.load.load_folder``)."""
    frames = {name: t.accepted for name, t in loaded.items()}
    absent = {name: list(getattr(t, "absent_columns", []) or []) for name, t in loaded.items()}
    quarantined = {name: t.reasons for name, t in loaded.items()}
    return assess(
        profile_frames(frames, absent, quarantined),
        snapshot,
        catalog=catalog,
        definition=definition,
        source=source,
        ingested=False,
    )
