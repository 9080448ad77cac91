"""Qualitative overrides (定性判定): rules applied after the model score.

Policy makes some facts decisive whatever the score says — an enterprise on the
serious-violation list is graded worst (Shenzhen's "直接判定为E类"), one currently on the
abnormal list cannot be low risk, a newly established one is observed (触发式监管) until a
trigger fires. The rules are YAML (``overrides.yaml``) so the bureau changes them without
touching Python; :func:`apply_overrides` keeps the model grade beside the final grade and
names every rule that moved it, because a reviewer must be able to tell the model's
judgement from the policy's.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import config
from workbench.errors import WorkbenchError

OPERATORS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
ACTIONS = ("set", "at_least", "observe")
#: The scheme an override's ``default:`` grade is written for, unless the file's top-level
#: ``default_scheme`` names another: a scheme with other codes or labels needs its own grade.
DEFAULT_SCHEME = "national_4"


class OverrideError(WorkbenchError, ValueError):
    """A rule file that cannot be used, naming the file, the rule and the field."""


@dataclass(frozen=True)
class Condition:
    """``indicator <op> value``; a missing indicator value never satisfies it."""

    indicator: str
    op: str
    value: float

    def holds(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean per row of ``frame``."""
        column = pd.to_numeric(frame[self.indicator], errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            result = OPERATORS[self.op](column, self.value)
        return result & ~np.isnan(column)

    def text(self, names: Mapping[str, str] | None = None) -> str:
        """The condition for the rules table: the indicator's name from ``names``, else its id."""
        symbol = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠"}.get(self.op, self.op)
        return f"{(names or {}).get(self.indicator, self.indicator)} {symbol} {self.value:g}"


@dataclass(frozen=True)
class Rule:
    """One override rule (see ``overrides.yaml`` for the fields)."""

    id: str
    description: str
    when: tuple[Condition, ...]
    action: str
    target: dict = field(default_factory=dict)  # scheme id (or "default") -> grade code
    unless_any: tuple[Condition, ...] = ()
    basis: str = ""
    default_scheme: str = DEFAULT_SCHEME  # the scheme whose grades `default` is written in

    @property
    def indicators(self) -> set[str]:
        """Indicators the rule reads (all must be in the matrix it is applied to)."""
        return {c.indicator for c in (*self.when, *self.unless_any)}

    def applies(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows where every ``when`` condition holds."""
        hit = np.ones(len(frame), dtype=bool)
        for condition in self.when:
            hit &= condition.holds(frame)
        return hit

    def triggered(self, frame: pd.DataFrame) -> np.ndarray:
        """For ``observe``: rows where any trigger fires (the model grade then stands)."""
        fired = np.zeros(len(frame), dtype=bool)
        for condition in self.unless_any:
            fired |= condition.holds(frame)
        return fired

    def target_grade(self, scheme_id: str, codes: tuple[str, ...]) -> str:
        """The grade this rule sets or caps at, under ``scheme_id``."""
        if self.action == "set":
            return codes[-1]
        grade = self.target.get(scheme_id, self.target.get("default"))
        if grade is None:
            raise OverrideError(
                f"rule {self.id}: no grade for scheme {scheme_id!r} (add it or a `default`)"
            )
        if grade not in codes:
            raise OverrideError(
                f"rule {self.id}: grade {grade!r} is not in scheme {scheme_id} ({', '.join(codes)})"
            )
        return grade


def _conditions(spec, where: str) -> tuple[Condition, ...]:
    if not isinstance(spec, dict) or not spec:
        raise OverrideError(f"{where}: expected a mapping of indicator: {{op: value}}")
    out = []
    for indicator, test in spec.items():
        if not isinstance(test, dict) or len(test) != 1:
            raise OverrideError(f"{where}.{indicator}: expected one {{op: value}}, got {test!r}")
        ((op, value),) = test.items()
        if op not in OPERATORS:
            raise OverrideError(
                f"{where}.{indicator}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}"
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OverrideError(f"{where}.{indicator}: the value must be a number, got {value!r}")
        out.append(Condition(str(indicator), op, float(value)))
    return tuple(out)


def _target(spec, where: str) -> dict:
    if isinstance(spec, str):
        return {"default": spec}
    if isinstance(spec, dict) and spec and all(isinstance(v, str) for v in spec.values()):
        return {str(k): v for k, v in spec.items()}
    raise OverrideError(f"{where}: expected a grade code or a mapping {{scheme id: grade}}")


def load_rules(path: str | Path | None = None) -> list[Rule]:
    """Read and check the override rules (the packaged ones by default).

    Raises:
        OverrideError: naming the file, the rule and the field at fault.
    """
    source = Path(path) if path else config.current().overrides
    data = config.read_yaml(source, dict, "a mapping with a `rules:` list", OverrideError)
    items = data.get("rules")
    if not isinstance(items, list):
        raise OverrideError(f"{source}: expected a top-level `rules:` list")
    default_scheme = str(data.get("default_scheme") or DEFAULT_SCHEME)
    rules, seen = [], set()
    for number, item in enumerate(items, 1):
        where = f"{source.name}: rule {number}"
        if not isinstance(item, dict) or not item.get("id"):
            raise OverrideError(f"{where}: every rule needs an `id`")
        rule_id = str(item["id"])
        where = f"{source.name}: rule {rule_id}"
        if rule_id in seen:
            raise OverrideError(f"{where}: the id is used twice")
        seen.add(rule_id)
        if not item.get("description"):
            raise OverrideError(f"{where}: a Chinese `description` is required")
        actions = [a for a in ACTIONS if a in item]
        if len(actions) != 1:
            raise OverrideError(f"{where}: exactly one action of {', '.join(ACTIONS)} is required")
        action = actions[0]
        target, unless = {}, ()
        if action == "set" and item["set"] != "worst":
            raise OverrideError(f"{where}.set: only `worst` is supported, got {item['set']!r}")
        if action == "at_least":
            target = _target(item["at_least"], f"{where}.at_least")
        if action == "observe":
            spec = item["observe"]
            if not isinstance(spec, dict) or "default_grade" not in spec:
                raise OverrideError(f"{where}.observe: needs `default_grade`")
            target = _target(spec["default_grade"], f"{where}.observe.default_grade")
            unless = (
                _conditions(spec["unless_any"], f"{where}.observe.unless_any")
                if spec.get("unless_any")
                else ()
            )
        rules.append(
            Rule(
                id=rule_id,
                description=str(item["description"]),
                when=_conditions(item.get("when"), f"{where}.when"),
                action=action,
                target=target,
                unless_any=unless,
                basis=str(item.get("basis", "")),
                default_scheme=default_scheme,
            )
        )
    return rules


def check_scheme(rules: list[Rule], scheme, schemes: Mapping | None = None) -> None:
    """Refuse a rule that would fall back to ``default`` under a scheme it was not written for.

    A ``default:`` grade means a grade of the rules' ``default_scheme`` (national_4 unless
    the file says otherwise): ``C`` is 信用风险较高 there but 信用风险一般 in an A–E scheme.
    The fallback is used only for a scheme with the same codes and labels; any other scheme
    must be named in the rule.

    Args:
        rules: the override rules.
        scheme: the grade scheme in use (``id``, ``codes``, ``labels``).
        schemes: scheme id → scheme (default: the configuration's grade schemes).

    Raises:
        OverrideError: one line naming the rule, the scheme and what to add.
    """
    falling_back = [
        r
        for r in rules
        if r.action != "set" and scheme.id not in r.target and "default" in r.target
    ]
    if not falling_back:
        return
    if schemes is None:
        from workbench.scoring.grades import load_schemes

        schemes = load_schemes()
    for rule in falling_back:
        written = schemes.get(rule.default_scheme)
        if written is not None and (written.codes, written.labels) == (
            tuple(scheme.codes),
            tuple(scheme.labels),
        ):
            continue
        grade = rule.target["default"]
        meaning = dict(zip(written.codes, written.labels, strict=True)) if written else {}
        was = f"{grade} ({meaning.get(grade, 'unknown')} in {rule.default_scheme})"
        offered = ", ".join(
            f"{c} {label}" for c, label in zip(scheme.codes, scheme.labels, strict=True)
        )
        field_name = "at_least" if rule.action == "at_least" else "observe.default_grade"
        raise OverrideError(
            f"override {rule.id}: no grade for scheme {scheme.id} ({offered}); its default "
            f"{was} may not mean the same there: add `{scheme.id}: <grade>` to its "
            f"{field_name} in overrides.yaml"
        )


def check_rules(rules: list[Rule], columns, scheme_id: str, codes: tuple[str, ...]) -> None:
    """Fail before grading when a rule reads an indicator the matrix lacks or names a bad grade."""
    columns = set(columns)
    for rule in rules:
        missing = sorted(rule.indicators - columns)
        if missing:
            raise OverrideError(
                f"rule {rule.id} reads indicator(s) {', '.join(missing)} that the indicator "
                "matrix does not have (check the catalog)"
            )
        rule.target_grade(scheme_id, codes)


def apply_overrides(
    frame: pd.DataFrame,
    model_grade: np.ndarray,
    rules: list[Rule],
    scheme_id: str,
    codes: tuple[str, ...],
) -> pd.DataFrame:
    """Final grade, the rules that moved it, and the observation flag, per row.

    Returns columns ``grade``, ``override_rule`` (``;``-joined ids of the rules that
    changed the grade, in order; None when none did) and ``observation``.
    """
    check_rules(rules, frame.columns, scheme_id, codes)
    rank_of = {code: i for i, code in enumerate(codes)}
    model_rank = np.array([rank_of[g] for g in model_grade], dtype=int)
    rank = model_rank.copy()
    moved_by = np.full(len(frame), "", dtype=object)
    observation = np.zeros(len(frame), dtype=bool)

    def record(changed: np.ndarray, rule_id: str) -> None:
        joined = moved_by[changed]
        moved_by[changed] = np.where(joined == "", rule_id, joined + ";" + rule_id)

    for rule in (r for r in rules if r.action == "observe"):
        applies = rule.applies(frame)
        observed = applies & ~rule.triggered(frame)
        observation |= applies
        default = rank_of[rule.target_grade(scheme_id, codes)]
        changed = observed & (rank != default)
        rank = np.where(observed, default, rank)
        record(changed, rule.id)
    for rule in (r for r in rules if r.action != "observe"):
        floor = rank_of[rule.target_grade(scheme_id, codes)]
        changed = rule.applies(frame) & (rank < floor)
        rank = np.where(changed, floor, rank)
        record(changed, rule.id)
    return pd.DataFrame(
        {
            "grade": np.asarray(codes, dtype=object)[rank],
            "override_rule": np.where(moved_by == "", None, moved_by),
            "observation": observation,
        },
        index=frame.index,
    )


def rules_table(
    rules: list[Rule],
    scheme_id: str,
    codes: tuple[str, ...],
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The rules as inspectors read them (Chinese columns; ``names``: indicator id → 中文名)."""
    action_text = {"set": "直接评为", "at_least": "不优于", "observe": "观察期默认"}
    return pd.DataFrame(
        [
            {
                "定性判定规则": r.description or r.id,
                "条件": "；".join(c.text(names) for c in r.when),
                "处理": f"{action_text[r.action]} {r.target_grade(scheme_id, codes)}",
                "触发条件（任一）": "；".join(c.text(names) for c in r.unless_any),
                "依据": r.basis,
            }
            for r in rules
        ]
    )
