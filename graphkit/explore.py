"""The exploration API investigators use in Jupyter: rings bound to their data, neighbourhoods,
inline graphs, timelines, "who else used it", group profiles and evidence packages.

Everything here reads the :class:`~graphkit.load.Dataset` and never changes it. Graph views are
:class:`networkx.MultiDiGraph` objects whose node keys are ``"<type>:<id>"`` (see
:mod:`graphkit.graph`). :func:`show` returns an object that Jupyter, JupyterLab and VS Code
display inline: the self-contained page of :mod:`graphkit.render` (vis-network inlined, nothing
fetched from any network) inside an ``<iframe srcdoc>``. Personal data is masked there by
default, as on every page graphkit writes; the DataFrames returned here are not masked.

Examples
--------
>>> import graphkit as gk
>>> ds = gk.load("data_samples/demo")
>>> rings = gk.rings_of(ds)
>>> gang = next(r for r in rings if r.typology == "gang")
>>> gang.ring_id, len(gang.timeline()) == len(gang.claims)
('R0009', True)
>>> sub = gk.expand(ds, gang, hops=1, types=["phone", "device"])
>>> sorted({a["type"] for _, a in sub.nodes(data=True)})
['card', 'device', 'patient', 'pharmacy', 'phone']
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import networkx as nx
import numpy as np
import pandas as pd

from graphkit.contract import TYPOLOGIES
from graphkit.errors import GraphkitError
from graphkit.rings import Ring, RingsDocument

__all__ = ["BoundRing", "RingList", "InlinePage", "rings_of", "expand", "show",
           "timeline", "plot_timeline", "who_else", "profile", "compare", "package",
           "TIMELINE_COLUMNS", "WHO_ELSE_COLUMNS"]

#: columns of :func:`timeline`
TIMELINE_COLUMNS = ["settle_time", "claim_id", "patient_id", "card_id", "holder_id", "facility_id",
                    "facility_type", "claim_type", "doctor_id", "device_id", "operator_phone",
                    "diagnosis_code", "total_amount", "fund_amount"]
#: columns of :func:`who_else`
WHO_ELSE_COLUMNS = ["patient_id", "card_id", "holder_id", "claims", "fund_amount", "first_seen",
                    "last_seen", "facilities", "registered"]

# --------------------------------------------------------------------------------------------
# rings bound to their data set


@dataclass(frozen=True, eq=False)
class BoundRing:
    """A :class:`~graphkit.rings.Ring` together with the data set (and rings document) it came
    from, so that ``ring.show()``, ``ring.timeline()``, ``ring.expand()`` and
    ``ring.package(out_dir)`` need no other argument.

    Attribute access falls through to the ring: ``ring_id``, ``typology``, ``score``, ``members``,
    ``claims``, ``fund_amount``, ``first_seen``, ``last_seen``, ``evidence``, ``patients`` and
    ``member_ids(type)`` all work.

    Examples
    --------
    >>> import graphkit as gk
    >>> ds = gk.load("data_samples/demo")
    >>> r = gk.rings_of(ds)[0]
    >>> r.ring_id, r.typology, r.member_ids("phone")
    ('R0001', 'impersonation', ['15810949644'])
    """

    ring: Ring
    dataset: object
    doc: RingsDocument | None = None

    def __getattr__(self, name):
        if name.startswith("_") or name in ("ring", "dataset", "doc"):
            raise AttributeError(name)
        return getattr(self.ring, name)

    @property
    def typology_zh(self) -> str:
        return TYPOLOGIES.get(self.ring.typology, (self.ring.typology,))[0]

    def member_counts(self) -> dict[str, int]:
        """Members per type, e.g. ``{"patient": 15, "card": 15, "pharmacy": 1}``."""
        return dict(Counter(m.type for m in self.ring.members))

    def show(self, *, mask: bool = True, height: int = 640, max_nodes: int = 2000) -> "InlinePage":
        """The ring's interactive page, inline (see :func:`show`)."""
        return show(self, mask=mask, height=height, max_nodes=max_nodes)

    def expand(self, hops: int = 1, types: Iterable[str] | None = None) -> nx.MultiDiGraph:
        """The neighbourhood of the ring's members (see :func:`expand`)."""
        return expand(self.dataset, self, hops=hops, types=types)

    def timeline(self) -> pd.DataFrame:
        """The ring's claims over time (see :func:`timeline`)."""
        return timeline(self, self.dataset)

    def plot_timeline(self, **kw):
        """A matplotlib Figure of the ring's claims over time (see :func:`plot_timeline`)."""
        return plot_timeline(self, self.dataset, **kw)

    def profile(self) -> pd.Series:
        """Group signals of the ring's claims (see :func:`profile`)."""
        return profile(self.dataset, self)

    def package(self, out_dir: str | Path, *, unmasked: bool = False, zip_: bool = False) -> Path:
        """Write the ring's evidence package into ``out_dir`` (see :func:`package`)."""
        return package(self, out_dir, unmasked=unmasked, zip_=zip_)

    def __repr__(self) -> str:
        r = self.ring
        counts = self.member_counts()
        parts = ", ".join(f"{n} {t}" for t, n in counts.items())
        return (f"<Ring {r.ring_id} {r.typology} ({self.typology_zh}) score {r.score:.3f}: {parts};"
                f" {len(r.claims)} claims, fund {r.fund_amount:,.2f} 元, "
                f"{r.first_seen or '?'}..{r.last_seen or '?'}>")


class RingList(list):
    """The list :func:`rings_of` returns: :class:`BoundRing` items, best first, plus ``doc`` (the
    :class:`~graphkit.rings.RingsDocument`), :meth:`get` and :meth:`summary`."""

    def __init__(self, items: Iterable[BoundRing], doc: RingsDocument | None = None):
        super().__init__(items)
        self.doc = doc

    def get(self, ring_id: str) -> BoundRing:
        """The ring with this id (``GraphkitError`` when there is none)."""
        for r in self:
            if r.ring_id == ring_id:
                return r
        raise GraphkitError(f"no ring {ring_id!r} here ({len(self)} rings: "
                            f"{', '.join(r.ring_id for r in self[:5])}"
                            f"{'...' if len(self) > 5 else ''})")

    def of_typology(self, typology: str) -> "RingList":
        """The rings of one typology (gang, impersonation, diversion, fake_admission, or a 中文
        name such as 职业骗保团伙); an unknown name is an error listing the valid ones, not an
        empty list."""
        from graphkit.contract import typology_name

        typ = typology_name(typology)
        return RingList((r for r in self if r.typology == typ), self.doc)

    def summary(self) -> pd.DataFrame:
        """One row per ring: id, typology (English and 中文), score, member counts, claims, fund,
        first/last seen and the first evidence clause."""
        rows = []
        for r in self:
            c = r.member_counts()
            ev = r.evidence[0] if r.evidence else None
            rows.append({"ring_id": r.ring_id, "typology": r.typology,
                         "typology_zh": r.typology_zh, "score": round(float(r.score), 3),
                         "patients": c.get("patient", 0), "cards": c.get("card", 0),
                         "members": len(r.members), "claims": len(r.claims),
                         "fund_amount": round(float(r.fund_amount), 2),
                         "first_seen": r.first_seen, "last_seen": r.last_seen,
                         "clause": ev.clause if ev else "", "detail": ev.detail if ev else ""})
        cols = ["ring_id", "typology", "typology_zh", "score", "patients", "cards", "members",
                "claims", "fund_amount", "first_seen", "last_seen", "clause", "detail"]
        return pd.DataFrame(rows, columns=cols)


def rings_of(dataset, settings=None, *, doc: RingsDocument | None = None) -> RingList:
    """Find rings (or take them from ``doc``) and bind each one to ``dataset``.

    Parameters
    ----------
    dataset : Dataset
    settings : Settings, optional
        Passed to :func:`graphkit.find_rings`.
    doc : RingsDocument, optional
        Rings found before (e.g. ``graphkit.rings.read_rings("out/rings.json")``); no detection
        is run then.

    Returns
    -------
    RingList
        :class:`BoundRing` items ranked by score; ``.doc`` is the rings document.

    Examples
    --------
    >>> import graphkit as gk
    >>> rings = gk.rings_of(gk.load("data_samples/demo"))
    >>> len(rings) == len(rings.doc.rings), "gang" in set(rings.summary()["typology"])
    (True, True)
    """
    if doc is None:
        from graphkit.detect import find_rings

        doc = find_rings(dataset, settings)
    return RingList((BoundRing(r, dataset, doc) for r in doc.rings), doc)


def _ring_and_data(ring, dataset):
    if isinstance(ring, BoundRing):
        return ring.ring, dataset if dataset is not None else ring.dataset
    if isinstance(ring, Ring):
        return ring, dataset
    raise GraphkitError(f"expected a Ring or BoundRing, got {type(ring).__name__}")


def _need_dataset(dataset, what: str):
    if dataset is None:
        raise GraphkitError(f"{what} needs the data set: pass dataset=gk.load(DATA_DIR), or use "
                            "gk.rings_of(dataset) whose rings carry their data set")
    return dataset


# --------------------------------------------------------------------------------------------
# neighbourhoods

_GRAPH_CACHE: list = []  # [(dataset, EntityGraph)] for the last data set only (bounded)


def _entity_graph(dataset):
    from graphkit.graph import EntityGraph

    if _GRAPH_CACHE and _GRAPH_CACHE[0][0] is dataset:
        return _GRAPH_CACHE[0][1]
    g = EntityGraph(dataset)
    _GRAPH_CACHE[:] = [(dataset, g)]
    return g


def _seeds(node_or_ring) -> tuple[list[str], dict[str, str]]:
    """Node keys to expand from, and {key: role} for ring members."""
    from graphkit.graph import NODE_TYPES

    if isinstance(node_or_ring, (BoundRing, Ring)):
        ring = node_or_ring.ring if isinstance(node_or_ring, BoundRing) else node_or_ring
        roles = {f"{m.type}:{m.id}": m.role for m in ring.members}
        return sorted(roles), roles
    keys = [node_or_ring] if isinstance(node_or_ring, str) else list(node_or_ring)
    for k in keys:
        t, sep, i = str(k).partition(":")
        if not sep or not i or t not in NODE_TYPES:
            raise GraphkitError(f"{k!r} is not a node key: write \"<type>:<id>\" with a type among "
                                f"{', '.join(NODE_TYPES)} (e.g. \"pharmacy:P51010554172\")")
    return sorted(set(map(str, keys))), {}


def expand(dataset, node_or_ring, hops: int = 1, types: Iterable[str] | None = None
           ) -> nx.MultiDiGraph:
    """The ``hops``-neighbourhood of a node, a list of nodes or a ring, as a networkx graph.

    Parameters
    ----------
    dataset : Dataset
    node_or_ring : str, list of str, Ring or BoundRing
        Node keys ``"<type>:<id>"`` (``"pharmacy:P51010554172"``, ``"phone:138..."``); a ring
        expands from all its members.
    hops : int
        How many steps out (0 = the seeds and the edges between them).
    types : list of str, optional
        Node types that may be added (seeds are always kept), e.g. ``["card", "patient"]``.

    Returns
    -------
    networkx.MultiDiGraph
        Node attributes ``type``, ``id``, ``label``, ``seed`` (a starting node), ``member`` and
        ``role`` (ring members); edges are keyed by their type (``claimed_at``, ``holds``, ...)
        and carry ``count``, ``fund``, ``first`` and ``last`` where they come from claims.

    Examples
    --------
    >>> import graphkit as gk
    >>> ds = gk.load("data_samples/demo")
    >>> g = gk.expand(ds, "device:T5101055417201", hops=1, types=["card"])
    >>> g.number_of_nodes(), g.nodes["device:T5101055417201"]["seed"]
    (454, True)
    """
    from graphkit.graph import NODE_TYPES

    if isinstance(node_or_ring, BoundRing) and dataset is None:
        dataset = node_or_ring.dataset
    dataset = _need_dataset(dataset, "expand")
    if types is not None:
        types = [types] if isinstance(types, str) else list(types)
        bad = [t for t in types if t not in NODE_TYPES]
        if bad:
            raise GraphkitError(f"unknown node type {bad[0]!r}; known: {', '.join(NODE_TYPES)}")
    if int(hops) < 0:
        raise GraphkitError(f"hops must be 0 or more, got {hops}")
    seeds, roles = _seeds(node_or_ring)
    g = _entity_graph(dataset).neighbourhood(seeds, hops=int(hops), types=types)
    for n, a in g.nodes(data=True):
        a["seed"] = n in set(seeds)
        a["member"] = n in roles
        if n in roles:
            a["role"] = roles[n]
    return g


# --------------------------------------------------------------------------------------------
# inline display


class InlinePage:
    """A self-contained HTML page that notebooks display inline in an ``<iframe srcdoc>``.

    Jupyter, JupyterLab and VS Code call :meth:`_repr_html_`. ``page`` is the whole page,
    :meth:`save` writes it to a file (it then opens in any browser, offline).
    """

    def __init__(self, page: str, *, height: int = 640, title: str = ""):
        self.page = page
        self.height = int(height)
        self.title = title

    def _repr_html_(self) -> str:
        from graphkit.templating import render_template

        return render_template("_inline.html", title=self.title, srcdoc=self.page,
                               height=self.height)

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path."""
        p = Path(path)
        p.write_text(self.page, encoding="utf-8")
        return p

    def __repr__(self) -> str:
        return f"<InlinePage {self.title!r}: {len(self.page):,} characters of HTML>"


def show(obj, dataset=None, *, mask: bool = True, height: int = 640, max_nodes: int = 2000,
         title: str | None = None) -> InlinePage:
    """Draw a ring or any graph inline in a notebook.

    Parameters
    ----------
    obj : BoundRing, Ring or networkx graph
        A ring shows its full page (graph, timeline, evidence, members) as ``graphkit rings``
        writes it; a graph (from :func:`expand`, :func:`graphkit.render.ring_graph` or built by
        hand with ``"type:id"`` node keys) shows as an interactive network drawn as ring pages
        draw theirs (:class:`graphkit.render.GraphView`; seeds and members solid).
    dataset : Dataset, optional
        Needed for a plain :class:`~graphkit.rings.Ring`; for a graph it adds names to nodes.
    mask : bool
        Mask personal data (names, 身份证号, phones, addresses) as the written pages do.
    height : int
        Height of the inline frame in pixels.
    max_nodes : int
        Larger views are cut to their core (seeds and members first, then by degree).

    Returns
    -------
    InlinePage
        Displays inline (``_repr_html_``); ``.page`` is the HTML, ``.save(path)`` writes it.

    Examples
    --------
    >>> import graphkit as gk
    >>> ds = gk.load("data_samples/demo")
    >>> page = gk.show(gk.expand(ds, "phone:18062120281", hops=1), ds)
    >>> "srcdoc=" in page._repr_html_() and "vis.Network" in page.page
    True
    """
    from graphkit import render

    if isinstance(obj, (BoundRing, Ring)):
        ring, ds = _ring_and_data(obj, dataset)
        ds = _need_dataset(ds, "show(ring)")
        page = render.ring_page_html(ring, ds, mask=mask, max_nodes=max_nodes)
        return InlinePage(page, height=height, title=title or f"{ring.ring_id} {ring.typology}")
    if isinstance(obj, nx.Graph):
        page = render.graph_page_html(obj, dataset, mask=mask, max_nodes=max_nodes,
                                      title=title or "graphkit")
        return InlinePage(page, height=height, title=title or "graphkit")
    raise GraphkitError(f"show() draws a ring or a networkx graph, not {type(obj).__name__}")


# --------------------------------------------------------------------------------------------
# timelines


def _ring_claims(ring: Ring, dataset) -> pd.DataFrame:
    from graphkit.render import claims_of_members

    c = dataset.claims
    if ring.claims:
        return c[c["claim_id"].isin(set(ring.claims))]
    return claims_of_members(ring, c)


def timeline(ring, dataset=None) -> pd.DataFrame:
    """The ring's claims in time order, one row per claim.

    Parameters
    ----------
    ring : BoundRing or Ring
    dataset : Dataset, optional (required for a plain Ring)

    Returns
    -------
    DataFrame
        Columns :data:`TIMELINE_COLUMNS`: settle_time, claim_id, patient_id, card_id, holder_id,
        facility_id, facility_type, claim_type, doctor_id, device_id, operator_phone,
        diagnosis_code, total_amount, fund_amount; sorted by settle_time then claim_id.
        Plot it with :func:`plot_timeline`.

    Examples
    --------
    >>> import graphkit as gk
    >>> ds = gk.load("data_samples/demo")
    >>> r = gk.rings_of(ds).get("R0012")
    >>> t = gk.timeline(r)
    >>> len(t) == len(r.claims), bool(round(t["fund_amount"].sum(), 2) == round(r.fund_amount, 2))
    (True, True)
    """
    ring, ds = _ring_and_data(ring, dataset)
    ds = _need_dataset(ds, "timeline(ring)")
    c = _ring_claims(ring, ds)
    cols = [col for col in TIMELINE_COLUMNS if col in c.columns]
    out = c[cols].sort_values(["settle_time", "claim_id"], kind="stable").reset_index(drop=True)
    for col in TIMELINE_COLUMNS:
        if col not in out:
            out[col] = pd.NA
    return out[TIMELINE_COLUMNS]


#: CJK font families matplotlib is asked for, in order (Debian's fonts-noto-cjk first)
CJK_FONT_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC",
                     "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC",
                     "SimHei")


def cjk_font_family() -> str | None:
    """The first of :data:`CJK_FONT_FAMILIES` matplotlib can draw with, or None.

    A font installed after matplotlib cached its font list is found too: the system's CJK
    font files are added to matplotlib's font manager once (nothing is downloaded)."""
    from matplotlib import font_manager as fm

    def known():
        names = {f.name for f in fm.fontManager.ttflist}
        return next((f for f in CJK_FONT_FAMILIES if f in names), None)

    found = known()
    if found is None and not _CJK_SCANNED:
        _CJK_SCANNED.append(True)
        for path in fm.findSystemFonts():
            if any(k in Path(path).name.lower() for k in ("cjk", "wqy", "sourcehan", "msyh",
                                                            "simhei", "pingfang")):
                try:
                    fm.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = known()
    return found


_CJK_SCANNED: list = []


def plot_timeline(ring, dataset=None, *, width: float = 10.0):
    """A matplotlib Figure: one lane per facility (named, code in brackets), one dot per claim
    (size ~ fund, colour = type), labelled in Chinese.

    Chinese needs a CJK font (:func:`cjk_font_family`; Debian: ``apt-get install
    fonts-noto-cjk``). Without one the labels are still Chinese and a warning says which font
    to install. Built without pyplot (no global state); in a notebook the returned Figure
    displays inline.

    Examples
    --------
    >>> import graphkit as gk
    >>> ds = gk.load("data_samples/demo")
    >>> fig = gk.plot_timeline(gk.rings_of(ds).get("R0012"))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['德仁堂大药房（金堂县天府店） (P51012140186)', '一心堂大药房（金堂县锦绣店） (P51012161165)']
    >>> fig.axes[0].get_xlabel()
    '结算时间'
    """
    import warnings

    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    from graphkit.render import CLAIM_TYPE_ZH

    t = timeline(ring, dataset)
    ring_obj, data = _ring_and_data(ring, dataset)
    t = t[t["settle_time"].notna()]
    lanes = sorted(t["facility_id"].fillna("-").unique())
    lane = {f: k for k, f in enumerate(lanes)}
    names = {}
    for table, key in (("pharmacies", "pharmacy_id"), ("institutions", "institution_id")):
        df = getattr(data, table, None) if data is not None else None
        if df is not None and "name" in df.columns:
            sub = df[df[key].isin(lanes)]
            names.update({k: v for k, v in zip(sub[key], sub["name"]) if isinstance(v, str)})
    family = cjk_font_family()
    if family is None:
        warnings.warn("no CJK font found for the timeline's Chinese labels (install one, e.g. "
                      "Debian's fonts-noto-cjk); they are drawn as boxes", stacklevel=2)
    font = FontProperties(family=[family, "DejaVu Sans"] if family else ["DejaVu Sans"])
    fig = Figure(figsize=(width, 1.6 + 0.45 * max(1, len(lanes))))
    ax = fig.add_subplot(1, 1, 1)
    colours = {"pharmacy": "#b07aa1", "inpatient": "#c03d3e", "outpatient": "#4e79a7"}
    for ctype, sub in t.groupby(t["claim_type"].fillna("unknown"), sort=True):
        y = [lane[f] for f in sub["facility_id"].fillna("-")]
        size = 12 + 60 * np.sqrt(sub["fund_amount"].fillna(0).clip(lower=0) /
                                 max(1.0, float(t["fund_amount"].max() or 1)))
        ax.scatter(sub["settle_time"], y, s=size, alpha=0.6,
                   label=CLAIM_TYPE_ZH.get(str(ctype), "其他"),
                   color=colours.get(str(ctype), "#555555"))
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([f"{names[f]} ({f})" if f in names else f for f in lanes],
                       fontproperties=font)
    ax.set_ylim(-0.7, len(lanes) - 0.3)
    ax.set_xlabel("结算时间", fontproperties=font)
    zh = TYPOLOGIES.get(ring_obj.typology, (ring_obj.typology,))[0]
    ax.set_title(f"{ring_obj.ring_id} {zh}：结算 {len(t)} 笔，基金支付 "
                 f"{t['fund_amount'].sum():,.2f} 元", fontproperties=font)
    if len(t):
        ax.legend(loc="upper left", fontsize=8, frameon=False, prop=font)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# who else used it


def who_else(dataset, *, phone: str | None = None, device: str | None = None,
             facility: str | None = None, trace_code: str | None = None) -> pd.DataFrame:
    """Who else used a phone, a terminal, a facility or a pack (追溯码): one row per
    (patient, card).

    Give exactly one of the keywords. ``phone`` matches claims whose 电子凭证 was presented from
    that phone (``operator_phone``) and also lists the patients who registered it as their own
    phone (``registered`` is True for them; with no claim through the phone their ``card_id`` is
    missing and ``claims`` is 0).

    Returns
    -------
    DataFrame
        Columns :data:`WHO_ELSE_COLUMNS`: patient_id, card_id, holder_id (the card's holder),
        claims, fund_amount, first_seen, last_seen (settle times), facilities (distinct),
        registered (phone only: the patient's own registered phone; else False). Most claims
        first.

    Examples
    --------
    >>> import graphkit as gk
    >>> ds = gk.load("data_samples/demo")
    >>> w = gk.who_else(ds, phone="18062120281")
    >>> len(w), int(w["claims"].sum()), int(w["registered"].sum())
    (3, 16, 1)
    """
    given = {k: v for k, v in (("phone", phone), ("device", device), ("facility", facility),
                               ("trace_code", trace_code)) if v is not None}
    if len(given) != 1:
        raise GraphkitError("who_else needs exactly one of phone=, device=, facility=, "
                            f"trace_code= (got {', '.join(given) or 'none'})")
    dataset = _need_dataset(dataset, "who_else")
    (kind, value), = given.items()
    value = str(value).strip()
    c = dataset.claims
    if kind == "trace_code":
        it = dataset.claim_items
        ids = set(it.loc[it["trace_code"] == value, "claim_id"].dropna())
        sel = c[c["claim_id"].isin(ids)]
    else:
        col = {"phone": "operator_phone", "device": "device_id", "facility": "facility_id"}[kind]
        sel = c[(c[col] == value).fillna(False).astype(bool)]
    keys = ["patient_id", "card_id"]
    if len(sel):
        g = sel.groupby(keys, sort=True, dropna=False)
        out = pd.DataFrame({
            "holder_id": g["holder_id"].first(),
            "claims": g.size(),
            "fund_amount": g["fund_amount"].sum().round(2),
            "first_seen": g["settle_time"].min(),
            "last_seen": g["settle_time"].max(),
            "facilities": g["facility_id"].nunique(),
        }).reset_index()
    else:
        out = pd.DataFrame({k: pd.Series(dtype="str") for k in keys + ["holder_id"]})
        out = out.assign(claims=pd.Series(dtype="int64"), fund_amount=pd.Series(dtype="float64"),
                         first_seen=pd.Series(dtype="datetime64[us]"),
                         last_seen=pd.Series(dtype="datetime64[us]"),
                         facilities=pd.Series(dtype="int64"))
    out["registered"] = False
    if kind == "phone":
        p = dataset.patients
        own = set(p.loc[(p["phone"] == value).fillna(False).astype(bool), "patient_id"])
        out["registered"] = out["patient_id"].isin(own)
        missing = sorted(own - set(out["patient_id"]))
        if missing:
            extra = pd.DataFrame({"patient_id": pd.Series(missing, dtype=out["patient_id"].dtype),
                                  "claims": 0, "fund_amount": 0.0, "facilities": 0,
                                  "registered": True})
            out = pd.concat([out, extra], ignore_index=True)
    out["claims"] = out["claims"].astype("int64")
    out["facilities"] = out["facilities"].astype("int64")
    out["registered"] = out["registered"].astype(bool)
    out = out.sort_values(["claims", "fund_amount", "patient_id", "card_id"],
                          ascending=[False, False, True, True], kind="stable")
    return out[WHO_ELSE_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# group profiles: why one group is a ring and a look-alike is not


def _claims_of(dataset, group) -> pd.DataFrame:
    if isinstance(group, (BoundRing, Ring)):
        ring, ds = _ring_and_data(group, dataset)
        return _ring_claims(ring, _need_dataset(ds, "profile(ring)"))
    if isinstance(group, pd.DataFrame):
        if "claim_id" not in group:
            raise GraphkitError("a claims DataFrame for profile() needs a claim_id column")
        c = _need_dataset(dataset, "profile(claims)").claims
        return c[c["claim_id"].isin(set(group["claim_id"].dropna()))]
    raise GraphkitError(f"profile() takes a ring or a claims DataFrame, not {type(group).__name__}")


def _max_cards_in_window(c: pd.DataFrame, by: str, seconds: float) -> int:
    """Most distinct cards settled through one ``by`` value within any ``seconds`` window."""
    best = 0
    d = c.dropna(subset=[by, "settle_time", "card_id"])
    for _, sub in d.groupby(by, sort=True):
        t = sub["settle_time"].to_numpy("datetime64[s]").astype("int64")
        order = np.argsort(t, kind="stable")
        t, cards = t[order], sub["card_id"].to_numpy(object)[order]
        lo = 0
        for hi in range(len(t)):
            while t[hi] - t[lo] > seconds:
                lo += 1
            if hi - lo + 1 > best:
                best = max(best, len(set(cards[lo:hi + 1])))
    return int(best)


def profile(dataset, group, *, window_minutes: float = 10.0) -> pd.Series:
    """Signals that tell an organised ring from a legitimate look-alike, for one group of claims.

    Parameters
    ----------
    dataset : Dataset
    group : BoundRing, Ring or DataFrame
        A ring (its claims) or any selection of claims (rows with a ``claim_id`` column).
    window_minutes : float
        Window for ``max_cards_per_device_window``.

    Returns
    -------
    Series
        claims, patients, cards, facilities, devices, fund_amount, fund_per_claim,
        households (distinct registered addresses of the card holders; a missing address counts
        as its own household), foreign_phone_share (claims whose 电子凭证 was presented from a
        phone that is not the card holder's registered phone), non_holder_share (claims by
        someone other than the card's holder), max_cards_per_device_window (most distinct cards
        through one terminal within ``window_minutes``), pharmacy_share, top_diagnosis and
        top_diagnosis_share (among claims with a diagnosis; 3-character ICD-10 category),
        claims_per_patient_week, top3_weekday_share (claims on the group's three commonest
        weekdays: a treatment schedule such as dialysis on Mon/Wed/Fri gives 1.0).

    Examples
    --------
    >>> import graphkit as gk
    >>> ds = gk.load("data_samples/demo")
    >>> p = gk.profile(ds, gk.rings_of(ds).get("R0009"))
    >>> int(p["cards"]), int(p["households"]), int(p["max_cards_per_device_window"])
    (15, 15, 7)
    """
    c = _claims_of(dataset, group)
    ds = dataset if dataset is not None else getattr(group, "dataset", None)
    pats = ds.patients
    holders = c["holder_id"].dropna().unique()
    hp = pats[pats["patient_id"].isin(set(holders))]
    addr = hp.set_index("patient_id")["address"].reindex(holders)
    households = int(addr.nunique(dropna=True) + addr.isna().sum())
    own_phone = dict(zip(hp["patient_id"], hp["phone"]))
    op = c["operator_phone"]
    holder_phone = c["holder_id"].map(own_phone)
    foreign = op.notna() & (op != holder_phone).fillna(True)
    n = len(c)
    diag = c["diagnosis_code"].dropna().str.slice(0, 3)
    span_days = ((c["settle_time"].max() - c["settle_time"].min()).total_seconds() / 86400
                 if n else 0.0)
    weeks = max(1.0, span_days / 7)
    npat = int(c["patient_id"].nunique())
    return pd.Series({
        "claims": n,
        "patients": npat,
        "cards": int(c["card_id"].nunique()),
        "facilities": int(c["facility_id"].nunique()),
        "devices": int(c["device_id"].nunique()),
        "fund_amount": round(float(c["fund_amount"].sum()), 2),
        "fund_per_claim": round(float(c["fund_amount"].mean()), 2) if n else 0.0,
        "households": households,
        "foreign_phone_share": round(float(foreign.mean()), 3) if n else 0.0,
        "non_holder_share": round(float((c["patient_id"] != c["holder_id"]).fillna(False).mean()),
                                  3) if n else 0.0,
        "max_cards_per_device_window": _max_cards_in_window(c, "device_id", window_minutes * 60),
        "pharmacy_share": round(float((c["claim_type"] == "pharmacy").mean()), 3) if n else 0.0,
        "top_diagnosis": diag.value_counts().index[0] if len(diag) else None,
        "top_diagnosis_share": round(float(diag.value_counts(normalize=True).iloc[0]), 3)
        if len(diag) else 0.0,
        "claims_per_patient_week": round(n / max(1, npat) / weeks, 2),
        "top3_weekday_share": round(float(
            c["settle_time"].dt.day_of_week.value_counts(normalize=True).iloc[:3].sum()), 3)
        if n else 0.0,
    }, dtype=object)


def compare(dataset, groups: Mapping[str, object], *, window_minutes: float = 10.0) -> pd.DataFrame:
    """:func:`profile` of several groups side by side (one column per group).

    Examples
    --------
    >>> import graphkit as gk
    >>> ds = gk.load("data_samples/demo")
    >>> rings = gk.rings_of(ds)
    >>> t = gk.compare(ds, {"gang": rings.get("R0009"), "gang 2": rings.get("R0011")})
    >>> t.loc["cards"].tolist()
    [15, 13]
    """
    return pd.DataFrame({name: profile(dataset, g, window_minutes=window_minutes)
                         for name, g in groups.items()})


# --------------------------------------------------------------------------------------------
# evidence packages


def package(ring, out_dir: str | Path, dataset=None, doc: RingsDocument | None = None, *,
            unmasked: bool = False, zip_: bool = False) -> Path:
    """Write one ring's evidence package (report, graph page, CSVs, reproduce.cypher, manifest).

    Wraps :func:`graphkit.evidence.write_package`. A :class:`BoundRing` brings its data set and
    rings document; for a plain :class:`~graphkit.rings.Ring` pass ``dataset`` (and ``doc`` to
    record the detection settings; without it the package holds the ring alone and no
    settings.json).

    Returns
    -------
    Path
        The package directory (``graphkit verify DIR`` checks it).

    Examples
    --------
    >>> import tempfile, graphkit as gk
    >>> ds = gk.load("data_samples/demo")
    >>> out = gk.package(gk.rings_of(ds).get("R0012"), tempfile.mkdtemp() + "/R0012")
    >>> sorted(p.name for p in out.iterdir())[:3]
    ['claim_items.csv', 'claims.csv', 'graph.html']
    """
    from graphkit.evidence import write_package

    if isinstance(ring, BoundRing):
        doc = doc if doc is not None else ring.doc
    r, ds = _ring_and_data(ring, dataset)
    ds = _need_dataset(ds, "package(ring)")
    if doc is None or not any(x.ring_id == r.ring_id for x in doc.rings):
        doc = RingsDocument(rings=(r,), data_dir=str(getattr(ds, "data_dir", "")),
                            fingerprint=getattr(ds, "fingerprint", ""), params={})
    return write_package(doc, r.ring_id, out_dir, dataset=ds, unmasked=unmasked, zip_=zip_)
