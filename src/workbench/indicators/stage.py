"""The indicators stage (指标计算): one snapshot's matrix, its catalog and a signal check.

Writes into its output folder (atomically)::

    indicators.parquet   one row per enterprise active at the snapshot
    catalog.json         the resolved catalog and its fingerprint (what was computed)
    signal.csv           IV and missing rate per indicator, at the latest snapshot whose
                         label is observable (the snapshot itself is usually too recent)
    summary.json         snapshot, counts, label definition, signal snapshot
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from workbench import ingest, labels, workspace
from workbench.panel import latest_labelled_snapshot
from workbench.workspace import atomic_directory, write_json

from .catalog import Catalog, load_catalog
from .engine import Engine
from .signal import iv_table


class IndicatorParameters(NamedTuple):
    """Checked parameters of the indicators stage."""

    data: Path  # an ingest output folder (holding tables/ and quality.json)
    data_snapshot: str
    snapshot: str
    catalog: str | None
    packs: tuple[str, ...]
    out: Path


def latest_ingest() -> Path:
    """The most recent ingest output under ``data/ingest/``.

    Raises:
        FileNotFoundError: when there is none (run ``workbench ingest`` first).
    """
    root = workspace.data_dir() / "ingest"
    found = sorted(p for p in root.glob("*") if (p / ingest.QUALITY_FILE).is_file())
    if not found:
        raise FileNotFoundError(f"no ingest output in {root}: run `workbench ingest` first")
    return found[-1]


def resolve_parameters(
    data: str = "", snapshot: str = "", catalog: str = "", packs: str = "", out: str = ""
) -> IndicatorParameters:
    """Check the stage's parameters and fill the defaults.

    Empty ``data`` = the latest ingest (the demo city's is made first if there is none);
    empty ``snapshot`` = the data's own snapshot; ``packs`` is a comma-separated list.

    Raises:
        ValueError: for a malformed date, a snapshot after the data, or a missing folder.
    """
    if data:
        data_path = Path(data)
    else:
        try:
            data_path = latest_ingest()
        except FileNotFoundError:
            params = ingest.resolve_parameters()
            ingest.run_ingest(params.data, params.snapshot, params.out)
            data_path = params.out
    if not (data_path / ingest.QUALITY_FILE).is_file():
        raise ValueError(f"{data_path} is not an ingest output (no {ingest.QUALITY_FILE})")
    data_snapshot = ingest.read_report(data_path)["snapshot"]
    try:
        day = pd.Timestamp(snapshot) if snapshot else pd.Timestamp(data_snapshot)
    except ValueError as err:
        raise ValueError(f"snapshot {snapshot!r} is not a date (YYYY-MM-DD)") from err
    if day > pd.Timestamp(data_snapshot):
        raise ValueError(f"snapshot {day.date()} is after the data's snapshot {data_snapshot}")
    pack_ids = tuple(p.strip() for p in packs.split(",") if p.strip())
    out_path = Path(out) if out else workspace.data_dir() / "indicators" / f"{day:%Y-%m}"
    return IndicatorParameters(
        data_path, data_snapshot, str(day.date()), catalog or None, pack_ids, out_path
    )


def run_indicators(params: IndicatorParameters) -> dict:
    """Compute and write one snapshot's indicators and the signal check; return the summary."""
    catalog: Catalog = load_catalog(params.catalog, params.packs)
    definition = labels.load_label_definition()
    signal_snapshot = min(
        pd.Timestamp(params.snapshot), latest_labelled_snapshot(params.data_snapshot, definition)
    )
    with Engine(params.data / "tables") as engine:
        matrix = engine.compute(params.snapshot, catalog)
        labelled = engine.compute(signal_snapshot, catalog)
        target = labels.compute_labels(engine, signal_snapshot, definition, params.data_snapshot)
    labelled = labelled.merge(target, on="uscc", validate="one_to_one")
    signal = iv_table(labelled, labelled["label"], catalog)
    summary = {
        "snapshot": params.snapshot,
        "data": str(params.data),
        "data_snapshot": params.data_snapshot,
        "enterprises": len(matrix),
        "indicators": len(catalog.all),
        "packs": list(params.packs),
        "catalog_fingerprint": catalog.fingerprint(),
        "label": definition.describe(),
        "signal_snapshot": str(signal_snapshot.date()),
        "signal_bad_rate": round(float(labelled["label"].mean()), 6),
        "signal_labelled": int(labelled["label"].notna().sum()),
    }
    with atomic_directory(params.out) as tmp:
        matrix.to_parquet(tmp / "indicators.parquet", index=False)
        write_json(
            tmp / "catalog.json", {"fingerprint": catalog.fingerprint(), **catalog.to_dict()}
        )
        signal.to_csv(tmp / "signal.csv", index=False, encoding="utf-8-sig")
        write_json(tmp / "summary.json", summary)
    return summary


def read_outputs(out: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The matrix, the signal table and the summary written by :func:`run_indicators`."""
    out = Path(out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return (
        pd.read_parquet(out / "indicators.parquet"),
        pd.read_csv(out / "signal.csv", encoding="utf-8-sig"),
        summary,
    )


def headline_markdown(summary: dict) -> str:
    """What matters first, in Chinese."""
    packs = "、".join(summary["packs"]) or "无（仅通用型）"
    return "\n".join(
        [
            f"- 评价基准日 **{summary['snapshot']}**（数据截至 {summary['data_snapshot']}），"
            f"在业市场主体 **{summary['enterprises']:,}** 户，指标 **{summary['indicators']}** 个；"
            f"专业包：{packs}。",
            f"- 指标目录指纹 `{summary['catalog_fingerprint'][:16]}`"
            "（目录改动即变化，随模型记录）。",
            f"- 区分度检验在 **{summary['signal_snapshot']}**（其后 12 个月的结果已可观察）进行："
            f"{summary['label']}；有标签 {summary['signal_labelled']:,} 户，"
            f"坏样本率 {100 * summary['signal_bad_rate']:.2f}%。",
        ]
    )
