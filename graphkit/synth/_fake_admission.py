"""虚假住院 / 诱导住院 / 挂床住院: groups of insured people admitted together to one institution,
same dates, similar diagnoses and stays, repeatedly (负面清单 四(3) 组织参保人员虚假住院).

Two ways, drawn per ring:
- ``village_waves``: recruits of one village (sometimes with a neighbouring one) brought to a
  private hospital or a 卫生院 in waves; some are seen at home during the stay (挂床);
- ``organiser_cards``: an organiser collects the cards of people from different places and books
  them into stays at one institution in waves, presenting them as 社保卡 or as 电子凭证 from his
  phone (on all or some cards). Organised fake stays are fake_admission, whoever organises them.

Truth holds the recruits and their cards, the admitting institution and its attending doctors;
the organiser and his phone where the claims carry the phone.
"""

from __future__ import annotations

import numpy as np

from graphkit.synth import _catalog as cat
from graphkit.synth._claims import DX, INP, OUT, Claims, times
from graphkit.synth._draw import busy_region, card_of, doctor_of, take
from graphkit.synth._world import COMMUNITY, DAYS, PRIVATE, World, new_phone


def fake_admission_params(rng, camo: float, n_claims: int) -> dict:
    """One ring's way of working, drawn from wide ranges."""
    how = "village_waves" if rng.random() < 0.55 else "organiser_cards"
    return {"how": how, "recruits": int(rng.integers(5, int(np.clip(n_claims / 8000, 10, 25)) + 1)),
            "waves": int(rng.integers(2, 7)), "los": int(rng.integers(4, 15)),
            "date_jitter": int(rng.integers(0, 2 + int(3 * camo))),
            "los_jitter": int(rng.integers(1, 3 + int(3 * camo))),
            "turnout": round(float(rng.uniform(0.55, 0.95)), 2),
            "diagnoses": int(rng.integers(1, 3 + int(2 * camo))), "doctors": int(rng.integers(1, 4)),
            "institution": "private" if rng.random() < 0.7 else "township",
            "neighbours": int(rng.choice([0, 0, 1, 2])) if how == "village_waves" else 0,
            "seen_at_home": round(float(rng.uniform(0.0, 0.4)), 2),
            "presentation": (str(rng.choice(["no_phone", "phone_all", "phone_some"], p=[0.4, 0.3, 0.3]))
                             if how == "organiser_cards" else "own_cards"),
            "phone_owner": "own" if rng.random() < 0.7 else "unregistered"}


def plant_fake_admission(w: World, rng, cl: Claims, camo: float, n_claims: int) -> list[dict]:
    """Plant one ring of fake stays; returns its truth ring (or nothing)."""
    prm = fake_admission_params(rng, camo, n_claims)
    if prm["how"] == "village_waves":
        recruits, region = _village_recruits(w, rng, prm)
    else:
        region = busy_region(w, rng)
        need = {"no_phone": w.card03 >= 0, "phone_all": w.card01 >= 0}.get(prm["presentation"], True)
        recruits = take(w, rng, need & (w.age >= 30) & (w.death < 0), prm["recruits"], distinct_hh=True)
    if len(recruits) < 4:
        return []
    cards, phone_card = _cards_presented(w, rng, prm, recruits)
    organiser, phone = _organiser(w, rng, prm, region, phone_card.any())
    if phone < 0 and prm["presentation"].startswith("phone"):
        prm["presentation"] = "no_phone"   # none of the cards went on his phone after all
    hosp = _institution(w, rng, prm, region)
    wave_days = _wave_days(w, rng, prm, hosp)
    if len(wave_days) < 2:
        return []   # stays that do not come back are not a scheme the claims show
    docs = np.unique(doctor_of(w, rng, np.full(prm["doctors"], hosp)))
    own = prm["presentation"] == "own_cards"   # a recruit's own 电子凭证 is on his own phone
    _waves(w, rng, cl, prm, wave_days, recruits, cards, np.where(phone_card, phone, -2 if own else -1),
           hosp, docs)
    prm["institution"] = "private" if w.fac_kind[hosp] == PRIVATE else "township"
    mem = [("patient", int(p), "admitted") for p in recruits]
    if prm["how"] == "organiser_cards":
        mem += [("card", int(c), "collected card") for c in cards]
    mem += [("institution", hosp, "admitting institution")]
    mem += [("doctor", int(d), "attending") for d in docs]
    if phone >= 0:
        mem.append(("phone", phone, "organiser phone"))
    if organiser >= 0:
        mem.insert(0, ("patient", organiser, "organiser"))
    pats = np.r_[recruits, [organiser]] if organiser >= 0 else recruits
    return [{"typology": "fake_admission", "scenario": f"fake_admission:{prm['how']}/{prm['presentation']}",
             "params": prm, "members": mem, "patients": pats}]


def _village_recruits(w: World, rng, prm: dict) -> tuple[np.ndarray, int]:
    """Recruits of one populous village, plus a few of neighbouring villages of its town."""
    elig = (w.age >= 35) & (w.death < 0) & ~w.used
    cnt_all = np.bincount(w.place[elig], minlength=len(w.place_region))
    rural = np.flatnonzero(w.place_rural & (cnt_all >= 4))
    places = rural if len(rural) else np.flatnonzero(cnt_all >= 4)   # else a residential compound
    if not len(places):
        return np.zeros(0, dtype=np.int64), 0
    cnt = cnt_all[places]
    good = places[cnt >= np.sort(cnt)[-max(1, len(cnt) // 3)]]
    place = int(good[rng.integers(0, len(good))])
    recruits = [take(w, rng, (w.place == place) & (w.age >= 35) & (w.death < 0), prm["recruits"])]
    nb = np.flatnonzero((w.place_town == w.place_town[place]) & (np.arange(len(w.place_town)) != place))
    for other in nb[rng.permutation(len(nb))[:prm["neighbours"]]]:
        recruits.append(take(w, rng, (w.place == other) & (w.age >= 35) & (w.death < 0),
                             int(rng.integers(1, 4))))
    return np.concatenate(recruits).astype(np.int64), int(w.place_region[place])


def _cards_presented(w: World, rng, prm: dict, recruits: np.ndarray):
    """The card each stay is settled on, and whether it is an 电子凭证 on the organiser's phone."""
    pres = prm["presentation"]
    if pres in ("own_cards", "no_phone"):
        return card_of(w, recruits, "03"), np.zeros(len(recruits), bool)
    has01 = w.card01[recruits] >= 0
    on_phone = has01 if pres == "phone_all" else has01 & (rng.random(len(recruits)) < rng.uniform(0.3, 0.7))
    cards = np.where(on_phone, w.card01[recruits], card_of(w, recruits, "03"))
    return cards, on_phone


def _organiser(w: World, rng, prm: dict, region: int, uses_phone: bool) -> tuple[int, int]:
    """(organiser patient or -1, phone or -1): the organiser is in the data only by his phone."""
    if not uses_phone:
        return -1, -1
    if prm["phone_owner"] == "own":
        org = take(w, rng, (w.region == region) & (w.age >= 28) & (w.age <= 65) & (w.own_phone >= 0), 1)
        if len(org):
            return int(org[0]), int(w.own_phone[org[0]])
    prm["phone_owner"] = "unregistered"
    return -1, new_phone(w)


def _institution(w: World, rng, prm: dict, region: int) -> int:
    """The admitting institution: of the drawn kind, in the district, the one with the fewest
    planted waves so far."""
    kinds = [PRIVATE] if prm["institution"] == "private" else [COMMUNITY]
    for where, of in ((region, kinds), (None, kinds), (region, [PRIVATE, COMMUNITY]), (None, [PRIVATE, COMMUNITY])):
        cand = w.facilities_of(of, where)
        if not len(cand):
            continue
        load = np.array([len(w.wave_days.get(int(f), ())) for f in cand])
        if load.min() <= 12 - prm["waves"] or where is None and len(of) == 2:
            least = cand[load == load.min()]
            return int(least[rng.integers(0, len(least))])
    raise AssertionError("the world has institutions of every kind")


def _wave_days(w: World, rng, prm: dict, hosp: int) -> np.ndarray:
    """Admission days of the waves, three weeks or more from another ring's waves at the same
    institution (waves of two rings on the same days would be one group in the claims)."""
    starts = np.arange(5, DAYS - 25)
    busy = np.array(w.wave_days.get(hosp, []), dtype=np.int64)
    if len(busy):
        starts = starts[np.abs(starts[:, None] - busy[None, :]).min(axis=1) > 21]
    picked: list[int] = []
    for d in rng.permutation(starts):
        if all(abs(int(d) - q) > 25 for q in picked):
            picked.append(int(d))
        if len(picked) == prm["waves"]:
            break
    w.wave_days.setdefault(hosp, []).extend(picked)
    return np.sort(np.array(picked, dtype=np.int64))


def _turnouts(rng, prm: dict, n_recruits: int, n_waves: int) -> list[np.ndarray]:
    """Recruit positions admitted in each wave (3 or more); everyone comes back at least once."""
    out = []
    for _ in range(n_waves):
        sel = np.flatnonzero(rng.random(n_recruits) < prm["turnout"])
        out.append(sel if len(sel) >= 3 else np.sort(rng.choice(n_recruits, min(3, n_recruits), replace=False)))
    seen = np.bincount(np.concatenate(out), minlength=n_recruits) if out else np.zeros(n_recruits, int)
    for r in np.flatnonzero(seen < min(2, n_waves)):
        without = [i for i, sel in enumerate(out) if r not in sel]
        for i in rng.choice(without, min(len(without), min(2, n_waves) - int(seen[r])), replace=False):
            out[i] = np.sort(np.r_[out[i], r])
    return out


def _waves(w, rng, cl, prm, wave_days, recruits, cards, ophone, hosp, docs) -> None:
    """Waves of stays: most recruits admitted within days of each other, similar diagnoses and
    lengths; some seen at their village clinic during the stay (挂床)."""
    dxs = np.array([DX[c] for c in rng.choice(cat.SOFT_INPATIENT, prm["diagnoses"], replace=False)])
    svc = cat.SV["中医针刺"] if rng.random() < 0.5 else cat.SV["偏瘫肢体综合训练"]
    for d0, sel in zip(wave_days, _turnouts(rng, prm, len(recruits), len(wave_days))):
        adm = d0 + rng.integers(0, prm["date_jitter"] + 1, len(sel))
        los = np.maximum(3, prm["los"] + rng.integers(-prm["los_jitter"], prm["los_jitter"] + 1, len(sel)))
        disch = np.minimum(adm + los, DAYS - 1)
        cl.add(pat=recruits[sel], fac=hosp, ctype=INP, ts=times(rng, disch, "disch"), admit=adm,
               disch=disch, card=cards[sel], ophone=ophone[sel], diag=dxs[rng.integers(0, len(dxs), len(sel))],
               doc=docs[rng.integers(0, len(docs), len(sel))], svc=svc, src=2)
        home = sel[rng.random(len(sel)) < prm["seen_at_home"]]
        if len(home):
            j = np.searchsorted(sel, home)
            day = adm[j] + (rng.random(len(home)) * np.maximum(1, disch[j] - adm[j] - 1)).astype(np.int64) + 1
            cl.add(pat=recruits[home], fac=w.hab_clinic[recruits[home]], ctype=OUT,
                   ts=times(rng, day, "clinic"), diag=DX["J06.900"], src=2)
