"""Load a 医保 data directory to the data contract: read, normalise, validate, reject.

``load(DATA_DIR)`` reads every table of :mod:`graphkit.contract` from CSV (any of UTF-8, UTF-8 with
BOM, GBK, GB18030; optionally gzipped) or Parquet, maps headers given in English, Chinese or as
医保信息平台 field codes, normalises values, and splits rows into accepted rows (typed pandas
tables) and rejected rows (with file, line, original values and reason). Counts are conserved:
for every table ``read == accepted + rejected``.

Fast path: pyarrow's multithreaded CSV reader. Any file it cannot map one record per physical line
(quoted newlines, malformed rows, huge fields) is re-read with Python's ``csv`` module, which
tracks exact line numbers. Both paths give the same accepted rows.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import sys
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.contract import (
    CARD_TYPE_ALIASES,
    CLAIM_TYPE_ALIASES,
    CLAIM_TYPE_WORDS,
    GENDER_ALIASES,
    REQUIRED_TABLES,
    TABLE_ORDER,
    TABLES,
    Table,
    normalise_header,
)
from graphkit._arrow import arrow_strings as _arrow_strings
from graphkit._arrow import isin as _in
from graphkit.facilities import facility_types
from graphkit._arrow import positions, single_chunk
from graphkit._files import file_sha256
from graphkit._frames import most_frequent
from graphkit.errors import LoadError

__all__ = ["Dataset", "load", "dataset_from_frames", "input_fingerprint", "find_table_files",
           "parse_dates", "REJECT_COLUMNS"]

REJECT_COLUMNS = ["table", "file", "line", "reason", "values"]
_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq", ".txt")
_LINE = "_line"
_EXTRA_PREFIX = "extra:"


# --------------------------------------------------------------------------------------------
# The Dataset
# --------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    """The accepted tables of a data directory, with rejects and counts.

    Attributes
    ----------
    data_dir : Path
    tables : dict of str to DataFrame
        Canonical column names; IDs and text are pandas strings (missing = NA), dates are
        datetime64, amounts float64. ``_line`` holds each row's source line (CSV) or row (Parquet).
    rejects : DataFrame
        One row per rejected input row: table, file, line, reason, values (JSON of the original).
    counts : dict
        ``{table: {"read", "accepted", "rejected", "reasons": {reason: n},
        "stand_ins": {column: n}}}`` (stand_ins: values such as 00000000000 or 不详 read as
        missing, in every row, accepted or not).
    ignored : list of str
        Files in the directory that are not tables (``truth.csv`` is always ignored).
    files : dict of str to Path
    fingerprint : str
        sha256 over the table files' names and contents.

    Examples
    --------
    >>> import graphkit as gk
    >>> ds = gk.load("data_samples/demo")
    >>> c = ds.counts["claims"]
    >>> c["read"] == c["accepted"] + c["rejected"]
    True
    """

    data_dir: Path
    tables: dict[str, pd.DataFrame]
    rejects: pd.DataFrame
    counts: dict[str, dict]
    ignored: list[str]
    files: dict[str, Path]
    fingerprint: str
    encodings: dict[str, str] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    patients = property(lambda self: self.tables["patients"])
    cards = property(lambda self: self.tables["cards"])
    institutions = property(lambda self: self.tables["institutions"])
    pharmacies = property(lambda self: self.tables["pharmacies"])
    doctors = property(lambda self: self.tables["doctors"])
    pharmacists = property(lambda self: self.tables["pharmacists"])
    claims = property(lambda self: self.tables["claims"])
    claim_items = property(lambda self: self.tables["claim_items"])

    @property
    def n_rejected(self) -> int:
        return int(len(self.rejects))

    def summary(self) -> dict:
        """The JSON-able report ``graphkit validate --json`` prints (without rejects_file)."""
        return {"tables": self.counts, "ignored": list(self.ignored)}

    def write_rejects(self, path: str | Path) -> Path:
        """Write the rejected rows as CSV (UTF-8 with BOM so Excel opens Chinese text)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        self.rejects.to_csv(p, index=False, encoding="utf-8-sig")
        return p

    def __repr__(self) -> str:
        parts = ", ".join(f"{t}={len(df):,}" for t, df in self.tables.items() if len(df))
        return f"<Dataset {self.data_dir} {parts}; rejected={self.n_rejected:,}>"


# --------------------------------------------------------------------------------------------
# Files and encodings
# --------------------------------------------------------------------------------------------


def _table_of(name: str) -> str | None:
    low = name.lower()
    for suf in _SUFFIXES:
        if low.endswith(suf):
            stem = low[: -len(suf)]
            return stem if stem in TABLES else None
    return None


def find_table_files(data_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """Map table name -> file, and list the other entries of ``data_dir`` as ignored."""
    if not data_dir.exists():
        raise LoadError(f"{data_dir}: data directory does not exist", file=str(data_dir))
    if not data_dir.is_dir():
        raise LoadError(f"{data_dir}: not a directory", file=str(data_dir))
    files: dict[str, Path] = {}
    ignored: list[str] = []
    for p in sorted(data_dir.iterdir(), key=lambda q: q.name):
        t = _table_of(p.name)
        if t is None:
            ignored.append(p.name)
            continue
        if not p.is_file():
            raise LoadError(f"{p}: not a regular file (a table file must be a file)", file=str(p))
        if t in files:
            raise LoadError(
                f"{data_dir}: two files for table {t!r}: {files[t].name} and {p.name}; keep one",
                file=str(p))
        files[t] = p
    missing = [t for t in REQUIRED_TABLES if t not in files]
    if missing:
        raise LoadError(
            f"{data_dir}: required table {missing[0]!r} not found "
            f"(expected {missing[0]}.csv, {missing[0]}.csv.gz or {missing[0]}.parquet)",
            file=str(data_dir / f"{missing[0]}.csv"))
    return files, ignored


def _read_raw(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise LoadError(f"{path}: cannot read file ({exc.__class__.__name__}: {exc})",
                        file=str(path)) from None
    return raw


def _detect_encoding(raw: bytes) -> str:
    """utf-8-sig, utf-8 or gb18030 (a superset of GBK); raise when none decodes."""
    if raw.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)  # validated too: a truncated or mixed file must not pass
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        candidates = ("utf-8", "gb18030")
    for enc in candidates:
        dec = codecs.getincrementaldecoder(enc)()
        try:
            step = 1 << 24
            for i in range(0, len(raw), step):
                dec.decode(raw[i:i + step], final=False)
            dec.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    return ""


# --------------------------------------------------------------------------------------------
# Parsing: a DataFrame of strings with positional columns c0..cN and _line
# --------------------------------------------------------------------------------------------


@dataclass
class _Parsed:
    header: list[str]
    frame: pd.DataFrame          # columns c0..c{n-1} (str, "" for empty) + _line
    bad: list[tuple[int, str, str]]  # (line, reason, raw text) rows that could not be split
    encoding: str


def _parse_csv(path: Path) -> _Parsed:
    raw = _read_raw(path)
    enc = _detect_encoding(raw)
    if not enc:
        raise LoadError(f"{path}: cannot decode the file as UTF-8, GBK or GB18030",
                        file=str(path))
    if enc == "utf-8-sig":
        data = raw[len(codecs.BOM_UTF8):]
    elif enc == "utf-8":
        data = raw
    else:
        data = raw.decode(enc).lstrip("\ufeff").encode("utf-8")
    del raw
    if not data.strip():
        raise LoadError(f"{path}: file is empty (no header row)", file=str(path))
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")  # classic Mac line endings
    first_nl = data.find(b"\n")
    header_text = (data if first_nl < 0 else data[:first_nl]).decode("utf-8").rstrip("\r")
    # a header holding tabs and no comma is a tab-separated export (Excel's 文本文件(制表符分隔))
    sep = "\t" if "\t" in header_text and "," not in header_text else ","
    try:
        header = next(csv.reader([header_text], delimiter=sep))
    except csv.Error as exc:
        raise LoadError(f"{path}: cannot parse the header row ({exc})", file=str(path)) from None
    if not any(h.strip() for h in header):
        raise LoadError(f"{path}: first line is not a header row", file=str(path))
    # a header with balanced quotes is one record on one line: quoted exports take the fast path
    parsed = _parse_fast(data, header, sep) if header_text.count('"') % 2 == 0 else None
    if parsed is None:
        parsed = _parse_python(data, header, sep)
    parsed.encoding = enc
    return parsed


def _parse_fast(data: bytes, header: list[str], sep: str = ",") -> _Parsed | None:
    """pyarrow read; None when records cannot be mapped one-to-one onto physical lines."""
    import pyarrow.csv as pacsv

    n = len(header)
    names = [f"c{i}" for i in range(n)]
    invalid = [0]

    def on_invalid(_row):
        invalid[0] += 1
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1,
                                           block_size=1 << 24, use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=sep, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowException, ValueError):
        return None
    if invalid[0]:
        return None
    body = memoryview(data)[data.find(b"\n") + 1:] if b"\n" in data else memoryview(b"")
    body_b = bytes(body) if len(body) < (1 << 20) else body
    arr = np.frombuffer(body_b, dtype=np.uint8)
    if data.count(b"\r") != data.count(b"\r\n"):
        # a bare CR ends a line too (for pyarrow and for Python's csv): count lines the same way
        brk = (arr == 10) | (arr == 13)
        brk[:-1] &= ~((arr[:-1] == 13) & (arr[1:] == 10))
        nl = np.flatnonzero(brk)
    else:
        nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(arr)]))
    length = ends - starts
    # a line is empty when it has no bytes, or only a carriage return
    nonempty = length > 0
    cr_only = (length == 1) & (arr[np.minimum(starts, max(len(arr) - 1, 0))] == 13) if len(arr) else nonempty
    nonempty &= ~cr_only
    line_no = np.flatnonzero(nonempty) + 2  # physical line numbers (header is line 1)
    if len(line_no) != table.num_rows:
        return None
    frame = table.to_pandas(types_mapper=lambda t: pd.StringDtype(na_value=np.nan)
                            if t == pa.string() else None)
    frame[_LINE] = line_no.astype(np.int64)
    return _Parsed(header, frame, [], "")


_PY_CHUNK = 100_000  # rows held as Python strings before they are packed into Arrow arrays


def _parse_python(text: str | bytes, header: list[str], sep: str = ",") -> _Parsed:
    """Exact, slower path: Python's csv module with true line numbers.

    ``text`` is the file's text, or its UTF-8 bytes (decoded lazily, which keeps memory low).
    """
    csv.field_size_limit(sys.maxsize)
    n = len(header)
    stream = (io.TextIOWrapper(io.BytesIO(text), encoding="utf-8", newline="")
              if isinstance(text, bytes) else io.StringIO(text, newline=""))
    reader = csv.reader(stream, strict=False, delimiter=sep)
    rows: list[list[str]] = []
    chunks: list[list[pa.Array]] = []
    lines: list[int] = []
    bad: list[tuple[int, str, str]] = []

    def flush() -> None:
        if rows:
            chunks.append([pa.array(col, type=pa.large_string()) for col in zip(*rows)])
            rows.clear()

    prev_end = 0
    try:
        for i, rec in enumerate(reader):
            start = prev_end + 1
            prev_end = reader.line_num
            if i == 0:
                continue  # header
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue  # blank line: not a row
            if len(rec) != n:
                bad.append((start, f"expected {n} fields, got {len(rec)}", sep.join(rec)))
                continue
            rows.append(rec)
            lines.append(start)
            if len(rows) >= _PY_CHUNK:
                flush()
    except csv.Error as exc:
        bad.append((prev_end + 1, f"unparseable CSV ({exc})", ""))
    flush()
    names = [f"c{i}" for i in range(n)]
    table = pa.table({name: pa.chunked_array([c[k] for c in chunks], type=pa.large_string())
                      for k, name in enumerate(names)})
    frame = table.to_pandas(types_mapper=lambda t: pd.StringDtype(na_value=np.nan)
                            if t in (pa.string(), pa.large_string()) else None)
    frame[_LINE] = np.asarray(lines, dtype=np.int64)
    return _Parsed(header, frame, bad, "")


def _parse_parquet(path: Path) -> _Parsed:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise LoadError(f"{path}: cannot read Parquet file ({exc})", file=str(path)) from None
    header = [str(c) for c in table.column_names]
    cols = {}
    for i, name in enumerate(table.column_names):
        col = table.column(name)
        t = col.type
        if pa.types.is_timestamp(t) and t.tz:  # a zoned time is read as Beijing time
            col = col.cast(pa.timestamp(t.unit, tz="+08:00"))
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S" if pa.types.is_timestamp(t)
                              else "%Y-%m-%d")
        elif not pa.types.is_string(t) and not pa.types.is_large_string(t):
            try:
                col = pc.cast(col, pa.string())
            except (pa.ArrowException, NotImplementedError):
                col = pa.array([None if v is None else str(v) for v in col.to_pylist()],
                               type=pa.string())
        col = pc.fill_null(col.cast(pa.string()), "")
        cols[f"c{i}"] = col
    frame = pa.table(cols).to_pandas(types_mapper=lambda t: pd.StringDtype(na_value=np.nan)
                                     if t in (pa.string(), pa.large_string()) else None)
    frame[_LINE] = np.arange(1, len(frame) + 1, dtype=np.int64)
    return _Parsed(header, frame, [], "parquet")


# --------------------------------------------------------------------------------------------
# Normalising values
# --------------------------------------------------------------------------------------------

_DATE_FORMATS = [
    "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S", "%Y%m%d %H:%M:%S",
    "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H时%M分%S秒", "%Y年%m月%d日%H时%M分",
    "%Y%m%d %H%M%S", "%Y/%m/%dT%H:%M:%S", "%Y/%m/%dT%H:%M",
    # with a UTC offset (an ISO export, ``2024-03-01T08:00:00+08:00`` or ``...Z``): read as
    # Beijing time, the time every other row is in
    "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M:%S %z",
]
#: the offset of the times graphkit works in (China Standard Time, no daylight saving)
_BEIJING = timezone(timedelta(hours=8))
#: dates outside [DATE_MIN, DATE_MAX) are no 医保 record's (and beyond 2262 no pandas time)
DATE_MIN, DATE_MAX = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")
#: an amount this large (yuan, one settlement or item) is no 医保 record's
AMOUNT_MAX = 1e10


def parse_dates(s: pd.Series, *, date_only: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse the date formats Chinese exports use. Returns (datetime64 values, bad mask).

    Accepted: ``2024-03-01``, ``2024/3/1``, ``20240301``, ``2024-03-01 08:00:00``,
    ``2024/3/1 8:00:00``, ``2024-03-01T08:00:00``, ``2024.03.01``, ``2024年3月1日`` and
    fractional seconds. Empty values are NaT and not bad.
    """
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    todo = s.notna() & (s != "")
    if todo.any():
        first = s[todo].iloc[0]
        formats = sorted(_DATE_FORMATS, key=lambda f: not _fits(first, f))
        for fmt in formats:
            if not todo.any():
                break
            sub = s[todo]
            if "%z" in fmt:
                parsed = pd.to_datetime(sub, format=fmt, errors="coerce", utc=True)
                parsed = parsed.dt.tz_convert(_BEIJING).dt.tz_localize(None)
            else:
                parsed = pd.to_datetime(sub, format=fmt, errors="coerce")
            ok = parsed.notna()
            if ok.any():
                idx = ok[ok].index
                out.loc[idx] = parsed[ok].astype("datetime64[us]")
                todo.loc[idx] = False
    if date_only:
        out = out.dt.normalize()
    return out, todo


def _fits(value: str, fmt: str) -> bool:
    """Cheap check used only to try the most likely format first."""
    try:
        datetime.strptime(value, fmt)
        return True
    except (ValueError, TypeError):
        return False


#: what exports write where an address is unknown (不详, 无, 暂无, 未填写, null, -, …)
_UNKNOWN_ADDRESS = (r"^(?:(?:地址|住址|详址)?(?:不详|不明|未知)|无|没有|暂无|未填写?|空|其他|null|none|nan"
                    r"|n/?a|unknown|[-—_./\\?？*#0\s]+)$")
#: well-known stand-in numbers (中国移动's 13800138000, a counting sequence)
_FAKE_PHONES = ("13800138000", "12345678901", "1234567890", "01234567890", "12345678")


def unknown_address(s: pd.Series) -> pd.Series:
    """True where an address is a stand-in for "unknown" (不详, 暂无, null, ---): not a place
    anyone shares, so it is read as missing."""
    return s.notna() & s.str.lower().str.match(_UNKNOWN_ADDRESS).fillna(False).astype(bool)


def unknown_phone(s: pd.Series) -> pd.Series:
    """True where a phone is a stand-in for "unknown": fewer than 7 digits, one digit repeated
    (00000000000), or a well-known fake (13800138000, 12345678901). Read as missing: a system's
    default number is no one's phone and must not tie its holders together."""
    digits = s.str.replace(r"\D", "", regex=True)
    # one digit repeated, spelt without a backreference so pyarrow's regex kernel runs it (a
    # backreference falls back to Python's re, 10x slower on every claim's operator_phone)
    fake = ((digits.str.len() < 7) | digits.str.fullmatch("|".join(f"{d}+" for d in "0123456789"))
            | digits.isin(_FAKE_PHONES))
    return s.notna() & fake.fillna(False).astype(bool)


_PLACEHOLDER_CHECKS = {"phone": unknown_phone, "operator_phone": unknown_phone,
                       "address": unknown_address}

_AMOUNT_JUNK = r"[,\s¥￥元]"  # a plain pattern keeps pandas on pyarrow's regex kernel


def _parse_decimal(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    present = s.notna() & (s != "")
    try:  # fast path: clean numbers, one pyarrow cast
        arr = pa.array(s.where(present))
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        vals = pd.Series(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False),
                         index=s.index, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        cleaned = s.str.replace(_AMOUNT_JUNK, "", regex=True)
        vals = pd.to_numeric(cleaned.where(present), errors="coerce").astype("float64")
    bad = present & ~np.isfinite(vals.fillna(np.nan))  # NaN, inf and 1e999 are not amounts
    return vals, bad


def _map_values(s: pd.Series, mapping: dict[str, str], *, fold: bool = True) -> pd.Series:
    key = s.str.strip()
    if fold:
        key = key.str.lower()
    return key.map(mapping)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


class _Reasons:
    """First failing reason per row."""

    def __init__(self, n: int):
        self.arr = np.full(n, "", dtype=object)
        self._ok = np.ones(n, dtype=bool)
        #: column -> values read as missing because they only stood in for "unknown"
        self.stand_ins: dict[str, int] = {}

    def fail(self, mask, reason: str) -> None:
        m = np.asarray(mask, dtype=bool) & self._ok
        if m.any():
            self.arr[m] = reason
            self._ok &= ~m

    def stand_in(self, values: pd.Series, mask, column: str) -> pd.Series:
        """``values`` with the ``mask``ed ones missing, counted as stand-ins for "unknown" in
        ``column`` (00000000000, 不详, 9999-12-31): the row stays, the value does not."""
        m = np.asarray(mask, dtype=bool)
        if not m.any():
            return values
        self.stand_ins[column] = self.stand_ins.get(column, 0) + int(m.sum())
        return values.mask(m)

    @property
    def ok(self) -> np.ndarray:
        return self._ok.copy()


def _map_header(table: Table, parsed: _Parsed, path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """canonical column -> positional column; extra header -> positional column."""
    hmap = table.header_map()
    canon: dict[str, str] = {}
    extra: dict[str, str] = {}
    for i, h in enumerate(parsed.header):
        c = hmap.get(normalise_header(h))
        pos = f"c{i}"
        if c is not None and c not in canon:
            canon[c] = pos
        else:
            name = str(h).strip() or f"column_{i + 1}"
            while name in extra:
                name += "_"
            extra[name] = pos
    for col in table.columns:
        if col.required and col.name not in canon:
            aliases = " / ".join(col.all_names)
            raise LoadError(
                f"{path}: missing required column '{col.name}' (accepted headers: {aliases})",
                file=str(path), column=col.name)
    return canon, extra


def _normalise(table: Table, parsed: _Parsed, path: Path, reasons: _Reasons) -> pd.DataFrame:
    """Typed canonical columns for every row (rows stay aligned with ``parsed.frame``)."""
    canon, extra = _map_header(table, parsed, path)
    f = parsed.frame
    out: dict[str, pd.Series] = {}
    n = len(f)
    for col in table.columns:
        if col.name not in canon:
            out[col.name] = pd.Series(pd.NA, index=f.index, dtype="str") \
                if col.kind not in ("date", "datetime", "decimal") else \
                pd.Series(np.nan if col.kind == "decimal" else pd.NaT, index=f.index,
                          dtype="float64" if col.kind == "decimal" else "datetime64[us]")
            continue
        # strip and find the empty cells with pyarrow kernels (pandas' per-call overhead dominates
        # small files; the kernels are the same ones pandas' .str.strip() uses)
        trimmed = pc.utf8_trim_whitespace(_arrow_strings(f[canon[col.name]]))
        empty_arr = pc.equal(trimmed, "").fill_null(True)
        empty = np.asarray(empty_arr, dtype=bool)
        if col.required:
            reasons.fail(empty, f"missing {col.name}")
        if col.kind in ("id", "str"):
            out[col.name] = _str_series(pc.if_else(empty_arr, _NULL_STR, trimmed), f.index)
            if col.name in _PLACEHOLDER_CHECKS:
                out[col.name] = reasons.stand_in(
                    out[col.name], _PLACEHOLDER_CHECKS[col.name](out[col.name]), col.name)
            continue
        s = _str_series(trimmed, f.index)
        if col.kind in ("date", "datetime"):
            vals, bad = parse_dates(s, date_only=col.kind == "date")
            reasons.fail(bad, f"unparseable {col.name}")
            outside = (vals < DATE_MIN) | (vals >= DATE_MAX)
            if col.required:
                reasons.fail(outside, f"{col.name} outside {DATE_MIN.year}-{DATE_MAX.year - 1}")
            else:  # 9999-12-31 for "not dead", 0001-01-01 for "unknown": a stand-in, not a date
                vals = reasons.stand_in(vals, outside, col.name)
            out[col.name] = vals
        elif col.kind == "decimal":
            vals, bad = _parse_decimal(s)
            reasons.fail(bad, f"unparseable {col.name}")
            reasons.fail(vals < 0, f"negative {col.name}")
            reasons.fail(vals >= AMOUNT_MAX, f"implausible {col.name} (10 billion or more)")
            out[col.name] = vals
        elif col.kind == "gender":
            out[col.name] = _map_values(s, GENDER_ALIASES).astype("str").where(lambda x: x.isin(["M", "F"]))
        elif col.kind == "claim_type":
            mapped = _map_values(s, CLAIM_TYPE_ALIASES)
            for word, kind in CLAIM_TYPE_WORDS:
                hit = mapped.isna() & s.str.contains(word, regex=False).fillna(False).astype(bool)
                if hit.any():
                    mapped = mapped.mask(hit, kind)
            reasons.fail(~empty & mapped.isna(), "unknown claim_type")
            out[col.name] = mapped.astype("str")
        elif col.kind == "card_type":
            mapped = _map_values(s, CARD_TYPE_ALIASES)
            out[col.name] = mapped.fillna(s.where(~empty)).astype("str")
        else:  # pragma: no cover - contract kinds are closed
            raise ValueError(col.kind)
    for name, pos in extra.items():
        out[_EXTRA_PREFIX + name] = f[pos]
    out[_LINE] = f[_LINE]
    df = pd.DataFrame(out, index=f.index)
    assert len(df) == n
    return df


_JSON_CHUNK = 250_000
_JSON_SHORT = (("\b", "\\b"), ("\f", "\\f"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _json_strings(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Each value as a JSON string literal, exactly as ``json.dumps(v, ensure_ascii=False)``;
    missing values become ``null``."""
    esc = pc.replace_substring(arr, "\\", "\\\\")
    esc = pc.replace_substring(esc, '"', '\\"')
    if pc.any(pc.match_substring_regex(esc, "[\\x00-\\x1f]")).as_py():
        for ch, rep in _JSON_SHORT:
            esc = pc.replace_substring(esc, ch, rep)
        for code in range(0x20):
            if chr(code) not in "\b\f\n\r\t":
                esc = pc.replace_substring(esc, chr(code), f"\\u{code:04x}")
    quote = pa.scalar('"', pa.large_string())
    quoted = pc.binary_join_element_wise(quote, esc.cast(pa.large_string()), quote, _EMPTY_STR)
    return pc.fill_null(quoted, pa.scalar("null", pa.large_string()))


def _json_rows(header: list[str], frame: pd.DataFrame, rows: np.ndarray | None = None) -> pd.Series:
    """One JSON object per row (``rows``: positions, default all), {header: original value}, as
    ``json.dumps(dict(...))`` writes it (a repeated header keeps its first position and its last
    value, like a dict)."""
    rows = np.arange(len(frame)) if rows is None else rows
    last: dict[str, int] = {}
    for i, h in enumerate(header):
        last[h] = i
    keys = [pa.scalar(("{" if k == 0 else ", ") + json.dumps(h, ensure_ascii=False) + ": ",
                      pa.large_string()) for k, h in enumerate(last)]
    close = pa.scalar("}", pa.large_string())
    out = []
    for start in range(0, max(len(rows), 1), _JSON_CHUNK):  # bounded intermediates
        sub = frame.iloc[rows[start:start + _JSON_CHUNK]]
        pieces: list = []
        for key, i in zip(keys, last.values()):
            pieces += [key, _json_strings(_arrow_strings(sub[f"c{i}"]))]
        joined = pc.binary_join_element_wise(*pieces, close, _EMPTY_STR)
        out.extend(joined.chunks if isinstance(joined, pa.ChunkedArray) else [joined])
    return pd.Series(pa.chunked_array(out, type=pa.large_string()),
                     dtype=pd.StringDtype(na_value=np.nan))


def _reject_frame(table: str, file: str, parsed: _Parsed, mask: np.ndarray,
                  reasons: np.ndarray) -> pd.DataFrame:
    """Rejected rows with their original values, built column-wise (fast for millions)."""
    f = parsed.frame
    idx = np.flatnonzero(mask)
    header = [str(h).strip() for h in parsed.header]
    out = pd.DataFrame({
        "table": pd.Series(table, index=range(len(idx)), dtype="str"),
        "file": pd.Series(file, index=range(len(idx)), dtype="str"),
        "line": f[_LINE].to_numpy(dtype=np.int64)[idx],
        "reason": pd.Series(reasons[idx], dtype="str"),
        "values": _json_rows(header, f, idx),
    })
    if parsed.bad:
        bad = pd.DataFrame([(table, file, int(line), reason,
                             json.dumps({"_raw": text}, ensure_ascii=False))
                            for line, reason, text in parsed.bad], columns=REJECT_COLUMNS)
        bad = bad.astype({c: "str" for c in REJECT_COLUMNS if c != "line"})
        out = pd.concat([out, bad], ignore_index=True) if len(out) else bad
    return out[REJECT_COLUMNS]


_NULL_STR = pa.scalar(None, pa.large_string())
_EMPTY_STR = pa.scalar("", pa.large_string())


def _str_series(arr: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    return pd.Series(arr, index=index, dtype=pd.StringDtype(na_value=np.nan))


def _lookup(values: pd.Series, keys: pd.Series, targets: pd.Series) -> pd.Series:
    """``values.map(dict(zip(keys, targets)))`` for string keys and targets, through pyarrow."""
    pos = pc.index_in(_arrow_strings(values), value_set=_arrow_strings(keys, combine=True))
    got = pc.take(_arrow_strings(targets, combine=True), pos)
    return _str_series(got, values.index)


def _validate_table(name: str, df: pd.DataFrame, reasons: _Reasons, acc: dict[str, pd.DataFrame],
                    present: set[str], rejected_keys: dict[str, set]) -> None:
    """Cross-row and cross-table checks, in place on ``reasons``."""
    t = TABLES[name]
    if name == "patients":
        # a death before the birth is a system's "no date" (1900-01-01), not a death: read as
        # missing, or every claim of the patient would be settled "after death"
        unborn = (df["death_date"] < df["birth_date"]).fillna(False)
        df["death_date"] = reasons.stand_in(df["death_date"], unborn, "death_date")
    if name == "cards":
        reasons.fail(~_in(df["patient_id"], acc["patients"]["patient_id"]), "unknown patient_id")
    elif name == "doctors" and "institutions" in present:
        has = df["institution_id"].notna().to_numpy()
        reasons.fail(has & ~_in(df["institution_id"], acc["institutions"]["institution_id"]),
                     "unknown institution_id")
    elif name == "pharmacists" and "pharmacies" in present:
        has = df["pharmacy_id"].notna().to_numpy()
        reasons.fail(has & ~_in(df["pharmacy_id"], acc["pharmacies"]["pharmacy_id"]),
                     "unknown pharmacy_id")
    elif name == "claims":
        reasons.fail(~_in(df["patient_id"], acc["patients"]["patient_id"]), "unknown patient_id")
        if "cards" in present:  # with no cards table, a claim's card is its patient's (_derive)
            has_card = df["card_id"].notna().to_numpy()
            reasons.fail(has_card & ~_in(df["card_id"], acc["cards"]["card_id"]), "unknown card_id")
        if present & {"institutions", "pharmacies"}:
            fac = pd.concat([acc["institutions"]["institution_id"], acc["pharmacies"]["pharmacy_id"]])
            reasons.fail(~_in(df["facility_id"], fac), "unknown facility_id")
        for col, tab, key in (("doctor_id", "doctors", "doctor_id"),
                              ("pharmacist_id", "pharmacists", "pharmacist_id")):
            if tab in present:
                has = df[col].notna().to_numpy()
                reasons.fail(has & ~_in(df[col], acc[tab][key]), f"unknown {col}")
        adm, dis = df["admit_date"], df["discharge_date"]
        reasons.fail((dis < adm).fillna(False).to_numpy(), "discharge before admission")
    elif name == "claim_items":
        known = _in(df["claim_id"], acc["claims"]["claim_id"])
        was_rejected = _in(df["claim_id"], rejected_keys.get("claims", set()))
        reasons.fail(~known & was_rejected, "claim rejected")
        reasons.fail(~known, "unknown claim_id")
    if name == "pharmacists":
        dup = df.duplicated(["pharmacist_id", "pharmacy_id"]).to_numpy()
        reasons.fail(dup & reasons.ok, "duplicate registration")
    elif t.key and t.key in df:
        key = df[t.key]
        okmask = reasons.ok
        # duplicates among otherwise-valid rows: the first valid occurrence wins
        sub = key[okmask & key.notna().to_numpy()]
        dup_idx = sub.index[sub.duplicated(keep="first").to_numpy()]
        m = np.zeros(len(df), dtype=bool)
        m[df.index.get_indexer(dup_idx)] = True
        reasons.fail(m, f"duplicate {t.key}")


def _empty_table(name: str) -> pd.DataFrame:
    t = TABLES[name]
    cols = {}
    for c in t.columns:
        if c.kind in ("date", "datetime"):
            cols[c.name] = pd.Series([], dtype="datetime64[us]")
        elif c.kind == "decimal":
            cols[c.name] = pd.Series([], dtype="float64")
        else:
            cols[c.name] = pd.Series([], dtype="str")
    cols[_LINE] = pd.Series([], dtype="int64")
    return pd.DataFrame(cols)


def _implicit_cards(pats: pd.DataFrame) -> pd.DataFrame:
    """No cards table: every patient has one card whose card_id equals patient_id."""
    return pd.DataFrame({
        "card_id": pats["patient_id"].astype("str"),
        "patient_id": pats["patient_id"].astype("str"),
        "card_type": pd.Series(pd.NA, index=pats.index, dtype="str"),
        _LINE: pd.Series(0, index=pats.index, dtype="int64"),
    }).reset_index(drop=True)


def _cards_seen_in_claims(implicit: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """No cards table, but claims name their cards (就诊凭证编号): each card not among the
    implicit ones is held by the patient it was settled for most often (ties: the smallest
    patient_id), so no claim is lost for want of a cards table."""
    seen = claims.loc[claims["card_id"].notna() & ~claims["card_id"].isin(implicit["card_id"]),
                      ["card_id", "patient_id"]]
    if not len(seen):
        return implicit
    holder = most_frequent(seen, "card_id", "patient_id")
    extra = pd.DataFrame({
        "card_id": holder.index.astype("str"),
        "patient_id": holder.astype("str").to_numpy(),
        "card_type": pd.Series(pd.NA, index=range(len(holder)), dtype="str"),
        _LINE: pd.Series(0, index=range(len(holder)), dtype="int64"),
    })
    return pd.concat([implicit, extra], ignore_index=True)


def _derive(acc: dict[str, pd.DataFrame], present: set[str]) -> None:
    """Derived columns and implicit rows the detectors rely on."""
    pats = acc["patients"]
    claims = acc["claims"]
    if "cards" not in present and len(claims):
        acc["cards"] = _cards_seen_in_claims(acc["cards"], claims)
    cards = acc["cards"]
    if len(claims):
        missing = claims["card_id"].isna()
        card = claims["card_id"]
        if missing.any():
            first_card = cards.sort_values(["patient_id", "card_id"]).drop_duplicates("patient_id")
            fill = _lookup(claims["patient_id"], first_card["patient_id"], first_card["card_id"])
            card = card.fillna(fill).fillna(claims["patient_id"])
        claims["card_inferred"] = missing.to_numpy(dtype=bool)
        claims["card_id"] = card.astype("str")
        holder = _lookup(card, cards["card_id"], cards["patient_id"])
        claims["holder_id"] = holder.fillna(claims["patient_id"]).astype("str")
    else:
        claims["card_inferred"] = pd.Series([], dtype=bool)
        claims["holder_id"] = pd.Series([], dtype="str")
    claims["settle_date"] = claims["settle_time"].dt.normalize()
    types = facility_types(acc["institutions"]["institution_id"], acc["pharmacies"]["pharmacy_id"],
                           claims[["facility_id", "claim_type"]])
    claims["facility_type"] = claims["facility_id"].map(pd.Series(types, dtype="str")).fillna(
        "unknown").astype("str")
    pos = positions(claims["patient_id"], pats["patient_id"])
    dd = np.append(pats["death_date"].to_numpy(dtype="datetime64[us]"), np.datetime64("NaT", "us"))
    death = pd.Series(dd[pos], index=claims.index, dtype="datetime64[us]")  # -1 -> the NaT
    claims["flag_after_death"] = (claims["settle_date"] > death).fillna(False).astype(bool)
    claims["flag_card_holder_mismatch"] = (claims["holder_id"] != claims["patient_id"]).astype(bool)
    items = acc["claim_items"]
    tc = items["trace_code"]
    items["flag_trace_code_format"] = (tc.notna() & ~tc.str.fullmatch(r"\d{20}").fillna(False)).astype(bool)


def _fingerprint(files: dict[str, Path]) -> str:
    h = hashlib.sha256()
    for t in sorted(files):
        h.update(f"{t}\0{files[t].name}\0{file_sha256(files[t])}\n".encode())
    return h.hexdigest()


def load(data_dir: str | Path, *, rejects_path: str | Path | None = None,
         progress: bool | Callable[[str], None] = False) -> Dataset:
    """Load ``data_dir`` to the contract.

    Parameters
    ----------
    data_dir : path
        Directory holding ``patients`` and ``claims`` (required) and the optional tables, each as
        ``.csv``, ``.csv.gz`` or ``.parquet``.
    rejects_path : path, optional
        Where to write rejected rows as CSV. Nothing is written when omitted.
    progress : bool or callable
        True prints one line per table to stderr; a callable receives each table name.

    Raises
    ------
    LoadError
        A required table or column is missing, or a file cannot be read or decoded.

    Examples
    --------
    >>> import graphkit as gk
    >>> ds = gk.load("data_samples/demo")
    >>> sorted(ds.tables)[:3]
    ['cards', 'claim_items', 'claims']
    """
    data_dir = Path(data_dir)
    files, ignored = find_table_files(data_dir)
    report = _progress_fn(progress)

    def parse(name: str) -> tuple[_Parsed, Path, str]:
        path = files[name]
        report(name)
        parsed = _parse_parquet(path) if path.name.lower().endswith((".parquet", ".pq")) \
            else _parse_csv(path)
        return parsed, path, path.name

    acc, all_rej, counts, encodings = _assemble(set(files), parse)
    ds = Dataset(data_dir=data_dir, tables=acc, rejects=all_rej, counts=counts, ignored=ignored,
                 files=files, fingerprint=_fingerprint(files), encodings=encodings)
    if rejects_path is not None:
        ds.write_rejects(rejects_path)
    return ds


def _assemble(present: set[str], parse) -> tuple[dict, pd.DataFrame, dict, dict]:
    """Normalise, validate and split every table, in dependency order, then derive.

    ``parse(name)`` returns ``(_Parsed, path for messages, source name for rejects)`` for each
    table in ``present``. Returns (accepted tables, rejects, counts, encodings).
    """
    acc: dict[str, pd.DataFrame] = {}
    rejects: list[pd.DataFrame] = []
    counts: dict[str, dict] = {}
    encodings: dict[str, str] = {}
    rejected_keys: dict[str, set] = {}
    for name in TABLE_ORDER:
        if name not in present:
            # implicit cards exist before claims are validated against them
            acc[name] = _implicit_cards(acc["patients"]) if name == "cards" else _empty_table(name)
            continue
        parsed, path, source = parse(name)
        encodings[name] = parsed.encoding
        reasons = _Reasons(len(parsed.frame))
        df = _normalise(TABLES[name], parsed, path, reasons)
        _validate_table(name, df, reasons, acc, present, rejected_keys)
        ok = reasons.ok
        key = TABLES[name].key
        if key:
            rejected_keys[name] = set(df.loc[~ok, key].dropna())
        read = len(parsed.frame) + len(parsed.bad)
        # peak memory: free the larger of the raw strings (needed for rejects) and the typed
        # frame (needed for accepted rows) before building the other output
        if ok.sum() >= len(ok) / 2:
            rej = _reject_frame(name, source, parsed, ~ok, reasons.arr)
            del parsed
            accepted = (df if ok.all() else df[ok]).reset_index(drop=True)
            del df
        else:
            accepted = df[ok].reset_index(drop=True)
            del df
            rej = _reject_frame(name, source, parsed, ~ok, reasons.arr)
            del parsed
        rejects.append(rej)
        if name == "claim_items":
            accepted = _fill_item_ids(accepted, source)
        acc[name] = accepted
        pa.default_memory_pool().release_unused()
        counts[name] = {
            "read": int(read),
            "accepted": int(len(accepted)),
            "rejected": int(len(rej)),
            "reasons": {k: int(v) for k, v in rej["reason"].value_counts().sort_index().items()},
            "stand_ins": dict(sorted(reasons.stand_ins.items())),
        }
    _derive(acc, present)
    for table in acc.values():
        single_chunk(table)
    all_rej = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
    return acc, all_rej, counts, encodings

def _fill_item_ids(items: pd.DataFrame, file: str) -> pd.DataFrame:
    missing = items["item_id"].isna()
    if missing.any():
        items = items.copy()
        items.loc[missing, "item_id"] = file + ":" + items.loc[missing, _LINE].astype("str")
    return items


def _progress_fn(progress) -> Callable[[str], None]:
    if callable(progress):
        return progress
    if progress:
        return lambda name: print(f"loading {name} ...", file=sys.stderr, flush=True)
    return lambda name: None


# --------------------------------------------------------------------------------------------
# Tables that come from elsewhere (the Neo4j backend reads the graph back)
# --------------------------------------------------------------------------------------------


def input_fingerprint(data_dir: str | Path) -> str:
    """The fingerprint :func:`load` gives ``data_dir`` (sha256 over its table files), without
    reading the tables."""
    files, _ = find_table_files(Path(data_dir))
    return _fingerprint(files)


def _frame_parsed(df: pd.DataFrame) -> _Parsed:
    """A table of canonical columns as the parsers' positional strings ("" = missing)."""
    cols: dict[str, pd.Series] = {}
    for i, name in enumerate(df.columns):
        s = df[name]
        if pd.api.types.is_float_dtype(s.dtype):  # repr round-trips a float64 exactly
            vals = [("" if v != v else repr(float(v))) for v in s.to_numpy(dtype="float64")]
            s = pd.Series(vals, index=df.index, dtype="str")
        else:
            s = s.astype("str").fillna("")
        cols[f"c{i}"] = s
    frame = pd.DataFrame(cols, index=df.index).reset_index(drop=True)
    frame[_LINE] = np.arange(1, len(frame) + 1, dtype=np.int64)
    return _Parsed([str(c) for c in df.columns], frame, [], "")


def dataset_from_frames(frames: dict[str, pd.DataFrame], *, data_dir: str | Path,
                        fingerprint: str) -> Dataset:
    """A :class:`Dataset` from tables already split into canonical columns.

    Each value of ``frames`` is one table with the contract's column names holding strings as
    they would appear in a file (missing = NA or ""; floats are accepted for amounts). Rows go
    through the same normalising, validation and derived columns as :func:`load`, so the same
    rows give the same Dataset; rows that fail validation land in ``rejects`` (file
    ``<table>``, line = row number). Tables absent from ``frames`` are absent in the sense of
    the contract (a missing ``cards`` table becomes one implicit card per patient).

    Parameters
    ----------
    frames : dict of str to DataFrame
        Must hold ``patients`` and ``claims``.
    data_dir : str or Path
        Where the tables came from, kept as given in ``Dataset.data_dir`` (the Neo4j backend
        gives its Bolt URI, which ``Path`` would mangle).
    fingerprint : str
        The input fingerprint to carry (``rings.json`` ``input.fingerprint``).

    Raises
    ------
    LoadError
        An unknown or missing required table, or a missing required column.

    Examples
    --------
    >>> import pandas as pd
    >>> ds = dataset_from_frames({
    ...     "patients": pd.DataFrame({"patient_id": ["P1"], "gender": ["男"]}),
    ...     "claims": pd.DataFrame({"claim_id": ["C1"], "patient_id": ["P1"],
    ...                             "facility_id": ["H1"], "claim_type": ["门诊"],
    ...                             "settle_time": ["2024-03-01 08:00:00"]})},
    ...     data_dir="memory", fingerprint="0" * 64)
    >>> ds.claims.loc[0, "claim_type"], ds.patients.loc[0, "gender"], ds.cards.loc[0, "card_id"]
    ('outpatient', 'M', 'P1')
    """
    unknown = sorted(set(frames) - set(TABLES))
    if unknown:
        raise LoadError(f"unknown table(s) {', '.join(unknown)} "
                        f"(tables: {', '.join(TABLE_ORDER)})")
    for name in REQUIRED_TABLES:
        if name not in frames:
            raise LoadError(f"required table {name!r} is missing")
    acc, all_rej, counts, _ = _assemble(
        set(frames), lambda name: (_frame_parsed(frames[name]), Path(name), name))
    return Dataset(data_dir=data_dir,  # as given: a Bolt URI is not a path
                   tables=acc, rejects=all_rej, counts=counts, ignored=[], files={},
                   fingerprint=fingerprint)
