"""The Neo4j backend against a real Bolt server (FalkorDB) started by the test session.

Server and driver: tests/neo4j_fixtures.py (one driver for the whole session). Every motif query
is checked against the same computation in pandas on the loaded Dataset (exact set equality).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from graphkit.cli import main
from graphkit.errors import BackendError
from graphkit.load import load
from graphkit.neo4j_backend import (EXPORTS, MOTIFS, Neo4jStore, get_query, list_queries,
                                    parse_param)

from tests.datadir import write_dir
from tests.neo4j_fixtures import EXPECTED, expected_ring_subgraph, motif_tables, rows, wipe

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

HOSTILE = ["'}) DETACH DELETE n //", "\" } ) MATCH (n) DETACH DELETE n //", "{x}", "'; DROP",
           "x' MATCH (n) DETACH DELETE n RETURN 1 AS v //", "P01' OR 1=1 //", "$rows", "\\'",
           "a\\b", "it's", "\\"]


@pytest.fixture(scope="module")
def motif_dir(tmp_path_factory) -> Path:
    return write_dir(tmp_path_factory.mktemp("motifs"), motif_tables())


@pytest.fixture(scope="module")
def motif_ds(motif_dir):
    return load(motif_dir)


@pytest.fixture
def loaded(store, motif_ds):
    store.load_dataset(motif_ds, batch_size=7)
    return store


def _counts(store) -> dict:
    df = store.run("graph_counts")
    return {(k, n): int(t) for k, n, t in df.itertuples(index=False)}


def _cli(bolt, args):
    server, _ = bolt
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    server.poke()  # the CLI closed its driver: keep the next connection from stalling
    return result


# ------------------------------------------------------------------------------------------------
# Files
# ------------------------------------------------------------------------------------------------

def test_every_cypher_file_declares_kind_and_parameters():
    names = list_queries()
    assert set(MOTIFS) | {"schema", "constraints_neo4j", "ring_subgraph", "load_claims"} <= set(names)
    for n in names:
        q = get_query(n)
        assert q.kind in {"schema", "load", "motif", "query", "internal", "export"}, n
        assert "Parameters:" in q.text and "Returns:" in q.text, n
        declared = {p.name for p in q.params}
        used = set(__import__("re").findall(r"\$(\w+)", q.body))
        assert used == declared, (n, used, declared)


def test_motif_headers_document_their_columns():
    for n in MOTIFS:
        q = get_query(n)
        assert len(q.columns) >= 5, n
        assert q.order and set(q.order) <= {c for c, _ in q.columns}, n
        assert all(not p.required for p in q.params), n


def test_constraints_are_neo4j_only_and_kept_out_of_schema():
    assert get_query("constraints_neo4j").server == "neo4j"
    assert "CONSTRAINT" not in get_query("schema").body.upper()
    assert all("CONSTRAINT" not in get_query(n).body.upper() for n in list_queries()
               if n != "constraints_neo4j")


def test_parse_param_converts_to_declared_type():
    q = get_query("ring_subgraph")
    assert parse_param(q, "patient_ids=P01,P02") == ("patient_ids", ["P01", "P02"])
    assert parse_param(get_query("claims_after_death"), "grace_days=3") == ("grace_days", 3)
    with pytest.raises(BackendError, match="no parameter"):
        parse_param(q, "nope=1")


def test_unknown_query_name_lists_the_available_ones():
    with pytest.raises(BackendError, match="available: .*claims_after_death"):
        get_query("no_such_query")
    with pytest.raises(BackendError, match="invalid query name"):
        get_query("../etc/passwd")


# ------------------------------------------------------------------------------------------------
# Against the server
# ------------------------------------------------------------------------------------------------

def test_server_is_detected_as_falkordb_and_schema_applies_twice(store):
    assert store.server == "falkordb"
    first = store.apply_schema()
    assert first == len(get_query("schema").statements())
    assert store.apply_schema() == 0


def test_every_cypher_file_runs_against_the_server(loaded):
    ran = []
    for n in list_queries():
        q = get_query(n)
        if q.kind == "schema":
            if q.server == "any":
                loaded.apply_schema()
                ran.append(n)
            continue
        values = {p.name: ([] if p.type.startswith("list") else
                           ("x" if p.type == "str" else 0)) for p in q.params if p.required}
        df = loaded.run(n, values)
        assert list(df.columns)[:len(q.columns)] == [c for c, _ in q.columns], n
        ran.append(n)
    assert len(ran) == len(list_queries()) - 1  # all but the Neo4j-only constraints


def test_load_counts_every_row(loaded, motif_ds):
    c = _counts(loaded)
    assert c[("node", "Claim")] == len(motif_ds.claims)
    assert c[("node", "Patient")] == len(motif_ds.patients)
    assert c[("node", "Card")] == len(motif_ds.cards)
    assert c[("node", "Item")] == len(motif_ds.claim_items)
    assert c[("node", "Pharmacist")] == motif_ds.pharmacists["pharmacist_id"].nunique()
    assert c[("relationship", "REGISTERED_AT")] == len(motif_ds.pharmacists)
    for rel in ("FOR", "PRESENTED", "AT"):
        assert c[("relationship", rel)] == len(motif_ds.claims), rel
    assert c[("relationship", "HAS_ITEM")] == len(motif_ds.claim_items)


def test_dates_are_stored_as_iso_strings_and_epoch_integers(loaded):
    r = loaded.run_cypher("MATCH (c:Claim {claim_id: $id}) RETURN c.settle_time AS t, "
                          "c.settle_day AS d, c.settle_ts AS ts, c.admit_date AS a, "
                          "c.admit_day AS ad", {"id": "C040"}).iloc[0]
    assert r["t"] == "2024-05-10T12:00:00" and r["a"] == "2024-05-01"
    assert r["d"] == (pd.Timestamp("2024-05-10") - pd.Timestamp("1970-01-01")).days
    assert r["ts"] == int(pd.Timestamp("2024-05-10 12:00:00").timestamp())
    assert r["ad"] == r["d"] - 9


@pytest.mark.parametrize("motif", MOTIFS)
def test_motif_query_equals_pandas(loaded, motif_ds, motif):
    got = loaded.motif(motif)
    want = EXPECTED[motif](motif_ds)
    cols = [c for c, _ in get_query(motif).columns]
    assert list(got.columns) == cols
    assert len(got) > 0
    assert rows(got, cols) == rows(want, cols)
    assert len(got) == len(want)


@pytest.mark.parametrize("motif,params", [
    ("claims_after_death", {"grace_days": 4}),
    ("card_two_places", {"min_regions": 2}),
    ("card_two_places", {"min_facilities": 1}),
    ("overlapping_stays", {"min_overlap_days": 0}),
    ("co_admission", {"min_patients": 2}),
    ("lockstep_swipes", {"min_cards": 4, "window_seconds": 300}),
    ("shared_operator", {"min_holders": 3}),
    ("trace_code_resettled", {"min_settlements": 3}),
])
def test_motif_parameters_equal_pandas(loaded, motif_ds, motif, params):
    got = loaded.motif(motif, **params)
    want = EXPECTED[motif](motif_ds, **params)
    cols = [c for c, _ in get_query(motif).columns]
    assert rows(got, cols) == rows(want, cols)


def test_planted_negatives_are_not_returned(loaded):
    m = loaded.motif
    tc = m("trace_code_resettled")
    assert set(tc["trace_code"]) == {"81234567890123456789", "81234567890123456792"}
    assert tc.loc[tc["trace_code"] == "81234567890123456792", "facilities"].iloc[0] == 1
    assert set(m("claims_after_death")["claim_id"]) == {"C020"}
    assert set(m("card_two_places")["card_id"]) == {"K07"}
    assert set(m("overlapping_stays")["patient_id"]) == {"P09"}
    co = m("co_admission")
    assert set(co["admit_date"]) == {"2024-06-01"} and set(co["group_size"]) == {4}
    ls = m("lockstep_swipes")
    assert set(ls["claim_id"]) == {"C060", "C061", "C062", "C063", "C064"}
    so = m("shared_operator")
    assert "13900000001" not in set(so["operator"])
    assert so.loc[so["operator"] == "13900000000", "holders"].iloc[0] == 3
    # the phone was used at two pharmacies, the terminal DEV1 stayed at one
    assert so.loc[so["operator"] == "13900000000", "places"].iloc[0] == 2
    assert so.loc[so["operator"] == "DEV1", "places"].iloc[0] == 1


def test_ring_subgraph_equals_pandas(loaded, motif_ds):
    args = dict(patient_ids=["P05"], card_ids=["K01b"], claim_ids=["C040", "C001"])
    got = loaded.ring_subgraph(**args)
    assert rows(got, list(got.columns)) == expected_ring_subgraph(motif_ds, **args)
    assert loaded.ring_subgraph().empty


def test_loading_twice_creates_nothing_new(loaded, motif_ds):
    before = _counts(loaded)
    again = loaded.load_dataset(motif_ds, batch_size=7)
    assert again.nodes_created == 0 and again.batches == 0 and again.batches_skipped > 0
    forced = loaded.load_dataset(motif_ds, batch_size=7, resume=False)
    assert forced.batches > 0
    assert forced.nodes_created == 0 and forced.relationships_created == 0
    assert _counts(loaded) == before


def test_interrupted_load_resumes_to_the_same_graph(store, motif_ds):
    full = store.load_dataset(motif_ds, batch_size=5)
    clean = _counts(store)
    wipe(store.driver)

    _load_cut_at(store, motif_ds, 4)
    partial = _counts(store)
    assert sum(partial.values()) < sum(clean.values())
    resumed = store.load_dataset(motif_ds, batch_size=5)
    assert resumed.batches_skipped == 4
    assert resumed.batches == full.batches - 4
    assert _counts(store) == clean


def test_hostile_parameter_values_change_nothing(loaded):
    before = _counts(loaded)
    for n in list_queries():
        q = get_query(n)
        if q.kind not in ("motif", "query"):
            continue
        for bad in HOSTILE:
            values = {p.name: ([bad, "P01"] if p.type.startswith("list") else bad)
                      for p in q.params}
            try:
                df = loaded.run(n, values)
            except BackendError:
                continue  # a string where a number belongs fails; it must not write
            if n == "ring_subgraph":  # the hostile ids match nothing; P01 matches as usual
                plain = loaded.run(n, {p.name: ["P01"] for p in q.params})
                assert rows(df, list(df.columns)) == rows(plain, list(plain.columns))
    assert loaded.ring_subgraph(patient_ids=[HOSTILE[0]]).empty
    assert _counts(loaded) == before


def test_parameter_values_reach_the_server_exactly(store):
    # FalkorDB pastes string parameters into the query text; its dialect escapes them.
    assert store.dialect.inlines_parameters
    for bad in HOSTILE:
        got = store.run_cypher("RETURN $v AS v, $l AS l, $m AS m",
                               {"v": bad, "l": [bad], "m": {"k": bad}})
        assert got.iloc[0].tolist() == [bad, [bad], {"k": bad}], bad


def test_hostile_values_in_data_are_stored_verbatim(store, tmp_path):
    t = motif_tables()
    t["patients"][0]["name"] = HOSTILE[0]
    t["patients"][1]["address"] = HOSTILE[4]
    t["patients"].append({"patient_id": "P'13", "name": "a\\b"})
    t["claims"].append({"claim_id": "C'99", "patient_id": "P'13", "facility_id": "Y1",
                        "claim_type": "pharmacy", "settle_time": "2024-08-01 10:00:00"})
    ds = load(write_dir(tmp_path, t))
    store.load_dataset(ds)
    got = store.run_cypher("MATCH (p:Patient) WHERE p.patient_id IN $ids "
                           "RETURN p.patient_id AS id, p.name AS name, p.address AS address "
                           "ORDER BY id", {"ids": ["P01", "P02", "P'13"]})
    by_id = got.set_index("id")
    assert by_id.loc["P01", "name"] == HOSTILE[0] and by_id.loc["P02", "address"] == HOSTILE[4]
    assert by_id.loc["P'13", "name"] == "a\\b"
    sub = store.ring_subgraph(patient_ids=["P'13"])
    assert ("Claim", "C'99", "FOR", "Patient", "P'13") in rows(sub, list(sub.columns))
    assert _counts(store)[("node", "Patient")] == len(ds.patients)


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------

def test_cli_load_prints_nodes_and_relationships_written(bolt, store, motif_dir):
    server, _ = bolt
    result = _cli(bolt, ["neo4j", "load", str(motif_dir), "--uri", server.uri, "--batch", "10"])
    assert result.exit_code == 0, result.output
    c = store.counts()
    assert f"nodes created: {c['nodes'] - 1:,}" in result.output  # minus the checkpoint node
    assert f"relationships created: {c['relationships']:,}" in result.output
    again = _cli(bolt, ["neo4j", "load", str(motif_dir), "--uri", server.uri, "--batch", "10",
                        "--restart"])
    assert again.exit_code == 0 and "nodes created: 0" in again.output
    assert store.counts() == c


def test_cli_query_prints_a_table(bolt, loaded):
    server, _ = bolt
    result = _cli(bolt, ["neo4j", "query", "claims_after_death", "--uri", server.uri, "--csv"])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(__import__("io").StringIO(result.output), dtype=str)
    assert list(df["claim_id"]) == ["C020"]
    table = _cli(bolt, ["neo4j", "query", "ring_subgraph", "-p", "patient_ids=P05",
                        "--uri", server.uri])
    assert table.exit_code == 0 and "C020" in table.output


def test_cli_query_with_hostile_parameter_changes_nothing(bolt, loaded):
    server, _ = bolt
    before = _counts(loaded)
    result = _cli(bolt, ["neo4j", "query", "ring_subgraph", "-p",
                         f"patient_ids={HOSTILE[0]}", "--uri", server.uri, "--csv"])
    assert result.exit_code == 0
    assert _counts(loaded) == before


def test_cli_unreachable_server_is_a_clear_error(bolt):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _cli(bolt, ["neo4j", "query", "graph_counts", "--uri", f"bolt://127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert "cannot reach a Bolt server" in result.output and "Traceback" not in result.output


def test_cli_refused_credentials_name_the_user(bolt):
    server, _ = bolt
    result = _cli(bolt, ["neo4j", "query", "graph_counts", "--uri", server.uri,
                         "--user", "neo4j", "--password", "wrong"])
    assert result.exit_code == 1
    assert "'neo4j'" in result.output and "--user" in result.output


def test_cli_failing_query_names_its_file(bolt, loaded, tmp_path, monkeypatch):
    import graphkit.neo4j_backend as nb

    server, _ = bolt
    qdir = tmp_path / "cypher"
    shutil.copytree(nb.cypher_dir(), qdir)
    (qdir / "broken.cypher").write_text(
        "// A query the server rejects.\n// Kind: query\n// Parameters: none\n"
        "// Returns: nothing\n\nMATCH (n) RETURN no_such_function(n) AS x\n", encoding="utf-8")
    monkeypatch.setattr(nb, "cypher_dir", lambda: qdir)
    result = _cli(bolt, ["neo4j", "query", "broken", "--uri", server.uri])
    assert result.exit_code == 1
    assert "cypher/broken.cypher" in result.output and "Traceback" not in result.output


def test_cli_unknown_query_exits_nonzero(bolt):
    result = _cli(bolt, ["neo4j", "query", "nope", "--uri", "bolt://127.0.0.1:1"])
    assert result.exit_code == 1 and "available:" in result.output


def test_neo4j_commands_have_help_with_examples():
    for args in (["neo4j"], ["neo4j", "load"], ["neo4j", "query"], ["neo4j", "queries"]):
        result = CliRunner().invoke(main, args + ["--help"])
        assert result.exit_code == 0 and "Example:" in result.output, args


def test_cli_queries_lists_motifs():
    result = CliRunner().invoke(main, ["neo4j", "queries"])
    assert result.exit_code == 0
    assert all(m in result.output for m in MOTIFS)


# ------------------------------------------------------------------------------------------------
# Reading the graph back: fetch_dataset and graphkit rings --backend neo4j
# ------------------------------------------------------------------------------------------------

def _sorted(df: pd.DataFrame, table: str) -> pd.DataFrame:
    from graphkit.contract import TABLES
    key = ["pharmacist_id", "pharmacy_id"] if table == "pharmacists" else [TABLES[table].key]
    return df.drop(columns=["_line"]).sort_values(key, kind="stable").reset_index(drop=True)


def _assert_same_tables(fetched, loaded_ds) -> None:
    assert set(fetched.tables) == set(loaded_ds.tables)
    for table, want in loaded_ds.tables.items():
        got = fetched.tables[table]
        assert len(got) == len(want), table
        pd.testing.assert_frame_equal(_sorted(got, table), _sorted(want, table), obj=table)
    assert fetched.n_rejected == 0


def _patient_sets(doc) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    for r in doc["rings"]:
        pats = sorted({m["id"] for m in r["members"] if m["type"] == "patient"})
        out.setdefault(r["typology"], []).append(pats)
    return {t: sorted(v) for t, v in out.items()}


def test_export_queries_cover_every_table():
    from graphkit.contract import TABLE_ORDER
    assert list(EXPORTS) == list(TABLE_ORDER)
    for table, name in EXPORTS.items():
        q = get_query(name)
        assert q.kind == "export" and {p.name for p in q.params} == {"skip", "limit"}, name
        from graphkit.contract import TABLES
        assert {c for c, _ in q.columns} == {c.name for c in TABLES[table].columns}, name


def test_fetch_dataset_equals_load_on_the_motif_tables(loaded, motif_ds):
    fetched = loaded.fetch_dataset(batch=4)  # many pages
    _assert_same_tables(fetched, motif_ds)
    assert fetched.fingerprint == motif_ds.fingerprint
    assert fetched.data_dir == loaded.uri


def test_fetch_dataset_keeps_tables_the_input_lacked_absent(store, tmp_path):
    t = motif_tables()  # no cards table: implicit cards, claims name none
    tables = {"patients": t["patients"],
              "claims": [{k: v for k, v in c.items() if k != "card_id"} for c in t["claims"]]}
    ds = load(write_dir(tmp_path / "d", tables))
    assert ds.n_rejected == 0 and len(ds.claims) == len(tables["claims"])
    store.load_dataset(ds)
    assert len(store.run_cypher("MATCH (d:Doctor) RETURN d.doctor_id AS d"))  # made by claims
    fetched = store.fetch_dataset()
    assert fetched.doctors.empty and fetched.institutions.empty
    # no facility tables: each facility typed by what was settled there, and kept so
    assert fetched.claims["facility_type"].tolist() == ds.claims["facility_type"].tolist()
    assert set(ds.claims["facility_type"]) <= {"institution", "pharmacy"}
    _assert_same_tables(fetched, ds)


def test_fetch_dataset_keeps_the_cards_claims_name_without_a_cards_table(store, tmp_path):
    """No cards table, but the claims name their cards (K01, K01b, ...): the cards the loader
    gives their patients come back from the graph the same."""
    t = motif_tables()
    ds = load(write_dir(tmp_path / "d", {"patients": t["patients"], "claims": t["claims"]}))
    assert ds.n_rejected == 0 and {"K01", "K01b"} <= set(ds.cards["card_id"])
    store.load_dataset(ds)
    _assert_same_tables(store.fetch_dataset(), ds)


def test_fetch_dataset_from_an_empty_graph_says_to_load_first(store):
    with pytest.raises(BackendError, match="holds no graphkit load.*graphkit neo4j load"):
        store.fetch_dataset()


def test_fetch_dataset_refuses_an_unfinished_load(store, motif_ds):
    _load_cut_at(store, motif_ds, 2)
    with pytest.raises(BackendError, match="did not finish"):
        store.fetch_dataset()


def test_cli_rings_neo4j_backend_on_an_empty_graph_is_a_clear_error(bolt, store, tmp_path):
    server, _ = bolt
    result = _cli(bolt, ["rings", str(tmp_path / "nowhere"), "-o", str(tmp_path / "out"),
                         "--backend", "neo4j", "--uri", server.uri, "-q"])
    assert result.exit_code != 0
    assert "holds no graphkit load" in result.output and "graphkit neo4j load" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out" / "rings.json").exists()


def test_cli_rings_neo4j_backend_refuses_a_graph_holding_data_dir_and_another_input(
        bolt, loaded, tmp_path):
    """DATA_DIR was loaded into a graph that already held another input: rings read from it
    would cover both, so the command says so instead of labelling them DATA_DIR's."""
    server, _ = bolt
    other = write_dir(tmp_path / "other", {k: v for k, v in motif_tables().items()
                                           if k in ("patients", "claims")})
    loaded.load_dataset(load(other))
    result = _cli(bolt, ["rings", str(other), "-o", str(tmp_path / "out"), "--backend", "neo4j",
                         "--uri", server.uri, "-q"])
    assert result.exit_code != 0 and "1 other input(s)" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out" / "rings.json").exists()


def test_cli_rings_neo4j_backend_refuses_a_different_data_dir(bolt, loaded, tmp_path):
    server, _ = bolt
    other = write_dir(tmp_path / "other", {k: v for k, v in motif_tables().items()
                                           if k in ("patients", "claims")})
    result = _cli(bolt, ["rings", str(other), "-o", str(tmp_path / "out"), "--backend", "neo4j",
                         "--uri", server.uri, "-q"])
    assert result.exit_code != 0 and "not this DATA_DIR" in result.output


# ------------------------------------------------------------------------------------------------
# The shared sample. These tests come last: on FalkorDB 4.18, after a graph of this size is
# deleted (the wipe of the `store` fixture), queries that scan a label and read a property fail
# ("Attempted to access undefined attribute"), so nothing should wipe the demo graph after them.
# ------------------------------------------------------------------------------------------------

DEMO = Path(__file__).resolve().parent.parent / "data_samples" / "demo"


@pytest.mark.skipif(not (DEMO / "claims.csv").exists() and not list(DEMO.glob("claims.*")),
                    reason="data_samples/demo not generated yet")
def test_motif_queries_equal_pandas_on_the_demo_sample(store):
    ds = load(DEMO)
    store.load_dataset(ds)
    for motif in MOTIFS:
        got = store.motif(motif)
        want = EXPECTED[motif](ds)
        cols = [c for c, _ in get_query(motif).columns]
        assert rows(got, cols) == rows(want, cols), motif


@pytest.fixture(scope="module")
def demo_graph(bolt):
    """The demo sample loaded into the session's server (reloaded if another test wiped it)."""
    if not (DEMO / "claims.csv").exists() and not list(DEMO.glob("claims.*")):
        pytest.skip("data_samples/demo not generated yet")
    server, driver = bolt
    ds = load(DEMO)
    store = Neo4jStore(driver, uri=server.uri)

    def ensure() -> Neo4jStore:
        loads = store.loads()
        if not (loads["fingerprint"] == ds.fingerprint).any() or len(loads) != 1:
            wipe(driver)
            store.load_dataset(ds)
        return store

    return ds, ensure


def test_fetch_dataset_equals_load_on_the_demo_sample(demo_graph):
    ds, ensure = demo_graph
    store = ensure()
    pages = []
    fetched = store.fetch_dataset(batch=30_000, progress=lambda t, n: pages.append((t, n)))
    _assert_same_tables(fetched, ds)
    for table in ("claims", "claim_items", "patients", "cards"):  # ids bit for bit
        key = get_query(EXPORTS[table]).order[0]
        assert sorted(fetched.tables[table][key]) == sorted(ds.tables[table][key]), table
    assert ("claim_items", 60_000) in pages  # paged
    assert fetched.fingerprint == ds.fingerprint


def test_cli_rings_neo4j_backend_finds_the_embedded_rings(bolt, demo_graph, tmp_path):
    from graphkit.detect import find_rings
    ds, ensure = demo_graph
    ensure()
    server, _ = bolt
    result = _cli(bolt, ["rings", str(DEMO), "-o", str(tmp_path / "neo"), "--backend", "neo4j",
                         "--uri", server.uri, "--no-pages", "-q"])
    assert result.exit_code == 0, result.output
    got = json.loads((tmp_path / "neo" / "rings.json").read_text(encoding="utf-8"))
    want = find_rings(ds).to_dict()
    assert _patient_sets(got) == _patient_sets(want)
    for typ in ("gang", "impersonation", "diversion", "fake_admission"):
        assert sum(r["typology"] == typ for r in got["rings"]) == \
            sum(r["typology"] == typ for r in want["rings"]), typ
    assert got["params"]["backend"] == "neo4j" and want["params"]["backend"] == "embedded"
    assert got["input"] == {"data_dir": server.uri, "fingerprint": ds.fingerprint}


def test_load_queries_are_specialised_per_set_of_optional_fields():
    from graphkit.neo4j_backend import SEP, _shape_groups
    text = get_query("load_claim_items_falkordb").body
    batch = [SEP.join(["I1", "C1", "T1", "", ""]), SEP.join(["I2", "C1", "", "", ""]),
             SEP.join(["I3", "C2", "T2", "", ""])]
    groups = _shape_groups(text, batch)
    assert [[r.split(SEP)[0] for r in rows] for _, rows in groups] == [["I1", "I3"], ["I2"]]
    with_trace, without = groups[0][0], groups[1][0]
    assert "FOREACH" not in with_trace and "MERGE (t:TraceCode" in with_trace
    assert "FOREACH" not in without and "TraceCode" not in without


def test_numbers_travel_in_the_row_string_exactly():
    import numpy as np

    from graphkit.neo4j_backend import _t_num
    values = [0.1, 123.45, -7.5, 0.0, 1e300, 5e-324, float("inf"), 25.0, 1 / 3]
    m, k = _t_num(pd.Series(values + [np.nan]))
    back = [int(a) * (float("inf") if b == "99999" else 2.0 ** int(b))
            for a, b in zip(m[:-1], k[:-1])]
    assert back == values and (m.iloc[-1], k.iloc[-1]) == ("", "")
    assert all(abs(int(a)) < 2 ** 53 for a in m[:-1])


class _Cut(Exception):
    """Raised from a load's batch callback to cut the load off half way."""


def _load_cut_at(store, ds, index: int) -> None:
    """Load ``ds`` in batches of 5 and cut the load off at batch ``index``."""

    def cut(step, n, i):
        if i == index:
            raise _Cut

    with pytest.raises(_Cut):
        store.load_dataset(ds, batch_size=5, on_batch=cut)


def test_plain_load_queries_write_the_graph_the_falkordb_ones_write(bolt, store, motif_ds):
    # The plain load queries (what Neo4j gets) run on FalkorDB too: same nodes, relationships
    # and exported tables as FalkorDB's own encoded rows.
    from graphkit.neo4j_backend import load_steps

    store.load_dataset(motif_ds, batch_size=7)
    want_counts = {k: v for k, v in _counts(store).items() if k != ("node", "GraphkitLoad")}
    want = {n: store.run(n) for n in EXPORTS.values()}
    wipe(bolt[1])
    for name, rows in load_steps(motif_ds, "neo4j"):
        assert not name.endswith("_falkordb")
        store.run(name, rows=rows)
    assert _counts(store) == want_counts
    for n, df in want.items():
        pd.testing.assert_frame_equal(store.run(n), df, obj=n)


def test_package_reproduce_script_runs_on_the_server(demo_graph, tmp_path):
    # reproduce.cypher as a user runs it: its :param lines, then each query of cypher/reproduce_*
    import ast
    import re

    from graphkit.detect import find_rings
    from graphkit.evidence import REPRODUCE_QUERIES, write_package

    ds, ensure = demo_graph
    store = ensure()
    doc = find_rings(ds)
    ring = next(r for r in doc.rings if r.typology == "diversion" and r.member_ids("trace_code"))
    pkg = write_package(doc, ring.ring_id, tmp_path / "pkg", ds, unmasked=True)
    text = (pkg / "reproduce.cypher").read_text(encoding="utf-8")
    params = {m.group(1): ast.literal_eval(m.group(2))
              for m in re.finditer(r"^:param (\w+) => (.*);$", text, re.M)}
    code = "\n".join(ln for ln in text.splitlines() if ln and not ln.startswith(("//", ":param")))
    statements = [s.strip() for s in code.split(";") if s.strip()]
    assert statements == [get_query(n).body for n in REPRODUCE_QUERIES]
    results = [store.run_cypher(s, {k: v for k, v in params.items() if "$" + k in s})
               for s in statements]
    assert set(results[0]["claim_id"]) == set(ring.claims)
    assert len(results[1]) >= len(ring.claims) and len(results[2]) > 0
    assert set(results[3]["trace_code"]) == set(ring.member_ids("trace_code"))
