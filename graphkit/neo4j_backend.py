"""The Neo4j store: named Cypher queries, batched idempotent loading, motif queries over Bolt.

Every query lives in its own file under ``cypher/`` with a header comment naming its
``$parameters`` (with types and defaults) and the columns it returns; this module reads those
headers, so the files are the single source of truth. Values always travel as driver parameters.

The graph model is documented in ``cypher/schema.cypher``. Loading merges on node keys, so it is
idempotent (loading twice creates nothing new) and resumable: a checkpoint node
``(:GraphkitLoad {load_key})`` records how many batches of a given input (its fingerprint and the
batch size) were written, and a re-run skips them. Works with Neo4j 5 and with FalkorDB 4.18 (the
Bolt server the tests run); Neo4j-only statements live in ``cypher/constraints_neo4j.cypher``.

Rings from the server (``graphkit rings DATA_DIR --backend neo4j``): :meth:`Neo4jStore.fetch_dataset`
reads the graph back in pages with the ``cypher/export_*.cypher`` queries and rebuilds the
:class:`~graphkit.load.Dataset` through the loader's own normalising and derivation
(:func:`graphkit.load.dataset_from_frames`); the same Python detectors then run on it, so the rings
equal the embedded backend's by construction. Community detection and scoring run in Python over
the data fetched from the server; the motif queries (:data:`MOTIFS`) are for investigators.

Examples
--------
>>> import graphkit as gk
>>> from graphkit.neo4j_backend import Neo4jStore
>>> ds = gk.load("data_samples/demo")                                  # doctest: +SKIP
>>> with Neo4jStore.connect("bolt://127.0.0.1:7687") as store:         # doctest: +SKIP
...     report = store.load_dataset(ds, batch_size=10_000)
...     dead = store.motif("claims_after_death", grace_days=3)
...     same = store.fetch_dataset()              # the Dataset again, read from the server
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from graphkit.errors import BackendError, GraphkitError
from graphkit.graph import relationship_types

__all__ = [
    "Neo4jStore",
    "NamedQuery",
    "Param",
    "LoadReport",
    "MOTIFS",
    "EXPORTS",
    "RELATIONSHIPS",
    "get_query",
    "list_queries",
    "cypher_dir",
    "parse_param",
    "detect_server",
    "LoadStep",
    "LoadField",
    "load_plan",
    "load_steps",
]

#: The motif queries behind each typology, in the order ``graphkit rings --backend neo4j`` runs
#: them. Their columns are documented in each file's header (``get_query(name).columns``).
MOTIFS = (
    "trace_code_resettled",   # diversion
    "shared_operator",        # impersonation / gang
    "claims_after_death",     # impersonation
    "card_two_places",        # impersonation
    "overlapping_stays",      # impersonation / fake_admission
    "co_admission",           # fake_admission
    "lockstep_swipes",        # gang
)

#: The export query of each table (``cypher/export_<table>.cypher``), in the loader's order.
EXPORTS = {
    "patients": "export_patients",
    "cards": "export_cards",
    "institutions": "export_institutions",
    "pharmacies": "export_pharmacies",
    "doctors": "export_doctors",
    "pharmacists": "export_pharmacists",
    "claims": "export_claims",
    "claim_items": "export_claim_items",
}

#: The relationship types of the store's graph model (``cypher/schema.cypher``), named by the
#: edges of :data:`graphkit.graph.EDGE_TYPES`, the one edge vocabulary.
RELATIONSHIPS = relationship_types()

DEFAULT_BATCH = 10_000
DEFAULT_FETCH_BATCH = 50_000
_EPOCH = np.datetime64("1970-01-01T00:00:00", "s")


# ------------------------------------------------------------------------------------------------
# Named queries
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """A ``$parameter`` declared in a query header: ``//   $name type [= default]  text``."""

    name: str
    type: str               # int | float | str | list[str] | list[map]
    default: Any = None
    required: bool = True
    doc: str = ""


@dataclass(frozen=True)
class NamedQuery:
    """One ``cypher/NAME.cypher`` file: its text, declared parameters and returned columns."""

    name: str
    path: Path
    text: str
    kind: str                               # schema | load | motif | query | internal
    server: str = "any"                     # any | neo4j
    params: tuple[Param, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()  # (name, type) in return order
    order: tuple[str, ...] = ()
    title: str = ""

    @property
    def file(self) -> str:
        return f"cypher/{self.path.name}"

    @property
    def body(self) -> str:
        """The query without its comment lines."""
        return "\n".join(ln for ln in self.text.splitlines()
                         if not ln.lstrip().startswith("//")).strip()

    def statements(self) -> list[str]:
        """The statements of a schema script (separated by ``;``); one for other queries."""
        if self.kind != "schema":
            return [self.body]
        return [s.strip() for s in self.body.split(";") if s.strip()]

    def bind(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Complete ``values`` with defaults; reject unknown or missing parameters."""
        values = dict(values or {})
        known = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise BackendError(f"query {self.name} ({self.file}) has no parameter "
                               f"{', '.join('$' + u for u in unknown)}; it takes "
                               f"{', '.join('$' + k for k in known) or 'no parameters'}")
        out = {}
        for p in self.params:
            if p.name in values:
                out[p.name] = values[p.name]
            elif not p.required:
                out[p.name] = p.default
            else:
                raise BackendError(f"query {self.name} ({self.file}) needs ${p.name} ({p.type})")
        return out


_PARAM_RE = re.compile(r"^//\s+\$(\w+)\s+([\w\[\]]+)(?:\s*=\s*(\S+))?\s*(.*)$")
_COL_RE = re.compile(r"^//\s+(\w+)\s+(str|int|float)\b")


def cypher_dir() -> Path:
    """Where the ``.cypher`` files are: the repository's ``cypher/`` (editable install or a
    checkout) or the package data ``graphkit/cypher/`` of an installed wheel."""
    repo = Path(__file__).resolve().parent.parent / "cypher"
    if repo.is_dir() and any(repo.glob("*.cypher")):
        return repo
    return Path(str(resources.files("graphkit") / "cypher"))


def _parse_default(text: str | None, typ: str) -> tuple[Any, bool]:
    if text is None:
        return None, True
    if text == "[]":
        return [], False
    if text == "null":
        return None, False
    return _coerce(text, typ, "default"), False


def _parse_header(name: str, path: Path, text: str) -> NamedQuery:
    kind, server, title = "query", "any", ""
    params: list[Param] = []
    columns: list[tuple[str, str]] = []
    order: tuple[str, ...] = ()
    section = ""
    for line in text.splitlines():
        if not line.lstrip().startswith("//"):
            if line.strip():
                break
            continue
        content = line.lstrip()[2:].strip()
        if not title and content:
            title = content
        if content.startswith("Kind:"):
            kind = content[5:].strip()
        elif content.startswith("Server:"):
            server = content[7:].strip().split()[0]
        elif content.startswith("Order:"):
            order = tuple(c.strip() for c in content[6:].split(",") if c.strip())
        elif content.startswith("Parameters:"):
            section = "params"
        elif content.startswith("Returns:"):
            section = "returns"
        elif section == "params" and (m := _PARAM_RE.match(line.strip())):
            default, required = _parse_default(m.group(3), m.group(2))
            params.append(Param(m.group(1), m.group(2), default, required, m.group(4).strip()))
        elif section == "returns" and (m := _COL_RE.match(line.strip())):
            columns.append((m.group(1), m.group(2)))
    return NamedQuery(name=name, path=path, text=text, kind=kind, server=server,
                      params=tuple(params), columns=tuple(columns), order=order, title=title)


_CACHE: dict[Path, NamedQuery] = {}


def list_queries(kind: str | None = None) -> list[str]:
    """Names of the queries in ``cypher/`` (optionally of one kind), sorted."""
    names = sorted(p.stem for p in cypher_dir().glob("*.cypher"))
    if kind is None:
        return names
    return [n for n in names if get_query(n).kind == kind]


def get_query(name: str) -> NamedQuery:
    """The named query ``cypher/NAME.cypher``.

    Raises
    ------
    BackendError
        No such file; the message lists the available names.
    """
    if not re.fullmatch(r"[A-Za-z0-9_]+", name or ""):
        raise BackendError(f"invalid query name {name!r}: use letters, digits and _ "
                           f"(available: {', '.join(list_queries())})")
    path = cypher_dir() / f"{name}.cypher"
    if not path.is_file():
        raise BackendError(f"no query named {name!r} in {cypher_dir()} "
                           f"(available: {', '.join(list_queries())})")
    stat = path.stat()
    cached = _CACHE.get(path)
    if cached is not None and getattr(cached, "_mtime", None) == stat.st_mtime_ns:
        return cached
    q = _parse_header(name, path, path.read_text(encoding="utf-8"))
    object.__setattr__(q, "_mtime", stat.st_mtime_ns)
    _CACHE[path] = q
    return q


def _coerce(text: str, typ: str, name: str) -> Any:
    try:
        if typ == "int":
            return int(text)
        if typ == "float":
            return float(text)
        if typ == "list[str]":
            return [] if text == "" else [v.strip() for v in text.split(",")]
        if typ == "str":
            return text
    except ValueError:
        raise BackendError(f"parameter {name}: {text!r} is not a valid {typ}") from None
    raise BackendError(f"parameter {name} of type {typ} cannot be given on the command line")


def parse_param(query: NamedQuery, item: str) -> tuple[str, Any]:
    """Parse ``k=v`` from the command line, converting ``v`` to the declared type of ``$k``
    (``list[str]`` takes comma-separated values)."""
    if "=" not in item:
        raise BackendError(f"--param {item!r}: expected NAME=VALUE")
    key, value = item.split("=", 1)
    key = key.strip().lstrip("$")
    declared = {p.name: p for p in query.params}
    if key not in declared:
        raise BackendError(f"query {query.name} ({query.file}) has no parameter ${key}; it takes "
                           f"{', '.join('$' + k for k in declared) or 'no parameters'}")
    return key, _coerce(value, declared[key].type, "$" + key)


# ------------------------------------------------------------------------------------------------
# Rows for loading
# ------------------------------------------------------------------------------------------------

def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series(pd.NA, index=df.index, dtype="object")


@dataclass(frozen=True)
class LoadField:
    """One field of a load step's rows: its name in the query (``r.<name>``), its kind and its
    values. Kinds: ``str`` (an empty string is missing), ``date`` (ISO ``YYYY-MM-DD``),
    ``datetime`` (ISO ``YYYY-MM-DDTHH:MM:SS``), ``day`` (days since 1970-01-01), ``ts`` (seconds
    since 1970-01-01T00:00:00) and ``num`` (a float)."""

    name: str
    kind: str
    values: pd.Series


@dataclass(frozen=True)
class LoadStep:
    """The rows of one load query ``cypher/<query>.cypher`` as typed columns, before a server
    dialect turns them into the ``$rows`` parameter.

    The fields named in ``props`` travel in a nested map ``r.props`` (the node's properties, set
    with ``SET n += r.props``); the others are keys and links (``r.<name>``).
    """

    query: str
    fields: tuple[LoadField, ...]
    props: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.fields[0].values) if self.fields else 0


def _objects(s: pd.Series) -> np.ndarray:
    """Values as Python objects with None for missing (NA, NaN, NaT)."""
    arr = s.astype("object").to_numpy(copy=True)
    arr[pd.isna(s).to_numpy()] = None
    return arr


def _strs(s: pd.Series) -> np.ndarray:
    """ID/text columns: strings kept verbatim, empty strings treated as missing."""
    arr = _objects(s.astype("string"))
    arr[arr == ""] = None
    return arr


def _whole(numbers: pd.Series, mask: np.ndarray) -> np.ndarray:
    arr = numbers.astype("object").to_numpy(copy=True)
    arr[mask] = None
    arr[~mask] = [int(x) for x in arr[~mask]]
    return arr


def _map_values(field: LoadField) -> np.ndarray:
    """A field's values as driver parameter values: str, int, float or None."""
    s = field.values
    if field.kind == "str":
        return _strs(s)
    if field.kind in ("date", "datetime"):
        fmt = "%Y-%m-%d" if field.kind == "date" else "%Y-%m-%dT%H:%M:%S"
        return _objects(pd.to_datetime(s, errors="coerce").dt.strftime(fmt))
    if field.kind == "day":
        d = pd.to_datetime(s, errors="coerce").dt.normalize()
        return _whole((d - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1), d.isna().to_numpy())
    if field.kind == "ts":
        d = pd.to_datetime(s, errors="coerce")
        return _whole((d - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1),
                      d.isna().to_numpy())
    if field.kind == "num":
        return _objects(pd.to_numeric(s, errors="coerce").astype("float64"))
    raise ValueError(f"unknown load field kind {field.kind!r}")  # pragma: no cover


def map_rows(step: LoadStep) -> list[dict]:
    """The rows of ``step`` as maps ``{key: value, ..., "props": {name: value, ...}}``, the
    ``$rows`` of the plain load queries."""
    props = set(step.props)
    keys = [(f.name, _map_values(f)) for f in step.fields if f.name not in props]
    nested = [(f.name, _map_values(f)) for f in step.fields if f.name in props]
    out = []
    for i in range(len(step)):
        row = {name: col[i] for name, col in keys}
        if nested:
            row["props"] = {name: col[i] for name, col in nested}
        out.append(row)
    return out


def _unique(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """Drop repeated keys (the load queries create a node only when its key is absent)."""
    return df[~(df[key].duplicated() & df[key].notna())]


def _step(query: str, df: pd.DataFrame, spec: str, props: str = "", **computed) -> LoadStep:
    """A :class:`LoadStep` from ``spec``, a list ``"name:kind name:kind ..."`` of fields in row
    order; a field is the column ``name`` of ``df`` (or ``computed[name]``), its kind ``str``
    when left out."""
    fields = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        values = computed[name] if name in computed else _col(df, name)
        fields.append(LoadField(name, kind or "str", values))
    return LoadStep(query, tuple(fields), tuple(props.split()))


def load_plan(ds) -> list[LoadStep]:
    """The load steps of a :class:`graphkit.load.Dataset`, in order (patients before the cards
    and claims that link to them). :func:`load_steps` turns them into parameters."""
    p = _unique(ds.patients, "patient_id")
    k = _unique(ds.cards, "card_id")
    c = ds.claims
    keep = ~(c["claim_id"].duplicated() & c["claim_id"].notna()).to_numpy()
    # each claim's facility type as loading worked it out (graphkit.facilities)
    ftype = c["facility_type"][keep].astype("string").fillna("unknown")
    c = c[keep]
    fid = c["facility_id"].astype("string").fillna("")
    settle = _col(c, "settle_time")
    it = ds.claim_items
    item_id = _col(it, "item_id")
    if item_id.isna().any():  # the loader fills item ids; a hand-built frame may not
        fill = it["claim_id"].astype("str") + "#" + it.groupby("claim_id").cumcount().astype("str")
        item_id = item_id.astype("object").where(item_id.notna(), fill)
    it = _unique(it.assign(item_id=item_id), "item_id")
    facility = ("name level ownership kind region")
    return [
        _step("load_patients", p, "patient_id name id_number gender birth_date:date "
              "birth_day:day region death_date:date death_day:day phone address",
              "name id_number gender birth_date birth_day region death_date death_day phone "
              "address", birth_day=_col(p, "birth_date"), death_day=_col(p, "death_date")),
        _step("load_cards", k, "card_id patient_id card_type", "card_type"),
        _step("load_institutions", ds.institutions, "institution_id " + facility, facility),
        _step("load_pharmacies", ds.pharmacies, "pharmacy_id name region", "name region"),
        _step("load_doctors", ds.doctors, "doctor_id institution_id name department",
              "name department"),
        _step("load_pharmacists", ds.pharmacists, "pharmacist_id pharmacy_id name"),
        _step("load_claims", c,
              "claim_id patient_id card_id institution_id pharmacy_id facility_id doctor_id "
              "pharmacist_id device_id operator_phone claim_type facility_type "
              "settle_time:datetime settle_date:date settle_day:day settle_ts:ts "
              "admit_date:date admit_day:day discharge_date:date discharge_day:day "
              "diagnosis_code total_amount:num fund_amount:num",
              "claim_type facility_type settle_time settle_date settle_day settle_ts admit_date "
              "admit_day discharge_date discharge_day diagnosis_code total_amount fund_amount",
              card_id=_col(c, "card_id").fillna(c["patient_id"]),
              institution_id=fid.where(ftype == "institution", ""),
              pharmacy_id=fid.where(ftype == "pharmacy", ""),
              facility_id=fid.where(~ftype.isin(["institution", "pharmacy"]), ""),
              facility_type=ftype, settle_date=settle, settle_day=settle, settle_ts=settle,
              admit_day=_col(c, "admit_date"), discharge_day=_col(c, "discharge_date")),
        _step("load_claim_items", it,
              "item_id claim_id trace_code item_code item_name quantity:num unit_price:num "
              "amount:num", "item_code item_name quantity unit_price amount"),
    ]


def load_steps(ds, server: str = "neo4j") -> list[tuple[str, list]]:
    """The (query name, ``$rows``) of each load step of a :class:`graphkit.load.Dataset`, in
    order, as the store sends them to ``server`` (``neo4j``: the plain queries with rows of maps;
    ``falkordb``: see :class:`_FalkorDialect`).

    Exposed for tests and for callers that want to load with their own driver.
    """
    dialect = _DIALECTS[_server_name(server)](None)
    return [(dialect.load_query(step.query).name, dialect.rows(step)) for step in load_plan(ds)]


def _batches(rows: list, size: int) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


# ------------------------------------------------------------------------------------------------
# FalkorDB's load rows: one string a row
# ------------------------------------------------------------------------------------------------

#: Field separator of FalkorDB's load rows (U+001F UNIT SEPARATOR; see
#: cypher/load_claims_falkordb.cypher).
SEP = "\x1f"


def _t_str(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("")


def _t_date(s: pd.Series, fmt: str = "%Y-%m-%d") -> pd.Series:
    return pd.to_datetime(s, errors="coerce").dt.strftime(fmt).astype("string").fillna("")


def _t_day(s: pd.Series) -> pd.Series:
    d = pd.to_datetime(s, errors="coerce").dt.normalize()
    days = (d - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)
    return days.astype("Int64").astype("string").fillna("")


def _t_ts(s: pd.Series) -> pd.Series:
    d = pd.to_datetime(s, errors="coerce")
    secs = (d - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    return secs.astype("Int64").astype("string").fillna("")


def _t_num(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Floats as two text fields (m, k), exact: the value is ``m * 2^k`` with m an integer below
    2^53 (odd, so that 2^k stays representable), which the load queries compute as
    ``toInteger(r[i]) * 2.0 ^ toInteger(r[i + 1])``; infinity is (+-1, 99999); missing is empty
    (null). Numbers then travel inside the row's string: a Bolt list of numbers per row costs the
    driver about as much CPU as the server spends writing it, and FalkorDB's toFloat() parses to
    single precision."""
    v = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()
    missing, inf = np.isnan(v), np.isinf(v)
    f, e = np.frexp(np.where(missing | inf, 0.0, v))
    m = (f * 2.0 ** 53).astype(np.int64)
    k = e.astype(np.int64) - 53
    nz = m != 0
    tz = np.zeros_like(m)
    tz[nz] = np.round(np.log2((m[nz] & -m[nz]).astype(np.float64))).astype(np.int64)
    m, k = m >> tz, k + tz
    k[~nz] = 0
    m[inf], k[inf] = np.sign(v[inf]).astype(np.int64), 99999
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(a: np.ndarray) -> pd.Series:
        arr = pc.if_else(pa.array(missing), "", pa.array(a).cast(pa.string()))
        return pd.Series(pd.arrays.ArrowStringArray(arr), index=s.index)

    return text(m), text(k)



def _lines(*columns: pd.Series) -> list[str]:
    """One string per row, fields joined by :data:`SEP`; a missing value is an empty field
    (the load queries split the string and index the fields as r[0], r[1], ...)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = [pa.array(c.astype("string").fillna("")).cast(pa.large_string()) for c in columns]
    for a in arrays:
        if len(a) and pc.any(pc.match_substring(a, SEP)).as_py():
            bad = a.filter(pc.match_substring(a, SEP))[0].as_py()
            raise BackendError(f"value {bad!r} contains the control character U+001F, which "
                               f"graphkit uses to separate fields when loading; remove it")
    if not len(arrays[0]):
        return []
    return pc.binary_join_element_wise(*arrays, pa.scalar(SEP, pa.large_string())).to_pylist()


_TEXT_FIELD = {"str": _t_str, "date": _t_date, "day": _t_day, "ts": _t_ts,
               "datetime": lambda s: _t_date(s, "%Y-%m-%dT%H:%M:%S")}


def line_rows(step: LoadStep) -> list[str]:
    """The rows of ``step`` as :data:`SEP`-joined strings, fields in the step's order (a ``num``
    field takes two, see :func:`_t_num`): the ``$rows`` of the ``*_falkordb`` load queries."""
    columns: list[pd.Series] = []
    for f in step.fields:
        if f.kind == "num":
            columns.extend(_t_num(f.values))
        else:
            columns.append(_TEXT_FIELD[f.kind](f.values))
    return _lines(*columns)


#: A conditional block of a FalkorDB load query: ``FOREACH (_ IN CASE WHEN r[N] = '' THEN [] ELSE
#: [1] END | <clauses>)`` runs <clauses> only for the rows whose field N is not empty.
_FOREACH_RE = re.compile(r"FOREACH \(_ IN CASE WHEN r\[(\d+)\] = '' THEN \[\] ELSE \[1\] END \|\n"
                         r"(.*?\))\)[ \t]*(?=\n|$)", re.S)


def _optional_fields(text: str) -> tuple[int, ...]:
    """The fields N of the conditional FOREACH blocks of a load query, in order."""
    return tuple(int(m.group(1)) for m in _FOREACH_RE.finditer(text))


def _specialise(text: str, present: frozenset[int]) -> str:
    """The load query for rows whose optional fields ``present`` are set and the others empty:
    each conditional FOREACH block becomes its plain clauses (field set) or disappears (field
    empty). Same writes as the generic query for those rows, without FalkorDB's per-row cost of
    running FOREACH sub-plans (about 40% of the server time of load_claims)."""
    out = _FOREACH_RE.sub(lambda m: m.group(2).strip() if int(m.group(1)) in present else "",
                          text)
    return "\n".join(line for line in out.splitlines() if line.strip())


def _shape_groups(text: str, batch: list[str]) -> list[tuple[str, list[str]]]:
    """Split a batch of FalkorDB load rows into groups of rows with the same optional fields
    set, each with the query specialised to them (:func:`_specialise`); one group with the query
    itself when the query has no conditional blocks. Groups come in order of their first row."""
    fields = _optional_fields(text)
    if not fields:
        return [(text, batch)]
    groups: dict[frozenset[int], list[str]] = {}
    for row in batch:
        parts = row.split(SEP)
        key = frozenset(i for i in fields if i < len(parts) and parts[i] != "")
        groups.setdefault(key, []).append(row)
    return [(_specialise(text, key), rows) for key, rows in groups.items()]


def _escape(value: Any) -> Any:
    """Escape backslashes and single quotes in every string of a parameter value (see
    :attr:`_FalkorDialect.inlines_parameters`)."""
    if isinstance(value, str):
        if "\\" in value or "'" in value:
            return value.replace("\\", "\\\\").replace("'", "\\'")
        return value
    if isinstance(value, dict):
        return {k: _escape(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escape(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------------
# Server dialects
# ------------------------------------------------------------------------------------------------

class _Neo4jDialect:
    """Neo4j 5: the plain queries of ``cypher/``, values as driver parameters, loads as
    ``UNWIND $rows`` of maps; the uniqueness constraints of ``constraints_neo4j.cypher``
    before the indexes."""

    name = "neo4j"
    schema_files = ("constraints_neo4j", "schema")
    #: Neo4j 5 lists indexes with SHOW INDEXES: db.indexes() was deprecated in Neo4j 4 for it and
    #: removed in 5 (Neo4j migration guide, "Changes to procedures and functions").
    indexes_query = ("SHOW INDEXES YIELD labelsOrTypes, properties "
                     "RETURN labelsOrTypes[0] AS label, properties")

    def __init__(self, store: "Neo4jStore | None"):
        self.store = store

    def params(self, values: dict) -> dict:
        """The parameters as sent to the driver."""
        return values

    def load_query(self, name: str) -> NamedQuery:
        """The query a load step runs on this server."""
        return get_query(name)

    def rows(self, step: LoadStep) -> list:
        """A load step's ``$rows``."""
        return map_rows(step)

    def statements(self, query: NamedQuery, rows: list) -> list[tuple[str, dict]]:
        """The (query text, parameters) that write one batch of ``rows``."""
        return [(query.body, {"rows": rows})]


class _FalkorDialect(_Neo4jDialect):
    """FalkorDB 4.18 over Bolt: what its Bolt layer needs, and nothing a Neo4j user sees.

    FalkorDB does not pass Bolt parameters to the query engine: ``get_query()`` in FalkorDB's
    ``src/bolt/bolt_api.c`` prints them in front of the query as ``CYPHER name=value ...``
    (``write_value()``: a string as ``'%.*s'``, unescaped; a float with ``%f``, six decimals),
    and the server parses that text. Hence:

    - strings are escaped (:attr:`inlines_parameters`), or a value with a quote would run as
      Cypher;
    - the big load steps run the ``<step>_falkordb`` queries, which take each row as ONE string
      of :data:`SEP`-separated fields (a list of 10,000 such strings parses about 15 times faster
      than a list of maps) with numbers as exact integer pairs (:func:`_t_num`; ``%f`` would cut
      them to six decimals and FalkorDB's ``toFloat()`` to single precision);
    - those queries' conditional FOREACH blocks are unwrapped per group of rows
      (:func:`_shape_groups`): FalkorDB runs a FOREACH sub-plan per row at about 40% of the
      server time of load_claims.
    """

    name = "falkordb"
    schema_files = ("schema",)   # FalkorDB rejects CREATE CONSTRAINT
    indexes_query = "CALL db.indexes() YIELD label, properties RETURN label, properties"

    def __init__(self, store: "Neo4jStore | None"):
        super().__init__(store)
        self._inline: bool | None = None

    @property
    def inlines_parameters(self) -> bool:
        """Whether the server pastes string parameters into the query text unescaped.

        A value such as ``x' MATCH (n) DETACH DELETE n //`` would run as Cypher (FalkorDB
        4.18's ``write_value()``, above). Probed once per store by echoing ``x\\'y``, so that a
        FalkorDB that passes parameters properly gets them unescaped; when true, every string
        parameter is escaped (``\\`` and ``\\'``) and the server reads back the exact value.
        """
        if self._inline is None:
            probe = "x\\'y"
            try:
                with self.store.driver.session() as session:
                    got = session.run("RETURN $p AS v", {"p": probe}).single()[0]
                self._inline = got != probe
            except Exception:  # noqa: BLE001 - a server that fails the probe inlines badly
                self._inline = True
        return self._inline

    def params(self, values: dict) -> dict:
        return _escape(values) if values and self.inlines_parameters else values

    def load_query(self, name: str) -> NamedQuery:
        if (cypher_dir() / f"{name}_falkordb.cypher").is_file():
            return get_query(f"{name}_falkordb")
        return get_query(name)

    def rows(self, step: LoadStep) -> list:
        if self.load_query(step.query).name != step.query:
            return line_rows(step)
        return map_rows(step)

    def statements(self, query: NamedQuery, rows: list) -> list[tuple[str, dict]]:
        if not any(p.name == "sep" for p in query.params):
            return [(query.body, {"rows": rows})]
        return [(text, {"rows": part, "sep": SEP}) for text, part in _shape_groups(query.body, rows)]


_DIALECTS = {"neo4j": _Neo4jDialect, "falkordb": _FalkorDialect}


def _server_name(server: str) -> str:
    if server not in _DIALECTS:
        raise BackendError(f"unknown server {server!r}: use auto, "
                           f"{', '.join(sorted(_DIALECTS))}")
    return server



# ------------------------------------------------------------------------------------------------
# The store
# ------------------------------------------------------------------------------------------------

@dataclass
class LoadReport:
    """What :meth:`Neo4jStore.load_dataset` did."""

    rows: int = 0                    # input rows of this run's batches (skipped ones excluded)
    batches: int = 0                 # batches written by this run
    batches_skipped: int = 0         # batches an earlier, interrupted run had written
    nodes_created: int = 0
    relationships_created: int = 0
    properties_set: int = 0
    seconds: float = 0.0
    per_step: dict[str, int] = field(default_factory=dict)   # query name -> rows

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def detect_server(driver) -> str:
    """``neo4j`` when the server behind ``driver`` is Neo4j, else ``falkordb``.

    The agent string does not tell them apart: FalkorDB answers the Bolt HELLO with
    ``server: "Neo4j/5.13.0"`` (``BoltHelloCommand`` in FalkorDB's ``src/bolt/bolt_api.c``).
    ``CALL dbms.components()`` does: Neo4j answers with the component ``Neo4j Kernel`` (Neo4j
    knowledge base, "Using Cypher how do I determine the version and edition of Neo4j"), while
    FalkorDB has no such procedure and fails the call. Any other answer or failure gets the
    FalkorDB dialect, the careful one (escaped parameters) and the only other server graphkit is
    tested on.
    """
    try:
        with driver.session() as session:
            names = [str(r[0]) for r in session.run("CALL dbms.components() YIELD name RETURN name")]
    except Exception:  # noqa: BLE001 - any failure means "not Neo4j"
        return "falkordb"
    return "neo4j" if any(n.lower().startswith("neo4j") for n in names) else "falkordb"


def _driver_errors():
    from neo4j import exceptions as ne
    return ne


class Neo4jStore:
    """A graph database reached over Bolt (Neo4j 5 or FalkorDB), queried by named Cypher files.

    Parameters
    ----------
    driver : neo4j.Driver
        An open driver. Use :meth:`connect` to build one from a URI; pass your own to share one
        driver across stores (the tests do: FalkorDB stalls new connections after a close).
    uri : str
        For messages.
    owns_driver : bool
        Close the driver in :meth:`close`.
    server : {"auto", "neo4j", "falkordb"}
        The server's dialect. ``auto`` asks the server on first use (:func:`detect_server`);
        name it to skip the question. ``neo4j`` sends the plain queries of ``cypher/``;
        ``falkordb`` works around FalkorDB's Bolt layer (:class:`_FalkorDialect`).
    """

    def __init__(self, driver, *, uri: str = "", owns_driver: bool = False, server: str = "auto"):
        self.driver = driver
        self.uri = uri
        self.owns_driver = owns_driver
        self._dialect = None if server == "auto" else _DIALECTS[_server_name(server)](self)

    # -- connection ---------------------------------------------------------------------------
    @classmethod
    def connect(cls, uri: str, user: str | None = None, password: str | None = None, *,
                server: str = "auto", timeout: float = 15.0) -> "Neo4jStore":
        """Open a driver to ``uri`` and check that the server answers.

        With no ``user`` the connection is made without authentication.

        Raises
        ------
        BackendError
            The neo4j driver is missing, the URI is invalid, the server is unreachable or it
            refused the credentials.
        """
        try:
            from neo4j import GraphDatabase
        except ImportError:
            raise BackendError("the neo4j driver is not installed: pip install 'graphkit[neo4j]'"
                               ) from None
        ne = _driver_errors()
        auth = (user, password or "") if user else None
        try:
            driver = GraphDatabase.driver(uri, auth=auth, connection_timeout=timeout,
                                          connection_acquisition_timeout=timeout)
        except (ValueError, ne.ConfigurationError) as exc:
            raise BackendError(f"invalid Bolt URI {uri!r}: {exc} "
                               f"(expected e.g. bolt://localhost:7687)") from None
        try:
            driver.verify_connectivity()
        except ne.AuthError as exc:
            driver.close()
            raise BackendError(f"the server at {uri} refused the credentials"
                               f"{' of user ' + repr(user) if user else ' (no auth given)'}: "
                               f"{exc.message or exc.code}. Check --user/--password "
                               f"(NEO4J_USER/NEO4J_PASSWORD)") from None
        except (ne.ServiceUnavailable, ne.SessionExpired, OSError) as exc:
            driver.close()
            who = (f" (connecting as user {user!r}: check --user/--password, or omit --user if "
                   f"the server has no authentication)") if user else ""
            raise BackendError(f"cannot reach a Bolt server at {uri}: {_short(exc)}. Is it "
                               f"running, and is --uri (NEO4J_URI) right?{who}") from None
        except ne.Neo4jError as exc:
            driver.close()
            if user:
                raise BackendError(f"the server at {uri} refused the connection for user "
                                   f"{user!r} ({exc.code}: {exc.message}). Check --user/"
                                   f"--password, or omit --user if the server has no "
                                   f"authentication") from None
            raise BackendError(f"the server at {uri} failed the connection check: "
                               f"{exc.code}: {exc.message}") from None
        store = cls(driver, uri=uri, owns_driver=True, server=server)
        try:
            store.dialect  # chosen now, before any query depends on it
        except BaseException:
            driver.close()
            raise
        return store

    def close(self) -> None:
        if self.owns_driver and self.driver is not None:
            self.driver.close()
        self.driver = None

    def __enter__(self) -> "Neo4jStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def dialect(self) -> "_Neo4jDialect":
        """The server's dialect (:class:`_Neo4jDialect` or :class:`_FalkorDialect`), chosen once
        per store (:func:`detect_server` unless named)."""
        if self._dialect is None:
            self._dialect = _DIALECTS[detect_server(self.driver)](self)
        return self._dialect

    @property
    def server(self) -> str:
        """``neo4j`` or ``falkordb``: the dialect the store speaks."""
        return self.dialect.name

    # -- running ------------------------------------------------------------------------------
    def run_cypher(self, text: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run ad-hoc Cypher (debugging, tests); values still travel as parameters."""
        res = self._run(NamedQuery("ad hoc", Path("<ad hoc>"), text, "query"), dict(params or {}),
                        statement=text)
        return pd.DataFrame.from_records(res.records, columns=res.keys)

    def _run_text(self, text: str, params: dict):
        if params:
            params = self.dialect.params(params)
        with self.driver.session() as session:
            result = session.run(text, params)
            records = [tuple(r.values()) for r in result]
            keys = result.keys()
            summary = result.consume()
        return _Result(records, list(keys), summary)

    def _run(self, query: NamedQuery, params: dict, statement: str | None = None):
        ne = _driver_errors()
        try:
            return self._run_text(statement or query.body, params)
        except ne.AuthError as exc:
            raise BackendError(f"the server at {self.uri} refused the credentials: "
                               f"{exc.message or exc.code}") from None
        except (ne.ServiceUnavailable, ne.SessionExpired, OSError) as exc:
            raise BackendError(f"lost the Bolt server at {self.uri} while running {query.name} "
                               f"({query.file}): {_short(exc)}") from None
        except ne.Neo4jError as exc:
            raise BackendError(f"query {query.name} ({query.file}) failed on the server: "
                               f"{exc.code}: {exc.message}") from None
        except ne.DriverError as exc:
            raise BackendError(f"query {query.name} ({query.file}) failed: {_short(exc)}") from None

    def run(self, name: str, params: Mapping[str, Any] | None = None, /, **kw) -> pd.DataFrame:
        """Run ``cypher/NAME.cypher`` and return its rows as a DataFrame.

        Parameters not given take the defaults declared in the file's header. Columns follow the
        header's ``Returns`` list (present even when no row comes back) and rows its ``Order``.

        Raises
        ------
        BackendError
            Unknown query or parameter, or the server failed the query (the message names the
            file).
        """
        query = get_query(name)
        if query.kind == "schema":
            raise BackendError(f"{query.file} is a schema script: use apply_schema()")
        values = query.bind({**(params or {}), **kw})
        res = self._run(query, values)
        columns = res.keys or [c for c, _ in query.columns]
        df = pd.DataFrame.from_records(res.records, columns=columns)
        for col, typ in query.columns:
            if col not in df.columns:
                df[col] = pd.Series(dtype="object")
        if query.columns:
            declared = [c for c, _ in query.columns]
            df = df[declared + [c for c in df.columns if c not in declared]]
            for col, typ in query.columns:
                df[col] = _typed(df[col], typ)
        if query.order and len(df):
            df = df.sort_values(list(query.order), kind="stable", na_position="first")
            df = df.reset_index(drop=True)
        return df

    def motif(self, name: str, **params) -> pd.DataFrame:
        """Run one of :data:`MOTIFS`; columns as documented in ``cypher/NAME.cypher``."""
        if name not in MOTIFS:
            raise BackendError(f"{name!r} is not a motif query (motifs: {', '.join(MOTIFS)})")
        return self.run(name, params)

    def ring_subgraph(self, patient_ids=(), card_ids=(), claim_ids=()) -> pd.DataFrame:
        """Edges (src_label, src_id, rel, dst_label, dst_id) around the given ids."""
        return self.run("ring_subgraph", patient_ids=[str(x) for x in patient_ids],
                        card_ids=[str(x) for x in card_ids],
                        claim_ids=[str(x) for x in claim_ids])

    def counts(self) -> dict[str, int]:
        """``{"nodes": n, "relationships": m}`` over the whole graph (checkpoints included)."""
        df = self.run("graph_counts")
        by_kind = df.groupby("kind")["total"].sum()
        return {"nodes": int(by_kind.get("node", 0)),
                "relationships": int(by_kind.get("relationship", 0))}

    # -- schema and loading -------------------------------------------------------------------
    def apply_schema(self) -> int:
        """Create the indexes (and, on Neo4j, the uniqueness constraints); skip existing ones.

        Returns the number of statements run.
        """
        ran = 0
        for name in self.dialect.schema_files:
            query = get_query(name)
            existing = self._existing_indexes()
            for stmt in query.statements():
                m = re.search(r"FOR\s*\(\s*\w+\s*:\s*(\w+)\s*\)\s*ON\s*\(\s*\w+\.(\w+)\s*\)", stmt)
                if m and (m.group(1), m.group(2)) in existing:
                    continue
                self._run(query, {}, statement=stmt)
                ran += 1
        return ran

    def _existing_indexes(self) -> set[tuple[str, str]]:
        """(label, property) of every index on the server."""
        text = self.dialect.indexes_query
        rows = self._run(NamedQuery("indexes", Path("<indexes>"), text, "query"), {},
                         statement=text).records
        return {(str(lab), str(p)) for lab, props in rows if lab for p in (props or [])}

    def load_dataset(self, ds, *, batch_size: int = DEFAULT_BATCH, resume: bool = True,
                     on_batch: Callable[[str, int, int], None] | None = None,
                     on_start: Callable[[int], None] | None = None) -> LoadReport:
        """Load a :class:`graphkit.load.Dataset`: schema, then every accepted row in batches.

        Parameters
        ----------
        ds : Dataset
        batch_size : int
            Rows per ``UNWIND $rows`` query.
        resume : bool
            Skip the batches an earlier run of the same input and batch size already wrote
            (tracked in a ``(:GraphkitLoad)`` node). ``False`` merges everything again, which
            is safe too: every write is a MERGE on a key.
        on_batch : callable(step, rows, batches_done), optional
            Called after each batch is written (progress bars; raising from it interrupts the
            load, which a later call resumes).
        on_start : callable(total_rows), optional

        Returns
        -------
        LoadReport
        """
        if batch_size < 1:
            raise BackendError(f"batch size must be at least 1, got {batch_size}")
        started = time.perf_counter()
        report = LoadReport()
        self.apply_schema()
        dialect = self.dialect
        steps = load_plan(ds)
        total = sum(len(step) for step in steps)
        fingerprint = getattr(ds, "fingerprint", None)
        load_key = f"{fingerprint}:{batch_size}" if fingerprint else None
        done = 0
        if load_key and resume:
            prior = self.run("load_checkpoint_get", load_key=load_key)
            if len(prior):
                done = int(prior["batches_done"].iloc[0] or 0)
        if on_start:
            on_start(total)
        index = 0
        for step in steps:
            query = dialect.load_query(step.query)
            rows = dialect.rows(step)
            report.per_step[step.query] = len(rows)
            for batch in _batches(rows, batch_size):
                index += 1
                if index <= done:
                    report.batches_skipped += 1
                    if on_batch:
                        on_batch(step.query, len(batch), index)
                    continue
                for text, params in dialect.statements(query, batch):
                    res = self._run(query, params, statement=text)
                    c = res.summary.counters
                    report.nodes_created += c.nodes_created
                    report.relationships_created += c.relationships_created
                    report.properties_set += c.properties_set
                report.rows += len(batch)
                report.batches += 1
                if load_key:
                    self.run("load_checkpoint_set", load_key=load_key, fingerprint=fingerprint,
                             batch_size=batch_size, batches_done=index, complete=0)
                if on_batch:
                    on_batch(step.query, len(batch), index)
        claims = ds.claims
        if "card_inferred" in claims.columns:  # outside the checkpoints: idempotent flags
            inferred = claims.loc[claims["card_inferred"].fillna(False).astype(bool), "claim_id"]
            for part in _batches([str(x) for x in inferred], batch_size):
                self.run("load_card_inferred", rows=part)
        if load_key:
            self.run("load_checkpoint_set", load_key=load_key, fingerprint=fingerprint,
                     batch_size=batch_size, batches_done=index, complete=1)
            self.run("load_tables_set", load_key=load_key, tables=",".join(_input_tables(ds)))
        report.seconds = time.perf_counter() - started
        return report


    # -- reading the graph back ----------------------------------------------------------------
    def loads(self) -> pd.DataFrame:
        """The inputs graphkit loaded into this graph (``cypher/graphkit_loads.cypher``)."""
        return self.run("graphkit_loads")

    def fetch_dataset(self, batch: int = DEFAULT_FETCH_BATCH,
                      progress: Callable[[str, int], None] | None = None, *,
                      expect_fingerprint: str | None = None):
        """Read the loaded graph back as a :class:`graphkit.load.Dataset`.

        Runs the ``cypher/export_<table>.cypher`` queries page by page (``$skip``/``$limit``,
        ordered by key) and builds the Dataset with :func:`graphkit.load.dataset_from_frames`, the
        loader's own normalising, validation and derived columns: the tables equal those of
        ``graphkit.load`` on the directory that was loaded (same columns, dtypes and values; rows
        ordered by key instead of file order). ``fingerprint`` is the loaded input's, so
        ``rings.json`` names the same input as an embedded run; ``data_dir`` is the server URI.

        Not kept by the graph, so not read back: fractional seconds of
        ``settle_time``, a doctor's ``institution_id`` / a pharmacist registration's
        ``pharmacy_id`` naming no loaded institution / pharmacy, and the source line numbers
        (``_line`` is the row number).

        Parameters
        ----------
        batch : int
            Rows per page.
        progress : callable(table, rows_so_far), optional
            Called after each page.
        expect_fingerprint : str, optional
            Fail unless the graph holds a complete load of this input, and no other input (e.g.
            :func:`graphkit.load.input_fingerprint` of a local DATA_DIR). Without it a graph
            holding several inputs is read back as one, fingerprinted as the set.

        Raises
        ------
        BackendError
            The graph holds no graphkit load (run ``graphkit neo4j load DATA_DIR`` first), a load
            that did not finish, not the expected input or more than it; or a query failed.

        Examples
        --------
        >>> with Neo4jStore.connect("bolt://127.0.0.1:7687") as store:   # doctest: +SKIP
        ...     ds = store.fetch_dataset()
        ...     doc = gk.find_rings(ds, backend="neo4j")
        """
        from graphkit.load import dataset_from_frames

        if batch < 1:
            raise BackendError(f"fetch batch must be at least 1, got {batch}")
        fingerprint, tables = self._loaded_input(expect_fingerprint)
        frames: dict[str, pd.DataFrame] = {}
        for table, name in EXPORTS.items():
            if tables is not None and table not in tables:
                continue
            pages = []
            skip = 0
            while True:
                page = self.run(name, skip=skip, limit=batch)
                pages.append(page)
                skip += len(page)
                if progress:
                    progress(table, skip)
                if len(page) < batch:
                    break
            frames[table] = pd.concat(pages, ignore_index=True) if len(pages) > 1 else pages[0]
            if tables is None and frames[table].empty and table not in ("patients", "claims"):
                del frames[table]  # an older load that did not record its tables
        try:
            return dataset_from_frames(frames, data_dir=self.uri, fingerprint=fingerprint)
        except GraphkitError as exc:
            raise BackendError(f"the graph at {self.uri} cannot be read back as a data set: "
                               f"{exc}") from None

    def _loaded_input(self, expect: str | None) -> tuple[str, set[str] | None]:
        """(fingerprint, tables) of the input(s) loaded into the graph; see :meth:`fetch_dataset`.
        ``tables`` is None when no load recorded its tables (then a table is read back when the
        graph has rows of it)."""
        loads = self.loads()
        how = (f"run `graphkit neo4j load DATA_DIR --uri {self.uri}` first")
        if loads.empty or loads["fingerprint"].isna().all():
            raise BackendError(f"the graph at {self.uri} holds no graphkit load: {how}")
        loads = loads[loads["fingerprint"].notna()]
        done = loads.groupby("fingerprint")["complete"].max().fillna(0)
        unfinished = sorted(done[done < 1].index)
        if unfinished:
            raise BackendError(f"the load of input {unfinished[0][:12]}... into {self.uri} did not "
                               f"finish: run `graphkit neo4j load DATA_DIR --uri {self.uri}` "
                               f"again to complete it")
        prints = sorted(done.index)
        if expect is not None and expect not in prints:
            raise BackendError(f"the graph at {self.uri} holds input "
                               f"{', '.join(p[:12] + '...' for p in prints)}, not this DATA_DIR "
                               f"({expect[:12]}...): {how}")
        if expect is not None and len(prints) > 1:
            # rings read from the graph would cover every input in it, not DATA_DIR's alone
            others = [p[:12] + "..." for p in prints if p != expect]
            raise BackendError(f"the graph at {self.uri} holds this DATA_DIR ({expect[:12]}...) and "
                               f"{len(others)} other input(s) ({', '.join(others)}) merged with it: "
                               "load DATA_DIR into an empty graph, or name no local DATA_DIR to "
                               "detect over all of them")
        if len(prints) == 1:
            fingerprint = prints[0]
        else:  # several inputs merged into one graph: a fingerprint of the set
            import hashlib
            fingerprint = hashlib.sha256("\n".join(prints).encode()).hexdigest()
        tables: set[str] = set()
        for text in loads["tables"]:
            if isinstance(text, str) and text:
                tables |= set(text.split(","))
        if not tables:
            return fingerprint, None
        return fingerprint, tables | {"patients", "claims"}


def _input_tables(ds) -> list[str]:
    """The tables the input of ``ds`` had: its files, or (a hand-built Dataset) its non-empty
    tables."""
    files = getattr(ds, "files", None)
    if files:
        names = set(files)
    else:
        names = {t for t, df in getattr(ds, "tables", {}).items() if len(df)}
    return sorted((names & set(EXPORTS)) | {"patients", "claims"})


@dataclass
class _Result:
    records: list[tuple]
    keys: list[str]
    summary: Any


def _typed(s: pd.Series, typ: str) -> pd.Series:
    if typ == "str":
        return s.astype("object").where(s.notna(), None).map(
            lambda v: v if v is None or isinstance(v, str) else str(v)).astype("str")
    if typ == "int":
        return pd.to_numeric(s, errors="coerce").astype("Int64")
    if typ == "float":
        return pd.to_numeric(s, errors="coerce").astype("float64")
    return s


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:400] if text else type(exc).__name__
