"""Benchmark: one snapshot of indicators (`Engine.compute`) on a generated, ingested city.

The city is generated and ingested first (not timed). Then, each in its own process:

- **indicators**: the generic catalog plus the three professional packs, as of the data
  snapshot, for every active enterprise (relations included);
- **baseline**: the floor of the same work in DuckDB — read every event table once and
  `GROUP BY uscc` with a plain `count(*)` — so the ratio says what the catalog costs
  beyond touching the data.

    .venv/bin/python bench/bench_indicators.py --entities 1000000
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
step, tables, snapshot = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
if step == "indicators":
    from workbench.indicators import Engine, load_catalog
    catalog = load_catalog(packs=["food", "drugs", "special_equipment"])
    with Engine(tables) as engine:
        frame = engine.compute(snapshot, catalog)
    rows, cols = len(frame), len(catalog.all)
elif step == "baseline":
    import duckdb
    from pathlib import Path
    con = duckdb.connect()
    rows = cols = 0
    for path in sorted(Path(tables).glob("*.parquet")):
        if path.stem in ("enterprises", "inspectors", "conflicts", "relations"):
            continue
        out = con.sql(f"SELECT uscc, count(*) FROM read_parquet('{path}') GROUP BY uscc")
        rows += len(out.to_arrow_table())
        cols += 1
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": rows, "cols": cols,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(step: str, tables: Path, snapshot: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, step, str(tables), snapshot],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()
    from workbench.demo import synth
    from workbench.stages import ingest

    work = Path(tempfile.mkdtemp(prefix="bench-ind-"))
    try:
        synth.generate_city(work / "city", entities=args.entities, months=args.months)
        ingest.run_ingest(work / "city", synth.DEFAULT_END, work / "ingest")
        tables = work / "ingest" / "tables"
        result = run("indicators", tables, synth.DEFAULT_END)
        floor = run("baseline", tables, synth.DEFAULT_END)
        print(
            "| entities | active at snapshot | indicators | seconds | target s | peak MiB "
            "| DuckDB floor s | ratio to floor |"
        )
        print("|---|---|---|---|---|---|---|---|")
        print(
            f"| {args.entities:,} | {result['rows']:,} | {result['cols']} | "
            f"{result['seconds']:.1f} | 60 | {result['peak_mib']:,.0f} | "
            f"{floor['seconds']:.1f} | {result['seconds'] / floor['seconds']:.1f}× |"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
