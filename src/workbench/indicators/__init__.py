"""Indicators (指标体系): the catalog as YAML, computed as of a snapshot without leakage.

- :mod:`.catalog` — the YAML schema, its checks and the packaged catalogs (``catalog/``);
- :mod:`.engine` — the as-of views and the SQL the catalog compiles to (DuckDB);
- :mod:`.signal` — quick information value and missing rates for analysts.
"""

from .catalog import Catalog, CatalogError, Indicator, Pack, load_catalog
from .engine import Engine, compute_indicators

__all__ = [
    "Catalog",
    "CatalogError",
    "Engine",
    "Indicator",
    "Pack",
    "compute_indicators",
    "load_catalog",
]
