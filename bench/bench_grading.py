"""Benchmark: grading 1,000,000 enterprises with overrides, reasons and signed files.

Needs the demo (`./run demo`: ingest, indicators, a champion). Two measurements, each in
a fresh process (peak memory = that process's max RSS):

- **grade 1M rows**: the demo snapshot's indicator matrix tiled to 1,000,000 rows (codes
  made unique), then what ``run_grading`` does after the indicators — score, PD, grade,
  overrides, points, top-3 Chinese reasons, SHAP check on 2,000 rows, migration against
  the same rows, grade files (parquet + CSV) and the signed manifest;
- **baseline**: ``GradingModel.predict`` alone (score, PD, grade) on the same rows, in
  the same process — the ratio says what reasons, overrides and files cost on top.

With ``--ingest DIR`` (e.g. a 1M-entity city: ``workbench synth --entities 1000000
--out /tmp/city1m`` then ``workbench ingest --data /tmp/city1m --out /tmp/ingest1m
--no-notebook``) it also times ``run_grading`` end to end on that data, indicators
included (MLflow logging off).

    .venv/bin/python bench/bench_grading.py [--ingest DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

ROWS = 1_000_000
TARGET_S = 120
TARGET_GIB = 8

TILED = r"""
import json, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd
from workbench import governance, grading, integrity, migration, overrides, workspace
from workbench.indicators import load_catalog
from workbench.indicators.engine import Engine

model, ref = governance.load_grading_model("generic")
data = workspace.ingest_dir(sys.argv[1])
snapshot = str(pd.Period(sys.argv[1], "M").end_time.date())
catalog = load_catalog()
with Engine(data / "tables") as engine:
    base = engine.compute(snapshot, catalog)
reps = int(np.ceil(int(sys.argv[2]) / len(base)))
matrix = pd.concat([base] * reps, ignore_index=True).head(int(sys.argv[2]))
matrix["uscc"] = matrix["uscc"].astype(str) + "-" + (matrix.index // len(base)).astype(str)
rules = overrides.load_rules()
names = {i.id: i.name for i in catalog.all}
start = time.perf_counter()
model.predict(matrix)
predict_s = time.perf_counter() - start
start = time.perf_counter()
rows, contrib = grading.grade_frame(matrix, model, rules, names, snapshot)
rows.insert(1, "name", "某企业")
rows.insert(5, "region_code", "410402")
rows["model_name"], rows["model_version"], rows["run_id"] = ref.name, ref.version, ref.run_id
rows["scheme"] = model.scheme.scheme.id
rows = rows[list(grading.GRADE_COLUMNS)]
sample = matrix.sample(n=2000, random_state=0)
from workbench import explain
explain.shap_agreement(model.scorecard, sample, sample)
codes = tuple(model.scheme.scheme.codes)
migration.migration_matrix(rows, rows, codes)
migration.early_warnings(rows, rows, codes)
migration.region_industry(rows, codes)
grading.importance_table(contrib, catalog)
with tempfile.TemporaryDirectory() as tmp:
    grading._write_grade_files(rows, Path(tmp))
    integrity.write_manifest(Path(tmp), {"bench": True})
grade_s = time.perf_counter() - start
print(json.dumps({"rows": len(matrix), "features": len(model.features),
                  "predict_s": predict_s, "grade_s": grade_s}))
"""

END_TO_END = r"""
import json, sys, tempfile, time
from pathlib import Path
from workbench import grading
with tempfile.TemporaryDirectory() as tmp:
    params = grading.resolve_parameters(data=sys.argv[1], out=str(Path(tmp) / "g"),
                                        log_to_mlflow=False)
    start = time.perf_counter()
    summary = grading.run_grading(params)
    print(json.dumps({"rows": summary["enterprises"], "seconds": time.perf_counter() - start}))
"""


def _run(code: str, *args: str) -> tuple[dict, float]:
    """Run ``code`` in a fresh interpreter; its JSON line and its peak RSS in GiB."""
    wrapper = (
        code
        + "\nimport resource, sys\n"
        + "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    rss_kib = int(proc.stderr.rsplit("MAXRSS", 1)[1].split()[0])
    return json.loads(proc.stdout.strip().splitlines()[-1]), rss_kib / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--month", default="2026-10", help="the demo's ingested month")
    parser.add_argument("--ingest", help="an ingest folder to grade end to end")
    args = parser.parse_args()
    tiled, gib = _run(TILED, args.month, str(ROWS))
    print(
        "| rows | features | grade s (overrides, reasons, files, manifest) | target s "
        "| baseline predict s | ratio | peak GiB | target GiB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {tiled['rows']:,} | {tiled['features']} | {tiled['grade_s']:.1f} | {TARGET_S} "
        f"| {tiled['predict_s']:.2f} | {tiled['grade_s'] / tiled['predict_s']:.1f}× "
        f"| {gib:.1f} | {TARGET_GIB} |"
    )
    if args.ingest:
        end, gib = _run(END_TO_END, args.ingest)
        print(
            f"\nend to end (`run_grading`, indicators included) on {args.ingest}: "
            f"{end['rows']:,} enterprises in {end['seconds']:.1f} s, peak {gib:.1f} GiB"
        )


if __name__ == "__main__":
    main()
