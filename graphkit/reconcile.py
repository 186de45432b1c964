"""One case per group of people: rings of different typologies that describe the same people.

Each detector reads the claims through its own mechanism, and two mechanisms can describe one
group: an organiser's collected cards booked into fake stays also look like one phone presenting
other people's cards, and a gang's swiped cards can carry the signals of someone else using them.
DATA_CONTRACT section 2: "One group of people is one ring ... the ring carries the typology whose
mechanism explains the evidence, and the other detector's evidence joins it; no two reported rings
share more than half of their patients."

:func:`reconcile` takes the rings every detector reported (each typology's rings already disjoint)
and merges any two of different typologies that share more than half of the patients of the
smaller one. The merged ring keeps the typology that explains the evidence:

- an organised scheme explains what looks like impersonation: gang, fake_admission or diversion
  over impersonation (collected or mule cards are used by someone else *because* they are
  collected; the organiser's phone presenting them is the gang's or the organiser's, not a
  borrower's);
- between two organised schemes, the one whose score is higher (it explains more of the
  evidence), ties by the fixed order gang, fake_admission, diversion.

The merged ring's members are both rings' members (a member in both keeps the kept ring's role),
its claims both rings' claims, its evidence the kept ring's followed by the other's, and its score
the higher of the two. The other typologies are recorded in ``Ring.also`` (rings.json ``also``).
A card counts as its holder patient (contract section 3), so a ring of cards and a ring of
patients are compared as people.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterable

from graphkit.rings import Ring

__all__ = ["reconcile", "people_of", "TYPOLOGY_PRECEDENCE", "MAX_SHARED"]

#: which typology a merged ring keeps when scores tie (first wins); impersonation always yields
TYPOLOGY_PRECEDENCE = ("gang", "fake_admission", "diversion", "impersonation")

#: two rings sharing more than this share of the smaller ring's patients are one group
MAX_SHARED = 0.5


def people_of(ring: Ring, holder_of: Callable[[list[str]], dict[str, str]] | None = None) -> frozenset[str]:
    """The ring's patients, a card counting as its holder patient (contract section 3)."""
    people = set(ring.member_ids("patient"))
    cards = ring.member_ids("card")
    if cards and holder_of is not None:
        people.update(h for h in holder_of(cards).values() if h)
    return frozenset(people)


def _rank(typology: str) -> int:
    return TYPOLOGY_PRECEDENCE.index(typology) if typology in TYPOLOGY_PRECEDENCE else len(TYPOLOGY_PRECEDENCE)


def _keeper(a: Ring, b: Ring) -> tuple[Ring, Ring]:
    """(the ring whose typology explains the evidence, the other)."""
    imp_a, imp_b = a.typology == "impersonation", b.typology == "impersonation"
    if imp_a != imp_b:
        return (b, a) if imp_a else (a, b)
    key_a = (-round(a.score, 6), _rank(a.typology))
    key_b = (-round(b.score, 6), _rank(b.typology))
    return (a, b) if key_a <= key_b else (b, a)


def _merge(keep: Ring, other: Ring, fund_of: Callable[[tuple[str, ...]], tuple[float, str | None, str | None]] | None) -> Ring:
    seen = {(m.type, m.id) for m in keep.members}
    members = list(keep.members) + [m for m in other.members if (m.type, m.id) not in seen]
    claims = tuple(sorted(set(keep.claims) | set(other.claims)))
    if fund_of is not None:
        fund, first, last = fund_of(claims)
    else:
        fund = keep.fund_amount + other.fund_amount  # without claim amounts: an upper bound
        firsts = [x for x in (keep.first_seen, other.first_seen) if x]
        lasts = [x for x in (keep.last_seen, other.last_seen) if x]
        first, last = (min(firsts) if firsts else None), (max(lasts) if lasts else None)
    also = tuple(sorted((set(keep.also) | set(other.also) | {other.typology}) - {keep.typology},
                        key=_rank))
    return replace(keep, score=max(keep.score, other.score),
                   members=tuple(sorted(members, key=lambda m: (m.type, m.id))),
                   claims=claims, fund_amount=fund, first_seen=first, last_seen=last,
                   evidence=keep.evidence + tuple(e for e in other.evidence if e not in keep.evidence),
                   also=also)


def reconcile(rings: Iterable[Ring], *,
              holder_of: Callable[[list[str]], dict[str, str]] | None = None,
              fund_of: Callable[[tuple[str, ...]], tuple[float, str | None, str | None]] | None = None,
              max_shared: float = MAX_SHARED) -> list[Ring]:
    """Merge rings that share more than ``max_shared`` of the smaller
    ring's patients, until no two rings do.

    ``holder_of(cards) -> {card: holder patient}`` lets a card count as its holder;
    ``fund_of(claims) -> (fund amount, first day, last day)`` recomputes a merged ring's amount
    and period from its claims (each claim counted once). The result is independent of the input
    order: pairs are merged most-shared first, ties by the rings' sorted members.

    Examples
    --------
    >>> from graphkit.rings import Member, Ring
    >>> people = tuple(Member("patient", p) for p in "ABCD")
    >>> gang = Ring("gang", 0.9, people + (Member("pharmacy", "P1"),))
    >>> imp = Ring("impersonation", 0.7, people[:3] + (Member("phone", "138"),))
    >>> [(r.typology, r.also, len(r.members)) for r in reconcile([gang, imp])]
    [('gang', ('impersonation',), 6)]
    """
    pool = sorted(rings, key=lambda r: (r.typology, sorted(r.members)))
    people = [people_of(r, holder_of) for r in pool]
    alive = [True] * len(pool)
    while True:
        index: dict[str, list[int]] = {}
        for i, ps in enumerate(people):
            if alive[i]:
                for p in ps:
                    index.setdefault(p, []).append(i)
        shared: dict[tuple[int, int], int] = {}
        for owners in index.values():
            for k, i in enumerate(owners):
                for j in owners[k + 1:]:
                    shared[i, j] = shared.get((i, j), 0) + 1
        best = None
        for (i, j), n in shared.items():
            share = n / max(1, min(len(people[i]), len(people[j])))
            if share > max_shared and (best is None or (share, -i, -j) > (best[0], -best[1], -best[2])):
                best = (share, i, j)
        if best is None:
            break
        _, i, j = best
        keep, other = _keeper(pool[i], pool[j])
        k_keep = i if keep is pool[i] else j
        k_other = j if k_keep == i else i
        pool[k_keep] = _merge(keep, other, fund_of)
        people[k_keep] = people[k_keep] | people[k_other]
        alive[k_other] = False
    return [r for r, a in zip(pool, alive) if a]
