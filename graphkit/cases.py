"""Case continuity across runs: stable case ids, what changed, and who keeps coming back.

The seeds ask supervisors to watch 屡次出现在疑点线索名单中的机构或参保人 (institutions and insured
people who appear in the suspect list again and again). Ring ids (R0001 …) rank one run's rings;
a *case* is the same group of people followed from run to run.

- Without an earlier run, every ring is ``new`` and its ``case_id`` is derived from its members
  (a digest of its patients, or of all its members when it names no patient), never from its rank:
  the same ring gets the same case id in any run that finds it.
- With an earlier run's rings.json (``previous``), a ring whose patient set (cards counted as
  themselves) overlaps an earlier case's at Jaccard ≥ :data:`SAME_CASE_JACCARD` keeps that case's
  id; matching is one-to-one, best overlap first. Its status says how it changed:
  ``unchanged`` (the same patients), ``grown`` (people were added, whoever left), ``shrunk``
  (people only left). A ring that matches no earlier case is ``new``; earlier cases that are not
  found again are listed in the document's ``cases_gone`` (消失).
- A member (facility, person, card, phone, …) that was a member of a ring in the earlier run is a
  *repeat* (屡次出现): the ring lists it in ``repeat`` as ``"type:id"``. The earlier run's own
  repeats carry over, so a member seen in any earlier run of the chain stays a repeat.

Deterministic: the same rings and the same earlier file give the same ids and statuses.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Iterable

from graphkit.rings import Ring, RingsDocument

__all__ = ["assign_cases", "derived_case_id", "SAME_CASE_JACCARD", "CASE_STATUS_ZH"]

#: a ring is an earlier case found again when their patient sets overlap at least this much
SAME_CASE_JACCARD = 0.5

#: what the statuses are called where a person reads them
CASE_STATUS_ZH = {"new": "新增", "grown": "扩大", "shrunk": "缩小", "unchanged": "未变", "gone": "消失"}

_PEOPLE = ("patient", "card")


def _people(ring: Ring) -> frozenset[str]:
    return frozenset(f"{m.type}:{m.id}" for m in ring.members if m.type in _PEOPLE)


def _keys(ring: Ring) -> frozenset[str]:
    return frozenset(f"{m.type}:{m.id}" for m in ring.members)


def derived_case_id(ring: Ring) -> str:
    """A case id from the ring's members alone: ``GK-`` and 12 hex digits of the SHA-256 of its
    sorted patient and card ids (all its members when it names none).

    Examples
    --------
    >>> from graphkit.rings import Member, Ring
    >>> derived_case_id(Ring("gang", 0.9, (Member("patient", "A"), Member("pharmacy", "P1"))))
    'GK-d0a25b103cfa'
    """
    keys = _people(ring) or _keys(ring)
    digest = hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()
    return f"GK-{digest[:12]}"


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if (a or b) else 0.0


def _unique(case_id: str, taken: set[str]) -> str:
    out, k = case_id, 1
    while out in taken:
        k += 1
        out = f"{case_id}-{k}"
    return out


def assign_cases(rings: Iterable[Ring], previous: RingsDocument | None = None
                 ) -> tuple[tuple[Ring, ...], list[dict]]:
    """The rings with ``case_id``, ``case_status`` and ``repeat`` set, and the earlier cases not
    found again (``cases_gone``: case_id, ring_id, typology, patients of each).

    Examples
    --------
    >>> from graphkit.rings import Member, Ring, RingsDocument
    >>> old = Ring("gang", 0.9, tuple(Member("patient", p) for p in "ABC"), ring_id="R0001")
    >>> (first,), _ = assign_cases([old])
    >>> first.case_status
    'new'
    >>> grown = Ring("gang", 0.8, tuple(Member("patient", p) for p in "ABCD"))
    >>> (again,), gone = assign_cases([grown], RingsDocument(rings=(first,)))
    >>> (again.case_id == first.case_id, again.case_status, again.repeat, gone)
    (True, 'grown', ('patient:A', 'patient:B', 'patient:C'), [])
    """
    rings = list(rings)
    before = list(previous.rings) if previous is not None else []
    old_ids = [r.case_id or derived_case_id(r) for r in before]
    people = [_people(r) for r in rings]
    old_people = [_people(r) for r in before]
    holding: dict[str, list[int]] = {}  # person -> earlier rings holding them
    for j, qs in enumerate(old_people):
        for p in qs:
            holding.setdefault(p, []).append(j)
    pairs = []
    for i, ps in enumerate(people):
        for j in sorted({j for p in ps for j in holding.get(p, ())}):
            jac = _jaccard(ps, old_people[j])
            if jac >= SAME_CASE_JACCARD:
                pairs.append((-jac, i, old_ids[j], j))
    match: dict[int, int] = {}
    used_old: set[int] = set()
    for _, i, _, j in sorted(pairs):
        if i not in match and j not in used_old:
            match[i] = j
            used_old.add(j)
    seen_before: set[str] = set()
    for r in before:
        seen_before |= _keys(r) | set(r.repeat)
    taken = {old_ids[j] for j in match.values()} | set(old_ids)
    out = []
    for i, ring in enumerate(rings):
        if i in match:
            j = match[i]
            case_id = old_ids[j]
            ps, qs = people[i], old_people[j]
            status = "unchanged" if ps == qs else ("grown" if ps - qs else "shrunk")
        else:
            case_id = _unique(derived_case_id(ring), taken)
            status = "new"
        taken.add(case_id)
        repeat = tuple(sorted(_keys(ring) & seen_before))
        out.append(replace(ring, case_id=case_id, case_status=status, repeat=repeat))
    gone = [{"case_id": old_ids[j], "ring_id": before[j].ring_id, "typology": before[j].typology,
             "patients": len(before[j].patients)}
            for j in range(len(before)) if j not in used_old]
    return tuple(out), sorted(gone, key=lambda g: g["case_id"])
