"""Write the city: clean contract files, or the same content the way bureau exports look.

Deterministic to the byte: CSV through pyarrow or pandas with fixed formatting, Parquet
without pandas metadata, XLSX with fixed document properties and zip timestamps.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from workbench import contract

from .timeline import child_rng

FIXED_TIME = dt.datetime(2000, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

#: How each table travels in a messy export: format, encoding, Chinese headers (zh), Chinese
#: labels, date format and the share of untidy uscc values (noise).
MESSY: dict[str, dict] = {
    "enterprises": {"fmt": "csv", "encoding": "utf-8", "zh": True, "labels": True},
    "penalties": {
        "fmt": "csv",
        "encoding": "gbk",
        "zh": True,
        "labels": True,
        "date": "%Y/%m/%d",
        "noise": 0.04,
    },
    "complaints": {
        "fmt": "csv",
        "encoding": "utf-8-sig",
        "zh": True,
        "labels": True,
        "date": "%Y%m%d",
        "noise": 0.04,
    },
    "inspections": {
        "fmt": "csv",
        "encoding": "gb18030",
        "zh": False,
        "labels": True,
        "noise": 0.03,
    },
    "judicial": {
        "fmt": "csv",
        "encoding": "gbk",
        "zh": True,
        "labels": True,
        "date": "%Y/%m/%d",
        "noise": 0.03,
    },
    "changes": {"fmt": "csv", "encoding": "utf-8", "zh": False, "labels": True, "noise": 0.03},
    "abnormal_list": {
        "fmt": "csv",
        "encoding": "utf-8-sig",
        "zh": True,
        "labels": True,
        "noise": 0.02,
    },
    "inspectors": {"fmt": "xlsx", "zh": True, "labels": True},
    "licenses": {"fmt": "parquet"},
}

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def write_parquet(table: pa.Table, path: Path) -> None:
    """Parquet without pandas metadata, zstd-compressed, one row group per 1 M rows."""
    pq.write_table(
        table.replace_schema_metadata(None), path, compression="zstd", row_group_size=1 << 20
    )


def write_csv(table: pa.Table, path: Path) -> None:
    """UTF-8 CSV, header row, ISO dates, empty cells for nulls."""
    pacsv.write_csv(table, path, pacsv.WriteOptions(include_header=True, quoting_style="needed"))


def write_clean(table_name: str, table: pa.Table, folder: Path) -> str:
    """Write one table in the canonical form; return the file name."""
    path = folder / f"{table_name}.csv"
    write_csv(table, path)
    return path.name


def _noisy_codes(codes: pd.Series, rng: np.random.Generator, share: float) -> pd.Series:
    """Lower-case, pad with spaces or make digits full-width: all normalise back to the code."""
    pick = np.flatnonzero(rng.random(len(codes)) < share)
    if not len(pick):
        return codes
    kind = rng.integers(0, 4, len(pick))
    out = codes.to_numpy(dtype=object).copy()
    for i, k in zip(pick, kind, strict=True):  # a few percent of rows only
        code = out[i]
        out[i] = (
            code.lower()
            if k == 0
            else f" {code} "
            if k == 1
            else code.translate(_FULL_WIDTH)
            if k == 2
            else code + "\u3000"
        )
    return pd.Series(out, index=codes.index)


def _messy_frame(name: str, table: pa.Table, spec: dict, rng: np.random.Generator) -> pd.DataFrame:
    spec_t = contract.TABLES[name]
    cols = {}
    for col in spec_t.columns:
        if col.name not in table.column_names:
            continue
        arr = table.column(col.name)
        if col.kind == "date":
            fmt = spec.get("date", "%Y-%m-%d")
            s = pc.strftime(arr.cast(pa.timestamp("s")), format=fmt).to_pandas(types_mapper=None)
            cols[col.name] = s.astype(object).where(s.notna(), "")
        elif col.kind == "code" and spec.get("labels"):
            cl = contract.CODE_LISTS[col.codes]
            mapping = {code: cl.label(code) for code in cl.labels}
            s = arr.to_pandas().astype(object)
            cols[col.name] = s.map(lambda v, m=mapping: m.get(v, v) if isinstance(v, str) else "")
        elif col.kind == "bool" and spec.get("labels"):
            s = arr.to_pandas().astype(object)
            cols[col.name] = s.map({True: "是", False: "否"}).where(s.notna(), "")
        elif col.kind == "uscc" and spec.get("noise"):
            cols[col.name] = _noisy_codes(arr.to_pandas().astype(object), rng, spec["noise"])
        else:
            s = arr.to_pandas()
            cols[col.name] = (
                s.astype(object).where(s.notna(), "")
                if s.dtype == object or str(s.dtype) in ("str", "string")
                else s
            )
    df = pd.DataFrame(cols)
    if spec.get("zh"):
        df.columns = [spec_t.column(c).zh for c in df.columns]
    return df


def write_messy(table_name: str, table: pa.Table, folder: Path, seed: int) -> str:
    """Write one table the way a bureau export would carry it; return the file name."""
    spec = MESSY.get(table_name)
    if spec is None:
        return write_clean(table_name, table, folder)
    if spec["fmt"] == "parquet":
        path = folder / f"{table_name}.parquet"
        write_parquet(table, path)
        return path.name
    rng = child_rng(seed, f"messy:{table_name}")
    df = _messy_frame(table_name, table, spec, rng)
    if spec["fmt"] == "xlsx":
        path = folder / f"{table_name}.xlsx"
        write_xlsx(df, path, sheet=contract.TABLES[table_name].zh)
        return path.name
    path = folder / f"{table_name}.csv"
    text = df.to_csv(index=False, lineterminator="\r\n")
    path.write_bytes(text.encode(spec["encoding"]))
    return path.name


def write_xlsx(df: pd.DataFrame, path: Path, sheet: str = "Sheet1") -> None:
    """XLSX with every timestamp fixed, so that the same frame gives the same bytes."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append([str(c) for c in df.columns])
    for row in df.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and np.isnan(v)) else v for v in row])
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "workbench.demo.synth"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_normalise_zip(buf.getvalue()))


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite an OOXML zip with fixed entry times and fixed core-property dates."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = body.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    rf"\g<1>{stamp}\g<3>",
                    text,
                )
                body = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, body)
    return out.getvalue()
