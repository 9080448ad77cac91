"""CSV files people open (给人打开的 CSV): no cell is ever a live formula.

Excel and WPS run a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, through
some import paths, a tab or carriage return) as a formula: an enterprise registered as
``=HYPERLINK("http://x","点击")`` would become a link, or worse, in the hands of whoever
opens ``tasks.csv`` or a public notice. Following OWASP, such a *text* cell is written
with a leading ``'`` so that it stays text. Numbers stay numbers (``-14.5`` in a numeric
column, or a text cell that is nothing but a number, is not a formula); Parquet files
keep the original values.

The prefix is reversible — a value is prefixed exactly when it begins, after any
apostrophes, with a trigger character — so :func:`restore` gives back what was written
and the workbench's own readers (``Folder.read_csv``) see the original values.

Every CSV meant for people is written through :func:`to_csv` (pandas) or
:func:`defuse_table` (pyarrow).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

#: First characters that make a spreadsheet cell a formula (OWASP CSV injection).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")


def is_formula(text: str) -> bool:
    """True when a spreadsheet would run this cell: a trigger first, and not a number."""
    return bool(text) and text[0] in TRIGGERS and not _NUMBER.fullmatch(text)


def _needs_prefix(text: str) -> bool:
    return is_formula(text.lstrip(PREFIX))


def defuse_value(value: object) -> object:
    """``value`` with a leading ``'`` when it is text that a spreadsheet would run."""
    if isinstance(value, str) and _needs_prefix(value):
        return PREFIX + value
    return value


def restore_value(value: object) -> object:
    """The value :func:`defuse_value` was given (its inverse on everything it returns)."""
    if isinstance(value, str) and value.startswith(PREFIX) and _needs_prefix(value[1:]):
        return value[1:]
    return value


def _is_text(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series.dtype)
        or pd.api.types.is_bool_dtype(series.dtype)
        or pd.api.types.is_datetime64_any_dtype(series.dtype)
        or isinstance(series.dtype, pd.PeriodDtype)
    )


def _map_text(series: pd.Series, fn) -> pd.Series:
    if not _is_text(series):
        return series
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.rename_categories(fn)
    return series.map(fn, na_action="ignore").astype(series.dtype)


def _map_index(index: pd.Index, fn) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_levels([_map_index(level, fn) for level in index.levels])
    if not _is_text(index.to_series()):
        return index
    return index.map(lambda v: v if pd.isna(v) else fn(v))


def defuse(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and text index and headers) cannot run."""
    out = frame.copy()
    for i in range(out.shape[1]):
        out.isetitem(i, _map_text(out.iloc[:, i], defuse_value))
    out.index = _map_index(out.index, defuse_value)
    out.columns = _map_index(out.columns, defuse_value)
    return out


def restore(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as it was before :func:`defuse` (for the workbench's own readers)."""
    out = frame.copy()
    for i in range(out.shape[1]):
        out.isetitem(i, _map_text(out.iloc[:, i], restore_value))
    out.index = _map_index(out.index, restore_value)
    out.columns = _map_index(out.columns, restore_value)
    return out


def to_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = False, **kwargs) -> Path:
    """Write ``frame`` as a CSV for people: UTF-8 with a BOM (Excel), formulas defused.

    Text is always quoted (as pyarrow's writer does), so that a carriage return inside a
    name never splits its row.
    """
    kwargs.setdefault("encoding", "utf-8-sig")
    kwargs.setdefault("quoting", csv.QUOTE_NONNUMERIC)
    defuse(frame).to_csv(path, index=index, **kwargs)
    return Path(path)


def _arrow_text(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def defuse_table(table):
    """A pyarrow Table whose string columns are defused (for pyarrow's fast CSV writer)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type) and _arrow_text(column.type.value_type):
            column = column.cast(column.type.value_type)  # the CSV text is the same
        if _arrow_text(column.type):
            core = pc.utf8_ltrim(column, characters=PREFIX)
            first = pc.utf8_slice_codeunits(core, 0, 1)
            trigger = pc.is_in(first, value_set=pa.array(TRIGGERS, column.type))
            number = pc.match_substring_regex(core, f"^(?:{_NUMBER.pattern})$")
            hit = pc.and_(trigger, pc.invert(number))
            prefixed = pc.binary_join_element_wise(
                pa.scalar(PREFIX, column.type), column, pa.scalar("", column.type)
            )
            column = pc.if_else(pc.fill_null(hit, False), prefixed, column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)
