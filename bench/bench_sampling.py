"""Benchmark: drawing ~50,000 tasks from 1,000,000 enterprises, 2 inspectors each.

Synthetic frames written as the stage reads them (a grade file with grades 48/42/6/4 %,
the ingested register, 300,000 inspections, 100,000 complaints, 2,500 inspectors in ten
county bureaus, 6,000 declared conflicts, and last month's task list of 50,000 tasks so
the last-inspector and 12-month rules have work to do). The plan draws A only when
triggered (all of them), B 3 %, C 25 %, D 60 %, one item, 2 inspectors per task, at most
60 tasks each. Measured in one process:

- **run_sample**: the whole stage, files read and written (task list, strata, draw
  record, public notice) — target (issue #6) under 30 s;
- its parts: the sampling frame (filters, exclusions, triggers), the stratified draw
  (SHA-256 keys for every eligible enterprise), the inspector draw;
- **baselines** in the same run: a naive pandas ``groupby(stratum).sample(n)`` on the same
  frame (not replayable across platforms, no π bookkeeping), and a naive per-task
  ``rng.choice`` of 2 inspectors from the department ignoring every rule.

    .venv/bin/python bench/bench_sampling.py [--entities 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.sampling import draw as draw_mod
from workbench.sampling import inspectors as insp_mod
from workbench.sampling import population
from workbench.sampling.plan import load_plan
from workbench.stages import sample as stage

COUNTIES = [
    "410402",
    "410403",
    "410404",
    "410411",
    "410421",
    "410422",
    "410423",
    "410425",
    "410481",
    "410482",
]
SHARES = np.array([0.15, 0.115, 0.02, 0.125, 0.08, 0.095, 0.09, 0.07, 0.055, 0.2])
BUREAU = {c: f"县局{c}" for c in COUNTIES}
ITEM = "企业公示信息情况检查"
SNAP = pd.Timestamp("2026-10-31")


def build(root: Path, n: int, seed: int = 1) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(seed)
    uscc = np.char.add("91", np.char.zfill(np.arange(n).astype(str), 16)).astype(object)
    region = np.array(COUNTIES, dtype=object)[rng.choice(len(COUNTIES), n, p=SHARES / SHARES.sum())]
    grade = np.array(list("ABCD"), dtype=object)[rng.choice(4, n, p=[0.48, 0.42, 0.06, 0.04])]
    pd_ = np.select([grade == "A", grade == "B", grade == "C"], [0.01, 0.05, 0.2], 0.5)
    grades = pd.DataFrame(
        {
            "uscc": uscc,
            "name": np.char.add("企业", np.arange(n).astype(str)).astype(object),
            "snapshot": SNAP,
            "entity_type": "company",
            "industry_section": "F",
            "region_code": region,
            "score": 600.0,
            "pd": pd_ * rng.uniform(0.5, 1.5, n),
            "grade": grade,
        }
    )
    gdir = root / "grades" / "2026-10"
    gdir.mkdir(parents=True)
    grades.to_parquet(gdir / "grades.parquet", index=False)
    (gdir / "summary.json").write_text(
        json.dumps({"snapshot": "2026-10", "scheme": {"grades": list("ABCD"), "labels": {}}}),
        encoding="utf-8",
    )
    tables = root / "ingest" / "tables"
    tables.mkdir(parents=True)
    grades[["uscc", "name", "region_code"]].assign(
        industry_code="F5191", status="active"
    ).to_parquet(tables / "enterprises.parquet", index=False)
    k = 300_000
    pd.DataFrame(
        {
            "uscc": uscc[rng.integers(0, n, k)],
            "inspected_on": SNAP - pd.to_timedelta(rng.integers(0, 3 * 365, k), unit="D"),
            "item": np.where(rng.random(k) < 0.3, ITEM, "价格行为检查"),
            "found_problem": rng.random(k) < 0.2,
        }
    ).to_parquet(tables / "inspections.parquet", index=False)
    a_rows = np.flatnonzero(grade == "A")
    k = 100_000
    pd.DataFrame(
        {
            "uscc": uscc[a_rows[rng.integers(0, len(a_rows), k)]],
            "received_on": SNAP - pd.to_timedelta(rng.integers(0, 5 * 365, k), unit="D"),
        }
    ).to_parquet(tables / "complaints.parquet", index=False)
    per_county = np.maximum(2, np.round(SHARES / SHARES.sum() * n / 400)).astype(int)
    ins_region = np.repeat(np.array(COUNTIES, dtype=object), per_county)
    m = len(ins_region)
    ids = np.array([f"ZF{r}{i:05d}" for i, r in enumerate(ins_region)], dtype=object)
    pd.DataFrame(
        {
            "inspector_id": ids,
            "name": [f"检查员{i}" for i in range(m)],
            "department": [BUREAU[r] + "第一所" for r in ins_region],
            "region_code": ins_region,
            "active": rng.random(m) < 0.92,
            "items": f"{ITEM};价格行为检查",
        }
    ).to_parquet(tables / "inspectors.parquet", index=False)
    k = 6_000
    pd.DataFrame(
        {
            "inspector_id": ids[rng.integers(0, m, k)],
            "uscc": uscc[rng.integers(0, n, k)],
            "reason": "近亲属关系",
        }
    ).drop_duplicates(["inspector_id", "uscc"]).to_parquet(
        tables / "conflicts.parquet", index=False
    )
    # last month's task list: 50,000 enterprises of other items, with their inspectors
    prev = root / "data" / "sampling" / "2026-09" / "prev"
    prev.mkdir(parents=True)
    k = 50_000
    pick = rng.choice(n, k, replace=False)
    owner = {r: ids[ins_region == r] for r in COUNTIES}
    pd.DataFrame(
        {
            "task_id": [f"prev-{i}" for i in range(k)],
            "uscc": uscc[pick],
            "item": "价格行为检查",
            "window_start": pd.Timestamp("2026-10-01"),
            "window_end": pd.Timestamp("2026-10-31"),
            "inspectors": [";".join(rng.choice(owner[r], 2, replace=False)) for r in region[pick]],
        }
    ).to_parquet(prev / "tasks.parquet", index=False)
    plan = root / "plan.yaml"
    depts = "\n".join(f"  - {BUREAU[c]}" for c in COUNTIES)
    plan.write_text(
        f"""id: bench
title: 基准测试计划
seed: 1
departments:
{depts}
items: [{ITEM}]
grades:
  A: {{ratio: "100%", triggered_only: true}}
  B: "3%"
  C: "25%"
  D: "60%"
triggers: {{days: 30}}
exclusions: {{same_item_months: 12}}
inspectors: {{per_task: 2, max_tasks_each: 60}}
window: {{days: 30}}
""",
        encoding="utf-8",
    )
    return plan, gdir, root / "ingest"


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["WORKBENCH_HOME"] = str(root)  # earlier task lists under root/data/sampling
        plan_path, gdir, ingest = build(root, args.entities)
        record, total = timed(
            lambda: stage.run_sample(plan_path, gdir, root / "out", ingest_dir=ingest)
        )
        # the parts, on the same inputs
        plan = load_plan(plan_path)
        grades = pd.read_parquet(gdir / "grades.parquet")
        tables = stage._read_tables(ingest)
        earlier = stage._read_earlier(stage.earlier_task_lists("2026-10"))
        frame, t_frame = timed(lambda: population.build_frame(grades, plan, SNAP, tables, earlier))
        counts = draw_mod.stratum_counts(frame, plan.grades, list("ABCD"))
        drawn, t_draw = timed(lambda: draw_mod.draw(frame, counts, plan.seed, plan.id, "2026-10"))
        tasks = pd.read_parquet(root / "out" / "tasks.parquet")
        base_tasks = tasks[["task_id", "uscc", "region_code", "item"]]
        _, t_insp = timed(
            lambda: insp_mod.assign_inspectors(
                base_tasks, tables["inspectors"], plan, "2026-10", tables["conflicts"], earlier
            )
        )
        # baselines
        wanted = counts.set_index("stratum")["drawn"]
        pool = frame[frame["eligible"]]
        _, t_naive_draw = timed(
            lambda: pool.groupby("stratum", group_keys=False)[["uscc", "stratum"]].apply(
                lambda g: g.sample(n=int(wanted[g.name]), random_state=1)
            )
        )
        reg = tables["inspectors"]
        by_region = {
            r: reg.loc[reg["region_code"] == r, "inspector_id"].to_numpy() for r in COUNTIES
        }
        rng = np.random.default_rng(1)
        _, t_naive_insp = timed(
            lambda: [rng.choice(by_region[r], 2, replace=False) for r in base_tasks["region_code"]]
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    c = record["counts"]
    print(
        f"{args.entities:,} enterprises: eligible {c['eligible']:,} (excluded {c['excluded']:,}, "
        f"not triggered {c['not_triggered']:,}), drawn {c['drawn_enterprises']:,}, "
        f"tasks {c['tasks']:,}, peak {peak:,.0f} MiB"
    )
    print("| step | seconds | baseline | baseline s | ratio |")
    print("|---|---|---|---|---|")
    print(
        f"| run_sample (whole stage, files in and out) | {total:.1f} | target | 30 | "
        f"{total / 30:.2f} of target |"
    )
    print(f"| sampling frame (filters, exclusions, triggers) | {t_frame:.2f} | — | — | — |")
    print(
        f"| stratified draw (SHA-256 keys, π) | {t_draw:.2f} | pandas groupby-sample | "
        f"{t_naive_draw:.2f} | {t_draw / t_naive_draw:.1f}× |"
    )
    print(
        f"| inspector draw (all rules) | {t_insp:.2f} | per-task rng.choice, no rules | "
        f"{t_naive_insp:.2f} | {t_insp / t_naive_insp:.1f}× |"
    )


if __name__ == "__main__":
    main()
