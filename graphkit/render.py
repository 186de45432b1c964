"""Ring pages: an index of every ring and one self-contained interactive page per ring.

Every page inlines vis-network (vendored as package data, graphkit/static/vis-network/), its CSS and
its data, and loads nothing from any network: it works from a USB stick on a machine with no
internet, and inside an ``<iframe srcdoc>``. The network data is built directly as vis-network
node/edge JSON (pyvis's ``add_edge`` is quadratic), physics stabilises once and then stops.

Every user string is escaped (HTML text, attributes, tooltips built as DOM text, JSON embedded
with ``<``, ``>`` and ``&`` escaped). Personal data is masked by default with the functions of
:mod:`graphkit.masking`, the same ones evidence packages use.

Examples
--------
>>> import graphkit as gk
>>> from graphkit.render import render_all, ring_page_html
>>> doc = gk.rings.read_rings("out/demo/rings.json")           # doctest: +SKIP
>>> ds = gk.load("data_samples/demo")                            # doctest: +SKIP
>>> render_all(doc, ds, "out/demo")                              # doctest: +SKIP
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path
from typing import Callable, NamedTuple

import networkx as nx
import numpy as np
import pandas as pd
from markupsafe import Markup

from graphkit._arrow import isin
from graphkit._files import writing
from graphkit.contract import TABLES, TYPOLOGIES, role_zh
from graphkit.errors import GraphkitError
from graphkit.graph import EDGE_TYPES, edge_styles, facility_types
from graphkit.layout import FONT_SIZE, HUB_FONT_SIZE, ring_layout
from graphkit.masking import Masker, frame_of as _frame, text_of as _text
from graphkit.rings import Ring
from graphkit.templating import render_template

__all__ = ["render_all", "ring_graph", "ring_page_html", "graph_page_html", "RingView", "GraphView",
           "TYPE_ZH", "NODE_STYLE", "vis_network_js"]

#: member type -> (中文, colour, vis-network shape)
NODE_STYLE = {
    "patient": ("参保人", "#4e79a7", "dot"),
    "card": ("医保凭证", "#f28e2b", "diamond"),
    "doctor": ("医师", "#59a14f", "triangle"),
    "pharmacist": ("药师", "#86bc6a", "triangleDown"),
    "institution": ("医疗机构", "#e15759", "square"),
    "pharmacy": ("定点药店", "#b07aa1", "star"),
    "phone": ("手机号", "#17becf", "dot"),
    "address": ("住址", "#9c755f", "hexagon"),
    "device": ("终端设备", "#7f7f7f", "square"),
    "trace_code": ("药品追溯码", "#ff9da7", "triangle"),
    "drug": ("药品", "#d4a017", "hexagon"),
}
TYPE_ZH = {t: s[0] for t, s in NODE_STYLE.items()}
TYPE_ORDER = list(NODE_STYLE)
CLAIM_TYPE_ZH = {"outpatient": "门诊", "inpatient": "住院", "pharmacy": "购药"}
CARD_TYPE_ZH = {"01": "医保电子凭证", "02": "居民身份证", "03": "社会保障卡"}

#: edge kind -> (verb, colour): the edges of graphkit.graph.EDGE_TYPES and their page views
EDGE_STYLE = edge_styles()

_SOURCE_MAP_RE = re.compile(r"//# sourceMappingURL=\S*")


# --------------------------------------------------------------------------------------------
# assets


#: the vendored vis-network build (graphkit/static/vis-network/README.md: version, licence)
VIS_NETWORK_VERSION = "9.1.2"
VIS_NETWORK_SHA256 = "1f20f0736f32cb9bedf8f6383b25cfea2f839e1abe80d6e8040b4d5bea378c69"


def vis_network_path() -> Path:
    """The vendored vis-network build, package data of graphkit."""
    return Path(__file__).resolve().parent / "static" / "vis-network" / "vis-network.min.js"


@functools.lru_cache(maxsize=1)
def vis_network_js() -> Markup:
    """vis-network's minified JS (vendored, :data:`VIS_NETWORK_VERSION`), safe to inline in
    <script> (see :func:`_script_safe`)."""
    path = vis_network_path()
    if not path.is_file():
        raise GraphkitError(f"vis-network is missing from the graphkit package ({path}); "
                            "reinstall graphkit")
    js = path.read_text(encoding="utf-8")
    js = _SOURCE_MAP_RE.sub("", js)
    return _script_safe(js)


def _script_safe(js: str) -> Markup:
    """A script of graphkit's own that a page inlines in a ``<script>`` element: ``</script`` and
    ``<!--`` in it are made inert. Markup, because escaping it as text would break the script
    (and the hash the page's policy allows it by); it never holds user data."""
    return Markup(js.replace("</script", "<\\/script").replace("<!--", "<\\!--"))


@functools.lru_cache(maxsize=None)
def _template(name: str) -> str:
    return resources.files("graphkit").joinpath("templates", name).read_text(encoding="utf-8")


def _stylesheet() -> Markup:
    """graphkit's page stylesheet, inlined in ``<style>`` unchanged (Markup: escaping would change
    its selectors and the hash the page's policy allows it by; it holds no user data)."""
    return Markup(_template("page.css"))


# --------------------------------------------------------------------------------------------
# Content-Security-Policy
#
# Every page carries a policy in a <meta http-equiv> (pages are opened as files, so there are
# no response headers): nothing may be fetched (default-src 'none'), only the page's own inline
# scripts run, allowed by their SHA-256 (a <script> smuggled in through a user string would not
# match), only its own <style> element applies, and no form posts anywhere. vis-network draws
# on a canvas and positions its tooltip through element.style (CSSOM, which style-src does not
# govern); it loads no image, font or stylesheet, so none is allowed. frame-ancestors cannot be
# set from a <meta>; a notebook shows the page in an <iframe srcdoc>, which keeps the policy.


@functools.lru_cache(maxsize=64)
def _sha256_source(text: str) -> str:
    """A CSP hash source for an inline element's exact text (each distinct text hashed once)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(scripts: tuple[str, ...] = (), styles: tuple[str, ...] = ()) -> str:
    """The policy of a page whose inline ``<script>`` and ``<style>`` elements hold exactly
    ``scripts`` and ``styles`` (scripts of ``type="application/json"`` are data, not run)."""
    script_src = " ".join(_sha256_source(t) for t in scripts) or "'none'"
    style_src = " ".join(_sha256_source(t) for t in styles) or "'none'"
    return (f"default-src 'none'; script-src {script_src}; style-src {style_src}; "
            "form-action 'none'; base-uri 'none'")


def graph_scripts() -> tuple[str, ...]:
    """The inline scripts of a page with a network graph: vis-network, then graphkit's."""
    return (vis_network_js(), _script_safe(_template("graph.js")))


def table_scripts() -> tuple[str, ...]:
    """The inline script of the index page (filter and sort the table of rings)."""
    return (_script_safe(_template("table.js")),)


def page_context(title: str, scripts: tuple[str, ...] = ()) -> dict:
    """What the page layout (templates/_page.html) needs: the title, graphkit's stylesheet, the
    inline ``scripts`` the page carries and the policy allowing exactly those and that
    stylesheet."""
    css = _stylesheet()
    return {"generator": GENERATOR, "title": title, "css": css, "scripts": scripts,
            "policy": content_security_policy(scripts, (css,))}


def _json_script(obj) -> Markup:
    """``obj`` as JSON for a ``<script type="application/json">`` element. ``&``, ``<`` and ``>``
    (and the JS line separators) are written as \\u escapes, so no user string in it can end the
    element or open a comment; Markup, because HTML-escaping it would change the JSON."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _money(v) -> str:
    try:
        return f"{float(v):,.2f}"
    except (TypeError, ValueError):
        return ""


# --------------------------------------------------------------------------------------------
# data set lookups (computed once per data set, shared by every ring of one render)


def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in TABLES[table].column_names})


class _Index:
    """Lookups over a Dataset (or anything with the same table attributes)."""

    def __init__(self, ds):
        def get(name):
            df = _frame(ds, name)
            if df is None:
                return _empty(name)
            for c in TABLES[name].column_names:
                if c not in df.columns:
                    df = df.assign(**{c: pd.NA})
            return df

        self.patients = get("patients").drop_duplicates("patient_id").set_index("patient_id",
                                                                                drop=False)
        cards = get("cards")
        if cards.empty and not self.patients.empty:
            cards = pd.DataFrame({"card_id": self.patients["patient_id"].values,
                                  "patient_id": self.patients["patient_id"].values,
                                  "card_type": pd.NA})
        self.cards = cards.drop_duplicates("card_id").set_index("card_id", drop=False)
        self.institutions = get("institutions").drop_duplicates("institution_id").set_index(
            "institution_id", drop=False)
        self.pharmacies = get("pharmacies").drop_duplicates("pharmacy_id").set_index(
            "pharmacy_id", drop=False)
        self.doctors = get("doctors").drop_duplicates("doctor_id").set_index("doctor_id",
                                                                             drop=False)
        self.pharmacists = get("pharmacists")
        self.claims = _compact(get("claims"), TABLES["claims"].column_names)
        self.items = _compact(get("claim_items"), TABLES["claim_items"].column_names)
        self._sorted: dict[tuple[str, str], tuple] = {}
        self._pos: dict[str, dict] = {}
        self._facility_types = facility_types(self.institutions.index, self.pharmacies.index,
                                              self.claims)
        #: pharmacist_id -> (name on its first registration, the pharmacies it is registered at)
        self.registrations: dict[str, tuple] = {}
        ph = self.pharmacists
        for pid, name, pharmacy in zip(_py(ph["pharmacist_id"]), _py(ph["name"]),
                                       _py(ph["pharmacy_id"])):
            reg = self.registrations.setdefault(pid, (name, set()))
            if pharmacy is not None:
                reg[1].add(pharmacy)
        # trace codes on more than one item row: the only ones that can be settled twice, and
        # (with a ring's own codes) the only ones a page looks up; each code is one pack, so
        # these are few (a factorize and a count instead of a groupby over every item)
        codes, _ = pd.factorize(self.items["trace_code"])
        counts = np.bincount(codes[codes >= 0], minlength=1)
        shared = np.flatnonzero((codes >= 0) & (counts[np.maximum(codes, 0)] > 1))
        tc = self.items[["trace_code", "claim_id"]].iloc[shared].dropna()
        n = tc.drop_duplicates().groupby("trace_code", sort=False)["claim_id"].size()
        self.repeated_codes = set(n.index[n > 1])
        self._shared_code_rows = shared

    def named(self, ring, text: str) -> str:
        """``text`` with each of the ring's facility codes followed by the facility's name:
        "在 P33010900056 再次结算" reads "在 海王星辰大药房（文新店） (P33010900056) 再次结算"."""
        names = {}
        for m in ring.members:
            table = {"institution": self.institutions, "pharmacy": self.pharmacies}.get(m.type)
            if table is not None and m.id in text and m.id in table.index:
                name = table["name"].get(m.id)
                if isinstance(name, str) and name and name not in text:
                    names[m.id] = name
        if not names:
            return text
        return _codes_pattern(tuple(sorted(names, key=lambda c: (-len(c), c)))).sub(
            lambda hit: f"{names[hit.group(1)]} ({hit.group(1)})", text)

    def facility_names(self, ring) -> list[str]:
        """"name (id)" of the ring's institutions and pharmacies (the id alone without a name),
        so the index can be searched by facility name."""
        out = []
        for m in ring.members:
            table = {"institution": self.institutions, "pharmacy": self.pharmacies}.get(m.type)
            if table is None:
                continue
            name = table["name"].get(m.id) if m.id in table.index else None
            out.append(f"{name}（{m.id}）" if isinstance(name, str) and name else m.id)
        return out

    def take(self, name: str, ids) -> pd.DataFrame:
        """Rows of lookup table ``name`` (patients, cards, ...) whose key is in ``ids``."""
        df = getattr(self, name)
        ids = sorted({i for i in ids if i is not None})
        if not ids or not len(df):
            return df.iloc[0:0]
        pos = self._pos.get(name)
        if pos is None:  # key -> row position, built once per table
            pos = self._pos[name] = {k: i for i, k in enumerate(df.index.tolist())}
        return df.iloc[[pos[i] for i in ids if i in pos]]

    def card_holders(self, cards) -> dict:
        """card_id -> holder patient_id for the given cards."""
        ids = sorted({c for c in cards if c is not None})
        if not ids or not len(self.cards):
            return {}
        sub = self.take("cards", ids)["patient_id"]
        return {k: v for k, v in zip(sub.index, _py(sub))}

    def rows(self, table: str, col: str, values) -> pd.DataFrame:
        """Rows of ``claims`` or ``items`` whose ``col`` is in ``values`` (in table order).

        A sorted key array per column is built once, so a ring's lookup costs
        O(k log n) instead of a scan of the whole table.
        """
        df = self.claims if table == "claims" else self.items
        found, _ = self._lookup((table, col), lambda: df[col], values)
        return df.iloc[np.sort(np.concatenate(found))] if found else df.iloc[0:0]

    def items_of_codes(self, codes) -> pd.DataFrame:
        """Item rows settling any of the trace ``codes`` (in table order). Only codes on several
        rows are sorted, few since one pack is one code; any other is found by one scan."""
        items = self.items
        found, missing = self._lookup(("items", "trace_code"),
                                      lambda: items["trace_code"].iloc[self._shared_code_rows],
                                      codes)
        if len(missing):
            found.append(np.flatnonzero(isin(items["trace_code"], missing)))
        return items.iloc[np.sort(np.concatenate(found))] if found else items.iloc[0:0]

    def _lookup(self, key: tuple, column, values) -> tuple[list[np.ndarray], np.ndarray]:
        """(row positions of each of ``values`` found in ``column()``, the values not found);
        ``column()`` is sorted once under ``key``."""
        if key not in self._sorted:
            s = column().dropna().sort_values(kind="stable")
            self._sorted[key] = (s.to_numpy(dtype=object), s.index.to_numpy())
        keys, pos = self._sorted[key]
        want = np.array(sorted({str(v) for v in values if isinstance(v, str)}), dtype=object)
        lo = np.searchsorted(keys, want, side="left")
        hi = np.searchsorted(keys, want, side="right")
        hit = hi > lo
        return [pos[a:b] for a, b in zip(lo[hit], hi[hit])], want[~hit]

    def facility_kind(self, fid) -> str:
        """``"institution"`` or ``"pharmacy"``, by :func:`graphkit.graph.facility_types`."""
        return self._facility_types.get(fid, "institution")


# --------------------------------------------------------------------------------------------
# the ring view


class _Drawing:
    """The nodes and links of a ring's graph as they are gathered: one node per ``type:id``
    (marked member or not), one link per pair and kind, summing claims and fund and keeping up to
    twelve example claims."""

    def __init__(self, ring):
        self.nodes: dict[str, dict] = {}
        self.edges: dict[tuple, dict] = {}
        self.members = {(m.type, m.id): m for m in ring.members}

    def node(self, t, i) -> str:
        key = f"{t}:{i}"
        if key not in self.nodes:
            m = self.members.get((t, i))
            self.nodes[key] = {"type": t, "id": i, "member": m is not None,
                               "role": m.role if m else ""}
        return key

    def edge(self, a, b, kind, n=1, fund=0.0, claims=(), label=None) -> None:
        k = (a, b, kind) if a <= b else (b, a, kind)
        e = self.edges.get(k)
        if e is None:
            e = self.edges[k] = {"kind": kind, "count": 0, "fund": 0.0, "claims": [],
                                 "label": label}
        e["count"] += int(n)
        e["fund"] += float(fund or 0.0)
        room = 12 - len(e["claims"])
        if room > 0:
            e["claims"].extend(list(claims)[:room])


class RingView:
    """The part of the data set a ring's page shows: its claims, the graph and the facts.

    ``graph`` is a :class:`networkx.Graph` whose nodes are ``"type:id"`` strings with attributes
    ``type``, ``id``, ``member`` (a ring member, not just tied to one), ``role``, ``name`` and
    ``facts`` (raw, unmasked); edges carry ``kind``, ``count``, ``fund``, ``claims`` and ``label``.
    Views over ``max_nodes`` are cut to the ring's core; ``graph.graph["omitted"]`` counts what
    was left out by type and ``graph.graph["note"]`` says so in Chinese.
    """

    #: the page lists the ring's members in a table (a :class:`GraphView` has no ring)
    members_table = True

    def __init__(self, ring, dataset, masker: Masker | None = None, *, max_nodes: int = 2000,
                 index: _Index | None = None):
        self.ring = ring
        self.masker = masker if masker is not None else Masker(dataset)
        self.ix = index if index is not None else _Index(dataset)
        self.max_nodes = max(1, int(max_nodes))
        self._shown: tuple | None = None  # (graph, graph_nodes_by_kind()) once asked for
        self.claims = self._select_claims()
        self.graph = self._build_graph()
        self._cut()
        self._know_people()

    def _know_people(self) -> None:
        """Tell the masker the names and addresses of the people in view, so that it masks them
        wherever they occur in free text too."""
        people = [a for _, a in self.graph.nodes(data=True)
                  if a["type"] in ("patient", "doctor", "pharmacist")]
        self.masker.know_people([a.get("name") for a in people],
                                [a.get("address") for a in people if a["type"] == "patient"])

    # ---- claims
    def _select_claims(self) -> pd.DataFrame:
        c = self.ix.claims
        ring = self.ring
        if ring.claims:
            sel = self.ix.rows("claims", "claim_id", ring.claims)
        else:
            sel = claims_of_members(ring, c)
        sel = sel.assign(in_ring=True)
        # trace codes of interest: the ring's own and any code of its claims settled again
        ring_items = self.ix.rows("items", "claim_id", sel["claim_id"])
        codes = set(ring.member_ids("trace_code"))
        codes |= set(ring_items["trace_code"].dropna()) & self.ix.repeated_codes
        self.trace_codes = codes
        code_items = self.ix.items_of_codes(codes)
        self.code_items = code_items
        #: trace code -> the claims that settled it (every settlement: code_items holds them all)
        settled = set(zip(_py(code_items["trace_code"]), _py(code_items["claim_id"])))
        self.code_settlements = Counter(code for code, cid in settled
                                        if code is not None and cid is not None)
        more = set(code_items["claim_id"].dropna()) - set(sel["claim_id"])
        if more:
            extra = self.ix.rows("claims", "claim_id", more).assign(in_ring=False)
            sel = pd.concat([sel, extra], ignore_index=True)
            ring_items = pd.concat([ring_items, self.ix.rows("items", "claim_id", more)])
        self.items = ring_items
        if "settle_time" in sel and len(sel):
            sel = sel.sort_values(["settle_time", "claim_id"], kind="stable")
        return sel.reset_index(drop=True)

    def ring_claims_frame(self) -> pd.DataFrame:
        """The ring's claims with the contract's columns (plus ``in_ring`` for re-settlements)."""
        cols = [c for c in TABLES["claims"].column_names if c in self.claims.columns]
        return self.claims[cols + ["in_ring"]].copy()

    def ring_items_frame(self) -> pd.DataFrame:
        cols = [c for c in TABLES["claim_items"].column_names if c in self.ix.items.columns]
        return self.items[cols].copy()

    # ---- graph
    def _build_graph(self) -> nx.Graph:
        """The ring's graph: its members, the people, cards and places of its claims, and the
        links between them (:class:`_Drawing`), as a networkx graph with each node's facts."""
        drawing = _Drawing(self.ring)
        for m in self.ring.members:
            drawing.node(m.type, m.id)
        columns = self._claim_links(drawing) if len(self.claims) else None
        self._contact_links(drawing)
        if columns is not None:
            self._item_links(drawing, columns)
        G = self._as_networkx(drawing)
        self._node_stats(G)
        _collapse_trace_codes(G, self._packs(), drawing.members)
        if self.ring.typology == "diversion":
            self._drop_walk_in_buyers(G)
        if self.ring.typology == "impersonation":
            self._mark_signals(G)
        return G

    def _claim_links(self, drawing: "_Drawing") -> dict:
        """Holders and users of the cards, and the places, doctors, terminals, phones and
        pharmacists of the ring's claims; returns the claims as columns (kept on the view)."""
        ix, claims = self.ix, self.claims
        L = {c: _py(claims[c]) for c in ("claim_id", "patient_id", "card_id", "facility_id",
                                         "doctor_id", "pharmacist_id", "device_id",
                                         "operator_phone", "claim_type")}
        L["_fund"] = pd.to_numeric(claims["fund_amount"], errors="coerce").fillna(0.0).tolist()
        L["_day"] = [_date(v) for v in _py(claims["settle_time"])] if "settle_time" in claims \
            else [""] * len(claims)
        holders = ix.card_holders(L["card_id"])
        L["_holder"] = [holders.get(c) or p for c, p in zip(L["card_id"], L["patient_id"])]
        L["_whokey"] = [f"card:{c}" if c is not None else f"patient:{p}"
                        for c, p in zip(L["card_id"], L["patient_id"])]
        self._cols = L
        node, edge = drawing.node, drawing.edge
        for v in sorted({v for v in L["patient_id"] + L["_holder"] if v is not None}):
            node("patient", v)
        for v in sorted({v for v in L["card_id"] if v is not None}):
            node("card", v)
        # card holder, and a card used for someone other than its holder
        for (card, holder, pat), r in _agg(L, ["card_id", "_holder", "patient_id"]):
            edge(node("patient", holder), node("card", card), "holds", 0)
            if pat != holder:
                edge(node("patient", pat), node("card", card), "used", r.n, r.fund, r.claims)
        # card (or patient) at facility
        for (who, fac), r in _agg(L, ["_whokey", "facility_id"]):
            kind = ix.facility_kind(fac)
            ek = "swipe" if kind == "pharmacy" else (
                "stay" if r.types == ["inpatient"] else "visit")
            edge(who, node(kind, fac), ek, r.n, r.fund, r.claims)
        for col, t, ek in (("doctor_id", "doctor", "prescribed"),
                           ("device_id", "device", "device"),
                           ("operator_phone", "phone", "scan")):
            for (who, v), r in _agg(L, ["_whokey", col]):
                edge(who, node(t, v), ek, r.n, r.fund, r.claims)
        for (fac, v), r in _agg(L, ["facility_id", "pharmacist_id"]):
            kind = ix.facility_kind(fac)
            edge(node("pharmacist", v), node(kind, fac), "pharmacist", r.n, r.fund, r.claims)
        return L

    def _contact_links(self, drawing: "_Drawing") -> None:
        """Phones and addresses the people in view share (or that are members or drawn)."""
        nodes, members = drawing.nodes, drawing.members
        pids = [nodes[k]["id"] for k in nodes if nodes[k]["type"] == "patient"]
        P = self.ix.take("patients", pids)
        for col, t, ek in (("phone", "phone", "tel"), ("address", "address", "addr")):
            vals = P[col].dropna()
            counts = vals.value_counts()
            for pid, v in vals.items():
                if counts[v] >= 2 or (t, v) in members or f"{t}:{v}" in nodes:
                    drawing.edge(drawing.node("patient", pid), drawing.node(t, v), ek, 1)

    def _item_links(self, drawing: "_Drawing", columns: dict) -> None:
        """Trace codes (where each was settled and by whom) and member drugs (where settled)."""
        ix, node, edge = self.ix, drawing.node, drawing.edge
        if self.trace_codes:
            it = _items_with_claims(self.items[self.items["trace_code"].isin(self.trace_codes)],
                                    "trace_code", columns)
            for (code, fac), r in _agg(it, ["trace_code", "facility_id"]):
                kind = ix.facility_kind(fac)
                total = int(self.code_settlements.get(code, r.n))
                label = "追溯码重复结算" if total > 1 else "追溯码结算"
                if r.n > 1:
                    label += f" ×{r.n}"
                edge(node("trace_code", code), node(kind, fac), "trace", r.n, r.fund, r.claims,
                     label=label)
            for (code, who), r in _agg(it, ["trace_code", "_whokey"]):
                edge(node("trace_code", code), who, "trace_buy", r.n, r.fund, r.claims)
        drugs = set(self.ring.member_ids("drug"))
        if drugs:
            it = _items_with_claims(self.items[self.items["item_code"].isin(drugs)],
                                    "item_code", columns)
            for (code, fac), r in _agg(it, ["item_code", "facility_id"]):
                kind = ix.facility_kind(fac)
                edge(node("drug", code), node(kind, fac), "drug", r.n, r.fund, r.claims)

    def _as_networkx(self, drawing: "_Drawing") -> nx.Graph:
        """The drawing as a networkx graph: each node with its facts, each edge labelled (two
        kinds of link between one pair are one edge carrying both labels)."""
        G = nx.Graph(ring_id=self.ring.ring_id, typology=self.ring.typology)
        records = self._records(drawing.nodes.values())
        for key, a in drawing.nodes.items():
            a.update(self._facts(a["type"], a["id"], records))
            G.add_node(key, **a)
        for (a, b, _kind), e in drawing.edges.items():
            verb = EDGE_STYLE[e["kind"]][0]
            if not e["label"]:
                e["label"] = verb if e["kind"] in ("holds", "tel", "addr") else \
                    f"{verb} ×{e['count']}"
            if G.has_edge(a, b):  # two kinds between one pair: keep both labels
                old = G.edges[a, b]
                old["label"] += " / " + e["label"]
                old["count"] += e["count"]
                old["fund"] += e["fund"]
                old["claims"] = (old["claims"] + e["claims"])[:12]
            else:
                G.add_edge(a, b, **e)
        return G

    def _drop_walk_in_buyers(self, G: nx.Graph) -> None:
        """Leave out of a diversion's graph the people who bought a re-settled pack over the
        counter (their cards and whatever ties only to them): context the detector does not list
        as members, and hundreds of them would bury the chain. Each pack says how many it had
        (``buyers``, and a fact); their claims stay on the timeline."""
        A = G.nodes

        def bought(n):  # settled a pack: a trace_buy link to one
            return any(G.edges[n, m]["kind"] == "trace_buy" for m in G.neighbors(n))

        cards = {n for n, a in G.nodes(data=True) if a["type"] == "card" and not a["member"]
                 and bought(n) and not any(A[m]["member"] for m in G.neighbors(n)
                                           if A[m]["type"] == "patient")}
        people = {n for n, a in G.nodes(data=True) if a["type"] == "patient" and not a["member"]
                  and (bought(n) or any(m in cards for m in G.neighbors(n)))
                  and all(m in cards for m in G.neighbors(n) if A[m]["type"] == "card")}
        buyers = cards | people
        if not buyers:
            return
        for n, a in G.nodes(data=True):
            if a["type"] == "trace_code":
                who = {m for m in G.neighbors(n) if m in buyers}
                if who:
                    a["buyers"] = len(who)
                    a["facts"] = a["facts"] + [("线索外购药人", f"{len(who)}（图中未画出）", "")]
        G.remove_nodes_from(sorted(buyers))
        G.remove_nodes_from(sorted(n for n, a in G.nodes(data=True)
                                   if not a["member"] and G.degree(n) == 0))

    def _mark_signals(self, G: nx.Graph) -> None:
        """Name on each holder's link to a card what makes its use impossible for the holder:
        settled after the holder's death, a diagnosis impossible for the holder's sex or age,
        two places on one day. The card's node lists them too (``signals``)."""
        from graphkit.detectors.impersonation import demographic_mismatch

        C = self.claims[self.claims["in_ring"]]
        C = C[C["card_id"].notna()]
        if not len(C) or "settle_time" not in C:
            return
        # in plain Python over the ring's few claims: pandas per step costs more than the work
        cards = _py(C["card_id"])
        holders = self.ix.card_holders(cards)
        P = self.ix.take("patients", holders.values())
        person = {k: dict(zip(("death", "birth", "sex"), v)) for k, v in zip(
            P.index, zip(map(_date, _py(P["death_date"])), map(_date, _py(P["birth_date"])),
                         _py(P["gender"])))}
        who = [person.get(holders.get(c), {}) for c in cards]
        stamps, codes = _py(C["settle_time"]), _py(C["diagnosis_code"])
        days = [_date(v) for v in stamps]
        after_n: Counter = Counter(c for c, p, d in zip(cards, who, days)
                                   if d and p.get("death") and d > p["death"])
        bad_n: Counter = Counter()
        what: dict = {}
        dx = [i for i, v in enumerate(codes) if v is not None]
        if dx:  # only claims with a diagnosis can contradict the holder's sex or age
            when = pd.to_datetime(pd.Series([stamps[i] for i in dx]), errors="coerce")
            born = pd.to_datetime(pd.Series([who[i].get("birth") or None for i in dx]),
                                  errors="coerce")
            bad, meaning = demographic_mismatch(
                pd.Series([codes[i] for i in dx], dtype=object),
                pd.Series([who[i].get("sex") for i in dx], dtype=object),
                (when - born).dt.days / 365.25)
            for i, x, why in zip(dx, bad.tolist(), meaning.tolist()):
                if x:
                    bad_n[cards[i]] += 1
                    what.setdefault(cards[i], why)
        places: dict = defaultdict(set)
        for c, ctype, day, fac in zip(cards, _py(C["claim_type"]), days, _py(C["facility_id"])):
            if ctype == "outpatient" and fac is not None and day:
                places[(c, day)].add(fac)
        two = Counter(c for (c, _), facs in places.items() if len(facs) >= 2)
        for card in sorted(set(cards)):
            signals = []
            if after_n[card]:
                signals.append(f"持卡人死亡后结算 {after_n[card]} 笔")
            if bad_n[card]:
                signals.append(f"诊断与持卡人性别/年龄不符 {bad_n[card]} 笔（{what[card]}）")
            if two[card]:
                signals.append(f"同日两地就诊 {two[card]} 天")
            key, holder = f"card:{card}", f"patient:{holders.get(card)}"
            if not signals or key not in G:
                continue
            G.nodes[key]["signals"] = signals
            if G.has_edge(holder, key):
                e = G.edges[holder, key]
                # on the link the signal's name, its detail in the card's tooltip
                e["label"] += "".join("\n" + x.split("（")[0] for x in signals)
                e["signal"] = True

    def _packs(self) -> dict[str, dict]:
        """trace code -> its pack: ``drug`` (item code), ``drug_name``, ``reseller`` (the node
        of the facility that settled it last, when it was settled again), ``first`` and
        ``last`` (settlement days) and ``facility`` (where it was first settled)."""
        L = getattr(self, "_cols", None)
        if not self.trace_codes or not L:
            return {}
        at = {c: i for i, c in enumerate(L["claim_id"])}  # claims are in settlement order
        it = self.items[self.items["trace_code"].isin(self.trace_codes)]
        seen: dict[str, list] = defaultdict(list)
        drug: dict[str, tuple] = {}
        for code, cid, item, name in zip(_py(it["trace_code"]), _py(it["claim_id"]),
                                         _py(it["item_code"]), _py(it["item_name"])):
            if code is None:
                continue
            if cid in at:
                seen[code].append(at[cid])
            if code not in drug or (drug[code][1] is None and name is not None):
                drug[code] = (item, name)
        out = {}
        for code, rows in seen.items():
            rows = sorted(set(rows))
            facs = [L["facility_id"][i] for i in rows]
            kinds = [self.ix.facility_kind(f) for f in facs]
            item, name = drug.get(code, (None, None))
            again = len(rows) > 1
            out[code] = {"drug": item or "", "drug_name": name or item or "",
                         "facility": f"{kinds[0]}:{facs[0]}" if facs[0] else "",
                         "reseller": f"{kinds[-1]}:{facs[-1]}" if again and facs[-1] else "",
                         "first": L["_day"][rows[0]], "last": L["_day"][rows[-1]]}
        return out

    def _node_stats(self, G: nx.Graph) -> None:
        L = getattr(self, "_cols", None)
        if not L:
            return
        for col, types in (("patient_id", ("patient",)), ("card_id", ("card",)),
                           ("facility_id", ("pharmacy", "institution")),
                           ("doctor_id", ("doctor",)), ("device_id", ("device",)),
                           ("operator_phone", ("phone",)), ("pharmacist_id", ("pharmacist",))):
            n: Counter = Counter()
            f: dict = defaultdict(float)
            for v, fund in zip(L[col], L["_fund"]):
                if v is not None:
                    n[v] += 1
                    f[v] += fund
            for v in n:
                for t in types:
                    key = f"{t}:{v}"
                    if key in G:
                        G.nodes[key]["n_claims"] = n[v]
                        G.nodes[key]["fund"] = f[v]
        if self.trace_codes:
            for code, n in self.code_settlements.items():
                key = f"trace_code:{code}"
                if key in G:
                    G.nodes[key]["n_claims"] = int(n)

    def _records(self, nodes) -> dict[str, dict]:
        """Table rows of the nodes in view, fetched in one lookup per table."""
        ix = self.ix
        want: dict[str, set] = defaultdict(set)
        for a in nodes:
            want[a["type"]].add(a["id"])
        out = {}
        for t, name in (("patient", "patients"), ("card", "cards"),
                        ("institution", "institutions"), ("pharmacy", "pharmacies"),
                        ("doctor", "doctors")):
            sub = ix.take(name, want.get(t, ()))
            cols = {c: _py(sub[c]) for c in sub.columns}
            out[t] = {k: dict(zip(cols, row)) for k, row in zip(sub.index, zip(*cols.values()))}
        return out

    def _facts(self, t: str, i: str, records: dict) -> dict:
        """Raw attributes of a node: ``name`` and ``facts`` [(label, value, mask kind)]."""
        ix = self.ix
        facts: list[tuple[str, str, str]] = []
        name = ""

        def row(_df, key):
            return records.get(t, {}).get(key)

        extra = {}
        if t == "patient":
            r = row(ix.patients, i)
            if r is not None:
                name = _text(r.get("name"))
                g = {"M": "男", "F": "女"}.get(_text(r.get("gender")), _text(r.get("gender")))
                facts += [("身份证号", _text(r.get("id_number")), "id_number"), ("性别", g, ""),
                          ("出生日期", _date(r.get("birth_date")), "birth_date"),
                          ("联系电话", _text(r.get("phone")), "phone"),
                          ("住址", _text(r.get("address")), "address"),
                          ("参保地", _text(r.get("region")), "")]
                if _text(r.get("death_date")):
                    facts.append(("死亡日期", _date(r.get("death_date")), ""))
                extra["address"] = _text(r.get("address"))
        elif t == "card":
            r = row(ix.cards, i)
            if r is not None:
                facts += [("持卡人", _text(r.get("patient_id")), "text"),
                          ("凭证类型", CARD_TYPE_ZH.get(_text(r.get("card_type")),
                                                    _text(r.get("card_type"))), "")]
        elif t in ("institution", "pharmacy"):
            r = row(ix.institutions if t == "institution" else ix.pharmacies, i)
            if r is not None:
                name = _text(r.get("name"))
                for label, col in (("等级", "level"), ("性质", "ownership"), ("类别", "kind"),
                                   ("区划", "region")):
                    if col in r:
                        facts.append((label, _text(r.get(col)), "text"))
        elif t == "doctor":
            r = row(ix.doctors, i)
            if r is not None:
                name = _text(r.get("name"))
                facts += [("科室", _text(r.get("department")), "text"),
                          ("所在机构", _text(r.get("institution_id")), "text")]
        elif t == "pharmacist":
            reg = ix.registrations.get(i)
            if reg is not None:
                name = _text(reg[0])
                regs = sorted(reg[1])
                facts.append((f"注册药店（{len(regs)}）", "、".join(regs[:10]), "text"))
        elif t == "trace_code":
            n = int(self.code_settlements.get(i, 0))
            facts.append(("结算次数", str(n), ""))
            if len(i) != 20 or not i.isdigit():
                facts.append(("格式", "不是20位数字追溯码", ""))
        elif t == "drug":
            it = self.items[self.items["item_code"] == i]
            if len(it):
                name = _text(it["item_name"].dropna().iloc[0]) if it["item_name"].notna().any() \
                    else ""
        return {"name": name, "facts": [f for f in facts if f[1]], **extra}

    def _cut(self) -> None:
        G = self.graph
        G.graph["total_nodes"] = G.number_of_nodes()
        G.graph["omitted"] = {}
        G.graph["note"] = ""
        if G.number_of_nodes() <= self.max_nodes:
            return
        deg = dict(G.degree(weight="count"))
        order = sorted(G.nodes, key=lambda n: (not G.nodes[n]["member"], -deg[n],
                                               TYPE_ORDER.index(G.nodes[n]["type"])
                                               if G.nodes[n]["type"] in TYPE_ORDER else 99, n))
        keep = set(order[:self.max_nodes])
        dropped = Counter(G.nodes[n]["type"] for n in order[self.max_nodes:])
        dropped_members = sum(1 for n in order[self.max_nodes:] if G.nodes[n]["member"])
        # in G's order: a subgraph view of fewer than half the nodes iterates the kept set,
        # whose order is the process's string hashing
        H = G.__class__()
        H.add_nodes_from((n, a) for n, a in G.nodes(data=True) if n in keep)
        H.add_edges_from(e for e in (G.edges(keys=True, data=True) if G.is_multigraph()
                                     else G.edges(data=True))
                         if e[0] in keep and e[1] in keep)
        H.graph.update(G.graph)
        H.graph["omitted"] = {t: dropped[t] for t in TYPE_ORDER if dropped.get(t)}
        parts = "，".join(f"{TYPE_ZH.get(t, t)} {n}" for t, n in H.graph["omitted"].items())
        H.graph["note"] = (f"本图共 {G.number_of_nodes()} 个节点，超过显示上限 {self.max_nodes}；"
                           f"仅显示线索核心（成员优先、按关联强度排序）。未显示：{parts}"
                           + (f"（其中线索成员 {dropped_members} 个）" if dropped_members else "")
                           + ("。完整名单见成员表。" if self.members_table else "。"))
        self.graph = H

    # ---- display
    def display_name(self, a: dict) -> str:
        t, m = a["type"], self.masker
        if t in ("patient", "doctor", "pharmacist"):
            return m.name(a.get("name"))
        if t == "phone":
            return m.phone(a["id"])
        if t == "address":
            return m.address(a["id"])
        return m.text(a.get("name") or "")

    def facts_display(self, a: dict) -> list[str]:
        m = self.masker
        fn = {"id_number": m.id_number, "phone": m.phone, "address": m.address,
              "name": m.name, "birth_date": m.birth_date, "text": m.text, "": m.text}
        # masked, a birth date shows only its year (see graphkit.masking), and says so
        label_of = {"出生日期": "出生年份"} if m.enabled else {}
        return [f"{label_of.get(label, label)}：{fn[kind](v)}"
                for label, v, kind in a.get("facts", [])]

    def graph_nodes_by_kind(self) -> list[tuple[str, dict]]:
        """(node, attrs) pairs with display fields added (masked as the masker says), computed
        once per view: the graph panel, the members table and the report all show them."""
        if self._shown is None or self._shown[0] is not self.graph:
            shown = []
            for n, a in self.graph.nodes(data=True):
                b = dict(a)
                b["type_zh"] = TYPE_ZH.get(a["type"], a["type"])
                b["display"] = self.display_name(a)
                b["facts_display"] = self.facts_display(a)
                shown.append((n, b))
            self._shown = (self.graph, shown)
        return list(self._shown[1])

    def member_counts(self) -> dict[str, int]:
        c = Counter(m.type for m in self.ring.members)
        return {t: c[t] for t in TYPE_ORDER if c.get(t)}

    def _label(self, a: dict) -> str:
        """The text drawn under a node: its name and identifier (a pack: drug and count)."""
        shown_id = self.masker.ident(a["type"], a["id"])
        disp = a["display"]
        if a["type"] in ("phone", "address") or a.get("codes"):
            return disp
        if disp:
            return f"{_short(disp, 14)}\n{_short(shown_id, 22)}"
        return _short(shown_id, 22)

    def layout_nodes(self) -> list[dict]:
        """The nodes as :func:`graphkit.layout.ring_layout` takes them: kind, role, the label
        drawn, and a recruit's home place and household."""
        from graphkit.detectors.places import place_of

        shown = self.graph_nodes_by_kind()
        places = [None] * len(shown)
        if self.ring.typology == "fake_admission":  # only its drawing groups people by place
            places = place_of(pd.Series([a.get("address") or None for _, a in shown],
                                        dtype=object)).tolist()
        nodes = []
        for (n, a), place in zip(shown, places):
            nodes.append({"key": n, "type": a["type"], "role": a.get("role", ""),
                          "member": a["member"], "label": self._label(a), "hub": _is_hub(a),
                          "resold_at": a.get("resold_at", ()),
                          "place": place if isinstance(place, str) else "",
                          "home": a.get("address") or ""})
        return nodes

    def positions(self) -> dict[str, tuple[float, float]]:
        """Each node's fixed position (:func:`graphkit.layout.ring_layout`): the ring drawn as
        its typology works."""
        return ring_layout(self.ring.typology, self.layout_nodes(), list(self.graph.edges))

    def standing(self, a: dict) -> str:
        """What a node is to the view, as its tooltip says (a member and its role, or not)."""
        if not a["member"]:
            return "关联节点（非线索成员）"
        return "线索成员" + (f"（{self.masker.text(role_zh(a['role']))}）" if a.get("role") else "")

    def vis_data(self) -> dict:
        G, m = self.graph, self.masker
        ids = {n: i for i, n in enumerate(sorted(G.nodes))}
        xy = self.positions()
        pos = [xy[n] for n in sorted(G.nodes)]
        diversion = self.ring.typology == "diversion"
        nodes = []
        for n, a in sorted(self.graph_nodes_by_kind(), key=lambda x: ids[x[0]]):
            shown_id = m.ident(a["type"], a["id"])
            disp = a["display"]
            label = self._label(a)
            head = f"{a['type_zh']} {shown_id}" + (f"  {disp}" if disp and disp != shown_id else "")
            tip = [head]
            tip.append(self.standing(a))
            tip += a["facts_display"]
            if a.get("n_claims"):
                tip.append(f"结算 {a['n_claims']} 笔" +
                           (f"，基金支付 {_money(a.get('fund', 0))} 元" if a.get("fund") else ""))
            tip += [f"信号：{x}" for x in a.get("signals", ())]
            x, y = pos[ids[n]]
            node = {"id": ids[n], "label": label, "group": a["type"],
                    "m": 1 if a["member"] else 0, "tip": tip, "x": x, "y": y}
            if _is_hub(a):
                node["h"] = 1
            nodes.append(node)
        edges = []
        for u, v, e in sorted(G.edges(data=True), key=lambda x: (ids[x[0]], ids[x[1]])):
            tip = [e["label"]]
            if e.get("fund"):
                tip.append(f"基金支付 {_money(e['fund'])} 元")
            if e.get("claims"):
                more = "…" if e["count"] > len(e["claims"]) else ""
                tip.append("结算ID：" + "、".join(m.text(c) for c in e["claims"]) + more)
            w = 1 + min(6.0, math.log2(1 + e["count"])) if e["count"] else 1
            edge = {"from": ids[u], "to": ids[v], "label": e["label"], "tip": tip,
                    "w": round(w, 2), "c": EDGE_STYLE[e["kind"]][1]}
            if _edge_label_shown(G, u, v, e):
                edge["l"] = 1
            if not (G.nodes[u]["member"] and G.nodes[v]["member"]) or (
                    diversion and e["kind"] == "trace_buy"):
                # drawn faint: a link to context, and a pack's buyers (the chain runs
                # card → facility → pack; the direct link would cross the layers between)
                edge["d"] = 1
            edges.append(edge)
        groups = {t: {"shape": s[2], "color": {"background": s[1], "border": _darker(s[1]),
                                               "highlight": {"background": s[1],
                                                             "border": "#000"}}}
                  for t, s in NODE_STYLE.items()}
        return {"nodes": nodes, "edges": edges, "groups": groups,
                "options": {"fixed": True, "font": FONT_SIZE, "hubFont": HUB_FONT_SIZE}}



#: the node kinds drawn as hubs (larger, labelled) when they are ring members
_HUB_TYPES = ("institution", "pharmacy", "device", "phone", "trace_code")
#: up to this many edges every edge is labelled; above it only the links that carry the
#: scheme (settlements of packs, cards used by another, a signal)
_LABELLED_EDGES = 40


def _is_hub(a: dict) -> bool:
    return bool(a.get("member")) and a["type"] in _HUB_TYPES


def _edge_label_shown(G: nx.Graph, u: str, v: str, e: dict) -> bool:
    """Whether the edge's label is drawn on it (it is always in the edge's tooltip)."""
    if G.number_of_edges() <= _LABELLED_EDGES or e["kind"] == "used" or e.get("signal"):
        return True
    # of a pack's settlements, the label of its re-settlement at the reseller
    return e["kind"] == "trace" and (v in G.nodes[u].get("resold_at", ())
                                     or u in G.nodes[v].get("resold_at", ()))


def _collapse_trace_codes(G: nx.Graph, packs: dict[str, dict], members=()) -> None:
    """Draw the trace codes of one drug settled again at one reseller as one pack node.

    A diversion ring holds hundreds of re-settled packs bought and re-sold by the same few
    people; drawn one by one they hide the chain. Each node holds ``codes`` (every code it
    stands for), ``n_codes``, ``drug`` and ``drug_name``, ``resold_at`` (the reseller's node),
    ``first`` and ``last`` (its first and last settlement); its label is "阿托伐他汀钙片 ×37".
    Codes settled only once are grouped by drug and the facility that settled them.
    """
    tc = sorted(n for n in G if G.nodes[n]["type"] == "trace_code")
    if not tc:
        return
    groups: dict[tuple, list[str]] = defaultdict(list)
    for n in tc:
        code = G.nodes[n]["id"]
        p = packs.get(code)
        if p is None:  # not settled in view: one node of its own
            groups[("", "", n)].append(n)
        else:  # packs settled again apart from packs settled once
            groups[(p["drug"], p["reseller"] or p["facility"], "again" if p["reseller"] else "")
                   ].append(n)
    for (drug, _where, _), ns in sorted(groups.items()):
        attrs = [G.nodes[n] for n in ns]
        codes = [a["id"] for a in attrs]
        info = [packs.get(c, {}) for c in codes]
        name = next((i["drug_name"] for i in info if i.get("drug_name")), "")
        firsts = [i["first"] for i in info if i.get("first")]
        lasts = [i["last"] for i in info if i.get("last")]
        resold = sorted({i["reseller"] for i in info if i.get("reseller")} & set(G.nodes))
        key = f"trace_code:{codes[0]}" + (f"+{len(codes) - 1}" if len(codes) > 1 else "")
        roles = sorted({a.get("role", "") for a in attrs if a.get("role")})
        shown = "、".join(codes[:8]) + (f" 等 {len(codes)} 个" if len(codes) > 8 else "")
        settled = sum(a.get("n_claims", 0) for a in attrs)
        facts = [("药品", f"{name} ({drug})" if name and drug and name != drug else name or drug,
                  "text"),
                 ("追溯码", shown, ""), ("结算次数", str(settled), "")]
        facts += [f for f in attrs[0].get("facts", []) if f[0] == "格式" and len(codes) == 1]
        for r in resold:
            name_r = G.nodes[r].get("name")
            rid = G.nodes[r]["id"]
            facts.append(("回收药店", f"{name_r} ({rid})" if name_r else rid, "text"))
        nbrs = {m: [G.edges[n, m] for n in ns if G.has_edge(n, m)]
                for m in sorted({m for n in ns for m in G.neighbors(n)})}
        G.remove_nodes_from(ns)
        G.add_node(key, type="trace_code", id=codes[0], member=any(a["member"] for a in attrs),
                   role="、".join(roles), name=f"{name or '追溯码'} ×{len(codes)}",
                   facts=facts, codes=codes, n_codes=len(codes), drug=drug, drug_name=name,
                   members=[c for c, a in zip(codes, attrs) if a["member"]],
                   resold_at=resold, first=min(firsts, default=""), last=max(lasts, default=""),
                   n_claims=settled)
        for m, es in nbrs.items():
            if len(ns) == 1:
                G.add_edge(key, m, **es[0])
                continue
            kind = es[0]["kind"]
            count = sum(e["count"] for e in es)
            verb = EDGE_STYLE[kind][0]
            if kind == "trace" and any("重复" in e["label"] for e in es):
                verb = "追溯码重复结算"
            claims = sorted({c for e in es for c in e["claims"]})[:12]
            G.add_edge(key, m, kind=kind, count=count, fund=sum(e["fund"] for e in es),
                       claims=claims, label=f"{verb} ×{count}")


def _initial_layout(G: nx.Graph, ids: dict) -> list[tuple[float, float]]:
    """Seeded Fruchterman-Reingold start positions (igraph), scaled to vis-network's springs.

    Physics then only polishes the layout, which keeps stabilisation short on large views.
    """
    n = len(ids)
    if n == 0:
        return []
    import numpy as np

    rng = np.random.default_rng(7)
    start = rng.uniform(-1, 1, size=(n, 2))
    edges = sorted((min(ids[u], ids[v]), max(ids[u], ids[v])) for u, v in G.edges)
    try:
        import igraph as ig

        import random

        g = ig.Graph(n=n, edges=edges)
        ig.set_random_number_generator(random.Random(7))
        try:
            coords = np.asarray(g.layout_fruchterman_reingold(niter=300).coords, dtype=float)
        finally:
            ig.set_random_number_generator(random)
    except ImportError:  # pragma: no cover - igraph is a dependency
        coords = np.asarray(list(nx.spring_layout(nx.Graph(edges), seed=7).values()))
        if len(coords) != n:
            coords = start
    coords -= coords.mean(axis=0)
    if edges:
        a, b = np.array(edges).T
        d = np.median(np.hypot(*(coords[a] - coords[b]).T))
    else:
        d = 1.0
    scale = 110.0 / d if d > 1e-9 else 100.0
    return [(round(float(x) * scale, 1), round(float(y) * scale, 1)) for x, y in coords]


class _Group:
    __slots__ = ("n", "fund", "claims", "types", "_seen")

    def __init__(self):
        self.n, self.fund, self.claims, self.types, self._seen = 0, 0.0, [], [], set()


def _compact(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The contract's columns of ``df`` with each Arrow-backed column in one chunk.

    Row lookups (``iloc``) on a column of many Arrow chunks cost ~50 ms per ring on 1M rows;
    on one chunk ~1 ms. The caller's frame is not changed.
    """
    out = {}
    for c in columns:
        s = df[c]
        arr = s.array
        pa_arr = getattr(arr, "_pa_array", None)
        if pa_arr is not None and getattr(pa_arr, "num_chunks", 1) > 1:
            try:
                import pyarrow as pa

                s = pd.Series(type(arr)(pa.chunked_array([pa_arr.combine_chunks()])),
                              index=s.index, name=c)
            except (ImportError, TypeError, ValueError, AttributeError):
                pass
        out[c] = s
    return pd.DataFrame(out).reset_index(drop=True)


def _py(s: pd.Series) -> list:
    """A column as a Python list with every missing value as None."""
    return [None if _missing(v) else v for v in s.tolist()]


def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and v != v


def _items_with_claims(items: pd.DataFrame, code_col: str, L: dict) -> dict:
    """Item rows (``code_col``, claim_id) joined to their claim's columns, as a column dict."""
    pos = {c: i for i, c in enumerate(L["claim_id"])}
    out: dict[str, list] = {k: [] for k in (code_col, "claim_id", "facility_id", "_whokey",
                                            "_fund", "claim_type")}
    for code, cid in zip(_py(items[code_col]), _py(items["claim_id"])):
        i = pos.get(cid)
        if i is None or code is None:
            continue
        out[code_col].append(code)
        out["claim_id"].append(cid)
        for k in ("facility_id", "_whokey", "_fund", "claim_type"):
            out[k].append(L[k][i])
    return out


def _agg(L: dict, keys: list[str]) -> list[tuple]:
    """Group rows (a column dict) by ``keys``, skipping rows with a missing key: distinct
    claims (n), their fund, first 12 claim ids, claim types."""
    groups: dict[tuple, _Group] = {}
    cols = [L[k] for k in keys] + [L["claim_id"], L["_fund"], L["claim_type"]]
    k = len(keys)
    for row in zip(*cols):
        key = row[:k]
        if any(x is None for x in key):
            continue
        g = groups.get(key)
        if g is None:
            g = groups[key] = _Group()
        cid, fund, ctype = row[k], row[k + 1], row[k + 2]
        if cid in g._seen:
            continue
        g._seen.add(cid)
        g.n += 1
        g.fund += float(fund) if fund == fund and fund is not None else 0.0
        if len(g.claims) < 12:
            g.claims.append(cid)
        if isinstance(ctype, str) and ctype not in g.types:
            g.types.append(ctype)
    out = sorted(groups.items(), key=lambda kv: tuple(str(x) for x in kv[0]))
    for _, g in out:
        g.types.sort()
    return [(key if k > 1 else key[0], g) for key, g in out]


def _short(s: str, n: int) -> str:
    s = _text(s)
    return s if len(s) <= n else s[:n - 1] + "…"


def _date(v) -> str:
    if v is None:
        return ""
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    return _text(v)[:10]


def _darker(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#%02x%02x%02x" % (int(r * .7), int(g * .7), int(b * .7))


# --------------------------------------------------------------------------------------------
# the view of any graph (notebook pages)


class GraphView(RingView):
    """The page view of any graph whose node keys are ``"type:id"`` (a neighbourhood from
    :func:`graphkit.explore.expand`, :func:`ring_graph`, or one built by hand), drawn as a ring's
    page draws its graph: the same node kinds, facts, tooltips, masking, edge colours and cut.

    Node attributes used: ``type`` and ``id`` (else read from the key), ``member`` and ``role``
    (ring members), ``seed`` (where the neighbourhood was expanded from; drawn solid like a
    member), ``name``. Edges are keyed by their type (:data:`graphkit.graph.EDGE_TYPES`) or carry
    ``kind`` (:data:`EDGE_STYLE`), and ``count``, ``fund``, ``label``. The graph is drawn at the
    seeded positions of :func:`_initial_layout` (there is no scheme to draw as for a ring).
    """

    members_table = False

    def __init__(self, G: nx.Graph, dataset=None, masker: Masker | None = None, *,
                 max_nodes: int = 2000):
        self.ring = Ring(typology="", score=0.0, members=())  # a graph, not a ring: no scheme
        self.masker = masker if masker is not None else Masker(dataset)
        self.ix = _Index(dataset)
        self.max_nodes = max(1, int(max_nodes))
        self._shown = None
        self.claims = self.ix.claims.iloc[0:0].assign(in_ring=True)
        self.graph = self._from_graph(G)
        self._cut()
        self._know_people()

    def _from_graph(self, G: nx.Graph) -> nx.MultiGraph:
        """``G`` with the attributes of a ring view's graph: facts and names from the data set,
        one edge per edge of ``G`` (an undirected multigraph: two kinds of link between one pair
        stay two edges)."""
        nodes = {}
        for n, a in G.nodes(data=True):
            t, _, i = str(n).partition(":")
            nodes[str(n)] = {"type": a.get("type", t), "id": str(a.get("id", i)),
                             "member": bool(a.get("member") or a.get("seed")),
                             "ring_member": bool(a.get("member")), "seed": bool(a.get("seed")),
                             "role": a.get("role") or ""}
        codes = [a["id"] for a in nodes.values() if a["type"] == "trace_code"]
        self.trace_codes = set(codes)
        settled = self.ix.items_of_codes(codes)[["trace_code", "claim_id"]].dropna()
        self.code_settlements = Counter(settled.drop_duplicates()["trace_code"])
        drugs = [a["id"] for a in nodes.values() if a["type"] == "drug"]
        self.items = (self.ix.rows("items", "item_code", drugs) if drugs
                      else self.ix.items.iloc[0:0])
        records = self._records(nodes.values())
        H = nx.MultiGraph()
        for key, a in sorted(nodes.items()):
            a.update(self._facts(a["type"], a["id"], records))
            given = G.nodes[key].get("name") if key in G else None
            if given:
                a["name"] = str(given)
            a["facts"].append(("连接", f"{G.degree(key)} 条", ""))
            H.add_node(key, **a)
        edges = (G.edges(keys=True, data=True) if G.is_multigraph()
                 else ((u, v, None, e) for u, v, e in G.edges(data=True)))
        for u, v, k, e in sorted(edges, key=lambda x: (str(x[0]), str(x[1]), str(x[2]))):
            etype = e.get("type") or (k if isinstance(k, str) else None)
            kind = e.get("kind") or (EDGE_TYPES[etype].style if etype in EDGE_TYPES
                                     else "holds")
            verb = (EDGE_TYPES[etype].zh if etype in EDGE_TYPES
                    else EDGE_STYLE.get(kind, (etype or "",))[0])
            count = int(e.get("count") or 0)
            label = e.get("label") or (f"{verb} ×{count}" if count > 1 else verb)
            H.add_edge(str(u), str(v), kind=kind, count=count, fund=float(e.get("fund") or 0.0),
                       claims=(), label=self.masker.text(label))
        return H

    def positions(self) -> dict[str, tuple[float, float]]:
        nodes = sorted(self.graph.nodes)
        return dict(zip(nodes, _initial_layout(nx.Graph(self.graph),
                                               {n: i for i, n in enumerate(nodes)})))

    def vis_data(self) -> dict:
        data = super().vis_data()
        n = len(data["nodes"])
        # no scheme to draw: physics polishes the seeded start positions, then stops
        data["options"].update(fixed=False,
                               iterations=150 if n <= 300 else 100 if n <= 800 else 40)
        return data

    def standing(self, a: dict) -> str:
        if a.get("ring_member"):
            return super().standing(a)
        return "起点 (seed)" if a.get("seed") else "关联节点（非起点/成员）"


# --------------------------------------------------------------------------------------------
# page pieces


class LegendItem(NamedTuple):
    """One line of a graph's legend: a node shape and what it stands for."""

    shape: str
    colour: str
    stroke: str
    member: bool
    zh: str
    type: str = ""
    count: int = 0


def legend_items(present: Counter, others: str) -> list[LegendItem]:
    """The legend of a graph holding ``present[type]`` nodes of each type, in
    :data:`TYPE_ORDER`, then the dashed shape of nodes that are not members, described by
    ``others``."""
    items = []
    for t in TYPE_ORDER:
        if present.get(t):
            zh, colour, shape = NODE_STYLE[t]
            items.append(LegendItem(shape, colour, _darker(colour), True, zh, t, present[t]))
    items.append(LegendItem("dot", "#bbbbbb", _darker("#bbbbbb"), False, others))
    return items


class _Lane(NamedTuple):
    y: int
    text_y: int
    fill: str
    label: str


class _Tick(NamedTuple):
    x: str
    text: str


class _Dot(NamedTuple):
    x: str
    y: str
    fill: str
    stroke: str
    tip: str


class _Bar(NamedTuple):
    x: str
    y: str
    width: str
    height: str
    tip: str


#: a gang's swipe days drawn as one column each, up to this many days (else a time axis)
_DAY_COLUMNS = 40


def _timeline_lanes(view: RingView, C: pd.DataFrame) -> tuple[str, list, dict, str]:
    """(column, lane keys in order, key -> label, key text) of a ring's timeline: a gang's
    lanes are its cards (lockstep swipes line up), a fake admission's its recruits grouped by
    home place (waves line up), any other ring's its facilities."""
    m, typ = view.masker, view.ring.typology
    if typ == "gang" and C["card_id"].notna().any():
        first = C[C["card_id"].notna()].groupby("card_id", sort=True)["settle_time"].min()
        keys = sorted(first.index, key=lambda c: (first[c], c))
        return ("card_id", keys[:30], {k: m.ident("card", k) for k in keys},
                "每行一张医保凭证，每列一个刷卡日（列内按当日时刻排列）；同一列中多张卡的点即同日批量刷卡。")
    if typ == "fake_admission" and C["patient_id"].notna().any():
        from graphkit.detectors.places import place_of

        pids = sorted(set(_py(C["patient_id"])) - {None})
        P = view.ix.take("patients", pids)
        home = dict(zip(P.index, place_of(P["address"].astype(object)).tolist()))
        keys = sorted(pids, key=lambda p: (str(home.get(p) or "\uffff"), p))
        names = {p: m.name(_text(P["name"].get(p))) if p in P.index else "" for p in pids}
        labels = {p: f"{names[p]} {m.ident('patient', p)}".strip() for p in pids}
        return ("patient_id", keys[:30], labels,
                "每行一名被收治人员（按住址所在村/社区排列），横条为住院起止；多行横条对齐即集体入院的一波。")
    facs = C["facility_id"].fillna("—").value_counts()
    keys = list(facs.index[:12])
    names = {}
    for f in keys:
        if f in view.ix.pharmacies.index:
            names[f] = _text(view.ix.pharmacies.loc[f, "name"])
        elif f in view.ix.institutions.index:
            names[f] = _text(view.ix.institutions.loc[f, "name"])
    labels = {f: m.text(names.get(f) or f) for f in facs.index}
    return ("facility_id", keys + (["…"] if len(facs) > 12 else []), labels, "")


def timeline_of(view: RingView, max_dots: int = 4000) -> dict | None:
    """What the timeline of a ring's page draws (templates/_timeline.html): a lane per card
    (gang), per recruit (fake admission) or per facility (the 12 with most claims, then 其他),
    a dot per claim, at most ``max_dots`` of them sampled evenly, a bar per inpatient stay; a
    gang's swipe days are one column each. None when no claim has a settle time."""
    C = view.claims
    if not len(C) or "settle_time" not in C or C["settle_time"].isna().all():
        return None
    C = C[C["settle_time"].notna()]
    t = pd.to_datetime(C["settle_time"])
    C = C.assign(settle_time=t)
    col, lanes, labels, key = _timeline_lanes(view, C)
    other = bool(lanes) and lanes[-1] == "…"
    lanes = lanes[:-1] if other else lanes
    if len(set(_py(C[col]))) > len(lanes):
        other = True
    t0, t1 = t.min().normalize(), t.max().normalize() + pd.Timedelta(days=1)
    if "admit_date" in C:  # a stay is drawn from its admission, before it is settled
        admitted = pd.to_datetime(C["admit_date"], errors="coerce").min()
        if pd.notna(admitted):
            t0 = min(t0, admitted.normalize())
    span = max((t1 - t0).total_seconds(), 86400.0)
    W, left, right, lane_h, top = 1000, 190, 20, 22, 10
    H = top + lane_h * (len(lanes) + (1 if other else 0)) + 34
    inner = W - left - right
    rest = "其他凭证" if col == "card_id" else "其他人员" if col == "patient_id" else "其他机构"
    lane_rows = []
    for k, f in enumerate(lanes + ([rest] if other else [])):
        y = top + k * lane_h
        label = labels.get(f, f) if k < len(lanes) else rest
        lane_rows.append(_Lane(y, y + 15, "#f6f8fa" if k % 2 == 0 else "#ffffff",
                               _short(label, 22)))
    ybase = top + lane_h * len(lane_rows)
    days = sorted(set(t.dt.normalize()))
    by_day = col == "card_id" and len(days) <= _DAY_COLUMNS
    if by_day:  # one column per swipe day, the time of day across it
        column = {d: i for i, d in enumerate(days)}
        step = max(1, math.ceil(len(days) / 20))

        def x_of(ts):
            d = ts.normalize()
            frac = (ts - d).total_seconds() / 86400
            return left + inner * (column[d] + 0.15 + 0.7 * frac) / len(days)

        tick_rows = [_Tick(f"{left + inner * (i + 0.5) / len(days):.1f}", d.strftime("%m-%d"))
                     for i, d in enumerate(days) if i % step == 0]
    else:
        def x_of(ts):
            return left + inner * (ts - t0).total_seconds() / span

        n_days = span / 86400
        freq = ("D" if n_days <= 20 else "W-MON" if n_days <= 120 else "MS" if n_days <= 800
                else "YS")
        ticks = pd.date_range(t0, t1, freq=freq)
        if len(ticks) > 16:
            ticks = ticks[:: math.ceil(len(ticks) / 16)]
        tick_rows = [_Tick(f"{x_of(tk):.1f}", tk.strftime("%Y-%m-%d" if freq != "MS" else "%Y-%m"))
                     for tk in ticks]
    colours = {"pharmacy": "#b07aa1", "inpatient": "#c03d3e", "outpatient": "#4e79a7"}
    sample = C if len(C) <= max_dots else C.iloc[:: math.ceil(len(C) / max_dots)]
    lane_of = {f: k for k, f in enumerate(lanes)}
    cols = [list(sample[c]) for c in ("claim_id", "facility_id", "claim_type", "fund_amount",
                                      "in_ring", col)]
    when = sample["settle_time"]
    stamps = when.dt.strftime("%Y-%m-%d %H:%M").tolist()
    dots = []
    for (cid, fac, ctype, fund, in_ring, who), ts, stamp in zip(zip(*cols), when, stamps):
        fac = fac if isinstance(fac, str) else "—"
        k = lane_of.get(who if isinstance(who, str) else "—", len(lanes))
        c = colours.get(_text(ctype), "#555")
        tip = (f"{view.masker.text(cid)} · {stamp} · "
               f"{CLAIM_TYPE_ZH.get(_text(ctype), _text(ctype))} · "
               f"{view.masker.text(fac)} · 基金 {_money(fund)} 元"
               + ("" if in_ring else " · 追溯码再次结算（线索外）"))
        dots.append(_Dot(f"{x_of(ts):.1f}", f"{top + k * lane_h + lane_h / 2:.1f}",
                         c if in_ring else "none", c, tip))
    bars = []
    if not by_day and {"admit_date", "discharge_date"} <= set(C.columns):
        stays = C[(C["claim_type"] == "inpatient") & C["in_ring"]]
        admit = pd.to_datetime(stays["admit_date"], errors="coerce")
        leave = pd.to_datetime(stays["discharge_date"], errors="coerce")
        for who, a, b, fac in zip(_py(stays[col]), admit, leave, _py(stays["facility_id"])):
            if pd.isna(a) or pd.isna(b):
                continue
            k = lane_of.get(who if isinstance(who, str) else "—", len(lanes))
            x1 = x_of(a)
            x2 = x_of(min(b + pd.Timedelta(days=1), t1))
            bars.append(_Bar(f"{x1:.1f}", f"{top + k * lane_h + 5:.1f}", f"{max(x2 - x1, 2):.1f}",
                             f"{lane_h - 10}", f"住院 {a:%Y-%m-%d} 至 {b:%Y-%m-%d} · "
                             f"{view.masker.text(labels.get(fac, fac) if col == 'facility_id' else fac)}"))
    return {"width": W, "height": H, "left": left, "inner": inner, "lane_height": lane_h,
            "label_x": left - 6, "top": top, "tick_bottom": ybase + 4, "tick_text_y": ybase + 17,
            "lanes": lane_rows, "ticks": tick_rows, "dots": dots, "bars": bars,
            "shown": len(sample), "total": len(C), "key": key,
            "year": f"{days[0]:%Y}" + (f"–{days[-1]:%Y}" if days[-1].year != days[0].year else "")
            if by_day else ""}


def _evidence_items(view: RingView) -> list[dict]:
    """The ring's evidence as its page lists it (facility codes named, personal data masked)."""
    return [{"clause": e.clause or "（未注明条款）",
             "detail": view.masker.text(view.ix.named(view.ring, e.detail)),
             "rule": e.rule, "count": int(e.count)} for e in view.ring.evidence]


class MemberRow(NamedTuple):
    """A row of a ring page's members table (masked as the view's masker says)."""

    type_zh: str
    ident: str
    name: str
    in_view: bool  #: drawn in the graph (a member cut from the view is listed all the same)
    member: bool
    role: str
    claims: int = 0
    fund: str = ""
    facts: str = ""
    #: a pack's row (trace codes of one drug and reseller): its ``count``, ``first`` and
    #: ``last`` settlement days and ``codes`` (as shown); no claim or fund figures
    pack: dict | None = None
    #: ``facts`` as (text, is a date) pieces: a date is never wrapped mid-date
    fact_parts: tuple = ()


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_parts(text: str) -> tuple[tuple[str, bool], ...]:
    """``text`` (facts joined by "；") cut into (piece, kept on one line) pieces: a fact holding
    a date is one piece, label and date together, so the date is never wrapped."""
    parts: list[tuple[str, bool]] = []
    for i, fact in enumerate(text.split("；") if text else []):
        if i:
            parts.append(("；", False))
        parts.append((fact, _DATE.search(fact) is not None))
    return tuple(parts)


def member_rows(view: RingView) -> list[MemberRow]:
    """The members table: the nodes in view (members first, by type, then id), then the members
    the view cut. A pack stands for its trace codes: their count, first and last settlement,
    the codes in a list of their own."""
    rows = []
    nodes = sorted(view.graph_nodes_by_kind(),
                   key=lambda x: (not x[1]["member"], TYPE_ORDER.index(x[1]["type"])
                                  if x[1]["type"] in TYPE_ORDER else 99, x[1]["id"]))
    shown = {(a["type"], c) for _, a in nodes for c in a.get("codes", [a["id"]])}
    m = view.masker
    for _, a in nodes:
        role = m.text(role_zh(a.get("role", "")))
        if a.get("codes"):
            facts = "；".join(f for f in a["facts_display"]
                             if not f.startswith(("追溯码", "药品")))
            pack = {"count": len(a["codes"]), "first": a.get("first", ""),
                    "last": a.get("last", ""),
                    "codes": [m.ident("trace_code", c) for c in a["codes"]]}
            name = m.text(a.get("drug_name") or a.get("drug") or "")
            rows.append(MemberRow(a["type_zh"], m.ident("drug", a.get("drug") or ""), name, True,
                                  a["member"], role, facts=facts, pack=pack,
                                  fact_parts=_date_parts(facts)))
            continue
        facts = "；".join(a["facts_display"])
        rows.append(MemberRow(a["type_zh"], m.ident(a["type"], a["id"]), a["display"], True,
                              a["member"], role, a.get("n_claims", 0),
                              _money(a.get("fund", 0.0)), facts, fact_parts=_date_parts(facts)))
    for mem in view.ring.members:  # members cut from the view still belong in the table
        if (mem.type, mem.id) not in shown:
            rows.append(MemberRow(TYPE_ZH.get(mem.type, mem.type), m.ident(mem.type, mem.id), "",
                                  False, True, m.text(role_zh(mem.role))))
    return rows


#: every page graphkit writes names itself, so that a later run removes only its own pages
GENERATOR = "graphkit"

_GENERATOR_META = re.compile(r'<meta name="generator" content="([^"]*)">')

#: a share of rejected claim rows above which the run warns (terminal and index page)
REJECTED_WARN_SHARE = 0.05


def claims_analysed(dataset) -> tuple[int, int]:
    """(claim rows accepted, claim rows rejected) of a loaded dataset."""
    c = (getattr(dataset, "counts", None) or {}).get("claims", {})
    accepted = int(c.get("accepted", len(dataset.claims)))
    return accepted, int(c.get("rejected", 0))


def _analysed(dataset) -> dict:
    """The index's line on the claims analysed, and a warning when more than
    :data:`REJECTED_WARN_SHARE` of the claim rows read were rejected (else ``warning`` is "")."""
    accepted, rejected = claims_analysed(dataset)
    read = accepted + rejected
    warning = ""
    if read and rejected / read > REJECTED_WARN_SHARE:
        warning = (f"注意：{rejected / read:.0%} 的结算记录未能载入（{rejected:,} / {read:,} 笔），"
                   "线索可能不完整；原因见 rejects.csv。")
    return {"note": f"分析结算 {accepted:,} 笔，拒收 {rejected:,} 笔", "warning": warning}


def _remove_stale_pages(folder: Path, keep: set[Path]) -> None:
    """Remove the ring pages an earlier run wrote into ``folder`` that this run did not: the index
    and the pages then always agree. Only graphkit's own pages go (they name graphkit as their
    generator, or, written by an older version, are ``R<number>.html`` pages of its layout);
    anything else a user put there stays."""
    for path in sorted(folder.glob("*.html")):
        if path in keep:
            continue
        try:
            with path.open("rb") as fh:
                head = fh.read(400).decode("utf-8", "replace")
        except OSError:
            continue
        generator = _GENERATOR_META.search(head)
        ours = (generator is not None and generator.group(1) == GENERATOR) or (
            re.fullmatch(r"R\d+\.html", path.name) is not None
            and head.startswith('<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'))
        if ours:
            path.unlink()


def page_from_view(view: RingView, *, index_href: str | None = None) -> str:
    """The whole self-contained HTML page for a :class:`RingView`."""
    present = Counter(a["type"] for _, a in view.graph.nodes(data=True))
    ring = view.ring
    zh = TYPOLOGIES.get(ring.typology, (ring.typology,))[0]
    n_claims = len(ring.claims) or int(view.claims["in_ring"].sum()) if len(view.claims) else 0
    badges = [f"{zh} · {ring.typology}"]
    badges += [f"亦见 {TYPOLOGIES.get(t, (t,))[0]} · {t}" for t in ring.also]
    badges += [f"评分 {ring.score:.2f}", f"医保基金 {_money(ring.fund_amount)} 元",
               f"{_text(ring.first_seen) or '—'} 至 {_text(ring.last_seen) or '—'}",
               f"结算 {n_claims} 笔"]
    badges += [f"{TYPE_ZH.get(t, t)} {n}" for t, n in view.member_counts().items()]
    return render_template(
        "ring.html", **page_context(f"{ring.ring_id} {zh} · graphkit", graph_scripts()),
        ring_page=True, index_href=index_href, heading=f"{ring.ring_id} {zh}",
        badges=badges, masked=view.masker.enabled, note=view.graph.graph.get("note"),
        graph_label=f"{ring.ring_id} 关系图",
        legend=legend_items(present, "虚线/浅色：关联但非线索成员"),
        timeline=timeline_of(view), evidence=_evidence_items(view), members=member_rows(view),
        data=_json_script(view.vis_data()))


# --------------------------------------------------------------------------------------------
# public API


def ring_graph(ring, dataset, max_nodes: int = 2000) -> nx.Graph:
    """The graph a ring's page shows (raw, unmasked attributes), cut to the core when larger."""
    return RingView(ring, dataset, Masker(enabled=False), max_nodes=max_nodes).graph


def ring_page_html(ring, dataset, *, mask: bool = True, max_nodes: int = 2000,
                   index_href: str | None = None) -> str:
    """One ring's self-contained page as a string (works as a file and in ``<iframe srcdoc>``)."""
    view = RingView(ring, dataset, Masker(dataset, enabled=mask), max_nodes=max_nodes)
    return page_from_view(view, index_href=index_href)


def graph_page_html(G: nx.Graph, dataset=None, *, mask: bool = True, max_nodes: int = 2000,
                    title: str = "graphkit") -> str:
    """A self-contained page for any graph whose node keys are ``"type:id"``, drawn as ring pages
    draw theirs (see :class:`GraphView`); notebooks show it inline (:func:`graphkit.show`)."""
    view = GraphView(G, dataset, Masker(dataset, enabled=mask), max_nodes=max_nodes)
    present = Counter(a["type"] for _, a in view.graph.nodes(data=True))
    # the ring page's template with the graph alone: no timeline, evidence or members table
    return render_template(
        "ring.html", **page_context(title, graph_scripts()), ring_page=False,
        index_href=None, heading=title,
        badges=[f"节点 {view.graph.number_of_nodes()}", f"连线 {view.graph.number_of_edges()}"],
        masked=view.masker.enabled, note=view.graph.graph.get("note"), graph_label="关系图",
        legend=legend_items(present, "虚线/浅色：关联节点（非起点/成员）"),
        data=_json_script(view.vis_data()))


def _index_html(doc, rows: list[dict], masked: bool, analysed: dict | None = None) -> str:
    """The index page: ``rows`` (from :func:`_index_row`) in the document's order."""
    fp = doc.fingerprint or "—"
    present = {r.typology for r in doc.rings}
    return render_template(
        "index.html", **page_context("graphkit 线索列表", table_scripts()),
        n_rings=len(doc.rings), fingerprint=fp[:16], masked=masked, analysed=analysed,
        typologies=[(t, zh) for t, (zh, _en) in TYPOLOGIES.items() if t in present], rows=rows)


@functools.lru_cache(maxsize=4096)
def _codes_pattern(codes: tuple[str, ...]) -> re.Pattern:
    """One pattern matching any of ``codes`` as a whole code (not inside a longer one)."""
    return re.compile(r"(?<![0-9A-Za-z])(" + "|".join(map(re.escape, codes)) + r")(?![0-9A-Za-z])")


#: what the index counts as a ring's members: people, cards and places, not its packs or drugs
_COUNTED = ("patient", "card", "doctor", "pharmacist", "institution", "pharmacy", "phone",
            "address", "device")


def _index_row(ring, masker: Masker, facilities: list[str] = (), named=None) -> dict:
    """What the index shows of a ring (templates/index.html): its facilities (by name, the
    first four shown, all searchable), members, case status and first evidence (masked)."""
    from graphkit.cases import CASE_STATUS_ZH

    zh, en = TYPOLOGIES.get(ring.typology, (ring.typology, ""))
    counts = Counter(m.type for m in ring.members)
    ev = ring.evidence[0] if ring.evidence else None
    detail = named(ev.detail) if (ev and named) else (ev.detail if ev else "")
    return {
        "ring_id": ring.ring_id, "href": f"rings/{_safe_name(ring.ring_id)}.html",
        "typology": ring.typology, "typology_zh": zh, "typology_en": en,
        # the other typologies whose detectors described the ring's people (亦见)
        "also": "、".join(TYPOLOGIES.get(t, (t,))[0] for t in ring.also),
        "score": f"{ring.score:.2f}", "score_key": f"{ring.score:.4f}",
        "score_sort": f"{ring.score:.6f}",
        "members": "、".join(f"{TYPE_ZH.get(t, t)} {counts[t]}" for t in TYPE_ORDER
                            if counts.get(t)),
        "facilities": "、".join(facilities[:4]), "more_facilities": "、".join(facilities[4:]),
        "counted": sum(1 for m in ring.members if m.type in _COUNTED),
        "fund": _money(ring.fund_amount), "fund_sort": f"{float(ring.fund_amount):.2f}",
        "first_seen": _text(ring.first_seen), "last_seen": _text(ring.last_seen),
        "status": ring.case_status,
        "status_zh": CASE_STATUS_ZH.get(ring.case_status, ring.case_status or "—"),
        "repeat": len(ring.repeat),
        "evidence": ev is not None, "clause": ev.clause if ev else "",
        "detail": masker.text(detail), "more_evidence": max(0, len(ring.evidence) - 1),
    }


_UNSAFE_FILE = re.compile(r"[^0-9A-Za-z._-]")


def _safe_name(ring_id: str) -> str:
    name = _UNSAFE_FILE.sub("_", ring_id or "ring")
    return name if name not in ("", ".", "..") else "ring"


#: from this many rings on, pages are written by forked workers (each page is independent)
PARALLEL_MIN_RINGS = 100
#: batches of pages per worker: progress is reported as each batch is done
_BATCHES_PER_WORKER = 10

_FORK_PAGES: tuple | None = None


def _write_pages(which: range) -> list[tuple[Path, dict]]:
    """Write the ring pages ``which`` (positions in the document); (path, index row) each."""
    doc, dataset, masker, ix, out, max_nodes = _FORK_PAGES
    done = []
    for i in which:
        ring = doc.rings[i]
        view = RingView(ring, dataset, masker.scoped(), max_nodes=max_nodes, index=ix)
        p = out / "rings" / f"{_safe_name(ring.ring_id)}.html"
        p.write_text(page_from_view(view, index_href="../index.html"), encoding="utf-8")
        done.append((p, _index_row(ring, view.masker, ix.facility_names(ring),
                                   lambda text, r=ring: ix.named(r, text))))
    return done


def render_all(doc, dataset, out_dir, *, mask: bool = True, max_nodes: int = 2000,
               workers: int | None = None,
               progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Write ``out_dir/index.html`` and ``out_dir/rings/<ring_id>.html``; return the paths.

    From ``PARALLEL_MIN_RINGS`` rings on, the pages are written by up to ``workers`` forked
    processes (default: 2 where the platform can fork); the files do not depend on it.
    ``progress(done, total)`` is called as pages are written (after every batch of them)."""
    global _FORK_PAGES
    from graphkit.detect import _can_fork

    out = Path(out_dir)
    n = len(doc.rings)
    if workers is None:
        workers = 2 if n >= PARALLEL_MIN_RINGS and _can_fork() else 1
    workers = max(1, min(workers, n))
    # batches interleave the rings (big and small ones are spread), a few per worker
    n_batches = max(1, min(n, workers * _BATCHES_PER_WORKER))
    batches = [range(k, n, n_batches) for k in range(n_batches)]
    with writing(out, "the HTML pages"):
        (out / "rings").mkdir(parents=True, exist_ok=True)
        _FORK_PAGES = (doc, dataset, Masker(dataset, enabled=mask), _Index(dataset), out,
                       max_nodes)
        done: list = [None] * n
        written = 0
        try:
            if workers > 1:
                import multiprocessing as mp
                from concurrent.futures import ProcessPoolExecutor, as_completed

                with ProcessPoolExecutor(max_workers=workers,
                                         mp_context=mp.get_context("fork")) as pool:
                    jobs = {pool.submit(_write_pages, part): part for part in batches}
                    for job in as_completed(jobs):
                        for i, page in zip(jobs[job], job.result()):
                            done[i] = page
                        written += len(jobs[job])
                        if progress:
                            progress(written, n)
            else:
                for part in batches:
                    for i, page in zip(part, _write_pages(part)):
                        done[i] = page
                    written += len(part)
                    if progress:
                        progress(written, n)
        finally:
            _FORK_PAGES = None
        _remove_stale_pages(out / "rings", {p for p, _ in done})
        idx = out / "index.html"
        idx.write_text(_index_html(doc, [row for _, row in done], mask, _analysed(dataset)),
                       encoding="utf-8")
    return [idx] + [p for p, _ in done]


def claims_of_members(ring: Ring, claims: pd.DataFrame) -> pd.DataFrame:
    """The claims of a ring that lists no claim ids: its patients' and cards' claims, at its
    facilities when it names any (or all claims at its facilities when it names no people)."""
    c = claims
    pats, cards = set(ring.patients), set(ring.member_ids("card"))
    facs = set(ring.member_ids("institution")) | set(ring.member_ids("pharmacy"))
    if pats or cards:
        m = c["patient_id"].isin(pats) | c["card_id"].isin(cards)
        if facs:
            m &= c["facility_id"].isin(facs)
    else:
        m = c["facility_id"].isin(facs)
    return c[m.fillna(False).astype(bool)]
