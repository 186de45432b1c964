"""What the store sends to a Neo4j server: the plain queries of cypher/ and their parameters.

No Neo4j server can run here (the test server is FalkorDB, tests/bolt_server.py), so the Neo4j
dialect is checked on a recording stand-in for the driver: the exact query text and parameters of
every call. The FalkorDB dialect runs for real in tests/test_neo4j.py.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from graphkit.errors import BackendError
from graphkit.load import load
from graphkit.neo4j_backend import Neo4jStore, detect_server, get_query, load_steps

from tests.datadir import write_dir
from tests.neo4j_fixtures import motif_tables

pytest.importorskip("neo4j")

HOSTILE = "x' MATCH (n) DETACH DELETE n RETURN 1 AS v //"
INDEXES = ("SHOW INDEXES YIELD labelsOrTypes, properties "
           "RETURN labelsOrTypes[0] AS label, properties")


class _Recorder:
    """Stands in for a ``neo4j.Driver``: records every ``(query, parameters)`` a session runs
    and answers from ``answers`` (query text -> list of rows; no rows otherwise)."""

    def __init__(self, answers: dict[str, list[tuple]] | None = None):
        self.sent: list[tuple[str, dict]] = []
        self.answers = answers or {}

    def session(self):
        return _Session(self)


class _Session:
    def __init__(self, recorder: _Recorder):
        self.recorder = recorder

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def run(self, text, params=None):
        self.recorder.sent.append((text, params))
        return _Answer(self.recorder.answers.get(text, []))


class _Record(tuple):
    def values(self):
        return list(self)


class _Answer:
    def __init__(self, rows):
        self.rows = rows

    def __iter__(self):
        return iter(_Record(r) for r in self.rows)

    def keys(self):
        return ["name"] if self.rows else []

    def consume(self):
        return SimpleNamespace(counters=SimpleNamespace(nodes_created=0, relationships_created=0,
                                                        properties_set=0))


@pytest.fixture(scope="module")
def motif_ds(tmp_path_factory):
    return load(write_dir(tmp_path_factory.mktemp("motifs"), motif_tables()))


def test_auto_detection_asks_dbms_components():
    neo4j = _Recorder({"CALL dbms.components() YIELD name RETURN name": [("Neo4j Kernel",)]})
    assert detect_server(neo4j) == "neo4j"
    assert Neo4jStore(neo4j).server == "neo4j"
    # FalkorDB fails the procedure call (here: answers nothing that names Neo4j)
    assert detect_server(_Recorder()) == "falkordb"


def test_a_named_server_is_not_asked_and_an_unknown_one_is_refused():
    rec = _Recorder()
    assert Neo4jStore(rec, server="neo4j").server == "neo4j"
    assert rec.sent == []
    with pytest.raises(BackendError, match="unknown server 'other'"):
        Neo4jStore(rec, server="other")


def test_neo4j_gets_the_query_file_and_values_as_parameters():
    rec = _Recorder()
    store = Neo4jStore(rec, server="neo4j")
    store.ring_subgraph(patient_ids=[HOSTILE, "P01"])
    assert rec.sent == [(get_query("ring_subgraph").body,
                         {"patient_ids": [HOSTILE, "P01"], "card_ids": [], "claim_ids": []})]


def test_neo4j_schema_is_the_constraints_then_the_indexes():
    rec = _Recorder()
    assert Neo4jStore(rec, server="neo4j").apply_schema() == 14 + 16
    assert rec.sent == ([(INDEXES, {})]
                        + [(s, {}) for s in get_query("constraints_neo4j").statements()]
                        + [(INDEXES, {})]
                        + [(s, {}) for s in get_query("schema").statements()])


def test_neo4j_load_sends_the_plain_load_queries_with_rows_of_maps(motif_ds):
    rec = _Recorder()
    Neo4jStore(rec, server="neo4j").load_dataset(motif_ds, batch_size=20)
    steps = ["load_patients", "load_cards", "load_institutions", "load_pharmacies",
             "load_doctors", "load_pharmacists", "load_claims", "load_claim_items"]
    bodies = {get_query(n).body: n for n in steps}
    loads = [(bodies[text], params) for text, params in rec.sent if text in bodies]
    sizes = {"load_patients": [12], "load_cards": [13], "load_institutions": [2],
             "load_pharmacies": [2], "load_doctors": [2], "load_pharmacists": [3],
             "load_claims": [20, 20, 3], "load_claim_items": [9]}
    assert [(n, len(p["rows"])) for n, p in loads] == [
        (n, size) for n in steps for size in sizes[n]]
    assert all(set(p) == {"rows"} for _, p in loads)
    claims = [row for n, p in loads if n == "load_claims" for row in p["rows"]]
    assert claims[0] == {
        "claim_id": "C001", "patient_id": "P01", "card_id": "K01", "institution_id": None,
        "pharmacy_id": "Y1", "facility_id": None, "doctor_id": "D1", "pharmacist_id": "S1",
        "device_id": None, "operator_phone": None,
        "props": {"claim_type": "pharmacy", "facility_type": "pharmacy",
                  "settle_time": "2024-01-05T09:00:00", "settle_date": "2024-01-05",
                  "settle_day": 19727, "settle_ts": 1704445200, "admit_date": None,
                  "admit_day": None, "discharge_date": None, "discharge_day": None,
                  "diagnosis_code": None, "total_amount": 100.0, "fund_amount": 70.0}}
    stay = next(r for r in claims if r["claim_id"] == "C040")
    assert (stay["institution_id"], stay["props"]["admit_day"], stay["props"]["discharge_day"],
            stay["props"]["diagnosis_code"]) == ("H1", 19844, 19853, "J18.9")
    patient = next(p["rows"][0] for n, p in loads if n == "load_patients")
    assert patient == {"patient_id": "P01", "props": {
        "name": "患者P01", "id_number": None, "gender": "M", "birth_date": "1951-01-02",
        "birth_day": -6939, "region": "110101", "death_date": None, "death_day": None,
        "phone": "13800000099", "address": "地址1"}}
    item = next(p["rows"][0] for n, p in loads if n == "load_claim_items")
    assert item == {"item_id": "C001-1", "claim_id": "C001", "trace_code": "81234567890123456789",
                    "props": {"item_code": "XA01", "item_name": "阿托伐他汀钙片",
                              "quantity": 1.0, "unit_price": 30.5, "amount": 30.5}}
    # nothing of FalkorDB's encoding reaches Neo4j
    assert not any("\x1f" in text or "$sep" in text or "_falkordb" in text for text, _ in rec.sent)
    assert not any("\x1f" in str(params) for _, params in rec.sent)


def test_load_steps_name_each_servers_queries(motif_ds):
    neo4j = load_steps(motif_ds, "neo4j")
    falkordb = load_steps(motif_ds, "falkordb")
    assert [n for n, _ in neo4j] == ["load_patients", "load_cards", "load_institutions",
                                     "load_pharmacies", "load_doctors", "load_pharmacists",
                                     "load_claims", "load_claim_items"]
    assert [n for n, _ in falkordb] == ["load_patients_falkordb", "load_cards_falkordb",
                                        "load_institutions", "load_pharmacies", "load_doctors",
                                        "load_pharmacists", "load_claims_falkordb",
                                        "load_claim_items_falkordb"]
    assert falkordb[1][1][0] == "K01\x1fP01\x1f03"
    assert neo4j[1][1][0] == {"card_id": "K01", "patient_id": "P01", "props": {"card_type": "03"}}
    assert falkordb[2][1] == neo4j[2][1]  # the small tables are maps on both servers
