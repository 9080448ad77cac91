"""The check stage (数据就绪评估): what an export allows, before anything is written.

``workbench check --data DIR`` reads a folder of exports the way ingest would (nothing is
written) — or an ingest output — and prints the readiness report of
:mod:`workbench.intake.readiness`: history per table, absent tables and columns, which
indicators can be computed and from when, the labelled month ends, the training design
the data allows or how much more history is needed, and the commands that come next. It
exits 0 when a model can be trained, 3 when not yet (scripts can tell).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from workbench import config
from workbench.errors import ParameterError
from workbench.stages.registry import option
from workbench.workspace.folders import check_day

NOT_READY = 3  # exit code: the data cannot support a model yet


@dataclass(frozen=True)
class Parameters:
    """Parameters of ``workbench check``."""

    data: str = option(
        "",
        "folder of the bureau's exports, or an ingest output (default: `exports:` in "
        "conf/workbench.yaml)",
        path=True,
        metavar="FOLDER",
    )
    as_of: str = option(
        "",
        "outcomes known as of YYYY-MM-DD (default: the latest date found in the export)",
        metavar="YYYY-MM-DD",
    )
    catalog: str = option(
        "", "indicator catalog YAML (default: the configuration's generic catalog)", path=True
    )


def resolve(params: Parameters, settings: config.Settings | None = None) -> Parameters:
    """Check the parameters and fill the default folder.

    Raises:
        ParameterError: no folder, a missing folder, a malformed date.
    """
    settings = settings or config.current()
    data = params.data or (str(settings.exports) if settings.exports else "")
    if not data:
        raise ParameterError(
            "no export folder: pass --data FOLDER (or set `exports:` in "
            f"{config.conf_dir() / 'workbench.yaml'})"
        )
    if not Path(data).is_dir():
        raise ParameterError(f"data folder {data} does not exist")
    as_of = params.as_of
    if as_of:
        as_of = check_day(as_of, "--as-of")
    return Parameters(str(Path(data).resolve()), as_of, params.catalog)


def run(params: Parameters, settings: config.Settings | None = None) -> dict:
    """Assess the folder; return the readiness report (a dict) with the exit code."""
    from workbench.indicators import load_catalog
    from workbench.intake import load, readiness
    from workbench.stages.ingest import latest_date
    from workbench.workspace.folders import IngestFolder

    catalog = load_catalog(params.catalog or None)
    folder = IngestFolder(Path(params.data))
    if folder.exists():  # an ingest output: its validated tables
        report = readiness.assess_ingest(folder, catalog, as_of=params.as_of or None).to_dict()
        quality = folder.quality()
        report["unused_sheets"] = quality.get("unused_sheets", [])
        report["unknown_files"] = quality.get("unknown_files", [])
    else:
        loaded = load.load_folder(params.data, params.as_of or dt.date.today().isoformat())
        snapshot = params.as_of or latest_date(loaded)
        result = readiness.assess_loaded(loaded, snapshot, params.data, catalog)
        report = result.to_dict()
        report["unused_sheets"] = [
            {"table": name, **sheet}
            for name, table in loaded.items()
            for sheet in table.sheets
            if not sheet["used"]
        ]
        report["unknown_files"] = load.unknown_files(params.data)
    report["exit_code"] = 0 if report["design"] else NOT_READY
    return report


def read(params: Parameters) -> dict:
    """The check writes nothing: reading it is running it."""
    return run(params)


def month(params: Parameters) -> str:
    """The month whose report folder would keep a notebook (the check has none)."""
    return (params.as_of or dt.date.today().isoformat())[:7]


def describe(params: Parameters, report: dict) -> list[str]:
    """What the CLI prints."""
    from workbench.views.readiness import lines

    return lines(report)


def cycle_parameters(ctx) -> None:
    """Not part of the monthly cycle (``cycle=False``): run it once, on a new export."""
    return None
