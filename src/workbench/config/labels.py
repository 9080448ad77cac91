"""Chinese names (中文名称) of the ids configuration gives things, for pages people read.

Plans, model families, grade schemes and override rules are named by ASCII ids in files
and folders (``demo_monthly``, ``generic``, ``national_4``, ``serious_violation_list``);
leadership and inspectors read their Chinese names, which the same configuration holds:
a plan's ``title``, a catalog's ``name``, a scheme's ``name``, a rule's ``description``.
Every package default has one; a bureau file that omits it shows the bureau's own id
(the page then still says which thing it is, in the bureau's words).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from workbench import config
from workbench.errors import WorkbenchError


@cache
def _read(path: str, mtime_ns: int) -> object:
    return config.read_yaml(Path(path), None)


def _yaml(path: Path | None) -> object:
    """The file's content (cached per modification time), or None when absent or unreadable."""
    if path is None or not path.is_file():
        return None
    try:
        return _read(str(path), path.stat().st_mtime_ns)
    except WorkbenchError:
        return None  # the stage reading the file reports it; a label never fails a page


def _text(mapping: object, key: str) -> str:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return str(value).strip() if value else ""


def plan_title(plan_id: str, recorded: str | None = None) -> str:
    """The plan's title (计划名称): the one recorded at the draw, else the configured plan's."""
    if recorded:
        return str(recorded)
    return _text(_yaml(config.current().plans.get(str(plan_id))), "title") or str(plan_id)


def family_name(family: str) -> str:
    """The model family's name (通用型, 食品 …): the ``name`` of its catalog file."""
    return _text(_yaml(config.current().catalogs.get(str(family))), "name") or str(family)


def model_label(family: str) -> str:
    """'通用型信用风险评分模型': what the registered model ``workbench-<family>`` is."""
    name = family_name(family)
    return f"{name}信用风险评分模型" if name != str(family) else f"{family} 信用风险评分模型"


def scheme_name(scheme_id: str) -> str:
    """The grade scheme's name (全国四类 …) from the grade schemes file."""
    data = _yaml(config.current().grade_schemes)
    schemes = data.get("schemes") if isinstance(data, dict) else None
    entry = schemes.get(str(scheme_id)) if isinstance(schemes, dict) else None
    return _text(entry, "name") or str(scheme_id)


def rule_label(rule_id: str) -> str:
    """The override rule's description (定性判定规则) from the rules file."""
    data = _yaml(config.current().overrides)
    rules = data.get("rules") if isinstance(data, dict) else None
    for rule in rules if isinstance(rules, list) else []:
        if isinstance(rule, dict) and str(rule.get("id")) == str(rule_id):
            return _text(rule, "description") or str(rule_id)
    return str(rule_id)
