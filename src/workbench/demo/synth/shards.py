"""A city larger than one shard (分片生成), written shard by shard in bounded memory.

A province (10⁷ entities) does not fit in memory as one simulation: its register, monthly
state and event columns grow linearly. :func:`write_sharded` splits the entities into
shards of at most :data:`SHARD_SIZE`, simulates each shard as a city of its own (same
place, timeline and sector trends; its own random streams) and appends its tables to
the output files before the next shard starts, so the peak memory is one shard's.

What must hold across shards holds: every USCC and every legal-representative key is
distinct (later shards redraw the ones taken, :func:`.register.build_register`); the
identifiers numbered in sequence — penalty case numbers per authority and year, task
numbers per plan and year, inspector numbers per region, truth ids — continue where the
previous shard stopped. Relations (branches, shareholders, same legal representative)
stay inside a shard and so always name registered entities. A city of one shard never
comes here: :func:`workbench.demo.synth.generate_city` writes it as before, byte for byte.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .profile import CityProfile, cut_history
from .register import build_register
from .tables import build_tables, truth_tables
from .timeline import Timeline
from .truthdoc import render_truth_readme
from .world import simulate

log = logging.getLogger(__name__)

#: Entities simulated at once; a city this size or smaller is written in one piece.
SHARD_SIZE = 1_000_000

#: ``prefix`` + sequence number + ``suffix`` of the identifiers numbered in sequence.
_TRAILING = r"^(.*\D)(\d+)(\D*)$"  # case numbers (…〔2024〕0001号), task ids (…-T00001)
_INSPECTOR = r"^(ZF\d{6})(\d+)()$"  # ZF + region + sequence


def shard_sizes(entities: int, shard_size: int) -> list[int]:
    """Entities per shard: as equal as possible, none above ``shard_size``."""
    k = -(-entities // shard_size)
    base, extra = divmod(entities, k)
    return [base + (i < extra) for i in range(k)]


def shard_seed(seed: int, index: int) -> int:
    """The seed of shard ``index`` (the city's own seed for the first)."""
    if index == 0:
        return seed
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


class Renumber:
    """Continue sequence numbers across shards: the same prefix never repeats a number."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.offsets: dict[str, int] = {}

    def __call__(self, values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, dict]:
        """The renumbered values and the old → new mapping of this shard."""
        s = pd.Series(values.to_pandas(), dtype=object)
        present = s.notna().to_numpy()
        parts = s[present].str.extract(self.pattern)
        if parts.isna().any().any():  # pragma: no cover - the generator's own formats
            raise AssertionError(f"identifier outside {self.pattern}")
        key = parts[0] + "\x00" + parts[2]
        number = parts[1].astype(np.int64)
        offset = key.map(self.offsets).fillna(0).astype(np.int64)
        shifted = (number + offset).astype(str)
        width = parts[1].str.len()
        for w in width.unique():
            m = width == w
            shifted[m] = shifted[m].str.zfill(int(w))
        new = parts[0] + shifted + parts[2]
        top = (number + offset).groupby(key).max()
        self.offsets.update({k: int(v) for k, v in top.items()})
        out = s.copy()
        out[present] = new.to_numpy(dtype=object)
        mapping = dict(zip(s[present], new, strict=True))
        return pa.array(out.to_numpy(dtype=object), type=pa.string(), from_pandas=True), mapping


def _replace(table: pa.Table, column: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.column_names.index(column), column, values)


def _mapped(values: pa.Array | pa.ChunkedArray, mapping: dict) -> pa.Array:
    s = pd.Series(values.to_pandas(), dtype=object)
    out = s.map(lambda v: mapping.get(v, v) if isinstance(v, str) else None)
    return pa.array(out.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


class _Appender:
    """CSV files written shard after shard (header once) and truth Parquet files."""

    def __init__(self, folder: Path, truth_dir: Path) -> None:
        self.folder, self.truth_dir = folder, truth_dir
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.started: set[str] = set()

    def csv(self, name: str, table: pa.Table) -> str:
        path = self.folder / f"{name}.csv"
        first = name not in self.started
        self.started.add(name)
        with open(path, "wb" if first else "ab") as handle:
            pacsv.write_csv(
                table,
                handle,
                pacsv.WriteOptions(include_header=first, quoting_style="needed"),
            )
        return path.name

    def parquet(self, name: str, table: pa.Table) -> None:
        table = table.replace_schema_metadata(None)
        writer = self.writers.get(name)
        if writer is None:
            writer = pq.ParquetWriter(
                self.truth_dir / f"{name}.parquet", table.schema, compression="zstd"
            )
            self.writers[name] = writer
        writer.write_table(table.cast(writer.schema), row_group_size=1 << 20)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def write_sharded(
    folder: Path,
    truth_dir: Path,
    entities: int,
    shard_size: int,
    seed: int,
    tl: Timeline,
    end: str,
    profile: CityProfile,
) -> tuple[dict[str, str], dict[str, int], str]:
    """Simulate and write a city in shards; return files, row counts and the truth README.

    The README describes the first shard's simulation (its parameters are the city's);
    its row counts are the whole city's.
    """
    sizes = shard_sizes(entities, shard_size)
    serials = np.zeros(0, dtype=np.int64)
    persons = np.zeros(0, dtype=np.int64)
    cases, tasks, inspectors = Renumber(_TRAILING), Renumber(_TRAILING), Renumber(_INSPECTOR)
    ids = {"violation_id": 0, "episode_id": 0, "cluster_id": 0}
    out = _Appender(folder, truth_dir)
    files: dict[str, str] = {}
    rows: dict[str, int] = {}
    truth_rows: dict[str, int] = {}
    readme = ""
    try:
        for index, size in enumerate(sizes):
            s_seed = shard_seed(seed, index)
            log.info("synth: shard %d of %d (%d entities)", index + 1, len(sizes), size)
            reg = build_register(size, s_seed, tl, profile, avoid=(serials, persons))
            serials = np.concatenate([serials, reg.serials])
            persons = np.concatenate([persons, reg.person_digits])
            world = simulate(reg, tl, s_seed, trend_seed=seed)
            tables, extra = build_tables(reg, world, tl, s_seed)
            truth = truth_tables(reg, world, tl, extra)
            if index == 0:
                readme = render_truth_readme(
                    reg, world, tl, seed=seed, end=end, rows={}, messy=False, profile=profile
                )
            del world, reg
            # identifiers numbered in sequence continue across shards
            new, case_map = cases(tables["penalties"].column("case_id"))
            tables["penalties"] = _replace(tables["penalties"], "case_id", new)
            new, _ = tasks(tables["inspections"].column("task_id"))
            tables["inspections"] = _replace(tables["inspections"], "task_id", new)
            new, insp_map = inspectors(tables["inspectors"].column("inspector_id"))
            tables["inspectors"] = _replace(tables["inspectors"], "inspector_id", new)
            tables["conflicts"] = _replace(
                tables["conflicts"],
                "inspector_id",
                _mapped(tables["conflicts"].column("inspector_id"), insp_map),
            )
            v = truth["violations"]
            v = _replace(v, "case_id", _mapped(v.column("case_id"), case_map))
            for column, table in (
                ("violation_id", "violations"),
                ("episode_id", "violations"),
                ("cluster_id", "entities"),
            ):
                t = v if table == "violations" else truth[table]
                col = t.column(column).to_numpy() + ids[column]
                ids[column] = int(col.max()) + 1 if len(col) else ids[column]
                t = _replace(t, column, pa.array(col, type=pa.int64()))
                if table == "violations":
                    v = t
                else:
                    truth[table] = t
            truth["violations"] = v
            if profile.history_months:
                first = np.datetime64(end, "M") - (profile.history_months - 1)
                tables = cut_history(tables, str(first.astype("datetime64[D]")))
            for name, table in tables.items():
                if name in profile.absent:
                    continue
                files[name] = out.csv(name, table)
                rows[name] = rows.get(name, 0) + table.num_rows
            for name, table in truth.items():
                out.parquet(name, table)
                truth_rows[name] = truth_rows.get(name, 0) + table.num_rows
            del tables, truth
    finally:
        out.close()
    rows.update({f"_truth/{name}": n for name, n in truth_rows.items()})
    counts = "\n".join(f"| `{k}` | {v:,} |" for k, v in rows.items())
    readme = readme.replace(
        f"generate_city(entities={sizes[0]},", f"generate_city(entities={entities},", 1
    ).replace("| table | rows |\n|---|---|\n", f"| table | rows |\n|---|---|\n{counts}", 1)
    readme += (
        f"\n## Shards\n\nThis city was simulated in {len(sizes)} shards of "
        f"{min(sizes):,}–{max(sizes):,} entities (``shard_size={shard_size:,}``), each with "
        "its own random streams and the same sector trends; legal-representative clusters, "
        "branches and shareholdings stay inside a shard. Figures quoted above that come from "
        f"the simulation (shares, rates) are those of the first shard ({sizes[0]:,} "
        "entities); the row counts are the whole city's.\n"
    )
    return files, rows, readme
