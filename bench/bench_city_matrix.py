"""The matrix of cities unlike the demo: what each gives with every stage's defaults.

For each city of :data:`workbench.demo.synth.matrix.GRID` (3,000 enterprises each; another
prefecture, industry mix or risk structure; 18 to 60 months of exported history; other end
months; optional tables absent) it runs ingest → train → promote → grade → sample in a
private workspace and prints one Markdown table: the design, the validation AUC, the
LightGBM reference on the same indicators and split, the bad rate per grade on the
held-out (out-of-time validation) labels, and whether the grades rise strictly — the
scorecard's, and the reference's graded by the same scheme (``graded_alike``), so an
inversion the sample makes is told from one the scorecard makes — or the readiness
message a stage stopped with.

    .venv/bin/python bench/bench_city_matrix.py            # the whole grid (~5 min alone)
    .venv/bin/python bench/bench_city_matrix.py h18 h48-latent   # some cities
    .venv/bin/python bench/bench_city_matrix.py --entities 20000  # larger cities, same grid
    .venv/bin/python bench/bench_city_matrix.py --seed 12     # other cities, same profiles
    .venv/bin/python bench/bench_city_matrix.py demo       # the demo city (100,000; ~15 min)

A city of 3,000 enterprises is too small for the default gates; the workspace uses lax
ones (as the tests do), so every trained model is promoted and graded with.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
warnings.filterwarnings("ignore")

GATES = "auc_min: 0.5\nks_min: 0.0\npsi_max: null\ngrades_monotone: false\nmax_missing_share: 1.0\n"


def main() -> None:
    """Run the chosen cities (the grid by default) and print the table."""
    from workbench.demo.synth import DEFAULT_END, DEFAULT_SEED
    from workbench.demo.synth.matrix import GRID, Case, run_case
    from workbench.demo.synth.profile import CityProfile

    demo = Case("demo", CityProfile(), DEFAULT_END, entities=100_000, seed=DEFAULT_SEED)
    known = [c.name for c in (*GRID, demo)]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", metavar="CITY", help=f"cities to run (default: the grid): {known}"
    )
    parser.add_argument(
        "--entities", type=int, help="enterprises in every grid city (default: each case's)"
    )
    parser.add_argument(
        "--seed", type=int, help="the grid cities' generator seed (default: each case's, 11)"
    )
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown cities {unknown}; allowed: {', '.join(known)}")
    cases = [c for c in (*GRID, demo) if c.name in args.names] if args.names else list(GRID)
    if args.entities:
        cases = [c if c is demo else dataclasses.replace(c, entities=args.entities) for c in cases]
    if args.seed is not None:
        cases = [c if c is demo else dataclasses.replace(c, seed=args.seed) for c in cases]
    root = Path(tempfile.mkdtemp(prefix="workbench-matrix-"))
    os.environ["WORKBENCH_MLFLOW_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    rows = []
    for case in cases:
        home = root / case.name / "home"
        (home / "conf").mkdir(parents=True)
        (home / "pyproject.toml").write_text("# matrix home\n")
        (home / "conf" / "gates.yaml").write_text(GATES, encoding="utf-8")
        os.environ["WORKBENCH_HOME"] = str(home)
        outcome = run_case(case, root / case.name)
        rows.append(outcome)
        print(f"{case.name}: {outcome.seconds:.0f} s", file=sys.stderr)
    print(
        "| city | profile | end | design (training / validation month ends) | valid AUC | "
        "LightGBM ref | bad rate A / B / C / D (held-out) [95 % CI by enterprise] | "
        "strict order: scorecard / LightGBM graded alike (weakest step z) | left out |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for o in rows:
        profile = o.case.profile.describe()
        stops = ""
        if o.stopped:
            stage, _, message = o.stopped.partition(": ")
            more = re.search(r"holds (\d+) months.*?(\d+) more months?", message)
            why = f"{more[1]} months held, {more[2]} more needed" if more else message[:120]
            stops = f"{stage} stops: {why}"
        if o.stopped and not o.metrics.get("reference_lgbm_auc"):
            print(f"| {o.case.name} | {profile} | {o.case.end} | {stops} | — | — | — | — | — |")
            continue
        m = o.metrics
        design = o.design.split(";")[0].removeprefix("design: ")
        design += f" (then {stops})" if stops else ""
        rates = " / ".join(
            f"{100 * o.bad_rate_by_grade[g]:.1f} % [{100 * o.interval_by_grade[g][0]:.1f}, "
            f"{100 * o.interval_by_grade[g][1]:.1f}]"
            if g in o.bad_rate_by_grade
            else "—"
            for g in "ABCD"
        )
        order = " / ".join(
            f"{'yes' if m[flag] else 'no'} ({m[z]:+.2f})"
            for flag, z in (
                ("grades_monotone", "grades_order_z"),
                ("reference_lgbm_grades_monotone", "reference_lgbm_order_z"),
            )
        )
        print(
            f"| {o.case.name} | {profile} | {o.case.end} | {design} | {m['valid_auc']:.3f} | "
            f"{m['reference_lgbm_auc']:.3f} | {rates} | {order} | {len(o.excluded)} |"
        )


if __name__ == "__main__":
    main()
