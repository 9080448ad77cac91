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

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import workspace
from workbench.integrity import sha256_file
from workbench.sampling import budget as budget_mod
from workbench.sampling import draw as draw_mod
from workbench.sampling import inspectors as insp_mod
from workbench.sampling import notice as notice_mod
from workbench.sampling import population as pop_mod
from workbench.sampling.plan import GradeRule, Plan, load_plan

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

#: Columns of tasks.parquet, in order (docs: shared interfaces, "Sampling").
TASK_COLUMNS = (
    "task_id",
    "plan_id",
    "draw_order",
    "uscc",
    "name",
    "grade",
    "stratum",
    "inclusion_probability",
    "trigger",
    "item",
    "department",
    "inspectors",
    "inspector_names",
    "region_code",
    "industry_section",
    "snapshot",
    "window_start",
    "window_end",
    "seed",
)

#: Files compared by replay, in this order (the first difference is reported).
OUTPUT_FILES = (
    "tasks.csv",
    "tasks.parquet",
    "strata.csv",
    "budget.csv",
    "draw.json",
    "public/notice.csv",
    "public/notice.html",
)

GRADE_COLUMNS = (
    "uscc",
    "name",
    "snapshot",
    "entity_type",
    "industry_section",
    "region_code",
    "pd",
    "grade",
)


class SamplingError(ValueError):
    """The stage cannot run: missing grades or ingest, or a plan that does not fit them."""


class ReplayMismatch(RuntimeError):
    """A replayed draw differs from the recorded one (names the first file and row)."""


@dataclass(frozen=True)
class SampleParameters:
    """Checked parameters of the sample stage."""

    plan: Path
    grades: Path
    out: Path
    month: str


def sampling_root() -> Path:
    """Where every month's draws live: ``data/sampling``."""
    return workspace.data_dir() / "sampling"


def latest_grades_dir() -> Path:
    """The newest ``data/grades/<YYYY-MM>`` holding a grade file.

    Raises:
        SamplingError: when no grades exist yet.
    """
    root = workspace.data_dir() / "grades"
    months = sorted(p for p in root.glob("????-??") if (p / "grades.parquet").is_file())
    if not months:
        raise SamplingError(
            f"no grade files under {root}: grade the enterprises first (workbench grade), "
            "then draw the sample"
        )
    return months[-1]


def resolve_parameters(
    plan: str = "", grades: str = "", month: str = "", out: str = ""
) -> SampleParameters:
    """Fill the defaults: the demo plan, the latest (or ``month``'s) grades, the output path.

    Raises:
        SamplingError: for missing grades; PlanError for a bad plan.
    """
    from workbench.sampling.plan import default_plan_path, resolve_plan_path

    plan_path = resolve_plan_path(plan) if plan else default_plan_path()
    if grades:
        grades_dir = Path(grades)
    elif month:
        grades_dir = workspace.data_dir() / "grades" / month
    else:
        grades_dir = latest_grades_dir()
    if not (grades_dir / "grades.parquet").is_file():
        raise SamplingError(f"{grades_dir} holds no grades.parquet (grade that month first)")
    grade_month = _grade_month(grades_dir)
    plan_id = load_plan(plan_path).id
    out_path = Path(out) if out else sampling_root() / grade_month / plan_id
    return SampleParameters(plan_path, grades_dir, out_path, grade_month)


def _grade_month(grades_dir: Path) -> str:
    summary_file = grades_dir / "summary.json"
    if summary_file.is_file():
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        return str(pd.Timestamp(str(summary["snapshot"])).strftime("%Y-%m"))
    snap = pd.read_parquet(grades_dir / "grades.parquet", columns=["snapshot"])["snapshot"].max()
    return f"{pd.Timestamp(snap):%Y-%m}"


def _entry(path: Path, base: Path) -> dict:
    """An input file as recorded: its path relative to its folder and its SHA-256.

    Relative paths keep draw.json the same wherever the workspace lies, so a copy of the
    inputs elsewhere (an auditor's) replays to the same bytes; the hash identifies it.
    """
    return {"file": path.relative_to(base).as_posix(), "sha256": sha256_file(path)}


def _read_grades(grades_dir: Path) -> tuple[pd.DataFrame, list[str], dict[str, str], str]:
    file = grades_dir / "grades.parquet"
    if not file.is_file():
        raise SamplingError(f"{grades_dir} holds no grades.parquet")
    grades = pd.read_parquet(file)
    missing = [c for c in GRADE_COLUMNS if c not in grades]
    if missing:
        raise SamplingError(f"{file}: missing column(s) {', '.join(missing)}")
    grades = grades[list(GRADE_COLUMNS)].copy()
    for col in ("uscc", "name", "entity_type", "industry_section", "region_code", "grade"):
        grades[col] = grades[col].astype("string")
    summary_file = grades_dir / "summary.json"
    if summary_file.is_file():
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        scheme = summary.get("scheme") or {}
        order = [str(g) for g in scheme.get("grades", [])]
        labels = {str(k): str(v) for k, v in (scheme.get("labels") or {}).items()}
        month = str(pd.Timestamp(str(summary["snapshot"])).strftime("%Y-%m"))
    else:
        order, labels, month = [], {}, _grade_month(grades_dir)
    if not order:
        order = sorted(grades["grade"].dropna().unique().tolist())
    missing_grade = int(grades["grade"].isna().sum())
    if missing_grade:
        raise SamplingError(f"{file}: {missing_grade} enterprise(s) have no grade")
    unknown = sorted(set(grades["grade"].dropna()) - set(order))
    if unknown:
        raise SamplingError(f"{file}: grade(s) {', '.join(unknown)} not in the scheme {order}")
    return grades, order, labels, month


def _read_tables(ingest_dir: Path) -> dict[str, pd.DataFrame]:
    folder = ingest_dir / "tables"
    if not (folder / "enterprises.parquet").is_file():
        raise SamplingError(
            f"no ingested register at {folder / 'enterprises.parquet'}: ingest the month first"
        )
    if not (folder / "inspectors.parquet").is_file():
        raise SamplingError(
            f"no inspector register (执法检查人员名录库) at {folder / 'inspectors.parquet'}"
        )
    return {
        name: pd.read_parquet(folder / f"{name}.parquet")
        for name in INPUT_TABLES
        if (folder / f"{name}.parquet").is_file()
    }


def earlier_task_lists(month: str, root: Path | None = None) -> list[Path]:
    """Task lists of months strictly before ``month``, every plan's.

    Strictly earlier months only: a draw then never depends on later draws or on the
    order in which a month's plans were drawn, so a replay sees the same history.
    """
    root = root or sampling_root()
    return sorted(p for p in root.glob("????-??/*/tasks.parquet") if p.parent.parent.name < month)


def _read_earlier(paths: list[Path]) -> pd.DataFrame | None:
    cols = ["task_id", "uscc", "item", "window_start", "window_end", "inspectors"]
    frames = [pd.read_parquet(p, columns=cols) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else None


# ------------------------------------------------------------------------------ the draw


def draw_sample(
    plan: Plan,
    grades: pd.DataFrame,
    grade_order: list[str],
    month: str,
    tables: dict[str, pd.DataFrame],
    earlier_tasks: pd.DataFrame | None = None,
    labels: dict[str, str] | None = None,
) -> dict:
    """The whole draw in memory: frame, strata, drawn enterprises, staffed tasks, budget.

    Returns a dict with ``frame``, ``strata``, ``tasks``, ``budget`` (a
    :class:`~workbench.sampling.budget.BudgetProposal` or None), ``snapshot`` and
    ``window``.
    """
    plan.check_grades(grade_order)
    snapshot = pd.Timestamp(month) + pd.offsets.MonthEnd(0)
    window_start, window_end = plan.window.resolve(snapshot)
    if plan.triggers.referrals is not None:
        tables = {**tables, "referrals": pop_mod.read_referrals(plan.triggers.referrals)}
    frame = pop_mod.build_frame(grades, plan, snapshot, tables, earlier_tasks)
    hits = None
    if plan.expected_rates == "hit_rate":
        hits = budget_mod.rates_from_hits(grades, tables.get("inspections"), snapshot)

    proposal = None
    rules = dict(plan.grades)
    if plan.budget is not None:
        eligible = frame[frame["eligible"]]
        sizes = eligible.groupby("grade").size()
        rates = _grade_rates(eligible, hits)
        proposal = budget_mod.propose_ratios(
            {g: int(sizes.get(g, 0)) for g in grade_order},
            {g: float(rates.get(g, 0.0)) for g in grade_order},
            plan.budget.inspections,
            {g: float(v) for g, v in plan.budget.floors.items()},
            {g: float(v) for g, v in plan.budget.ceilings.items()},
            float(plan.budget.overall_floor),
            overall_base=len(frame),
        )
        if plan.budget.apply:
            rules = {
                g: GradeRule(ratio, rules[g].min, rules[g].max, rules[g].triggered_only)
                for g, ratio in proposal.ratios().items()
            }

    counts = draw_mod.stratum_counts(frame, rules, grade_order)
    drawn = draw_mod.draw(frame, counts, plan.seed, plan.id, month)
    tasks = _expand_tasks(drawn, plan, month, snapshot, window_start, window_end)
    tasks = insp_mod.assign_inspectors(
        tasks, tables["inspectors"], plan, month, tables.get("conflicts"), earlier_tasks
    )
    tasks = tasks[list(TASK_COLUMNS)]
    strata = _strata_table(frame, counts, rules, labels or {}, plan, hits)
    warnings = [
        f"department {d}: no inspector of the register (执法检查人员名录库) belongs to it"
        for d in insp_mod.departments_without_inspectors(tables["inspectors"], plan)
    ]
    return {
        "warnings": warnings,
        "frame": frame,
        "strata": strata,
        "tasks": tasks,
        "budget": proposal,
        "snapshot": snapshot,
        "window": (window_start, window_end),
        "rules": rules,
    }


def _grade_rates(rows: pd.DataFrame, hits: pd.DataFrame | None) -> pd.Series:
    if hits is not None:
        return hits["rate"]
    return budget_mod.rates_from_pd(rows)


def _expand_tasks(drawn, plan, month, snapshot, window_start, window_end) -> pd.DataFrame:
    """One task per drawn enterprise and plan item, in draw order then item order."""
    n_items = len(plan.items)
    rep = drawn.loc[drawn.index.repeat(n_items)].reset_index(drop=True)
    item_no = np.tile(np.arange(1, n_items + 1), len(drawn))
    rep["item"] = pd.array(
        [plan.items[i - 1].name for i in item_no] if len(rep) else [], dtype="string"
    )
    compact = month.replace("-", "")
    rep["task_id"] = pd.array(
        [
            f"{plan.id}-{compact}-{o:05d}-{i}"
            for o, i in zip(rep["draw_order"].to_numpy(), item_no, strict=True)
        ],
        dtype="string",
    )
    rep["plan_id"] = pd.array([plan.id] * len(rep), dtype="string")
    rep["snapshot"] = pd.Series(snapshot, index=rep.index).astype("datetime64[ms]")
    rep["window_start"] = pd.Series(window_start, index=rep.index).astype("datetime64[ms]")
    rep["window_end"] = pd.Series(window_end, index=rep.index).astype("datetime64[ms]")
    rep["seed"] = np.int64(plan.seed)
    rep["draw_order"] = rep["draw_order"].astype("int64")
    rep["inclusion_probability"] = rep["inclusion_probability"].astype("float64")
    for col in ("uscc", "name", "grade", "stratum", "trigger", "region_code", "industry_section"):
        rep[col] = rep[col].astype("string")
    return rep


def _strata_table(frame, counts, rules, labels, plan, hits) -> pd.DataFrame:
    """Per stratum: frame sizes, draw, π, expected findings against a uniform draw."""
    keys = ["stratum", "grade"]
    g = frame.groupby(keys, sort=False)
    table = counts.copy()
    by = table.set_index(keys).index

    def per(series: pd.Series, fill=0):
        return series.reindex(by).fillna(fill).to_numpy()

    table["registered"] = per(g.size()).astype(np.int64)
    table["excluded"] = per(g["excluded"].sum()).astype(np.int64)
    table["not_triggered"] = table["registered"] - table["excluded"] - table["population"]
    table["label"] = table["grade"].map(lambda x: labels.get(x, x))
    if plan.by_region:
        table["region_code"] = table["stratum"].str.split("/").str[1]
    table["ratio"] = [float(rules[x].ratio) for x in table["grade"]]
    eligible, open_ = frame[frame["eligible"]], frame[~frame["excluded"]]
    if hits is not None:
        rate = table["grade"].map(hits["rate"]).astype(float).to_numpy()
        uniform_rate = rate
        table["rate_source"] = table["grade"].map(hits["source"])
    else:
        rate = per(eligible.groupby(keys, sort=False)["pd"].mean(), np.nan)
        uniform_rate = per(open_.groupby(keys, sort=False)["pd"].mean(), np.nan)
        table["rate_source"] = "pd"
    table["expected_rate"] = rate
    table["expected_findings"] = np.nan_to_num(table["drawn"].to_numpy() * rate)
    open_size = per(open_.groupby(keys, sort=False).size())
    total_open = open_size.sum()
    share = open_size / total_open if total_open else open_size * 0.0
    table["uniform_drawn"] = share * table["drawn"].sum()
    table["uniform_expected_findings"] = np.nan_to_num(table["uniform_drawn"] * uniform_rate)
    order = ["stratum", "grade", "label"] + (["region_code"] if plan.by_region else [])
    order += [
        "registered",
        "excluded",
        "not_triggered",
        "population",
        "drawn",
        "ratio",
        "inclusion_probability",
        "rate_source",
        "expected_rate",
        "expected_findings",
        "uniform_drawn",
        "uniform_expected_findings",
    ]
    return table[order]


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
    }


def _write(folder: Path, plan: Plan, result: dict, record: dict) -> None:
    tasks = result["tasks"]
    tasks.to_parquet(folder / "tasks.parquet", index=False)
    tasks.to_csv(folder / "tasks.csv", index=False, encoding="utf-8-sig")
    result["strata"].to_csv(folder / "strata.csv", index=False, encoding="utf-8-sig")
    if result["budget"] is not None:
        result["budget"].table.to_csv(folder / "budget.csv", index=False, encoding="utf-8-sig")
    workspace.write_json(folder / "draw.json", record)
    public = folder / "public"
    public.mkdir()
    notice = notice_mod.build_notice(tasks, plan)
    notice.to_csv(public / "notice.csv", index=False, encoding="utf-8-sig")
    (public / "notice.html").write_text(
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
    grades_dir = Path(grades_dir)
    grades, order, labels, month = _read_grades(grades_dir)
    ingest = Path(ingest_dir) if ingest_dir else workspace.ingest_dir(month)
    tables = _read_tables(ingest)
    history = earlier_task_lists(month)
    earlier = _read_earlier(history)
    result = draw_sample(plan, grades, order, month, tables, earlier, labels)
    out = Path(out_dir) if out_dir else sampling_root() / month / plan.id
    folder = ingest / "tables"
    inputs = {
        name: _entry(folder / f"{name}.parquet", ingest)
        for name in INPUT_TABLES
        if name != "enterprises" and (folder / f"{name}.parquet").is_file()
    }
    if plan.triggers.referrals is not None:
        referrals = Path(plan.triggers.referrals)
        inputs["referrals"] = _entry(referrals, referrals.parent)
    inputs["earlier_task_lists"] = [_entry(p, sampling_root()) for p in history]
    record = _draw_record(
        plan, month, result, inputs, grades_dir / "grades.parquet", folder / "enterprises.parquet"
    )
    if replay:
        return _replay(out, plan, result, record)
    with workspace.atomic_directory(out) as tmp:
        _write(tmp, plan, result, record)
    return {**record, "out": str(out)}


# ------------------------------------------------------------------------------ replay


def _replay(out: Path, plan: Plan, result: dict, record: dict) -> dict:
    if not (out / "draw.json").is_file():
        raise SamplingError(f"nothing recorded at {out} to replay (no draw.json)")
    tmp = Path(tempfile.mkdtemp(prefix="replay-"))
    try:
        _write(tmp, plan, result, record)
        compared = []
        for name in OUTPUT_FILES:
            recorded, replayed = out / name, tmp / name
            if not recorded.exists() and not replayed.exists():
                continue
            compared.append(name)
            if not recorded.exists() or not replayed.exists():
                which = "recorded draw lacks" if not recorded.exists() else "replay does not make"
                raise ReplayMismatch(f"{name}: the {which} this file{_inputs_note(out, record)}")
            if recorded.read_bytes() != replayed.read_bytes():
                raise ReplayMismatch(
                    f"{name}: {_first_difference(recorded, replayed)}{_inputs_note(out, record)}"
                )
        extra = sorted(
            str(p.relative_to(out))
            for p in out.rglob("*")
            if p.is_file()
            if str(p.relative_to(out)) not in OUTPUT_FILES
        )
        if extra:
            raise ReplayMismatch(f"{extra[0]}: not part of a draw (the folder was changed)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"replay": "identical", "out": str(out), "files": compared}


def _same(a, b) -> bool:
    missing_a, missing_b = pd.isna(a), pd.isna(b)
    if missing_a or missing_b:
        return bool(missing_a and missing_b)
    return bool(a == b)


def _first_difference(recorded: Path, replayed: Path) -> str:
    if recorded.suffix == ".parquet":
        a, b = pd.read_parquet(recorded), pd.read_parquet(replayed)
        if list(a.columns) != list(b.columns):
            return f"columns differ: recorded {list(a.columns)}, replayed {list(b.columns)}"
        for i in range(min(len(a), len(b))):
            ra, rb = a.iloc[i], b.iloc[i]
            for col in a.columns:
                va, vb = ra[col], rb[col]
                if not _same(va, vb):
                    return (
                        f"row {i + 1} ({a.iloc[i].get('task_id', '')}), column {col}: "
                        f"recorded {va!r}, replayed {vb!r}"
                    )
        if len(a) != len(b):
            return f"recorded {len(a)} rows, replayed {len(b)}"
        return "same values, different bytes"
    la = recorded.read_text(encoding="utf-8-sig").splitlines()
    lb = replayed.read_text(encoding="utf-8-sig").splitlines()
    csv = recorded.suffix == ".csv"
    for i, (x, y) in enumerate(zip(la, lb, strict=False)):
        if x != y:
            where = ("header" if i == 0 else f"row {i}") if csv else f"line {i + 1}"
            return f"{where}: recorded {x[:300]!r}, replayed {y[:300]!r}"
    if len(la) != len(lb):
        unit = "rows" if csv else "lines"
        off = 1 if csv else 0
        return f"recorded {len(la) - off} {unit}, replayed {len(lb) - off}"
    return "same text, different bytes (encoding or line endings)"


def _inputs_note(out: Path, record: dict) -> str:
    try:
        old = json.loads((out / "draw.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    changed = []
    if old.get("plan", {}).get("sha256") != record["plan"]["sha256"]:
        changed.append("plan file")
    for key in ("register", "grades"):
        if old.get(key, {}).get("sha256") != record[key]["sha256"]:
            changed.append(f"{key} ({record[key]['file']})")
    old_inputs = old.get("inputs", {})
    for key, value in record["inputs"].items():
        if key == "earlier_task_lists":
            before = [e.get("sha256") for e in old_inputs.get(key, [])]
            if before != [e["sha256"] for e in value]:
                changed.append("earlier task lists")
        elif old_inputs.get(key, {}).get("sha256") != value["sha256"]:
            changed.append(key)
    return f" [inputs changed since the recorded draw: {', '.join(changed)}]" if changed else ""


def read_outputs(out_dir: str | Path) -> dict:
    """The files of one draw: tasks, strata, draw record, budget (or None), notice."""
    out = Path(out_dir)
    budget_file = out / "budget.csv"
    return {
        "tasks": pd.read_parquet(out / "tasks.parquet"),
        "strata": pd.read_csv(out / "strata.csv", encoding="utf-8-sig", dtype={"stratum": str}),
        "draw": json.loads((out / "draw.json").read_text(encoding="utf-8")),
        "budget": pd.read_csv(budget_file, encoding="utf-8-sig") if budget_file.is_file() else None,
        "notice": pd.read_csv(out / "public" / "notice.csv", encoding="utf-8-sig", dtype=str),
    }
