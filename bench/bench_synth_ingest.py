"""Benchmark: `workbench synth` and `workbench ingest` on a generated city.

Each measured step runs in its own process (peak memory = that process's max RSS). Because
machines here are noisy, every step is also compared with a baseline measured in the same
run on the same data: the bare I/O floor with pandas (write the same tables with
`to_csv`, read them back with `read_csv(dtype=str)`). The ratio is the figure to track.

    .venv/bin/python bench/bench_synth_ingest.py --entities 100000 --months 36
    .venv/bin/python bench/bench_synth_ingest.py --entities 1000000 --months 36 --skip-baseline

Prints a Markdown table; paste it into bench/README.md with the date and commit.
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
step, args = sys.argv[1], json.loads(sys.argv[2])
t0 = time.perf_counter()
if step == "synth":
    from workbench.synth import generate_city
    generate_city(args["out"], entities=args["entities"], months=args["months"], seed=args["seed"])
elif step == "ingest":
    from workbench.ingest import run_ingest
    from workbench.synth import DEFAULT_END
    report = run_ingest(args["city"], DEFAULT_END, args["out"])
    assert report["attribution"]["rate"] == 1.0, report["attribution"]
elif step == "read_floor":
    import pandas as pd
    from pathlib import Path
    for f in sorted(Path(args["city"]).glob("*.csv")):
        pd.read_csv(f, dtype=str, keep_default_na=False)
elif step == "write_floor":
    import pandas as pd
    from pathlib import Path
    frames = {f.name: pd.read_csv(f, dtype=str, keep_default_na=False)
              for f in sorted(Path(args["city"]).glob("*.csv"))}
    t0 = time.perf_counter()  # only the writing counts
    for name, frame in frames.items():
        frame.to_csv(Path(args["out"]) / name, index=False)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(step: str, **args) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, step, json.dumps(args)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        city = work / "city"
        rows = []
        synth = run(
            "synth", out=str(city), entities=args.entities, months=args.months, seed=args.seed
        )
        event_rows = sum(sum(1 for _ in f.open("rb")) - 1 for f in city.glob("*.csv"))
        ingest = run("ingest", city=str(city), out=str(work / "ingest"))
        floor_write = floor_read = None
        if not args.skip_baseline:
            (work / "floor").mkdir()
            floor_write = run("write_floor", city=str(city), out=str(work / "floor"))
            floor_read = run("read_floor", city=str(city))
        for name, result, floor, target in [
            ("synth", synth, floor_write, 120),
            ("ingest", ingest, floor_read, 60),
        ]:
            ratio = f"{result['seconds'] / floor['seconds']:.1f}×" if floor else "—"
            rows.append(
                f"| {name} | {args.entities:,} × {args.months} | {event_rows:,} | "
                f"{result['seconds']:.1f} | {target} | {result['peak_mib']:,.0f} | "
                f"{floor['seconds']:.1f} | {ratio} |"
                if floor
                else f"| {name} | {args.entities:,} × {args.months} | {event_rows:,} | "
                f"{result['seconds']:.1f} | {target} | {result['peak_mib']:,.0f} | — | — |"
            )
        print(
            "| step | entities × months | rows in city | seconds | target s | peak MiB "
            "| I/O floor s | ratio to floor |"
        )
        print("|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
