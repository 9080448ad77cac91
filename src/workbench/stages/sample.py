"""The sample stage (双随机抽查): plan + grades + register → task list and public notice.

Writes, atomically (a failed run leaves an earlier draw as it was), into
``data/sampling/<YYYY-MM>/<plan_id>/``::

    tasks.parquet, tasks.csv    the internal task list (内部): one row per drawn enterprise
                                and item, with π, stratum, trigger, department, inspectors
    strata.csv                  per stratum: population, drawn, ratio, π, expected findings
                                against a uniform draw of the same size
    budget.csv                  (plans with a ``budget``) the proposed ratios for it
    draw.json                   plan and input hashes, seed, procedure, counts
    public/notice.csv, .html    the public notice (一公开), whitelisted columns only

``replay`` redraws from the same plan and inputs into a temporary folder and compares
every file byte for byte with the recorded draw; a difference raises
:class:`ReplayMismatch` naming the first differing file and row.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench import config, workspace
from workbench.errors import NotReadyError, ParameterError, WorkbenchError
from workbench.sampling import draw as draw_mod
from workbench.sampling import notice as notice_mod
from workbench.sampling import replay as replay_mod
from workbench.sampling.design import GRADE_COLUMNS, draw_sample
from workbench.sampling.plan import Plan, load_plan, packaged_plans
from workbench.sampling.replay import ReplayMismatch
from workbench.stages.registry import option
from workbench.workspace import csvsafe, integrity
from workbench.workspace.folders import GradeFolder, IngestFolder, PlanFolder, check_month
from workbench.workspace.integrity import sha256_file

__all__ = ["Parameters", "ReplayMismatch", "SamplingError", "run_sample"]

#: Ingested tables the stage reads (a missing event table means no events of that kind).
INPUT_TABLES = (
    "enterprises",
    "inspections",
    "complaints",
    "abnormal_list",
    "serious_violations",
    "penalties",
    "judicial",
    "licenses",
    "inspectors",
    "conflicts",
)


class SamplingError(WorkbenchError, ValueError):
    """The stage cannot run: missing grades or ingest, or a plan that does not fit them."""


@dataclass(frozen=True)
class Parameters:
    """Parameters of ``workbench sample`` (and of ``notebooks/05_sample.ipynb``)."""

    plan: str = option(
        "",
        "plan YAML, or the name of a configured plan (conf/plans/, presets henan_2021, "
        "bayannur, demo_monthly)",
        positional=True,
        metavar="PLAN",
    )
    month: str = option("", "grade month YYYY-MM (default: the latest graded month)")
    grades: str = option("", "grade folder (instead of --month)", path=True)
    data: str = option(
        "", "ingest folder of that month (default: data/ingest/<YYYY-MM>)", path=True
    )
    out: str = option("", "output folder (default: data/sampling/<YYYY-MM>/<plan id>)", path=True)
    replay: bool = option(
        False, "redraw, compare byte for byte with the recorded draw, write nothing"
    )


def resolve(params: Parameters, settings: config.Settings | None = None) -> Parameters:
    """Fill the defaults (the latest grades, the month's ingest) and check the plan.

    Raises:
        ParameterError: no plan named, a bad month; NotReadyError: no grades or ingest.
    """
    ws = workspace.current()
    if not params.plan:
        raise ParameterError(
            "name a plan: a plan YAML file or one of " + ", ".join(packaged_plans())
        )
    plan = load_plan(params.plan)
    if params.grades:
        grades = GradeFolder(Path(params.grades))
    elif params.month:
        grades = ws.grades.at(check_month(params.month, "--month"))
    else:
        latest = ws.grades.latest_month()
        if latest is None:
            raise NotReadyError(
                f"no grades under {ws.grades.root}: run `workbench grade` first, then sample"
            )
        grades = ws.grades.at(latest)
    grades.require("grade that month first (workbench grade --month YYYY-MM)")
    integrity.require_intact(grades.path, params.month or None)  # tampered: never drawn from
    month = _grade_month(grades)
    data = IngestFolder(Path(params.data)) if params.data else ws.ingest.for_month(month)
    if data is None or not data.exists():
        raise NotReadyError(
            f"no ingest for {month} (data/ingest/{month}): ingest that month or pass --data"
        )
    if params.out and not params.replay:
        workspace.check_replaceable(params.out, PlanFolder.MARKER)
    out = params.out or str(ws.plans.at(month, plan.id).path)
    # a plan file's absolute path: the notebook runs in a directory of its own, where a
    # path relative to the caller's working directory names nothing
    source = str(Path(plan.source).resolve()) if plan.source else params.plan
    return Parameters(source, month, str(grades.path), str(data.path), out, params.replay)


def run(params: Parameters, settings: config.Settings | None = None) -> dict:
    """Draw (or replay) the plan; return the draw record."""
    return run_sample(params.plan, params.grades, params.out, params.replay, params.data)


def read(params: Parameters) -> dict:
    """The draw record of a finished draw."""
    return {**PlanFolder(Path(params.out)).draw(), "out": params.out}


def notebook_skipped(params: Parameters) -> bool:
    """A replay writes nothing, so there is nothing new to show."""
    return params.replay


def month(params: Parameters) -> str:
    """The grade month the plan was drawn on."""
    return params.month


def describe(params: Parameters, record: dict) -> list[str]:
    """What the CLI prints."""
    out = PlanFolder(Path(params.out))
    if params.replay:
        return [f"replay of {out.path}: identical, byte for byte ({len(record['files'])} files)"]
    c = record["counts"]
    lines = [
        f"{record['title']} ({record['plan_id']}, {record['month']}): "
        f"{c['drawn_enterprises']:,} of {c['eligible']:,} eligible enterprises drawn "
        f"({c['excluded']:,} excluded, {c['not_triggered']:,} not triggered), {c['tasks']:,} tasks",
        f"  expected problems found: {record['expected_findings']:.1f}, against "
        f"{record['uniform_expected_findings']:.1f} for a uniform draw of the same size",
    ]
    lines += [f"  warning: {w}" for w in record["warnings"]]
    lines += [
        f"task list (internal): {out.file('tasks_csv')}",
        f"public notice: {out.file('notice_html')}",
        f"replay it with: workbench sample {shlex.quote(_plan_argument(params.plan))} "
        f"--grades {shlex.quote(str(params.grades))} --data {shlex.quote(str(params.data))} "
        f"--out {shlex.quote(str(params.out))} --replay",
    ]
    return lines


def _plan_argument(plan: str) -> str:
    """How to name the plan again: a configured plan's name, else its file's absolute path."""
    for name, path in packaged_plans().items():
        if plan == name or Path(path).resolve() == Path(plan).resolve():
            return name
    return plan


def cycle_parameters(ctx) -> Parameters:
    """The cycle draws its plan on the month's grades."""
    return Parameters(plan=ctx.plan, month=ctx.month)


def _grade_month(grades: GradeFolder) -> str:
    summary = grades.maybe_json("summary")
    if summary:
        return str(pd.Timestamp(str(summary["snapshot"])).strftime("%Y-%m"))
    snap = grades.read_grades(columns=["snapshot"])["snapshot"].max()
    return f"{pd.Timestamp(snap):%Y-%m}"


def _entry(path: Path, base: Path) -> dict:
    """An input file as recorded: its path relative to its folder and its SHA-256.

    Relative paths keep draw.json the same wherever the workspace lies, so a copy of the
    inputs elsewhere (an auditor's) replays to the same bytes; the hash identifies it.
    """
    return {"file": path.relative_to(base).as_posix(), "sha256": sha256_file(path)}


def _read_grades(folder: GradeFolder) -> tuple[pd.DataFrame, list[str], dict[str, str], str]:
    file = folder.file("grades")
    if not folder.exists():
        raise SamplingError(f"{folder.path} holds no grades")
    grades = folder.read_grades()
    missing = [c for c in GRADE_COLUMNS if c not in grades]
    if missing:
        raise SamplingError(f"{file}: missing column(s) {', '.join(missing)}")
    grades = grades[list(GRADE_COLUMNS)].copy()
    for col in ("uscc", "name", "entity_type", "industry_section", "region_code", "grade"):
        grades[col] = grades[col].astype("string")
    summary = folder.maybe_json("summary")
    if summary:
        scheme = summary.get("scheme") or {}
        order = [str(g) for g in scheme.get("grades", [])]
        labels = {str(k): str(v) for k, v in (scheme.get("labels") or {}).items()}
        month = str(pd.Timestamp(str(summary["snapshot"])).strftime("%Y-%m"))
    else:
        order, labels, month = [], {}, _grade_month(folder)
    if not order:
        order = sorted(grades["grade"].dropna().unique().tolist())
    missing_grade = int(grades["grade"].isna().sum())
    if missing_grade:
        raise SamplingError(f"{file}: {missing_grade} enterprise(s) have no grade")
    unknown = sorted(set(grades["grade"].dropna()) - set(order))
    if unknown:
        raise SamplingError(f"{file}: grade(s) {', '.join(unknown)} not in the scheme {order}")
    return grades, order, labels, month


def _read_tables(ingest: IngestFolder) -> dict[str, pd.DataFrame]:
    if not ingest.has_table("enterprises"):
        raise SamplingError(
            f"no ingested register at {ingest.table_path('enterprises')}: ingest the month first"
        )
    if not ingest.has_table("inspectors"):
        raise SamplingError(
            f"no inspector register (执法检查人员名录库) at {ingest.table_path('inspectors')}"
        )
    return {name: ingest.read_table(name) for name in INPUT_TABLES if ingest.has_table(name)}


def earlier_task_lists(month: str) -> list[Path]:
    """Task lists of months strictly before ``month``, every plan's.

    Strictly earlier months only: a draw then never depends on later draws or on the
    order in which a month's plans were drawn, so a replay sees the same history.
    """
    plans = workspace.current().plans
    return sorted(p.file("tasks") for p in plans.all() if p.month < month)


def _read_earlier(paths: list[Path]) -> pd.DataFrame | None:
    # exclusions and workloads need the first six; calibrating expected rates the rest
    cols = ["task_id", "uscc", "item", "window_start", "window_end", "inspectors"]
    cols += ["plan_id", "snapshot", "grade", "inclusion_probability"]
    frames = [pd.read_parquet(p, columns=cols) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else None


# ------------------------------------------------------------------------------ the draw


# ------------------------------------------------------------------------------ writing


def _draw_record(plan, month, result, inputs, grades_file, register_file) -> dict:
    tasks, strata = result["tasks"], result["strata"]
    start, end = result["window"]
    dept_counts = tasks.groupby("department", sort=True).size()
    return {
        "plan_id": plan.id,
        "title": plan.title,
        "month": month,
        "snapshot": str(result["snapshot"].date()),
        "seed": plan.seed,
        "procedure": draw_mod.PROCEDURE,
        "procedure_text": draw_mod.PROCEDURE_TEXT,
        "plan": {"file": plan.source.name if plan.source else "", "sha256": plan.sha256},
        "register": _entry(register_file, register_file.parent.parent),
        "grades": _entry(grades_file, grades_file.parent),
        "inputs": inputs,
        "window": {"start": str(start.date()), "end": str(end.date())},
        "inspectors_per_task": plan.inspectors_per_task,
        "max_tasks_per_inspector": plan.max_tasks_per_inspector,
        "counts": {
            "population": int(strata["registered"].sum()),
            "excluded": int(strata["excluded"].sum()),
            "not_triggered": int(strata["not_triggered"].sum()),
            "eligible": int(strata["population"].sum()),
            "drawn_enterprises": int(strata["drawn"].sum()),
            "tasks": len(tasks),
            "by_stratum": {
                s: {"population": int(p), "drawn": int(d)}
                for s, p, d in zip(
                    strata["stratum"], strata["population"], strata["drawn"], strict=True
                )
            },
            "by_department": {str(k): int(v) for k, v in dept_counts.items()},
        },
        "warnings": result["warnings"],
        "expected_findings": round(float(strata["expected_findings"].sum()), 6),
        "uniform_expected_findings": round(float(strata["uniform_expected_findings"].sum()), 6),
        "uniform_draw": {
            "over": "eligible_frame",
            "text": "a draw of the same size, uniform over the plan's eligible frame "
            "(not excluded; triggered where the grade is triggered-only)",
            "frame": int(strata["population"].sum()),
            "drawn": int(strata["drawn"].sum()),
        },
        "expected_rates": _expected_rates(plan, strata),
    }


#: What each ``rate_source`` of strata.csv means (stated in draw.json).
RATE_SOURCES = {
    "hit_rate": "past plans' results of the last 12 months, per grade at the draw, "
    "weighted by 1/π (检查发现问题率)",
    "pd": "the model's mean 12-month PD (未经检查结果校准: no past results to calibrate on)",
}


def _expected_rates(plan: Plan, strata: pd.DataFrame) -> dict:
    """Where the expected finding rates came from, per grade (draw.json)."""
    by_grade = strata.groupby("grade", sort=False).agg(
        source=("rate_source", "first"),
        drawn=("drawn", "sum"),
        expected=("expected_findings", "sum"),
    )
    return {
        "setting": plan.expected_rates,
        "by_grade": {
            str(g): {
                "source": str(row.source),
                "rate": round(float(row.expected / row.drawn), 6) if row.drawn else None,
            }
            for g, row in by_grade.iterrows()
        },
        "sources": {k: v for k, v in RATE_SOURCES.items() if k in set(by_grade["source"])},
    }


def _write(path: Path, plan: Plan, result: dict, record: dict) -> None:
    folder = PlanFolder(path)
    tasks = result["tasks"]
    tasks.to_parquet(folder.file("tasks"), index=False)
    csvsafe.to_csv(tasks, folder.file("tasks_csv"))
    csvsafe.to_csv(result["strata"], folder.file("strata"))
    if result["budget"] is not None:
        csvsafe.to_csv(result["budget"].table, folder.file("budget"))
    workspace.write_json(folder.file("draw"), record)
    folder.file("public").mkdir()
    notice = notice_mod.build_notice(tasks, plan)
    csvsafe.to_csv(notice, folder.file("notice_csv"))
    folder.file("notice_html").write_text(
        notice_mod.render_notice_html(notice, plan), encoding="utf-8"
    )


def run_sample(
    plan_path: str | Path,
    grades_dir: str | Path,
    out_dir: str | Path | None = None,
    replay: bool = False,
    ingest_dir: str | Path | None = None,
) -> dict:
    """Draw a plan on a month's grades and write the task list and public notice.

    Args:
        plan_path: a plan YAML file or a packaged preset's name.
        grades_dir: ``data/grades/<YYYY-MM>`` (grades.parquet, summary.json).
        out_dir: default ``data/sampling/<YYYY-MM>/<plan_id>``.
        replay: redraw and compare with the recorded draw in ``out_dir``, writing nothing.
        ingest_dir: the ingested tables of the same month (default ``data/ingest/<YYYY-MM>``).

    Returns:
        The draw record (draw.json's content) plus ``out``; with ``replay``,
        ``{"replay": "identical", "out": ..., "files": [...]}``.

    Raises:
        PlanError, SamplingError, InfeasiblePlan, BudgetError: the draw cannot be made.
        ReplayMismatch: the replayed draw differs from the recorded one.
    """
    plan = load_plan(plan_path)
    ws = workspace.current()
    grades_folder = GradeFolder(Path(grades_dir))
    grades, order, labels, month = _read_grades(grades_folder)
    ingest = IngestFolder(Path(ingest_dir)) if ingest_dir else ws.ingest.at(month)
    tables = _read_tables(ingest)
    history = earlier_task_lists(month)
    earlier = _read_earlier(history)
    result = draw_sample(plan, grades, order, month, tables, earlier, labels)
    out = Path(out_dir) if out_dir else ws.plans.at(month, plan.id).path
    inputs = {
        name: _entry(ingest.table_path(name), ingest.path)
        for name in INPUT_TABLES
        if name != "enterprises" and ingest.has_table(name)
    }
    if plan.triggers.referrals is not None:
        referrals = Path(plan.triggers.referrals)
        inputs["referrals"] = _entry(referrals, referrals.parent)
    inputs["earlier_task_lists"] = [_entry(p, ws.plans.root) for p in history]
    record = _draw_record(
        plan,
        month,
        result,
        inputs,
        grades_folder.file("grades"),
        ingest.table_path("enterprises"),
    )
    if replay:
        if not PlanFolder(out).exists():
            raise SamplingError(f"nothing recorded at {out} to replay (no draw)")
        return replay_mod.compare(out, lambda tmp: _write(tmp, plan, result, record), record)
    with workspace.atomic_directory(out, PlanFolder.MARKER) as tmp:
        _write(tmp, plan, result, record)
    return {**record, "out": str(out)}


def read_outputs(out_dir: str | Path) -> dict:
    """The files of one draw: tasks, strata, draw record, budget (or None), notice."""
    out = PlanFolder(Path(out_dir))
    return {
        "tasks": out.read_tasks(),
        "strata": out.read_csv("strata", dtype={"stratum": str}),
        "draw": out.draw(),
        "budget": out.maybe_csv("budget"),
        "notice": out.read_csv("notice_csv", dtype=str),
    }


def cycle_record(ctx, record: dict, echo) -> None:
    """Tell the cycle which plan was drawn (the evaluation's input)."""
    ctx.plan_id = record["plan_id"]
    ctx.record["tasks"] = record["counts"]["tasks"]
