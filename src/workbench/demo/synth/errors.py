"""Deliberate data errors (数据差错) with a known answer, for the demo and the tests.

Real exports carry unattributed records, impossible dates, stray codes. ``inject_errors``
writes a chosen share of such rows into the city's CSV files — one defect per row, on a
row that was clean, so the quarantine reason the loader must give is known exactly — and
returns the list, which the generator writes to ``_truth/injected_errors.csv``. The
ingest's quality report must name exactly these rows (a test holds it to that).

Only CSV tables are touched (the files are re-encoded as they were: GBK stays GBK, a BOM
stays); the register itself stays clean, so no event loses its enterprise by accident.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import contract
from workbench.contract import uscc
from workbench.intake import load

from .timeline import child_rng

#: corrupted rows per table stay a minority: the city must still be mostly readable
MAX_ERROR_RATE = 0.5

#: Table → defects to spread over its corrupted rows: (column, expected quarantine reason).
#: Unattributed records come first: they are the commonest fault in practice (记名率).
DEFECTS: dict[str, tuple[tuple[str | None, str], ...]] = {
    "penalties": (
        ("uscc", "uscc_not_registered"),
        ("decided_on", "invalid_date"),
        ("fine_amount", "negative_amount"),
        ("severity", "unknown_code"),
        ("case_id", "missing_value"),
    ),
    "complaints": (
        ("uscc", "uscc_not_registered"),
        ("uscc", "uscc_malformed"),
        ("received_on", "date_after_snapshot"),
    ),
    "inspections": (
        ("uscc", "uscc_check_digit"),
        ("result", "unknown_code"),
        ("inspected_on", "invalid_date"),
    ),
    "changes": (("uscc", "uscc_not_registered"), ("changed_on", "date_after_snapshot")),
    "judicial": (("uscc", "uscc_malformed"), ("filed_on", "invalid_date")),
    "abnormal_list": (("uscc", "uscc_not_registered"),),
    "annual_reports": ((None, "duplicate_key"),),
}

#: Tables corrupted at a fraction of the rate (annual reports are half of all rows; at the
#: full rate their duplicates would swamp the faults that matter more, unattributed rows).
RATE_WEIGHT = {"annual_reports": 0.2}

COLUMNS = ["table", "source_row", "column", "written", "expected_reason"]


def inject_errors(
    folder: Path, files: dict[str, str], rate: float, seed: int, end: str
) -> pd.DataFrame:
    """Corrupt about ``rate`` of the rows of each table in :data:`DEFECTS`; return the list.

    Args:
        folder: the city folder being written.
        files: table → file name, as written.
        rate: share of rows to corrupt per table (at least one row per defect kind).
        seed: the city's seed (the choice of rows derives from it).
        end: the snapshot date, for dates made to lie after it.
    """
    if not 0 <= rate < MAX_ERROR_RATE:
        raise ValueError(f"errors must be a share in [0, {MAX_ERROR_RATE})")
    if rate == 0:
        return pd.DataFrame(columns=COLUMNS)
    register = set(_read(folder / files["enterprises"])[0]["uscc"].map(uscc.normalise))
    snapshot = dt.date.fromisoformat(end)
    records = []
    for table, defects in DEFECTS.items():
        name = files.get(table)
        if name is None or not name.endswith(".csv"):
            continue
        rng = child_rng(seed, f"errors/{table}")
        path = folder / name
        frame, encoding, headers = _read(path)
        share = rate * RATE_WEIGHT.get(table, 1.0)
        count = max(len(defects), int(round(share * len(frame))))
        rows = np.sort(rng.choice(len(frame), size=min(count, len(frame)), replace=False))
        copies = []
        for i, position in enumerate(rows):
            column, reason = defects[i % len(defects)]
            if reason == "duplicate_key":
                copies.append(position)
                continue
            value = frame.iat[position, frame.columns.get_loc(column)]
            written = _defect(reason, value, register, rng, snapshot)
            frame.iat[position, frame.columns.get_loc(column)] = written
            records.append((table, position + 2, column, written, reason))
        if copies:
            start = len(frame)
            frame = pd.concat([frame, frame.iloc[copies]], ignore_index=True)
            records += [
                (table, start + k + 2, "", "(repeated row)", "duplicate_key")
                for k in range(len(copies))
            ]
        frame.columns = headers
        frame.to_csv(path, index=False, encoding=encoding, lineterminator="\n")
    return pd.DataFrame(records, columns=COLUMNS).sort_values(
        ["table", "source_row"], ignore_index=True
    )


def _read(path: Path) -> tuple[pd.DataFrame, str, list[str]]:
    """Read a written CSV as strings with canonical column names; keep its headers."""
    frame, encoding, _ = load.read_raw(path)
    table = contract.TABLES[path.stem]
    mapping, _ = load.map_headers(table, list(frame.columns))
    headers = list(frame.columns)
    return frame.rename(columns=mapping).reset_index(drop=True), encoding, headers


def _defect(reason: str, value: str, register: set[str], rng, snapshot: dt.date) -> str:
    code = uscc.normalise(value)
    if reason == "uscc_not_registered":
        while True:
            serial = rng.integers(0, 10**8, size=1)
            candidate = uscc.make_codes(np.array(["1"]), np.array([code[2:8]]), serial)[0]
            if candidate not in register:
                return candidate
    if reason == "uscc_malformed":
        return code[:17]
    if reason == "uscc_check_digit":
        for ch in uscc.ALPHABET:
            candidate = code[:17] + ch
            if ch != code[17] and candidate not in register:
                return candidate
    if reason == "invalid_date":
        return _date_like(value, f"{value.strip()[:4]}", "02", "30")
    if reason == "date_after_snapshot":
        later = snapshot + dt.timedelta(days=int(rng.integers(1, 60)))
        return _date_like(value, f"{later.year:04d}", f"{later.month:02d}", f"{later.day:02d}")
    if reason == "negative_amount":
        return f"-{int(rng.integers(100, 50_000))}"
    if reason == "unknown_code":
        return "未知"
    if reason == "missing_value":
        return ""
    raise AssertionError(reason)


def _date_like(example: str, year: str, month: str, day: str) -> str:
    """A date written in the same style as ``example`` (the table's own format)."""
    example = example.strip()
    if "/" in example:
        return f"{year}/{month}/{day}"
    if len(example) == 8 and example.isdigit():
        return f"{year}{month}{day}"
    return f"{year}-{month}-{day}"
