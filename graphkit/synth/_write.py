"""Write tables as CSV (UTF-8 or GBK) or Parquet with headers in one of three styles."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from graphkit.contract import TABLES


def write_table(out_dir: Path, name: str, table: pa.Table, *, fmt: str, encoding: str,
                headers: str) -> Path:
    cols = table.column_names
    spec = TABLES.get(name)
    names = [spec.header_for(c, headers) if spec is not None else c for c in cols]
    if len(set(names)) != len(names):  # never expected; keep files loadable
        names = cols
    table = table.rename_columns(names)
    if fmt == "parquet":
        path = out_dir / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd", write_statistics=False)
        return path
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 16)
    head = (",".join(names) + "\n").encode("utf-8")
    path = out_dir / f"{name}.csv"
    if encoding.lower() in ("gbk", "gb18030"):
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, opts)
        path.write_bytes((head + buf.getvalue()).decode("utf-8").encode("gbk"))
        return path
    with pa.OSFile(str(path), "wb") as sink:   # UTF-8: straight to the file, no copies
        sink.write(head)
        pacsv.write_csv(table, sink, opts)
    return path
