"""Fabricated plans for the results/evaluation/health tests (task lists per interfaces.md).

Not a test module: the sampling stage is built elsewhere, so these tests make their own
task lists with exactly the agreed columns, drawn by stratified SRSWOR with a fixed seed.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import workspace
from workbench.contract import uscc
from workbench.workspace import integrity

SCHEME = {
    "id": "national_4",
    "grades": ["A", "B", "C", "D"],
    "labels": {"A": "信用风险低", "B": "信用风险一般", "C": "信用风险较高", "D": "信用风险高"},
}
TASK_COLUMNS = [
    "task_id", "plan_id", "draw_order", "uscc", "name", "grade", "stratum",
    "inclusion_probability", "trigger", "item", "department", "inspectors",
    "inspector_names", "region_code", "industry_section", "snapshot", "window_start",
    "window_end", "seed",
]  # fmt: skip


def make_codes(n: int, seed: int = 1) -> list[str]:
    """``n`` distinct, valid unified social credit codes (GB 32100-2015)."""
    rng = np.random.default_rng(seed)
    codes = set()
    while len(codes) < n:
        body = "9241" + "0" + "4" + "".join(map(str, rng.integers(0, 10, 11)))
        codes.add(body + uscc.check_character(body))
    return sorted(codes)


def draw_plan(
    population: pd.DataFrame,
    drawn_per_stratum: dict[str, int],
    plan_id: str = "PLAN-TEST",
    snapshot: str = "2026-09-30",
    window: tuple[str, str] = ("2026-10-08", "2026-10-30"),
    seed: int = 11,
) -> pd.DataFrame:
    """Stratified SRSWOR of ``population`` (uscc, name, grade, stratum[, trigger]) → tasks."""
    rng = np.random.default_rng(seed)
    parts = []
    for stratum, n in drawn_per_stratum.items():
        members = population[population["stratum"] == stratum]
        if n > len(members):
            raise ValueError(f"stratum {stratum}: {n} > {len(members)}")
        pick = members.iloc[np.sort(rng.choice(len(members), n, replace=False))].copy()
        pick["inclusion_probability"] = n / len(members)
        parts.append(pick)
    tasks = pd.concat(parts, ignore_index=True)
    order = rng.permutation(len(tasks))
    tasks = tasks.iloc[order].reset_index(drop=True)
    tasks["draw_order"] = np.arange(1, len(tasks) + 1)
    tasks["plan_id"] = plan_id
    tasks["task_id"] = [f"{plan_id}-T{i:05d}" for i in tasks["draw_order"]]
    if "trigger" not in tasks.columns:
        tasks["trigger"] = None
    tasks["item"] = "企业公示信息情况检查"
    tasks["department"] = "市场监管局信用监管科"
    tasks["inspectors"] = "INS001;INS002"
    tasks["inspector_names"] = "张三;李四"
    tasks["region_code"] = tasks.get("region_code", "410402")
    tasks["industry_section"] = tasks.get("industry_section", "F")
    tasks["snapshot"] = pd.Timestamp(snapshot)
    tasks["window_start"] = pd.Timestamp(window[0])
    tasks["window_end"] = pd.Timestamp(window[1])
    tasks["seed"] = seed
    if "name" not in tasks.columns:
        tasks["name"] = [f"测试企业{i}" for i in range(len(tasks))]
    return tasks[TASK_COLUMNS]


def grades_from_truth(truth_dir: Path, month_end: str, seed: int = 3) -> pd.DataFrame:
    """A grade file for the city's enterprises alive at ``month_end``: noisy true risk → A–D.

    The model is the true probability seen through noise (a good but imperfect model);
    shares 48/42/6/4 as the national scheme's preset.
    """
    risk = pd.read_parquet(
        truth_dir / "monthly_risk.parquet",
        filters=[("month", "==", pd.Timestamp(month_end).date())],
    )
    rng = np.random.default_rng(seed)
    logit = np.log(risk["p_violation"] / (1 - risk["p_violation"])).to_numpy(dtype=float)
    noisy = logit + rng.normal(0, 0.6, len(risk))
    pd_ = 1 / (1 + np.exp(-(noisy + 1.5)))  # a 12-month PD, roughly
    rank = pd.Series(noisy).rank(pct=True).to_numpy()
    grade = np.select([rank <= 0.48, rank <= 0.90, rank <= 0.96], ["A", "B", "C"], "D")
    return pd.DataFrame(
        {
            "uscc": risk["uscc"].astype(str).to_numpy(),
            "name": [f"企业{i}" for i in range(len(risk))],
            "snapshot": pd.Timestamp(month_end),
            "score": 600 - 20 * noisy,
            "pd": pd_,
            "model_grade": grade,
            "grade": grade,
        }
    )


def write_grades(month: str, grades: pd.DataFrame, migration: pd.DataFrame | None = None) -> Path:
    """Write ``data/grades/<month>/`` as the grade stage does (the parts these tests read)."""
    folder = workspace.data_dir() / "grades" / month
    folder.mkdir(parents=True, exist_ok=True)
    grades.to_parquet(folder / "grades.parquet", index=False)
    counts = grades["grade"].value_counts()
    summary = {
        "snapshot": month,
        "scheme": SCHEME,
        "model": {"name": "workbench-generic", "version": "1", "run_id": "r"},
        "enterprises": len(grades),
        "counts": {g: int(counts.get(g, 0)) for g in SCHEME["grades"]},
    }
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), "utf-8")
    if migration is not None:
        migration.to_csv(folder / "migration.csv", encoding="utf-8-sig")
    integrity.write_manifest(folder, {"month": month})  # stages use signed folders only
    return folder


def write_plan(month: str, tasks: pd.DataFrame) -> Path:
    """Write a plan folder: its task list and a minimal draw record."""
    plan_id = str(tasks["plan_id"].iloc[0])
    folder = workspace.current().plans.at(month, plan_id)
    folder.path.mkdir(parents=True, exist_ok=True)
    tasks.to_parquet(folder.file("tasks"), index=False)
    record = {"plan_id": plan_id, "month": month, "seed": 0}
    folder.file("draw").write_text(json.dumps(record), encoding="utf-8")
    return folder.path


@contextlib.contextmanager
def private_home(folder: Path, city: Path | None = None):
    """Point ``WORKBENCH_HOME`` at ``folder`` (a fresh workspace: data, MLflow store).

    These tests write grade files, plans and MLflow runs; in their own home they neither
    see nor disturb what other test modules write to the session's. ``city`` is linked as
    the demo city (``data/city``) so the synthetic truth is found.
    """
    import pytest

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text("# test home\n")
    if city is not None:
        (folder / "data").mkdir(exist_ok=True)
        (folder / "data" / "city").symlink_to(city, target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(folder))
        yield folder
