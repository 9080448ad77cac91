"""The synthetic city (合成城市): a prefecture's register, its events and a hidden truth.

``generate_city`` writes one folder that follows the data contract — one file per table
of :data:`workbench.contract.TABLES` — for a simulated Pingdingshan (平顶山市), plus the
truth the pipeline never reads under ``_truth/``: every enterprise's latent variables,
its true monthly violation probability and every true violation with how (and whether)
it was detected. Same seed, same bytes.

Modules: :mod:`.vocab` (fixed word lists and reference tables), :mod:`.timeline`,
:mod:`.register` (who the enterprises are), :mod:`.world` (the monthly simulation),
:mod:`.static` (licences, relations, inspectors, conflicts), :mod:`.tables` (contract
and truth tables), :mod:`.writer` (clean and messy files), :mod:`.truthdoc` (the README).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.errors import ParameterError

from .ceiling import GENERATOR_FILE
from .errors import MAX_ERROR_RATE, inject_errors
from .profile import CityProfile, cut_history
from .register import build_register
from .shards import SHARD_SIZE, write_sharded
from .tables import build_tables, truth_tables
from .timeline import Timeline
from .truthdoc import render_truth_readme
from .world import simulate
from .writer import write_clean, write_messy, write_parquet

__all__ = [
    "DEFAULT_END",
    "DEFAULT_SEED",
    "SHARD_SIZE",
    "CityProfile",
    "CitySummary",
    "generate_city",
]

log = logging.getLogger(__name__)

DEFAULT_END = "2026-10-31"  # last day of the simulated window = the demo's data snapshot
DEFAULT_SEED = 2026
TRUTH_DIR = "_truth"
#: the city sizes the generator builds (at least a few of each kind; 8-digit serials)
ENTITIES = (100, 10_000_000)


@dataclass(frozen=True)
class CitySummary:
    """What :func:`generate_city` wrote."""

    out_dir: Path
    entities: int
    months: int
    seed: int
    end: str
    messy: bool
    errors: int = 0  # rows corrupted on purpose (listed in _truth/injected_errors.csv)
    rows: dict[str, int] = field(
        default_factory=dict
    )  # contract tables, then truth tables as _truth/<name>
    files: dict[str, str] = field(default_factory=dict)  # table → file name
    seconds: float = 0.0
    profile: CityProfile = field(default_factory=CityProfile)

    def __str__(self) -> str:
        rows = ", ".join(f"{k} {v:,}" for k, v in self.rows.items())
        profile = "" if self.profile.is_default else f"; {self.profile.describe()}"
        return (
            f"city of {self.entities:,} entities × {self.months} months (seed {self.seed}, "
            f"end {self.end}{', messy' if self.messy else ''}{profile}) in {self.out_dir} "
            f"after {self.seconds:.1f} s: {rows}"
        )


def generate_city(
    out_dir,
    entities: int = 100_000,
    months: int = 36,
    seed: int = DEFAULT_SEED,
    end: str = DEFAULT_END,
    messy: bool = False,
    errors: float = 0.0,
    profile: CityProfile | None = None,
    shard_size: int = SHARD_SIZE,
) -> CitySummary:
    """Generate a synthetic city and write it to ``out_dir`` atomically.

    Args:
        out_dir: folder to (re)place; built in a temporary sibling and swapped in only
            when everything succeeded, so a failure leaves an existing folder intact.
        entities: number of register rows (市场主体, including those that have exited).
        months: length of the window (the monthly truth covers it); event history
            starts in January 2014 whatever the window.
        seed: every random draw derives from it; same seed → same bytes.
        end: the snapshot date (YYYY-MM-DD), last day of the window; nothing is dated
            after it except licence expiry.
        messy: write the same content the way bureau exports come (GBK and BOM CSV,
            Chinese headers and labels, other date formats, XLSX, Parquet, untidy codes).
        errors: share of rows of several event tables to corrupt on purpose (unregistered
            codes, impossible dates, …; see :mod:`.errors`), listed with the reason the
            loader must give in ``_truth/injected_errors.csv``. 0 writes a clean city.
        profile: a city unlike the demo (:class:`CityProfile`: another prefecture,
            industry mix or risk structure, a shorter exported history, absent tables).
        shard_size: a city with more entities is simulated and written in shards of at
            most this many (:mod:`.shards`), so that memory stays that of one shard; a
            city of one shard is written exactly as before. Sharded cities are clean
            (no ``messy``, no ``errors``).

    Returns:
        A :class:`CitySummary` with row counts per table.
    """
    low, high = ENTITIES
    if not low <= entities <= high:
        raise ParameterError(
            f"entities {entities}: allowed {low:,} … {high:,} (serial numbers are 8 digits)"
        )
    profile = profile or CityProfile()
    if shard_size < low:
        raise ParameterError(f"shard_size must be at least {low}")
    if not 0 <= errors < MAX_ERROR_RATE:
        raise ParameterError(
            f"errors {errors}: a share, at least 0 and below {MAX_ERROR_RATE} (e.g. 0.002)"
        )
    if entities > shard_size and (messy or errors):
        raise ParameterError(
            f"a city of more than {shard_size:,} entities is written in shards, clean only: "
            "drop messy/errors or raise shard_size"
        )
    started = time.perf_counter()
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tl = Timeline.build(end, months)
    end = str(end)

    if entities > shard_size:
        return _generate_sharded(out, entities, months, seed, end, tl, profile, shard_size, started)
    log.info("synth: register of %d entities", entities)
    reg = build_register(entities, seed, tl, profile)
    log.info("synth: simulating %d months", tl.n)
    world = simulate(reg, tl, seed)
    tables, extra = build_tables(reg, world, tl, seed)
    truth = truth_tables(reg, world, tl, extra)
    if profile.history_months:  # the export shows only its last months of events
        first = np.datetime64(end, "M") - (profile.history_months - 1)
        tables = cut_history(tables, str(first.astype("datetime64[D]")))
    tables = {name: t for name, t in tables.items() if name not in profile.absent}

    with _staged(out) as tmp:
        files = {}
        for name, table in tables.items():
            files[name] = (
                write_messy(name, table, tmp, seed) if messy else write_clean(name, table, tmp)
            )
            log.info("synth: wrote %s (%d rows)", files[name], table.num_rows)
        injected = inject_errors(tmp, files, errors, seed, end)
        tdir = tmp / TRUTH_DIR
        tdir.mkdir()
        injected.to_csv(tdir / "injected_errors.csv", index=False, lineterminator="\n")
        for name, table in truth.items():
            write_parquet(table, tdir / f"{name}.parquet")
        rows = {name: t.num_rows for name, t in tables.items()}
        rows.update({f"{TRUTH_DIR}/{name}": t.num_rows for name, t in truth.items()})
        (tdir / "README.md").write_text(
            render_truth_readme(
                reg, world, tl, seed=seed, end=end, rows=rows, messy=messy, profile=profile
            ),
            encoding="utf-8",
        )
        _write_generator(tdir, entities, months, seed, end, profile)
    summary = CitySummary(
        out_dir=out,
        entities=entities,
        months=months,
        seed=seed,
        end=end,
        messy=messy,
        errors=len(injected),
        rows=rows,
        files=files,
        seconds=round(time.perf_counter() - started, 2),
        profile=profile,
    )
    log.info("synth: %s", summary)
    return summary


def _generate_sharded(
    out: Path,
    entities: int,
    months: int,
    seed: int,
    end: str,
    tl: Timeline,
    profile: CityProfile,
    shard_size: int,
    started: float,
) -> CitySummary:
    """:func:`generate_city` for a city of several shards (see :mod:`.shards`)."""
    with _staged(out) as tmp:
        tdir = tmp / TRUTH_DIR
        tdir.mkdir()
        files, rows, readme = write_sharded(tmp, tdir, entities, shard_size, seed, tl, end, profile)
        inject_errors(tmp, files, 0.0, seed, end).to_csv(
            tdir / "injected_errors.csv", index=False, lineterminator="\n"
        )
        (tdir / "README.md").write_text(readme, encoding="utf-8")
        _write_generator(tdir, entities, months, seed, end, profile, shard_size=shard_size)
    summary = CitySummary(
        out_dir=out,
        entities=entities,
        months=months,
        seed=seed,
        end=end,
        messy=False,
        rows=rows,
        files=files,
        seconds=round(time.perf_counter() - started, 2),
        profile=profile,
    )
    log.info("synth: %s", summary)
    return summary


@contextlib.contextmanager
def _staged(out: Path) -> Iterator[Path]:
    """A temporary sibling of ``out`` that replaces it on success and is removed on failure.

    Only an earlier city (its ``_truth/generator.json``) or an empty folder is replaced: a
    mistyped ``--out exports`` must not wipe the bureau's own exports.
    """
    from workbench.workspace import check_replaceable

    check_replaceable(out, f"{TRUTH_DIR}/{GENERATOR_FILE}")
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        yield tmp
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_generator(tdir: Path, entities, months, seed, end, profile, **extra) -> None:
    """What the world depends on (not messy/errors): lets the ceiling re-run the generator."""
    generator = {"entities": entities, "months": months, "seed": seed, "end": end}
    if not profile.is_default:
        generator["profile"] = profile.to_dict()
    generator.update(extra)
    (tdir / GENERATOR_FILE).write_text(json.dumps(generator, indent=2) + "\n", encoding="utf-8")


def _swap(tmp: Path, out: Path) -> None:
    """Replace ``out`` by ``tmp`` with two renames; the old folder is removed last."""
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        out.rename(old)
        try:
            tmp.rename(out)
        except BaseException:
            old.rename(out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
