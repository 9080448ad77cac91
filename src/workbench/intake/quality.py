"""The data-quality report (数据质量报告): what was read, accepted, quarantined and why.

Built from the loaded tables as a plain dict (written as ``quality.json``, the
machine-readable record); :mod:`workbench.views.quality` shows it as tables and one
chart in the ingest notebook.
"""

from __future__ import annotations

import pandas as pd

from workbench import contract
from workbench.contract import TABLES
from workbench.intake.load import REASON_ORDER, LoadedTable

#: Target for 记名率: ≥ 80 % of records attributed to an enterprise (通化 pilot; docs/sources.md).
ATTRIBUTION_TARGET = 0.80
MAX_LISTED_CODES = 100


def build_report(
    loaded: dict[str, LoadedTable],
    snapshot: str,
    data_dir: str,
    unknown_files: list[str] | None = None,
) -> dict:
    """Summarise loaded tables into the quality report (a JSON-ready dict)."""
    tables: dict[str, dict] = {}
    for name, table in loaded.items():
        tables[name] = {
            "zh": TABLES[name].zh,
            "file": table.path.name,
            "format": table.file_format,
            "encoding": table.encoding,
            "rows_read": table.rows_read,
            "accepted": table.n_accepted,
            "quarantined": len(table.quarantine),
            "by_reason": table.reasons,
            "extra_columns": table.extra_columns,
            "absent_columns": table.absent_columns,
            "sheets": table.sheets,
        }
    missing = [
        {"table": t, "zh": TABLES[t].zh, "meaning": "无此类记录 — no events of that kind"}
        for t in TABLES
        if t not in loaded
    ]
    active = loaded["enterprises"].active()
    return {
        "contract_version": contract.CONTRACT_VERSION,
        "snapshot": str(pd.Timestamp(snapshot).date()),
        "data_dir": str(data_dir),
        "tables": tables,
        "missing_tables": missing,
        "unknown_files": unknown_files or [],
        "unused_sheets": [
            {"table": name, **sheet}
            for name, table in loaded.items()
            for sheet in table.sheets
            if not sheet["used"]
        ],
        "totals": _totals(tables),
        "attribution": _attribution(loaded),
        "coverage": _coverage(loaded, active),
        "check_digit_failures": {
            "count": len(loaded["enterprises"].check_digit_failures),
            "codes": loaded["enterprises"].check_digit_failures[:MAX_LISTED_CODES],
            "meaning": "名录中校验位不符的代码：保留并标记 — kept in the register and flagged",
        },
    }


def _totals(tables: dict[str, dict]) -> dict:
    by_reason: dict[str, int] = {}
    for info in tables.values():
        for reason, count in info["by_reason"].items():
            by_reason[reason] = by_reason.get(reason, 0) + count
    return {
        "rows_read": sum(t["rows_read"] for t in tables.values()),
        "accepted": sum(t["accepted"] for t in tables.values()),
        "quarantined": sum(t["quarantined"] for t in tables.values()),
        "by_reason": dict(sorted(by_reason.items(), key=lambda kv: REASON_ORDER[kv[0]])),
    }


def _attribution(loaded: dict[str, LoadedTable]) -> dict:
    """记名率: share of event rows whose code names a registered enterprise."""
    by_table = {}
    rows = attributed = 0
    for name in contract.EVENT_TABLES:
        if name not in loaded:
            continue
        table = loaded[name]
        rows += table.rows_read
        attributed += table.attributed or 0
        by_table[name] = {
            "rows_read": table.rows_read,
            "attributed": table.attributed or 0,
            "rate": _share(table.attributed or 0, table.rows_read),
        }
    rate = _share(attributed, rows)
    return {
        "event_rows": rows,
        "attributed_rows": attributed,
        "rate": rate,
        "target": ATTRIBUTION_TARGET,
        "meets_target": rate is None or rate >= ATTRIBUTION_TARGET,
        "by_table": by_table,
    }


def _coverage(loaded: dict[str, LoadedTable], active: pd.Series) -> dict:
    """Share of active enterprises with at least one accepted record in each source."""
    active_set = pd.Index(active.dropna().unique())
    by_table = {}
    for name in contract.EVENT_TABLES:
        if name not in loaded:
            continue
        covered = active_set.isin(loaded[name].distinct_codes()).sum()
        by_table[name] = {"enterprises": int(covered), "share": _share(covered, len(active_set))}
    return {"active_enterprises": len(active_set), "by_table": by_table}


def _share(part: float, whole: float) -> float | None:
    return None if whole == 0 else round(float(part) / float(whole), 6)
