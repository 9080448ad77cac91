"""Test session setup shared by tests/ and the nbval run over notebooks/.

Two private workspaces, never the checkout:

- the **test home** (``WORKBENCH_HOME`` for tests/): a small generated city in
  ``data/city``; each test that needs more builds it itself (fixtures below);
- the **notebook home**, prepared explicitly — not by test order — the first time a
  notebook runs: a small 36-month city, configured as the export folder
  (``conf/workbench.yaml``), and one month taken through every stage (ingest, indicators,
  train, promote, grade, sample, evaluate with the demo provider's simulated results,
  health, report). Every notebook then runs alone, top to bottom, with its defaults
  (``pytest --nbval-lax notebooks/04_grade.ipynb`` works on its own).

Kernels inherit the environment, so ``WORKBENCH_HOME`` is switched before each item's
setup starts its kernel.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

SMALL_CITY = {"entities": 3000, "months": 24, "seed": 7}
NOTEBOOK_CITY = {"entities": 3000, "months": 36, "seed": 7}
NOTEBOOK_MONTH = "2026-09"
PERMISSIVE_GATES = (
    "auc_min: 0.5\nks_min: 0.0\npsi_max: null\ngrades_monotone: false\nmax_missing_share: 1.0\n"
)

_home = Path(tempfile.mkdtemp(prefix="workbench-test-home-"))
_notebook_home = Path(tempfile.mkdtemp(prefix="workbench-notebook-home-"))
os.environ["WORKBENCH_HOME"] = str(_home)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
for root in (_home, _notebook_home):
    (root / "pyproject.toml").write_text("# test home\n")
_prepared = False


def pytest_sessionstart(session):
    from workbench import workspace
    from workbench.demo import synth

    synth.generate_city(workspace.default_city_dir(), **SMALL_CITY)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_home, ignore_errors=True)
    shutil.rmtree(_notebook_home, ignore_errors=True)


def _is_notebook(item) -> bool:
    return str(getattr(item, "fspath", "")).endswith(".ipynb")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Point the workspace at the notebook home while notebook cells run."""
    if _is_notebook(item):
        os.environ["WORKBENCH_HOME"] = str(_notebook_home)
        prepare_notebook_home()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """Back to the test home after a notebook's last cell (tests may come after)."""
    if _is_notebook(item) and (nextitem is None or not _is_notebook(nextitem)):
        os.environ["WORKBENCH_HOME"] = str(_home)


def prepare_notebook_home(home: Path | None = None) -> Path:
    """One month through every stage (without notebooks), so each notebook's defaults work."""
    global _prepared
    home = home or _notebook_home
    if home == _notebook_home and _prepared:
        return home
    previous = os.environ.get("WORKBENCH_HOME")
    os.environ["WORKBENCH_HOME"] = str(home)
    try:
        _prepare(home)
    finally:
        if previous is not None:
            os.environ["WORKBENCH_HOME"] = previous
    if home == _notebook_home:
        _prepared = True
    return home


def _prepare(home: Path) -> None:
    from workbench import cycle
    from workbench.demo import synth
    from workbench.stages import (
        evaluate,
        grade,
        health,
        indicators,
        ingest,
        promote,
        report,
        sample,
        train,
    )
    from workbench.stages.runner import execute

    city = home / "data" / "city"
    synth.generate_city(city, **NOTEBOOK_CITY)
    (home / "conf").mkdir(exist_ok=True)
    (home / "conf" / "workbench.yaml").write_text(f"exports: {city}\n", encoding="utf-8")
    # a 3,000-enterprise city is too small for the default gates: this bureau's own are lax
    (home / "conf" / "gates.yaml").write_text(PERMISSIVE_GATES, encoding="utf-8")
    end = cycle.month_end(NOTEBOOK_MONTH)
    execute("ingest", ingest.Parameters(as_of=synth.DEFAULT_END), notebook=False)
    execute("indicators", indicators.Parameters(as_of=end), notebook=False)
    trained = execute("train", train.Parameters(as_of=end), notebook=False)
    execute("promote", promote.Parameters(run=trained.summary["run_id"]), notebook=False)
    execute("grade", grade.Parameters(month=NOTEBOOK_MONTH), notebook=False)
    execute("sample", sample.Parameters(plan="demo_monthly"), notebook=False)
    execute("evaluate", evaluate.Parameters(provider="demo"), notebook=False)
    execute("health", health.Parameters(), notebook=False)
    execute("report", report.Parameters(pdf=False), notebook=False)


# ------------------------------------------------------------------ fixtures for tests/


@pytest.fixture(scope="session")
def clean_city() -> Path:
    """The small demo city generated at session start (do not modify it)."""
    return _home / "data" / "city"


@pytest.fixture(scope="session")
def messy_city(tmp_path_factory) -> Path:
    """The same city (same seed) written through the messy export paths."""
    from workbench.demo import synth

    out = tmp_path_factory.mktemp("messy") / "city"
    synth.generate_city(out, messy=True, **SMALL_CITY)
    return out


@pytest.fixture
def city_copy(clean_city, tmp_path) -> Path:
    """A private copy of the clean city that a test may corrupt."""
    out = tmp_path / "city"
    shutil.copytree(clean_city, out, ignore=shutil.ignore_patterns("_truth"))
    return out


@pytest.fixture(scope="session")
def prepared_home() -> Path:
    """The notebook home: one month through every stage (read it, do not change it)."""
    return prepare_notebook_home()


def _ingested_city(tmp_path_factory, entities: int) -> Path:
    from workbench.demo import synth
    from workbench.stages import ingest

    base = tmp_path_factory.mktemp(f"city{entities}")
    synth.generate_city(base / "city", entities=entities, months=36, seed=synth.DEFAULT_SEED)
    ingest.run_ingest(base / "city", synth.DEFAULT_END, base / "ingest")
    return base


@pytest.fixture(scope="session")
def city_20k(tmp_path_factory) -> Path:
    """A 20,000-entity demo city (default seed), ingested: its folder holds city/ and ingest/.

    Large enough for statistics (grade order) and shared by the tests that need it.
    """
    return _ingested_city(tmp_path_factory, 20_000)


@pytest.fixture(scope="session")
def city_100k(tmp_path_factory) -> Path:
    """The default demo city itself (100,000 entities), ingested (about 10 s)."""
    return _ingested_city(tmp_path_factory, 100_000)
