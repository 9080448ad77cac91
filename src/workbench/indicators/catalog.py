"""The indicator catalog (指标目录) as data: YAML read and checked once.

Errors name the file, the indicator and the field.

Analysts add, change and retire indicators every month (指标体系实行动态管理) by editing
YAML, never Python. An indicator says *what* to compute — source, window, aggregation,
filter — and the engine (:mod:`.engine`) decides *how*, always as of a snapshot date,
through the as-of views that are the only way an indicator can see the data.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from workbench import config, contract
from workbench.errors import WorkbenchError

DIMENSIONS = ("基础属性", "动态信息", "监管信息", "关联关系", "社会评价")

#: Aggregations and what each needs. ``value`` reads the register itself (one row per
#: enterprise); the relation kinds read other indicators through links between enterprises.
AGGREGATIONS = {
    "value": "the register's own value (column of the enterprises view)",
    "count": "number of rows in the window",
    "exists": "1 if any row in the window, else 0",
    "sum": "sum of `column` over rows in the window (0 when none)",
    "max": "largest `column` in the window (missing when none)",
    "mean": "mean of `column` in the window (missing when none)",
    "distinct": "number of distinct `column` values in the window",
    "days_since": "days from the latest event in the window to the snapshot (missing when none)",
    "ratio": "rows matching `numerator` / rows (missing when no rows)",
    "peers_count": "other active enterprises with the same legal representative (法定代表人)",
    "peers_share": "share of those with indicator `of` > 0 (missing when none)",
    "related_count": "related enterprises (关联关系) in the register, by `relations`",
    "related_share": "share of related enterprises with indicator `of` > 0 (missing when none)",
}
RELATIONAL = ("peers_count", "peers_share", "related_count", "related_share")
NEEDS_COLUMN = ("sum", "max", "mean", "distinct", "value")
DIRECTIONS = ("increasing", "decreasing", "none")
#: Aggregations whose empty result is 0 rather than missing.
ZERO_WHEN_EMPTY = ("count", "exists", "sum", "distinct", "peers_count", "related_count")
FILTER_OPS = ("in", "not_in", "contains_any", "is_null", "eq")
_ID = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


class CatalogError(WorkbenchError, ValueError):
    """A catalog file that cannot be used, with the file, indicator and field named."""


@dataclass(frozen=True)
class SourceView:
    """What an indicator can see of one source table as of the snapshot (see engine)."""

    table: str
    date: str | None  # the event date that windows apply to
    columns: tuple[str, ...]  # columns of the as-of view (contract columns + derived)
    derived: dict[str, str] = field(default_factory=dict)  # derived column → meaning


def _columns(table: str, *derived: str) -> tuple[str, ...]:
    return tuple(c.name for c in contract.TABLES[table].columns) + derived


#: The as-of views: per source, its event date and the derived columns the engine adds.
SOURCES: dict[str, SourceView] = {
    "enterprises": SourceView(
        "enterprises",
        None,
        _columns(
            "enterprises",
            "industry_section",
            "industry_division",
            "age_months",
            "log_capital",
            "county",
        ),
        {
            "age_months": "成立月数 as of the snapshot",
            "log_capital": "ln(1 + 注册资本万元)",
            "county": "region_code (the county)",
        },
    ),
    "annual_reports": SourceView(
        "annual_reports",
        "due_on",
        _columns("annual_reports", "due_on", "filed", "late", "missing"),
        {
            "due_on": "deadline: June 30 of report_year + 1 (only reports due by the snapshot)",
            "filed": "filed on or before the snapshot",
            "late": "filed after the deadline",
            "missing": "not filed by the snapshot",
        },
    ),
    "penalties": SourceView(
        "penalties",
        "decided_on",
        _columns("penalties", "repaired"),
        {"repaired": "credit-repaired (信用修复) on or before the snapshot"},
    ),
    "abnormal_list": SourceView(
        "abnormal_list",
        "listed_on",
        _columns("abnormal_list", "current"),
        {"current": "listed and not removed by the snapshot"},
    ),
    "serious_violations": SourceView(
        "serious_violations",
        "listed_on",
        _columns("serious_violations", "current"),
        {"current": "listed and not removed by the snapshot"},
    ),
    "inspections": SourceView(
        "inspections",
        "inspected_on",
        _columns("inspections", "repaired"),
        {"repaired": "credit-repaired on or before the snapshot"},
    ),
    "complaints": SourceView("complaints", "received_on", _columns("complaints")),
    "licenses": SourceView(
        "licenses",
        "granted_on",
        _columns("licenses", "valid", "expired", "expiring_90d", "revoked"),
        {
            "valid": "granted, not revoked, not expired at the snapshot",
            "expired": "expired by the snapshot",
            "revoked": "revoked by the snapshot",
            "expiring_90d": "valid, expiring within 90 days after the snapshot",
        },
    ),
    "changes": SourceView("changes", "changed_on", _columns("changes")),
    "judicial": SourceView("judicial", "filed_on", _columns("judicial")),
    "relations": SourceView("relations", None, _columns("relations")),
}
#: Tables whose repaired rows stop counting (信用修复) unless an indicator says otherwise.
REPAIRABLE = ("penalties", "inspections")
BOOLEAN_COLUMNS = {
    "filed",
    "late",
    "missing",
    "repaired",
    "current",
    "valid",
    "expired",
    "expiring_90d",
    "revoked",
    "found_problem",
    "substantiated",
    "active",
}


@dataclass(frozen=True)
class Indicator:
    """One indicator of the catalog (see ``generic.yaml`` for the fields in use)."""

    id: str
    name: str
    dimension: str
    source: str
    aggregation: str
    direction: str
    description: str
    window: str = "all"  # "all", or "<N>m": (snapshot − N months, snapshot]
    column: str | None = None
    filter: dict = field(default_factory=dict)
    numerator: dict = field(default_factory=dict)
    of: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()
    applies_to: tuple[str, ...] = ()  # entity types; empty = all
    categorical: bool = False
    count_repaired: bool = False  # count credit-repaired rows anyway (default: they stop)
    pack: str | None = None  # the professional pack it belongs to (None = generic)

    @property
    def window_months(self) -> int | None:
        """The window length in months, or None for all history."""
        return None if self.window == "all" else int(self.window[:-1])


@dataclass(frozen=True)
class Domain:
    """Which enterprises a professional pack applies to (licences or industries)."""

    licenses: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()  # GB/T 4754 prefixes, e.g. H62, F522, C13


@dataclass(frozen=True)
class Pack:
    """A professional pack (专业型指标包): a domain and its own indicators."""

    id: str
    name: str
    description: str
    domain: Domain
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Catalog:
    """The generic indicators plus any professional packs, checked together."""

    indicators: tuple[Indicator, ...]
    packs: tuple[Pack, ...] = ()
    source: str = ""

    @property
    def all(self) -> tuple[Indicator, ...]:
        """Generic indicators then each pack's, in catalog order."""
        return self.indicators + tuple(i for p in self.packs for i in p.indicators)

    def get(self, indicator_id: str) -> Indicator:
        """The indicator called ``indicator_id``."""
        for ind in self.all:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def restricted(self, ids) -> Catalog:
        """The indicators named in ``ids`` and those they read, in catalog order.

        What grading computes: a model reads at most ``max_features`` (25) of the ~60
        indicators, and the rest would only fill memory (at 10⁷ enterprises, GBs). A relation
        indicator's ``of`` indicators come along, because the engine computes it from
        them; every pack stays, so its domain flag (``in_<pack>``) does too. Ids not in the
        catalog are ignored here; whoever needs them (the model, a rule) reports them.
        """
        wanted = set(ids)
        for ind in self.all:
            if ind.id in wanted:
                wanted.update(ind.of)
        return replace(
            self,
            indicators=tuple(i for i in self.indicators if i.id in wanted),
            packs=tuple(
                replace(p, indicators=tuple(i for i in p.indicators if i.id in wanted))
                for p in self.packs
            ),
        )

    def fingerprint(self) -> str:
        """SHA-256 of the resolved catalog: the same indicators give the same hash."""
        payload = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict:
        """The resolved catalog as plain data (for MLflow and the indicator folder)."""
        return {
            "indicators": [asdict(i) for i in self.indicators],
            "packs": [asdict(p) for p in self.packs],
        }

    def table(self):
        """The catalog as a frame with Chinese headers, for people."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "指标": i.id,
                    "名称": i.name,
                    "维度": i.dimension,
                    "专业包": i.pack or "通用",
                    "来源": i.source,
                    "窗口": i.window,
                    "聚合": i.aggregation,
                    "风险方向": i.direction,
                    "说明": i.description,
                }
                for i in self.all
            ]
        )


# --------------------------------------------------------------------------- loading

GENERIC = "generic"


def configured_packs() -> dict[str, Path]:
    """Pack id → file: the packaged packs and the bureau's own (``conf/catalog/``)."""
    return {k: v for k, v in config.current().catalogs.items() if k != GENERIC}


def load_catalog(
    path: str | Path | None = None, packs: list[str] | tuple[str, ...] = ()
) -> Catalog:
    """Load the generic catalog (the packaged one, or an analyst's file) and packs.

    Args:
        path: a YAML file replacing the packaged generic catalog; None for the default.
        packs: pack ids of the packaged packs (``food``, ``drugs``, ``special_equipment``)
            or paths to pack YAML files.

    Raises:
        CatalogError: naming the file, the indicator and the field at fault.
    """
    generic_file = Path(path) if path else config.current().catalogs[GENERIC]
    data = _read_yaml(generic_file)
    if not isinstance(data, dict) or not ("indicators" in data or "extends" in data):
        raise CatalogError(f"{generic_file}: expected a mapping with a list under 'indicators'")
    unknown = set(data) - {"name", "indicators", "extends", "retire"}
    if unknown:
        raise CatalogError(
            f"{generic_file}: unknown key(s) {sorted(unknown)}; "
            "allowed: name, indicators, extends, retire"
        )
    own = tuple(
        _indicator(item, generic_file, None) for item in _indicator_list(data, generic_file)
    )
    indicators = _extend(data, own, generic_file)
    loaded_packs = []
    for pack in packs:
        known = configured_packs()
        pack_file = known[pack] if pack in known else Path(pack)
        if not pack_file.is_file():
            raise CatalogError(
                f"unknown pack {pack!r}: use one of {', '.join(known)} or a YAML path"
            )
        loaded_packs.append(_pack(_read_yaml(pack_file), pack_file))
    catalog = Catalog(indicators, tuple(loaded_packs), str(generic_file))
    _check_catalog(catalog)
    return catalog


def _extend(data: dict, own: tuple[Indicator, ...], path: Path) -> tuple[Indicator, ...]:
    """Apply ``extends: generic`` and ``retire: [...]``: the analyst's monthly changes.

    The packaged generic catalog is the base; an own indicator with a base id replaces it
    in place (a change), a new id is appended (an addition), ``retire`` drops ids.
    """
    extends, retire = data.get("extends"), list(data.get("retire") or [])
    if extends is None:
        if retire:
            raise CatalogError(f"{path}: 'retire' needs 'extends: generic'")
        return own
    if extends != "generic":
        raise CatalogError(f"{path}: 'extends' is {extends!r}; allowed: generic")
    packaged = config.default_catalog(GENERIC)
    base = [_indicator(i, packaged, None) for i in _read_yaml(packaged)["indicators"]]
    base_ids = {i.id for i in base}
    for ind_id in retire:
        if ind_id not in base_ids:
            raise CatalogError(
                f"{path}: retire names {ind_id!r}, which is not in the generic catalog"
            )
    mine = {i.id: i for i in own}
    merged = [mine.pop(i.id, i) for i in base if i.id not in retire]
    return tuple(merged) + tuple(i for i in own if i.id in mine)


def _read_yaml(path: Path):
    return config.read_yaml(path, None, error=CatalogError)


def _pack(data, path: Path) -> Pack:
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: a pack is a mapping with id, name, domain, indicators")
    for key in ("id", "name", "domain", "indicators"):
        if key not in data:
            raise CatalogError(f"{path}: pack is missing '{key}'")
    domain = data["domain"] or {}
    unknown = set(domain) - {"licenses", "industries"}
    if unknown:
        raise CatalogError(
            f"{path}: domain has unknown key(s) {sorted(unknown)}; allowed: licenses, industries"
        )
    pack_id = str(data["id"])
    return Pack(
        id=pack_id,
        name=str(data["name"]),
        description=str(data.get("description", "")),
        domain=Domain(tuple(domain.get("licenses", ())), tuple(domain.get("industries", ()))),
        indicators=tuple(_indicator(item, path, pack_id) for item in _indicator_list(data, path)),
    )


_FIELDS = {f for f in Indicator.__dataclass_fields__} - {"pack"}


def _indicator_list(data: dict, path: Path) -> list:
    """The file's ``indicators``: a list (``indicators: 3`` names the field, not a TypeError)."""
    items = data.get("indicators") or []
    if not isinstance(items, list):
        raise CatalogError(
            f"{path}: field 'indicators' must be a list of indicators (- id: …); "
            f"got {type(items).__name__}"
        )
    return items


def _indicator(item, path: Path, pack: str | None) -> Indicator:
    where = f"{path}: indicator {item.get('id', '?') if isinstance(item, dict) else '?'}"
    if not isinstance(item, dict):
        raise CatalogError(f"{path}: every indicator is a mapping, got {item!r}")
    unknown = set(item) - _FIELDS
    if unknown:
        raise CatalogError(
            f"{where}: unknown field(s) {sorted(unknown)}; allowed: {', '.join(sorted(_FIELDS))}"
        )
    for key in ("id", "name", "dimension", "source", "aggregation", "direction", "description"):
        if key not in item or item[key] in (None, ""):
            raise CatalogError(f"{where}: field '{key}' is required")
    values = dict(item)
    for key in ("of", "relations", "applies_to"):
        if key in values:
            raw = values[key]
            values[key] = (raw,) if isinstance(raw, str) else tuple(raw)
    values["window"] = str(values.get("window", "all"))
    try:
        ind = Indicator(pack=pack, **values)
    except TypeError as err:  # pragma: no cover - unknown fields are caught above
        raise CatalogError(f"{where}: {err}") from err
    _check_indicator(ind, where)
    return ind


def _allowed(field_name: str, value, allowed) -> str:
    return f"field '{field_name}' is {value!r}; allowed: {', '.join(map(str, allowed))}"


def _check_indicator(ind: Indicator, where: str) -> None:
    if not _ID.match(ind.id):
        raise CatalogError(f"{where}: field 'id' must be lower_snake_case (a-z, 0-9, _)")
    if ind.dimension not in DIMENSIONS:
        raise CatalogError(f"{where}: {_allowed('dimension', ind.dimension, DIMENSIONS)}")
    if ind.source not in SOURCES:
        raise CatalogError(f"{where}: {_allowed('source', ind.source, SOURCES)}")
    if ind.aggregation not in AGGREGATIONS:
        raise CatalogError(f"{where}: {_allowed('aggregation', ind.aggregation, AGGREGATIONS)}")
    if ind.direction not in DIRECTIONS:
        raise CatalogError(f"{where}: {_allowed('direction', ind.direction, DIRECTIONS)}")
    if ind.window != "all" and not re.fullmatch(r"[1-9][0-9]{0,2}m", ind.window):
        raise CatalogError(
            f"{where}: field 'window' is {ind.window!r}; use 'all' or '<N>m' "
            "(e.g. 12m: the 12 months up to and including the snapshot)"
        )
    view = SOURCES[ind.source]
    if ind.window != "all" and view.date is None:
        raise CatalogError(f"{where}: field 'window': source {ind.source} has no event date")
    if ind.aggregation == "value" and ind.source != "enterprises":
        raise CatalogError(
            f"{where}: aggregation 'value' reads the register: source must be enterprises"
        )
    if ind.source == "enterprises" and ind.aggregation not in ("value", *RELATIONAL):
        raise CatalogError(
            f"{where}: the register has one row per enterprise: use "
            "aggregation 'value' (or a relation kind)"
        )
    if ind.aggregation in NEEDS_COLUMN:
        if not ind.column:
            raise CatalogError(f"{where}: aggregation '{ind.aggregation}' needs field 'column'")
        if ind.column not in view.columns:
            raise CatalogError(f"{where}: {_allowed('column', ind.column, view.columns)}")
    elif ind.column:
        raise CatalogError(f"{where}: field 'column' is not used by '{ind.aggregation}'")
    if ind.aggregation == "days_since" and view.date is None:
        raise CatalogError(f"{where}: 'days_since' needs a source with an event date")
    if ind.aggregation == "ratio" and not ind.numerator:
        raise CatalogError(f"{where}: aggregation 'ratio' needs field 'numerator'")
    if ind.aggregation in ("peers_share", "related_share") and not ind.of:
        raise CatalogError(f"{where}: aggregation '{ind.aggregation}' needs field 'of'")
    if ind.aggregation in ("related_count", "related_share"):
        allowed = tuple(contract.CODE_LISTS["relation"].labels)
        for rel in ind.relations:
            if rel not in allowed:
                raise CatalogError(f"{where}: {_allowed('relations', rel, allowed)}")
    for name, spec in (("filter", ind.filter), ("numerator", ind.numerator)):
        _check_filter(spec, view, f"{where}: field '{name}'")
    types = tuple(contract.CODE_LISTS["entity_type"].labels)
    for entity_type in ind.applies_to:
        if entity_type not in types:
            raise CatalogError(f"{where}: {_allowed('applies_to', entity_type, types)}")


def filter_condition(condition) -> tuple[str, object]:
    """One filter entry as (operator, value): ``{op: v}``, ``[values]`` → in, else eq.

    The single reading of the filter syntax, shared by the SQL the engine compiles and by
    the synthetic city's ceiling simulation, so the two cannot drift apart.
    """
    if isinstance(condition, dict):
        return next(iter(condition.items()))
    if isinstance(condition, list):
        return "in", condition
    return "eq", condition


def _check_filter(spec, view: SourceView, where: str) -> None:
    if not isinstance(spec, dict):
        raise CatalogError(f"{where}: a filter is a mapping column → condition")
    for column, condition in spec.items():
        if column not in view.columns:
            raise CatalogError(f"{where}: {_allowed('column', column, view.columns)}")
        if isinstance(condition, dict):
            if len(condition) != 1 or next(iter(condition)) not in FILTER_OPS:
                raise CatalogError(
                    f"{where}: condition on {column} is {condition!r}; one of "
                    f"{', '.join(FILTER_OPS)}"
                )
            op, value = next(iter(condition.items()))
        else:
            op, value = ("eq", condition) if not isinstance(condition, list) else ("in", condition)
        if column in BOOLEAN_COLUMNS and op == "eq" and not isinstance(value, bool):
            raise CatalogError(f"{where}: {column} is true/false, got {value!r}")
        code_list = _code_list_of(view.table, column)
        if code_list is not None and code_list.strict and op in ("in", "not_in", "eq"):
            values = value if isinstance(value, list) else [value]
            bad = [v for v in values if v not in code_list.labels]
            if bad:
                raise CatalogError(
                    f"{where}: {column} value(s) {bad} not in code list {code_list.name}; "
                    f"allowed: {', '.join(code_list.labels)}"
                )


def _code_list_of(table: str, column: str):
    for col in contract.TABLES[table].columns:
        if col.name == column and col.codes:
            return contract.CODE_LISTS[col.codes]
    return None


def _check_catalog(catalog: Catalog) -> None:
    seen: dict[str, str] = {}
    for ind in catalog.all:
        if ind.id in seen:
            raise CatalogError(f"{catalog.source}: indicator id {ind.id!r} is defined twice")
        seen[ind.id] = ind.pack or "generic"
    for ind in catalog.all:
        for ref in ind.of:
            if ref not in seen:
                raise CatalogError(
                    f"{catalog.source}: indicator {ind.id}: field 'of' names {ref!r}, "
                    "which is not in the catalog"
                )
            if catalog.get(ref).aggregation in RELATIONAL:
                raise CatalogError(
                    f"{catalog.source}: indicator {ind.id}: field 'of' names {ref!r}, itself a "
                    "relation indicator (one level of relations only)"
                )
