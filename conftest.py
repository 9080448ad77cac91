"""Test session setup shared by tests/ and the nbval run over notebooks/.

Points ``WORKBENCH_HOME`` at a temporary folder *before* any kernel starts (kernels
inherit the environment), so nothing a test or a notebook writes lands in the checkout,
and generates a small demo city there so the notebooks' default parameters find one.
"""

import os
import shutil
import tempfile
from pathlib import Path

SMALL_CITY = {"entities": 3000, "months": 24, "seed": 7}

_home = Path(tempfile.mkdtemp(prefix="workbench-test-home-"))
os.environ["WORKBENCH_HOME"] = str(_home)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
(_home / "pyproject.toml").write_text("# test home\n")


def pytest_sessionstart(session):
    from workbench import synth, workspace

    synth.generate_city(workspace.default_city_dir(), **SMALL_CITY)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_home, ignore_errors=True)


# ------------------------------------------------------------------ fixtures for tests/
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def clean_city() -> Path:
    """The small demo city generated at session start (do not modify it)."""
    from workbench import workspace

    return workspace.default_city_dir()


@pytest.fixture(scope="session")
def messy_city(tmp_path_factory) -> Path:
    """The same city (same seed) written through the messy export paths."""
    from workbench import synth

    out = tmp_path_factory.mktemp("messy") / "city"
    synth.generate_city(out, messy=True, **SMALL_CITY)
    return out


@pytest.fixture
def city_copy(clean_city, tmp_path) -> Path:
    """A private copy of the clean city that a test may corrupt."""
    out = tmp_path / "city"
    shutil.copytree(clean_city, out, ignore=shutil.ignore_patterns("_truth"))
    return out


def _ingested_city(tmp_path_factory, entities: int) -> Path:
    from workbench import ingest, synth

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
