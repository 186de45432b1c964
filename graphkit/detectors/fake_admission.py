"""虚假住院 / 诱导住院 / 挂床住院 (fake_admission): recruited groups admitted together, repeatedly.

What the fraud is (负面清单(2025) 四(3), 一(6), 一(13), 一(1)): people are recruited — often from
one village or address cluster — and admitted together to one institution, on the same or
adjacent days, with similar diagnoses and stays, and the same group comes back again.

Method
1. Stays: inpatient claims with admission and discharge dates.
2. Co-admission: two patients admitted to the same institution within ``admit_window_days``.
   Two patients are linked when that happened on at least ``min_episodes`` separate occasions
   (a one-off group admission after an incident, or a one-day cataract campaign, is one occasion).
3. Groups: Leiden (constant Potts model, ``group_min_weight``) on each institution's graph,
   its pairs weighted by :func:`pair_weights` — shared waves, the share of both patients' stays
   that were together, alike diagnoses, one home place — so two groups a hospital admitted on
   close days stay two, whether it hosts two groups or twenty. A recruiter does not always
   bring the same people: an (institution, home place) with at least ``min_episodes`` waves of
   ``min_patients`` patients of that place, holding at least half of that place's admissions
   there (so not chance clusters of a big 小区 at its local hospital), finds the villagers the
   pairs did not. Pieces of one recruitment — at one institution, from one home place or booked
   by one organiser, a piece admitted only in a larger one's waves — are one group
   (:func:`_one_recruitment`); a piece with waves of its own is another recruitment. A recruit
   who went along once joins a group when admitted within one of its waves, from its home
   place, for one of its diagnoses (``attach_wave_mates``).
4. Score: repeated group episodes, similar length of stay, similar diagnoses, members from one
   region or address cluster, private / 一级 / 未定级 institution. Scheduled treatment cohorts
   (化疗 C00-D48 with Z51, 康复 Z50) are discounted by what makes them legitimate. A long stay
   settled in parts (中途结算) is one admission (see ``_build_stays``), so long-stay patients
   who came in days apart are not co-admitted again at every monthly settlement; a long stay is
   no discount by itself (挂床住院 is a long stay).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from graphkit._arrow import single_chunk
from graphkit._frames import row_positions
from graphkit.detectors.assemble import make_ring, squash
from graphkit.detectors.clauses import evidence
from graphkit.detectors.context import Context
from graphkit.detectors.groups import communities
from graphkit.rings import Member, Ring
from graphkit.settings import Settings

__all__ = ["detect_fake_admissions", "co_admissions", "pair_weights", "place_waves"]

#: legitimate scheduled care that brings the same people back together: 化疗/放疗 (C, Z51),
#: 康复 (Z50), 血透 (N18, Z49), 白内障 surgery campaigns one eye at a time (H25, H26)
SCHEDULED_CARE = ("Z51", "Z50", "N18", "Z49", "D46", "H25", "H26")


def _stays(ctx: Context) -> pd.DataFrame:
    cache = ctx.cache
    if "stays" not in cache:
        cache["stays"] = _build_stays(ctx)
    return cache["stays"]


def _stays_at(ctx: Context, facility: str, group=None) -> pd.DataFrame:
    """The stays at ``facility`` (of ``group``'s patients only, when given), through an index of
    the stays by institution built once per Context."""
    st = _stays(ctx)
    if "stays_by_facility" not in ctx.cache:
        ctx.cache["stays_by_facility"] = row_positions(st["facility_id"])
    at = st.iloc[ctx.cache["stays_by_facility"].get(facility, [])]
    if group is None:
        return at
    return at[at["patient"].isin(set(group)).to_numpy()]


def _build_stays(ctx: Context) -> pd.DataFrame:
    """One row per inpatient claim; ``admit`` and ``los`` are those of the whole stay it settles.

    A long stay is often settled in parts (中途结算, e.g. monthly in rehabilitation): a claim
    admitted at the same institution on or the day after the patient's discharge there continues
    the stay, so a long stay is one admission and two long-stay patients who came in days apart
    are not "co-admitted" at every monthly settlement.
    """
    c = ctx.claims
    st = c[(c["claim_type"] == "inpatient") & c["admit_day"].notna()].copy()
    st["patient"] = st["holder_id"]
    st = st.sort_values(["patient", "facility_id", "admit_day", "claim_id"], kind="stable")
    admit = st["admit_day"].astype("int64").to_numpy()
    dis = np.maximum(st["discharge_day"].fillna(st["day"]).astype("int64").to_numpy(), admit)
    pat, fac = st["patient"].to_numpy(), st["facility_id"].to_numpy()
    same = np.zeros(len(st), dtype=bool)
    same[1:] = (pat[1:] == pat[:-1]) & (fac[1:] == fac[:-1])
    # the latest discharge so far within each (patient, institution)
    reach = pd.Series(dis).groupby(np.cumsum(~same)).cummax().to_numpy()
    cont = same.copy()
    cont[1:] &= admit[1:] <= reach[:-1] + 1
    stay = np.cumsum(~cont)
    start = pd.Series(admit).groupby(stay).transform("min").to_numpy()
    end = pd.Series(dis).groupby(stay).transform("max").to_numpy()
    st["admit"] = start
    st["los"] = end - start
    st["place"] = st["patient"].map(ctx.patients["place"])
    # only what the detector reads: each candidate group slices its institution's stays
    cols = ["claim_id", "patient", "card_id", "facility_id", "doctor_id", "dx3", "admit", "los",
            "place", "fund_amount", "settle_time", "operator_phone"]
    return single_chunk(st[cols].reset_index(drop=True))


def _waves(days: np.ndarray, w: int, apart: np.ndarray | None = None) -> np.ndarray:
    """Wave number (from 0) of each of ``days`` (sorted admission days): a new wave starts
    where the gap to the previous admission exceeds ``w`` days, or where ``apart`` (a key per
    admission, e.g. institution and place) changes."""
    new = np.ones(len(days), dtype=bool)
    new[1:] = np.diff(days) > w
    if apart is not None:
        new[1:] |= apart[1:] != apart[:-1]
    return np.cumsum(new) - 1


#: institutions are paired a batch of about this many stays at a time (pairs never cross two)
_PAIR_BATCH_STAYS = 20_000


def co_admissions(ctx: Context, settings: Settings, min_episodes: int = 1) -> pd.DataFrame:
    """Pairs of patients co-admitted on at least ``min_episodes`` occasions: patient_a,
    patient_b, facility_id, episodes (distinct admission waves).

    Admissions on a day an institution admitted more than ``busy_day_admissions`` people pair
    with no one (a big hospital's routine; and n admissions make n² pairs). Patients and
    institutions are paired as integer codes, institutions a batch at a time, and each batch
    keeps only its pairs with ``min_episodes``: memory follows the busiest institution."""
    w = settings.fake_admission.admit_window_days
    st = _stays(ctx)[["patient", "facility_id", "admit"]].drop_duplicates()
    busy = st.groupby(["facility_id", "admit"])["patient"].transform("size")
    st = st[(busy <= settings.fake_admission.busy_day_admissions).to_numpy()]
    cols = ["patient_a", "patient_b", "facility_id", "episodes"]
    if len(st) < 2:
        return pd.DataFrame(columns=cols)
    # codes in sorted order: comparing codes orders pairs as comparing the ids would
    pat, pats = pd.factorize(st["patient"], sort=True)
    fac, facs = pd.factorize(st["facility_id"], sort=True)
    x = pd.DataFrame({"p": pat.astype(np.int64), "f": fac.astype(np.int64),
                      "admit": st["admit"].to_numpy(dtype=np.int64)})
    batch = np.cumsum(np.bincount(fac, minlength=len(facs))) // _PAIR_BATCH_STAYS
    parts = []
    for _, part in x.groupby(batch[x["f"].to_numpy()], sort=True):
        ep = _pair_episodes(part, w)
        parts.append(ep[ep >= min_episodes])
    ep = pd.concat(parts).sort_index()
    a, b, f = (ep.index.get_level_values(k).to_numpy() for k in range(3))
    return pd.DataFrame({"patient_a": pats.take(a), "patient_b": pats.take(b),
                         "facility_id": facs.take(f), "episodes": ep.to_numpy()})


def _pair_episodes(x: pd.DataFrame, w: int) -> pd.Series:
    """(a, b, f) codes -> distinct admission waves patients a < b shared at institution f."""
    frames = []
    for k in range(0, w + 1):
        m = x.merge(x.assign(admit=x["admit"] + k), on=["f", "admit"], suffixes=("_a", "_b"))
        frames.append(m[m["p_a"] != m["p_b"]])
    pairs = pd.concat(frames, ignore_index=True)
    a = np.minimum(pairs["p_a"].to_numpy(), pairs["p_b"].to_numpy())
    b = np.maximum(pairs["p_a"].to_numpy(), pairs["p_b"].to_numpy())
    # an episode is one admission wave; adjacent days of one wave count once
    waves = pd.DataFrame({"a": a, "b": b, "f": pairs["f"].to_numpy(),
                          "week": pairs["admit"].to_numpy() // max(1, 2 * w + 1)})
    return waves.drop_duplicates().groupby(["a", "b", "f"])["week"].nunique()


def place_waves(ctx: Context, settings: Settings) -> pd.DataFrame:
    """Home places that came back to one institution as a group: facility_id, place, patient,
    waves, patient_waves (how many of them the patient was in) — one row per patient of an (institution, place) with at least ``min_episodes`` waves
    of at least ``min_patients`` patients of that place admitted within ``admit_window_days``,
    those waves holding at least ``place_wave_min_share`` of the place's admissions there.

    A recruiter brings a village in again and again, not always the same people: the villagers
    of its waves are one group though no two of them went in together twice.
    """
    s = settings.fake_admission
    w = s.admit_window_days
    st = _stays(ctx)[["patient", "facility_id", "admit", "place"]].drop_duplicates()
    st = st.dropna(subset=["place"])
    cols = ["facility_id", "place", "patient", "waves"]
    if not len(st):
        return pd.DataFrame(columns=cols)
    st = st.sort_values(["facility_id", "place", "admit", "patient"]).reset_index(drop=True)
    key = st["facility_id"] + "\x00" + st["place"]
    st["wave"] = _waves(st["admit"].to_numpy(), w, apart=key.to_numpy())
    size = st.groupby("wave")["patient"].nunique()
    total = st.groupby(["facility_id", "place"]).size()
    st = st[st["wave"].isin(size[size >= s.min_patients].index)]
    n_waves = st.groupby(["facility_id", "place"])["wave"].nunique()
    # chance clusters happen where a big place sends many patients to a busy hospital anyway:
    # a recruited place's admissions there come mostly in its waves
    in_waves = st.groupby(["facility_id", "place"]).size()
    share = in_waves / total.reindex(in_waves.index)
    keep = n_waves[(n_waves >= s.min_episodes)
                   & (share.reindex(n_waves.index) >= s.place_wave_min_share)]
    out = st.merge(keep.rename("waves").reset_index(), on=["facility_id", "place"])
    out["patient_waves"] = out.groupby(["facility_id", "place", "patient"])["wave"].transform("nunique")
    cols = cols + ["patient_waves"]
    return out[cols].drop_duplicates().sort_values(cols).reset_index(drop=True)


def detect_fake_admissions(ctx: Context, settings: Settings) -> list[Ring]:
    ctx.check(settings)
    s = settings.fake_admission
    groups: list[tuple[str, list[str]]] = []
    pairs = co_admissions(ctx, settings, s.min_episodes)
    if len(pairs):
        pairs = pairs.assign(weight=pair_weights(ctx, pairs))
        for fac, fp in pairs.groupby("facility_id", sort=True):
            nodes = pd.Index(sorted(set(fp["patient_a"]) | set(fp["patient_b"])))
            a = nodes.get_indexer(fp["patient_a"])
            b = nodes.get_indexer(fp["patient_b"])
            labels = communities(a, b, fp["weight"].to_numpy(), len(nodes), seed=settings.seed,
                                 objective="CPM", resolution=s.group_min_weight)
            for lab in np.unique(labels):
                pieces = _split_by_place(ctx, list(nodes[labels == lab]), s.min_patients)
                groups += [(fac, g) for g in _join_by_waves(ctx, fac, pieces, s.admit_window_days)]
    # a place's waves find the villagers no two of whom went in together twice: those that no
    # group above holds are another piece of that place's recruitment
    covered: dict[str, set[str]] = {}
    for fac, g in groups:
        covered.setdefault(fac, set()).update(g)
    pw = place_waves(ctx, settings)
    first_rest = len(groups)  # groups from here on are leftovers: they join, they never host
    stragglers = set()
    for (fac, _place), part in pw.groupby(["facility_id", "place"], sort=True):
        recruits = _recruits_of_place(ctx, fac, part)
        rest = [p for p in recruits if p not in covered.get(fac, ())]
        if rest:
            groups.append((fac, rest))
            if 2 * len(rest) <= len(recruits):  # mostly found already: the rest only join
                stragglers.add((fac, tuple(rest)))
    rings = []
    for fac, group in _one_recruitment(ctx, groups, s.admit_window_days, first_rest=first_rest):
        if len(group) < s.min_patients or (fac, tuple(group)) in stragglers:
            continue
        ring = _score(ctx, fac, group, settings)
        if ring is not None:
            rings.append(ring)
    return rings


def _wave_spans(stays: pd.DataFrame, w: int) -> list[tuple[int, int]]:
    """(first, last) admission day of each wave in which two or more of ``stays`` were admitted
    (admissions within ``w`` days of each other are one wave)."""
    days = np.sort(stays["admit"].to_numpy())
    wave = _waves(days, w)
    return [(int(days[wave == k].min()), int(days[wave == k].max())) for k in np.unique(wave)
            if (wave == k).sum() >= 2]


def _join_by_waves(ctx: Context, facility: str, pieces: list[list[str]], w: int,
                   hosts: list[bool] | None = None) -> list[list[str]]:
    """Join each piece every one of whose waves is a wave of a larger piece to that piece.

    A recruiter who brings a few from the neighbouring village, or whose recruits do not all go
    in twice with the same others, brings them in the same waves as the rest, with the same
    made-up complaints: such a piece (sharing a diagnosis with the larger one, or with none
    recorded) is part of it. A piece with a wave of its own is another recruitment and stays
    apart, however alike it is (the same village, the same hospital, on other days); so is a
    piece admitted for other conditions (a cataract campaign from the same village). ``hosts``
    says which pieces may take others in (default: all)."""
    if len(pieces) <= 1:
        return pieces
    stays = [_stays_at(ctx, facility, g) for g in pieces]
    spans = [_wave_spans(x, w) for x in stays]
    dxs = [set(x["dx3"].dropna()) for x in stays]
    order = sorted(range(len(pieces)), key=lambda i: (-len(pieces[i]), pieces[i]))
    host = {i: i for i in order}
    for k, i in enumerate(order):
        for j in order[:k]:
            alike = not dxs[i] or not dxs[j] or bool(dxs[i] & dxs[j])
            if host[j] == j and (hosts is None or hosts[j]) and spans[i] and alike and all(
                    any(a0 <= b1 + w and b0 <= a1 + w for b0, b1 in spans[j])
                    for a0, a1 in spans[i]):
                host[i] = j
                break
    out: dict[int, list[str]] = {}
    for i in order:
        out.setdefault(host[i], []).extend(pieces[i])
    return [sorted(g) for g in out.values()]


def _recruits_of_place(ctx: Context, facility: str, part: pd.DataFrame) -> list[str]:
    """The villagers of a place's waves (:func:`place_waves` rows of one institution and place)
    who were recruited: those in two of its waves or more, and those in one whose complaint is
    one of the others' (or unrecorded). A neighbour in on those days for a fracture is not."""
    at = _stays_at(ctx, facility, part["patient"])
    dx: dict[str, set[str]] = {}
    for p, d in zip(at["patient"].tolist(), at["dx3"].tolist()):
        mine = dx.setdefault(p, set())
        if isinstance(d, str):
            mine.add(d)
    # a complaint is one of the others' when another villager had it too
    n_with = Counter(d for mine in dx.values() for d in mine)
    again = set(part.loc[part["patient_waves"] >= 2, "patient"])
    out = []
    for p in sorted(set(part["patient"])):
        mine = dx.get(p, set())
        if p in again or not mine or any(n_with[d] >= 2 for d in mine):
            out.append(p)
    return out


def _one_recruitment(ctx: Context, groups: list[tuple[str, list[str]]], w: int, *,
                     first_rest: int | None = None) -> list[tuple[str, list[str]]]:
    """Join the pieces one recruitment made: at one institution, from one home place or booked
    by one organiser, a piece admitted only in the waves of a larger one (:func:`_join_by_waves`).

    Repeated pairs find a recruited village in pieces (those who went in together twice), and a
    place's waves find the rest; an organiser's collected cards likewise. Groups with neither a
    home place nor an organiser (recruits from everywhere, no phone) are joined to nothing. Two
    recruitments of one village by one hospital on other days stay apart. Groups from
    ``first_rest`` on are a place's leftover villagers (several recruitments' stragglers may be
    among them): they may join a group, never take one in."""
    if not groups:
        return []
    place = ctx.patients["place"]
    by_key: dict[tuple, list[tuple[list[str], bool]]] = {}
    rest_from = len(groups) if first_rest is None else first_rest
    for k, (fac, group) in enumerate(groups):
        top = place.reindex(group).dropna().value_counts()
        if len(top) and top.iloc[0] >= 0.6 * len(group):
            home = ("place", top.index[0])
        else:  # recruits from everywhere: the organiser who booked them, if one did
            phone, _ = _organiser(ctx, _stays_at(ctx, fac, group), group,
                                  ctx.patients.reindex(group))
            home = ("organiser", phone) if phone is not None else ("alone", group[0])
        by_key.setdefault((fac,) + home, []).append((group, k < rest_from))
    out = []
    for key in sorted(by_key):
        pieces = [g for g, _ in by_key[key]]
        hosts = [h for _, h in by_key[key]]
        out += [(key[0], g) for g in _join_by_waves(ctx, key[0], pieces, w, hosts)]
    return out


def pair_weights(ctx: Context, pairs: pd.DataFrame) -> np.ndarray:
    """How strongly each co-admitted pair (:func:`co_admissions`) belongs to one recruited group.

    A group comes back together, with the same made-up complaints, from one place. Two groups
    a hospital admits on close days share a wave or two, but not their other waves nor all
    their diagnoses. A pair weighs its shared ``episodes``, times (their shared waves over all
    the stays either had at that institution)², times (0.1 + the Jaccard similarity of their
    3-character diagnosis sets there, taken as 1 when either has none recorded), times 3 when
    both come from one home place: a pair with no diagnosis in common keeps a tenth of its
    weight, and without addresses no pair gets the 3."""
    st = _stays(ctx)
    key = ["patient", "facility_id"]
    stays = st.groupby(key)["admit"].nunique()
    dx = st[key + ["dx3"]].dropna().drop_duplicates()
    n_dx = dx.groupby(key).size()
    ab = pairs[["patient_a", "patient_b", "facility_id"]].reset_index(drop=True)
    ia = pd.MultiIndex.from_arrays([ab["patient_a"], ab["facility_id"]])
    ib = pd.MultiIndex.from_arrays([ab["patient_b"], ab["facility_id"]])
    e = pairs["episodes"].to_numpy(dtype=float)
    together = stays.reindex(ia).to_numpy(dtype=float) + stays.reindex(ib).to_numpy(dtype=float) - e
    time_share = e / np.maximum(together, e)
    shared = (ab.reset_index()
              .merge(dx.rename(columns={"patient": "patient_a"}), on=["patient_a", "facility_id"])
              .merge(dx.rename(columns={"patient": "patient_b"}),
                     on=["patient_b", "facility_id", "dx3"])
              .groupby("index").size().reindex(ab.index, fill_value=0).to_numpy(dtype=float))
    na = n_dx.reindex(ia).fillna(0).to_numpy(dtype=float)
    nb = n_dx.reindex(ib).fillna(0).to_numpy(dtype=float)
    # a side with no diagnosis recorded is nothing to compare: no difference either
    known = (na > 0) & (nb > 0)
    dx_share = np.divide(shared, na + nb - shared, out=np.ones_like(shared), where=known)
    place = ctx.patients["place"]
    pa = place.reindex(ab["patient_a"]).to_numpy()
    pb = place.reindex(ab["patient_b"]).to_numpy()
    same = (pa == pb) & pd.notna(pa)
    return e * time_share ** 2 * (0.1 + dx_share) * np.where(same, 3.0, 1.0)


def _split_by_place(ctx: Context, group: list[str], min_patients: int) -> list[list[str]]:
    """One group per home place with at least ``min_patients`` members; members from places too
    small to stand alone (a neighbour brought along), and members whose home place is unknown,
    stay with the largest place's group."""
    if len(group) < min_patients:
        return []
    place = ctx.patients["place"].reindex(group).fillna("")
    sizes = place[place != ""].value_counts()
    big = sorted(sizes[sizes >= min_patients].index, key=lambda p: (-sizes[p], p))
    if len(big) <= 1:
        return [sorted(group)]
    out = {p: [] for p in big}
    for pid, pl in zip(group, place):
        out[pl if pl in out else big[0]].append(pid)
    return [sorted(v) for v in out.values()]


def _attach_wave_mates(ctx: Context, at_fac: pd.DataFrame, core: list[str], w: int) -> list[str]:
    """Add the patients admitted in one of the core group's waves, from the core's home place,
    for one of the core's diagnoses.

    A recruited member who went along only once has no *repeated* co-admission, yet was admitted
    with the group, from the same village, for the same made-up complaint: such wave mates join
    the group. A wave is the span of the core's own admissions (two or more of its members);
    someone from the village admitted for something else, or outside those days, stays out.
    """
    core_set = set(core)
    patient = at_fac["patient"].to_numpy()
    admit = at_fac["admit"].to_numpy()
    mine = np.fromiter((p in core_set for p in patient), dtype=bool, count=len(patient))
    order = np.argsort(admit[mine], kind="stable")
    days, who = admit[mine][order], patient[mine][order]
    places = ctx.patients["place"].reindex(sorted(core_set)).dropna()
    if not len(days) or not len(places):
        return core
    home = places.value_counts().index[0]
    dxs = {d for d in at_fac["dx3"].to_numpy()[mine] if isinstance(d, str)}
    wave = _waves(days, w)
    inside = np.zeros(len(at_fac), dtype=bool)
    for k in np.unique(wave):
        if len(set(who[wave == k])) >= 2:
            inside |= (admit >= days[wave == k].min()) & (admit <= days[wave == k].max())
    inside &= ~mine
    cand = zip(patient[inside], at_fac["place"].to_numpy()[inside], at_fac["dx3"].to_numpy()[inside])
    add = {p for p, pl, dx in cand if pl == home and dx in dxs}
    return sorted(core_set | add)


def _recurring(gs: pd.DataFrame, waves) -> list:
    """The waves that recur: they share a patient or a diagnosis with another wave of the group.

    A recruiter's group comes back — the same people, or the same village with the same made-up
    complaints. An incident (food or gas poisoning) brings a village in once; a few neighbours
    admitted to the same hospital later for their own illnesses are other people with other
    diagnoses. A wave with no diagnosis recorded is kept."""
    w = gs[gs["wave"].isin(waves)]
    dx: dict[int, set[str]] = {}
    who: dict[int, set[str]] = {}
    for k, d, p in zip(w["wave"].tolist(), w["dx3"].tolist(), w["patient"].tolist()):
        who.setdefault(k, set()).add(p)
        codes = dx.setdefault(k, set())
        if isinstance(d, str):
            codes.add(d)
    keys = sorted(dx)
    return [k for k in keys
            if not dx[k] or any(dx[k] & dx[j] or not dx[j] or who[k] & who[j]
                                for j in keys if j != k)]


def _organiser(ctx: Context, wave_stays: pd.DataFrame, patients: list[str],
               people: pd.DataFrame) -> tuple[str | None, float]:
    """The phone that presented the group's 电子凭证 for its stays when it is none of theirs.

    An organiser who collected the recruits' cards books their stays himself (负面清单 四(3)):
    one phone presents the stays of people from other households. Returns that phone and the
    share of the group whose stays it presented, or ``(None, 0.0)`` when no phone presented two
    or more of them from outside their households (a relative booking a parent's stay is no
    organiser)."""
    shown = wave_stays[["operator_phone", "patient"]].dropna().drop_duplicates()
    if not len(shown):
        return None, 0.0
    counts = shown.groupby("operator_phone").size()
    top = min(counts.index, key=lambda ph: (-int(counts[ph]), ph))
    owners_households = set(ctx.patients["household"].reindex(ctx.phone_owners(top)).dropna())
    household = people["household"]
    strangers = [p for p in shown.loc[shown["operator_phone"] == top, "patient"]
                 if household.get(p) not in owners_households]
    if len(strangers) < 2:
        return None, 0.0
    return top, len(strangers) / max(1, len(patients))


def _score(ctx: Context, facility: str, patients: list[str], settings: Settings) -> Ring | None:
    s = settings.fake_admission
    w = s.admit_window_days
    at_fac = _stays_at(ctx, facility)
    if settings.fake_admission.attach_wave_mates:
        patients = _attach_wave_mates(ctx, at_fac, patients, w)
    gs = at_fac[at_fac["patient"].isin(set(patients))].copy()
    # waves: admissions of the group within the window of each other
    gs = gs.sort_values("admit")
    gs["wave"] = _waves(gs["admit"].to_numpy(), w)
    per_wave = gs.groupby("wave")["patient"].nunique()
    group_waves = _recurring(gs, per_wave[per_wave >= s.min_patients].index)
    n_waves = int(len(group_waves))
    if n_waves < s.min_episodes:
        return None
    gw = gs[gs["wave"].isin(group_waves)]
    # a stay settled in parts is several claims of one admission: count and measure admissions
    stays = gw.drop_duplicates(["patient", "admit"])
    los = stays["los"].astype(float)
    los_cv = float(los.std(ddof=0) / los.mean()) if los.mean() > 0 else 0.0
    dx = gw["dx3"].dropna()
    top_dx = dx.value_counts().index[0] if len(dx) else ""
    top_dx_share = float(dx.value_counts(normalize=True).iloc[0]) if len(dx) else 0.0
    pats = ctx.patients.reindex(patients)
    region = pats["place"].dropna()
    if not len(region):
        region = pats["region"].dropna()
    top_region_share = float(region.value_counts(normalize=True).iloc[0]) if len(region) else 0.0
    n_households = int(pats["household"].nunique())
    fac = ctx.facilities.loc[facility] if facility in ctx.facilities.index else None
    private = False
    if fac is not None:
        own = str(fac.get("ownership", "") or "")
        lvl = str(fac.get("level", "") or "")
        private = ("民营" in own) or ("私" in own) or lvl in ("一级", "未定级")
    treatment = top_dx[:1] == "C" or top_dx in SCHEDULED_CARE
    admissions_per_patient = gs.drop_duplicates(["patient", "admit"]).groupby("patient").size()

    organiser_phone, organiser_share = _organiser(ctx, gw, patients, pats)

    # repeated group admission is the core; what makes it recruitment rather than chance at a
    # busy hospital is who recruited them — one home place (a village recruited together) or
    # one organiser who booked the stays with their collected 电子凭证 — then a private / 一级 /
    # 未定级 institution, stays of one length and one diagnosis
    # and the size of the group: chance brings two or three strangers in together twice at a
    # busy hospital, never a dozen (3 people weigh 0.2, 6 people 0.5, 12 people 0.71). A dozen
    # people of unrelated places admitted together again and again were brought in by someone:
    # collected 社保卡 show no organiser's phone, and the group's size stands for him
    size = squash(max(0, len(patients) - 2), 4.0)
    recruited = max(top_region_share, organiser_share, size)
    support = (0.35 * recruited + 0.2 * size + 0.2 * float(private)
               + 0.15 * min(1.0, max(0.0, 1 - los_cv)) + 0.1 * top_dx_share)
    score = squash(n_waves, 1.0) * (0.3 + 0.7 * support)
    # (a long stay settled monthly is one admission, see _build_stays: a long stay is no
    # excuse by itself — 挂床住院 is a long stay)
    if treatment:
        score *= 0.3
    ev = [
        evidence("repeated_co_admission",
                 f"{len(patients)} 人在 {facility} 同日或相邻日集体入院 {n_waves} 次"
                 f"（共 {len(stays)} 次住院）", n_waves),
        evidence("similar_stays",
                 f"住院天数相近（中位 {los.median():.0f} 天，变异系数 {los_cv:.2f}）；诊断集中于 "
                 f"{top_dx}（{top_dx_share:.0%}）", int(len(stays))),
    ]
    if top_region_share >= 0.6:
        ev.append(evidence("recruited_from_one_place",
                           f"{top_region_share:.0%} 的成员来自同一地点（{region.value_counts().index[0]}），"
                           f"分属 {n_households} 个家庭", int(round(top_region_share * len(patients)))))
    if organiser_phone is not None:
        ev.append(evidence("booked_by_one_organiser",
                           f"{organiser_share:.0%} 的成员的住院结算由同一手机号出示电子凭证，"
                           f"该手机号不属于他们的家庭", int(round(organiser_share * len(patients)))))
    frequent = admissions_per_patient[admissions_per_patient >= 3]
    if len(frequent):
        ev.append(evidence("frequent_admission",
                           f"{len(frequent)} 人一年内在该院住院 3 次以上", int(len(frequent))))
    if treatment:
        ev.append(evidence("lookalike_scheduled_treatment",
                           "诊断或住院时长符合化疗/康复等定期治疗特征，降低可疑度", 0,
                           clause="合规相似情形（非负面清单）"))
    cards = sorted(gw["card_id"].unique())
    members = [Member("patient", p, "admitted") for p in sorted(patients)]
    members += [Member("card", c, "card used") for c in cards]
    members.append(Member("institution", facility, "admitting institution"))
    if organiser_phone is not None:
        members.append(Member("phone", organiser_phone, "organiser phone"))
        members += [Member("patient", p, "organiser") for p in
                    ctx.likely_users(organiser_phone, gw["settle_time"].min(), exclude=patients)]
    doctors = gw["doctor_id"].dropna().value_counts()
    for d in sorted(doctors[doctors >= 2].index):
        members.append(Member("doctor", d, "admitting doctor"))
    extra = {"features": {"waves": n_waves, "patients": len(patients), "los_cv": round(los_cv, 3),
                          "top_dx": top_dx, "top_dx_share": round(top_dx_share, 3),
                          "top_region_share": round(top_region_share, 3), "private": bool(private),
                          "households": n_households,
                          "organiser_share": round(organiser_share, 3)}}
    return make_ring("fake_admission", score, members, gw, ev, extra)
