"""The indicators stage (指标计算): one snapshot's matrix, its catalog and a signal check.

Writes into its output folder (atomically)::

    indicators.parquet   one row per enterprise active at the snapshot
    catalog.json         the resolved catalog and its fingerprint (what was computed)
    signal.csv           IV and missing rate per indicator, at the latest snapshot whose
                         label is observable (the snapshot itself is usually too recent)
    summary.json         snapshot, counts, label definition, signal snapshot

With ``--panel FROM:TO`` it writes a training panel instead (indicators + label per
enterprise and month end, ``data/panel/<FROM>_<TO>/``) for ``workbench train --panel``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench import config, workspace
from workbench.errors import ParameterError
from workbench.indicators.catalog import Catalog, load_catalog
from workbench.indicators.engine import Engine
from workbench.indicators.signal import iv_table
from workbench.scoring import labels
from workbench.scoring.panel import build_panel, latest_labelled_snapshot, month_ends, write_panel
from workbench.stages.registry import option
from workbench.workspace import atomic_directory, csvsafe, write_json
from workbench.workspace.folders import (
    IndicatorsFolder,
    IngestFolder,
    PanelFolder,
    check_day,
    check_month,
)


@dataclass(frozen=True)
class Parameters:
    """Parameters of ``workbench indicators`` (and of ``notebooks/02_indicators.ipynb``)."""

    data: str = option("", "ingest output folder (default: the latest ingest)", path=True)
    as_of: str = option(
        "",
        "evaluation date YYYY-MM-DD (评价基准日; default: the data's snapshot)",
        metavar="YYYY-MM-DD",
    )
    catalog: str = option(
        "", "indicator catalog YAML (default: the configuration's generic catalog)", path=True
    )
    packs: str = option(
        "", "professional packs (专业型), comma-separated, e.g. food,drugs,special_equipment"
    )
    out: str = option(
        "", "output folder (default: data/indicators/<YYYY-MM>, or data/panel/…)", path=True
    )
    panel: str = option(
        "",
        "instead: a training panel of month-end snapshots FROM..TO (YYYY-MM:YYYY-MM) with "
        "labels, written to data/panel/<FROM>_<TO>/",
        metavar="FROM:TO",
    )


def resolve(params: Parameters, settings: config.Settings | None = None) -> Parameters:
    """Check the parameters and fill the defaults.

    Raises:
        ParameterError: a malformed date, a date after the data, a folder that is not an
            ingest output; NotReadyError when there is no ingest at all.
    """
    ws = workspace.current()
    data = IngestFolder(Path(params.data)) if params.data else ws.ingest.require_latest()
    data.require("run `workbench ingest --data EXPORT_FOLDER` first")
    data_snapshot = data.snapshot
    day = pd.Timestamp(check_day(params.as_of, "--as-of") if params.as_of else data_snapshot)
    if day > pd.Timestamp(data_snapshot):
        raise ParameterError(f"--as-of {day.date()} is after the data's snapshot {data_snapshot}")
    out = params.out
    if out:  # refused now, not after the matrix or panel is computed
        workspace.check_replaceable(
            out, PanelFolder.MARKER if params.panel else IndicatorsFolder.MARKER
        )
    if params.panel:
        first, last = _panel_range(params.panel)
        out = out or str(ws.panels.at(f"{first:%Y-%m}_{last:%Y-%m}").path)
    else:
        out = out or str(ws.indicators.at(f"{day:%Y-%m}").path)
    return Parameters(
        str(data.path), str(day.date()), params.catalog, ",".join(_packs(params)), out, params.panel
    )


def _packs(params: Parameters) -> tuple[str, ...]:
    return tuple(p.strip() for p in params.packs.split(",") if p.strip())


def _panel_range(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    first, _, last = text.partition(":")
    for month in (first, last or first):
        check_month(month, f"--panel {text!r}: FROM and TO (FROM:TO)")
    snapshots = month_ends(first, last or first)
    if not snapshots:
        raise ParameterError(f"--panel {text!r}: FROM is after TO")
    return snapshots[0], snapshots[-1]


def run(params: Parameters, settings: config.Settings | None = None) -> dict:
    """Compute one snapshot's indicators (or a panel); return the summary."""
    if params.panel:
        return run_panel(params)
    return run_indicators(params)


def run_panel(params: Parameters) -> dict:
    """Indicators + labels for every month end of ``params.panel``, written atomically."""
    data = IngestFolder(Path(params.data))
    first, last = _panel_range(params.panel)
    snapshots = month_ends(str(first.date()), str(last.date()))
    frame = build_panel(
        data.tables,
        snapshots,
        load_catalog(params.catalog or None, _packs(params)),
        labels.load_label_definition(),
        data.snapshot,
    )
    design = {"snapshots": [str(s.date()) for s in snapshots], "data": str(data.path)}
    folder = write_panel(frame, params.out, design)
    return {
        "panel": str(folder.file("panel")),
        "rows": len(frame),
        "snapshots": len(snapshots),
        "labelled": int(frame["label"].notna().sum()),
        "bad_rate": float(frame["label"].mean()),
    }


def notebook_skipped(params: Parameters) -> bool:
    """A panel is built without the notebook (it has nothing to show for a panel)."""
    return bool(params.panel)


def read(params: Parameters) -> dict:
    """The summary of a finished run."""
    if params.panel:
        folder = PanelFolder(Path(params.out))
        frame = folder.read_panel()
        return {
            "panel": str(folder.file("panel")),
            "rows": len(frame),
            "snapshots": int(frame["snapshot"].nunique()),
            "labelled": int(frame["label"].notna().sum()),
            "bad_rate": float(frame["label"].mean()),
        }
    return IndicatorsFolder(Path(params.out)).summary()


def month(params: Parameters) -> str:
    """The month whose report folder keeps the executed notebook."""
    return params.as_of[:7]


def describe(params: Parameters, summary: dict) -> list[str]:
    """What the CLI prints."""
    if params.panel:
        return [
            f"training panel: {summary['rows']:,} rows ({summary['snapshots']} snapshots, "
            f"{summary['labelled']:,} labelled, bad rate {summary['bad_rate']:.2%}) in "
            f"{summary['panel']}"
        ]
    folder = IndicatorsFolder(Path(params.out))
    signal = folder.read_csv("signal")
    strong = signal[signal["IV"] >= 0.1]
    return [
        f"indicators as of {summary['snapshot']}: {summary['enterprises']:,} enterprises × "
        f"{summary['indicators']} indicators in {folder.file('indicators')}",
        f"signal check at {summary['signal_snapshot']}: {len(strong)} indicators with "
        f"IV ≥ 0.1 ({folder.file('signal')})",
    ]


def cycle_parameters(ctx) -> Parameters:
    """The cycle computes the month-end indicators (with the cycle's packs)."""
    return Parameters(
        data=str(workspace.current().ingest.at(ctx.month).path),
        as_of=ctx.month_end,
        packs=ctx.packs,
        out=str(workspace.current().indicators.at(ctx.month).path),
    )


def run_indicators(params: Parameters) -> dict:
    """Compute and write one snapshot's indicators and the signal check; return the summary."""
    catalog: Catalog = load_catalog(params.catalog or None, _packs(params))
    definition = labels.load_label_definition()
    data = IngestFolder(Path(params.data))
    data_snapshot = data.snapshot
    signal_snapshot = min(
        pd.Timestamp(params.as_of), latest_labelled_snapshot(data_snapshot, definition)
    )
    with Engine(data.tables) as engine:
        matrix = engine.compute(params.as_of, catalog)
        labelled = engine.compute(signal_snapshot, catalog)
        target = labels.compute_labels(engine, signal_snapshot, definition, data_snapshot)
    labelled = labelled.merge(target, on="uscc", validate="one_to_one")
    signal = iv_table(labelled, labelled["label"], catalog)
    summary = {
        "snapshot": params.as_of,
        "data": str(params.data),
        "data_snapshot": data_snapshot,
        "enterprises": len(matrix),
        "indicators": len(catalog.all),
        "packs": list(_packs(params)),
        "config_fingerprint": config.current().fingerprint,
        "catalog_fingerprint": catalog.fingerprint(),
        "label": definition.describe(),
        "signal_snapshot": str(signal_snapshot.date()),
        "signal_bad_rate": round(float(labelled["label"].mean()), 6),
        "signal_labelled": int(labelled["label"].notna().sum()),
    }
    with atomic_directory(params.out, IndicatorsFolder.MARKER) as tmp:
        written = IndicatorsFolder(tmp)
        matrix.to_parquet(written.file("indicators"), index=False)
        write_json(
            written.file("catalog"), {"fingerprint": catalog.fingerprint(), **catalog.to_dict()}
        )
        csvsafe.to_csv(signal, written.file("signal"))
        write_json(written.file("summary"), summary)
    return summary


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
