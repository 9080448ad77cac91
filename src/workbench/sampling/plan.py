"""Sampling plans (双随机抽查计划) as YAML: schema, defaults and validation at load.

A plan says who may be drawn (抽查对象范围), in what proportion per grade (抽查比例), for
which inspection items (抽查事项) by which departments (部门联合), with how many inspectors
per task and what the public seed is. Analysts write plans, so every field is checked
once, here, and an error names the file, the field and what is allowed. The packaged
presets live in ``sampling/plans/`` (``henan_2021``, ``bayannur``, ``demo_monthly``).

Ratios are kept as exact fractions (``"2%"`` or ``0.02`` are both exactly 1/50), so the
number drawn, ``ceil(ratio × N)``, never depends on floating-point rounding.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import pandas as pd

from workbench import config, contract
from workbench.errors import WorkbenchError

PLAN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
RATE_SOURCES = ("pd", "hit_rate")
DOMAINS = ("food", "drugs", "special_equipment")

_TOP_KEYS = {
    "id": "plan id (计划编号): letters, digits, _ and -",
    "title": "plan title (计划名称)",
    "seed": "the public random seed (随机种子), a non-negative integer",
    "departments": "participating departments (参与部门), names or name prefixes",
    "items": "inspection items (抽查事项)",
    "population": "who may be drawn (抽查对象范围)",
    "grades": "ratio per grade (分级抽查比例)",
    "strata": "stratification options",
    "triggers": "what lets a trigger-only grade in (触发条件)",
    "exclusions": "who is left out (排除)",
    "inspectors": "inspectors per task and workload (执法人员)",
    "window": "the inspection window (检查时间)",
    "expected_rates": "where expected problem rates come from: pd or hit_rate",
    "budget": "a budget for which to propose ratios (按预算建议比例)",
    "description": "free text",
}


class PlanError(WorkbenchError, ValueError):
    """A sampling plan that cannot be used, naming the file, the field and what is allowed."""


@dataclass(frozen=True)
class Item:
    """One inspection item (抽查事项) and the departments that may carry it out."""

    name: str
    departments: tuple[str, ...]


@dataclass(frozen=True)
class GradeRule:
    """The sampling rule of one grade: ratio, bounds, and whether only triggers let it in."""

    ratio: Fraction
    min: int = 0
    max: int | None = None
    triggered_only: bool = False  # 无事不扰: only enterprises with a trigger form the frame

    def count(self, population: int) -> int:
        """Enterprises to draw from a frame of ``population``: ceil(ratio × N), bounded."""
        n = math.ceil(self.ratio * population)
        n = max(n, self.min)
        if self.max is not None:
            n = min(n, self.max)
        return min(n, population)


@dataclass(frozen=True)
class Population:
    """Filters on the active enterprises of the grade file (empty = no filter)."""

    entity_types: tuple[str, ...] = ()
    exclude_entity_types: tuple[str, ...] = ()
    industry_sections: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # GB/T 2260 codes or prefixes ("4104" = the prefecture)
    domain: str | None = None  # a professional pack's domain: licences or GB/T 4754 prefixes


@dataclass(frozen=True)
class Triggers:
    """What counts as a trigger (触发) in the last ``days`` days up to the snapshot."""

    days: int = 90
    complaints: bool = True  # 投诉举报
    data_alerts: bool = (
        True  # 数据预警: new abnormal/serious listing, penalty, 失信被执行人, revocation
    )
    referrals: Path | None = None  # 转办移送: CSV with uscc, referred_on


@dataclass(frozen=True)
class Budget:
    """Inspections the departments can do, and the policy bounds on ratios."""

    inspections: int
    overall_floor: Fraction = Fraction(0)  # e.g. 3 % for enterprise-disclosure checks
    floors: dict[str, Fraction] = field(default_factory=dict)
    ceilings: dict[str, Fraction] = field(default_factory=dict)
    apply: bool = False  # draw with the proposed ratios instead of ``grades``


@dataclass(frozen=True)
class Window:
    """The inspection window: explicit dates, or ``days`` from the day after the snapshot."""

    start: str | None = None
    end: str | None = None
    days: int | None = None

    def resolve(self, snapshot: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Start and end dates for a snapshot (inclusive)."""
        if self.start:
            return pd.Timestamp(self.start), pd.Timestamp(self.end)
        start = snapshot.normalize() + pd.Timedelta(days=1)
        return start, start + pd.Timedelta(days=int(self.days or 30) - 1)


@dataclass(frozen=True)
class Plan:
    """A checked sampling plan (抽查计划)."""

    id: str
    title: str
    seed: int
    departments: tuple[str, ...]
    items: tuple[Item, ...]
    grades: dict[str, GradeRule]
    population: Population = Population()
    by_region: bool = False
    triggers: Triggers = Triggers()
    same_item_months: int = 12
    inspectors_per_task: int = 2
    max_tasks_per_inspector: int = 40
    window: Window = Window(days=30)
    expected_rates: str = "pd"
    budget: Budget | None = None
    source: Path | None = None
    sha256: str = ""

    def check_grades(self, scheme_grades: list[str] | tuple[str, ...]) -> None:
        """Check that the plan gives a rule for exactly the grade scheme's grades.

        Raises:
            PlanError: naming the missing or unknown grades.
        """
        where = f"{self.source or self.id}: field 'grades'"
        missing = [g for g in scheme_grades if g not in self.grades]
        unknown = [g for g in self.grades if g not in scheme_grades]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"no rule for grade(s) {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown grade(s) {', '.join(unknown)}")
            raise PlanError(
                f"{where}: {'; '.join(parts)}; the grade scheme has {', '.join(scheme_grades)}"
            )
        if self.budget is not None:
            for key, mapping in (
                ("floors", self.budget.floors),
                ("ceilings", self.budget.ceilings),
            ):
                bad = [g for g in mapping if g not in scheme_grades]
                if bad:
                    raise PlanError(
                        f"{self.source or self.id}: field 'budget.{key}' names unknown grade(s) "
                        f"{', '.join(bad)}; the grade scheme has {', '.join(scheme_grades)}"
                    )


def packaged_plans() -> dict[str, Path]:
    """The plans known by name (name → file): the presets and the bureau's ``conf/plans/``."""
    return dict(config.current().plans)


def resolve_plan_path(plan: str | Path) -> Path:
    """A plan file path, or the name of a packaged preset (``henan_2021``)."""
    presets = packaged_plans()
    if str(plan) in presets:
        return presets[str(plan)]
    path = Path(plan)
    if not path.is_file():
        raise PlanError(f"plan file {path} does not exist; plans by name: {', '.join(presets)}")
    return path


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan file (or a packaged preset's name).

    Raises:
        PlanError: naming the file, the field at fault and what is allowed.
    """
    path = resolve_plan_path(path)
    raw = path.read_bytes()
    shape = f"a mapping with fields {', '.join(_TOP_KEYS)}"
    data = config.read_yaml(path, dict, shape, PlanError)
    if not data:
        raise PlanError(f"{path}: a plan is {shape}")
    _unknown(path, "", data, _TOP_KEYS)
    for key in ("id", "title", "seed", "departments", "items", "grades"):
        if key not in data:
            raise PlanError(f"{path}: field '{key}' is required ({_TOP_KEYS[key]})")
    plan_id = str(data["id"])
    if not PLAN_ID.match(plan_id):
        raise PlanError(
            f"{path}: field 'id' is {plan_id!r}; allowed: 1–64 letters, digits, _ and -, "
            "starting with a letter or digit (it names the output folder)"
        )
    seed = data["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise PlanError(f"{path}: field 'seed' is {seed!r}; allowed: a non-negative integer")
    departments = _names(path, "departments", data["departments"])
    items = _items(path, data["items"], departments)
    grades = _grades(path, data["grades"])
    strata = _mapping(path, "strata", data.get("strata") or {}, {"by_region": "bool"})
    rates = data.get("expected_rates", "pd")
    if rates not in RATE_SOURCES:
        raise PlanError(
            f"{path}: field 'expected_rates' is {rates!r}; allowed: {', '.join(RATE_SOURCES)}"
        )
    inspectors = _mapping(
        path,
        "inspectors",
        data.get("inspectors") or {},
        {"per_task": "int", "max_tasks_each": "int"},
    )
    per_task = inspectors.get("per_task", 2)
    if per_task < 2:
        raise PlanError(
            f"{path}: field 'inspectors.per_task' is {per_task}; allowed: at least 2 "
            "(双随机: at least two inspectors per task)"
        )
    max_each = inspectors.get("max_tasks_each", 40)
    if max_each < 1:
        raise PlanError(f"{path}: field 'inspectors.max_tasks_each' is {max_each}; allowed: ≥ 1")
    exclusions = _mapping(
        path, "exclusions", data.get("exclusions") or {}, {"same_item_months": "int"}
    )
    same_item = exclusions.get("same_item_months", 12)
    if same_item < 0:
        raise PlanError(f"{path}: field 'exclusions.same_item_months' is {same_item}; allowed: ≥ 0")
    return Plan(
        id=plan_id,
        title=_text(path, "title", data["title"]),
        seed=seed,
        departments=departments,
        items=items,
        grades=grades,
        population=_population(path, data.get("population") or {}),
        by_region=bool(strata.get("by_region", False)),
        triggers=_triggers(path, data.get("triggers") or {}),
        same_item_months=same_item,
        inspectors_per_task=per_task,
        max_tasks_per_inspector=max_each,
        window=_window(path, data.get("window") or {"days": 30}),
        expected_rates=rates,
        budget=_budget(path, data["budget"]) if data.get("budget") else None,
        source=path,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


# ----------------------------------------------------------------------------- helpers


def _unknown(path: Path, where: str, data: dict, allowed) -> None:
    unknown = sorted(set(map(str, data)) - set(allowed))
    if unknown:
        prefix = f"field '{where}'" if where else "the plan"
        raise PlanError(
            f"{path}: {prefix} has unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(allowed)}"
        )


def _text(path: Path, name: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PlanError(f"{path}: field '{name}' is {value!r}; allowed: non-empty text")
    return value.strip()


def _names(path: Path, name: str, value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise PlanError(f"{path}: field '{name}' is {value!r}; allowed: a non-empty list of names")
    out = tuple(_text(path, f"{name}[{i}]", v) for i, v in enumerate(value))
    if len(set(out)) != len(out):
        raise PlanError(f"{path}: field '{name}' lists a name twice")
    return out


def _mapping(path: Path, name: str, value, kinds: dict[str, str]) -> dict:
    if not isinstance(value, dict):
        raise PlanError(f"{path}: field '{name}' is {value!r}; allowed: a mapping")
    _unknown(path, name, value, kinds)
    for key, kind in kinds.items():
        if key not in value:
            continue
        v = value[key]
        if kind == "any":
            continue
        ok = (
            isinstance(v, bool)
            if kind == "bool"
            else (isinstance(v, int) and not isinstance(v, bool))
        )
        if not ok:
            raise PlanError(
                f"{path}: field '{name}.{key}' is {v!r}; allowed: "
                + ("true or false" if kind == "bool" else "an integer")
            )
    return value


def parse_ratio(value, where: str) -> Fraction:
    """An exact ratio in [0, 1] from ``0.02``, ``"2%"`` or ``"1/50"``.

    Raises:
        PlanError: for anything else (``where`` names the file and field).
    """
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str) and value.strip().endswith("%"):
            ratio = Fraction(value.strip()[:-1].strip()) / 100
        else:
            ratio = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        ratio = None
    if ratio is None or not 0 <= ratio <= 1:
        raise PlanError(f"{where} is {value!r}; allowed: a ratio from 0 to 1, e.g. 0.05 or '5%'")
    return ratio


def _items(path: Path, value, departments: tuple[str, ...]) -> tuple[Item, ...]:
    if not isinstance(value, list) or not value:
        raise PlanError(f"{path}: field 'items' is {value!r}; allowed: a non-empty list of items")
    items = []
    for i, entry in enumerate(value):
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or "name" not in entry:
            raise PlanError(f"{path}: field 'items[{i}]' needs a 'name' (抽查事项)")
        _unknown(path, f"items[{i}]", entry, {"name": "", "departments": ""})
        name = _text(path, f"items[{i}].name", entry["name"])
        depts = _names(path, f"items[{i}].departments", entry.get("departments", list(departments)))
        outside = [d for d in depts if d not in departments]
        if outside:
            raise PlanError(
                f"{path}: field 'items[{i}].departments' names {', '.join(outside)}, "
                f"not among the plan's departments ({', '.join(departments)})"
            )
        items.append(Item(name, depts))
    names = [it.name for it in items]
    if len(set(names)) != len(names):
        raise PlanError(f"{path}: field 'items' lists an item twice")
    return tuple(items)


def _grades(path: Path, value) -> dict[str, GradeRule]:
    if not isinstance(value, dict) or not value:
        raise PlanError(
            f"{path}: field 'grades' is {value!r}; allowed: a mapping grade → ratio or "
            "{ratio, min, max, triggered_only}"
        )
    rules = {}
    for grade, spec in value.items():
        where = f"{path}: field 'grades.{grade}"
        if not isinstance(spec, dict):
            spec = {"ratio": spec}
        _unknown(
            path, f"grades.{grade}", spec, {"ratio": "", "min": "", "max": "", "triggered_only": ""}
        )
        if "ratio" not in spec:
            raise PlanError(f"{where}.ratio' is required")
        ratio = parse_ratio(spec["ratio"], f"{where}.ratio'")
        lo, hi = spec.get("min", 0), spec.get("max")
        for key, v in (("min", lo), ("max", hi)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise PlanError(f"{where}.{key}' is {v!r}; allowed: a non-negative integer")
        if hi is not None and hi < lo:
            raise PlanError(f"{where}.max' is {hi}, below 'min' {lo}")
        trig = spec.get("triggered_only", False)
        if not isinstance(trig, bool):
            raise PlanError(f"{where}.triggered_only' is {trig!r}; allowed: true or false")
        rules[str(grade)] = GradeRule(ratio, lo, hi, trig)
    return rules


def _population(path: Path, value) -> Population:
    allowed = {
        "entity_types": "",
        "exclude_entity_types": "",
        "industry_sections": "",
        "regions": "",
        "domain": "",
    }
    if not isinstance(value, dict):
        raise PlanError(f"{path}: field 'population' is {value!r}; allowed: a mapping")
    _unknown(path, "population", value, allowed)
    types = contract.CODE_LISTS["entity_type"].labels
    out = {}
    for key in ("entity_types", "exclude_entity_types"):
        names = tuple(value.get(key) or ())
        bad = [t for t in names if t not in types]
        if bad:
            raise PlanError(
                f"{path}: field 'population.{key}' has {', '.join(map(str, bad))}; "
                f"allowed: {', '.join(types)}"
            )
        out[key] = names
    sections = tuple(str(s) for s in value.get("industry_sections") or ())
    bad = [s for s in sections if s not in contract.INDUSTRY_SECTIONS]
    if bad:
        raise PlanError(
            f"{path}: field 'population.industry_sections' has {', '.join(bad)}; "
            f"allowed: GB/T 4754 sections {', '.join(contract.INDUSTRY_SECTIONS)}"
        )
    regions = tuple(str(r) for r in value.get("regions") or ())
    bad = [r for r in regions if not re.fullmatch(r"\d{2,6}", r)]
    if bad:
        raise PlanError(
            f"{path}: field 'population.regions' has {', '.join(bad)}; "
            "allowed: GB/T 2260 codes or their 2–6 digit prefixes (quote them in YAML)"
        )
    domain = value.get("domain")
    if domain is not None and domain not in DOMAINS:
        raise PlanError(
            f"{path}: field 'population.domain' is {domain!r}; allowed: {', '.join(DOMAINS)}"
        )
    return Population(out["entity_types"], out["exclude_entity_types"], sections, regions, domain)


def _triggers(path: Path, value) -> Triggers:
    spec = _mapping(
        path,
        "triggers",
        value,
        {"days": "int", "complaints": "bool", "data_alerts": "bool", "referrals": "any"},
    )
    days = spec.get("days", 90)
    if days < 1:
        raise PlanError(f"{path}: field 'triggers.days' is {days}; allowed: ≥ 1")
    referrals = spec.get("referrals")
    ref_path = None
    if referrals:
        ref_path = Path(str(referrals))
        if not ref_path.is_absolute():
            ref_path = path.parent / ref_path
        if not ref_path.is_file():
            raise PlanError(
                f"{path}: field 'triggers.referrals' names {ref_path}, which does not exist "
                "(a CSV with columns uscc, referred_on)"
            )
    return Triggers(days, spec.get("complaints", True), spec.get("data_alerts", True), ref_path)


def _date(path: Path, name: str, value) -> str:
    try:
        return str(pd.Timestamp(str(value)).date())
    except ValueError as err:
        raise PlanError(f"{path}: field '{name}' is {value!r}; allowed: a date YYYY-MM-DD") from err


def _window(path: Path, value) -> Window:
    if not isinstance(value, dict):
        raise PlanError(f"{path}: field 'window' is {value!r}; allowed: {{days}} or {{start, end}}")
    _unknown(path, "window", value, {"days": "", "start": "", "end": ""})
    if "start" in value or "end" in value:
        if "days" in value or "start" not in value or "end" not in value:
            raise PlanError(f"{path}: field 'window' needs either 'days' or both 'start' and 'end'")
        start, end = (
            _date(path, "window.start", value["start"]),
            _date(path, "window.end", value["end"]),
        )
        if end < start:
            raise PlanError(
                f"{path}: field 'window.end' ({end}) is before 'window.start' ({start})"
            )
        return Window(start=start, end=end)
    days = value.get("days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise PlanError(f"{path}: field 'window.days' is {days!r}; allowed: an integer ≥ 1")
    return Window(days=days)


def _budget(path: Path, value) -> Budget:
    if not isinstance(value, dict):
        raise PlanError(f"{path}: field 'budget' is {value!r}; allowed: a mapping")
    allowed = {"inspections": "", "overall_floor": "", "floors": "", "ceilings": "", "apply": ""}
    _unknown(path, "budget", value, allowed)
    n = value.get("inspections")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise PlanError(
            f"{path}: field 'budget.inspections' is {n!r}; allowed: a positive integer "
            "(enterprises the departments can inspect)"
        )
    bounds = {}
    for key in ("floors", "ceilings"):
        spec = value.get(key) or {}
        if not isinstance(spec, dict):
            raise PlanError(f"{path}: field 'budget.{key}' is {spec!r}; allowed: grade → ratio")
        bounds[key] = {
            str(g): parse_ratio(r, f"{path}: field 'budget.{key}.{g}'") for g, r in spec.items()
        }
    apply = value.get("apply", False)
    if not isinstance(apply, bool):
        raise PlanError(f"{path}: field 'budget.apply' is {apply!r}; allowed: true or false")
    return Budget(
        inspections=n,
        overall_floor=parse_ratio(
            value.get("overall_floor", 0), f"{path}: field 'budget.overall_floor'"
        ),
        floors=bounds["floors"],
        ceilings=bounds["ceilings"],
        apply=apply,
    )
