"""Fixtures and reference computations for tests/test_neo4j.py.

- ``bolt`` (session): a real FalkorDB Bolt server (tests/bolt_server.py) and ONE driver for the
  whole session (FalkorDB stalls new connections after a driver close; see
  shared/notes/falkordb-bolt.md). Skips with the reason when the server cannot start, except
  under CI (``CI`` set), where the failure is an error.
- ``store``: a :class:`Neo4jStore` on that driver over an emptied graph.
- :func:`motif_tables`: a hand-built data directory planting every motif plus a negative case.
- ``expected_<motif>(ds, **params)``: the same computation as each motif query, in pandas.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from graphkit.neo4j_backend import Neo4jStore
from tests.bolt_server import BoltServer, BoltServerUnavailable


@pytest.fixture(scope="session")
def bolt():
    """(server, driver): one server and one driver for the session."""
    try:
        from neo4j import GraphDatabase
    except ImportError:
        pytest.skip("the neo4j driver is not installed (pip install neo4j)")
    server = BoltServer()
    try:
        server.start()
    except (BoltServerUnavailable, OSError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"FalkorDB Bolt test server unavailable: {exc}")
    driver = GraphDatabase.driver(server.uri, auth=None)
    try:
        driver.verify_connectivity()
        yield server, driver
    finally:
        driver.close()
        server.poke()
        server.stop()


def wipe(driver) -> None:
    with driver.session() as s:
        s.run("MATCH (n) DETACH DELETE n").consume()


@pytest.fixture
def store(bolt):
    server, driver = bolt
    wipe(driver)
    return Neo4jStore(driver, uri=server.uri)


# ------------------------------------------------------------------------------------------------
# Planted data
# ------------------------------------------------------------------------------------------------

def motif_tables() -> dict[str, list[dict]]:
    """A few patients, cards, claims and items covering each motif and a negative case of each."""
    pid = [f"P{i:02d}" for i in range(1, 13)]
    patients = [{"patient_id": p, "name": f"患者{p}", "gender": "M" if i % 2 else "F",
                 "birth_date": f"19{50 + i}-01-0{1 + i % 9}", "region": "110101",
                 "phone": "13800000099" if p in ("P01", "P02") else f"138000000{i:02d}",
                 "address": "北京市东城区一号" if p in ("P03", "P04") else f"地址{i}"}
                for i, p in enumerate(pid, start=1)]
    patients[4]["death_date"] = "2024-03-01"   # P05: claims after death
    patients[5]["death_date"] = "2024-03-10"   # P06: dead, no claim after (negative)
    cards = [{"card_id": "K" + p[1:], "patient_id": p, "card_type": "03"} for p in pid]
    cards.append({"card_id": "K01b", "patient_id": "P01", "card_type": "01"})
    institutions = [
        {"institution_id": "H1", "name": "第一医院", "level": "二级", "region": "110101"},
        {"institution_id": "H2", "name": "第二医院", "level": "三级", "region": "310101"},
    ]
    pharmacies = [{"pharmacy_id": "Y1", "name": "药店一", "region": "110101"},
                  {"pharmacy_id": "Y2", "name": "药店二", "region": "110102"}]
    doctors = [{"doctor_id": "D1", "name": "王医生", "institution_id": "H1"},
               {"doctor_id": "D2", "name": "赵医生", "institution_id": "H2"}]
    pharmacists = [{"pharmacist_id": "S1", "name": "钱药师", "pharmacy_id": "Y1"},
                   {"pharmacist_id": "S1", "name": "钱药师", "pharmacy_id": "Y2"},
                   {"pharmacist_id": "S2", "name": "孙药师", "pharmacy_id": "Y2"}]
    claims: list[dict] = []
    items: list[dict] = []

    def claim(cid, p, fac, ctype, when, **kw):
        row = {"claim_id": cid, "patient_id": p, "card_id": kw.pop("card", "K" + p[1:]),
               "facility_id": fac, "claim_type": ctype, "settle_time": when,
               "total_amount": kw.pop("total", "100.00"), "fund_amount": kw.pop("fund", "70.00")}
        row.update(kw)
        claims.append(row)

    def item(cid, n, trace=None, code="XA01"):
        items.append({"item_id": f"{cid}-{n}", "claim_id": cid, "item_code": code,
                      "item_name": "阿托伐他汀钙片", "quantity": "1", "unit_price": "30.5",
                      "amount": "30.5", "trace_code": trace or ""})

    t1, t2, t3, t4 = ("81234567890123456789", "81234567890123456790", "81234567890123456791",
                      "81234567890123456792")
    # 回流药: T1 on three claims at two pharmacies; T4 twice at one pharmacy (refund look-alike);
    # T2 once (negative); T3 twice on ONE claim (negative: one settlement).
    claim("C001", "P01", "Y1", "pharmacy", "2024-01-05 09:00:00", doctor_id="D1", pharmacist_id="S1")
    claim("C002", "P02", "Y2", "pharmacy", "2024-01-20 10:00:00", pharmacist_id="S2")
    claim("C003", "P03", "Y2", "pharmacy", "2024-02-02 11:00:00", pharmacist_id="S1")
    claim("C004", "P04", "Y1", "pharmacy", "2024-01-06 09:00:00")
    claim("C005", "P04", "Y1", "pharmacy", "2024-01-07 09:00:00")
    claim("C006", "P06", "Y1", "pharmacy", "2024-01-08 09:00:00")
    claim("C007", "P06", "Y1", "pharmacy", "2024-01-08 09:30:00")
    for cid, tr in (("C001", t1), ("C002", t1), ("C003", t1), ("C004", t2), ("C006", t4),
                    ("C007", t4)):
        item(cid, 1, tr)
    item("C005", 1, t3)
    item("C005", 2, t3)
    item("C001", 2, None, code="XB02")
    # 一号多卡: phone 13900000000 presents three holders' cards; 13900000001 one holder (negative);
    # device DEV1 two holders.
    for cid, p in (("C010", "P01"), ("C011", "P02"), ("C012", "P03")):
        claim(cid, p, "Y1", "pharmacy", f"2024-02-1{cid[-1]} 15:00:00", operator_phone="13900000000")
    claim("C013", "P04", "Y2", "pharmacy", "2024-02-11 15:00:00", operator_phone="13900000001")
    claim("C014", "P04", "Y2", "pharmacy", "2024-02-12 15:00:00", operator_phone="13900000001")
    claim("C015", "P05", "Y2", "pharmacy", "2024-02-13 15:00:00", device_id="DEV1")
    claim("C016", "P06", "Y2", "pharmacy", "2024-02-14 15:00:00", device_id="DEV1")
    claim("C017", "P01", "Y2", "pharmacy", "2024-02-15 15:00:00", card="K01b",
          operator_phone="13900000000")
    # 冒用已故: P05 died 2024-03-01; settled on 03-05 (positive), 03-01 and 02-01 (negative).
    claim("C020", "P05", "H1", "outpatient", "2024-03-05 10:00:00", doctor_id="D1",
          diagnosis_code="I10")
    claim("C021", "P05", "H1", "outpatient", "2024-03-01 18:00:00", doctor_id="D1")
    claim("C022", "P05", "H1", "outpatient", "2024-02-01 10:00:00")
    claim("C023", "P06", "H2", "outpatient", "2024-03-09 10:00:00")
    # 一卡多地: K07 at H1 (110101) and H2 (310101) on 04-01; K08 twice at Y1 on 04-02 (negative).
    claim("C030", "P07", "H1", "outpatient", "2024-04-01 08:00:00", doctor_id="D1")
    claim("C031", "P07", "H2", "outpatient", "2024-04-01 16:00:00", doctor_id="D2")
    claim("C032", "P08", "Y1", "pharmacy", "2024-04-02 08:00:00")
    claim("C033", "P08", "Y1", "pharmacy", "2024-04-02 09:00:00")
    # 住院重叠: P09 overlaps 5 days; P10 discharged and admitted the same day (0, negative).
    claim("C040", "P09", "H1", "inpatient", "2024-05-10 12:00:00", admit_date="2024-05-01",
          discharge_date="2024-05-10", diagnosis_code="J18.9")
    claim("C041", "P09", "H2", "inpatient", "2024-05-15 12:00:00", admit_date="2024-05-05",
          discharge_date="2024-05-15", diagnosis_code="J18.9")
    claim("C042", "P10", "H1", "inpatient", "2024-05-10 12:00:00", admit_date="2024-05-01",
          discharge_date="2024-05-10", diagnosis_code="I63.9")
    claim("C043", "P10", "H2", "inpatient", "2024-05-20 12:00:00", admit_date="2024-05-10",
          discharge_date="2024-05-20", diagnosis_code="I63.9")
    # 集体住院: three admitted to H1 on 06-01; two on 06-02 (negative).
    for cid, p, dx, dis in (("C050", "P01", "M54.5", "2024-06-08"), ("C051", "P02", "M54.5",
                            "2024-06-09"), ("C052", "P03", "M54.4", "2024-06-08")):
        claim(cid, p, "H1", "inpatient", f"{dis} 10:00:00", admit_date="2024-06-01",
              discharge_date=dis, diagnosis_code=dx, doctor_id="D1")
    claim("C053", "P11", "H1", "inpatient", "2024-06-09 10:00:00", admit_date="2024-06-02",
          discharge_date="2024-06-09", diagnosis_code="M54.5")
    claim("C054", "P12", "H1", "inpatient", "2024-06-09 10:00:00", admit_date="2024-06-02",
          discharge_date="2024-06-09", diagnosis_code="M54.5")
    claim("C055", "P04", "H1", "inpatient", "2024-06-20 10:00:00", admit_date="2024-06-01")
    # 空刷: DEV9 swipes five cards at Y2 within four minutes, a sixth 30 minutes later (outside);
    # phone 13900000009 four cards at Y1 (negative with min_cards=5).
    for n, p in enumerate(("P01", "P02", "P03", "P04", "P07")):
        claim(f"C06{n}", p, "Y2", "pharmacy", f"2024-07-01 10:0{n}:00", device_id="DEV9")
    claim("C065", "P08", "Y2", "pharmacy", "2024-07-01 10:30:00", device_id="DEV9")
    for n, p in enumerate(("P09", "P10", "P11", "P12")):
        claim(f"C07{n}", p, "Y1", "pharmacy", f"2024-07-02 10:0{n}:00",
              operator_phone="13900000009")
    return {"patients": patients, "cards": cards, "institutions": institutions,
            "pharmacies": pharmacies, "doctors": doctors, "pharmacists": pharmacists,
            "claims": claims, "claim_items": items}


# ------------------------------------------------------------------------------------------------
# Reference computations in pandas (same columns as the cypher/ headers)
# ------------------------------------------------------------------------------------------------

def _iso(s: pd.Series, fmt: str = "%Y-%m-%d") -> pd.Series:
    return pd.to_datetime(s).dt.strftime(fmt)


def _day(s: pd.Series) -> pd.Series:
    return (pd.to_datetime(s).dt.normalize() - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)


def _claims(ds) -> pd.DataFrame:
    c = ds.claims.copy()
    c["settle_iso"] = _iso(c["settle_time"], "%Y-%m-%dT%H:%M:%S")
    c["settle_date_iso"] = _iso(c["settle_time"])
    c["settle_day"] = _day(c["settle_time"])
    c["settle_ts"] = (c["settle_time"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    holders = ds.cards.set_index("card_id")["patient_id"]
    c["holder"] = c["card_id"].map(holders)
    regions = pd.concat([ds.institutions.set_index("institution_id")["region"],
                         ds.pharmacies.set_index("pharmacy_id")["region"]])
    c["facility_region"] = c["facility_id"].map(regions)
    return c


def rows(df: pd.DataFrame, columns) -> set[tuple]:
    """A frame's rows as a set of tuples, missing values as None and numbers as Python numbers."""
    out = set()
    for rec in df[list(columns)].itertuples(index=False):
        vals = []
        for v in rec:
            if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)):
                vals.append(None)
            elif hasattr(v, "item"):
                vals.append(v.item())
            else:
                vals.append(v)
        out.add(tuple(vals))
    return out


def expected_trace_code_resettled(ds, min_settlements: int = 2) -> pd.DataFrame:
    c = _claims(ds)
    it = ds.claim_items[ds.claim_items["trace_code"].notna()][["trace_code", "claim_id"]]
    m = it.drop_duplicates().merge(c, on="claim_id")
    g = m.groupby("trace_code").agg(settlements=("claim_id", "nunique"),
                                    facilities=("facility_id", "nunique")).reset_index()
    m = m.merge(g[g["settlements"] >= min_settlements], on="trace_code")
    return pd.DataFrame({
        "trace_code": m["trace_code"], "settlements": m["settlements"],
        "facilities": m["facilities"], "claim_id": m["claim_id"], "settle_time": m["settle_iso"],
        "facility_id": m["facility_id"], "facility_type": m["facility_type"],
        "patient_id": m["patient_id"], "card_id": m["card_id"], "doctor_id": m["doctor_id"],
        "pharmacist_id": m["pharmacist_id"]})


def expected_shared_operator(ds, min_holders: int = 2) -> pd.DataFrame:
    c = _claims(ds)
    parts = []
    for via, col in (("phone", "operator_phone"), ("device", "device_id")):
        x = c[c[col].notna()]
        per_card = x.groupby([col, "card_id"]).agg(claims=("claim_id", "nunique"),
                                                   holder_id=("holder", "first")).reset_index()
        per_op = per_card.groupby(col).agg(holders=("holder_id", "nunique"),
                                           cards=("card_id", "nunique")).reset_index()
        places = x.groupby(col)["facility_id"].nunique().rename("places").reset_index()
        per_op = per_op.merge(places, on=col)
        per_card = per_card.merge(per_op[per_op["holders"] >= min_holders], on=col)
        parts.append(pd.DataFrame({"via": via, "operator": per_card[col],
                                   "holders": per_card["holders"], "cards": per_card["cards"],
                                   "places": per_card["places"],
                                   "card_id": per_card["card_id"],
                                   "holder_id": per_card["holder_id"],
                                   "claims": per_card["claims"]}))
    return pd.concat(parts, ignore_index=True)


def expected_claims_after_death(ds, grace_days: int = 0) -> pd.DataFrame:
    c = _claims(ds)
    p = ds.patients[ds.patients["death_date"].notna()][["patient_id", "death_date"]]
    m = c.merge(p, on="patient_id")
    m["death_day"] = _day(m["death_date"])
    m = m[m["settle_day"] > m["death_day"] + grace_days]
    return pd.DataFrame({
        "patient_id": m["patient_id"], "death_date": _iso(m["death_date"]),
        "claim_id": m["claim_id"], "settle_time": m["settle_iso"],
        "days_after": m["settle_day"] - m["death_day"], "claim_type": m["claim_type"],
        "facility_id": m["facility_id"], "card_id": m["card_id"], "fund_amount": m["fund_amount"]})


def expected_card_two_places(ds, min_facilities: int = 2, min_regions: int = 0) -> pd.DataFrame:
    c = _claims(ds)
    g = c.groupby(["card_id", "settle_day"]).agg(
        facilities=("facility_id", "nunique"), regions=("facility_region", "nunique")).reset_index()
    g = g[(g["facilities"] >= min_facilities) & (g["regions"] >= min_regions)]
    m = c.merge(g, on=["card_id", "settle_day"])
    return pd.DataFrame({
        "card_id": m["card_id"], "holder_id": m["holder"], "settle_date": m["settle_date_iso"],
        "facilities": m["facilities"], "regions": m["regions"], "claim_id": m["claim_id"],
        "settle_time": m["settle_iso"], "facility_id": m["facility_id"],
        "facility_region": m["facility_region"]})


def expected_overlapping_stays(ds, min_overlap_days: int = 1) -> pd.DataFrame:
    c = _claims(ds)
    c = c[(c["claim_type"] == "inpatient") & c["admit_date"].notna() & c["discharge_date"].notna()]
    c = c.assign(adm=_day(c["admit_date"]), dis=_day(c["discharge_date"]))
    m = c.merge(c, on="patient_id", suffixes=("_a", "_b"))
    m = m[m["claim_id_a"] < m["claim_id_b"]]
    m["overlap"] = m[["dis_a", "dis_b"]].min(axis=1) - m[["adm_a", "adm_b"]].max(axis=1)
    m = m[m["overlap"] >= min_overlap_days]
    return pd.DataFrame({
        "patient_id": m["patient_id"], "claim_a": m["claim_id_a"], "claim_b": m["claim_id_b"],
        "card_a": m["card_id_a"], "card_b": m["card_id_b"], "facility_a": m["facility_id_a"],
        "facility_b": m["facility_id_b"], "admit_a": _iso(m["admit_date_a"]),
        "discharge_a": _iso(m["discharge_date_a"]), "admit_b": _iso(m["admit_date_b"]),
        "discharge_b": _iso(m["discharge_date_b"]), "overlap_days": m["overlap"]})


def expected_co_admission(ds, min_patients: int = 3) -> pd.DataFrame:
    c = _claims(ds)
    c = c[(c["claim_type"] == "inpatient") & c["admit_date"].notna()].copy()
    c["adm"] = _day(c["admit_date"])
    g = c.groupby(["facility_id", "adm"]).agg(group_size=("patient_id", "nunique")).reset_index()
    m = c.merge(g[g["group_size"] >= min_patients], on=["facility_id", "adm"])
    los = _day(m["discharge_date"]) - m["adm"]
    return pd.DataFrame({
        "facility_id": m["facility_id"], "admit_date": _iso(m["admit_date"]),
        "group_size": m["group_size"], "patient_id": m["patient_id"], "claim_id": m["claim_id"],
        "diagnosis_code": m["diagnosis_code"],
        "discharge_date": _iso(m["discharge_date"]).where(m["discharge_date"].notna(), None),
        "length_of_stay": los.where(m["discharge_date"].notna(), None),
        "fund_amount": m["fund_amount"]})


def expected_lockstep_swipes(ds, window_seconds: int = 600, min_cards: int = 5) -> pd.DataFrame:
    c = _claims(ds)
    out = []
    for via, col in (("device", "device_id"), ("phone", "operator_phone")):
        x = c[c[col].notna()]
        size = x.groupby(["facility_id", col, "settle_day"])["claim_id"].transform("size")
        x = x[size >= min_cards].sort_values(["facility_id", col, "settle_day", "settle_ts"])
        for _key, g in x.groupby(["facility_id", col, "settle_day"], sort=False):
            ts = g["settle_ts"].to_numpy()
            cards = g["card_id"].to_numpy()
            ends = np.searchsorted(ts, ts + window_seconds, side="left")
            starts = np.searchsorted(ts, ts, side="left")  # ties: every claim at ts is inside
            best = np.zeros(len(g), dtype=int)
            for i in range(len(g)):
                lo, hi = starts[i], ends[i]
                n = len(set(cards[lo:hi]))
                if n >= min_cards:
                    best[lo:hi] = np.maximum(best[lo:hi], n)
            keep = g[best > 0]
            for r, b in zip(keep.itertuples(index=False), best[best > 0]):
                out.append({"via": via, "operator": getattr(r, col), "facility_id": r.facility_id,
                            "settle_date": r.settle_date_iso, "window_cards": int(b),
                            "claim_id": r.claim_id, "settle_time": r.settle_iso,
                            "card_id": r.card_id, "holder_id": r.holder})
    cols = ["via", "operator", "facility_id", "settle_date", "window_cards", "claim_id",
            "settle_time", "card_id", "holder_id"]
    return pd.DataFrame(out, columns=cols)


_LABEL = {"institution": "Institution", "pharmacy": "Pharmacy", "unknown": "Facility"}


def expected_ring_subgraph(ds, patient_ids=(), card_ids=(), claim_ids=()) -> set[tuple]:
    c = _claims(ds)
    seeds = c[c["claim_id"].isin(claim_ids) | c["patient_id"].isin(patient_ids)
              | c["card_id"].isin(card_ids)]
    edges = set()
    for _, r in seeds.iterrows():
        cid = r["claim_id"]
        edges.add(("Claim", cid, "FOR", "Patient", r["patient_id"]))
        edges.add(("Card", r["card_id"], "PRESENTED", "Claim", cid))
        edges.add(("Claim", cid, "AT", _LABEL[r["facility_type"]], r["facility_id"]))
        for col, rel, lab in (("doctor_id", "PRESCRIBED_BY", "Doctor"),
                              ("pharmacist_id", "DISPENSED_BY", "Pharmacist"),
                              ("device_id", "VIA_DEVICE", "Device"),
                              ("operator_phone", "VIA_PHONE", "Phone")):
            if pd.notna(r[col]):
                edges.add(("Claim", cid, rel, lab, r[col]))
    items = ds.claim_items[ds.claim_items["claim_id"].isin(seeds["claim_id"])]
    for _, it in items.iterrows():
        edges.add(("Claim", it["claim_id"], "HAS_ITEM", "Item", it["item_id"]))
        if pd.notna(it["trace_code"]):
            edges.add(("Item", it["item_id"], "TRACE", "TraceCode", it["trace_code"]))
    holders = ds.cards[ds.cards["card_id"].isin(card_ids)]["patient_id"]
    pats = set(patient_ids) | set(holders) | set(c[c["claim_id"].isin(claim_ids)]["patient_id"]) \
        | set(c[c["card_id"].isin(card_ids)]["patient_id"])
    for _, p in ds.patients[ds.patients["patient_id"].isin(pats)].iterrows():
        if pd.notna(p["phone"]):
            edges.add(("Patient", p["patient_id"], "HAS_PHONE", "Phone", p["phone"]))
        if pd.notna(p["address"]):
            edges.add(("Patient", p["patient_id"], "LIVES_AT", "Address", p["address"]))
    for _, k in ds.cards[ds.cards["patient_id"].isin(pats)].iterrows():
        edges.add(("Patient", k["patient_id"], "HOLDS", "Card", k["card_id"]))
    return edges


EXPECTED = {
    "trace_code_resettled": expected_trace_code_resettled,
    "shared_operator": expected_shared_operator,
    "claims_after_death": expected_claims_after_death,
    "card_two_places": expected_card_two_places,
    "overlapping_stays": expected_overlapping_stays,
    "co_admission": expected_co_admission,
    "lockstep_swipes": expected_lockstep_swipes,
}
