"""Names of administrative divisions (行政区划) for reports, read from ``regions.yaml``.

The register carries GB/T 2260 codes only; leadership reads names. The names are
configuration because every bureau supervises different divisions.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from workbench import config
from workbench.errors import ConfigError


def region_names(path: str | None = None) -> dict[str, str]:
    """Code → name (the configuration's ``regions.yaml`` by default)."""
    source = Path(path) if path else config.current().regions
    mtime = source.stat().st_mtime_ns if source.is_file() else 0
    return _region_names(str(source), mtime)


@cache
def _region_names(path: str, mtime_ns: int) -> dict[str, str]:
    source = Path(path)
    data = config.read_yaml(source, dict, "a mapping with the keys city and regions")
    regions = data.get("regions") or {}
    if set(data) - {"city", "regions"} or not isinstance(regions, dict):
        raise ConfigError(
            f"{source}: expected a mapping with the keys city (optional) and regions (code: name)"
        )
    return {str(code): str(name) for code, name in regions.items()}


def region_name(code: str) -> str:
    """The division's name, or the code itself when it is not configured."""
    return region_names().get(str(code), str(code))
