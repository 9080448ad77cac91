"""A province on one machine (issue 15): the city in shards, ingest in batches, bounded engines.

Small cities exercise the province paths by lowering their thresholds: a city of 2,500
entities in shards of 1,000, files read in batches of 997 rows. What must hold: keys
stay unique across shards and every reference names something that exists; reading in
batches gives the same tables, quarantine and report as reading whole.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from workbench.demo import synth
from workbench.demo.synth import shards
from workbench.indicators.engine import Engine
from workbench.intake import load
from workbench.stages import ingest

SHARDED = {"entities": 2_500, "months": 24, "seed": 7, "shard_size": 1_000}


@pytest.fixture(scope="module")
def sharded_city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sharded") / "city"
    synth.generate_city(out, **SHARDED)
    return out


def _csv(city: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(city / f"{name}.csv", dtype=str, keep_default_na=False)


def test_shard_sizes_are_even_and_bounded():
    assert shards.shard_sizes(2_500, 1_000) == [834, 833, 833]
    assert shards.shard_sizes(1_000, 1_000) == [1_000]
    assert shards.shard_seed(7, 0) == 7
    assert len({shards.shard_seed(7, i) for i in range(5)}) == 5


def test_sharded_city_keeps_keys_unique_and_references_valid(sharded_city):
    ent = _csv(sharded_city, "enterprises")
    assert len(ent) == SHARDED["entities"] and ent["uscc"].is_unique
    codes = set(ent["uscc"])
    # a legal representative's key names one person: never two registers' worth of them
    assert ent.groupby("legal_rep_key")["uscc"].size().max() <= 12
    for name, key in (
        ("penalties", ["case_id"]),
        ("annual_reports", ["uscc", "report_year"]),
        ("inspectors", ["inspector_id"]),
        ("conflicts", ["inspector_id", "uscc"]),
        ("relations", ["uscc", "related_uscc", "relation"]),
    ):
        frame = _csv(sharded_city, name)
        assert not frame.duplicated(key).any(), name
    for name in ("penalties", "inspections", "complaints", "conflicts", "relations"):
        assert set(_csv(sharded_city, name)["uscc"]) <= codes, name
    inspectors = set(_csv(sharded_city, "inspectors")["inspector_id"])
    assert set(_csv(sharded_city, "conflicts")["inspector_id"]) <= inspectors
    tasks = _csv(sharded_city, "inspections")
    planned = tasks[tasks["plan_id"] != ""]
    assert not planned.duplicated(["plan_id", "task_id"]).any()
    truth = sharded_city / "_truth"
    violations = pd.read_parquet(truth / "violations.parquet")
    assert violations["violation_id"].is_unique
    assert set(violations["case_id"].dropna()) <= set(_csv(sharded_city, "penalties")["case_id"])
    entities = pd.read_parquet(truth / "entities.parquet")
    assert entities["uscc"].tolist() == ent["uscc"].tolist()
    generator = json.loads((truth / "generator.json").read_text(encoding="utf-8"))
    assert generator["shard_size"] == SHARDED["shard_size"]
    readme = (truth / "README.md").read_text(encoding="utf-8")
    assert f"entities={SHARDED['entities']}," in readme
    assert f"| `penalties` | {len(_csv(sharded_city, 'penalties')):,} |" in readme


def test_a_city_of_one_shard_is_written_as_before(tmp_path):
    small = {"entities": 600, "months": 24, "seed": 3}
    synth.generate_city(tmp_path / "a", **small)
    synth.generate_city(tmp_path / "b", shard_size=600, **small)

    def digest(folder: Path) -> dict[str, str]:
        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert not (tmp_path / "c").exists()
    with pytest.raises(ValueError, match="shards, clean only"):
        synth.generate_city(tmp_path / "c", messy=True, entities=600, shard_size=300)
    assert not (tmp_path / "c").exists()


def _ingest_both(city: Path, tmp_path: Path, monkeypatch, snapshot) -> tuple[dict, dict]:
    whole = ingest.run_ingest(city, snapshot, tmp_path / "whole")
    monkeypatch.setattr(load, "STREAM_BYTES", 0)
    monkeypatch.setattr(load, "BATCH_ROWS", 997)
    batched = ingest.run_ingest(city, snapshot, tmp_path / "batched")
    return whole, batched


def _same_outputs(tmp_path: Path, whole: dict, batched: dict) -> None:
    assert {k: v for k, v in whole.items() if k != "out"} == {
        k: v for k, v in batched.items() if k != "out"
    }
    a, b = tmp_path / "whole", tmp_path / "batched"
    names = sorted(p.name for p in (a / "tables").iterdir())
    assert names == sorted(p.name for p in (b / "tables").iterdir())
    for name in names:
        pd.testing.assert_frame_equal(
            pd.read_parquet(a / "tables" / name), pd.read_parquet(b / "tables" / name)
        )
    quarantined = sorted(p.name for p in (a / "quarantine").iterdir())
    assert quarantined == sorted(p.name for p in (b / "quarantine").iterdir())
    for name in quarantined:
        assert (a / "quarantine" / name).read_bytes() == (b / "quarantine" / name).read_bytes()
    assert not list(tmp_path.glob(".ingest-stage-*"))  # the staging folder is removed


def test_ingest_in_batches_equals_ingest_whole_on_a_messy_city(messy_city, tmp_path, monkeypatch):
    whole, batched = _ingest_both(messy_city, tmp_path, monkeypatch, None)
    streamed = [t for t, info in batched["tables"].items() if info["format"] == "csv"]
    assert streamed  # the CSV tables in UTF-8 were read in batches, the GBK ones whole
    _same_outputs(tmp_path, whole, batched)


def test_a_key_repeated_in_a_later_batch_is_quarantined(city_copy, tmp_path, monkeypatch):
    path = city_copy / "enterprises.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines + [lines[1]]), encoding="utf-8")  # row 2 again, at the end
    whole, batched = _ingest_both(city_copy, tmp_path, monkeypatch, synth.DEFAULT_END)
    assert batched["tables"]["enterprises"]["by_reason"] == {"duplicate_uscc": 1}
    _same_outputs(tmp_path, whole, batched)


def test_engine_spills_to_its_own_folder_within_its_memory_limit(prepared_home, tmp_path):
    tables = next((prepared_home / "data" / "ingest").iterdir()) / "tables"
    with Engine(tables, memory_limit="512MB", temp_directory=tmp_path) as engine:
        limit = engine.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        spill = engine.con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert limit.replace(" ", "") in {"488.2MiB", "512.0MB", "512MB"}
    assert Path(spill) == tmp_path
    engine = Engine(tables)
    own = Path(engine.con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
    assert own.is_dir()
    engine.close()
    assert not own.exists()


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*")
@pytest.mark.filterwarnings(
    "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
)
def test_grading_in_chunks_gives_the_same_rows(prepared_home, monkeypatch):
    from workbench import governance
    from workbench.grading import overrides
    from workbench.indicators import load_catalog
    from workbench.stages import grade

    monkeypatch.setenv("WORKBENCH_HOME", str(prepared_home))
    summary = next((prepared_home / "data" / "grades").glob("*/summary.json"))
    facts = json.loads(summary.read_text(encoding="utf-8"))
    model, _ = governance.load_grading_model("generic")
    catalog = load_catalog()
    with Engine(Path(facts["data"]) / "tables") as engine:
        matrix = engine.compute(facts["snapshot"], catalog)
    rules = overrides.load_rules()
    names = {i.id: i.name for i in catalog.all}
    whole, contrib = grade.grade_frame(matrix, model, rules, names, facts["snapshot"])
    monkeypatch.setattr(grade, "GRADE_CHUNK", 333)
    chunked, contrib_chunked = grade.grade_frame(matrix, model, rules, names, facts["snapshot"])
    assert len(matrix) > 3 * 333
    pd.testing.assert_frame_equal(whole, chunked)
    pd.testing.assert_frame_equal(contrib, contrib_chunked)
