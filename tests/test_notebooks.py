"""The investigator notebooks run top to bottom on data_samples/demo (nbclient, kernel python3).

Each runs in a temporary working directory with ``GRAPHKIT_DEMO`` pointing at the sample, so a
notebook that tried to write into the repository (or relied on the current directory) fails here.
04_neo4j runs twice: without ``NEO4J_URI`` (it must stop cleanly) and against the FalkorDB Bolt
test server when that can start.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEMO = ROOT / "data_samples" / "demo"

pytestmark = pytest.mark.slow
NAMES = ["01_quickstart.ipynb", "02_investigate_a_ring.ipynb", "03_diversion_chain.ipynb",
         "04_neo4j.ipynb"]
TIMEOUT = 180  # per cell; each notebook takes well under a minute


def _repo_state() -> str:
    """Untracked and modified files under notebooks/ and data_samples/ (should not change)."""
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--",
                          "notebooks", "data_samples"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else ""


def _execute(name: str, workdir: Path, env: dict[str, str]):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update({k: v for k, v in env.items() if v is not None})
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
    try:
        client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                         resources={"metadata": {"path": str(workdir)}})
        client.execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def _text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                parts.append(o["text"])
            elif "data" in o:
                parts.append(str(o["data"].get("text/plain", "")))
                parts.append(str(o["data"].get("text/markdown", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Execute a notebook once per test module: (notebook, workdir, repo state before, after)."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            workdir = tmp_path_factory.mktemp(name.split("_")[0])
            before = _repo_state()
            nb = _execute(name, workdir, {"GRAPHKIT_DEMO": str(DEMO), "NEO4J_URI": None})
            cache[name] = (nb, workdir, before, _repo_state())
        return cache[name]

    return get


@pytest.mark.parametrize("name", NAMES[:3])
def test_notebook_runs_top_to_bottom(name, run):
    nb, workdir, before, after = run(name)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    html = [o for c in nb.cells for o in c.get("outputs", [])
            if "text/html" in o.get("data", {}) and "srcdoc=" in o["data"]["text/html"]]
    assert html, "the notebook shows at least one graph inline"
    assert list(workdir.iterdir()) == []  # nothing written to the working directory
    assert after == before  # nothing written into the repository


def test_investigate_notebook_explains_the_dialysis_look_alike(run):
    text = _text(run("02_investigate_a_ring.ipynb")[0])
    assert "可疑药店 suspicious pharmacy: P51010554172" in text
    assert "H51012122004: 7 名 N18 患者，370 笔结算；其中被列入任何线索的患者：0" in text
    assert "100% 的结算诊断为 N18" in text
    assert "verify: unsigned" in text  # an unsigned package never verifies as ok


def test_diversion_notebook_traces_one_chain(run):
    text = _text(run("03_diversion_chain.ipynb")[0])
    assert "追溯码 trace code: 81543650022949517554 · 阿托伐他汀钙片" in text
    assert "回收药店 re-settling pharmacies: {'P51012140186': 376}" in text


def test_neo4j_notebook_stops_cleanly_without_a_server(tmp_path):
    nb = _execute("04_neo4j.ipynb", tmp_path, {"GRAPHKIT_DEMO": str(DEMO), "NEO4J_URI": None})
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    assert "NEO4J_URI is not set" in _text(nb)


def test_neo4j_notebook_finds_the_rings_in_the_database(bolt, tmp_path):
    server, driver = bolt
    with driver.session() as s:
        s.run("MATCH (n) DETACH DELETE n").consume()
    try:
        nb = _execute("04_neo4j.ipynb", tmp_path,
                      {"GRAPHKIT_DEMO": str(DEMO), "NEO4J_URI": server.uri,
                       "NEO4J_USER": None, "NEO4J_PASSWORD": None})
    finally:
        server.poke()  # FalkorDB stalls the next new connection after a driver close
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    tables = [o["data"]["text/plain"] for c in nb.cells for o in c.get("outputs", [])
              if "found_in_db" in o.get("data", {}).get("text/plain", "")]
    assert len(tables) == 1
