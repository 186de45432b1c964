"""``find_rings``: run the detectors over a dataset and rank what they report."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from graphkit import __version__
from graphkit.detectors import DETECTORS, Context
from graphkit.errors import SettingsError
from graphkit.graph import EntityGraph
from graphkit.load import Dataset
from graphkit.rings import Ring, RingsDocument, rank_rings
from graphkit.settings import Settings

__all__ = ["find_rings", "detect"]


def _disjoint(rings: list[Ring]) -> list[Ring]:
    """Within one typology, a patient or card belongs to its highest-scoring ring only."""
    out: list[Ring] = []
    taken: set[tuple[str, str]] = set()
    for r in sorted(rings, key=lambda r: (-r.score, r.members)):
        people = {(m.type, m.id) for m in r.members if m.type in ("patient", "card")}
        if people & taken:
            keep = tuple(m for m in r.members if (m.type, m.id) not in taken)
            if sum(1 for m in keep if m.type == "patient") < 1:
                continue
            r = replace(r, members=keep)
            people = {(m.type, m.id) for m in keep if m.type in ("patient", "card")}
        taken |= people
        out.append(r)
    return out


def detect(dataset: Dataset, settings: Settings | None = None,
           progress: Callable[[str], None] | None = None) -> list[Ring]:
    """All rings scoring at least ``settings.min_score``, ranked, with ring ids."""
    settings = settings or Settings()
    unknown = [t for t in settings.typologies if t not in DETECTORS]
    if unknown:
        raise SettingsError(f"unknown typology {unknown[0]!r}; known: {', '.join(DETECTORS)}")
    ctx = Context(EntityGraph(dataset))
    found: list[Ring] = []
    for name in settings.typologies:
        if progress:
            progress(name)
        rings = [r for r in DETECTORS[name](ctx, settings) if r.score >= settings.min_score]
        found.extend(_disjoint(rings))
    return list(rank_rings(found))


def find_rings(dataset: Dataset, settings: Settings | None = None,
               progress: Callable[[str], None] | None = None) -> RingsDocument:
    """Detect rings and wrap them with the input fingerprint and every parameter.

    Examples
    --------
    >>> import graphkit as gk
    >>> doc = gk.find_rings(gk.load("data_samples/demo"))
    >>> doc.to_dict()["schema"]
    'graphkit.rings/1'
    """
    settings = settings or Settings()
    rings = detect(dataset, settings, progress)
    params = settings.to_dict()
    params["graphkit_version"] = __version__
    params["backend"] = "embedded"
    return RingsDocument(rings=tuple(rings), data_dir=str(dataset.data_dir),
                         fingerprint=dataset.fingerprint, params=params)
