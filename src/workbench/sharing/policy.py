"""Which department receives which enterprises and columns (共享范围与字段): ``sharing.yaml``.

The file is the bureau's (package default overlaid by ``conf/sharing.yaml``, see
:mod:`workbench.config`). Columns are a whitelist: the grade file's descriptive columns
may be listed under ``columns``; the confidential ones (score, PD, reasons …) only under
``confidential_columns``, so that giving a department a PD is a deliberate line of its own;
anything else — the model's run id, a typo — is refused, naming the file, the department
and what is allowed. The whole file is checked on every load, so a typo in a department
nobody asked for still fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from workbench import config, contract
from workbench.errors import ConfigError, ParameterError

#: Columns a department may receive under ``columns`` (grade-file names, plus grade_label).
SHAREABLE: dict[str, str] = {
    "uscc": "统一社会信用代码",
    "name": "企业名称",
    "grade": "信用风险分类",
    "grade_label": "分类名称",
    "snapshot": "分类时点",
    "entity_type": "市场主体类型",
    "industry_section": "行业门类",
    "region_code": "行政区划代码",
    "scheme": "等级方案",
}
#: Confidential grade-file columns (contract: secret), only under ``confidential_columns``.
CONFIDENTIAL: dict[str, str] = {
    name: zh for name, zh, secret, _ in contract.GRADE_FILE if secret and name not in SHAREABLE
}
DEFAULT_COLUMNS = ("uscc", "name", "grade")
#: Domain keys: activity keys (any may match) and restricting keys (all must match).
ACTIVITY_KEYS = ("licenses", "industries", "industry_sections")
RESTRICTING_KEYS = ("regions", "entity_types")
#: Keys read from the ingest the month was graded from (the rest from the grade file).
INGEST_KEYS = ("licenses", "industries")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYS = {"id", "name", "description", "domain", "columns", "confidential_columns"}


@dataclass(frozen=True)
class Domain:
    """The enterprises a department supervises (监管范围)."""

    licenses: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    industry_sections: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    entity_types: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        """The keys that are set (for the manifest and the register)."""
        keys = ACTIVITY_KEYS + RESTRICTING_KEYS
        return {k: list(getattr(self, k)) for k in keys if getattr(self, k)}

    @property
    def needs_ingest(self) -> bool:
        """True when licences or industry codes decide (they are not in the grade file)."""
        return bool(self.licenses or self.industries)


@dataclass(frozen=True)
class Department:
    """One receiving department: its domain and the columns it may receive."""

    id: str
    name: str
    description: str = ""
    domain: Domain = field(default_factory=Domain)
    columns: tuple[str, ...] = DEFAULT_COLUMNS  # shareable, then confidential, in order


@dataclass(frozen=True)
class Policy:
    """Every configured department, from one file."""

    path: Path
    departments: tuple[Department, ...]

    def ids(self) -> list[str]:
        """The department ids, in file order."""
        return [d.id for d in self.departments]

    def get(self, department: str) -> Department:
        """The department ``department``; a ParameterError listing the ids otherwise."""
        for d in self.departments:
            if d.id == department:
                return d
        allowed = ", ".join(self.ids()) or f"none (add departments to {self.path})"
        raise ParameterError(f"unknown department {department!r}; allowed: {allowed}")


def column_names(columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Each column with its Chinese name (the manifest tells the receiver what it holds)."""
    names = SHAREABLE | CONFIDENTIAL
    return [{"name": c, "zh": names[c]} for c in columns]


def _codes(list_name: str) -> list[str]:
    return list(contract.CODE_LISTS[list_name].labels)


def _strings(value, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of codes")
    return tuple(str(v).strip() for v in value)


def _domain(raw, where: str) -> Domain:
    if raw is None:
        return Domain()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: domain must be a mapping")
    allowed = ACTIVITY_KEYS + RESTRICTING_KEYS
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{where}: domain has unknown key(s) {', '.join(unknown)}; allowed: "
            + ", ".join(allowed)
        )
    values = {key: _strings(raw.get(key), where, f"domain.{key}") for key in allowed}
    checks = {
        "licenses": (set(_codes("license_type")), "licence type"),
        "entity_types": (set(_codes("entity_type")), "entity type"),
        "industry_sections": (set(contract.INDUSTRY_SECTIONS), "GB/T 4754 section"),
    }
    for key, (known, what) in checks.items():
        bad = [v for v in values[key] if v not in known]
        if bad:
            raise ConfigError(
                f"{where}: domain.{key} {', '.join(bad)} is no {what}; allowed: "
                + ", ".join(sorted(known))
            )
    bad = [v for v in values["industries"] if not re.fullmatch(r"[A-T]\d{0,4}", v)]
    if bad:
        raise ConfigError(
            f"{where}: domain.industries {', '.join(bad)}: a GB/T 4754 prefix is a section "
            "letter and up to 4 digits (C13, F522, H62)"
        )
    bad = [v for v in values["regions"] if not re.fullmatch(r"\d{2,6}", v)]
    if bad:
        raise ConfigError(
            f"{where}: domain.regions {', '.join(bad)}: a GB/T 2260 code or prefix is 2–6 "
            "digits (410402, 4104)"
        )
    return Domain(**values)


def _columns(entry: dict, where: str) -> tuple[str, ...]:
    columns = _strings(entry.get("columns", list(DEFAULT_COLUMNS)), where, "columns")
    secret = _strings(entry.get("confidential_columns"), where, "confidential_columns")
    for column in columns:
        if column in CONFIDENTIAL:
            raise ConfigError(
                f"{where}: column {column!r} is confidential — list it under "
                "confidential_columns if this department may receive it"
            )
        if column not in SHAREABLE:
            raise ConfigError(
                f"{where}: column {column!r} is not shareable; allowed: "
                + ", ".join(SHAREABLE)
                + " (confidential, under confidential_columns: "
                + ", ".join(CONFIDENTIAL)
                + ")"
            )
    for column in secret:
        if column not in CONFIDENTIAL:
            raise ConfigError(
                f"{where}: confidential_columns {column!r} is not a confidential grade "
                "column; allowed: " + ", ".join(CONFIDENTIAL)
            )
    if "uscc" not in columns:
        raise ConfigError(f"{where}: columns must include uscc (the receiver's key)")
    ordered = tuple(dict.fromkeys(columns + secret))
    if len(ordered) != len(columns) + len(secret):
        raise ConfigError(f"{where}: a column is listed twice")
    return ordered


def load_policy(path: str | Path) -> Policy:
    """Read and check ``sharing.yaml`` (safe YAML; every department, every key).

    Raises:
        ConfigError: unreadable YAML, an unknown key, a column that is not on the
            whitelist (or confidential outside ``confidential_columns``), a bad code.
    """
    path = Path(path)
    data = config.read_yaml(path, dict, "a mapping with the key 'departments'")
    if set(data) - {"departments"}:
        raise ConfigError(f"{path}: expected a mapping with the key 'departments'")
    entries = data.get("departments") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: departments must be a list")
    departments: list[Department] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: department #{i + 1} must be a mapping")
        ident = str(entry.get("id", ""))
        where = f"{path}: department {ident or '#' + str(i + 1)}"
        if not _ID.match(ident):
            raise ConfigError(f"{where}: id must be lower_snake_case (e.g. food_safety)")
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(unknown)}; allowed: "
                + ", ".join(sorted(_KEYS))
            )
        if not str(entry.get("name", "")).strip():
            raise ConfigError(f"{where}: name (中文名称) is required")
        if ident in {d.id for d in departments}:
            raise ConfigError(f"{where}: the id is used twice")
        departments.append(
            Department(
                id=ident,
                name=str(entry["name"]).strip(),
                description=str(entry.get("description") or "").strip(),
                domain=_domain(entry.get("domain"), where),
                columns=_columns(entry, where),
            )
        )
    return Policy(path, tuple(departments))
