"""Fixed positions for a ring's graph, drawn as the scheme works (no force simulation).

Each typology has its own drawing:

- **diversion** — a chain in layers, left to right: 开方医师 → 骗保人 → 医保凭证 → 取药机构 →
  药品 (packs, one node per drug and reseller) → 回收药店 → the straw cards → their holders;
- **gang** — the colluding facilities, terminals and controller phones in the centre, the
  collected cards on a ring around them and each card's holder just outside it;
- **fake_admission** — the admitting institution and doctors on the left, the cards used, the
  recruits grouped by their home place (村 / 社区), and their households;
- **impersonation** — each card between its holder (left) and the phone or places that
  presented it (right), the signal named on the holder's link.

Whatever the scheme does not place (terminals, phones, pharmacists, addresses seen beside it) is
set in rows below the drawing, each near the nodes it links to. Rows and columns are spaced by the
size of the labels they carry, so no two labels overlap at any zoom: :func:`label_overlaps` checks
it. The functions here take plain data — nodes with their kind, role and label; edges as pairs —
and return positions; they are deterministic (ties are broken by node key).

Examples
--------
>>> nodes = [{"key": "doctor:D1", "type": "doctor", "label": "王*\\nD1", "member": True},
...          {"key": "card:C1", "type": "card", "role": "mule card", "label": "C1", "member": True},
...          {"key": "institution:H1", "type": "institution", "label": "医院\\nH1",
...           "member": True}]
>>> pos = ring_layout("diversion", nodes, [("doctor:D1", "card:C1"), ("card:C1", "institution:H1")])
>>> pos["doctor:D1"][0] < pos["card:C1"][0] < pos["institution:H1"][0]
True
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Iterable, Mapping, Sequence

__all__ = ["ring_layout", "label_box", "label_overlaps", "DIVERSION_LAYERS", "FONT_SIZE",
           "HUB_FONT_SIZE"]

#: node label font sizes (px) of graph.js: ordinary nodes and hubs
FONT_SIZE = 13
HUB_FONT_SIZE = 16
#: a node's drawn radius (px) and the gap kept between two labels
_NODE_R = 18
_MARGIN = 14
#: the most nodes one column holds before the layer is split into several columns
MAX_ROWS = 28

#: the diversion chain's layers, left to right (a member's layer follows from its kind and role)
DIVERSION_LAYERS = ("开方医师", "骗保人", "医保凭证", "取药机构", "药品（追溯码）", "回收药店",
                    "收药卡", "收药卡持卡人")


# --------------------------------------------------------------------------------------------
# label sizes


def _char_width(ch: str, size: float) -> float:
    """Width of one character at ``size`` px: CJK and full-width glyphs are square, Latin
    about 0.6 of the size (the page's sans-serif stack)."""
    return size if ord(ch) > 0x2E80 else 0.6 * size


def label_box(node: Mapping, x: float = 0.0, y: float = 0.0) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a node and its label drawn at (x, y): vis-network draws the
    label of these shapes centred below the node."""
    size = HUB_FONT_SIZE if node.get("hub") else FONT_SIZE
    lines = str(node.get("label") or "").split("\n")
    width = max([sum(_char_width(c, size) for c in line) for line in lines] + [2 * _NODE_R])
    height = 2 * _NODE_R + 4 + len(lines) * size * 1.25
    return (x - width / 2, y - _NODE_R, x + width / 2, y - _NODE_R + height)


def label_overlaps(nodes: Sequence[Mapping], pos: Mapping[str, tuple[float, float]]
                   ) -> list[tuple[str, str]]:
    """Pairs of nodes whose boxes (:func:`label_box`) overlap at ``pos``, sorted."""
    boxes = sorted((label_box(n, *pos[n["key"]]), n["key"]) for n in nodes if n["key"] in pos)
    out = []
    for i, ((l1, t1, r1, b1), k1) in enumerate(boxes):  # sweep over the left edges
        for (l2, t2, r2, b2), k2 in boxes[i + 1:]:
            if l2 >= r1:
                break
            if t2 < b1 and t1 < b2:
                out.append(tuple(sorted((k1, k2))))
    return sorted(out)


def _width(node: Mapping) -> float:
    left, _, right, _ = label_box(node)
    return right - left


def _height(node: Mapping) -> float:
    _, top, _, bottom = label_box(node)
    return bottom - top


# --------------------------------------------------------------------------------------------
# building blocks


class _Graph:
    """The nodes (by key) and neighbours of the drawing."""

    def __init__(self, nodes: Sequence[Mapping], edges: Iterable[tuple[str, str]]):
        self.nodes = {n["key"]: n for n in nodes}
        nbrs: dict[str, set[str]] = defaultdict(set)
        for u, v in edges:
            if u in self.nodes and v in self.nodes and u != v:
                nbrs[u].add(v)
                nbrs[v].add(u)
        # in key order: a mean of positions summed in a set's (hash-seeded) order differs in
        # the last bit from run to run, and reorders ties
        self.nbrs: dict[str, list[str]] = {k: sorted(v) for k, v in sorted(nbrs.items())}

    def of(self, key: str, *types: str) -> list[str]:
        return sorted(k for k in self.nbrs.get(key, ()) if self.nodes[k]["type"] in types)


def _column(keys: Sequence[str], g: _Graph, x: float, centre: float = 0.0, gap: float = 0.0,
            row: float | None = None) -> dict[str, tuple[float, float]]:
    """``keys`` top to bottom at ``x``, each row as tall as its label (or ``row``), centred on
    ``centre``; ``gap`` extra space where the group key (``node["group"]``) changes."""
    heights = [max(_height(g.nodes[k]) + _MARGIN, row or 0.0) for k in keys]
    groups = [g.nodes[k].get("group") for k in keys]
    ys, y = [], 0.0
    for i, h in enumerate(heights):
        if i and groups[i] != groups[i - 1]:
            y += gap
        ys.append(y)
        y += h
    shift = centre - (y - (heights[-1] if heights else 0)) / 2
    return {k: (x, yy + shift) for k, yy in zip(keys, ys)}


def _layers(columns: Sequence[Sequence[str]], g: _Graph, group_gap: float = 40.0,
            wide: Mapping[int, float] | None = None, row: float | None = None
            ) -> dict[str, tuple[float, float]]:
    """Columns left to right, each split into columns of at most :data:`MAX_ROWS` nodes,
    spaced by the widest label of each (``wide[i]``: at least that far from the column before
    column ``i``, room for the labels of the links between them); ``row``: one row height."""
    pos: dict[str, tuple[float, float]] = {}
    x, prev_w = 0.0, None
    for i, keys in enumerate(columns):
        if not keys:
            continue
        parts = [keys[j:j + MAX_ROWS] for j in range(0, len(keys), MAX_ROWS)]
        for j, part in enumerate(parts):
            w = max(_width(g.nodes[k]) for k in part)
            if prev_w is not None:
                step = (prev_w + w) / 2 + _MARGIN * 3
                x += max(step, (wide or {}).get(i, 0.0)) if j == 0 else step
            pos.update(_column(part, g, x, gap=group_gap, row=row))
            prev_w = w
    return pos


def _order(columns: list[list[str]], g: _Graph, fixed: int = 0, sweeps: int = 4) -> list[list[str]]:
    """Columns reordered to cross fewer edges: each node moves to the mean row of its
    neighbours in the columns beside it (a few sweeps each way; ties by key). The first
    ``fixed`` columns keep their order, and a node keeps its group (``node["group"]``)."""
    cols = [list(c) for c in columns]

    def rank() -> dict[str, float]:
        return {k: i / max(1, len(c) - 1) for c in cols for i, k in enumerate(c)}

    for sweep in range(sweeps):
        seq = range(1, len(cols)) if sweep % 2 == 0 else range(len(cols) - 2, -1, -1)
        for j in seq:
            if j < fixed:
                continue
            r = rank()
            side = [k for c in (cols[j - 1] if j > 0 else [], cols[j + 1] if j + 1 < len(cols)
                                else []) for k in c]
            near = set(side)

            def key(k, r=r, near=near):
                ns = [r[n] for n in g.nbrs.get(k, ()) if n in near]
                return (str(g.nodes[k].get("group") or ""),
                        sum(ns) / len(ns) if ns else r.get(k, 0.5), k)

            cols[j] = sorted(cols[j], key=key)
    return cols


def _context_rows(keys: Sequence[str], g: _Graph, pos: dict[str, tuple[float, float]]
                  ) -> dict[str, tuple[float, float]]:
    """Nodes the scheme does not place, in rows below the drawing, each as near as the row
    allows to the mean x of the placed nodes it links to."""
    if not keys:
        return {}
    placed = {k: p for k, p in pos.items()}
    bottom = max((label_box(g.nodes[k], *p)[3] for k, p in placed.items()), default=0.0)
    left = min((label_box(g.nodes[k], *p)[0] for k, p in placed.items()), default=0.0)
    right = max((label_box(g.nodes[k], *p)[2] for k, p in placed.items()), default=600.0)
    span = max(right - left, 600.0)

    def want(k):
        xs = [placed[n][0] for n in g.nbrs.get(k, ()) if n in placed]
        return sum(xs) / len(xs) if xs else (left + right) / 2

    order = sorted(keys, key=lambda k: (want(k), k))
    rows: list[list[str]] = [[]]
    used = 0.0
    for k in order:  # fill rows as wide as the drawing
        w = _width(g.nodes[k]) + _MARGIN
        if rows[-1] and used + w > span:
            rows.append([])
            used = 0.0
        rows[-1].append(k)
        used += w
    out = {}
    y = bottom + 3 * _MARGIN + _NODE_R
    for row in rows:
        widths = [_width(g.nodes[k]) + _MARGIN for k in row]
        # start where the row's nodes want to be, kept inside the drawing's width
        x = min(max(left, want(row[0]) - widths[0] / 2), max(left, left + span - sum(widths)))
        for k, w in zip(row, widths):
            out[k] = (x + w / 2, y)
            x += w
        y += max(_height(g.nodes[k]) for k in row) + _MARGIN
    return out


def _ring(keys: Sequence[str], g: _Graph, radius: float, start: float = -math.pi / 2
          ) -> dict[str, tuple[float, float]]:
    n = len(keys)
    return {k: (radius * math.cos(start + 2 * math.pi * i / n),
                radius * math.sin(start + 2 * math.pi * i / n)) for i, k in enumerate(keys)}


def _role(node: Mapping) -> str:
    return str(node.get("role") or "").lower()


# --------------------------------------------------------------------------------------------
# the schemes


def _diversion(g: _Graph) -> tuple[dict, list[str]]:
    N = g.nodes
    resellers = {f for n in N.values() for f in n.get("resold_at", ())}
    facilities = [k for k, n in N.items() if n["type"] in ("institution", "pharmacy")]
    for k in facilities:  # a facility named as the reseller by its role is one too
        r = _role(N[k])
        if "re-settl" in r or "resell" in r:
            resellers.add(k)
    layer: dict[str, int] = {}
    for k, n in N.items():
        t, r = n["type"], _role(n)
        if t == "doctor":
            layer[k] = 0
        elif t in ("institution", "pharmacy"):
            layer[k] = 5 if k in resellers else 3
        elif t == "trace_code":
            layer[k] = 4
    for k, n in N.items():  # cards: a straw card is used at a reseller, a mule card elsewhere
        if n["type"] != "card":
            continue
        r = _role(n)
        if "straw" in r or "resell" in r:
            layer[k] = 6
        elif n.get("member"):
            facs = g.of(k, "institution", "pharmacy")
            layer[k] = 6 if facs and all(f in resellers for f in facs) else 2
    for k, n in N.items():  # people: beside their cards
        if n["type"] != "patient":
            continue
        r = _role(n)
        cards = [layer[c] for c in g.of(k, "card") if c in layer]
        if "straw" in r or "resell" in r:
            layer[k] = 7
        elif n.get("member"):
            layer[k] = 7 if cards and min(cards) == 6 else 1
    for k, n in N.items():  # a card not named in the ring goes beside its holder's layer
        if n["type"] == "card" and k not in layer:
            beside = {layer.get(p) for p in g.of(k, "patient")} & {1, 7}
            if len(beside) == 1:
                layer[k] = 2 if beside == {1} else 6
    columns: list[list[str]] = [[] for _ in DIVERSION_LAYERS]
    for k in sorted(layer):
        columns[layer[k]].append(k)
    columns = _order(columns, g)
    pos = _layers(columns, g)
    return pos, sorted(set(N) - set(pos))


def _gang(g: _Graph) -> tuple[dict, list[str]]:
    N = g.nodes
    hub_types = ("institution", "pharmacy", "device", "phone")
    hubs = sorted((k for k, n in N.items() if n.get("member") and n["type"] in hub_types),
                  key=lambda k: (hub_types.index(N[k]["type"]), k))
    organisers = sorted(k for k, n in N.items() if n["type"] == "patient" and n.get("member")
                        and "organis" in _role(n))
    cards = [k for k, n in N.items() if n["type"] == "card" and n.get("member")]
    # cards of one hub side by side: ordered by the first centre node they link to
    first = {k: min([hubs.index(h) for h in g.nbrs.get(k, ()) if h in hubs] or [len(hubs)])
             for k in cards}
    cards.sort(key=lambda k: (first[k], k))
    pos = {}
    # the centre: one row of facilities, terminals and phones, the organiser just under it
    for row, y in ((hubs, 0.0), (organisers, max([_height(N[k]) for k in hubs] + [0.0])
                                  + _MARGIN if hubs else 0.0)):
        widths = [_width(N[k]) + 3 * _MARGIN for k in row]
        x = -sum(widths) / 2
        for k, w in zip(row, widths):
            pos[k] = (x + w / 2, y)
            x += w
    if cards:
        outside: dict[str, list[str]] = {c: [] for c in cards}
        taken: set[str] = set(pos)
        for c in cards:  # each card's people (its holder first), drawn outward from it
            for p in g.of(c, "patient"):
                if p not in taken:
                    outside[c].append(p)
                    taken.add(p)
        people = [p for ps in outside.values() for p in ps]

        def size(keys):
            return (max(_width(N[k]) for k in keys), max(_height(N[k]) for k in keys))

        def apart(w, h):
            # two labels w wide and h tall clear each other in any direction at this distance
            return math.hypot(w, h) + _MARGIN

        def ring_radius(n, gap):
            # n nodes on a ring, neighbours (a chord apart) at least gap apart
            return gap / (2 * math.sin(math.pi / n)) if n > 1 else 0.0

        card_w, card_h = size(cards)
        centre_r = max((math.hypot(max(abs(b[0]), abs(b[2])), max(abs(b[1]), abs(b[3])))
                        for b in (label_box(N[k], *pos[k]) for k in pos)), default=0.0)
        radius = max(centre_r + apart(card_w, card_h), 220.0,
                     ring_radius(len(cards), apart(card_w, card_h)))
        step = 0.0
        if people:
            pw, ph = size(people)
            step = apart((card_w + pw) / 2, max(card_h, ph))
            radius = max(radius, ring_radius(len(cards), apart(pw, ph)) - step)
        pos.update(_ring(cards, g, radius))
        for c, ps in outside.items():
            x, y = pos[c]
            for i, p in enumerate(ps, start=1):
                r = (radius + i * step) / radius
                pos[p] = (x * r, y * r)
    return pos, sorted(set(N) - set(pos))


def _fake_admission(g: _Graph) -> tuple[dict, list[str]]:
    N = g.nodes
    left = sorted(k for k, n in N.items() if n.get("member") and n["type"] in ("institution",
                                                                                 "doctor"))
    left.sort(key=lambda k: (N[k]["type"] != "institution", k))
    people = [k for k, n in N.items() if n["type"] == "patient" and n.get("member")]
    # recruits grouped by home place, households together within it
    people.sort(key=lambda k: (str(N[k].get("place") or "\uffff"), str(N[k].get("home") or ""), k))
    cards: list[str] = []
    patients: list[str] = []
    homes: list[str] = []
    for p in people:
        N[p]["group"] = N[p].get("place") or ""
        for c in g.of(p, "card"):
            if c not in cards and N[c].get("member", True):
                N[c]["group"] = N[p]["group"]
                cards.append(c)
        patients.append(p)
        for a in g.of(p, "address"):
            if a not in homes:
                N[a]["group"] = N[p]["group"]
                homes.append(a)
    pos = _layers([left, cards, patients, homes], g, group_gap=3 * _MARGIN)
    # each recruit beside its cards, each household beside its people
    _settle(patients, {p: g.of(p, "card") for p in patients}, pos, g)
    _settle(homes, {a: g.of(a, "patient") for a in homes}, pos, g)
    return pos, sorted(set(N) - set(pos))


def _settle(column: Sequence[str], near: Mapping[str, Sequence[str]], pos: dict, g: _Graph
            ) -> None:
    """Move each node of one column to the mean y of the nodes ``near[key]`` (its own y when
    none is placed), in that order, each label kept clear of the one above it."""
    def wanted(k):
        ys = [pos[n][1] for n in near.get(k, ()) if n in pos]
        return sum(ys) / len(ys) if ys else pos[k][1]

    last_bottom = -math.inf
    for y, k in sorted((wanted(k), k) for k in column):
        y = max(y, last_bottom + _NODE_R + _MARGIN / 2)
        pos[k] = (pos[k][0], y)
        last_bottom = label_box(g.nodes[k], *pos[k])[3]


def _impersonation(g: _Graph) -> tuple[dict, list[str]]:
    N = g.nodes
    cards = sorted(k for k, n in N.items() if n["type"] == "card" and n.get("member"))
    holders: list[str] = []
    for c in cards:
        for p in g.of(c, "patient"):
            if "user" in _role(N[p]) or not N[p].get("member"):
                continue
            if p not in holders:
                holders.append(p)
    users = sorted(k for k, n in N.items() if n["type"] == "patient" and "user" in _role(n))
    phones = sorted(k for k, n in N.items() if n["type"] in ("phone", "device")
                    and n.get("member"))
    right = phones or sorted({f for c in cards for f in g.of(c, "institution", "pharmacy")})
    columns = _order([holders, cards, right, users], g, sweeps=2)
    # a holder and their card share a row; the link between them carries the signal's name
    row = max([_height(N[k]) + _MARGIN for k in holders + cards] + [0.0])
    pos = _layers(columns, g, wide={1: 260.0}, row=row)
    # each holder beside their cards, each user beside the phone they own
    _settle(columns[0], {k: g.of(k, "card") for k in columns[0]}, pos, g)
    _settle(columns[3], {k: g.of(k, "phone", "device") for k in columns[3]}, pos, g)
    return pos, sorted(set(N) - set(pos))


_SCHEMES = {"diversion": _diversion, "gang": _gang, "fake_admission": _fake_admission,
            "impersonation": _impersonation}


def _by_kind(g: _Graph) -> tuple[dict, list[str]]:
    """Any other ring: members in columns by kind, the rest below."""
    order = ("doctor", "pharmacist", "patient", "card", "institution", "pharmacy", "trace_code",
             "drug", "phone", "device", "address")
    cols = [[k for k in sorted(g.nodes) if g.nodes[k]["type"] == t and g.nodes[k].get("member")]
            for t in order]
    pos = _layers(_order(cols, g, sweeps=2), g)
    return pos, sorted(set(g.nodes) - set(pos))


def ring_layout(typology: str, nodes: Sequence[Mapping], edges: Iterable[tuple[str, str]]
                ) -> dict[str, tuple[float, float]]:
    """Positions (x, y in vis-network pixels, y down) of a ring's nodes, drawn as its typology
    works.

    Parameters
    ----------
    typology
        The ring's typology (``"diversion"``, ``"gang"``, ``"fake_admission"``,
        ``"impersonation"``; any other is drawn in columns by kind).
    nodes
        One mapping per node: ``key``, ``type`` (patient, card, ...), ``member`` (a ring
        member), ``role``, ``label`` (the text drawn under it, lines split by ``\\n``),
        ``hub`` (drawn larger); for a pack ``resold_at`` (the keys of the facilities that
        settled it again), for a patient ``place`` (home village or community) and ``home``
        (household address).
    edges
        (key, key) pairs.

    Returns
    -------
    dict
        key -> (x, y), rounded to 0.1 px; every node has one.
    """
    nodes = [dict(n) for n in nodes]  # groups are noted on copies, never on the caller's
    g = _Graph(nodes, edges)
    pos, rest = _SCHEMES.get(typology, _by_kind)(g)
    pos.update(_context_rows(rest, g, pos))
    return {k: (round(x, 1), round(y, 1)) for k, (x, y) in sorted(pos.items())}
