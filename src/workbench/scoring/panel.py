"""The training panel (训练面板): indicators + label for a series of monthly snapshots.

Each row is one enterprise at one snapshot. Out-of-time validation is the default use:
train on earlier snapshots, validate on later ones (:func:`split_out_of_time`), never a
random split that would let the model see the validation months' world.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from workbench.errors import ParameterError
from workbench.indicators import Catalog, Engine
from workbench.scoring.labels import LabelDefinition, compute_labels, label_window_end
from workbench.workspace.folders import PanelFolder

log = logging.getLogger(__name__)


def month_ends(first: str, last: str) -> list[pd.Timestamp]:
    """Month-end snapshots from the month of ``first`` to the month of ``last``."""
    return list(
        pd.date_range(
            pd.Timestamp(first) + pd.offsets.MonthEnd(0),
            pd.Timestamp(last) + pd.offsets.MonthEnd(0),
            freq="ME",
        )
    )


def latest_labelled_snapshot(data_snapshot: str, definition: LabelDefinition) -> pd.Timestamp:
    """The last month end whose label window fits inside the data."""
    end = pd.Timestamp(data_snapshot) - pd.DateOffset(months=definition.horizon_months)
    return end + pd.offsets.MonthEnd(0) if end.is_month_end else end - pd.offsets.MonthEnd(1)


def build_panel(
    tables_dir: str | Path,
    snapshots: list[pd.Timestamp],
    catalog: Catalog,
    definition: LabelDefinition,
    data_snapshot: str,
) -> pd.DataFrame:
    """Indicators and labels for every snapshot, stacked (one row per enterprise-month).

    Raises:
        ValueError: when a snapshot's label window runs past the data.
    """
    for s in snapshots:
        if label_window_end(s, definition) > pd.Timestamp(data_snapshot):
            raise ParameterError(
                f"snapshot {s.date()}: its {definition.horizon_months}-month label window "
                f"ends after the data ({data_snapshot}); the latest usable snapshot is "
                f"{latest_labelled_snapshot(data_snapshot, definition).date()}"
            )
    parts = []
    with Engine(tables_dir) as engine:
        for s in snapshots:
            matrix = engine.compute(s, catalog)
            labels = compute_labels(engine, s, definition, data_snapshot)
            parts.append(matrix.merge(labels, on="uscc", how="left", validate="one_to_one"))
            log.info(
                "panel: %s, %d rows, bad rate %.3f", s.date(), len(matrix), labels["label"].mean()
            )
    return pd.concat(parts, ignore_index=True)


def split_out_of_time(
    panel: pd.DataFrame, validation_from: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows before ``validation_from`` for training, rows from it on for validation.

    Rows without a label (exited during their window) are dropped from both.
    """
    labelled = panel[panel["label"].notna()]
    cut = pd.Timestamp(validation_from)
    return labelled[labelled["snapshot"] < cut], labelled[labelled["snapshot"] >= cut]


def write_panel(frame: pd.DataFrame, folder: str | Path, design: dict | None = None) -> PanelFolder:
    """Write a panel (and its design: snapshots, validation start) atomically; return it."""
    from workbench.workspace import atomic_directory, write_json

    with atomic_directory(folder, PanelFolder.MARKER) as tmp:
        frame.to_parquet(tmp / PanelFolder.FILES["panel"], index=False)
        write_json(tmp / PanelFolder.FILES["design"], design or {})
    return PanelFolder(Path(folder))
