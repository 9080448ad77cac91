"""Names of administrative divisions (行政区划) for reports, read from ``regions.yaml``.

The register carries GB/T 2260 codes only; leadership reads names. The names are
configuration because every bureau supervises different divisions.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from workbench import config


def region_names(path: str | None = None) -> dict[str, str]:
    """Code → name (the configuration's ``regions.yaml`` by default)."""
    return _region_names(str(Path(path) if path else config.current().regions))


@cache
def _region_names(path: str) -> dict[str, str]:
    source = Path(path)
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    return {str(code): str(name) for code, name in (data.get("regions") or {}).items()}


def region_name(code: str) -> str:
    """The division's name, or the code itself when it is not configured."""
    return region_names().get(str(code), str(code))
