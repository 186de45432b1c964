"""冒名就医: cards used by someone other than their holder (负面清单 三(2) 出借医保凭证).

A user borrows 1–4 cards and is tied to them in the claims by one channel, drawn per ring:
- ``phone``: he presents the lent 电子凭证 from his own phone (one phone, several households);
- ``terminal``: he settles his own card and a lent 社保卡 on the same terminal minutes apart;
- ``doctor_session``: his own visit and the lent card's visit with the same doctor at his
  clinic, minutes apart;
- ``unlinked``: nothing joins the cards (社保卡 used by someone the data does not show).
On top of the channel each card may carry what betrays a borrowed card on its own: a deceased
holder, a diagnosis impossible for the holder's sex or age, the holder seen elsewhere within
the hour (two places at once), overlapping stays. An unlinked card always carries one of them.

Truth: a linked user's ring holds him, the channel (phone or terminal), the cards and their
holders. Unlinked cards are one ring each (card and holder): nothing in the data could join them.
"""

from __future__ import annotations

import numpy as np

from graphkit.synth import _catalog as cat
from graphkit.synth._claims import DX, INP, OUT, PHA, Claims, times
from graphkit.synth._draw import doctor_of, near, take
from graphkit.synth._world import DAYS, PHARMACY, PRIVATE, SECONDARY, World

SIGNALS = ("deceased", "impossible_dx", "two_places", "overlapping_stay")


def impersonation_params(rng, camo: float) -> dict:
    """One user's way of borrowing cards."""
    link = str(rng.choice(["phone", "terminal", "doctor_session", "unlinked"], p=[0.35, 0.2, 0.2, 0.25]))
    return {"link": link, "cards": int(rng.integers(1, 5)),
            "relatives": int(rng.integers(0, 2)) if link == "phone" else 0,
            "uses": [int(rng.integers(3, 6)), int(rng.integers(7, 14))],
            "signal_rate": {"deceased": 0.25, "impossible_dx": round(float(0.55 - 0.3 * camo), 2),
                            "two_places": 0.3, "overlapping_stay": 0.2},
            "impossible_share": round(float(rng.uniform(0.2, 0.7) - 0.15 * camo), 2)}


def plant_impersonation(w: World, rng, cl: Claims, camo: float, n_claims: int) -> list[dict]:
    """Plant one user's borrowed cards; returns one ring, or one per card when unlinked."""
    prm = impersonation_params(rng, camo)
    user = take(w, rng, (w.age >= 20) & (w.age <= 60) & (w.own_phone >= 0) & (w.death < 0), 1)
    if not len(user):
        return []
    user = int(user[0])
    holders = _lenders(w, rng, prm, user)
    if not (w.hh[holders] != w.hh[user]).any():
        return []   # only relatives' cards on his phone: a family sharing a phone, not a scheme
    prefer = "01" if prm["link"] == "phone" else "03"
    cards = np.array([int(w.card01[h] if prefer == "01" else w.card03[h]) for h in holders])
    signals = _signals(w, rng, prm, holders, user)
    for h, card, sig in zip(holders, cards, signals):
        if "deceased" in sig:
            w.death[h] = int(rng.integers(20, 220))
        _uses(w, rng, cl, prm, user, int(h), int(card), sig)
    if prm["link"] == "unlinked":
        return [_ring(w, prm, -1, [h], [c], s) for h, c, s in zip(holders, cards, signals)]
    return [_ring(w, prm, user, holders, cards, set().union(*signals))]


def _lenders(w: World, rng, prm: dict, user: int) -> np.ndarray:
    """Holders of the lent cards: of other households (one each), plus for a phone user a
    relative or two; each has the card the channel needs."""
    need = w.card01 >= 0 if prm["link"] == "phone" else w.card03 >= 0
    fit = need & (w.death < 0) & (w.hh != w.hh[user])
    # a linked user borrows in his district; unlinked cards are used away from their holders'
    # (where the holder is seen at home meanwhile, the two places are districts apart)
    home = w.region == int(w.region[user])
    out = [take(w, rng, fit & (~home if prm["link"] == "unlinked" else home), prm["cards"], distinct_hh=True)]
    if prm["relatives"]:
        out.append(take(w, rng, need & (w.hh == w.hh[user]) & (w.death < 0), prm["relatives"]))
    return np.concatenate(out).astype(np.int64)


def _signals(w: World, rng, prm: dict, holders: np.ndarray, user: int) -> list[set]:
    """Which stand-alone signs each lent card carries: at least one when nothing links it, or
    when it is a relative's (a household's cards on one phone is ordinary family life)."""
    out = []
    for h in holders:
        must = prm["link"] == "unlinked" or w.hh[h] == w.hh[user]
        sig = {s for s in SIGNALS if rng.random() < prm["signal_rate"][s]}
        if "deceased" in sig and w.age[h] < 60:
            sig.discard("deceased")
        if "deceased" in sig:
            sig -= {"two_places", "overlapping_stay"}   # a dead holder is seen nowhere himself
        relative = w.hh[h] == w.hh[user]
        if relative:
            sig.discard("two_places")   # a relative buying on the card while its holder is out
        if _impossible_code(w, rng, int(h)) is None:
            sig.discard("impossible_dx")
        if not sig and must:
            sig = {"two_places" if rng.random() < 0.5 and not relative else "impossible_dx"}
            if _impossible_code(w, rng, int(h)) is None:
                sig = {"two_places"}
        out.append(sig)
    return out


def _impossible_code(w: World, rng, holder: int) -> int | None:
    opts = list(cat.IMPOSSIBLE_FOR["M" if w.sex[holder] == 0 else "F"])
    opts += cat.IMPOSSIBLE_FOR["child" if w.age[holder] < 14 else "adult"]
    # not obstetric or neonatal codes: a newborn is settled on the mother's card (新生儿随母)
    opts = [o for o in opts if not o.startswith(("O8", "P0"))]
    return DX[opts[int(rng.integers(0, len(opts)))]] if opts else None


def _use_days(w: World, rng, prm: dict, holder: int) -> np.ndarray:
    n = int(rng.integers(prm["uses"][0], prm["uses"][1] + 1))
    lo = int(w.death[holder]) + 1 if w.death[holder] >= 0 else 0
    lo = min(lo, DAYS - 2)
    return np.unique(rng.integers(lo, DAYS, n))


def _uses(w: World, rng, cl: Claims, prm: dict, user: int, holder: int, card: int, sig: set) -> None:
    """The user's claims on the lent card through the ring's channel, and the signals."""
    days = _use_days(w, rng, prm, holder)
    link = prm["link"]
    if link == "terminal":
        ts, fac, extra = _terminal_sessions(w, rng, cl, user, days)
    elif link == "doctor_session":
        ts, fac, extra = _doctor_sessions(w, rng, cl, user, days)
    else:
        habits = np.array([w.hab_pharm[user], w.hab_clinic[user], w.hab_hosp[user], w.hab_pharm2[user]])
        fac = habits[rng.integers(0, len(habits), len(days))]
        at_ph = w.fac_kind[fac] == PHARMACY
        ts = np.where(at_ph, times(rng, days, "pharm"), times(rng, days, "clinic"))
        extra = {}
    at_ph = w.fac_kind[fac] == PHARMACY
    diag = _user_dx(w, rng, user, len(days))
    if "impossible_dx" in sig:
        code = _impossible_code(w, rng, holder)
        hit = rng.random(len(days)) < prm["impossible_share"]
        hit[rng.choice(len(days), min(2, len(days)), replace=False)] = True   # not one odd code
        diag = np.where(hit, code, diag)
        at_ph_plain = at_ph & ~hit
    else:
        at_ph_plain = at_ph
    diag = np.where(at_ph_plain & (rng.random(len(days)) < 0.5), -1, diag)
    oph = int(w.own_phone[user]) if link == "phone" else -1
    cl.add(pat=holder, fac=fac, ctype=np.where(at_ph, PHA, OUT), ts=ts, card=card, ophone=oph,
           diag=diag, src=2, **extra)
    if "two_places" in sig:
        _holder_elsewhere(w, rng, cl, holder, ts[: max(1, len(ts) // 3)], fac[: max(1, len(ts) // 3)])
    if "overlapping_stay" in sig:
        _overlapping_stay(w, rng, cl, holder, card, oph)


def _user_dx(w: World, rng, user: int, n: int) -> np.ndarray:
    """What the user is really treated for (fits his own sex and age)."""
    dx = np.array([DX[c[0]] for c in cat.ACUTE_OUTPATIENT
                   if (not c[1] or (c[1] == "M") == (w.sex[user] == 0)) and c[2] <= w.age[user] <= c[3]])
    return dx[rng.integers(0, len(dx), n)]


def _terminal_sessions(w: World, rng, cl: Claims, user: int, days: np.ndarray):
    """At his pharmacy the user settles his own purchase, then the lent card's, same terminal."""
    fac = np.full(len(days), int(w.hab_pharm[user]))
    dev = w.fac_dev_start[fac] + (rng.random(len(days)) * w.fac_dev_n[fac]).astype(np.int64)
    own = times(rng, days, "pharm")
    cl.add(pat=user, fac=fac, ctype=PHA, ts=own, dev=dev)
    return own + rng.integers(40, 300, len(days)), fac, {"dev": dev}


def _doctor_sessions(w: World, rng, cl: Claims, user: int, days: np.ndarray):
    """At his clinic the user sees a doctor on his own card, then on the lent card, minutes apart."""
    clinic = int(w.hab_clinic[user])
    fac = np.full(len(days), clinic)
    doc = np.full(len(days), int(doctor_of(w, rng, [clinic])[0]))
    own = times(rng, days, "clinic")
    cl.add(pat=user, fac=fac, ctype=OUT, ts=own, doc=doc, diag=_user_dx(w, rng, user, len(days)))
    return own + rng.integers(120, 900, len(days)), fac, {"doc": doc}


def _holder_elsewhere(w: World, rng, cl: Claims, holder: int, ts: np.ndarray, fac: np.ndarray) -> None:
    """The holder's own visit on his other card (or the same), at home, within the hour."""
    home = np.full(len(ts), int(w.hab_centre[holder]))
    home = np.where(home == fac, int(w.place_village_fac[w.place[holder]]), home)
    home = np.where(home < 0, int(w.hab_hosp[holder]), home)
    cl.add(pat=holder, fac=home, ctype=OUT, ts=ts + rng.integers(-2400, 2400, len(ts)),
           diag=DX["I10.x00"] if w.age[holder] >= 40 else DX["J06.900"])


def _overlapping_stay(w: World, rng, cl: Claims, holder: int, card: int, oph: int) -> None:
    """The holder's real stay, and another stay on the lent card at another hospital meanwhile."""
    a = int(rng.integers(0, DAYS - 30))
    los = int(rng.integers(5, 12))
    cl.add(pat=holder, fac=int(w.hab_hosp[holder]), ctype=INP, ts=times(rng, [a + los], "disch"),
           admit=a, disch=a + los, diag=DX["J18.900"])
    other = near(w, rng, [PRIVATE, SECONDARY], int(w.region[holder]))
    if other == int(w.hab_hosp[holder]):
        other = near(w, rng, [PRIVATE], int(w.region[holder]))
    b = a + int(rng.integers(1, los - 1))
    cl.add(pat=holder, fac=other, ctype=INP, ts=times(rng, [b + 6], "disch"), admit=b, disch=b + 6,
           card=card, ophone=oph, diag=DX[cat.SOFT_INPATIENT[int(rng.integers(0, 4))]], src=2)


def _ring(w: World, prm: dict, user: int, holders, cards, signals: set) -> dict:
    mem = [("patient", user, "user")] if user >= 0 else []
    mem += [("patient", int(h), "card holder") for h in holders]
    mem += [("card", int(c), "borrowed card") for c in cards]
    if prm["link"] == "phone":
        mem.append(("phone", int(w.own_phone[user]), "presenting phone"))
    pats = np.array(([user] if user >= 0 else []) + [int(h) for h in holders], dtype=np.int64)
    sig = "+".join(s for s in SIGNALS if s in signals) or "channel_only"
    return {"typology": "impersonation", "scenario": f"impersonation:{prm['link']}/{sig}",
            "params": dict(prm, cards=len(cards), signals=sorted(signals)), "members": mem,
            "patients": pats}
