"""One case per group of people: graphkit.reconcile and its place in graphkit.detect."""

from __future__ import annotations

from graphkit.detect import PIPELINE, STEPS, _plan, detect
from graphkit.reconcile import people_of, reconcile
from graphkit.rings import Evidence, Member, Ring
from graphkit.settings import Settings
from tests.test_detectors import World, background
from tests.test_fake_admission import _collected_cards_booked_into_stays


def _people(*ids):
    return tuple(Member("patient", p, "card holder") for p in ids)


def test_rings_of_two_typologies_sharing_most_people_are_one_ring_of_the_organised_scheme():
    gang = Ring("gang", 0.8, _people("A", "B", "C", "D") + (Member("pharmacy", "P1", "colluding"),),
                claims=("S1", "S2"), fund_amount=100.0, first_seen="2024-01-02",
                last_seen="2024-03-01", evidence=(Evidence("lockstep_swipes", "c", "x", 5),))
    imp = Ring("impersonation", 0.9, _people("B", "C", "D") + (Member("patient", "U", "user"),
                                                               Member("phone", "138", "phone")),
               claims=("S2", "S3"), fund_amount=70.0, first_seen="2023-12-30",
               last_seen="2024-02-01", evidence=(Evidence("phone_presents_unrelated_cards", "c", "y", 3),))
    (ring,) = reconcile([imp, gang])
    assert ring.typology == "gang" and ring.also == ("impersonation",)
    assert ring.score == 0.9
    assert {m.id for m in ring.members} == {"A", "B", "C", "D", "U", "P1", "138"}
    assert next(m for m in ring.members if m.id == "B").role == "card holder"
    assert ring.claims == ("S1", "S2", "S3")
    assert [e.rule for e in ring.evidence] == ["lockstep_swipes", "phone_presents_unrelated_cards"]
    assert (ring.first_seen, ring.last_seen) == ("2023-12-30", "2024-03-01")
    assert ring.to_dict()["also"] == ["impersonation"]
    assert Ring.from_dict(ring.to_dict()).also == ("impersonation",)


def test_rings_sharing_half_of_the_smaller_ones_people_or_less_stay_apart():
    gang = Ring("gang", 0.8, _people("A", "B", "C", "D"))
    fake = Ring("fake_admission", 0.7, _people("C", "D", "E", "F"))
    assert len(reconcile([gang, fake])) == 2


def test_between_two_organised_schemes_the_higher_score_keeps_its_typology():
    gang = Ring("gang", 0.6, _people("A", "B", "C"))
    fake = Ring("fake_admission", 0.8, _people("A", "B", "C", "D"))
    (ring,) = reconcile([gang, fake])
    assert (ring.typology, ring.also) == ("fake_admission", ("gang",))


def test_a_card_counts_as_its_holder():
    cards = Ring("gang", 0.8, tuple(Member("card", c, "collected card") for c in ("CA", "CB", "CC")))
    people = Ring("impersonation", 0.7, _people("A", "B"))
    holders = {"CA": "A", "CB": "B", "CC": "C"}
    assert people_of(cards, lambda cs: {c: holders[c] for c in cs}) == {"A", "B", "C"}
    assert len(reconcile([cards, people], holder_of=lambda cs: {c: holders[c] for c in cs})) == 1
    assert len(reconcile([cards, people])) == 2  # without holders a card is no person


def test_the_result_does_not_depend_on_the_order_rings_come_in():
    rings = [Ring("gang", 0.8, _people("A", "B", "C")), Ring("impersonation", 0.7, _people("B", "C")),
             Ring("fake_admission", 0.75, _people("C", "D", "E")), Ring("diversion", 0.6, _people("D", "E"))]
    assert reconcile(rings) == reconcile(rings[::-1])
    assert len(reconcile(rings)) == 2


def test_impersonation_reads_the_reported_gang_and_diversion_cards_and_nothing_waits_on_files():
    assert STEPS["impersonation"].needs == ("impersonation_signals", "gang", "diversion")
    assert _plan(("impersonation",)) == ["gang", "diversion", "impersonation_signals",
                                         "impersonation"]
    assert _plan(("gang",)) == ["gang"]
    # impersonation's card signals need no other typology: they start as soon as a worker is
    # free, not after gang and diversion have finished
    assert STEPS["impersonation_signals"].needs == ()
    assert [s.name for s in PIPELINE][:4] == ["gang", "diversion", "impersonation_signals",
                                              "fake_admission"]


def test_an_organisers_collected_cards_booked_into_stays_are_one_fake_admission_ring(tmp_path):
    """An organiser collects the 电子凭证 of seven people from different places and presents
    them from his own phone to book three waves of stays at a private hospital. That is an
    organised fake admission (contract section 2), not also an impersonation case."""
    w = World()
    background(w)
    ids = _collected_cards_booked_into_stays(w)
    w.load(tmp_path)
    import graphkit as gk

    rings = detect(gk.load(tmp_path), Settings())
    mine = [r for r in rings if set(r.patients) & set(ids)]
    assert len(mine) == 1, [(r.typology, r.patients) for r in mine]
    assert mine[0].typology == "fake_admission"
    assert set(ids) <= set(mine[0].patients)
