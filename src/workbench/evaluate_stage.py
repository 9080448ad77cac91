"""The evaluation stage (抽查效果评估): results in, reconciled, published, evaluated.

For one plan (``data/sampling/<YYYY-MM>/<plan_id>/``) it reads the results (a bureau's
``inspections`` export, or on the synthetic city results simulated from the truth),
and writes, atomically, ``data/evaluation/<YYYY-MM>/<plan_id>/``::

    results.parquet          the results as contract ``inspections`` rows (+ their
                             reconciliation status): the events the next ingest adds
    reconciliation.json/.csv tasks without a result, unknown task ids, not-drawn
                             enterprises, other plans, duplicates, quarantined rows
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

import json
import logging
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from workbench import evaluate, inspection_sim, load, results, weighting, workspace
from workbench.workspace import atomic_directory, write_json

log = logging.getLogger(__name__)

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def sampling_dir() -> Path:
    """``data/sampling``: one folder per month, one per plan inside."""
    return workspace.data_dir() / "sampling"


def evaluation_dir(month: str, plan_id: str) -> Path:
    """``data/evaluation/<YYYY-MM>/<plan_id>``."""
    return workspace.data_dir() / "evaluation" / month / plan_id


def results_inbox(month: str, plan_id: str) -> Path:
    """Where a plan's results export is expected: ``data/results/<YYYY-MM>/<plan_id>/``."""
    return workspace.data_dir() / "results" / month / plan_id


def locate_plan(month: str = "", plan_id: str = "") -> tuple[str, str, Path]:
    """The plan folder: the given one, or the latest month's most recently drawn plan.

    Raises:
        FileNotFoundError / ValueError: naming what was looked for and what exists.
    """
    root = sampling_dir()
    if month and not MONTH.match(month):
        raise ValueError(f"month {month!r} is not YYYY-MM")
    months = sorted(p.name for p in root.glob("*") if MONTH.match(p.name)) if root.is_dir() else []
    if not month:
        with_plans = [m for m in months if any((root / m).glob("*/tasks.parquet"))]
        if not with_plans:
            raise FileNotFoundError(f"no sampling plan under {root}: run `workbench sample` first")
        month = with_plans[-1]
    plans = sorted(
        (p for p in (root / month).glob("*") if (p / "tasks.parquet").is_file()),
        key=lambda p: ((p / "tasks.parquet").stat().st_mtime_ns, p.name),
    )
    if plan_id:
        folder = root / month / plan_id
        if not (folder / "tasks.parquet").is_file():
            raise FileNotFoundError(
                f"no task list {folder / 'tasks.parquet'}; plans of {month}: "
                f"{', '.join(p.name for p in plans) or 'none'}"
            )
        return month, plan_id, folder
    if not plans:
        raise FileNotFoundError(f"no sampling plan under {root / month}")
    return month, plans[-1].name, plans[-1]


class EvaluationParameters(NamedTuple):
    """Checked parameters of the evaluation stage."""

    month: str
    plan_id: str
    plan_dir: Path
    results: Path | None  # None: simulate from the synthetic truth
    published_on: pd.Timestamp | None
    seed: int
    out: Path


def resolve_parameters(
    month: str = "",
    plan_id: str = "",
    results_file: str = "",
    published_on: str = "",
    simulate: str = "auto",
    seed: int = 0,
    out: str = "",
) -> EvaluationParameters:
    """Check the stage's parameters and fill the defaults.

    Results: ``results_file`` when given; else the plan's inbox
    (``data/results/<YYYY-MM>/<plan_id>/inspections.*``); else, with ``simulate`` ``auto``
    or ``yes`` on the synthetic city, results simulated from its truth (demo only).
    ``simulate="yes"`` always simulates (and overwrites the inbox); ``"no"`` never does.

    Raises:
        ValueError / FileNotFoundError: naming the parameter and what is wrong.
    """
    if simulate not in ("auto", "yes", "no"):
        raise ValueError(f"simulate is {simulate!r}; allowed: auto, yes, no")
    month, plan_id, plan_dir = locate_plan(month, plan_id)
    path: Path | None = None
    if results_file:
        path = Path(results_file)
        if not path.is_file():
            raise FileNotFoundError(f"results file {path} does not exist")
    elif simulate != "yes":
        from workbench.contract import TABLES

        path = load.find_table_file(results_inbox(month, plan_id), TABLES["inspections"])
        if path is None and simulate == "no":
            raise FileNotFoundError(
                f"no results for plan {plan_id}: pass --results FILE or put the export in "
                f"{results_inbox(month, plan_id)}/inspections.csv"
            )
    if path is None and _truth_dir(month) is None:
        raise FileNotFoundError(
            f"no results for plan {plan_id} and no synthetic truth to simulate them from: "
            f"pass --results FILE (the contract's inspections table)"
        )
    day = None
    if published_on:
        try:
            day = pd.Timestamp(published_on)
        except ValueError as err:
            raise ValueError(f"published_on {published_on!r} is not a date") from err
    out_path = Path(out) if out else evaluation_dir(month, plan_id)
    return EvaluationParameters(month, plan_id, plan_dir, path, day, int(seed), out_path)


def _truth_dir(month: str) -> Path | None:
    return inspection_sim.truth_dir_for(workspace.ingest_dir(month))


def simulate_plan_results(month: str = "", plan_id: str = "", seed: int = 0, **kwargs) -> Path:
    """Demo: simulate a plan's results from the synthetic truth into its results inbox.

    Keyword arguments go to :func:`workbench.inspection_sim.simulate_results`.
    """
    month, plan_id, plan_dir = locate_plan(month, plan_id)
    truth = _truth_dir(month)
    if truth is None:
        raise FileNotFoundError("no synthetic truth (_truth/) for this data: nothing to simulate")
    tasks = pd.read_parquet(plan_dir / "tasks.parquet")
    frame = inspection_sim.simulate_results(tasks, truth, seed=seed, **kwargs)
    return inspection_sim.write_results(
        frame, results_inbox(month, plan_id) / "inspections.parquet"
    )


# ----------------------------------------------------------------------------- the stage
def _grades(month: str, tasks: pd.DataFrame) -> tuple[pd.DataFrame | None, dict]:
    """The grade file the plan drew from (its snapshot month) and its summary, if present."""
    snap = tasks["snapshot"].dropna() if "snapshot" in tasks.columns else pd.Series(dtype=object)
    grade_month = f"{pd.Timestamp(snap.iloc[0]):%Y-%m}" if len(snap) else month
    folder = workspace.data_dir() / "grades" / grade_month
    summary = {}
    if (folder / "summary.json").is_file():
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    if not (folder / "grades.parquet").is_file():
        return None, summary
    return pd.read_parquet(folder / "grades.parquet", columns=["uscc", "grade", "pd"]), summary


def _register(month: str, grades_frame: pd.DataFrame | None) -> pd.Series | None:
    """The codes results are attributed to (the register).

    The month's ingested register, else the grade file's enterprises, else None (no
    attribution check).
    """
    path = workspace.ingest_dir(month) / "tables" / "enterprises.parquet"
    if path.is_file():
        return pd.read_parquet(path, columns=["uscc"])["uscc"].dropna().astype(str)
    return grades_frame["uscc"] if grades_frame is not None else None


def _strata(plan_dir: Path, tasks: pd.DataFrame) -> pd.DataFrame:
    path = plan_dir / "strata.csv"
    given = None
    if path.is_file():
        frame = pd.read_csv(path, encoding="utf-8-sig")
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


def run_evaluation(params: EvaluationParameters, charts: bool = True) -> dict:
    """Reconcile, publish and evaluate one plan's results; write its evaluation folder.

    Returns:
        ``summary.json``'s content.
    """
    tasks = results.check_tasks(pd.read_parquet(params.plan_dir / "tasks.parquet"))
    source = "file"
    path = params.results
    if path is None:
        path = simulate_plan_results(params.month, params.plan_id, seed=params.seed)
        source = "simulated from the synthetic truth (demo)"
    grades_frame, grades_summary = _grades(params.month, tasks)
    register = _register(params.month, grades_frame)
    window_end = pd.to_datetime(tasks.get("window_end", pd.Series(dtype=object))).max()
    as_of = pd.Timestamp.today().normalize()
    if pd.notna(window_end):  # results of a window still open or ending later are not "future"
        as_of = max(as_of, window_end)
    loaded = results.read_results(path, register=register, as_of=as_of)
    rec = results.reconcile(tasks, loaded, params.plan_id)
    matched = rec.matched
    if grades_frame is not None:
        pd_of = grades_frame.drop_duplicates("uscc").set_index(grades_frame["uscc"].astype(str))
        matched = matched.assign(pd=matched["uscc"].astype(str).map(pd_of["pd"]).astype(float))
    grades, labels = _scheme(grades_summary, tasks)
    strata = _strata(params.plan_dir, tasks)
    if matched.empty:
        raise ValueError(
            f"plan {params.plan_id}: none of its {len(tasks)} tasks has a result "
            f"({len(rec.rows)} result rows read from {path}); see the reconciliation"
        )
    table = evaluate.per_grade(matched, tasks, strata, grades, labels, grades_frame)
    summary = evaluate.summarise(matched, tasks, strata, table, grades)
    published_on = params.published_on or pd.Timestamp(matched["inspected_on"].max())
    notice, deadlines = results.results_notice(rec, published_on, calendar_unknown="mark")
    calendar_notes = deadlines.get("calendar_note", pd.Series(dtype=object)).dropna().unique()
    summary.update(
        {
            "plan_id": params.plan_id,
            "month": params.month,
            "results_source": source,
            "results_file": str(path),
            "tasks_with_result": len(rec.matched),
            "tasks_without_result": len(rec.missing),
            "reconciliation": rec.to_dict(examples=0)["status_counts"],
            "results_quarantined": len(rec.quarantine),
            "published_on": f"{published_on:%Y-%m-%d}",
            "deadline": {
                "within_working_days": results.PUBLISH_WITHIN_WORKING_DAYS,
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
    truth = _truth_dir(params.month)
    if truth is not None and grades_frame is not None:
        day = pd.to_datetime(units["inspected_on"]).median()
        population = inspection_sim.truth_state(truth, grades_frame["uscc"], day)
        inspected = population.set_index("uscc").loc[units["uscc"].astype(str)]
        summary["oracle"] = evaluate.oracle(inspected, population, int(units["found"].sum()))
        summary["oracle"]["truth_month"] = f"{population['truth_month'].iloc[0]:%Y-%m}"
    per_stratum = _per_stratum(strata, units)
    with atomic_directory(params.out) as tmp:
        results.inspection_events(rec).to_parquet(tmp / results.RESULTS_FILE, index=False)
        rec.rows.to_csv(tmp / "reconciliation.csv", index=False, encoding="utf-8-sig")
        write_json(tmp / "reconciliation.json", rec.to_dict())
        table.to_csv(tmp / "per_grade.csv", index=False, encoding="utf-8-sig")
        per_stratum.to_csv(tmp / "per_stratum.csv", index=False, encoding="utf-8-sig")
        deadlines.to_csv(tmp / "deadlines.csv", index=False, encoding="utf-8-sig")
        weighting.inspection_sample(units).to_parquet(tmp / "training_sample.parquet", index=False)
        results.write_results_notice(notice, tmp / "public")
        if charts:
            write_charts(table, summary, tmp / "charts")
        write_json(tmp / "summary.json", summary)
    log.info("evaluated plan %s into %s", params.plan_id, params.out)
    return summary


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
    """``summary.json``, ``per_grade.csv`` and ``reconciliation.json`` of an evaluation."""
    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    table = pd.read_csv(folder / "per_grade.csv", encoding="utf-8-sig", dtype={"grade": str})
    rec = json.loads((folder / "reconciliation.json").read_text(encoding="utf-8"))
    return summary, table, rec


# ----------------------------------------------------------------------------- charts
def write_charts(table: pd.DataFrame, summary: dict, folder: Path) -> list[Path]:
    """Hit rate vs uniform, HT estimates, calibration and lift charts (PNG, Chinese labels)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from workbench import report

    report.use_cjk_font()
    folder.mkdir(parents=True, exist_ok=True)
    grades = table[table["grade"] != evaluate.OVERALL]
    overall = table[table["grade"] == evaluate.OVERALL].iloc[0]
    x = np.arange(len(grades))
    paths = []

    fig, ax = plt.subplots(figsize=(7, 4))
    rate = grades["hit_rate"].to_numpy(dtype=float)
    err = report.error_bars(rate, grades["hit_low"], grades["hit_high"])
    ax.bar(
        x,
        rate,
        color="#3b6ea5",
        yerr=err,
        capsize=4,
        label="本次抽查检出率（95% 区间）",
    )
    ax.axhline(
        overall["est_rate"],
        color="#c0392b",
        linestyle="--",
        label="随机均匀抽查预期检出率（全体估计）",
    )
    if np.isfinite(overall["est_low"]):
        ax.axhspan(overall["est_low"], overall["est_high"], color="#c0392b", alpha=0.12)
    ax.set_xticks(x, grades["grade"])
    ax.set_xlabel("信用风险等级")
    ax.set_ylabel("发现问题比例")
    ax.set_title("各等级抽查检出率与随机均匀抽查对比")
    ax.legend(fontsize=8)
    paths.append(_save(fig, folder / "hit_rate.png"))

    fig, ax = plt.subplots(figsize=(7, 4))
    labels = [*grades["grade"], "合计"]
    est = table["est_rate"].to_numpy(dtype=float)
    err = report.error_bars(est, table["est_low"], table["est_high"])
    ax.errorbar(np.arange(len(labels)), est, yerr=err, fmt="o", capsize=4, color="#2c7a4b")
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set_ylabel("估计违法率（按入样概率加权）")
    ax.set_title("全体市场主体违法率估计（Horvitz–Thompson，95% 区间）")
    paths.append(_save(fig, folder / "estimates.png"))

    fig, ax = plt.subplots(figsize=(5, 5))
    pd_col = "mean_pd_inspected"
    if grades[pd_col].notna().any():
        ax.errorbar(
            grades[pd_col],
            rate,
            yerr=report.error_bars(rate, grades["hit_low"], grades["hit_high"]),
            fmt="o",
            capsize=4,
            color="#3b6ea5",
        )
        for _, row in grades.iterrows():
            ax.annotate(
                row["grade"],
                (row[pd_col], row["hit_rate"]),
                xytext=(5, 5),
                textcoords="offset points",
            )
        top = float(np.nanmax([grades[pd_col].max(), np.nanmax(grades["hit_high"])])) * 1.1
        ax.plot([0, top], [0, top], color="#999999", linestyle=":", label="PD = 检出率")
        ax.legend(fontsize=8)
    else:
        ax.text(
            0.5,
            0.5,
            "无模型 PD（未找到等级文件）",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_xlabel("模型平均违约概率 PD（12个月）")
    ax.set_ylabel("实际检出率")
    ax.set_title("校准：模型 PD 与实际检出率")
    paths.append(_save(fig, folder / "calibration.png"))

    fig, ax = plt.subplots(figsize=(8.5, 4))
    lift = summary["lift"]
    names = ["本次按等级抽查（实际）", "随机均匀抽查（估计）"]
    values = [lift.get("found", 0), (lift.get("uniform_expected_found") or {}).get("value") or 0]
    lows = [0, values[1] - ((lift.get("uniform_expected_found") or {}).get("low") or values[1])]
    highs = [0, ((lift.get("uniform_expected_found") or {}).get("high") or values[1]) - values[1]]
    oracle = summary.get("oracle")
    if oracle:
        names += ["完美风险模型（真值）", "理论上限（已知违法状态）"]
        values += [oracle["true_risk_expected"], oracle["oracle_expected"]]
        lows += [0, 0]
        highs += [0, 0]
    ax.bar(
        names,
        values,
        yerr=np.clip(np.nan_to_num([lows, highs]), 0, None),
        capsize=4,
        color=["#3b6ea5", "#c0392b", "#95a5a6", "#7f8c8d"][: len(names)],
    )
    ax.set_ylabel(f"发现问题户数（检查 {lift.get('inspections', 0)} 户）")
    ax.set_title("同样检查户数下发现问题的数量")
    paths.append(_save(fig, folder / "lift.png"))
    return paths


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def headline_markdown(summary: dict) -> str:
    """The evaluation's headline in Chinese (for the notebook)."""

    def pct(v):
        return "—" if v is None else f"{100 * v:.1f}%"

    lift = summary["lift"]
    lines = [
        f"- 抽查计划 **{summary['plan_id']}**：抽中 {summary['drawn']} 户（任务 "
        f"{summary['tasks']} 个），已反馈结果 {summary['inspected']} 户（其中无法判定 "
        f"{summary['no_verdict']} 户），未反馈任务 {summary['tasks_without_result']} 个，"
        f"发现问题 **{summary['found']}** 户。",
        f"- 检出率 {pct(summary['hit_rate'])}（95% 区间 {pct(summary['hit_rate_interval'][0])}–"
        f"{pct(summary['hit_rate_interval'][1])}）；全体估计违法率 "
        f"{pct(summary['population_rate']['value'])}（{pct(summary['population_rate']['low'])}–"
        f"{pct(summary['population_rate']['high'])}）。",
    ]
    if lift.get("lift", {}).get("value") is not None:
        u = lift["uniform_expected_found"]
        lines.append(
            f"- 同样检查 {lift['inspections']} 户，随机均匀抽查预计发现 {u['value']:.1f} 户"
            f"（{u['low']:.1f}–{u['high']:.1f}），按等级抽查实际发现 {lift['found']} 户："
            f"**{lift['lift']['value']:.2f} 倍**"
            f"（{lift['lift']['low']:.2f}–{lift['lift']['high']:.2f}）。"
        )
    if summary.get("share_on_lowest_grade") is not None:
        lines.append(
            f"- 无事不扰：{summary['lowest_grade']} 级主体占检查量 "
            f"{pct(summary['share_on_lowest_grade'])}。"
        )
    oracle = summary.get("oracle")
    if oracle:
        lines.append(
            f"- 合成城市真值：理论上限 {oracle['oracle_expected']:.1f} 户，完美风险模型 "
            f"{oracle['true_risk_expected']:.1f} 户，本计划期望 {oracle['plan_expected']:.1f} 户，"
            f"随机均匀 {oracle['uniform_expected']:.1f} 户。"
        )
    d = summary["deadline"]
    lines.append(
        f"- 结果公示（{d['within_working_days']} 个工作日内）：按时 {d['on_time']}，逾期公示 "
        f"{d['late']}，逾期未公示 {d['overdue']}，尚在期限内 {d['open']}"
        + (
            f"；另有 {d['calendar_unknown']} 条的期限落在节假日安排尚未收录的年份，暂无法判定"
            "（待 chinese-calendar 收录后重新评估）"
            if d.get("calendar_unknown")
            else ""
        )
        + "。"
    )
    return "\n".join(lines)
