"""``find_rings``: run the detectors over a dataset and rank what they report."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from typing import Callable

from graphkit import __version__
from graphkit.detectors import DETECTORS, Context
from graphkit.detectors.signals import Mailbox
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


#: data sets at least this large run the detectors in two forked worker processes
PARALLEL_MIN_CLAIMS = 100_000

#: detectors that share derived frames (swipe bursts) run in the same worker
_WORKER_PLAN = (("gang", "impersonation"), ("diversion", "fake_admission"))

_FORK_CONTEXT: Context | None = None


def _run_in_worker(args: tuple[tuple[str, ...], Settings]) -> list[tuple[str, list[Ring]]]:
    names, settings = args
    ctx = _FORK_CONTEXT
    return [(n, [r for r in DETECTORS[n](ctx, settings) if r.score >= settings.min_score])
            for n in names]


def detect(dataset: Dataset, settings: Settings | None = None,
           progress: Callable[[str], None] | None = None, *,
           workers: int | None = None) -> list[Ring]:
    """All rings scoring at least ``settings.min_score``, ranked, with ring ids.

    On large data (``PARALLEL_MIN_CLAIMS``) the detectors run in up to ``workers`` forked
    processes (default: 2 where the platform can fork); the result does not depend on it.
    ``progress(name)`` is called as each detector finishes.
    Data with no accepted claim (every row rejected, or an empty claims table) has no rings.
    """
    global _FORK_CONTEXT
    settings = settings or Settings()
    unknown = [t for t in settings.typologies if t not in DETECTORS]
    if unknown:
        raise SettingsError(f"unknown typology {unknown[0]!r}; known: {', '.join(DETECTORS)}")
    if not len(dataset.claims):
        return []  # nothing was settled: no ring (and no detector meets empty frames)
    ctx = Context(EntityGraph(dataset), settings.people)
    if workers is None:
        workers = 2 if (len(dataset.claims) >= PARALLEL_MIN_CLAIMS and _can_fork()) else 1
    results: dict[str, list[Ring]] = {}
    plan = [tuple(n for n in group if n in settings.typologies) for group in _WORKER_PLAN]
    plan = [g for g in plan if g]
    if workers > 1 and len(plan) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # shared frames are built once, before forking, and inherited copy-on-write
        ctx.claims, ctx.patients, ctx.items, ctx.facilities  # noqa: B018
        fork = mp.get_context("fork")
        # impersonation leaves out diversion's cards: the diversion worker hands them over
        where = {n: i for i, g in enumerate(plan) for n in g}
        mailbox_dir = None
        if "diversion" in where and "impersonation" in where \
                and where["impersonation"] != where["diversion"]:
            mailbox_dir = tempfile.mkdtemp(prefix="graphkit-mailbox-")
            ctx.cache["mailbox"] = Mailbox({"diversion_cards"}, mailbox_dir)
        _FORK_CONTEXT = ctx
        try:
            with ProcessPoolExecutor(max_workers=min(workers, len(plan)),
                                     mp_context=fork) as pool:
                jobs = [pool.submit(_run_in_worker, (g, settings)) for g in plan]
                for done in as_completed(jobs):  # progress as each worker finishes
                    for name, rings in done.result():
                        if progress:
                            progress(name)
                        results[name] = rings
        finally:
            _FORK_CONTEXT = None
            ctx.cache.pop("mailbox", None)
            if mailbox_dir is not None:
                shutil.rmtree(mailbox_dir, ignore_errors=True)
    else:
        for name in settings.typologies:
            results[name] = [r for r in DETECTORS[name](ctx, settings)
                             if r.score >= settings.min_score]
            if progress:
                progress(name)
    found: list[Ring] = []
    for name in settings.typologies:
        found.extend(_disjoint(results[name]))
    return list(rank_rings(found))


def _can_fork() -> bool:
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods()


def find_rings(dataset: Dataset, settings: Settings | None = None,
               progress: Callable[[str], None] | None = None, *,
               backend: str = "embedded") -> RingsDocument:
    """Detect rings and wrap them with the input fingerprint and every parameter.

    ``backend`` is recorded as ``params["backend"]``: ``"neo4j"`` when ``dataset`` was read back
    from a graph database (:meth:`graphkit.neo4j_backend.Neo4jStore.fetch_dataset`).

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
    params["backend"] = backend
    return RingsDocument(rings=tuple(rings), data_dir=str(dataset.data_dir),
                         fingerprint=dataset.fingerprint, params=params)
