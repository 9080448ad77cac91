"""Loaders (数据加载): a folder of bureau exports → validated tables plus quarantine.

Reads CSV (UTF-8, UTF-8 with BOM, GBK, GB18030 — detected), XLSX and Parquet with English
or Chinese headers, then checks every row against the contract. A row that fails a check
is never dropped silently: it goes to the table's quarantine frame with the reason of its
first failing check (in ``contract.QUARANTINE_REASONS`` order) and the detail of every
failing check, and it is counted. Everything is vectorised: a province's exports (10⁷
rows) must load on one machine.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from workbench import contract
from workbench.contract import CODE_LISTS, TABLES, Column, Table, normalise_label, uscc
from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)

FORMATS = (".csv", ".xlsx", ".parquet")
#: What the loader accepts, for messages about a file that is none of it.
EXPECTED = "expected a UTF-8/GBK CSV, an XLSX workbook or a Parquet file"
#: Leading bytes of file types that turn up misnamed as ``.csv`` (an export tool's choice
#: of extension is not to be trusted), with what to tell the user.
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive — an XLSX workbook? name it .xlsx"),
    (b"\xd0\xcf\x11\xe0", "a legacy Excel .xls/OLE file — save it as .xlsx or CSV"),
    (b"PAR1", "a Parquet file — name it .parquet"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive — unpack it first"),
    (b"7z\xbc\xaf", "a 7-Zip archive — unpack it first"),
    (b"Rar!", "a RAR archive — unpack it first"),
)
#: C0 control bytes that never occur in CSV text (tab, LF, VT, FF, CR and the DOS end-of-file
#: mark 0x1A are allowed); in UTF-8, GBK and GB18030 every byte of a multi-byte character is
#: 0x30 or above, so these bytes cannot be part of a Chinese character either.
_CONTROL = bytes(b for b in range(0x20) if b not in b"\t\n\x0b\x0c\r\x1a")
_SNIFF = 1 << 16  # bytes examined for binary content
#: What openpyxl and pyarrow raise on a file that is not theirs (damaged, truncated, other).
_UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, pa.ArrowException)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_DATE_PARTS = (
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"  # the date
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"  # an optional time, ignored
)
_TRUE = {"是", "true", "t", "yes", "y", "1", "在岗", "属实", "有"}
_FALSE = {"否", "false", "f", "no", "n", "0", "不在岗", "离岗", "不属实", "无"}
#: Reason for a CSV line with more fields than the header (cannot be read into columns).
MALFORMED_LINE = "malformed_line"
REASON_ORDER = {r: i for i, r in enumerate(contract.QUARANTINE_REASONS)}
#: Columns the quarantine adds in front of the row as read (named apart from table columns
#: such as ``abnormal_list.reason``).
ROW_COLUMN, REASON_COLUMN, DETAIL_COLUMN = "source_row", "quarantine_reason", "quarantine_detail"
#: A UTF-8 CSV file larger than this is read, validated and written in batches when the
#: caller gives a staging folder (``load_folder(stage=…)``, the ingest stage): a table's
#: memory is then one batch's, not the file's — a province's register alone is 10⁷ rows.
#: Smaller files are read whole, exactly as before.
STREAM_BYTES = 64 << 20
#: Rows validated at once when a file is read in batches.
BATCH_ROWS = 1_000_000


class ContractError(WorkbenchError, ValueError):
    """The input cannot be read as the contract says (a missing required column, say)."""


@dataclass
class LoadedTable:
    """One table after validation.

    Attributes:
        accepted: typed rows that passed every check, canonical column names.
        quarantine: rejected rows as read, with ``source_row``, ``quarantine_reason``
            and ``quarantine_detail``.
        rows_read: data rows in the file (header excluded).
        attributed: rows whose ``uscc`` names a registered enterprise (for 记名率).
    """

    name: str
    path: Path
    file_format: str
    encoding: str | None
    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int
    attributed: int | None = None
    extra_columns: list[str] = field(default_factory=list)
    check_digit_failures: list[str] = field(default_factory=list)
    absent_columns: list[str] = field(default_factory=list)  # optional columns not in the file
    sheets: list[dict] = field(default_factory=list)  # XLSX: every sheet, used or not, and why
    # Read in batches: the accepted rows are in ``staged`` (Parquet), ``accepted`` holds
    # none of them, and what the report needs was kept on the way.
    staged: Path | None = None
    accepted_rows: int = 0
    kept_codes: pa.Array | None = None  # enterprises: accepted codes; events: distinct codes
    active_codes: pa.Array | None = None  # enterprises: codes of active ones
    latest: pd.Timestamp | None = None  # latest event date (columns that cannot be future)

    @property
    def n_accepted(self) -> int:
        """Rows accepted (held in ``accepted`` or written to ``staged``)."""
        return self.accepted_rows if self.staged is not None else len(self.accepted)

    def codes(self) -> pa.Array:
        """The accepted rows' codes as strings (the register: for attribution)."""
        if self.staged is not None:
            return self.kept_codes
        return pa.array(self.accepted["uscc"].dropna().astype("str"))

    def distinct_codes(self) -> np.ndarray:
        """Distinct codes among the accepted rows (for coverage)."""
        if self.staged is not None:
            return self.kept_codes.to_numpy(zero_copy_only=False)
        return self.accepted["uscc"].dropna().unique()

    def active(self) -> pd.Series:
        """The register's active enterprises' codes (enterprises only)."""
        if self.staged is not None:
            return pd.Series(self.active_codes.to_numpy(zero_copy_only=False), dtype=object)
        return self.accepted.loc[self.accepted["status"] == "active", "uscc"]

    def latest_date(self) -> pd.Timestamp | None:
        """The latest date among columns that cannot lie in the future, or None."""
        if self.staged is not None:
            return self.latest
        return _latest(self.name, self.accepted)

    @property
    def reasons(self) -> dict[str, int]:
        """Quarantined rows per reason."""
        if self.quarantine.empty:
            return {}
        counts = self.quarantine[REASON_COLUMN].value_counts()
        return {r: int(counts[r]) for r in sorted(counts.index, key=REASON_ORDER.get)}


# ------------------------------------------------------------------------- reading files


def find_table_file(folder: Path, table: Table) -> Path | None:
    """The file holding ``table`` in ``folder`` (English or Chinese file name), or None.

    Raises:
        ContractError: when two files claim the same table.
    """
    hits = [
        folder / f"{stem}{ext}"
        for stem in (table.name, table.zh)
        for ext in FORMATS
        if (folder / f"{stem}{ext}").is_file()
    ]
    if len(hits) > 1:
        names = ", ".join(h.name for h in hits)
        raise ContractError(f"table {table.name} ({table.zh}) is given by several files: {names}")
    return hits[0] if hits else None


def binary_content(raw: bytes) -> str | None:
    """What a ``.csv`` file's bytes are when they are not text (None when they may be).

    Checked before decoding because GB18030 decodes almost any byte string: without this
    a PNG would "decode" and fail later as a table with odd headers. A file is binary when
    it starts with a known signature, holds a NUL byte (UTF-16 text included), or more than
    1 % of its first 64 KiB are control bytes no CSV holds.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text — save it as UTF-8 or GBK CSV"
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            return kind
    sample = raw[:_SNIFF]
    if b"\x00" in sample:
        return "binary content"
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if controls > len(sample) / 100:
        return "binary content"
    return None


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode a CSV file's bytes, detecting UTF-8 (with or without BOM), GBK or GB18030.

    UTF-8 is tried strictly first: GBK text almost never decodes as valid UTF-8, while the
    reverse often "works" and produces garbage, so the order matters.

    Raises:
        ContractError: when the bytes are binary, or text in none of the supported
            encodings (the message gives the first byte that fails, by line).
    """
    kind = binary_content(raw)
    if kind is not None:
        raise ContractError(f"not a text CSV ({kind}); {EXPECTED}")
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as err:
            raise ContractError(
                f"starts with a UTF-8 mark but is not UTF-8 ({_where(raw, err.start + 3)}); "
                "save it again as UTF-8 or GBK CSV"
            ) from None
    for encoding in ("utf-8", "gbk", "gb18030"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as err:
            last = err
            continue
    raise ContractError(
        f"cannot decode the file as UTF-8, GBK or GB18030 ({_where(raw, last.start)}); "
        "save it again in one of them"
    )


def _where(raw: bytes, offset: int) -> str:
    """Where a byte offset is, for a person: line number and the byte in hex."""
    line = raw.count(b"\n", 0, offset) + 1
    return f"line {line}, byte 0x{raw[offset]:02X} at offset {offset}"


def _read_csv_text(text: str) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Parse CSV text as strings; return the frame and the malformed lines with their detail.

    The fast path is Arrow's multi-threaded reader with every column typed as string (no
    inference: ``0101`` stays ``0101``). A file it rejects (a line with a wrong number of
    fields), or whose values swallowed further records (a stray quote, :func:`_swallowed`),
    is read again line by line (:func:`_read_lines`), so the bad lines can be named and kept.
    """
    first_line = text[: text.find("\n")] if "\n" in text else text
    header = next(csv.reader([first_line.rstrip("\r")]), [])
    if not header:
        return pd.DataFrame(), []
    text = text.rstrip("\x1a")  # an old DOS end-of-file mark is no data
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        if not _swallowed(table, len(header)):
            frame = table.to_pandas()
            frame.index = pd.RangeIndex(2, len(frame) + 2)
            return frame, []
    except (pa.ArrowInvalid, ValueError):
        pass
    return _read_lines(text, header)


def _record_like(line: str, width: int) -> bool:
    """Whether one physical line reads, on its own, as a whole record of ``width`` fields."""
    try:
        fields = next(csv.reader([line.rstrip("\r\n")], strict=True), [])
    except csv.Error:
        return False
    return width > 1 and len(fields) == width


def _swallowed(table: pa.Table, width: int) -> bool:
    """Whether a value spans line breaks and holds lines that read as records of their own.

    A stray ``"`` opens a quoted field that runs to the next quote or the end of the file,
    taking every record in between as one value: the table then looks short and nothing
    fails loudly. A value legitimately written over several lines (an address, a note)
    rarely holds a line with exactly the header's number of fields, nor ends in a line
    break (a quote the end of the file closed).
    """
    for column in table.columns:
        broken = pc.match_substring(column, "\n")
        if not pc.any(broken).as_py():
            continue
        for value in pc.filter(column, broken).to_pylist():
            lines = value.split("\n")
            if lines[-1] == "" or any(_record_like(line, width) for line in lines[1:]):
                return True  # records inside, or a quote left open to the end of the file
    return False


def _read_lines(text: str, header: list[str]) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Read CSV records with the csv module, keeping every line a stray quote would hide.

    A record spanning several lines whose later lines read as records of their own, or
    whose quote is still open at the end of the file, is a stray quote: its first line is
    quarantined (``malformed_line``, naming the line) and reading resumes at the next
    line, so nothing after it is lost. A line with more fields than the header is
    quarantined too; one with fewer is padded with empty values (checked later).
    Rows are numbered as records (header = 1), blank lines skipped, as the fast path does.
    The csv module's field limit (131,072 characters) is lifted for the read: a quote left
    open over a few thousand lines is still one field, to be found and set aside here.
    """
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))
    try:
        return _read_records(io.StringIO(text).readlines(), header)
    finally:
        csv.field_size_limit(limit)


def _read_records(
    lines: list[str], header: list[str]
) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """:func:`_read_lines` on the file's physical lines."""
    width = len(header)
    good, good_rows, bad = [], [], []
    number, start = 1, 1  # the record's number; the index of the line it starts on
    while start < len(lines):
        reader = csv.reader(itertools.islice(lines, start, None))
        restart = None
        done = 0  # lines consumed by the records read so far
        try:
            for row in reader:
                first, end = start + done, start + reader.line_num
                done = reader.line_num
                if not row:
                    continue
                number += 1
                at_end = end == len(lines)
                if (end - first > 1 or at_end) and _stray_quote(lines[first:end], width, at_end):
                    line = lines[first].rstrip("\r\n")
                    bad.append(
                        (
                            number,
                            f"第{first + 1}行引号未闭合，其后各行已单独读取 (line {first + 1}: "
                            "a quote opened here is not closed before the next records; "
                            f"the lines after it were read on their own): {line}",
                        )
                    )
                    restart = first + 1
                    break
                if len(row) > width:
                    bad.append(
                        (number, "行字段数多于表头 (more fields than the header): " + ",".join(row))
                    )
                else:
                    good.append(row + [""] * (width - len(row)))
                    good_rows.append(number)
        except csv.Error as err:
            line = start + reader.line_num
            raise ContractError(f"not a readable CSV (line {line}: {err})") from None
        if restart is None:
            break
        start = restart
    frame = pd.DataFrame(good, columns=header, index=pd.Index(good_rows), dtype="str")
    return frame, bad


def _stray_quote(span: list[str], width: int, at_end: bool) -> bool:
    """Whether a record read over the lines ``span`` is a stray quote's work (see above)."""
    if any(_record_like(line, width) for line in span[1:]):
        return True
    if at_end:  # runs to the end of the file: was the quote ever closed?
        try:
            list(csv.reader(span, strict=True))
        except csv.Error:
            return True
    return False


def _as_text(series: pd.Series) -> pd.Series:
    """Render a typed column (XLSX, Parquet) as the strings a CSV would have held."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("").astype(object)
    if pd.api.types.is_bool_dtype(series):
        return series.map({True: "true", False: "false"}).fillna("").astype(object)
    if pd.api.types.is_integer_dtype(series):
        return series.astype("string").fillna("").astype(object)
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(values) & (values == np.round(values))
        out = series.astype("string").fillna("").astype(object)
        out[whole] = pd.Series(values[whole].astype(np.int64), index=series.index[whole]).astype(
            str
        )
        return out
    return series.map(_cell_text).astype(object)


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "isoformat") and hasattr(value, "year"):  # datetime.date / datetime
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_raw(path: Path) -> tuple[pd.DataFrame, str | None, list[tuple[int, str]]]:
    """Read a table file into string columns indexed by source row (header = row 1).

    Returns the frame, the detected encoding (CSV only) and the malformed lines.

    Raises:
        ContractError: an empty file, a file with no header row, binary or undecodable
            bytes in a CSV, or an XLSX/Parquet file its library cannot open. The message
            says what is wrong, not which file (the caller adds the path).
    """
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ContractError(f"unsupported format {suffix} (use {', '.join(FORMATS)})")
    if path.stat().st_size == 0:
        raise ContractError(f"empty file (0 bytes); {EXPECTED} with a header row")
    if suffix == ".csv":
        text, encoding = decode_bytes(path.read_bytes())
        if not text.strip(" \t\r\n\x0b\x0c\x1a\ufeff"):
            raise ContractError("no header row (the file holds only blank lines)")
        frame, bad = _read_csv_text(text)
        return frame, encoding, bad
    try:
        if suffix == ".xlsx":
            frame = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")
        else:
            frame = pd.read_parquet(path)
    except _UNREADABLE as err:
        raise ContractError(_unreadable(path, err)) from None
    if not len(frame.columns):
        raise ContractError("no header row (the first sheet is empty)")
    frame = frame.apply(_as_text)
    frame.columns = [str(c) for c in frame.columns]
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return frame, None, []


#: Columns the loader derives when the file lacks them (not absent for indicators).
_FILLED_WHEN_ABSENT = {("inspections", "found_problem")}
#: Columns every attributed table shares: a sheet holding only these is not this table.
_SHARED_COLUMNS = {"uscc", "inspector_id"}


#: From here on not every integer is exact in the IEEE double that Excel stores every
#: number as (15 significant digits): an 18-digit code in a number cell has lost digits.
_EXACT = 2**53


def number_cells(table: Table, frame: pd.DataFrame) -> pd.Series:
    """Detail by row for code cells (统一社会信用代码) that Excel holds as numbers, else ''.

    Excel keeps numbers as doubles, so ``912205029673566727`` typed into a number cell
    comes back as ``912205029673566720`` — a well-formed code with the last digits
    changed, which would stay in the register as a "check-digit failure" and strand its
    events as unregistered. Such a cell is never turned into a code: its row is
    quarantined naming the fix. Rows, not the file, because a workbook often mixes text
    cells with a few typed as numbers; a register made only of them is still refused,
    in one line, as having no usable row. A whole number that is exact keeps its digits:
    below 2⁵³ (too short for a code, it fails on length like any short code), or one no
    double could hold (a tool, not Excel, wrote every digit).
    """
    columns = {normalise_label(h): c for c in table.columns if c.kind == "uscc" for h in c.headers}
    detail = pd.Series("", index=frame.index, dtype=object)
    for header in frame.columns:
        col = columns.get(normalise_label(str(header).lstrip("\ufeff")))
        if col is None:
            continue
        values = frame[header]
        number = values.map(
            lambda v: (
                isinstance(v, (int, float, np.integer, np.floating))
                and not isinstance(v, (bool, np.bool_))
                and not (isinstance(v, float) and np.isnan(v))
                and (not float(v).is_integer() or abs(v) >= _EXACT and int(float(v)) == int(v))
            )
        ).astype(bool)
        if number.any():
            text = (
                f"{col.name} ({col.zh}) 在Excel中存为数值 "
                + values[number].map(lambda v: f"{float(v):.15G}")
                + "，后几位已丢失 (stored as a number in Excel: digits lost; format the "
                "column as text and export again)"
            )
            detail[number] = (detail[number] + "; ").where(detail[number] != "", "") + text
    return detail


def read_workbook(path: Path, table: Table) -> tuple[pd.DataFrame, list[dict], pd.Series]:
    """Read every sheet of an XLSX workbook that holds ``table``; report every sheet.

    Exports split a long table over several sheets (one per year, per county, or at
    Excel's row limit): each sheet whose headers give all the table's required columns is
    read, with its own headers, and the rows are stacked — nothing is lost. A sheet with
    none of the table's own columns (a cover or notes sheet) is left out and reported; a
    sheet with some of them but not all is refused, naming the sheet, since it looks like
    part of the table and cannot be read as it. With several sheets used, rows are
    numbered ``<sheet>!<row>`` (the quarantine's ``source_row``).

    Returns:
        The rows (string columns, canonical names when several sheets are used), one
        entry per sheet (``sheet``, ``rows``, ``used``, ``why``) and, by row, the
        :func:`number_cells` detail of codes Excel held as numbers ('' for none).

    Raises:
        ContractError: every sheet empty, a half-matching sheet, or several sheets and
            none of them the table (naming each sheet and its headers).
    """
    try:
        book = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
    except _UNREADABLE as err:
        raise ContractError(_unreadable(path, err)) from None
    accepted = {normalise_label(h): c.name for c in table.columns for h in c.headers}
    required = {c.name for c in table.required}
    own = required - _SHARED_COLUMNS
    report: list[dict] = []
    used: list[tuple[str, pd.DataFrame]] = []
    others: list[tuple[str, pd.DataFrame]] = []
    for name, frame in book.items():
        headers = [str(c) for c in frame.columns]
        if not headers:
            report.append({"sheet": name, "rows": 0, "used": False, "why": "empty sheet"})
            continue
        found = {accepted.get(normalise_label(h.lstrip("\ufeff"))) for h in headers} - {None}
        missing = sorted(required - found)
        if not missing:
            report.append({"sheet": name, "rows": len(frame), "used": True, "why": ""})
            used.append((name, frame))
        elif found & own:
            wanted = ", ".join(f"{c} ({table.column(c).zh})" for c in missing)
            raise ContractError(
                f"sheet {name!r} holds some of table {table.name}'s columns but lacks {wanted} "
                f"(headers: {', '.join(headers)}); sheets: {', '.join(map(repr, book))} — "
                "give each sheet the table's headers, or move other data out of the workbook"
            )
        else:
            report.append(
                {
                    "sheet": name,
                    "rows": len(frame),
                    "used": False,
                    "why": f"not table {table.name}: headers {', '.join(headers[:8])}"
                    + (" …" if len(headers) > 8 else ""),
                }
            )
            others.append((name, frame))
    if not used:
        if not others:
            raise ContractError("no header row (every sheet is empty)")
        if len(others) > 1:
            listing = "; ".join(f"{n!r}: {', '.join(map(str, f.columns[:8]))}" for n, f in others)
            raise ContractError(
                f"no sheet has table {table.name}'s required columns "
                f"({', '.join(sorted(required))}); sheets: {listing}"
            )
        used = others  # one sheet: read it, and let the header check name what is missing
        report = [dict(r, used=r["sheet"] == others[0][0], why="") for r in report]
    frames, numbers = [], []
    for name, frame in used:
        numbers.append(number_cells(table, frame).to_numpy())
        frame = frame.apply(_as_text)
        frame.columns = [str(c) for c in frame.columns]
        if len(used) > 1:
            mapping, _ = map_headers(table, list(frame.columns))
            frame = frame.rename(columns=mapping)
            frame.index = pd.Index([f"{name}!{r}" for r in range(2, len(frame) + 2)])
        else:
            frame.index = pd.RangeIndex(2, len(frame) + 2)
        frames.append(frame)
    raw = pd.concat(frames) if len(frames) > 1 else frames[0]
    if len(frames) > 1:  # a column only some sheets have is empty in the others
        raw = raw.astype(object).where(raw.notna(), "")
    return raw, report, pd.Series(np.concatenate(numbers), index=raw.index, dtype=object)


def _unreadable(path: Path, err: Exception) -> str:
    """Why an XLSX or Parquet file cannot be opened, with what it seems to be instead."""
    kind, own = {".xlsx": ("XLSX workbook", b"PK"), ".parquet": ("Parquet file", b"PAR1")}[
        path.suffix.lower()
    ]
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
    found = binary_content(head)
    if found is None:
        hint = "; it holds text — a CSV? name it .csv"
    elif head.startswith(own) or found == "binary content":
        hint = ""  # the right kind of file damaged or truncated, or nothing recognisable
    else:
        hint = f"; it is {found}"
    detail = (str(err).splitlines() or [type(err).__name__])[0]
    detail = re.sub(r"^Could not open Parquet input source '.*?': ", "", detail)
    return f"not a readable {kind} ({detail}){hint}; {EXPECTED}"


def map_headers(table: Table, headers: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map file headers to canonical column names; return the mapping and the extras.

    Raises:
        ContractError: naming the table, the missing column (English and Chinese) and
            the headers that were found; or two headers claiming one column.
    """
    accepted = {normalise_label(h): col.name for col in table.columns for h in col.headers}
    mapping: dict[str, str] = {}
    extras: list[str] = []
    for header in headers:
        canonical = accepted.get(normalise_label(header.lstrip("\ufeff")))
        if canonical is None:
            extras.append(header)
        elif canonical in mapping.values():
            first = next(h for h, c in mapping.items() if c == canonical)
            raise ContractError(
                f"table {table.name} ({table.zh}): headers {first!r} and {header!r} both "
                f"name column {canonical}"
            )
        else:
            mapping[header] = canonical
    missing = [c for c in table.required if c.name not in mapping.values()]
    if missing:
        wanted = ", ".join(f"{c.name} ({c.zh})" for c in missing)
        found = ", ".join(headers) or "(none)"
        raise ContractError(
            f"table {table.name} ({table.zh}) is missing required column(s) {wanted}; "
            f"headers found: {found}"
        )
    return mapping, extras


# ------------------------------------------------------------------------ value parsers


def parse_dates(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse dates in the accepted formats; return dates and a mask of unreadable ones.

    Accepts ``YYYY-MM-DD``, ``YYYY/MM/DD``, ``YYYY.MM.DD``, ``YYYY年MM月DD日`` (optionally
    followed by a time), ``YYYYMMDD`` and Excel serial day numbers. An impossible date
    such as 2023-02-30 is unreadable, never rolled over.
    """
    empty = (text == "").to_numpy()
    dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    todo = dates.isna().to_numpy() & ~empty
    if todo.any():
        rest = text[todo]
        parts = rest.str.extract(_DATE_PARTS)
        compact = rest.str.extract(r"^(\d{4})(\d{2})(\d{2})$")
        parts = parts.fillna(compact)
        composed = parts[0] + parts[1].str.zfill(2) + parts[2].str.zfill(2)
        parsed = pd.to_datetime(composed, format="%Y%m%d", errors="coerce")
        serial = rest.str.fullmatch(r"\d{1,5}(?:\.0+)?").fillna(False).astype(bool)
        if serial.any():
            days = pd.to_numeric(rest[serial], errors="coerce")
            parsed[serial] = _EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
        dates[todo] = parsed
    dates = dates.astype("datetime64[s]")
    invalid = dates.isna().to_numpy() & ~empty
    return dates, invalid


def parse_amounts(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse numbers written with thousands separators or currency signs."""
    cleaned = text.str.replace("[,，¥￥元 \t\u00a0\u3000]", "", regex=True)
    values = pd.to_numeric(cleaned.replace("", np.nan), errors="coerce").astype("float64")
    invalid = values.isna().to_numpy() & (cleaned != "").to_numpy()
    return values, invalid


def parse_bools(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse 是/否, true/false, 1/0 and similar into a nullable boolean column."""
    low = text.str.strip().str.lower()
    values = pd.Series(pd.NA, index=text.index, dtype="boolean")
    values[low.isin(_TRUE)] = True
    values[low.isin(_FALSE)] = False
    invalid = (values.isna() & (low != "")).to_numpy()
    return values, invalid


def parse_industry(text: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """Parse GB/T 4754-2017 codes: section letter and/or 2–4 digits.

    Returns ``industry_code`` (normalised: letter + digits), ``industry_section`` and
    ``industry_division`` (2 digits), and a mask of codes that are not GB/T 4754.
    """
    norm = text.str.upper().str.replace(uscc.WHITESPACE, "", regex=True)
    parts = norm.str.extract(r"^([A-T])?(\d{2,4})?$")
    letter, digits = parts[0].fillna(""), parts[1].fillna("")
    division = pd.to_numeric(digits.str[:2].replace("", np.nan), errors="coerce")
    sections = {d: contract.section_of_division(int(d)) for d in division.dropna().unique()}
    derived = division.map(sections).fillna("").astype("str")
    section = letter.where(letter != "", derived)
    bad = (
        (letter == "") & (digits == "")
        | (digits != "") & (derived == "")
        | (letter != "") & (derived != "") & (letter != derived)
    ).to_numpy() & (norm != "").to_numpy()
    frame = pd.DataFrame(
        {
            "industry_code": (section + digits).astype(object),
            "industry_section": section.astype(object),
            "industry_division": digits.str[:2].astype(object),
        },
        index=text.index,
    )
    return frame, bad


def parse_regions(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Check GB/T 2260 codes: six digits whose first two name a province.

    Normalised as a 统一社会信用代码 is (:func:`uscc.normalise_series`): full-width digits
    ``２２０５０２`` and Excel's leading ``'`` are how the same code is typed, not errors.
    """
    norm = uscc.normalise_series(text)
    ok = norm.str.fullmatch(r"\d{6}").fillna(False).astype(bool) & norm.str[:2].isin(
        contract.PROVINCE_CODES
    )
    return norm, (~ok & (norm != "")).to_numpy()


# --------------------------------------------------------------------------- validation


#: A check's detail: one text for all rows, a series by row, or a function of the failing
#: rows' mask returning the series for those rows (so nothing is formatted for good rows).
Detail = str | pd.Series | Callable[[np.ndarray], pd.Series]


class _Checks:
    """Collects failing checks per row; a row's reason is its first failing check."""

    def __init__(self, index: pd.Index):
        self.index = index
        self.failures: list[tuple[str, np.ndarray, pd.Series | str]] = []

    def add(self, reason: str, mask: np.ndarray, detail: Detail) -> None:
        """Record a failing check; a callable detail is only evaluated on failing rows."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            if callable(detail):
                detail = detail(mask)
            self.failures.append((reason, mask, detail))

    def failed(self) -> np.ndarray:
        out = np.zeros(len(self.index), dtype=bool)
        for _, mask, _ in self.failures:
            out |= mask
        return out

    def describe(self, rows: np.ndarray) -> pd.DataFrame:
        """Reason and detail for the failing rows ``rows`` (positions)."""
        reason = pd.Series("", index=self.index[rows], dtype=object)
        rank = pd.Series(len(REASON_ORDER), index=self.index[rows])
        details: dict[object, list[str]] = {i: [] for i in self.index[rows]}
        for name, mask, detail in self.failures:
            hit = mask[rows]
            labels = self.index[rows][hit]
            better = rank[labels] > REASON_ORDER[name]
            reason[labels[better.to_numpy()]] = name
            rank[labels[better.to_numpy()]] = REASON_ORDER[name]
            texts = detail[labels] if isinstance(detail, pd.Series) else [detail] * len(labels)
            for label, text in zip(labels, texts, strict=True):
                details[label].append(text)
        return pd.DataFrame(
            {REASON_COLUMN: reason, DETAIL_COLUMN: ["; ".join(details[i]) for i in reason.index]},
            index=reason.index,
        )


def _quote(col: Column, values: pd.Series, suffix: str = "") -> Detail:
    """Detail naming the column and the value as written, for the failing rows only."""
    return lambda mask: col.name + "=" + values[mask].astype(object).map(repr) + suffix


def validate_table(
    table: Table,
    raw: pd.DataFrame,
    snapshot: pd.Timestamp,
    register: pa.Array | CodeSet | None = None,
    inspector_ids: set[str] | None = None,
    keys_seen: KeyMemory | None = None,
    numbers: pd.Series | None = None,
    held: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Check one table's raw string frame (canonical headers) against the contract.

    Args:
        table: the contract's table.
        raw: string columns named canonically (extra columns allowed), indexed by source row.
        snapshot: data snapshot date (数据基准日); later dates are quarantined.
        register: the register's normalised codes (for attribution), None for enterprises.
        inspector_ids: known inspector ids (for ``conflicts``), None to skip that check.
        keys_seen: keys accepted in earlier batches of the same file (read in batches),
            so that a key repeated across batches is a duplicate too.
        numbers: by row, the detail of code cells a workbook held as numbers ('' for
            none, :func:`number_cells`): those rows are ``uscc_malformed``.
        held: codes of quarantined register rows and where they are (:func:`held_codes`),
            so an event of such an enterprise says so instead of "not in the register".

    Returns:
        accepted typed frame, quarantine frame, facts (attributed rows, check-digit flags).
    """
    checks = _Checks(raw.index)
    typed: dict[str, pd.Series] = {}
    facts: dict = {}
    if numbers is not None:
        checks.add("uscc_malformed", (numbers != "").to_numpy(), numbers)
    for col in table.columns:
        if col.name not in raw.columns:
            typed[col.name] = pd.Series(None, index=raw.index, dtype=_empty_dtype(col))
            continue
        text = raw[col.name].astype("str").fillna("").str.strip()
        empty = (text == "").to_numpy()
        if col.required:
            checks.add("missing_value", empty, f"{col.name} ({col.zh}) 为空")
        if col.kind == "uscc":
            typed[col.name] = _check_uscc(table, col, text, empty, checks, register, facts, held)
        elif col.kind == "text":
            typed[col.name] = text.where(~empty, None).astype("string")
        elif col.kind == "code":
            typed[col.name] = _check_code(col, text, empty, checks)
        elif col.kind == "date":
            dates, invalid = parse_dates(text)
            checks.add("invalid_date", invalid, _quote(col, text))
            if not col.future_ok:
                late = (dates > snapshot).fillna(False).to_numpy()
                checks.add("date_after_snapshot", late, _quote(col, text, f" > {snapshot.date()}"))
            typed[col.name] = dates
        elif col.kind == "year":
            years = pd.to_numeric(text.replace("", np.nan), errors="coerce")
            bad = (years.isna() & ~empty) | (years < 1900) | (years % 1 != 0)
            checks.add("invalid_number", bad.fillna(False).to_numpy(), _quote(col, text))
            checks.add(
                "date_after_snapshot",
                (years > snapshot.year).fillna(False).to_numpy(),
                _quote(col, text, f" > {snapshot.year}"),
            )
            typed[col.name] = years.astype("Int64")
        elif col.kind == "amount":
            values, invalid = parse_amounts(text)
            checks.add("invalid_number", invalid, _quote(col, text))
            checks.add("negative_amount", (values < 0).fillna(False).to_numpy(), _quote(col, text))
            typed[col.name] = values
        elif col.kind == "bool":
            values, invalid = parse_bools(text)
            checks.add("invalid_bool", invalid, _quote(col, text))
            typed[col.name] = values
        elif col.kind == "industry":
            parts, invalid = parse_industry(text)
            checks.add("invalid_industry", invalid, _quote(col, text))
            for name in parts.columns:
                typed[name] = parts[name].where(parts[name] != "", None).astype("string")
        elif col.kind == "region":
            norm, invalid = parse_regions(text)
            checks.add("invalid_region", invalid, _quote(col, text))
            typed[col.name] = norm.where(norm != "", None).astype("string")
        else:  # pragma: no cover - contract kinds are closed
            raise AssertionError(col.kind)
    if inspector_ids is not None and "inspector_id" in typed:
        unknown = ~typed["inspector_id"].isin(inspector_ids).fillna(False).to_numpy()
        checks.add(
            "unknown_inspector",
            unknown & typed["inspector_id"].notna().to_numpy(),
            lambda m: "inspector_id=" + typed["inspector_id"][m].astype(object).map(repr),
        )
    if table.name == "enterprises":
        typed["uscc_check_ok"] = pd.Series(facts["check_ok"], index=raw.index)
    if table.name == "inspections":
        derived = typed["result"].map(contract.RESULT_FOUND_PROBLEM).astype("boolean")
        typed["found_problem"] = typed["found_problem"].fillna(derived)
    frame = pd.DataFrame(typed, index=raw.index)
    _check_keys(table, frame, checks, keys_seen)
    failed = checks.failed()
    extras = [c for c in raw.columns if c not in {col.name for col in table.columns}]
    accepted = frame.loc[~failed].join(raw.loc[~failed, extras]) if extras else frame.loc[~failed]
    quarantine = pd.DataFrame()
    if failed.any():
        rows = np.flatnonzero(failed)
        quarantine = checks.describe(rows).join(raw.iloc[rows])
        quarantine.insert(0, ROW_COLUMN, quarantine.index)
    return accepted.reset_index(drop=True), quarantine.reset_index(drop=True), facts


def _empty_dtype(col: Column) -> str:
    return {"date": "datetime64[s]", "amount": "float64", "year": "Int64", "bool": "boolean"}.get(
        col.kind, "string"
    )


def _check_uscc(table, col, text, empty, checks, register, facts, held=None) -> pd.Series:
    result = uscc.validate_codes(text)
    norm = result.normalised

    def message(mask):
        return col.name + ": " + result.message[mask]

    checks.add("uscc_malformed", ~result.well_formed & ~empty, message)
    bad_check = result.well_formed & ~result.check_ok
    if table.name == "enterprises":
        facts["check_ok"] = result.check_ok | ~result.well_formed
    elif col.name == "uscc" and register is not None:
        values = pa.array(norm)
        known = (
            register.isin(values)
            if isinstance(register, CodeSet)
            else pc.is_in(values, value_set=register).to_numpy(zero_copy_only=False)
        )
        facts["attributed"] = known
        checks.add("uscc_check_digit", bad_check & ~known, message)
        checks.add(
            "uscc_not_registered",
            result.check_ok & ~known,
            lambda mask: col.name + "=" + norm[mask] + _not_registered(norm[mask], held or {}),
        )
    return norm.where(~empty, None).astype("string")


def held_codes(register: LoadedTable) -> dict[str, str]:
    """Codes of the register's quarantined rows → where and why, for their events' detail.

    An event whose enterprise is in the file but whose register row was quarantined (an
    unknown 市场主体类型, a code Excel stored as a number) is not "missing from the
    register": saying so sent users looking for enterprises that were there. A code Excel
    damaged is also found by its first 15 digits (key ``~`` + digits), all a double keeps.
    """
    q = register.quarantine
    if q.empty or "uscc" not in q:
        return {}
    q = q[q[REASON_COLUMN] != "duplicate_uscc"]  # the first row with the code was kept
    codes = uscc.normalise_series(q["uscc"].fillna(""))
    where = (
        "名录第"
        + q[ROW_COLUMN].astype(str)
        + "行已隔离 (the enterprise's register row "
        + q[ROW_COLUMN].astype(str)
        + " was quarantined: "
        + q[REASON_COLUMN]
        + ", see quarantine/enterprises.csv)"
    )
    out: dict[str, str] = {}
    excel = q[DETAIL_COLUMN].str.contains("stored as a number in Excel", regex=False)
    for code, text, number in zip(codes, where, excel, strict=True):
        if code:
            out.setdefault(("~" + code[:15]) if number else code, text)
    return out


def _not_registered(codes: pd.Series, held: dict[str, str]) -> pd.Series:
    """Why a valid code matched no register row: its row was quarantined, or it is absent."""
    absent = " 不在市场主体名录中 (not in the register)"
    if not held:
        return pd.Series(absent, index=codes.index)
    found = codes.map(held)
    found = found.fillna(codes.str[:15].radd("~").map(held))
    return (" " + found).fillna(absent)


def _check_code(col: Column, text: pd.Series, empty: np.ndarray, checks: _Checks) -> pd.Series:
    codes = CODE_LISTS[col.codes]
    lookup = codes.lookup()
    # Normalise each distinct spelling once: a column holds a handful of them.
    canonical = {v: lookup.get(normalise_label(v)) for v in pd.unique(text.to_numpy())}
    mapped = text.map(canonical)
    unknown = mapped.isna().to_numpy() & ~empty
    if codes.strict:
        allowed = ", ".join(f"{c}/{codes.label(c)}" for c in codes.labels)
        checks.add(
            "unknown_code",
            unknown,
            _quote(col, text, f" 不在代码表 {codes.name} 中 (allowed: {allowed})"),
        )
    else:
        mapped = mapped.where(~unknown, text)
    return mapped.where(~empty, None).astype("string")


def _check_keys(
    table: Table, frame: pd.DataFrame, checks: _Checks, seen: KeyMemory | None = None
) -> None:
    """Quarantine later rows that repeat a key among rows that passed the other checks."""
    if not table.key:
        return
    ok = ~checks.failed()
    dup = np.zeros(len(frame), dtype=bool)
    dup[ok] = frame.loc[ok, list(table.key)].duplicated(keep="first").to_numpy()
    if seen is not None:
        fresh = ok & ~dup
        dup[fresh] = seen.add(frame.loc[fresh, list(table.key)])
    reason = "duplicate_uscc" if table.key == ("uscc",) else "duplicate_key"
    if not dup.any():
        return
    keys = frame.loc[dup, list(table.key)].astype(str)
    text = keys.iloc[:, 0].str.cat([keys[c] for c in keys.columns[1:]], sep="|")
    checks.add(reason, dup, ("key " + "+".join(table.key) + "=" + text).reindex(frame.index))


def _absent_columns(table: Table, mapping: dict) -> list[str]:
    """Contract columns the file does not have (and the loader does not fill in)."""
    return [
        c.name
        for c in table.columns
        if c.name not in mapping.values() and (table.name, c.name) not in _FILLED_WHEN_ABSENT
    ]


class CodeSet:
    """The register's codes, sorted once, for exact membership tests batch after batch.

    ``pc.is_in`` builds a hash table of its value set on every call: a province's register
    (10⁷ codes) would be hashed again for each of a hundred batches. Codes are 18 ASCII
    characters, so they sort as fixed-width bytes and a binary search finds them.
    """

    WIDTH = 18

    def __init__(self, codes: pa.Array | pa.ChunkedArray) -> None:
        self.codes = codes
        self.sorted: np.ndarray | None = None
        fixed = pc.and_(pc.equal(pc.utf8_length(codes), self.WIDTH), pc.string_is_ascii(codes))
        if len(codes) and pc.all(fixed).as_py():
            self.sorted = np.sort(np.array(codes.to_numpy(zero_copy_only=False), dtype="S18"))

    def isin(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """True where a value is one of the codes (missing values are not)."""
        if self.sorted is None:
            return pc.is_in(values, value_set=self.codes).to_numpy(zero_copy_only=False)
        fixed = pc.and_(pc.equal(pc.utf8_length(values), self.WIDTH), pc.string_is_ascii(values))
        fixed = fixed.fill_null(False).to_numpy(zero_copy_only=False)
        out = np.zeros(len(values), dtype=bool)
        if fixed.any():
            picked = pc.filter(values, pa.array(fixed)).to_numpy(zero_copy_only=False)
            wanted = np.array(picked, dtype="S18")
            pos = np.minimum(np.searchsorted(self.sorted, wanted), len(self.sorted) - 1)
            out[fixed] = self.sorted[pos] == wanted
        return out


class KeyMemory:
    """Keys of the rows accepted so far in a file read in batches, as 64-bit hashes.

    Eight bytes a key whatever its length (10⁷ register codes: 80 MB); two distinct keys
    share a hash with probability about n²/2⁶⁵ (3·10⁻⁶ for 10⁷ keys).
    """

    def __init__(self) -> None:
        self.hashes = np.zeros(0, dtype=np.uint64)  # sorted

    def add(self, keys: pd.DataFrame) -> np.ndarray:
        """Remember ``keys`` (distinct among themselves); True where one was seen before."""
        if not len(keys):
            return np.zeros(0, dtype=bool)
        h = pd.util.hash_pandas_object(keys, index=False).to_numpy(dtype=np.uint64)
        pos = np.searchsorted(self.hashes, h)
        known = pos < len(self.hashes)
        known[known] = self.hashes[pos[known]] == h[known]
        self.hashes = np.union1d(self.hashes, h[~known])
        return known


def _latest(name: str, frame: pd.DataFrame) -> pd.Timestamp | None:
    """The latest date among ``frame``'s columns that cannot lie in the future."""
    latest = None
    for column in TABLES[name].columns:
        if column.kind != "date" or column.future_ok or column.name not in frame:
            continue
        value = pd.to_datetime(frame[column.name], errors="coerce").max()
        if pd.notna(value) and (latest is None or value > latest):
            latest = value
    return latest


def streamable(path: Path) -> bool:
    """Whether ``path`` is read in batches: a large CSV whose start is UTF-8 text.

    Anything else (GBK, a DOS end-of-file mark, …) is read whole, as before; a file
    that turns out unreadable in batches is read again whole (:func:`load_table`).
    """
    if path.suffix.lower() != ".csv" or path.stat().st_size <= STREAM_BYTES:
        return False
    with path.open("rb") as handle:
        head = handle.read(_SNIFF)
        handle.seek(-1, 2)
        last = handle.read(1)
    if binary_content(head) is not None or last == b"\x1a":
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # not merely a character cut at the sniff's end
            return False
    return True


def _csv_batches(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    """String frames of about ``rows`` rows each, indexed by source row (header = 1).

    Raises:
        pyarrow.ArrowInvalid: a batch whose values swallowed records (a stray quote): the
            caller reads the file whole, where the line-by-line reader recovers them.
    """
    with path.open("rb") as handle:
        first = handle.readline().decode("utf-8-sig").rstrip("\r\n")
    header = next(csv.reader([first]), [])
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=32 << 20),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    start, pending, held = 2, [], 0
    for batch in reader:
        if _swallowed(pa.Table.from_batches([batch]), len(header)):  # a stray quote
            raise pa.ArrowInvalid(f"{path.name}: a quoted value swallowed later records")
        pending.append(batch)
        held += batch.num_rows
        if held >= rows:
            frame = pa.Table.from_batches(pending).to_pandas()
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            pending, held = [], 0
            yield frame
    if pending or start == 2:
        frame = (
            pa.Table.from_batches(pending).to_pandas()
            if pending
            else pd.DataFrame({h: pd.Series(dtype="str") for h in header})
        )
        frame.index = pd.RangeIndex(start, start + len(frame))
        yield frame


def _strings(series: pd.Series) -> pa.Array:
    """The non-missing values of a text column as one Arrow string array."""
    values = pa.array(series.dropna().astype("str"))
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.string())


def stream_table(
    path: Path,
    table: Table,
    snapshot: pd.Timestamp,
    staged: Path,
    register: pa.Array | None = None,
    inspector_ids: set[str] | None = None,
    rows: int = BATCH_ROWS,
    held: dict[str, str] | None = None,
) -> LoadedTable:
    """Read, validate and write one large CSV table in batches of ``rows`` rows.

    The accepted rows go to ``staged`` (Parquet, one row group per batch) as they are
    validated; the quarantine, the counts and the facts the quality report needs add up
    over the batches (keys are checked across batches). Same checks, reasons and rows
    as :func:`load_table`.

    Raises:
        ContractError: a missing required column; ``pyarrow.ArrowInvalid`` when the file
            cannot be read in batches (the caller reads it whole instead).
    """
    writer: pq.ParquetWriter | None = None
    keys = KeyMemory() if table.key else None
    mapping: dict[str, str] | None = None
    extras: list[str] = []
    quarantines, codes, active, check_failures = [], [], [], []
    rows_read = accepted_rows = attributed = 0
    latest = None
    has_attribution = False
    empty = pd.DataFrame()
    try:
        for raw in _csv_batches(path, rows):
            if mapping is None:
                mapping, extras = map_headers(table, list(raw.columns))
            raw = raw.rename(columns=mapping)
            accepted, quarantine, facts = validate_table(
                table, raw, snapshot, register, inspector_ids, keys, held=held
            )
            rows_read += len(raw)
            accepted_rows += len(accepted)
            if len(quarantine):
                quarantines.append(quarantine)
            if "attributed" in facts:
                has_attribution = True
                attributed += int(facts["attributed"].sum())
            if table.name == "enterprises":
                flagged = ~accepted["uscc_check_ok"].to_numpy(dtype=bool)
                check_failures += accepted.loc[flagged, "uscc"].astype(str).tolist()
                codes.append(_strings(accepted["uscc"]))
                on = accepted["status"] == "active"
                active.append(_strings(accepted.loc[on, "uscc"]))
            elif "uscc" in accepted:
                codes.append(pc.unique(_strings(accepted["uscc"])))
            value = _latest(table.name, accepted)
            if value is not None and (latest is None or value > latest):
                latest = value
            arrow = pa.Table.from_pandas(accepted, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(staged, arrow.schema)
            writer.write_table(arrow.cast(writer.schema))
            empty = accepted.iloc[:0]
            del raw, accepted, arrow
    except BaseException:
        if writer is not None:
            writer.close()
        staged.unlink(missing_ok=True)
        raise
    writer.close()
    with path.open("rb") as handle:
        encoding = "utf-8-sig" if handle.read(3) == b"\xef\xbb\xbf" else "utf-8"
    kept = pa.concat_arrays(codes) if codes else pa.array([], type=pa.string())
    loaded = LoadedTable(
        name=table.name,
        path=path,
        file_format="csv",
        encoding=encoding,
        accepted=empty,
        quarantine=pd.concat(quarantines, ignore_index=True) if quarantines else pd.DataFrame(),
        rows_read=rows_read,
        attributed=attributed if has_attribution else None,
        extra_columns=extras,
        check_digit_failures=check_failures,
        absent_columns=_absent_columns(table, mapping),
        staged=staged,
        accepted_rows=accepted_rows,
        kept_codes=kept if table.name == "enterprises" else pc.unique(kept),
        active_codes=pa.concat_arrays(active) if active else None,
        latest=latest,
    )
    return loaded


# --------------------------------------------------------------------------- the folder


def load_table(
    path: Path,
    table: Table,
    snapshot: pd.Timestamp,
    register: pa.Array | None = None,
    inspector_ids: set[str] | None = None,
    held: dict[str, str] | None = None,
) -> LoadedTable:
    """Read and validate one table file (every sheet of a workbook that holds the table)."""
    sheets: list[dict] = []
    numbers = None
    if path.suffix.lower() == ".xlsx" and path.stat().st_size:
        (raw, sheets, numbers), encoding, bad_lines = read_workbook(path, table), None, []
    else:
        raw, encoding, bad_lines = read_raw(path)
    mapping, extras = map_headers(table, list(raw.columns))
    raw = raw.rename(columns=mapping)
    accepted, quarantine, facts = validate_table(
        table, raw, snapshot, register, inspector_ids, numbers=numbers, held=held
    )
    if bad_lines:
        lines = pd.DataFrame(
            {
                ROW_COLUMN: [n for n, _ in bad_lines],
                REASON_COLUMN: MALFORMED_LINE,
                DETAIL_COLUMN: [t for _, t in bad_lines],
            }
        )
        quarantine = pd.concat([quarantine, lines], ignore_index=True).sort_values(
            ROW_COLUMN, kind="stable", ignore_index=True
        )
    loaded = LoadedTable(
        name=table.name,
        path=path,
        file_format=path.suffix.lower().lstrip("."),
        encoding=encoding,
        accepted=accepted,
        quarantine=quarantine,
        rows_read=len(raw) + len(bad_lines),
        extra_columns=extras,
        absent_columns=_absent_columns(table, mapping),
        sheets=sheets,
    )
    if "attributed" in facts:
        loaded.attributed = int(facts["attributed"].sum())
    if table.name == "enterprises":
        flagged = ~accepted["uscc_check_ok"].to_numpy(dtype=bool)
        loaded.check_digit_failures = accepted.loc[flagged, "uscc"].astype(str).tolist()
    return loaded


def load_folder(
    folder: str | Path, snapshot: str | pd.Timestamp, stage: Path | None = None
) -> dict[str, LoadedTable]:
    """Load every contract table found in ``folder`` as of ``snapshot``.

    With ``stage`` (a folder), large UTF-8 CSV files (:func:`streamable`) are read in
    batches and their accepted rows written there as ``<table>.parquet``
    (``LoadedTable.staged``) instead of held in memory.

    ``enterprises`` is loaded first (it is what event rows are attributed to), then
    ``inspectors`` (for ``conflicts``), then the rest. Missing event tables are simply
    absent from the result; the quality report names them.

    Raises:
        ContractError: when the folder or ``enterprises`` is missing, when the register
            has no row or no row that passes the checks (nothing could be graded or
            attributed), or a file cannot be read as its table (empty, binary,
            undecodable, missing required column, …). The message starts with the path.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ContractError(f"data folder {folder} does not exist")
    snapshot = pd.Timestamp(snapshot)
    order = ["enterprises", "inspectors"] + [
        t for t in TABLES if t not in ("enterprises", "inspectors")
    ]
    loaded: dict[str, LoadedTable] = {}
    register: pa.Array | None = None
    inspector_ids: set[str] | None = None
    held: dict[str, str] = {}
    for name in order:
        table = TABLES[name]
        path = find_table_file(folder, table)
        if path is None:
            if name == "enterprises":
                raise ContractError(
                    f"{folder}: the register enterprises (市场主体名录) is required "
                    f"(enterprises.csv, .xlsx or .parquet)"
                )
            continue
        log.info("loading %s from %s", name, path.name)
        ids = inspector_ids if name == "conflicts" else None
        result = None
        try:
            if stage is not None and streamable(path):
                try:
                    result = stream_table(
                        path,
                        table,
                        snapshot,
                        Path(stage) / f"{name}.parquet",
                        register,
                        ids,
                        held=held,
                    )
                except pa.ArrowInvalid as err:  # not readable in batches: read it whole
                    log.info("%s: read whole (%s)", path.name, str(err).splitlines()[0])
            if result is None:
                result = load_table(path, table, snapshot, register, ids, held)
        except ContractError as err:
            raise ContractError(f"{path}: {err}") from err
        loaded[name] = result
        if name == "enterprises":
            _check_register(result)
            held = held_codes(result)
            register = result.codes()
            if stage is not None:  # many batches may test membership: sort the codes once
                register = CodeSet(register)
        elif name == "inspectors":
            frame = (
                result.accepted
                if result.staged is None
                else pd.read_parquet(result.staged, columns=["inspector_id"])
            )
            inspector_ids = set(frame["inspector_id"].dropna())
    return loaded


def _check_register(result: LoadedTable) -> None:
    """Refuse a register with no usable enterprise: every later table attaches to it."""
    if result.rows_read == 0:
        raise ContractError(
            f"{result.path}: the register (市场主体名录) has a header but no rows; "
            "expected one row per enterprise"
        )
    if result.n_accepted == 0:
        counts = ", ".join(f"{r} {n:,}" for r, n in result.reasons.items())
        first = result.quarantine.iloc[0]
        detail = " ".join(str(first[DETAIL_COLUMN]).split("; ")[0].split())[:160]
        raise ContractError(
            f"{result.path}: no enterprise passed the checks — all {result.rows_read:,} rows "
            f"quarantined ({counts}); first, row {first[ROW_COLUMN]}: {detail}"
        )


def unknown_files(folder: str | Path) -> list[str]:
    """Files in ``folder`` that are no contract table (listed, never read)."""
    stems = {s for t in TABLES.values() for s in (t.name, t.zh)}
    return sorted(
        p.name
        for p in Path(folder).iterdir()
        if p.is_file() and not (p.suffix.lower() in FORMATS and p.stem in stems)
    )
