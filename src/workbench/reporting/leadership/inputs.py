"""What the report reads (报告输入): one month's stage outputs, and figures derived from them.

The files are those of the agreed file interfaces (data/grades, data/sampling,
data/evaluation, data/health). A missing file is ``None`` here, never an error: the
report says 无数据 for it. Evaluation files may nest their figures (``{"lift":
{"low": …}}``) or flatten them (``lift_low``); both are read.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import workspace
from workbench.config import labels as config_labels
from workbench.errors import NotReadyError
from workbench.grading.migration import high_risk_grades
from workbench.scoring.grades import wilson_interval
from workbench.workspace import folders
from workbench.workspace.folders import GradeFolder

log = logging.getLogger(__name__)

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


#: PSI above which a distribution is watched (轻微偏移) and alarming (显著偏移).
PSI_WATCH, PSI_ALERT = 0.1, 0.25


def check_month(month: str) -> str:
    """Return ``month`` if it is ``YYYY-MM``; raise a clear ParameterError otherwise."""
    return folders.check_month(month)


def months_in(folder: Path) -> list[str]:
    """The YYYY-MM subfolders of ``folder`` (never temporary ones), oldest first."""
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and folders.visible(p) and MONTH_RE.match(p.name)
    )


def latest_month() -> str:
    """The newest month with any complete stage output.

    Raises:
        NotReadyError: when there is none (run the month's stages first).
    """
    months = workspace.current().output_months()
    if not months:
        raise NotReadyError(
            f"no stage outputs under {workspace.current().data}: run the month's stages first"
        )
    return months[-1]


def _flatten(payload: object, prefix: str = "") -> dict[str, object]:
    """Nested JSON as dotted keys ({"lift": {"low": 1}} → {"lift.low": 1}) plus the originals."""
    flat: dict[str, object] = {}
    if isinstance(payload, dict):
        for key, value in payload.items():
            name = f"{prefix}{key}"
            flat[name] = value
            if isinstance(value, dict):
                flat.update(_flatten(value, name + "."))
    return flat


def _first(flat: dict, *names: str) -> float | None:
    """The first of ``names`` holding a number (evaluation files name things differently)."""
    for name in names:
        value = flat.get(name)
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float) and np.isfinite(value):
            return float(value)
    return None


def _interval(flat: dict, *bases: str) -> tuple[float | None, float | None]:
    for base in bases:
        for low, high in (("_low", "_high"), (".low", ".high"), ("_ci_low", "_ci_high")):
            lo, hi = _first(flat, base + low), _first(flat, base + high)
            if lo is not None and hi is not None:
                return lo, hi
        for key in (base + "_ci", base + ".ci", base + "_interval", base + ".interval"):
            value = flat.get(key)
            if isinstance(value, list | tuple) and len(value) == 2:
                return float(value[0]), float(value[1])
    return None, None


#: per_grade.csv columns read (canonical name → names accepted, first found wins).
PER_GRADE_COLUMNS = {
    "grade": ("grade", "stratum"),
    "label": ("label",),
    "graded": ("graded", "population"),
    "frame_population": ("frame_population",),
    "drawn": ("drawn",),
    "inspected": ("inspected",),
    "with_verdict": ("with_verdict",),
    "excluded": ("no_verdict", "excluded"),
    "found": ("found", "problems"),
    "hit_rate": ("hit_rate",),
    "hit_low": ("hit_low", "hit_rate_low"),
    "hit_high": ("hit_high", "hit_rate_high"),
    "ht_rate": ("est_rate", "ht_rate"),
    "ht_low": ("est_low", "ht_low"),
    "ht_high": ("est_high", "ht_high"),
    "ht_note": ("est_note",),
    "mean_pd": ("mean_pd_inspected", "mean_pd"),
    "share_of_inspections": ("share_of_inspections",),
}
#: The overall row of per_grade.csv.
OVERALL = "合计"


def _canonical(frame: pd.DataFrame, columns: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    rename = {}
    for canonical, aliases in columns.items():
        for alias in aliases:
            if alias in frame.columns and canonical not in rename.values():
                rename[alias] = canonical
                break
    return frame.rename(columns=rename)[list(rename.values())]


def _read_csv(path: Path, **kwargs) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return pd.read_csv(path, encoding="utf-8-sig", **kwargs)


def read_json(path: Path) -> dict | None:
    """A JSON file's content, or None when absent."""
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class PlanResults:
    """One sampling plan's evaluation (data/evaluation/<month>/<plan_id>/)."""

    plan_id: str
    per_grade: pd.DataFrame | None
    summary: dict
    reconciliation: dict
    strata: pd.DataFrame | None
    title: str = ""  # 计划名称 as recorded at the draw (draw.json), else the configured plan's

    @property
    def name(self) -> str:
        """What the page calls the plan: its Chinese title, never only its id."""
        return config_labels.plan_title(self.plan_id, self.title or None)


@dataclass
class MonthInputs:
    """Everything the report reads for one month; ``None`` where a file is absent."""

    month: str
    grade_summary: dict | None = None
    distribution: pd.DataFrame | None = None
    migration: pd.DataFrame | None = None
    region_industry: pd.DataFrame | None = None
    importance: pd.DataFrame | None = None
    warnings: pd.DataFrame | None = None  # enterprise level: only counted
    overrides: pd.DataFrame | None = None
    enterprises: pd.DataFrame | None = None  # uscc and name, for the leak check only
    history: list[tuple[str, dict]] = field(default_factory=list)
    plans: list[PlanResults] = field(default_factory=list)
    psi: pd.DataFrame | None = None
    health: dict | None = None

    @property
    def grade_codes(self) -> list[str]:
        """Grade codes, lowest risk first (from the grade summary, else the distribution)."""
        if self.grade_summary:
            return [str(g) for g in self.grade_summary.get("scheme", {}).get("grades", [])]
        if self.distribution is not None:
            return [str(g) for g in self.distribution["grade"]]
        return []

    @property
    def grade_labels(self) -> dict[str, str]:
        """Grade code → Chinese label (信用风险低 …)."""
        labels = dict((self.grade_summary or {}).get("scheme", {}).get("labels", {}))
        if not labels and self.distribution is not None and "label" in self.distribution:
            labels = dict(zip(self.distribution["grade"], self.distribution["label"], strict=True))
        return {str(k): str(v) for k, v in labels.items()}

    @property
    def model_label(self) -> str:
        """The grading model in Chinese (通用型信用风险评分模型), from its family's catalog."""
        summary = self.grade_summary or {}
        family = summary.get("family") or str(
            (summary.get("model") or {}).get("name", "")
        ).removeprefix("workbench-")
        return config_labels.model_label(family) if family else "—"

    @property
    def high_risk_grades(self) -> list[str]:
        """The grades counted as high risk, as the grade stage counts them (the worst two)."""
        return list(high_risk_grades(tuple(self.grade_codes)))


def _read_enterprises(folder: GradeFolder) -> pd.DataFrame | None:
    """Codes and names of the month's grade file (what the leak check searches for)."""
    if not folder.exists():
        return None
    import pyarrow.parquet as pq

    present = [c for c in ("uscc", "name") if c in pq.read_schema(folder.file("grades")).names]
    return folder.read_grades(columns=present)


def load_inputs(month: str) -> MonthInputs:
    """Read the month's stage outputs through the workspace catalog; absent files stay ``None``."""
    check_month(month)
    ws = workspace.current()
    grades = ws.grades.at(month)
    health = ws.health.at(month)
    inputs = MonthInputs(
        month=month,
        grade_summary=grades.maybe_json("summary"),
        distribution=grades.maybe_csv("distribution", dtype={"grade": str}),
        migration=grades.maybe_csv("migration", index_col=0),
        region_industry=grades.maybe_csv("region_industry", dtype={"region_code": str}),
        importance=grades.maybe_csv("importance"),
        warnings=grades.maybe_csv("warnings", dtype=str, keep_default_na=False),
        overrides=grades.maybe_csv("overrides"),
        enterprises=_read_enterprises(grades),
        psi=health.maybe_csv("psi"),
        health=health.maybe_json("health"),
    )
    for earlier in ws.grades.months():
        if earlier <= month:
            summary = ws.grades.at(earlier).maybe_json("summary")
            if summary:
                inputs.history.append((earlier, summary))
    inputs.history = inputs.history[-12:]
    for evaluation in ws.evaluations.in_month(month):
        per_grade = evaluation.maybe_csv("per_grade", dtype={"grade": str, "stratum": str})
        plan = ws.plans.at(month, evaluation.plan_id)
        inputs.plans.append(
            PlanResults(
                plan_id=evaluation.plan_id,
                per_grade=None if per_grade is None else _canonical(per_grade, PER_GRADE_COLUMNS),
                summary=_flatten(evaluation.maybe_json("summary") or {}),
                reconciliation=evaluation.maybe_json("reconciliation") or {},
                strata=plan.maybe_csv("strata"),
                title=str((plan.maybe_json("draw") or {}).get("title") or ""),
            )
        )
    return inputs


def first_month(inputs: MonthInputs) -> bool:
    """Whether the month is the first with grades: nothing before it to compare with.

    The grade summary says so (``previous_month`` empty); without it, no earlier month
    has a grade summary.
    """
    summary = inputs.grade_summary or {}
    if "previous_month" in summary:
        return not summary["previous_month"]
    if inputs.health and "previous" in inputs.health:
        return not inputs.health["previous"]
    return inputs.grade_summary is not None and not any(m < inputs.month for m, _ in inputs.history)


def migration_moves(inputs: MonthInputs) -> dict[str, int] | None:
    """Enterprises whose risk rose, fell or stayed, and new ones, from the migration matrix."""
    matrix, codes = inputs.migration, inputs.grade_codes
    if matrix is None or not codes:
        return None
    rank = {g: i for i, g in enumerate(codes)}
    moves = {"up": 0, "down": 0, "same": 0, "new": 0}
    for previous, row in matrix.iterrows():
        for current, count in row.items():
            if str(current) not in rank or not np.isfinite(count):
                continue
            if str(previous) not in rank:
                moves["new"] += int(count)
            elif rank[str(current)] > rank[str(previous)]:
                moves["up"] += int(count)
            elif rank[str(current)] < rank[str(previous)]:
                moves["down"] += int(count)
            else:
                moves["same"] += int(count)
    return moves


def high_risk(summary: dict, codes: list[str]) -> tuple[int, float] | None:
    """Enterprises in the ``codes`` grades and their share, from a grade summary."""
    counts, total = summary.get("counts") or {}, summary.get("enterprises")
    if not counts or not total:
        return None
    high = sum(int(counts.get(g, 0)) for g in codes)
    return high, high / float(total)


def _estimate(flat: dict, *bases: str) -> tuple[float | None, float | None, float | None]:
    """(value, low, high) of the first base given as ``{value, low, high}`` or a number."""
    for base in bases:
        value = _first(flat, base + ".value", base)
        if value is not None:
            low, high = _interval(flat, base)
            return value, low, high
    return None, None, None


def plan_overview(plan: PlanResults) -> dict[str, float | str | None]:
    """Headline figures of one plan's evaluation (summary.json of the evaluation stage).

    ``hit``: the plan's finding rate (检出率: findings among inspections with a verdict,
    Wilson interval); ``population``: the eligible frame's finding rate (HT), covering
    ``frame_population`` of ``graded_population`` graded enterprises (``coverage``);
    ``uniform_found``: the findings a uniform draw of the same size over the frame would
    expect, against ``found``; ``lift`` = their ratio per inspection, ``lift_note``
    样本不足 when no interval is meaningful; ``oracle_*``: the synthetic city's truth.
    """
    s = plan.summary
    inspected, found = _first(s, "inspected"), _first(s, "found")
    with_verdict = _first(s, "with_verdict")
    hit = _first(s, "hit_rate")
    hit_low, hit_high = _interval(s, "hit_rate")
    if hit is None and found is not None and (with_verdict or inspected):
        hit = found / (with_verdict or inspected)
    if hit_low is None and hit is not None:
        low, high = wilson_interval(np.array([found]), np.array([with_verdict or inspected]))
        hit_low, hit_high = float(low[0]), float(high[0])
    uniform_found, uniform_found_low, uniform_found_high = _estimate(
        s, "lift.uniform_expected_found"
    )
    lift, lift_low, lift_high = _estimate(s, "lift.lift", "lift")
    lift_note = s.get("lift.lift.note")
    if lift is None and found and uniform_found:
        lift = found / uniform_found
    if lift_low is None and lift is not None and not lift_note:
        lift_note = "样本不足"
    extra, extra_low, extra_high = _estimate(s, "lift.extra_found")
    population, population_low, population_high = _estimate(s, "population_rate")
    return {
        "inspected": inspected,
        "found": found,
        "excluded": _first(s, "no_verdict"),
        "hit": hit,
        "hit_low": hit_low,
        "hit_high": hit_high,
        "uniform_found": uniform_found,
        "uniform_found_low": uniform_found_low,
        "uniform_found_high": uniform_found_high,
        "lift": lift,
        "lift_low": lift_low,
        "lift_high": lift_high,
        "lift_note": lift_note,
        "extra_found": extra,
        "extra_low": extra_low,
        "extra_high": extra_high,
        "population": population,
        "population_low": population_low,
        "population_high": population_high,
        "population_note": s.get("population_rate.note"),
        "frame_population": _first(s, "population_rate.frame_population", "lift.frame_population"),
        "graded_population": _first(s, "population_rate.graded_population"),
        "coverage": _first(s, "population_rate.coverage"),
        "share_on_a": _first(s, "share_on_lowest_grade", "share_on_a"),
        "oracle_found": _first(s, "oracle.oracle_expected"),
        "oracle_true_risk": _first(s, "oracle.true_risk_expected"),
        "oracle_uniform": _first(s, "oracle.uniform_expected"),
        "oracle_model_plan": _first(s, "oracle.model_plan_expected"),
        "oracle_same_plan": _first(s, "oracle.same_plan_expected"),
        "oracle_captured": _first(s, "oracle.captured_share"),
        "oracle_inspections": _first(s, "oracle.inspections"),
    }


#: Reconciliation figures shown (counts only: the lists name tasks and enterprises).
RECONCILIATION_ROWS = (
    ("tasks", "抽查任务"),
    ("tasks_with_result", "已回填结果的任务"),
    ("tasks_without_result", "未回填结果的任务"),
    ("status_counts.unknown_task", "任务编号无法识别的结果"),
    ("status_counts.not_drawn", "非本计划抽中企业的结果"),
    ("status_counts.other_plan", "属于其他计划的结果"),
    ("status_counts.duplicate", "重复回填的结果"),
    ("results_quarantined", "格式错误被隔离的结果"),
    ("deadline.on_time", "已按期公示（20 个工作日内）"),
    ("deadline.late", "逾期后公示"),
    ("deadline.overdue", "逾期仍未公示"),
    ("deadline.open", "尚在公示期限内"),
)


def reconciliation_counts(plan: PlanResults) -> list[tuple[str, int]]:
    """(label, count) of the plan's result reconciliation and publication deadlines."""
    flat = {**_flatten(plan.reconciliation), **plan.summary}
    rows = []
    for key, label in RECONCILIATION_ROWS:
        value = _first(flat, key, key.replace("status_counts.", "reconciliation."))
        if value is not None:
            rows.append((label, int(value)))
    return rows


def _psi_id_column(psi: pd.DataFrame) -> str:
    for name in ("indicator", "variable", "feature"):
        if name in psi:
            return name
    return str(psi.columns[0])


def _psi_row(psi: pd.DataFrame | None, kind: str, ids: tuple[str, ...]) -> float | None:
    if psi is None or "psi" not in psi or psi.empty:
        return None
    ident = psi[_psi_id_column(psi)].astype(str)
    rows = psi[ident.isin(ids) | (psi["kind"].astype(str) == kind if "kind" in psi else False)]
    value = float(rows["psi"].iloc[0]) if len(rows) else None
    return value if value is not None and np.isfinite(value) else None


def score_psi(psi: pd.DataFrame | None) -> float | None:
    """PSI of the score against last month (psi.csv row ``score``)."""
    return _psi_row(psi, "score", ("score", "评分"))


def grade_psi(psi: pd.DataFrame | None) -> float | None:
    """PSI of the grade distribution against last month (psi.csv row ``grade``)."""
    return _psi_row(psi, "grade", ("grade", "等级"))


def indicator_psi(psi: pd.DataFrame) -> pd.DataFrame:
    """The indicators' rows of psi.csv as ``label`` (Chinese name) and ``psi``, highest first."""
    ident = _psi_id_column(psi)
    if "kind" in psi:
        rows = psi[psi["kind"].astype(str) == "indicator"]
    else:
        rows = psi[~psi[ident].astype(str).isin(["score", "评分", "grade", "等级"])]
    names = next((c for c in ("name_zh", "name") if c in rows and c != ident), ident)
    label = rows[names].where(rows[names].notna(), rows[ident]).astype(str)
    frame = pd.DataFrame({"label": label, "psi": rows["psi"].astype(float)})
    return frame.dropna(subset=["psi"]).sort_values("psi", ascending=False)


#: PSI wording, the same as the health stage's (稳定 / 关注 / 显著变化).
PSI_LEVELS = ("稳定", "关注", "显著变化")


def psi_status(value: float | None) -> str:
    """稳定 below 0.1, 关注 from 0.1, 显著变化 from 0.25 ('无数据' when unknown)."""
    if value is None:
        return "无数据"
    if value >= PSI_ALERT:
        return PSI_LEVELS[2]
    if value >= PSI_WATCH:
        return PSI_LEVELS[1]
    return PSI_LEVELS[0]


def health_messages(health: dict | None) -> list[str]:
    """Model-level warnings of health.json (strings, or dicts with a message)."""
    if not health:
        return []
    items = health.get("warnings") or []
    messages = []
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict):
            text = item.get("message_zh") or item.get("message") or item.get("text")
            messages.append(str(text if text else json.dumps(item, ensure_ascii=False)))
        else:
            messages.append(str(item))
    return messages
