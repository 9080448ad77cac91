"""The indicator engine (指标计算引擎): the catalog compiled to SQL, run as of a snapshot.

Leakage is prevented in one place. Indicators never read the ingested tables: they read
**as-of views** built here for the snapshot ``s``, in which

- rows whose event date is after ``s`` do not exist (a penalty decided tomorrow);
- dates after ``s`` on existing rows are NULL: a removal from a list, a credit repair, a
  licence revocation or an annual report filed after ``s`` *has not happened yet*;
- derived flags (``current``, ``repaired``, ``valid``, ``missing``…) are computed from
  those as-of dates, and annual reports exist only once their deadline has passed.

The register's own attributes (capital, address, legal representative) are its current
values, and ``relations`` carry no dates: both are as of the data's extraction, a
limitation stated in the README. Enterprises that were active at ``s`` are graded, even
if they left the register later (their status change is dated after ``s``).

The definitions are declarative and the SQL is plain (``count(*) FILTER (WHERE …)``,
joins, ``GROUP BY``), so the same catalog can run on a distributed SQL engine; DuckDB is
the embedded one.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from workbench import contract

from .catalog import (
    BOOLEAN_COLUMNS,
    RELATIONAL,
    REPAIRABLE,
    SOURCES,
    ZERO_WHEN_EMPTY,
    Catalog,
    Indicator,
    Pack,
    filter_condition,
)

log = logging.getLogger(__name__)

_SQL_TYPES = {"date": "DATE", "amount": "DOUBLE", "year": "INTEGER", "bool": "BOOLEAN"}
#: Share of the machine's memory DuckDB may hold before it spills to disk: the caller
#: (grading) holds the indicator matrix and its own frames beside it. (An eighth instead
#: did not lower grading's peak at 10,000,000 enterprises: bench/README.md.)
MEMORY_SHARE = 0.25
#: environment variable that sets DuckDB's memory limit instead (e.g. ``8GB``)
MEMORY_ENV = "WORKBENCH_DUCKDB_MEMORY"


def default_memory_limit() -> str:
    """DuckDB's ``memory_limit``, in MB unless the environment sets it.

    ``$WORKBENCH_DUCKDB_MEMORY`` when set, else :data:`MEMORY_SHARE` of physical memory.
    """
    if os.environ.get(MEMORY_ENV):
        return os.environ[MEMORY_ENV]
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return "4GB"
    return f"{max(512, int(total * MEMORY_SHARE / 10**6))}MB"


#: rows per Arrow batch the indicator matrix is streamed out of DuckDB in
FETCH_ROWS = 1_000_000


def _stream_frame(relation) -> pd.DataFrame:
    """A DuckDB result as a pandas frame, without holding it twice.

    ``to_arrow_table`` materialises the whole result in DuckDB and then in Arrow. The
    result is read as a stream of record batches instead, and each column is handed to
    pandas (its batches released) one at a time. At 10,000,000 enterprises this lowered
    grading's peak by 268 MiB only: DuckDB's temporary tables beside the matrix are the
    larger part (bench/README.md).
    """
    reader = relation.to_arrow_reader(FETCH_ROWS)
    schema = reader.schema
    pieces: dict[str, list] = {name: [] for name in schema.names}
    for batch in reader:
        for name, column in zip(schema.names, batch.columns, strict=True):
            pieces[name].append(column)
        del batch
    columns = {}
    for field in schema:
        chunked = pa.chunked_array(pieces.pop(field.name), type=field.type)
        columns[field.name] = chunked.to_pandas()
        del chunked
    return pd.DataFrame(columns, copy=False)


def _lit(value) -> str:
    """A SQL literal (strings quoted with quotes doubled, booleans as TRUE/FALSE)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Engine:
    """A DuckDB connection over one ingest's tables, able to compute any snapshot.

    Args:
        tables_dir: ``tables/`` of an ingest output (one Parquet file per table); a
            missing event table is an empty table ("no events of that kind").
        threads: DuckDB worker threads (default: all cores).
        memory_limit: what DuckDB may hold in memory (e.g. ``"4GB"``; default
            :func:`default_memory_limit`); beyond it joins, aggregates and sorts spill
            to ``temp_directory``, so a province's tables need not fit in memory.
        temp_directory: where DuckDB spills (default: a private temporary folder,
            removed on :meth:`close`).
    """

    def __init__(
        self,
        tables_dir: str | Path,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | Path | None = None,
    ):
        self.tables_dir = Path(tables_dir)
        if not (self.tables_dir / "enterprises.parquet").is_file():
            raise FileNotFoundError(
                f"{self.tables_dir} holds no enterprises.parquet: pass the tables/ folder of "
                "an ingest (workbench ingest)"
            )
        self._spill = None
        if temp_directory is None:
            self._spill = temp_directory = tempfile.mkdtemp(prefix="workbench-duckdb-")
        self.con = duckdb.connect()
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute(f"SET memory_limit = {_lit(memory_limit or default_memory_limit())}")
        # a long query would draw DuckDB's progress bar on the caller's stdout; in a
        # notebook DuckDB refuses to change the setting without ipywidgets: left as it is
        try:
            self.con.execute("SET enable_progress_bar = false")
        except duckdb.InvalidInputException:
            pass
        self.con.execute(f"SET temp_directory = {_lit(str(temp_directory))}")
        for name, table in contract.TABLES.items():
            path = self.tables_dir / f"{name}.parquet"
            if path.is_file():
                self.con.execute(
                    f"CREATE VIEW raw_{name} AS SELECT * FROM read_parquet({_lit(str(path))})"
                )
            else:
                cols = ", ".join(
                    f"CAST(NULL AS {_SQL_TYPES.get(c.kind, 'VARCHAR')}) AS {_ident(c.name)}"
                    for c in table.columns
                )
                self.con.execute(f"CREATE VIEW raw_{name} AS SELECT {cols} WHERE FALSE")

    def close(self) -> None:
        """Close the DuckDB connection (and remove its own spill folder)."""
        self.con.close()
        if self._spill:
            shutil.rmtree(self._spill, ignore_errors=True)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ as-of views

    def _create_asof_views(self, snapshot: pd.Timestamp) -> None:
        for statement in self.asof_statements(snapshot):
            self.con.execute(statement)

    @staticmethod
    def asof_statements(snapshot: pd.Timestamp) -> list[str]:
        """The ``CREATE VIEW base_*/asof_*`` statements of a snapshot, in order (DuckDB SQL).

        Public so that another engine (``indicators.spark``) transpiles the very same text.
        """
        statements = []
        s = f"DATE {_lit(str(snapshot.date()))}"
        for name, view in SOURCES.items():
            table = contract.TABLES[name]
            replaced = []
            for col in table.columns:
                if col.kind != "date":
                    continue
                expr = f"CAST({_ident(col.name)} AS DATE)"
                if col.name != view.date and not col.future_ok:
                    expr = f"CASE WHEN {expr} <= {s} THEN {expr} END"
                replaced.append(f"{expr} AS {_ident(col.name)}")
            select = "SELECT *" + (f" REPLACE ({', '.join(replaced)})" if replaced else "")
            sql = f"{select} FROM raw_{name}"
            if view.date and view.date in {c.name for c in table.columns}:
                sql += f" WHERE CAST({_ident(view.date)} AS DATE) <= {s}"
            statements.append(f"CREATE OR REPLACE VIEW base_{name} AS {sql}")
        derived = {
            "enterprises": f"""
                SELECT * REPLACE (
                    CASE WHEN status <> 'active' AND raw_changed > {s} THEN 'active'
                         ELSE status END AS status,
                    CASE WHEN raw_changed <= {s} THEN raw_changed END AS status_changed_on),
                  (year({s}) * 12 + month({s})) - (year(established_on) * 12
                    + month(established_on))
                    - CASE WHEN day({s}) < day(established_on) THEN 1 ELSE 0 END AS age_months,
                  ln(1 + registered_capital) AS log_capital,
                  region_code AS county,
                  (status = 'active' OR coalesce(raw_changed > {s}, FALSE)) AS active_at
                FROM (SELECT * REPLACE (CAST(established_on AS DATE) AS established_on),
                             CAST(status_changed_on AS DATE) AS raw_changed
                      FROM raw_enterprises)
                WHERE established_on <= {s}""",
            "annual_reports": f"""
                SELECT * EXCLUDE (due),
                  due AS due_on,
                  filed_on IS NOT NULL AS filed,
                  coalesce(filed_on > due, FALSE) AS late,
                  filed_on IS NULL AS missing
                FROM (SELECT *, make_date(CAST(report_year AS INTEGER) + 1, 6, 30) AS due
                      FROM base_annual_reports)
                WHERE due <= {s}""",
            "penalties": "SELECT *, repaired_on IS NOT NULL AS repaired FROM base_penalties",
            "inspections": "SELECT *, repaired_on IS NOT NULL AS repaired FROM base_inspections",
            "abnormal_list": "SELECT *, removed_on IS NULL AS current FROM base_abnormal_list",
            "serious_violations": (
                "SELECT *, removed_on IS NULL AS current FROM base_serious_violations"
            ),
            "licenses": f"""
                SELECT *,
                  revoked_on IS NOT NULL AS revoked,
                  coalesce(expires_on <= {s}, FALSE) AS expired,
                  revoked_on IS NULL AND NOT coalesce(expires_on <= {s}, FALSE) AS valid,
                  revoked_on IS NULL AND coalesce(expires_on > {s}
                    AND expires_on <= {s} + INTERVAL 90 DAY, FALSE) AS expiring_90d
                FROM base_licenses""",
        }
        # annual_reports: filed_on is NULLed above when filed after the snapshot, because
        # its event date (due_on) is derived; the deadline itself filters the rows.
        for name in SOURCES:
            body = derived.get(name, f"SELECT * FROM base_{name}")
            statements.append(f"CREATE OR REPLACE VIEW asof_{name} AS {body}")
        return statements

    # ------------------------------------------------------------------ compilation

    @staticmethod
    def _condition(spec: dict) -> list[str]:
        parts = []
        for column, condition in spec.items():
            col = _ident(column)
            op, value = filter_condition(condition)
            if op == "eq":
                parts.append(f"{col} = {_lit(value)}" if value is not None else f"{col} IS NULL")
            elif op == "in":
                parts.append(f"{col} IN ({', '.join(_lit(v) for v in value)})")
            elif op == "not_in":
                parts.append(f"({col} IS NULL OR {col} NOT IN ({', '.join(map(_lit, value))}))")
            elif op == "contains_any":
                parts.append("(" + " OR ".join(f"contains({col}, {_lit(v)})" for v in value) + ")")
            elif op == "is_null":
                parts.append(f"{col} IS {'' if value else 'NOT '}NULL")
            if column in BOOLEAN_COLUMNS and op == "eq":
                parts[-1] = f"coalesce({parts[-1]}, FALSE)"
        return parts

    def _row_condition(self, ind: Indicator, s: str) -> str:
        view = SOURCES[ind.source]
        parts = self._condition(ind.filter)
        if ind.window_months:
            parts.append(f"{_ident(view.date)} > {s} - INTERVAL {ind.window_months} MONTH")
        if ind.source in REPAIRABLE and not ind.count_repaired:
            parts.append("NOT repaired")
        return " AND ".join(parts) or "TRUE"

    def _aggregate(self, ind: Indicator, s: str) -> str:
        cond = self._row_condition(ind, s)
        flt = f"FILTER (WHERE {cond})"
        view = SOURCES[ind.source]
        agg = ind.aggregation
        col = _ident(ind.column) if ind.column else None
        if agg == "count":
            return f"count(*) {flt}"
        if agg == "exists":
            return f"CAST(count(*) {flt} > 0 AS INTEGER)"
        if agg == "sum":
            return f"sum({col}) {flt}"
        if agg == "max":
            return f"max({col}) {flt}"
        if agg == "mean":
            return f"avg({col}) {flt}"
        if agg == "distinct":
            return f"count(DISTINCT {col}) {flt}"
        if agg == "days_since":
            return f"date_diff('day', max({_ident(view.date)}) {flt}, {s})"
        if agg == "ratio":
            num = " AND ".join([cond, *self._condition(ind.numerator)])
            return f"CAST(count(*) FILTER (WHERE {num}) AS DOUBLE) / NULLIF(count(*) {flt}, 0)"
        raise AssertionError(agg)  # pragma: no cover - checked by the catalog

    # ------------------------------------------------------------------ computation

    def compute(self, snapshot: str | pd.Timestamp, catalog: Catalog) -> pd.DataFrame:
        """The indicator matrix of every enterprise active at ``snapshot``.

        Returns one row per enterprise: ``uscc``, ``snapshot``, one ``in_<pack>``
        domain flag per pack, then one column per indicator in catalog order
        (numbers as float, categorical indicators as text; missing = NaN/None).
        """
        snapshot = pd.Timestamp(snapshot).normalize()
        *setup, final = self.statements(snapshot, catalog)
        for statement in setup:
            self.con.execute(statement)
        frame = _stream_frame(self.con.sql(final))
        frame["snapshot"] = pd.to_datetime(frame["snapshot"])
        for ind in catalog.all:
            if not ind.categorical:
                frame[ind.id] = frame[ind.id].astype("float64")
        log.info(
            "indicators as of %s: %d enterprises × %d indicators",
            snapshot.date(),
            len(frame),
            len(catalog.all),
        )
        return frame

    def statements(self, snapshot: str | pd.Timestamp, catalog: Catalog) -> list[str]:
        """Every statement of :meth:`compute`, in order; the last is the matrix query.

        The one definition of the indicators as SQL text (DuckDB dialect): ``compute``
        runs it here, ``indicators.spark`` transpiles the same text to Spark SQL.
        """
        snapshot = pd.Timestamp(snapshot).normalize()
        s = f"DATE {_lit(str(snapshot.date()))}"
        statements = self.asof_statements(snapshot)
        flags = "".join(f", {self._domain_flag(p)}" for p in catalog.packs)
        statements.append(
            "CREATE OR REPLACE TEMP TABLE pop AS SELECT uscc, entity_type, industry_code, "
            f"legal_rep_key{flags} FROM asof_enterprises WHERE active_at"
        )
        base = [i for i in catalog.all if i.aggregation not in RELATIONAL]
        relational = [i for i in catalog.all if i.aggregation in RELATIONAL]
        joins, selects = [], []
        by_source: dict[str, list[Indicator]] = defaultdict(list)
        for ind in base:
            by_source[ind.source].append(ind)
        for source, inds in by_source.items():
            if source == "enterprises":
                alias = "ent"
                cols = ", ".join(f"{_ident(i.column)} AS {_ident(i.id)}" for i in inds)
                joins.append(
                    f"LEFT JOIN (SELECT uscc, {cols} FROM asof_enterprises) {alias} USING (uscc)"
                )
            else:
                alias = f"agg_{source}"
                cols = ", ".join(f"{self._aggregate(i, s)} AS {_ident(i.id)}" for i in inds)
                joins.append(
                    f"LEFT JOIN (SELECT uscc, {cols} FROM asof_{source} "
                    f"GROUP BY uscc) {alias} USING (uscc)"
                )
            for ind in inds:
                selects.append(self._finish(ind, f"{alias}.{_ident(ind.id)}", catalog))
        sql = (
            "CREATE OR REPLACE TEMP TABLE base AS SELECT pop.uscc, "
            "pop.legal_rep_key AS _legal_rep_key"
            + "".join(f", pop.in_{p.id}" for p in catalog.packs)
            + "".join(f", {c}" for c in selects)
            + " FROM pop "
            + " ".join(joins)
        )
        statements.append(sql)
        rel_selects, rel_joins = [], []
        for n, ind in enumerate(relational):
            alias = f"rel{n}"
            rel_joins.append(f"LEFT JOIN ({self._relational(ind)}) {alias} USING (uscc)")
            rel_selects.append(self._finish(ind, f"{alias}.v", catalog))
        order = ", ".join(_ident(i.id) for i in catalog.all)
        pack_cols = "".join(f", in_{p.id}" for p in catalog.packs)
        final = (
            f"SELECT uscc, {s} AS snapshot{pack_cols}, {order} FROM (SELECT base.*"
            + "".join(f", {c}" for c in rel_selects)
            + " FROM base "
            + " ".join(rel_joins)
            + ") ORDER BY uscc"
        )
        return [*statements, final]

    def _finish(self, ind: Indicator, expr: str, catalog: Catalog) -> str:
        """Default for empty aggregates, applicability and pack domain, as a select item."""
        if ind.aggregation in ZERO_WHEN_EMPTY:
            expr = f"coalesce({expr}, 0)"
        if not ind.categorical:
            expr = f"CAST({expr} AS DOUBLE)"
        conditions = []
        if ind.applies_to:
            if ind.aggregation in RELATIONAL:
                scope = "base.uscc IN (SELECT uscc FROM pop WHERE entity_type IN ({}))"
            else:
                scope = "pop.entity_type IN ({})"
            conditions.append(scope.format(", ".join(map(_lit, ind.applies_to))))
        if ind.pack:
            conditions.append(f"in_{ind.pack}")
        if conditions:
            expr = f"CASE WHEN {' AND '.join(conditions)} THEN {expr} END"
        return f"{expr} AS {_ident(ind.id)}"

    def _domain_flag(self, pack: Pack) -> str:
        checks = []
        if pack.domain.licenses:
            types = ", ".join(map(_lit, pack.domain.licenses))
            checks.append(
                f"uscc IN (SELECT uscc FROM asof_licenses WHERE license_type IN ({types}))"
            )
        for prefix in pack.domain.industries:
            checks.append(f"starts_with(industry_code, {_lit(prefix)})")
        return f"({' OR '.join(checks) or 'FALSE'}) AS in_{pack.id}"

    def _relational(self, ind: Indicator) -> str:
        """SQL giving ``uscc, v`` for a relation indicator, over the base matrix."""
        if ind.aggregation.startswith("peers"):
            links = (
                "SELECT a.uscc, b.uscc AS other FROM base a JOIN base b "
                "ON a._legal_rep_key = b._legal_rep_key AND a.uscc <> b.uscc"
            )
        else:
            types = ""
            if ind.relations:
                types = f" WHERE relation IN ({', '.join(map(_lit, ind.relations))})"
            links = (
                "SELECT DISTINCT l.uscc, l.other FROM ("
                f"SELECT uscc, related_uscc AS other FROM raw_relations{types} UNION ALL "
                f"SELECT related_uscc AS uscc, uscc AS other FROM raw_relations{types}) l "
                "JOIN base b ON b.uscc = l.other JOIN base a ON a.uscc = l.uscc "
                "WHERE l.uscc <> l.other"
            )
        if ind.aggregation.endswith("count"):
            return f"SELECT uscc, count(*) AS v FROM ({links}) GROUP BY uscc"
        flagged = " OR ".join(f"coalesce(o.{_ident(ref)}, 0) > 0" for ref in ind.of)
        return (
            f"SELECT k.uscc, avg(CASE WHEN {flagged} THEN 1.0 ELSE 0.0 END) AS v "
            f"FROM ({links}) k JOIN base o ON o.uscc = k.other GROUP BY k.uscc"
        )


def compute_indicators(
    tables_dir: str | Path, snapshot: str, catalog: Catalog, threads: int | None = None
) -> pd.DataFrame:
    """Compute the indicator matrix of one snapshot (convenience over :class:`Engine`)."""
    with Engine(tables_dir, threads=threads) as engine:
        return engine.compute(snapshot, catalog)
