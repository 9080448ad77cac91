"""The evaluation stage (抽查效果评估): results in, reconciled, published, evaluated.

For one plan (``data/sampling/<YYYY-MM>/<plan_id>/``) it reads the results (a bureau's
``inspections`` export, or on the synthetic city results simulated from the truth),
and writes, atomically, ``data/evaluation/<YYYY-MM>/<plan_id>/``::

    results.parquet          the results as contract ``inspections`` rows (+ their
                             reconciliation status): the events the next ingest adds
    reconciliation.json/.csv tasks without a result, unknown task ids, not-drawn
                             enterprises, other plans, duplicates, quarantined rows
    quarantine.csv           result rows the contract rejected, as read, with reasons
    per_grade.csv            drawn / inspected / found, hit rate (Wilson), HT estimate,
                             coverage, mean PD, share of inspections       (internal)
    per_stratum.csv          the design: N_h, n_h, π_h, m_h and findings   (internal)
    summary.json             headline figures, lift vs uniform, oracle     (internal)
    deadlines.csv            20-working-day publication check per result   (internal)
    training_sample.parquet  inspected enterprises with label and 1/π weight (internal)
    charts/*.png             hit rate, estimates, calibration, lift        (internal)
    public/results_notice.csv/.html   the results notice (一公开)          (PUBLIC)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench import config, providers, workspace
from workbench.contract import TABLES
from workbench.errors import NotReadyError, ParameterError
from workbench.evaluation import estimators as evaluate
from workbench.evaluation import feedback, reconciliation, weighting
from workbench.evaluation import results_notice as notices
from workbench.intake import load
from workbench.stages.registry import option
from workbench.views.evaluation import write_charts
from workbench.workspace import atomic_directory, csvsafe, integrity, write_json
from workbench.workspace.folders import EvaluationFolder, PlanFolder, check_day, check_month

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parameters:
    """Parameters of ``workbench evaluate`` (and of ``notebooks/06_evaluate.ipynb``)."""

    month: str = option("", "plan month YYYY-MM (default: the latest month with a plan)")
    plan: str = option("", "plan id (default: the month's most recently drawn plan)")
    results: str = option(
        "",
        "inspection results (the contract's inspections table; default: "
        "data/results/<YYYY-MM>/<plan>/inspections.*)",
        path=True,
        metavar="FILE",
    )
    published_on: str = option(
        "", "day the results notice is published, YYYY-MM-DD (default: last inspection)"
    )
    provider: str = option(
        "",
        "provider plug-in that supplies results when there are none (demo: simulated from "
        "the synthetic city's truth) and extra figures; default none",
    )
    seed: int = option(0, "seed of a provider's simulated results")
    out: str = option("", "output folder (default: data/evaluation/<YYYY-MM>/<plan>)", path=True)


def locate_plan(month: str = "", plan_id: str = "") -> PlanFolder:
    """The plan folder: the given one, or the latest month's most recently drawn plan.

    Raises:
        ParameterError / NotReadyError: naming what was looked for and what exists.
    """
    plans = workspace.current().plans
    if month:
        check_month(month, "--month")
    else:
        months = plans.months()
        if not months:
            raise NotReadyError(
                f"no sampling plan under {plans.root}: run `workbench sample` first"
            )
        month = months[-1]
    drawn = plans.in_month(month)
    if plan_id:
        folder = plans.at(month, plan_id)
        if not folder.exists():
            raise ParameterError(
                f"no plan {plan_id!r} drawn for {month}; plans of {month}: "
                f"{', '.join(p.plan_id for p in drawn) or 'none'}"
            )
        return folder
    if not drawn:
        raise NotReadyError(f"no sampling plan for {month}: run `workbench sample --month {month}`")
    return drawn[-1]


def results_file(plan: PlanFolder) -> Path | None:
    """The results export found in the plan's inbox ``data/results/<YYYY-MM>/<plan>/``."""
    inbox = workspace.current().results.at(plan.month, plan.plan_id).path
    return load.find_table_file(inbox, TABLES["inspections"]) if inbox.is_dir() else None


def resolve(params: Parameters, settings: config.Settings | None = None) -> Parameters:
    """Check the parameters and fill the defaults; results must exist or be provided.

    Results: ``results`` when given; else the plan's inbox; else what the named provider
    supplies (the demo provider simulates them). Without any: a clear error.
    """
    plan = locate_plan(params.month, params.plan)
    path = params.results
    if path and not Path(path).is_file():
        raise ParameterError(f"results file {path} does not exist")
    provider = providers.load(params.provider)
    if not path and results_file(plan) is None and not params.provider:
        inbox = workspace.current().results.at(plan.month, plan.plan_id).path
        raise NotReadyError(
            f"no results for plan {plan.plan_id} ({plan.month}): pass --results FILE (the "
            f"contract's inspections table) or put the export in {inbox}/inspections.csv"
        )
    del provider
    if params.published_on:
        check_day(params.published_on, "--published-on")
    if params.out:
        workspace.check_replaceable(params.out, EvaluationFolder.MARKER)
    out = params.out or str(workspace.current().evaluations.at(plan.month, plan.plan_id).path)
    return Parameters(
        plan.month, plan.plan_id, path, params.published_on, params.provider, params.seed, out
    )


def run(params: Parameters, settings: config.Settings | None = None) -> dict:
    """Reconcile, publish and evaluate the plan's results; return the summary."""
    return run_evaluation(params)


def read(params: Parameters) -> dict:
    """The summary of a finished evaluation."""
    return EvaluationFolder(Path(params.out)).summary()


def month(params: Parameters) -> str:
    """The plan's month."""
    return params.month


def describe(params: Parameters, summary: dict) -> list[str]:
    """What the CLI prints."""
    folder = EvaluationFolder(Path(params.out))
    rec = folder.read_json("reconciliation")
    unmatched = sum(v for k, v in rec["status_counts"].items() if k != "matched")
    lines = [
        f"plan {summary['plan_id']}: {summary['inspected']:,} of {summary['drawn']:,} drawn "
        f"enterprises reported, {summary['found']:,} with problems; "
        f"{_count(summary['tasks_without_result'], 'task')} without a result, "
        f"{_count(unmatched, 'result row')} not matched, "
        f"{rec['results_quarantined']:,} quarantined (reconciliation.json)"
    ]
    lift = summary["lift"].get("lift") or {}
    if lift.get("low") is not None:
        lines.append(
            f"  lift over a uniform draw of the same size: {lift['value']:.2f} "
            f"(95 % {lift['low']:.2f}–{lift['high']:.2f})"
        )
    elif lift.get("value") is not None:  # 样本不足: too few findings for a meaningful ratio
        lines.append("  lift over a uniform draw of the same size: too few findings to say")
    lines.append(f"evaluation (internal): {folder.path}")
    lines.append(f"results notice (public): {folder.file('notice_html')}")
    return lines


def _count(n: int, noun: str) -> str:
    """``1 task``, ``2 tasks``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def cycle_parameters(ctx) -> Parameters:
    """The cycle evaluates the plan it drew this month; the provider supplies results."""
    return Parameters(
        month=ctx.month,
        plan=ctx.plan_id,
        provider=ctx.provider,
        seed=int(ctx.month.replace("-", "")),
    )


# ----------------------------------------------------------------------------- the stage
def _grades(month: str, tasks: pd.DataFrame) -> tuple[pd.DataFrame | None, dict]:
    """The grade file the plan drew from (its snapshot month) and its summary, if present."""
    snap = tasks["snapshot"].dropna() if "snapshot" in tasks.columns else pd.Series(dtype=object)
    grade_month = f"{pd.Timestamp(snap.iloc[0]):%Y-%m}" if len(snap) else month
    folder = workspace.current().grades.at(grade_month)
    summary = folder.maybe_json("summary") or {}
    if not folder.exists():
        return None, summary
    integrity.require_intact(folder.path, grade_month)
    return folder.read_grades(columns=["uscc", "grade", "pd"]), summary


def _register(month: str, grades_frame: pd.DataFrame | None) -> pd.Series | None:
    """The codes results are attributed to (the register).

    The month's ingested register, else the grade file's enterprises, else None (no
    attribution check).
    """
    ingest = workspace.current().ingest.for_month(month)
    if ingest is not None and ingest.has_table("enterprises"):
        return ingest.read_table("enterprises", columns=["uscc"])["uscc"].dropna().astype(str)
    return grades_frame["uscc"] if grades_frame is not None else None


def _strata(plan: PlanFolder, tasks: pd.DataFrame) -> pd.DataFrame:
    given = None
    frame = plan.maybe_csv("strata")
    if frame is not None:
        if {"stratum", "population"} <= set(frame.columns):
            frame = frame[frame["stratum"].astype(str).isin(tasks["stratum"].astype(str))]
            if set(frame["stratum"].astype(str)) == set(tasks["stratum"].astype(str)):
                given = frame
    return evaluate.stratum_table(tasks, given)


def _scheme(summary: dict, tasks: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    scheme = summary.get("scheme") or {}
    grades = [str(g) for g in scheme.get("grades") or []]
    present = sorted(tasks["grade"].dropna().astype(str).unique())
    grades = grades or present
    grades += [g for g in present if g not in grades]
    return grades, {str(k): str(v) for k, v in (scheme.get("labels") or {}).items()}


def run_evaluation(params: Parameters, charts: bool = True) -> dict:
    """Reconcile, publish and evaluate one plan's results; write its evaluation folder.

    Returns:
        ``summary.json``'s content.
    """
    plan = workspace.current().plans.at(params.month, params.plan)
    provider = providers.load(params.provider)
    tasks = reconciliation.check_tasks(plan.read_tasks())
    source = "file"
    path = Path(params.results) if params.results else results_file(plan)
    if path is None:
        path = provider.inspection_results(plan, params.seed)
        source = f"supplied by the {provider.name} provider"
    if path is None:
        raise NotReadyError(f"no results for plan {plan.plan_id}: pass --results FILE")
    grades_frame, grades_summary = _grades(params.month, tasks)
    register = _register(params.month, grades_frame)
    window_end = pd.to_datetime(tasks.get("window_end", pd.Series(dtype=object))).max()
    as_of = pd.Timestamp.today().normalize()
    if pd.notna(window_end):  # results of a window still open or ending later are not "future"
        as_of = max(as_of, window_end)
    loaded = reconciliation.read_results(path, register=register, as_of=as_of)
    if loaded.accepted.empty:
        raise NotReadyError(_no_valid_rows(params, path, loaded.quarantine))
    rec = reconciliation.reconcile(tasks, loaded, params.plan)
    matched = rec.matched
    if grades_frame is not None:
        pd_of = grades_frame.drop_duplicates("uscc").set_index(grades_frame["uscc"].astype(str))
        matched = matched.assign(pd=matched["uscc"].astype(str).map(pd_of["pd"]).astype(float))
    grades, labels = _scheme(grades_summary, tasks)
    strata = _strata(plan, tasks)
    if matched.empty:
        kept = _keep_quarantine(params, rec.quarantine)
        raise NotReadyError(
            f"plan {params.plan}: none of its {len(tasks)} tasks has a result "
            f"({len(rec.rows)} valid result rows read from {path}, none matching a task"
            + (f"; {len(rec.quarantine)} quarantined: {kept}" if kept else "")
            + "); nothing was written"
        )
    table = evaluate.per_grade(matched, tasks, strata, grades, labels, grades_frame)
    summary = evaluate.summarise(matched, tasks, strata, table, grades)
    last_inspection = pd.Timestamp(matched["inspected_on"].max())
    published_on = pd.Timestamp(params.published_on or last_inspection)
    if published_on < last_inspection:
        raise ParameterError(
            f"--published-on {params.published_on} is before the last inspection "
            f"({last_inspection:%Y-%m-%d}): a results notice is published on or after the day "
            f"of every inspection it lists"
        )
    notice, deadlines = notices.results_notice(rec, published_on, calendar_unknown="mark")
    calendar_notes = deadlines.get("calendar_note", pd.Series(dtype=object)).dropna().unique()
    summary.update(
        {
            "plan_id": params.plan,
            "month": params.month,
            "results_source": source,
            "results_file": str(path),
            "tasks_with_result": len(rec.matched),
            "tasks_without_result": len(rec.missing),
            "reconciliation": rec.to_dict(examples=0)["status_counts"],
            "results_quarantined": len(rec.quarantine),
            "published_on": f"{published_on:%Y-%m-%d}",
            "deadline": {
                "within_working_days": reconciliation.PUBLISH_WITHIN_WORKING_DAYS,
                **{
                    s: int((deadlines["deadline_status"] == s).sum())
                    for s in ("on_time", "late", "overdue", "open", "calendar_unknown")
                },
                "calendar_note": str(calendar_notes[0]) if len(calendar_notes) else None,
            },
            "model": grades_summary.get("model"),
            "scheme": (grades_summary.get("scheme") or {}).get("id"),
        }
    )
    units = evaluate.enterprise_results(matched)  # one row per inspected enterprise
    summary.update(provider.evaluation_extras(plan, units, grades_frame))
    per_stratum = _per_stratum(strata, units)
    with atomic_directory(params.out, EvaluationFolder.MARKER) as tmp:
        out = EvaluationFolder(tmp)
        feedback.inspection_events(rec).to_parquet(out.file("results"), index=False)
        csvsafe.to_csv(rec.rows, out.file("reconciliation_rows"))
        csvsafe.to_csv(_quarantine_rows(rec.quarantine), out.file("quarantine"))
        write_json(out.file("reconciliation"), rec.to_dict())
        csvsafe.to_csv(table, out.file("per_grade"))
        csvsafe.to_csv(per_stratum, out.file("per_stratum"))
        csvsafe.to_csv(deadlines, out.file("deadlines"))
        weighting.inspection_sample(units).to_parquet(out.file("training_sample"), index=False)
        notices.write_results_notice(notice, out.path)
        if charts:
            write_charts(table, summary, out.file("charts"))
        write_json(out.file("summary"), summary)
    log.info("evaluated plan %s into %s", params.plan, params.out)
    return summary


def _quarantine_rows(quarantine: pd.DataFrame) -> pd.DataFrame:
    """The rejected result rows as read, with their reasons (the header even when none)."""
    if quarantine.empty and not len(quarantine.columns):
        return pd.DataFrame(columns=[load.ROW_COLUMN, load.REASON_COLUMN, load.DETAIL_COLUMN])
    return quarantine


def _keep_quarantine(params: Parameters, quarantine: pd.DataFrame) -> Path | None:
    """Keep a failed run's quarantined rows beside its audit trail; the evaluation is untouched.

    ``reports/<YYYY-MM>/runs/<time>-evaluate-<plan>-quarantine.csv`` (None: nothing rejected).
    """
    if quarantine.empty:
        return None
    runs = workspace.current().report_months.at(params.month).runs
    runs.mkdir(parents=True, exist_ok=True)
    stamp = pd.Timestamp.now().strftime("%Y%m%d-%H%M%S")
    path = runs / f"{stamp}-evaluate-{params.plan}-quarantine.csv"
    n = 1
    while path.exists():
        path = runs / f"{stamp}-{n}-evaluate-{params.plan}-quarantine.csv"
        n += 1
    return csvsafe.to_csv(quarantine, path)


def _no_valid_rows(params: Parameters, path: Path, quarantine: pd.DataFrame) -> str:
    """One line: no valid result row; how many rows, why, where the quarantine is kept."""
    if quarantine.empty:
        return (
            f"results file {path} has no result rows (a header only); the contract's "
            f"inspections table needs at least one row; nothing was written"
        )
    kept = _keep_quarantine(params, quarantine)
    reasons = quarantine[load.REASON_COLUMN].astype(str).value_counts()
    why = ", ".join(f"{reason} {count}" for reason, count in reasons.head(3).items())
    return (
        f"results file {path}: none of its {len(quarantine)} rows is a valid result "
        f"(all quarantined: {why}); the rows and their reasons are in {kept}; "
        f"nothing was written"
    )


def _per_stratum(strata: pd.DataFrame, matched: pd.DataFrame) -> pd.DataFrame:
    got = (
        matched.assign(stratum=matched["stratum"].astype(str))
        .groupby("stratum")
        .agg(
            grade=("grade", "first"),
            inspected=("found", "size"),
            with_verdict=("verdict", "sum"),
            found=("found", "sum"),
        )
    )
    table = strata.merge(got, left_on="stratum", right_index=True, how="left")
    table[["inspected", "with_verdict", "found"]] = (
        table[["inspected", "with_verdict", "found"]].fillna(0).astype(int)
    )
    table["hit_rate"] = table["found"] / table["with_verdict"].where(table["with_verdict"] > 0)
    return table


def read_outputs(folder: str | Path) -> tuple[dict, pd.DataFrame, dict]:
    """``summary``, ``per_grade`` and ``reconciliation`` of an evaluation."""
    ev = EvaluationFolder(Path(folder))
    table = ev.read_csv("per_grade", dtype={"grade": str})
    return ev.summary(), table, ev.read_json("reconciliation")


def cycle_record(ctx, summary: dict, echo) -> None:
    """The figures the cycle prints: hit rate against the uniform estimate, lift."""
    lift = summary.get("lift") or {}
    uniform = lift.get("uniform_per_inspection") or {}
    ratio = lift.get("lift") or {}
    meaningful = ratio.get("low") is not None  # else 样本不足: no lift is claimed
    ctx.record["evaluation"] = {
        "inspected": summary.get("inspected"),
        "found": summary.get("found"),
        "hit_rate": lift.get("plan_per_inspection"),
        "uniform_rate": uniform.get("value"),
        "uniform_low": uniform.get("low"),
        "uniform_high": uniform.get("high"),
        "lift": ratio.get("value") if meaningful else None,
        "lift_low": ratio.get("low"),
        "lift_high": ratio.get("high"),
        "lift_note": ratio.get("note"),
    }
