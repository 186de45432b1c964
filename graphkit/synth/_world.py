"""The synthetic world: places, households, patients, cards, facilities, staff and devices.

All entities are numpy arrays indexed by position; string IDs are made once per entity from
affine permutations of the index, so every ID looks random and fraud members cannot be told
apart from anyone else by their IDs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graphkit.synth import _catalog as cat

YEAR_START = np.datetime64("2024-01-01")
DAYS = 366  # 2024 is a leap year
DAY_S = 86400

# facility kinds (index into FAC_KINDS)
TERTIARY, SECONDARY, COMMUNITY, CLINIC, VILLAGE, PRIVATE, PHARMACY = range(7)


def perm_ids(n: int, modulus: int, salt: int) -> np.ndarray:
    """``n`` distinct pseudo-random integers in [0, modulus) (an affine permutation)."""
    a = 6364136223846793005 % modulus
    while np.gcd(a, modulus) != 1:
        a += 1
    i = np.arange(n, dtype=object)
    return np.array([(a * int(k) + salt * 104729 + 12345) % modulus for k in i], dtype=np.int64)


def _fmt(prefix: str, nums: np.ndarray, width: int) -> np.ndarray:
    return np.array([f"{prefix}{int(x):0{width}d}" for x in nums], dtype=object)


@dataclass
class World:
    rng: np.random.Generator
    n_patients: int
    # places
    region_code: list = field(default_factory=list)
    region_name: list = field(default_factory=list)
    region_rural: np.ndarray = None
    place_region: np.ndarray = None
    place_town: np.ndarray = None
    place_rural: np.ndarray = None
    place_text: list = field(default_factory=list)
    n_towns: int = 0
    town_region: np.ndarray = None
    town_name: list = field(default_factory=list)
    # patients
    hh: np.ndarray = None
    place: np.ndarray = None
    region: np.ndarray = None
    sex: np.ndarray = None      # 0 M, 1 F
    age: np.ndarray = None
    birth: np.ndarray = None    # days relative to YEAR_START (negative)
    death: np.ndarray = None    # day of year or -1
    phone: np.ndarray = None    # index into phones
    own_phone: np.ndarray = None
    hh_phone: np.ndarray = None  # per household
    hh_address: list = field(default_factory=list)
    chronic: np.ndarray = None  # (P, len(CHRONIC)) bool
    weight: np.ndarray = None
    names: np.ndarray = None
    pid: np.ndarray = None
    id_number: np.ndarray = None
    phones: np.ndarray = None   # phone strings
    # cards
    card03: np.ndarray = None
    card01: np.ndarray = None
    card_ids: np.ndarray = None
    card_owner: np.ndarray = None
    card_type: np.ndarray = None
    # facilities (institutions then pharmacies in one index space)
    fac_kind: np.ndarray = None
    fac_region: np.ndarray = None
    fac_town: np.ndarray = None
    fac_place: np.ndarray = None
    fac_ids: np.ndarray = None
    fac_names: list = field(default_factory=list)
    fac_price: np.ndarray = None
    town_centre: np.ndarray = None
    place_village_fac: np.ndarray = None
    # staff and devices
    doc_fac: np.ndarray = None
    doc_ids: np.ndarray = None
    doc_names: np.ndarray = None
    doc_dept: list = field(default_factory=list)
    fac_doc_start: np.ndarray = None
    fac_doc_n: np.ndarray = None
    phm_ids: np.ndarray = None   # one row per registration
    phm_names: np.ndarray = None
    phm_fac: np.ndarray = None
    fac_phm_start: np.ndarray = None
    fac_phm_n: np.ndarray = None
    dev_ids: np.ndarray = None
    fac_dev_start: np.ndarray = None
    fac_dev_n: np.ndarray = None
    # habitual facilities per patient
    hab_clinic: np.ndarray = None
    hab_pharm: np.ndarray = None
    hab_pharm2: np.ndarray = None
    hab_hosp: np.ndarray = None
    hab_centre: np.ndarray = None
    # bookkeeping: patients already used by a planted structure
    used: np.ndarray = None
    # the world's own draw (facility density, walk-in volume, share of 电子凭证): see world_params
    params: dict = field(default_factory=dict)
    dev_spare: dict = field(default_factory=dict)   # facility -> terminal numbers not in use
    # facilities already in a planted scheme, so two schemes the data could not tell apart are
    # not planted on top of each other: facility -> [(first_day, last_day)] of its gang,
    # facility -> drugs it re-settles, institution -> wave days of its fake stays
    gang_windows: dict = field(default_factory=dict)
    resold_drugs: dict = field(default_factory=dict)
    wave_days: dict = field(default_factory=dict)

    # ----------------------------------------------------------------------------------------
    def is_institution(self, fac):
        return self.fac_kind[fac] != PHARMACY

    def facilities_of(self, kinds, region=None) -> np.ndarray:
        m = np.isin(self.fac_kind, kinds)
        if region is not None:
            m &= self.fac_region == region
        return np.flatnonzero(m)


def _names(rng, sex: np.ndarray, surname_idx: np.ndarray) -> np.ndarray:
    n = len(sex)
    two = rng.random(n) < 0.72
    gm, gf = cat.GIVEN_MALE, cat.GIVEN_FEMALE
    a = rng.integers(0, len(gm), n)
    b = rng.integers(0, len(gm), n)
    out = np.empty(n, dtype=object)
    for i in range(n):
        pool = gm if sex[i] == 0 else gf
        given = pool[a[i] % len(pool)] + (pool[b[i] % len(pool)] if two[i] else "")
        out[i] = cat.SURNAMES[surname_idx[i]] + given
    return out


def _id_numbers(rng, region_codes: np.ndarray, birth_dates: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """18-char 居民身份证号 with a valid ISO 7064 check digit (odd sequence = male)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    checks = "10X98765432"
    seq = rng.integers(0, 500, len(sex)) * 2 + (sex == 0)
    seen: set = set()
    out = np.empty(len(sex), dtype=object)
    for i in range(len(sex)):
        base17 = f"{region_codes[i]}{birth_dates[i]}{int(seq[i]) % 1000:03d}"
        while base17 in seen:
            s = (int(base17[14:]) + 2) % 1000
            base17 = base17[:14] + f"{s:03d}"
        seen.add(base17)
        out[i] = base17
    digits = np.frombuffer("".join(out.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    total = digits.astype(np.int64) @ np.array(weights, dtype=np.int64)
    check = np.array(list(checks), dtype=object)[total % 11]
    return np.array([b + c for b, c in zip(out.tolist(), check.tolist())], dtype=object)


def world_params(rng) -> dict:
    """How this world differs from others drawn with other seeds.

    ``patients_per_pharmacy``, ``patients_per_clinic`` and ``patients_per_private_hospital``
    set how many places there are to go (fewer pharmacies: more walk-in customers at each, so
    colluding ones are busier);
    ``walk_in`` scales the share of pharmacy purchases in everyday use and ``stray_pharmacy``
    is the share of purchases at a pharmacy that is not one's own; ``e_voucher`` scales how many
    people have activated a 医保电子凭证 and ``e_voucher_use`` how often they present it.
    """
    return {"patients_per_pharmacy": int(rng.integers(500, 2200)),
            "patients_per_clinic": int(rng.integers(800, 2600)),
            "patients_per_private_hospital": int(rng.integers(2500, 6500)),
            "walk_in": round(float(rng.uniform(0.7, 1.35)), 3),
            "stray_pharmacy": round(float(rng.uniform(0.03, 0.15)), 3),
            "e_voucher": round(float(rng.uniform(0.45, 1.3)), 3),
            "e_voucher_use": round(float(rng.uniform(0.2, 0.7)), 3)}


def build_world(rng: np.random.Generator, n_claims: int) -> World:
    P_target = max(700, n_claims // 8)
    w = World(rng=rng, n_patients=0, params=world_params(rng))
    # ---- regions: alternate urban districts and rural counties
    urban = [r for r in cat.REGIONS if not r[2]]
    rural = [r for r in cat.REGIONS if r[2]]
    order = [x for pair in zip(urban, rural) for x in pair] + urban[len(rural):]
    n_reg = int(np.clip(3 + P_target // 6000, 3, len(order)))
    regs = order[:n_reg]
    w.region_code = [r[0] for r in regs]
    w.region_name = [r[1] for r in regs]
    w.region_rural = np.array([r[2] for r in regs])
    # ---- towns and places (villages / residential compounds)
    n_places = max(4 * n_reg, P_target // 90)
    place_region = rng.integers(0, n_reg, n_places)
    place_region[:n_reg] = np.arange(n_reg)
    place_region = np.sort(place_region)
    town_of_place = np.empty(n_places, dtype=np.int64)
    town_region, town_name = [], []
    for r in range(n_reg):
        idx = np.flatnonzero(place_region == r)
        n_t = max(1, min(len(idx), int(np.ceil(len(idx) / 6))))
        stems = rng.choice(len(cat.TOWN_STEMS), size=(n_t, 2), replace=True)
        base = len(town_region)
        for t in range(n_t):
            suffix = cat.TOWN_SUFFIX_RURAL[t % 3] if regs[r][2] else "街道"
            town_region.append(r)
            town_name.append(cat.TOWN_STEMS[stems[t, 0]] + cat.TOWN_STEMS[stems[t, 1]] + suffix)
        town_of_place[idx] = base + (np.arange(len(idx)) % n_t)
    w.town_region = np.array(town_region)
    w.town_name = town_name
    w.n_towns = len(town_name)
    w.place_region = place_region
    w.place_town = town_of_place
    w.place_rural = w.region_rural[place_region]
    vs = rng.integers(0, len(cat.VILLAGE_STEMS), (n_places, 2))
    ss = rng.integers(0, len(cat.STREET_STEMS), n_places)
    cs = rng.integers(0, len(cat.COMPOUND_SUFFIX), n_places)
    for p in range(n_places):
        r = place_region[p]
        head = f"四川省成都市{w.region_name[r]}{town_name[town_of_place[p]]}"
        if w.place_rural[p]:
            w.place_text.append(head + cat.VILLAGE_STEMS[vs[p, 0]] + cat.VILLAGE_STEMS[vs[p, 1]] + "村")
        else:
            w.place_text.append(head + cat.STREET_STEMS[ss[p]] + f"路{p % 97 + 1}号"
                                + cat.VILLAGE_STEMS[vs[p, 0]] + cat.VILLAGE_STEMS[vs[p, 1]]
                                + cat.COMPOUND_SUFFIX[cs[p]])
    _households(w, rng, P_target, n_places)
    _cards(w, rng)
    _facilities(w, rng)
    _staff(w, rng)
    _habits(w, rng)
    w.used = np.zeros(w.n_patients, dtype=bool)
    return w


def _household_sizes(rng, p: np.ndarray, target: int) -> np.ndarray:
    """Household sizes 1..len(p) drawn until they sum to >= target: the same draws (and the same
    generator state afterwards) as calling ``rng.choice(len(p), p=p)`` once per household."""
    cdf = p.cumsum()
    cdf /= cdf[-1]
    state = rng.bit_generator.state
    sizes = np.searchsorted(cdf, rng.random(target), side="right") + 1   # each size >= 1
    n = int(np.searchsorted(np.cumsum(sizes), target, side="left")) + 1
    rng.bit_generator.state = state
    rng.random(n)   # consume exactly the n uniforms used
    return sizes[:n]


def _households(w: World, rng, P_target: int, n_places: int) -> None:
    place_size = rng.lognormal(0, 0.5, n_places)
    p_size = np.array([0.2, 0.3, 0.25, 0.15, 0.07, 0.03])
    sizes = _household_sizes(rng, p_size, P_target)
    n_hh = len(sizes)
    hh_place = rng.choice(n_places, size=n_hh, p=place_size / place_size.sum())
    hh_place = np.sort(hh_place)
    sizes = np.array(sizes)
    hh = np.repeat(np.arange(n_hh), sizes)
    k = np.arange(len(hh)) - np.repeat(np.cumsum(sizes) - sizes, sizes)  # role index
    P = len(hh)
    head_age = np.clip(rng.normal(50, 16, n_hh), 20, 92).astype(int)
    head_sex = rng.integers(0, 2, n_hh)
    age = np.empty(P, dtype=np.int64)
    sex = np.empty(P, dtype=np.int64)
    ha, hs = head_age[hh], head_sex[hh]
    age[k == 0] = ha[k == 0]
    sex[k == 0] = hs[k == 0]
    sp = k == 1
    age[sp] = np.clip(ha[sp] + rng.normal(0, 3, sp.sum()).astype(int), 18, 95)
    sex[sp] = 1 - hs[sp]
    ot = k >= 2
    young_head = ha < 58
    child = ot & young_head
    age[child] = np.clip(ha[child] - rng.integers(22, 38, child.sum()), 0, 40)
    old = ot & ~young_head
    elder = old & (rng.random(P) < 0.35) & (ha < 70)
    age[elder] = np.clip(ha[elder] + rng.integers(24, 30, elder.sum()), 0, 95)
    grand = old & ~elder
    age[grand] = np.clip(ha[grand] - rng.integers(45, 60, grand.sum()), 0, 30)
    sex[ot] = rng.integers(0, 2, ot.sum())
    w.n_patients = P
    w.hh, w.sex, w.age = hh, sex, age
    w.place = hh_place[hh]
    w.region = w.place_region[w.place]
    w.birth = -(age * 365 + rng.integers(0, 365, P)) + 182
    w.death = np.full(P, -1, dtype=np.int64)
    old_p = np.clip((age - 60) / 35, 0, 1) ** 2 * 0.06 + 0.0008
    dead = rng.random(P) < old_p * 0.5
    w.death[dead] = rng.integers(5, DAYS - 5, dead.sum())
    # chronic conditions by age / sex
    ch = np.zeros((P, len(cat.CHRONIC)), dtype=bool)
    for j, (_code, s, amin, amax, prev, _g) in enumerate(cat.CHRONIC):
        ramp = np.clip((age - amin) / 20.0, 0, 1)
        ok = (age >= amin) & (age <= amax)
        if s:
            ok &= sex == (0 if s == "M" else 1)
        ch[:, j] = ok & (rng.random(P) < prev * ramp * 1.3)
    w.chronic = ch
    agef = np.select([age <= 5, age <= 17, age <= 40, age <= 60], [1.4, 0.6, 0.6, 1.0], 1.7)
    w.weight = rng.lognormal(0, 0.9, P) * agef * (1 + 0.7 * ch.sum(axis=1))
    # names: household surname for head, spouse keeps own, children take head's surname
    sw = cat.SURNAME_WEIGHTS / cat.SURNAME_WEIGHTS.sum()
    hh_surname = rng.choice(len(cat.SURNAMES), size=n_hh, p=sw)
    surname = hh_surname[hh].copy()
    surname[sp] = rng.choice(len(cat.SURNAMES), size=sp.sum(), p=sw)
    w.names = _names(rng, sex, surname)
    # phones: adults 18-75 mostly own one; the household phone is the head's
    has_own = (age >= 16) & (age <= 80) & (rng.random(P) < 0.8)
    has_own[k == 0] = True
    n_ph = int(has_own.sum())
    extra_phones = max(50, P // 20)  # phones of non-patients (relatives, staff, organisers)
    nums = perm_ids(n_ph + extra_phones, 10**8, 7)
    prefixes = np.array(["138", "139", "135", "136", "137", "150", "151", "152", "158", "159",
                         "180", "181", "182", "187", "188", "189", "199", "177", "173", "133"])
    pref = prefixes[rng.integers(0, len(prefixes), len(nums))]
    w.phones = np.array([f"{p}{int(x):08d}" for p, x in zip(pref, nums)], dtype=object)
    own = np.full(P, -1, dtype=np.int64)
    own[has_own] = np.arange(n_ph)
    w.own_phone = own
    head_idx = np.flatnonzero(k == 0)
    w.hh_phone = own[head_idx]
    w.phone = np.where(own >= 0, own, w.hh_phone[hh])
    w._next_phone = n_ph
    # addresses
    nums_house = rng.integers(1, 200, n_hh)
    groups = rng.integers(1, 12, n_hh)
    units = rng.integers(1, 6, (n_hh, 3))
    addr = []
    for h in range(n_hh):
        pl = hh_place[h]
        if w.place_rural[pl]:
            addr.append(f"{w.place_text[pl]}{groups[h]}组{nums_house[h]}号")
        else:
            addr.append(f"{w.place_text[pl]}{units[h, 0]}栋{units[h, 1]}单元{units[h, 2]}0{h % 9 + 1}号")
    w.hh_address = addr
    # IDs
    rc = np.array(w.region_code, dtype=object)[w.region]
    w.pid = np.array([f"{r}{int(x):010d}" for r, x in zip(rc, perm_ids(P, 10**10, 3))], dtype=object)
    bd = (YEAR_START + w.birth.astype("timedelta64[D]")).astype(str)
    w.id_number = _id_numbers(rng, rc, np.char.replace(bd.astype(str), "-", ""), sex)


def new_device(w: World, fac: int) -> int:
    """A terminal added to facility ``fac`` that background claims never use (an organiser's own)."""
    prefix = f"T{w.fac_ids[fac][1:]}"
    spare = w.dev_spare.setdefault(fac, [])
    if spare:
        k = spare.pop(int(w.rng.integers(0, len(spare))))
    else:   # the gaps are taken: the next number up
        k = 1 + max(int(d[len(prefix):]) for d in w.dev_ids if d.startswith(prefix))
    w.dev_ids = np.append(w.dev_ids, f"{prefix}{k:02d}")
    return len(w.dev_ids) - 1


def new_phone(w: World) -> int:
    """Take an unused phone number from the pool (for non-patients, e.g. organisers)."""
    i = w._next_phone
    if i >= len(w.phones):
        raise RuntimeError("phone pool exhausted")
    w._next_phone += 1
    return i


def _cards(w: World, rng) -> None:
    P = w.n_patients
    age = w.age
    p03 = np.where(age < 16, 0.55, 0.9)
    p01 = np.clip(np.select([age < 16, age <= 70], [0.55, 0.7], 0.35) * w.params["e_voucher"], 0.05, 0.95)
    has03 = rng.random(P) < p03
    has01 = rng.random(P) < p01
    none = ~has03 & ~has01
    has03[none] = True
    owners = np.concatenate([np.flatnonzero(has03), np.flatnonzero(has01)])
    types = np.array(["03"] * int(has03.sum()) + ["01"] * int(has01.sum()), dtype=object)
    n03 = int(has03.sum())
    ids03 = _fmt("A", perm_ids(n03, 10**8, 11), 8)
    hexchars = np.array(list("0123456789ABCDEF"))
    n01 = int(has01.sum())
    raw = rng.integers(0, 16, (n01, 16))
    ids01 = np.array(["E" + "".join(hexchars[row]) for row in raw], dtype=object)
    # ensure uniqueness of the random tokens
    _, first = np.unique(ids01, return_index=True)
    dup = np.setdiff1d(np.arange(n01), first)
    for j in dup:
        ids01[j] = ids01[j][:-4] + f"{j % 65536:04X}"
    w.card_ids = np.concatenate([ids03, ids01])
    w.card_owner = owners
    w.card_type = types
    c03 = np.full(P, -1, dtype=np.int64)
    c03[np.flatnonzero(has03)] = np.arange(n03)
    c01 = np.full(P, -1, dtype=np.int64)
    c01[np.flatnonzero(has01)] = n03 + np.arange(n01)
    w.card03, w.card01 = c03, c01


_FAC_PREFIX = {PHARMACY: "P"}
_FAC_LEVEL = {TERTIARY: "三级", SECONDARY: "二级", COMMUNITY: "一级", CLINIC: "未定级",
              VILLAGE: "未定级", PRIVATE: None, PHARMACY: ""}
_FAC_OWN = {TERTIARY: "公立", SECONDARY: "公立", COMMUNITY: "公立", CLINIC: "民营",
            VILLAGE: "公立", PRIVATE: "民营", PHARMACY: ""}
_PRIVATE_NAMES = ["康复医院", "中医医院", "骨科医院", "眼科医院", "仁爱医院", "康宁医院", "济民医院",
                  "博爱医院", "华康医院", "同济医院"]
_PHARM_NAMES = ["大药房", "药店", "医药连锁", "平价大药房", "健康药房"]
_PHARM_BRANDS = ["老百姓", "一心堂", "海王星辰", "太极", "德仁堂", "桐君阁", "益丰", "国大", "杏林",
                 "康泰"]


def _facilities(w: World, rng) -> None:
    P = w.n_patients
    n_reg = len(w.region_code)
    kinds, regions, towns, places, names = [], [], [], [], []

    def add(kind, region, town=-1, place=-1, name=""):
        kinds.append(kind), regions.append(region), towns.append(town), places.append(place)
        names.append(name)

    urban = np.flatnonzero(~w.region_rural)
    n_ter = max(1, P // 30000)
    for i in range(n_ter):
        r = int(urban[i % len(urban)])
        add(TERTIARY, r, name=f"成都市第{i + 1}人民医院" if i else "四川省人民医院")
    for r in range(n_reg):
        for j in range(max(1, P // (12000 * n_reg))):
            add(SECONDARY, r, name=f"{w.region_name[r]}{'第二' if j else ''}人民医院")
    w.town_centre = np.empty(w.n_towns, dtype=np.int64)
    for t in range(w.n_towns):
        r = int(w.town_region[t])
        w.town_centre[t] = len(kinds)
        nm = w.town_name[t]
        add(COMMUNITY, r, t, name=f"{w.region_name[r]}{nm}{'卫生院' if w.region_rural[r] else '社区卫生服务中心'}")
    w.place_village_fac = np.full(len(w.place_region), -1, dtype=np.int64)
    for p in np.flatnonzero(w.place_rural):
        w.place_village_fac[p] = len(kinds)
        add(VILLAGE, int(w.place_region[p]), int(w.place_town[p]), int(p),
            name=w.place_text[p].split("成都市")[-1] + "卫生室")
    n_cl = max(n_reg, P // w.params["patients_per_clinic"])
    surname = rng.integers(0, len(cat.SURNAMES), n_cl)
    for i in range(n_cl):
        r = i % n_reg
        add(CLINIC, r, name=f"{w.region_name[r]}{cat.SURNAMES[surname[i]]}氏诊所" if i % 3 == 0
            else f"{w.region_name[r]}{cat.STREET_STEMS[i % 20]}诊所")
    n_pr = max(3, P // w.params["patients_per_private_hospital"])
    for i in range(n_pr):
        r = i % n_reg if i >= n_reg else int(np.argsort(~w.region_rural)[i % n_reg])
        add(PRIVATE, r, name=f"成都{w.region_name[r][:-1]}{_PRIVATE_NAMES[i % len(_PRIVATE_NAMES)]}")
    n_ph = max(6, P // w.params["patients_per_pharmacy"])
    for i in range(n_ph):
        r = i % n_reg
        add(PHARMACY, r, name=f"{_PHARM_BRANDS[i % 10]}{_PHARM_NAMES[(i // 10) % 5]}"
            f"（{w.region_name[r]}{cat.STREET_STEMS[(i * 7) % 20]}店）")
    w.fac_kind = np.array(kinds)
    w.fac_region = np.array(regions)
    w.fac_town = np.array(towns)
    w.fac_place = np.array(places)
    # de-duplicate names
    seen: dict = {}
    for i, nm in enumerate(names):
        c = seen.get(nm, 0)
        seen[nm] = c + 1
        if c:
            names[i] = nm.replace("（", f"{c + 1}（") if "（" in nm else f"{nm}（{c + 1}部）"
    w.fac_names = names
    nf = len(kinds)
    rc = np.array(w.region_code, dtype=object)[w.fac_region]
    serial = perm_ids(nf, 10**5, 5)
    w.fac_ids = np.array([f"{'P' if k == PHARMACY else 'H'}{r}{int(s):05d}"
                          for k, r, s in zip(kinds, rc, serial)], dtype=object)
    w.fac_price = np.round(rng.uniform(0.95, 1.06, nf), 3)


_DEPTS = {TERTIARY: ["内科", "外科", "心血管内科", "内分泌科", "肿瘤科", "肾内科", "眼科", "儿科",
                     "妇产科", "骨科", "呼吸内科", "神经内科", "急诊科"],
          SECONDARY: ["内科", "外科", "儿科", "妇产科", "骨科", "眼科", "肾内科", "肿瘤科", "急诊科"],
          COMMUNITY: ["全科", "中医科", "预防保健科"], CLINIC: ["全科"], VILLAGE: ["全科"],
          PRIVATE: ["康复科", "内科", "中医科", "骨科", "眼科"]}
_NDOC = {TERTIARY: (40, 80), SECONDARY: (15, 30), COMMUNITY: (4, 10), CLINIC: (1, 3),
         VILLAGE: (1, 2), PRIVATE: (5, 12)}
_NDEV = {TERTIARY: (6, 12), SECONDARY: (3, 7), COMMUNITY: (2, 3), CLINIC: (1, 2), VILLAGE: (1, 1),
         PRIVATE: (1, 3), PHARMACY: (1, 3)}


def _staff(w: World, rng) -> None:
    nf = len(w.fac_kind)
    ndoc = np.zeros(nf, dtype=np.int64)
    ndev = np.zeros(nf, dtype=np.int64)
    for f in range(nf):
        k = int(w.fac_kind[f])
        if k != PHARMACY:
            lo, hi = _NDOC[k]
            ndoc[f] = rng.integers(lo, hi + 1)
        lo, hi = _NDEV[k]
        ndev[f] = rng.integers(lo, hi + 1)
    w.fac_doc_n = ndoc
    w.fac_doc_start = np.cumsum(ndoc) - ndoc
    D = int(ndoc.sum())
    w.doc_fac = np.repeat(np.arange(nf), ndoc)
    dsex = rng.integers(0, 2, D)
    sw = cat.SURNAME_WEIGHTS / cat.SURNAME_WEIGHTS.sum()
    w.doc_names = _names(rng, dsex, rng.choice(len(cat.SURNAMES), D, p=sw))
    w.doc_ids = _fmt("D", perm_ids(D, 10**13, 13), 13)
    w.doc_dept = [_DEPTS[int(w.fac_kind[f])][j % len(_DEPTS[int(w.fac_kind[f])])]
                  for f, j in zip(w.doc_fac, np.arange(D) - w.fac_doc_start[w.doc_fac])]
    w.fac_dev_n = ndev
    w.fac_dev_start = np.cumsum(ndev) - ndev
    dev_fac = np.repeat(np.arange(nf), ndev)
    # terminal numbers 1..n+3 with gaps, so a terminal added later (an organiser's) is not
    # told apart by its number
    number = np.concatenate([np.sort(rng.choice(n + 3, n, replace=False)) + 1 for n in ndev])
    for f in range(nf):
        used = set(number[w.fac_dev_start[f]:w.fac_dev_start[f] + ndev[f]].tolist())
        w.dev_spare[f] = [k for k in range(1, ndev[f] + 4) if k not in used]
    w.dev_ids = np.array([f"T{w.fac_ids[f][1:]}{k:02d}" for f, k in zip(dev_fac, number)],
                         dtype=object)
    # pharmacists: 1-3 per pharmacy; rarely one registered at a second pharmacy (一证多挂)
    ph = np.flatnonzero(w.fac_kind == PHARMACY)
    nper = rng.integers(1, 4, len(ph))
    phm_fac = np.repeat(ph, nper)
    n_people = len(phm_fac)
    person = np.arange(n_people)
    n_multi = max(1, int(round(0.02 * n_people)))
    extra_person = rng.choice(n_people, n_multi, replace=False)
    extra_fac = ph[rng.integers(0, len(ph), n_multi)]
    keep = extra_fac != phm_fac[extra_person]
    person = np.concatenate([person, extra_person[keep]])
    phm_fac = np.concatenate([phm_fac, extra_fac[keep]])
    order = np.lexsort((person, phm_fac))
    person, phm_fac = person[order], phm_fac[order]
    ids = _fmt("Y", perm_ids(n_people, 10**11, 17), 11)
    psex = rng.integers(0, 2, n_people)
    pnames = _names(rng, psex, rng.choice(len(cat.SURNAMES), n_people, p=sw))
    w.phm_ids, w.phm_names, w.phm_fac = ids[person], pnames[person], phm_fac
    cnt = np.bincount(phm_fac, minlength=nf)
    w.fac_phm_n = cnt
    w.fac_phm_start = np.cumsum(cnt) - cnt


def pick_in_region(rng, regions: np.ndarray, cand: np.ndarray, cand_region: np.ndarray,
                   weight: np.ndarray | None = None) -> np.ndarray:
    """For each entry of ``regions`` pick one of ``cand`` in that region (weighted);
    any candidate when the region has none."""
    order = np.argsort(cand_region, kind="stable")
    cand, cand_region = cand[order], cand_region[order]
    wt = np.ones(len(cand)) if weight is None else np.asarray(weight, dtype=float)[order]
    cum = np.cumsum(wt)
    n_reg = int(max(regions.max(initial=0), cand_region.max(initial=0))) + 1
    start = np.searchsorted(cand_region, np.arange(n_reg), "left")
    end = np.searchsorted(cand_region, np.arange(n_reg), "right")
    lo = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    hi = np.where(end > 0, cum[np.maximum(end - 1, 0)], 0.0)
    empty = end <= start
    lo[empty], hi[empty] = 0.0, cum[-1]
    u = rng.random(len(regions))
    target = lo[regions] + u * (hi[regions] - lo[regions])
    idx = np.searchsorted(cum, target, side="right")
    return cand[np.clip(idx, 0, len(cand) - 1)]


def _habits(w: World, rng) -> None:
    P = w.n_patients
    nf = len(w.fac_kind)
    size = rng.lognormal(0, 0.8, nf)  # heavy-tailed facility popularity
    cl = w.facilities_of([CLINIC])
    w.hab_clinic = pick_in_region(rng, w.region, cl, w.fac_region[cl], size[cl])
    vf = w.place_village_fac[w.place]
    w.hab_clinic = np.where((vf >= 0) & (rng.random(P) < 0.75), vf, w.hab_clinic)
    ph = w.facilities_of([PHARMACY])
    w.hab_pharm = pick_in_region(rng, w.region, ph, w.fac_region[ph], size[ph])
    w.hab_pharm2 = pick_in_region(rng, w.region, ph, w.fac_region[ph], size[ph])
    hs = w.facilities_of([SECONDARY])
    w.hab_hosp = pick_in_region(rng, w.region, hs, w.fac_region[hs])
    ter = w.facilities_of([TERTIARY])
    use_ter = rng.random(P) < 0.3
    w.hab_hosp[use_ter] = ter[rng.integers(0, len(ter), use_ter.sum())]
    w.hab_centre = w.town_centre[w.place_town[w.place]]
