"""``workbench <stage>``: the command line (命令行).

It wires stages together and prints; the logic lives in the modules it calls.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from workbench import workspace

STAGES_HELP = """stages:
  synth       generate the synthetic demo city (合成演示城市)
  ingest      load and validate a folder of exports; data-quality report (数据归集)
  indicators  the indicator matrix as of a snapshot, signal check, panel (指标计算)
  train       fit and validate a scorecard family; MLflow run + registered model (模型训练)
  promote     set the champion alias when the run passes the gates (模型晋级)
  grade       grade every active enterprise with the champion; signed folder (月度分类)
  verify      check a grade folder against its signed manifest (完整性校验)
  sample      double-random draw by grade: task list, public notice (双随机抽查)
  evaluate    reconcile a plan's results, publish them, how well sampling worked (效果评估)
  health      model health: PSI month over month, warnings, MLflow (模型监测)
  report      the month's leadership report, HTML + PDF, and reports/index.html (领导报告)
  demo        the monthly cycle on the demo city (演示：月度流程)
  contract    print or write the data contract document (数据接口规范)
  lab         JupyterLab on notebooks/ with this environment
  ui          the MLflow UI on 127.0.0.1
"""


def _month(snapshot: str) -> str:
    return f"{pd.Timestamp(snapshot):%Y-%m}"


def cmd_synth(args: argparse.Namespace) -> int:
    """Generate the synthetic city."""
    from workbench import synth

    out = Path(args.out) if args.out else workspace.default_city_dir()
    summary = synth.generate_city(
        out,
        entities=args.entities,
        months=args.months,
        seed=args.seed,
        end=args.end,
        messy=args.messy,
        errors=args.errors,
    )
    print(f"synthetic city: {out}")
    for table, rows in summary.rows.items():
        print(f"  {table:<20} {rows:>10,} rows")
    if summary.errors:
        print(
            f"  {summary.errors:,} rows corrupted on purpose (listed in _truth/injected_errors.csv)"
        )
    print(f"  ({summary.seconds:.1f} s; truth for tests and benchmarks in {out / '_truth'})")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """Ingest a folder of exports (through the stage notebook)."""
    from workbench import ingest, stages

    params = ingest.resolve_parameters(args.data or "", args.snapshot or "", args.out or "")
    feedback = [f for f in (args.feedback or "").split(",") if f]
    if args.no_notebook:
        ingest.run_ingest(params.data, params.snapshot, params.out, feedback)
        executed = None
    else:
        executed = stages.run_stage(
            "ingest",
            {
                "data": str(params.data),
                "snapshot": params.snapshot,
                "out": str(params.out),
                "feedback": ",".join(feedback),
            },
            _month(params.snapshot),
        )
    _print_quality(params.out, executed)
    return 0


def _print_quality(out: Path, executed: Path | None) -> None:
    from workbench import ingest

    report = ingest.read_report(out)
    totals, rate = report["totals"], report["attribution"]["rate"]
    print(
        f"ingested {totals['rows_read']:,} rows: {totals['accepted']:,} accepted, "
        f"{totals['quarantined']:,} quarantined; 记名率 "
        f"{'n/a' if rate is None else f'{100 * rate:.2f}%'}"
    )
    print(f"data-quality report: {out / ingest.QUALITY_FILE}")
    print(f"validated tables:    {out / 'tables'}")
    if totals["quarantined"]:
        print(f"quarantined rows:    {out / 'quarantine'}")
    if executed is not None:
        print(f"ingest notebook:     {executed.with_suffix('.html')}")


def cmd_indicators(args: argparse.Namespace) -> int:
    """Compute indicators as of a snapshot (through the stage notebook), or a panel."""
    from workbench import labels, panel, stages
    from workbench.indicators import load_catalog, stage

    params = stage.resolve_parameters(
        args.data or "", args.snapshot or "", args.catalog or "", args.packs or "", args.out or ""
    )
    if args.panel:
        first, _, last = args.panel.partition(":")
        snapshots = panel.month_ends(first, last or first)
        frame = panel.build_panel(
            params.data / "tables",
            snapshots,
            load_catalog(params.catalog, params.packs),
            labels.load_label_definition(),
            params.data_snapshot,
        )
        out = (
            Path(args.out)
            if args.out
            else workspace.data_dir() / "panel" / (f"{snapshots[0]:%Y-%m}_{snapshots[-1]:%Y-%m}")
        )
        out.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(out / "panel.parquet", index=False)
        print(
            f"training panel: {len(frame):,} rows ({len(snapshots)} snapshots, "
            f"{frame['label'].notna().sum():,} labelled, bad rate "
            f"{frame['label'].mean():.2%}) in {out / 'panel.parquet'}"
        )
        return 0
    if args.no_notebook:
        stage.run_indicators(params)
        executed = None
    else:
        executed = stages.run_stage(
            "indicators",
            {
                "data": str(params.data),
                "snapshot": params.snapshot,
                "catalog": params.catalog or "",
                "packs": ",".join(params.packs),
                "out": str(params.out),
            },
            _month(params.snapshot),
        )
    _print_indicators(params.out, executed)
    return 0


def _print_indicators(out: Path, executed: Path | None) -> None:
    from workbench.indicators import stage

    _, signal, summary = stage.read_outputs(out)
    strong = signal[signal["IV"] >= 0.1]
    print(
        f"indicators as of {summary['snapshot']}: {summary['enterprises']:,} enterprises × "
        f"{summary['indicators']} indicators in {out / 'indicators.parquet'}"
    )
    print(
        f"signal check at {summary['signal_snapshot']}: {len(strong)} indicators with "
        f"IV ≥ 0.1 ({out / 'signal.csv'})"
    )
    if executed is not None:
        print(f"indicators notebook: {executed.with_suffix('.html')}")


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model family (through the stage notebook), log and register it in MLflow."""
    from workbench import stages, train_stage

    params = train_stage.resolve_parameters(
        args.data or "",
        args.panel or "",
        args.family,
        args.scheme,
        args.validation_from or "",
        args.out or "",
    )
    if args.no_notebook:
        train_stage.run_training(params)
        executed = None
    else:
        executed = stages.run_stage(
            "train",
            {
                "data": str(params.data),
                "panel": str(params.panel or ""),
                "family": params.family,
                "scheme": params.scheme,
                "validation_from": params.validation_from or "",
                "out": str(params.out),
            },
            "models",
        )
    summary = train_stage.read_run(params.out)
    if executed is not None:
        train_stage.governance_log_file(
            summary["run_id"], executed.with_suffix(".html"), "notebook"
        )
    m = summary["metrics"]
    print(
        f"trained {summary['family']}: validation AUC {m['valid_auc']:.4f}, "
        f"KS {m['valid_ks']:.4f}, PSI {m['psi_score']:.4f}, grades rise strictly: "
        f"{'yes' if m['grades_monotone'] else 'NO'}"
    )
    if "reference_lgbm_auc" in m:
        print(
            f"  a LightGBM reference on the same indicators and split reaches AUC "
            f"{m['reference_lgbm_auc']:.4f} (gap {m['gap_to_reference']:+.4f})"
        )
    if "truth_violation_auc" in m:
        print(
            f"  the synthetic city's true violation risk reaches AUC "
            f"{m['truth_violation_auc']:.4f} on the same rows"
        )
    if "truth_label_auc" in m:
        print(
            f"  the label's ceiling (Bayes limit, simulated) is AUC "
            f"{m['truth_label_auc']:.4f} on the same rows"
        )
    print(f"MLflow run {summary['run_id']}: {summary['model_name']} version {summary['version']}")
    print(f"evidence: {params.out / 'evidence'}")
    if executed is not None:
        print(f"train notebook: {executed.with_suffix('.html')}")
    print(f"promote it with: workbench promote {summary['run_id']}")
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    """Set the champion alias if the run passes the gates; otherwise name what failed."""
    from workbench import governance

    result = governance.promote(args.run, gates=args.gates)
    print(result.message)
    return 0 if result.promoted else 3


def cmd_grade(args: argparse.Namespace) -> int:
    """Grade every active enterprise as of a month (through the stage notebook)."""
    from workbench import governance, grading, stages

    params = grading.resolve_parameters(
        args.snapshot or "",
        args.data or "",
        args.family,
        args.alias,
        args.overrides or "",
        args.out or "",
    )
    governance.resolve_alias(params.family, params.alias)  # fail before notebook or file
    if args.no_notebook:
        grading.run_grading(params)
        executed = None
    else:
        executed = stages.run_stage(
            "grade",
            {
                "snapshot": params.snapshot,
                "data": str(params.data),
                "family": params.family,
                "alias": params.alias,
                "overrides": params.overrides or "",
                "out": str(params.out),
            },
            grading.month_of(params.snapshot),
        )
    _print_grades(params.out, executed)
    return 0


def _print_grades(out: Path, executed: Path | None) -> None:
    from workbench import grading

    summary = grading.read_summary(out)
    n = max(summary["enterprises"], 1)
    counts = ", ".join(f"{g} {c:,} ({c / n:.1%})" for g, c in summary["counts"].items())
    model = summary["model"]
    print(
        f"graded {summary['enterprises']:,} enterprises as of {summary['snapshot']} with "
        f"{model['name']} v{model['version']} ({model['alias']}): {counts}"
    )
    print(
        f"  overrides moved {summary['overridden']:,} grades; {summary['warnings']:,} early "
        f"warnings (vs {summary['previous_month'] or 'no previous month'})"
    )
    print(f"grade folder (internal, signed): {out}")
    if executed is not None:
        print(f"grade notebook: {executed.with_suffix('.html')}")


def cmd_verify(args: argparse.Namespace) -> int:
    """Say whether any byte of a signed folder changed, and which file."""
    from workbench import integrity

    result = integrity.verify(args.folder)
    print(result.message())
    return 0 if result.ok else 4


def cmd_sample(args: argparse.Namespace) -> int:
    """Draw a sampling plan on a month's grades (双随机抽查), or replay a recorded draw."""
    from workbench import stages
    from workbench.sampling import stage

    params = stage.resolve_parameters(
        args.plan, args.grades or "", args.month or "", args.out or ""
    )
    data = args.data or None
    if args.replay:
        try:
            result = stage.run_sample(
                params.plan, params.grades, params.out, replay=True, ingest_dir=data
            )
        except stage.ReplayMismatch as err:
            print(f"workbench sample: the replay differs from {params.out}: {err}", file=sys.stderr)
            return 4
        print(f"replay of {params.out}: identical, byte for byte ({len(result['files'])} files)")
        return 0
    # draw first, so that a bad plan fails with its own message before any notebook starts
    record = stage.run_sample(params.plan, params.grades, params.out, ingest_dir=data)
    executed = None
    if not args.no_notebook:
        executed = stages.run_stage(
            "sample",
            {
                "plan": str(params.plan),
                "grades": str(params.grades),
                "data": args.data or "",
                "out": str(params.out),
                "show_only": True,
            },
            params.month,
        )
    c = record["counts"]
    print(
        f"{record['title']} ({record['plan_id']}, {record['month']}): "
        f"{c['drawn_enterprises']:,} of {c['eligible']:,} eligible enterprises drawn "
        f"({c['excluded']:,} excluded, {c['not_triggered']:,} not triggered), {c['tasks']:,} tasks"
    )
    print(
        f"  expected problems found: {record['expected_findings']:.1f}, against "
        f"{record['uniform_expected_findings']:.1f} for a uniform draw of the same size"
    )
    for warning in record["warnings"]:
        print(f"  warning: {warning}")
    print(f"task list (internal): {params.out / 'tasks.csv'}")
    print(f"public notice: {params.out / 'public' / 'notice.html'}")
    if executed is not None:
        print(f"sample notebook: {executed.with_suffix('.html')}")
    print(
        f"replay it with: workbench sample {args.plan or 'demo_monthly'} "
        f"--grades {params.grades} --replay"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Reconcile, publish and evaluate a plan's inspection results (through the stage notebook)."""
    from workbench import evaluate_stage, stages

    params = evaluate_stage.resolve_parameters(
        args.month or "",
        args.plan or "",
        args.results or "",
        args.published_on or "",
        args.simulate,
        args.seed,
        args.out or "",
    )
    if args.no_notebook:
        evaluate_stage.run_evaluation(params)
        executed = None
    else:
        executed = stages.run_stage(
            "evaluate",
            {
                "month": params.month,
                "plan_id": params.plan_id,
                "results_file": str(params.results or ""),
                "published_on": args.published_on or "",
                "simulate": args.simulate,
                "seed": params.seed,
                "out": str(params.out),
            },
            params.month,
        )
    _print_evaluation(params.out, executed)
    return 0


def _print_evaluation(out: Path, executed: Path | None) -> None:
    from workbench import evaluate_stage

    summary, _, rec = evaluate_stage.read_outputs(out)
    unmatched = sum(v for k, v in rec["status_counts"].items() if k != "matched")
    print(
        f"plan {summary['plan_id']}: {summary['inspected']:,} of {summary['drawn']:,} drawn "
        f"enterprises reported, {summary['found']:,} with problems; "
        f"{summary['tasks_without_result']:,} tasks without a result, {unmatched:,} result "
        f"rows not matched, {rec['results_quarantined']:,} quarantined (reconciliation.json)"
    )
    lift = summary["lift"].get("lift") or {}
    if lift.get("value") is not None:
        uniform = summary["lift"]["uniform_expected_found"]
        print(
            f"  lift over a uniform draw of the same size: {lift['value']:.2f} "
            f"(95 % {lift['low']:.2f}–{lift['high']:.2f}); uniform would find "
            f"{uniform['value']:.1f} ({uniform['low']:.1f}–{uniform['high']:.1f})"
        )
    d = summary["deadline"]
    print(
        f"  published within {d['within_working_days']} working days: {d['on_time']} on time, "
        f"{d['late']} late, {d['overdue']} overdue, {d['open']} open, "
        f"{d['calendar_unknown']} beyond the holiday calendar"
    )
    print(f"evaluation folder (internal): {out}")
    print(f"results notice (public): {out / 'public' / 'results_notice.html'}")
    if executed is not None:
        print(f"evaluation notebook: {executed.with_suffix('.html')}")


def cmd_health(args: argparse.Namespace) -> int:
    """PSI of score and indicators month over month; warnings; MLflow run under the champion."""
    from workbench import health

    report = health.run_health(args.month or None, log_mlflow=not args.no_mlflow)
    if report["previous"] is None:
        print(f"model health {report['month']}: first month with grades, nothing to compare")
    else:
        print(
            f"model health {report['month']} vs {report['previous']}: score PSI "
            f"{report['psi_score']:.4f}, grade PSI {report['psi_grade']:.4f}, indicators "
            f"{report['indicators_warn']} to watch (≥ 0.10), {report['indicators_alert']} "
            f"shifted (≥ 0.25)"
        )
        for warning in report["warnings"][:10]:
            print(f"  {warning['level']}: {warning['message']}")
        if report["retrain_recommended"]:
            print("  retraining recommended (a PSI reached 0.25)")
    if report.get("mlflow_run_id"):
        print(f"  MLflow run {report['mlflow_run_id']}")
    print(f"health folder: {health.health_dir(report['month'])}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Build the month's leadership report (HTML + PDF) and rebuild reports/index.html."""
    from workbench import leadership_report, stages

    month = leadership_report.check_month(args.month or leadership_report.latest_month())
    if args.no_notebook:
        html = leadership_report.build_month_report(month, pdf=not args.no_pdf)
    else:
        stages.run_stage("report", {"month": month}, month)
        html = workspace.reports_dir() / month / "leadership.html"
        leadership_report.build_index()  # again, so it lists 07_report.html too
    print(f"leadership report: {html}")
    if html.with_suffix(".pdf").is_file():
        print(f"  PDF: {html.with_suffix('.pdf')}")
    print(f"  every month: {workspace.reports_dir() / 'index.html'} (opens offline)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the monthly cycle on the demo city (generated first when needed)."""
    from workbench import cycle, demo

    params = demo.CityParameters(entities=args.entities, months=args.months, seed=args.seed)
    city = demo.ensure_city(params)
    print(f"demo city: {city} ({params.entities:,} entities, {params.months} months)")
    snapshot = str(pd.Timestamp(params.end).date())
    settings = cycle.CycleSettings(
        city=city, data_snapshot=snapshot, months=cycle.cycle_months(snapshot, args.cycle)
    )
    print(
        f"monthly cycle: {settings.months[0]} … {settings.months[-1]} "
        f"({len(settings.months)} months, every stage as of each month's end)"
    )
    outcome = cycle.run_cycle(settings)
    for month, record in outcome["months"].items():
        ev = record.get("evaluation", {})
        trained = record.get("trained")
        print(
            f"  {month}: graded {record['graded']:,}, {record['tasks']:,} tasks, "
            + (
                f"problems found per inspection {ev['hit_rate']:.1%} vs "
                f"{ev['uniform_rate']:.1%} for a uniform draw "
                f"(95 % {ev['uniform_low']:.1%}–{ev['uniform_high']:.1%}); lift "
                f"{ev['lift']:.2f} ({ev['lift_low']:.2f}–{ev['lift_high']:.2f})"
                if ev.get("lift") is not None
                else "no evaluation"
            )
            + (f"; trained v{trained['version']}" if trained else "")
        )
    reports = workspace.reports_dir() / "index.html"
    print(f"done in {outcome['seconds'] / 60:.1f} min. Reports: {reports} (open it in a browser)")
    print(
        "next: `.venv/bin/workbench lab` opens JupyterLab on notebooks/, "
        "`.venv/bin/workbench ui` the MLflow UI on http://127.0.0.1:5000"
    )
    return 0


def cmd_contract(args: argparse.Namespace) -> int:
    """Print or write the contract document."""
    from workbench import contract

    text = contract.render_markdown()
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    else:
        print(text)
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    """Start JupyterLab on notebooks/."""
    env = dict(os.environ, WORKBENCH_HOME=str(workspace.repo_root()))
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--notebook-dir={workspace.notebooks_dir()}",
        f"--ServerApp.ip={args.host}",
        f"--ServerApp.port={args.port}",
        "--no-browser",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines run as root
        cmd.append("--allow-root")
    return subprocess.call(cmd, env=env)


def cmd_ui(args: argparse.Namespace) -> int:
    """Start the MLflow UI on loopback against the workbench store, until Ctrl-C."""
    import contextlib
    import signal

    from workbench import governance

    # a service manager (or a test) stops us with SIGTERM: leave through the context
    # manager so the server it started (its own process group) stops too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with governance.MLflowServer(port=args.port) as server:
        print(f"MLflow UI on {server.url} (store {governance.tracking_uri()}; Ctrl-C stops it)")
        with contextlib.suppress(KeyboardInterrupt):
            server.wait()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per stage)."""
    from workbench import synth

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="企业信用风险分类与双随机抽查工作台",
        epilog=STAGES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="stage", required=True, metavar="stage")

    p = sub.add_parser("synth", help="generate the synthetic demo city")
    p.add_argument("--entities", type=int, default=100_000)
    p.add_argument("--months", type=int, default=36)
    p.add_argument("--seed", type=int, default=synth.DEFAULT_SEED)
    p.add_argument("--end", default=synth.DEFAULT_END, help="last day of the window (snapshot)")
    p.add_argument("--out", help="output folder (default: data/city)")
    p.add_argument(
        "--messy",
        action="store_true",
        help="write some tables as GBK CSV / XLSX / Parquet with Chinese headers",
    )
    p.add_argument(
        "--errors",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="corrupt this share of event rows on purpose (e.g. 0.002), "
        "listed in _truth/injected_errors.csv",
    )
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("ingest", help="load, validate, quarantine; data-quality report")
    p.add_argument("--data", help="folder of exports (default: the demo city)")
    p.add_argument("--snapshot", help=f"data snapshot date (default {synth.DEFAULT_END})")
    p.add_argument("--out", help="output folder (default: data/ingest/<YYYY-MM>)")
    p.add_argument(
        "--feedback",
        help="folders of rows the workbench produced (inspection results of its plans), "
        "comma-separated: appended to their tables",
    )
    p.add_argument(
        "--no-notebook",
        action="store_true",
        help="skip the notebook and its report (faster, for scripts)",
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("indicators", help="indicators as of a snapshot; signal check; panel")
    p.add_argument("--data", help="ingest output folder (default: the latest ingest)")
    p.add_argument("--snapshot", help="evaluation date YYYY-MM-DD (default: the data's)")
    p.add_argument("--catalog", help="indicator catalog YAML (default: the generic one)")
    p.add_argument(
        "--packs", help="professional packs, comma-separated: food,drugs,special_equipment"
    )
    p.add_argument("--out", help="output folder (default: data/indicators/<YYYY-MM>)")
    p.add_argument(
        "--panel",
        metavar="FROM:TO",
        help="instead: a training panel of month-end snapshots FROM..TO (YYYY-MM) "
        "with labels, written to data/panel/",
    )
    p.add_argument("--no-notebook", action="store_true", help="skip the notebook")
    p.set_defaults(func=cmd_indicators)

    p = sub.add_parser("train", help="fit a scorecard family, validate out of time, log to MLflow")
    p.add_argument("--data", help="ingest output folder (default: the latest ingest)")
    p.add_argument(
        "--panel",
        help="training panel parquet (default: 10 training month ends, a 12-month embargo, "
        "3 validation month ends)",
    )
    p.add_argument(
        "--family", default="generic", help="generic, or a pack: food, drugs, special_equipment"
    )
    p.add_argument(
        "--scheme",
        default="national_4",
        help="grade scheme: national_4, five_class, national_4_pd, shenzhen_bands",
    )
    p.add_argument("--validation-from", help="first validation snapshot YYYY-MM-DD")
    p.add_argument("--out", help="output folder (default: data/models/<family>)")
    p.add_argument("--no-notebook", action="store_true", help="skip the notebook")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("promote", help="set the champion alias if the run passes the gates")
    p.add_argument("run", help="MLflow run id (printed by workbench train)")
    p.add_argument("--gates", help="gates YAML (default: the packaged gates.yaml)")
    p.set_defaults(func=cmd_promote)

    p = sub.add_parser("grade", help="grade every active enterprise as of a month")
    p.add_argument("--snapshot", help="month YYYY-MM (default: the latest ingest's)")
    p.add_argument("--data", help="ingest output folder (default: data/ingest/<YYYY-MM>)")
    p.add_argument("--family", default="generic", help="model family (registered model)")
    p.add_argument("--alias", default="champion", help="registry alias to grade with")
    p.add_argument("--overrides", help="override rules YAML (default: the packaged rules)")
    p.add_argument("--out", help="output folder (default: data/grades/<YYYY-MM>)")
    p.add_argument("--no-notebook", action="store_true", help="skip the notebook")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("verify", help="check a signed grade folder byte for byte")
    p.add_argument("folder", help="e.g. data/grades/2026-10")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("sample", help="double-random draw by grade: task list and public notice")
    p.add_argument(
        "plan",
        nargs="?",
        default="",
        help="plan YAML, or a preset: demo_monthly (default), henan_2021, bayannur",
    )
    p.add_argument("--grades", help="grade folder (default: the latest data/grades/<YYYY-MM>)")
    p.add_argument("--month", help="grade month YYYY-MM (instead of --grades)")
    p.add_argument("--data", help="ingest folder of that month (default: data/ingest/<YYYY-MM>)")
    p.add_argument("--out", help="output folder (default: data/sampling/<YYYY-MM>/<plan id>)")
    p.add_argument(
        "--replay", action="store_true", help="redraw, compare byte for byte, write nothing"
    )
    p.add_argument("--no-notebook", action="store_true", help="skip the notebook")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("evaluate", help="reconcile a plan's results, publish them, evaluate")
    p.add_argument("--month", help="plan month YYYY-MM (default: the latest with a plan)")
    p.add_argument("--plan", help="plan id (default: the month's most recent plan)")
    p.add_argument(
        "--results",
        help="inspection results (contract inspections table; default: "
        "data/results/<YYYY-MM>/<plan>/inspections.*)",
    )
    p.add_argument("--published-on", help="day the results notice is published (YYYY-MM-DD)")
    p.add_argument(
        "--simulate",
        choices=("auto", "yes", "no"),
        default="auto",
        help="simulate results from the synthetic truth when there are none (demo city only)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of simulated results")
    p.add_argument("--out", help="output folder (default: data/evaluation/<YYYY-MM>/<plan>)")
    p.add_argument("--no-notebook", action="store_true", help="skip the notebook")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("health", help="model health: PSI month over month, warnings, MLflow")
    p.add_argument("--month", help="YYYY-MM (default: the latest month with grades)")
    p.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")
    p.set_defaults(func=cmd_health)

    p = sub.add_parser(
        "report", help="the month's leadership report (HTML + PDF) and reports/index.html"
    )
    p.add_argument("--month", default="", help="YYYY-MM (default: the latest month with outputs)")
    p.add_argument(
        "--no-notebook", action="store_true", help="build without notebooks/07_report.ipynb"
    )
    p.add_argument(
        "--no-pdf", action="store_true", help="HTML only, no Chromium (with --no-notebook)"
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("demo", help="the monthly cycle on the demo city")
    p.add_argument("--entities", type=int, default=100_000)
    p.add_argument("--months", type=int, default=36, help="months of city history")
    p.add_argument("--seed", type=int, default=synth.DEFAULT_SEED)
    p.add_argument(
        "--cycle",
        type=int,
        default=6,
        metavar="MONTHS",
        help="consecutive months the cycle runs, ending the month before the data's last",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("contract", help="print or write docs/data-contract.md")
    p.add_argument("--write", metavar="PATH")
    p.set_defaults(func=cmd_contract)

    p = sub.add_parser("lab", help="JupyterLab on notebooks/")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8888)
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("ui", help="MLflow UI on 127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.set_defaults(func=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``workbench`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:  # MLflow logs its bookkeeping at INFO on its own handler
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
        logging.getLogger("mlflow").setLevel(logging.WARNING)
    from workbench.governance import ModelNotFoundError
    from workbench.indicators import CatalogError
    from workbench.integrity import SigningKeyError
    from workbench.load import ContractError

    try:
        return args.func(args)
    except (
        ContractError,
        CatalogError,
        ValueError,
        FileNotFoundError,
        ModelNotFoundError,
        SigningKeyError,
    ) as err:
        print(f"workbench {args.stage}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
