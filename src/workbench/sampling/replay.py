"""Replaying a recorded draw (复现抽取): redraw, compare byte for byte, name the difference.

Anyone holding the plan, the register snapshot and the seed can redo a draw; this module
does it for ``workbench sample --replay``: the stage writes the redraw into a temporary
folder and :func:`compare` checks every file of the recorded draw against it, naming the
first differing file, row and column, and which inputs changed since the recording.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from workbench.workspace.folders import PlanFolder


class ReplayMismatch(RuntimeError):
    """A replayed draw differs from the recorded one (names the first file and row)."""


#: Files compared, in this order (the first difference is reported).
REPLAYED_FILES = tuple(PlanFolder.FILES[name] for name in PlanFolder.REPLAYED)


def compare(out: Path, write: Callable[[Path], None], record: dict) -> dict:
    """Write the redraw with ``write(folder)`` into a temporary folder and compare with ``out``.

    Raises:
        ReplayMismatch: naming the first differing file (and row), and changed inputs.
    """
    tmp = Path(tempfile.mkdtemp(prefix="replay-"))
    try:
        write(tmp)
        compared = []
        for name in REPLAYED_FILES:
            recorded, replayed = out / name, tmp / name
            if not recorded.exists() and not replayed.exists():
                continue
            compared.append(name)
            if not recorded.exists() or not replayed.exists():
                which = "recorded draw lacks" if not recorded.exists() else "replay does not make"
                raise ReplayMismatch(f"{name}: the {which} this file{_inputs_note(out, record)}")
            if recorded.read_bytes() != replayed.read_bytes():
                raise ReplayMismatch(
                    f"{name}: {_first_difference(recorded, replayed)}{_inputs_note(out, record)}"
                )
        extra = sorted(
            str(p.relative_to(out))
            for p in out.rglob("*")
            if p.is_file()
            if str(p.relative_to(out)) not in REPLAYED_FILES
        )
        if extra:
            raise ReplayMismatch(f"{extra[0]}: not part of a draw (the folder was changed)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"replay": "identical", "out": str(out), "files": compared}


def _same(a, b) -> bool:
    missing_a, missing_b = pd.isna(a), pd.isna(b)
    if missing_a or missing_b:
        return bool(missing_a and missing_b)
    return bool(a == b)


def _first_difference(recorded: Path, replayed: Path) -> str:
    if recorded.suffix == ".parquet":
        a, b = pd.read_parquet(recorded), pd.read_parquet(replayed)
        if list(a.columns) != list(b.columns):
            return f"columns differ: recorded {list(a.columns)}, replayed {list(b.columns)}"
        for i in range(min(len(a), len(b))):
            ra, rb = a.iloc[i], b.iloc[i]
            for col in a.columns:
                va, vb = ra[col], rb[col]
                if not _same(va, vb):
                    return (
                        f"row {i + 1} ({a.iloc[i].get('task_id', '')}), column {col}: "
                        f"recorded {va!r}, replayed {vb!r}"
                    )
        if len(a) != len(b):
            return f"recorded {len(a)} rows, replayed {len(b)}"
        return "same values, different bytes"
    la = recorded.read_text(encoding="utf-8-sig").splitlines()
    lb = replayed.read_text(encoding="utf-8-sig").splitlines()
    csv = recorded.suffix == ".csv"
    for i, (x, y) in enumerate(zip(la, lb, strict=False)):
        if x != y:
            where = ("header" if i == 0 else f"row {i}") if csv else f"line {i + 1}"
            return f"{where}: recorded {x[:300]!r}, replayed {y[:300]!r}"
    if len(la) != len(lb):
        unit = "rows" if csv else "lines"
        off = 1 if csv else 0
        return f"recorded {len(la) - off} {unit}, replayed {len(lb) - off}"
    return "same text, different bytes (encoding or line endings)"


def _inputs_note(out: Path, record: dict) -> str:
    try:
        old = json.loads(PlanFolder(out).file("draw").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    changed = []
    if old.get("plan", {}).get("sha256") != record["plan"]["sha256"]:
        changed.append("plan file")
    for key in ("register", "grades"):
        if old.get(key, {}).get("sha256") != record[key]["sha256"]:
            changed.append(f"{key} ({record[key]['file']})")
    old_inputs = old.get("inputs", {})
    for key, value in record["inputs"].items():
        if key == "earlier_task_lists":
            before = [e.get("sha256") for e in old_inputs.get(key, [])]
            if before != [e["sha256"] for e in value]:
                changed.append("earlier task lists")
        elif old_inputs.get(key, {}).get("sha256") != value["sha256"]:
            changed.append(key)
    return f" [inputs changed since the recorded draw: {', '.join(changed)}]" if changed else ""
