"""Legitimate look-alikes (contract section 2): never in the truth, yet each shares a surface
feature with a fraud — many people at one place on one rhythm, one phone for several cards, a
trace code settled twice, a settlement after death. Each cohort draws its size and rhythm.
"""

from __future__ import annotations

import numpy as np

from graphkit.synth import _catalog as cat
from graphkit.synth._claims import DRUG_X, DX, INP, OUT, PHA, Claims, times
from graphkit.synth._draw import alive_days, busy_region, doctor_of, near, take
from graphkit.synth._world import DAYS, PHARMACY, PRIVATE, SECONDARY, TERTIARY, World, new_phone

LOOKALIKE_KINDS = ("dialysis_cohort", "nursing_home", "family_shared_phone", "chronic_refill_day",
                   "group_admission", "chemotherapy_cycles", "cataract_campaign", "rehab_long_stay",
                   "death_in_hospital", "newborn_on_parent_card", "refund_resettle", "split_pack",
                   "transfer_overlap", "relative_buys_during_stay")

_COMMON = ("阿莫西林胶囊", "苯磺酸氨氯地平片", "连花清瘟胶囊", "盐酸二甲双胍片", "阿托伐他汀钙片",
           "奥美拉唑肠溶胶囊")


def plant_lookalikes(w: World, rng, cl: Claims, n_claims: int) -> dict:
    """Add every look-alike of the contract; returns kind -> list of patient index arrays.

    ``family_shared_phone`` is filled in later from the claims (every phone presenting the cards
    of one household); the families planted here are among them.
    """
    w.address = np.array(w.hh_address, dtype=object)[w.hh]
    scale = n_claims / 20000
    out: dict[str, list] = {k: [] for k in LOOKALIKE_KINDS}
    for kind, per_20k, least, plant in _PLANTERS:
        for _ in range(max(least, int(round(per_20k * scale)))):
            pts = plant(w, rng, cl, n_claims)
            if pts is not None and len(pts) and kind != "family_shared_phone":
                out[kind].append(np.asarray(pts))
    return out


def _dialysis_cohort(w: World, rng, cl: Claims, n_claims: int):
    """血透: the same patients at one hospital on fixed weekdays and shift, for months."""
    region = busy_region(w, rng)
    hospital = near(w, rng, [SECONDARY, TERTIARY], region)
    size = int(rng.integers(3, 9 if n_claims < 50000 else 21))
    patients = take(w, rng, (w.region == region) & (w.age >= 30) & (w.age <= 85), size)
    if len(patients) < 3:
        return None
    pattern = np.array([0, 2, 4]) if rng.random() < 0.5 else np.array([1, 3, 5])
    if rng.random() < 0.25:
        pattern = pattern[:2]   # twice a week
    weeks = int(np.clip(n_claims / 1000 * rng.uniform(0.5, 1.5), 6, 50))
    start_week = int(rng.integers(0, 52 - weeks + 1))
    shifts = rng.choice([8, 11, 14, 17], int(rng.integers(1, 3)), replace=False)
    attend = rng.uniform(0.85, 0.97)
    for patient in patients:
        weeks_attended = np.arange(start_week + int(rng.integers(0, 3)), start_week + weeks)
        days = (weeks_attended[:, None] * 7 + pattern[None, :]).ravel()
        days = alive_days(w, patient, days[(days < DAYS) & (rng.random(len(days)) < attend)])
        on_epo = rng.random(len(days)) < 0.3
        cl.add(pat=patient, fac=hospital, ctype=OUT, ts=times(rng, days, int(rng.choice(shifts))),
               diag=DX["N18.500"], svc=cat.SV["血液透析"],
               drug=np.where(on_epo, DRUG_X["重组人促红素注射液"], -1), packs=np.where(on_epo, 1, 0))
    return patients


def _nursing_home(w: World, rng, cl: Claims, n_claims: int):
    """Residents sharing an address and phone, weekly rounds by one doctor, refills by staff."""
    region = busy_region(w, rng)
    size = int(np.clip(n_claims / 1500 * rng.uniform(0.4, 1.6), 6, 40))
    residents = take(w, rng, (w.region == region) & (w.age >= 68), size)
    if len(residents) < 4:
        return None
    place = int(w.place[residents[0]])
    home = f"{w.place_text[place]}{cat.VILLAGE_STEMS[int(rng.integers(0, 20))]}福养老院"
    w.address[residents] = home
    w.phone[residents] = new_phone(w)
    first = residents[0]
    clinic = int(w.hab_centre[first]) if rng.random() < 0.5 else int(w.hab_clinic[first])
    doctor = int(doctor_of(w, rng, clinic))
    weekday, seen_share = int(rng.integers(0, 5)), rng.uniform(0.3, 0.6)
    diagnoses = np.array([DX[c] for c in ("I10.x00", "J06.900", "I25.100", "M17.900", "K29.700")])
    for week in range(int(np.clip(n_claims / 800, 8, 52))):
        seen = residents[rng.random(len(residents)) < seen_share]
        day = week * 7 + weekday
        if len(seen) and day < DAYS:
            ts = times(rng, [day], "clinic")[0] + np.cumsum(rng.integers(180, 900, len(seen)))
            cl.add(pat=seen, fac=clinic, ctype=OUT, ts=ts, doc=doctor,
                   diag=diagnoses[rng.integers(0, 5, len(seen))])
    pharmacy = int(w.hab_pharm[first])
    every = int(rng.choice([14, 30]))
    for day in range(int(rng.integers(0, 5)), DAYS, every):
        refilled = residents[rng.random(len(residents)) < 0.5]
        if len(refilled):
            ts = times(rng, [day], "pharm")[0] + np.cumsum(rng.integers(60, 400, len(refilled)))
            cl.add(pat=refilled, fac=pharmacy, ctype=PHA, ts=ts, diag=DX["I10.x00"])
    return residents


def _family_phone(w: World, rng, cl: Claims, n_claims: int):
    """An adult presents his household's 电子凭证 from his own phone at their pharmacy, often
    several cards minutes apart: one phone, several cards, one household."""
    candidates = np.flatnonzero((w.card01 >= 0) & ~w.used & (w.death < 0))
    members = np.bincount(w.hh[candidates], minlength=int(w.hh.max()) + 1)
    households = np.flatnonzero(members >= 3)
    if not len(households):
        return None
    household = int(households[rng.integers(0, len(households))])
    family = take(w, rng, (w.hh == household) & (w.card01 >= 0) & (w.death < 0), 4)
    carer = family[np.argmax(w.own_phone[family])]
    if w.own_phone[carer] < 0:
        return None
    days = np.sort(rng.choice(DAYS, int(rng.integers(6, 30)), replace=False))
    pharmacy = int(w.hab_pharm[carer])
    for day in days:
        presented = family[rng.random(len(family)) < 0.6]
        if len(presented):
            ts = times(rng, [day], "pharm")[0] + np.cumsum(rng.integers(30, 600, len(presented)))
            cl.add(pat=presented, fac=pharmacy, ctype=PHA, ts=ts, card=w.card01[presented],
                   ophone=int(w.own_phone[carer]))
    return family


def _chronic_refill_day(w: World, rng, cl: Claims, n_claims: int):
    """Chronic patients of one community centre collecting refills on one day each month."""
    chronic = w.chronic[:, 0] | w.chronic[:, 1]
    chronic_per_town = np.bincount(w.place_town[w.place[chronic & ~w.used]], minlength=w.n_towns)
    towns = np.flatnonzero(chronic_per_town >= 4)
    if not len(towns):
        return None
    centre = int(w.town_centre[towns[rng.integers(0, len(towns))]])
    size = int(np.clip(n_claims / 1500 * rng.uniform(0.4, 1.6), 6, 40))
    patients = take(w, rng, (w.place_town[w.place] == int(w.fac_town[centre])) & chronic, size)
    if len(patients) < 4:
        return None
    day_of_month, turnout = int(rng.integers(1, 25)), rng.uniform(0.6, 0.9)
    for month in range(int(rng.integers(6, 13))):
        collecting = patients[rng.random(len(patients)) < turnout]
        day = int(month * 30.5 + day_of_month)
        days = np.array([alive_days(w, patient, np.array([day]))[0] for patient in collecting],
                        dtype=np.int64)
        diagnoses = np.where(w.chronic[collecting, 1], DX["E11.900"], DX["I10.x00"])
        drugs = np.where(w.chronic[collecting, 1], DRUG_X["盐酸二甲双胍片"], DRUG_X["苯磺酸氨氯地平片"])
        cl.add(pat=collecting, fac=centre, ctype=OUT, ts=times(rng, days, "clinic"),
               diag=diagnoses, drug=drugs, packs=rng.integers(2, 4, len(collecting)))
    return patients


def _group_admission(w: World, rng, cl: Claims, n_claims: int):
    """One-off group admission after a local incident (food / CO poisoning)."""
    place = int(rng.integers(0, len(w.place_region)))
    patients = take(w, rng, (w.place == place) & (w.death < 0), int(rng.integers(4, 21)))
    if len(patients) < 4:
        return None
    hospital = near(w, rng, [SECONDARY], int(w.place_region[place]))
    incident_day = int(rng.integers(10, DAYS - 20))
    admit = incident_day + rng.integers(0, 2, len(patients))
    discharge = admit + rng.integers(2, 7, len(patients))
    diagnosis = DX["A05.900"] if rng.random() < 0.6 else DX["T58.x00"]
    cl.add(pat=patients, fac=hospital, ctype=INP, ts=times(rng, discharge, "disch"), admit=admit,
           disch=discharge, diag=diagnosis)
    return patients


def _chemotherapy_cycles(w: World, rng, cl: Claims, n_claims: int):
    """化疗: re-admitted every cycle (14, 21 or 28 days) to the same oncology ward."""
    hospital = near(w, rng, [TERTIARY, SECONDARY], busy_region(w, rng))
    patients = take(w, rng, (w.age >= 40) & (w.age <= 82) & (w.death < 0),
                    int(rng.integers(3, 11)))
    cycle = int(rng.choice([14, 21, 28]))
    for patient in patients:
        breast = w.sex[patient] == 1 and rng.random() < 0.4
        n_cycles = int(rng.integers(4, 9))
        first_admit = int(rng.integers(0, 200))
        admit = first_admit + np.cumsum(np.r_[0, cycle + rng.integers(-2, 3, n_cycles - 1)])
        stay = rng.integers(2, 5, n_cycles)
        in_year = admit + stay < DAYS
        admit, stay = admit[in_year], stay[in_year]
        drug = DRUG_X["曲妥珠单抗注射液" if breast else "贝伐珠单抗注射液"]
        cl.add(pat=patient, fac=hospital, ctype=INP, ts=times(rng, admit + stay, "disch"),
               admit=admit, disch=admit + stay, diag=DX["Z51.100"], svc=cat.SV["肿瘤化学治疗"],
               drug=drug, packs=rng.integers(1, 3, len(admit)))
    return patients


def _cataract_campaign(w: World, rng, cl: Claims, n_claims: int):
    """A village 白内障 campaign: elderly of one village, one eye hospital, in batches."""
    villages = np.flatnonzero(w.place_rural)
    elderly = np.bincount(w.place[(w.age >= 55) & ~w.used], minlength=len(w.place_region))
    place = (int(villages[np.argmax(elderly[villages])]) if len(villages)
             else int(np.argmax(elderly)))
    hospital = near(w, rng, [PRIVATE], int(w.place_region[place]))
    size = int(np.clip(n_claims / 1500 * rng.uniform(0.4, 1.5), 8, 40))
    patients = take(w, rng, (w.place == place) & (w.age >= 55) & (w.death < 0), size)
    if len(patients) < 4:
        return None
    surgery = cat.SV["白内障超声乳化摘除术+人工晶体植入术"]
    campaign_day = int(rng.integers(20, DAYS - 90))
    admit = campaign_day + rng.integers(0, int(rng.integers(2, 15)), len(patients))
    stay = rng.integers(1, 4, len(patients))
    cl.add(pat=patients, fac=hospital, ctype=INP, ts=times(rng, admit + stay, "disch"), admit=admit,
           disch=admit + stay, diag=DX["H25.900"], svc=surgery)
    second_eye = patients[rng.random(len(patients)) < rng.uniform(0.2, 0.6)]
    if len(second_eye):
        admit2 = campaign_day + int(rng.integers(30, 60)) + rng.integers(0, 3, len(second_eye))
        stay2 = rng.integers(1, 3, len(second_eye))
        cl.add(pat=second_eye, fac=hospital, ctype=INP, ts=times(rng, admit2 + stay2, "disch"),
               admit=admit2, disch=admit2 + stay2, diag=DX["H25.900"], svc=surgery)
    return patients


def _rehab_long_stay(w: World, rng, cl: Claims, n_claims: int):
    """Long rehabilitation stays at a private hospital, settled monthly (中途结算)."""
    region = busy_region(w, rng)
    hospital = near(w, rng, [PRIVATE], region)
    patients = take(w, rng, (w.region == region) & (w.age >= 55) & (w.death < 0),
                    int(rng.integers(3, 11)))
    for patient in patients:
        start, length = int(rng.integers(0, 250)), int(rng.integers(30, 150))
        end = min(start + length, DAYS - 1)
        seg_start = np.arange(start, end, 30)
        seg_end = np.minimum(seg_start + 29, end)
        diagnosis = DX["I69.300"] if rng.random() < 0.6 else DX["Z50.800"]
        cl.add(pat=patient, fac=hospital, ctype=INP, ts=times(rng, seg_end, "disch"),
               admit=seg_start, disch=seg_end, diag=diagnosis, svc=cat.SV["偏瘫肢体综合训练"])
    return patients


def _death_in_hospital(w: World, rng, cl: Claims, n_claims: int):
    """Died in hospital: the stay is settled after death_date."""
    found = take(w, rng, (w.age >= 65) & (w.death < 0), 1)
    if not len(found):
        return None
    patient = int(found[0])
    admit = int(rng.integers(30, DAYS - 10))
    death_day = admit + int(rng.integers(1, 8))
    w.death[patient] = death_day
    settled = times(rng, [death_day + int(rng.integers(1, 4))], "disch")
    cause = ("I63.900", "J18.900", "I50.900", "I21.900")[int(rng.integers(0, 4))]
    cl.add(pat=patient, fac=int(w.hab_hosp[patient]), ctype=INP, ts=settled, admit=admit,
           disch=death_day, diag=DX[cause])
    return np.array([patient])


def _newborn_on_parent_card(w: World, rng, cl: Claims, n_claims: int):
    """新生儿随母: the newborn's care is settled on the mother's card."""
    found = take(w, rng, (w.sex == 1) & (w.age >= 20) & (w.age <= 40) & (w.death < 0), 1)
    if not len(found):
        return None
    mother = int(found[0])
    hospital = int(w.hab_hosp[mother])
    birth, stay = int(rng.integers(5, DAYS - 30)), int(rng.integers(2, 6))
    cl.add(pat=mother, fac=hospital, ctype=INP, ts=times(rng, [birth + stay], "disch"), admit=birth,
           disch=birth + stay, diag=DX["O80.000" if rng.random() < 0.6 else "O82.000"],
           svc=cat.SV["单胎顺产接生"])
    newborn_day = birth + int(rng.integers(0, 20))
    if rng.random() < 0.5:
        cl.add(pat=mother, fac=hospital, ctype=INP, ts=times(rng, [newborn_day + 4], "disch"),
               admit=newborn_day, disch=newborn_day + 4, diag=DX["P07.300"],
               svc=cat.SV["新生儿护理"])
    else:
        cl.add(pat=mother, fac=int(w.hab_centre[mother]), ctype=OUT,
               ts=times(rng, [newborn_day], "clinic"), diag=DX["Z38.000"])
    return np.array([mother])


def _refund_resettle(w: World, rng, cl: Claims, n_claims: int):
    """退费重结: a sale refunded and settled again at the same pharmacy, same trace codes."""
    found = take(w, rng, (w.age >= 18) & (w.death < 0), 1)
    if not len(found):
        return None
    patient = int(found[0])
    pharmacy = int(w.hab_pharm[patient])
    sold_at = times(rng, [int(rng.integers(0, DAYS))], "pharm")[0]
    drug = DRUG_X[_COMMON[int(rng.integers(0, len(_COMMON)))]]
    packs = int(rng.integers(1, 4))
    card = int(w.card03[patient] if w.card03[patient] >= 0 else w.card01[patient])
    sale = cl.add(pat=patient, fac=pharmacy, ctype=PHA, ts=sold_at, drug=drug, packs=packs,
                  card=card)
    resold_at = sold_at + int(rng.integers(300, 2400))
    resale = cl.add(pat=patient, fac=pharmacy, ctype=PHA, ts=resold_at, drug=drug, packs=packs,
                    card=card)
    pack = np.arange(packs)
    cl.reuse.append((np.repeat(resale, packs), pack, np.repeat(sale, packs), pack))
    return np.array([patient])


def _split_pack(w: World, rng, cl: Claims, n_claims: int):
    """拆零: one pack's code over several small sales at one pharmacy."""
    pharmacies = w.facilities_of([PHARMACY])
    pharmacy = int(pharmacies[rng.integers(0, len(pharmacies))])
    buyers = take(w, rng, (w.hab_pharm == pharmacy) & (w.death < 0), int(rng.integers(2, 5)))
    if len(buyers) < 2:
        return None
    drug = DRUG_X[_COMMON[int(rng.integers(0, len(_COMMON)))]]
    days = int(rng.integers(0, DAYS - 7)) + np.sort(rng.integers(0, 6, len(buyers)))
    sales = cl.add(pat=buyers, fac=pharmacy, ctype=PHA, ts=times(rng, days, "pharm"), drug=drug,
                   packs=1, qty=round(1.0 / len(buyers), 2))
    first_pack = np.zeros(len(sales) - 1, dtype=np.int64)
    cl.reuse.append((sales[1:], first_pack, np.repeat(sales[0], len(sales) - 1), first_pack))
    return buyers


def _transfer_overlap(w: World, rng, cl: Claims, n_claims: int):
    """A transfer between hospitals: the two stays overlap by a day."""
    found = take(w, rng, (w.age >= 45) & (w.death < 0), 1)
    if not len(found):
        return None
    patient = int(found[0])
    first_hospital = int(w.hab_hosp[patient])
    tertiary = w.facilities_of([TERTIARY])
    second_hospital = int(tertiary[rng.integers(0, len(tertiary))])
    if second_hospital == first_hospital:
        second_hospital = near(w, rng, [SECONDARY], int(w.region[patient]))
    admit = int(rng.integers(0, DAYS - 30))
    transfer_day = admit + int(rng.integers(2, 8))
    discharge = transfer_day + int(rng.integers(5, 15))
    diagnosis = DX[("I63.900", "I21.900", "S72.000")[int(rng.integers(0, 3))]]
    cl.add(pat=patient, fac=first_hospital, ctype=INP, ts=times(rng, [transfer_day], 12),
           admit=admit, disch=transfer_day, diag=diagnosis)
    cl.add(pat=patient, fac=second_hospital, ctype=INP, ts=times(rng, [discharge], "disch"),
           admit=transfer_day, disch=discharge, diag=diagnosis)
    return np.array([patient])


def _relative_buys_during_stay(w: World, rng, cl: Claims, n_claims: int):
    """A relative buys drugs on the card (from his phone) while its holder is in hospital."""
    household_size = np.bincount(w.hh)
    found = take(w, rng, (w.age >= 50) & (household_size[w.hh] >= 2) & (w.death < 0), 1)
    if not len(found):
        return None
    patient = int(found[0])
    admit, stay = int(rng.integers(0, DAYS - 20)), int(rng.integers(5, 14))
    cl.add(pat=patient, fac=int(w.hab_hosp[patient]), ctype=INP,
           ts=times(rng, [admit + stay], "disch"), admit=admit, disch=admit + stay,
           diag=DX["J18.900"])
    relatives = np.flatnonzero(w.hh == w.hh[patient])
    relatives = relatives[relatives != patient]
    card = int(w.card01[patient] if w.card01[patient] >= 0 else w.card03[patient])
    relative_phone = int(w.phone[relatives[0]]) if w.card_type[card] == "01" else -1
    bought = times(rng, [admit + int(rng.integers(1, stay))], "pharm")
    cl.add(pat=patient, fac=int(w.hab_pharm[patient]), ctype=PHA, ts=bought, card=card,
           ophone=relative_phone)
    return np.array([patient])


# kind, cohorts per 20k claims, at least, planter
_PLANTERS = (("dialysis_cohort", 0.15, 1, _dialysis_cohort), ("nursing_home", 0.1, 1, _nursing_home),
             ("family_shared_phone", 0.3, 1, _family_phone),
             ("chronic_refill_day", 0.2, 1, _chronic_refill_day), ("group_admission", 0.08, 1, _group_admission),
             ("chemotherapy_cycles", 0.15, 1, _chemotherapy_cycles),
             ("cataract_campaign", 0.07, 1, _cataract_campaign), ("rehab_long_stay", 0.15, 1, _rehab_long_stay),
             ("death_in_hospital", 2, 2, _death_in_hospital),
             ("newborn_on_parent_card", 4, 2, _newborn_on_parent_card),
             ("refund_resettle", 4, 2, _refund_resettle), ("split_pack", 2.5, 2, _split_pack),
             ("transfer_overlap", 2.5, 2, _transfer_overlap),
             ("relative_buys_during_stay", 4, 2, _relative_buys_during_stay))
