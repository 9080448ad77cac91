"""Benchmark: scoring 1,000,000 enterprises (score, PD, grade) with the trained model.

Needs the demo's trained model and panel (`./run demo`, then
`workbench indicators --panel 2024-10:2025-10`). The rows of the panel are repeated up to
1,000,000. Measured in one process, best of 3 after a warm-up:

- **workbench**: `GradingModel.predict` — score, PD and grade;
- **baseline**: optbinning's own `Scorecard.score` on the same frame (score only).

    .venv/bin/python bench/bench_scoring.py
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from workbench import workspace
from workbench.scoring.model import GradingModel

ROWS = 1_000_000


def best_of(fn, repeat: int = 3) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    model_path = workspace.data_dir() / "models" / "generic" / "model.pkl"
    panels = sorted((workspace.data_dir() / "panel").glob("*/panel.parquet"))
    if not model_path.is_file() or not panels:
        sys.exit("run ./run demo and `workbench indicators --panel 2024-10:2025-10` first")
    model = GradingModel.load(model_path)
    rows = pd.read_parquet(panels[-1], columns=model.features)
    frame = rows.iloc[np.arange(ROWS) % len(rows)].reset_index(drop=True)
    ours = best_of(lambda: model.predict(frame))
    theirs = best_of(lambda: model.scorecard.scorecard.score(model.scorecard._frame(frame)))
    print(
        "| rows | features | workbench predict s (score+PD+grade) | target s "
        "| optbinning score s | ratio |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| {ROWS:,} | {len(model.features)} | {ours:.2f} | 5 | {theirs:.2f} | "
        f"{ours / theirs:.2f}× |"
    )


if __name__ == "__main__":
    main()
