"""Write tiny data directories for tests, in any encoding, header style and format.

Rows are given with canonical English column names (as in :mod:`graphkit.contract`); the helper
writes them as ``<table>.csv`` / ``<table>.csv.gz`` / ``<table>.parquet`` with the headers of the
chosen style. Values are written verbatim (strings stay strings, bytes are exactly what you give).

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_dir(d, minimal_tables(), encoding="gbk", header="chinese")  # doctest: +ELLIPSIS
PosixPath(...)
>>> sorted(p.name for p in d.iterdir())
['claims.csv', 'patients.csv']
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from graphkit.contract import TABLES

__all__ = ["HEADER_STYLES", "ENCODINGS", "FORMATS", "csv_bytes", "write_table", "write_dir",
           "write_raw", "minimal_tables", "full_tables", "header_names"]

HEADER_STYLES = ("english", "chinese", "nhsa")
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")
FORMATS = ("csv", "csv.gz", "parquet")

Rows = Sequence[Mapping[str, object]]


def header_names(table: str, columns: Sequence[str], header: str | Mapping[str, str]) -> list[str]:
    """Headers for ``columns`` of ``table``: a style name or an explicit {column: header} map.

    Columns unknown to the contract (extra columns) keep their own name.
    """
    t = TABLES[table]
    known = set(t.column_names)
    out = []
    for c in columns:
        if isinstance(header, Mapping):
            out.append(header.get(c, c))
        elif c in known:
            out.append(t.header_for(c, header))
        else:
            out.append(c)
    return out


def _columns(rows: Rows, columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[object]], *, encoding: str = "utf-8",
              newline: str = "\n", quote_all: bool = False) -> bytes:
    """CSV text (csv module quoting; every field quoted with ``quote_all``) encoded in
    ``encoding`` (utf-8-sig adds the BOM)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline,
                   quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    w.writerow(list(headers))
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode(encoding)


def write_raw(data_dir: str | Path, filename: str, content: str | bytes, *,
              encoding: str = "utf-8", gz: bool = False) -> Path:
    """Write ``content`` verbatim as ``data_dir/filename`` (str is encoded with ``encoding``)."""
    d = Path(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    data = content.encode(encoding) if isinstance(content, str) else content
    if gz:
        data = gzip.compress(data, mtime=0)
    p = d / filename
    p.write_bytes(data)
    return p


def write_table(data_dir: str | Path, table: str, rows: Rows, *, fmt: str = "csv",
                encoding: str = "utf-8", header: str | Mapping[str, str] = "english",
                columns: Sequence[str] | None = None, arrow_types: Mapping[str, pa.DataType] | None = None,
                filename: str | None = None, newline: str = "\n", quote_all: bool = False) -> Path:
    """Write ``rows`` of ``table`` into ``data_dir`` and return the file's path.

    Parameters
    ----------
    fmt : "csv", "csv.gz" or "parquet"
    encoding : CSV encoding (utf-8, utf-8-sig, gbk, gb18030)
    header : "english", "chinese", "nhsa" or an explicit {column: header text} map
    columns : column order (default: keys of the rows in first-seen order)
    arrow_types : Parquet only: {column: pyarrow type} for non-string columns (values must fit)
    filename : file name (default ``<table>.<fmt>``)
    newline, quote_all : CSV only: line ending ("\n" or "\r\n") and quote every field
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}")
    cols = _columns(rows, columns)
    heads = header_names(table, cols, header)
    name = filename or f"{table}.{fmt}"
    d = Path(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        arrays = []
        for c in cols:
            vals = [r.get(c) for r in rows]
            typ = (arrow_types or {}).get(c, pa.string())
            if typ == pa.string():
                vals = [None if v is None else str(v) for v in vals]
            arrays.append(pa.array(vals, type=typ))
        tab = pa.Table.from_arrays(arrays, names=heads)
        p = d / name
        pq.write_table(tab, p)
        return p
    data = csv_bytes(heads, ([r.get(c) for c in cols] for r in rows), encoding=encoding,
                     newline=newline, quote_all=quote_all)
    return write_raw(d, name, data, gz=fmt == "csv.gz")


def write_dir(data_dir: str | Path, tables: Mapping[str, Rows], **kw) -> Path:
    """Write every table of ``tables`` with the same options (see :func:`write_table`)."""
    for t, rows in tables.items():
        write_table(data_dir, t, rows, **kw)
    return Path(data_dir)


def minimal_tables() -> dict[str, list[dict]]:
    """Two patients, two valid claims: the smallest directory that loads."""
    return {
        "patients": [
            {"patient_id": "0000000000000001", "name": "张三", "gender": "M"},
            {"patient_id": "0000000000000002", "name": "李四", "gender": "F"},
        ],
        "claims": [
            {"claim_id": "S1", "patient_id": "0000000000000001", "facility_id": "H1",
             "claim_type": "outpatient", "settle_time": "2024-03-01 08:00:00", "total_amount": "10.5"},
            {"claim_id": "S2", "patient_id": "0000000000000002", "facility_id": "P1",
             "claim_type": "pharmacy", "settle_time": "2024-03-02 09:30:00", "total_amount": "20"},
        ],
    }


def full_tables() -> dict[str, list[dict]]:
    """Every table of the contract, all rows valid (a few rows each)."""
    return {
        "patients": [
            {"patient_id": "0000000000000001", "name": "张三", "id_number": "11010119800101001X",
             "gender": "男", "birth_date": "1980-01-01", "region": "110101", "death_date": "",
             "phone": "13800000001", "address": "北京市东城区一号"},
            {"patient_id": "0000000000000002", "name": "李四", "id_number": "110101198502020022",
             "gender": "女", "birth_date": "1985/2/2", "region": "110101", "death_date": "2024-02-01",
             "phone": "13800000001", "address": "北京市东城区一号"},
            {"patient_id": "0000000000000003", "name": "王五", "id_number": "",
             "gender": "1", "birth_date": "19900303", "region": "110102", "death_date": "",
             "phone": "", "address": ""},
        ],
        "cards": [
            {"card_id": "C1", "patient_id": "0000000000000001", "card_type": "01"},
            {"card_id": "C2", "patient_id": "0000000000000002", "card_type": "03"},
            {"card_id": "C3", "patient_id": "0000000000000003", "card_type": "02"},
        ],
        "institutions": [
            {"institution_id": "H1", "name": "第一医院", "level": "三级", "ownership": "公立",
             "kind": "医院", "region": "110101"},
        ],
        "pharmacies": [
            {"pharmacy_id": "P1", "name": "大药房", "region": "110101"},
        ],
        "doctors": [
            {"doctor_id": "D1", "name": "赵医生", "institution_id": "H1", "department": "内科"},
        ],
        "pharmacists": [
            {"pharmacist_id": "Y1", "name": "钱药师", "pharmacy_id": "P1"},
        ],
        "claims": [
            {"claim_id": "S1", "patient_id": "0000000000000001", "card_id": "C1", "facility_id": "H1",
             "doctor_id": "D1", "pharmacist_id": "", "claim_type": "inpatient",
             "settle_time": "2024-03-05 10:00:00", "admit_date": "2024-03-01",
             "discharge_date": "2024-03-05", "diagnosis_code": "J18.9", "total_amount": "1000.00",
             "fund_amount": "800.00", "device_id": "", "operator_phone": ""},
            {"claim_id": "S2", "patient_id": "0000000000000002", "card_id": "C2", "facility_id": "P1",
             "doctor_id": "", "pharmacist_id": "Y1", "claim_type": "pharmacy",
             "settle_time": "2024-03-06 11:00:00", "admit_date": "", "discharge_date": "",
             "diagnosis_code": "", "total_amount": "50.5", "fund_amount": "40",
             "device_id": "T1", "operator_phone": "13900000009"},
            {"claim_id": "S3", "patient_id": "0000000000000003", "card_id": "C3", "facility_id": "H1",
             "doctor_id": "D1", "pharmacist_id": "", "claim_type": "outpatient",
             "settle_time": "2024-03-07 12:00:00", "admit_date": "", "discharge_date": "",
             "diagnosis_code": "I10", "total_amount": "30", "fund_amount": "20",
             "device_id": "", "operator_phone": ""},
        ],
        "claim_items": [
            {"item_id": "I1", "claim_id": "S1", "item_code": "XA01", "item_name": "阿莫西林",
             "quantity": "2", "unit_price": "10", "amount": "20", "trace_code": "81234567890123456789"},
            {"item_id": "I2", "claim_id": "S2", "item_code": "XB02", "item_name": "胰岛素",
             "quantity": "1", "unit_price": "50.5", "amount": "50.5", "trace_code": "8123"},
            {"item_id": "I3", "claim_id": "S3", "item_code": "XC03", "item_name": "检查费",
             "quantity": "1", "unit_price": "30", "amount": "30", "trace_code": ""},
        ],
    }
