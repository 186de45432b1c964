"""``find_rings``: run the detectors over a dataset and rank what they report."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping

from graphkit._version import __version__
from graphkit.detectors import DETECTORS, Context
from graphkit.detectors.impersonation import impersonation_signals
from graphkit.detectors.assemble import reported_cards
from graphkit.errors import SettingsError
from graphkit.graph import EntityGraph
from graphkit.cases import assign_cases
from graphkit.load import Dataset
from graphkit.reconcile import reconcile
from graphkit.rings import Ring, RingsDocument, rank_rings
from graphkit.settings import Settings

__all__ = ["find_rings", "detect", "PIPELINE", "Step"]


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


def _cards_of(*typologies: str, prepared: str | None = None) -> Callable[[Mapping], dict]:
    """Inputs of a step that leaves out the cards of the other typologies' reported rings (and
    reads what the step ``prepared`` computed for it, as ``signals``)."""
    def inputs(done: Mapping) -> dict:
        out = {"exclude_cards": frozenset(reported_cards(
            [r for t in typologies for r in done[t]], min_score=0.0))}
        if prepared is not None:
            out["signals"] = done[prepared]
        return out
    return inputs


@dataclass(frozen=True)
class Step:
    """One detector of the pipeline: its typology, which results it reads, and how they reach it.

    ``run(ctx, settings, **inputs(done))`` where ``done`` holds the reported rings (score at
    least ``min_score``) of every step in ``needs``. A step is a pure function of the data, the
    settings and those inputs; no detector imports another. A step with ``prepare`` reports no
    rings: it computes ``prepare(ctx, settings)``, a detector's input that does not depend on
    other typologies, so that it runs while they do.
    """

    name: str
    needs: tuple[str, ...] = ()
    inputs: Callable[[Mapping], dict] | None = None
    prepare: Callable[[Context, Settings], object] | None = None

    def kwargs(self, done: Mapping[str, list[Ring]]) -> dict:
        return self.inputs(done) if self.inputs is not None else {}


#: the detectors as a declared graph of dependencies, in the order they are started. The cards of
#: a reported gang are the gang's and a diversion chain's mule cards the chain's (contract section
#: 2), so impersonation reads them; whatever else two typologies share is merged afterwards by
#: :func:`graphkit.reconcile.reconcile`. Impersonation's card signals need no other typology: the
#: first worker free after the two longest detectors computes them while the other runs
#: fake_admission, so impersonation waits on neither.
PIPELINE: tuple[Step, ...] = (
    Step("gang"),
    Step("diversion"),
    Step("impersonation_signals", prepare=impersonation_signals),
    Step("fake_admission"),
    Step("impersonation", needs=("impersonation_signals", "gang", "diversion"),
         inputs=_cards_of("gang", "diversion", prepared="impersonation_signals")),
)
STEPS = {s.name: s for s in PIPELINE}

_FORK_CONTEXT: Context | None = None


def _run_step(ctx: Context, name: str, settings: Settings, kwargs: dict):
    prepare = STEPS[name].prepare
    if prepare is not None:
        return prepare(ctx, settings, **kwargs)
    return [r for r in DETECTORS[name](ctx, settings, **kwargs) if r.score >= settings.min_score]


def _run_in_worker(args: tuple[str, Settings, dict]) -> tuple[str, object]:
    name, settings, kwargs = args
    return name, _run_step(_FORK_CONTEXT, name, settings, kwargs)


def _plan(selected: tuple[str, ...]) -> list[str]:
    """The steps to run for ``selected``: those and everything they need, in pipeline order."""
    want: set[str] = set()
    todo = list(selected)
    while todo:
        name = todo.pop()
        if name not in want:
            want.add(name)
            todo.extend(STEPS[name].needs)
    return [s.name for s in PIPELINE if s.name in want]


def _run_pipeline(ctx: Context, settings: Settings, workers: int,
                  progress: Callable[[str], None] | None) -> dict[str, object]:
    plan = _plan(tuple(settings.typologies))
    done: dict[str, object] = {}  # a step's rings, or what it prepared
    if workers <= 1 or len(plan) < 2:
        for name in plan:
            done[name] = _run_step(ctx, name, settings, STEPS[name].kwargs(done))
            if progress and name in DETECTORS:
                progress(name)
        return done
    global _FORK_CONTEXT
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # shared frames are built once, before forking, and inherited copy-on-write
    ctx.warm()
    _FORK_CONTEXT = ctx
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(plan)),
                                 mp_context=mp.get_context("fork")) as pool:
            pending, running = list(plan), {}
            while pending or running:
                for name in [n for n in pending if all(d in done for d in STEPS[n].needs)]:
                    pending.remove(name)
                    job = pool.submit(_run_in_worker, (name, settings, STEPS[name].kwargs(done)))
                    running[job] = name
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for job in sorted(finished, key=running.get):
                    del running[job]
                    name, rings = job.result()
                    done[name] = rings
                    if progress and name in DETECTORS:
                        progress(name)
    finally:
        _FORK_CONTEXT = None
    return done


def _claims_summary(ctx: Context) -> Callable[[tuple[str, ...]], tuple[float, str | None, str | None]]:
    """Fund amount and period of a set of claims (each counted once), as a merged ring has them."""
    def summary(claim_ids: tuple[str, ...]):
        rows = ctx.claims_by_id(claim_ids)
        if not len(rows):
            return 0.0, None, None
        day = rows["settle_time"]
        return (float(round(rows["fund_amount"].fillna(0).sum(), 2)),
                day.min().strftime("%Y-%m-%d"), day.max().strftime("%Y-%m-%d"))
    return summary


def detect(dataset: Dataset, settings: Settings | None = None,
           progress: Callable[[str], None] | None = None, *,
           workers: int | None = None) -> list[Ring]:
    """All rings scoring at least ``settings.min_score``, reconciled, ranked, with ring ids.

    The detectors run as :data:`PIPELINE` declares (a step starts once the steps it needs have
    finished). On large data (``PARALLEL_MIN_CLAIMS``) they run in up to ``workers`` forked
    processes (default: 2 where the platform can fork); results travel back as return values and
    do not depend on it. Then each typology's rings are made disjoint, and rings of different
    typologies describing the same people are merged (:func:`graphkit.reconcile.reconcile`).
    ``progress(name)`` is called as each typology's detector finishes (not for the steps that
    prepare a detector's inputs).
    Data with no accepted claim (every row rejected, or an empty claims table) has no rings.
    """
    settings = settings or Settings()
    unknown = [t for t in settings.typologies if t not in DETECTORS]
    if unknown:
        raise SettingsError(f"unknown typology {unknown[0]!r}; known: {', '.join(DETECTORS)}")
    if not len(dataset.claims):
        return []  # nothing was settled: no ring (and no detector meets empty frames)
    ctx = Context(EntityGraph(dataset), settings.people)
    if workers is None:
        workers = 2 if (len(dataset.claims) >= PARALLEL_MIN_CLAIMS and _can_fork()) else 1
    done = _run_pipeline(ctx, settings, workers, progress)
    found: list[Ring] = []
    for name in settings.typologies:
        found.extend(_disjoint(done[name]))
    merged = reconcile(found, holder_of=lambda cards: dict(zip(cards, ctx.holder_of(cards))),
                       fund_of=_claims_summary(ctx))
    return list(rank_rings(merged))


def _can_fork() -> bool:
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods()


def find_rings(dataset: Dataset, settings: Settings | None = None,
               progress: Callable[[str], None] | None = None, *,
               backend: str = "embedded", previous: RingsDocument | None = None) -> RingsDocument:
    """Detect rings and wrap them with the input fingerprint and every parameter.

    ``previous``, an earlier run's rings document, lets each ring keep the case id of the earlier
    case it continues (:func:`graphkit.cases.assign_cases`); without it every ring is ``new``.
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
    rings, gone = assign_cases(detect(dataset, settings, progress), previous)
    params = settings.to_dict()
    params["graphkit_version"] = __version__
    params["backend"] = backend
    if previous is not None:
        params["previous"] = {"fingerprint": previous.fingerprint, "rings": len(previous.rings)}
    return RingsDocument(rings=rings, data_dir=str(dataset.data_dir),
                         fingerprint=dataset.fingerprint, params=params,
                         extra={"cases_gone": gone})
