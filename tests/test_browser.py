"""Ring pages in a real headless Chromium: offline, drawn, safe, and settling quickly."""

from __future__ import annotations

import io
import json
import re
import shutil
import time

import pytest

import graphkit
from graphkit.evidence import write_package
from graphkit.render import render_all, ring_graph
from tests.browser import (HOSTILE_IMG, HOSTILE_PHARMACY, HOSTILE_SCRIPT, browser_missing,
                           csp_problems, start_chromium, write_big, write_sample)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(browser_missing() is not None,
                                 reason=browser_missing() or "")]

# Installed before any page script runs: records alert() calls instead of showing them, and
# every Content-Security-Policy violation (what the policy refused, and why).
_TRAP = ("window.__alerts=[];window.alert=window.confirm=window.prompt="
         "function(m){window.__alerts.push(String(m));};"
         "window.__csp=[];document.addEventListener('securitypolicyviolation',function(e){"
         "window.__csp.push(e.effectiveDirective+' '+(e.blockedURI||'inline'));});")


@pytest.fixture(scope="module")
def driver():
    drv, profile = start_chromium()
    drv.execute_cdp_cmd("Network.enable", {})
    drv.execute_cdp_cmd("Network.emulateNetworkConditions",
                        {"offline": True, "latency": 0, "downloadThroughput": -1,
                         "uploadThroughput": -1})
    drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _TRAP})
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    data, doc = write_sample(root / "data")
    ds = graphkit.load(data)
    render_all(doc, ds, root / "masked")
    render_all(doc, ds, root / "plain", mask=False)
    return root


def _open(driver, path, timeout=20.0):
    driver.get_log("performance")  # drop earlier entries
    driver.get(path.as_uri())
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = driver.execute_script(
            "return document.readyState === 'complete' && (!window.graphkitStats || "
            "window.graphkitStats.stabilized === true)")
        if done:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path.name} did not finish loading and stabilising in {timeout} s")


def _requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    urls += driver.execute_script(
        "return performance.getEntriesByType('resource').map(function(e){return e.name})")
    return urls


def test_ring_page_draws_offline_without_requests(driver, site):
    page = site / "masked" / "rings" / "R0001.html"
    _open(driver, page)
    stats = driver.execute_script("return window.graphkitStats")
    drawn = driver.execute_script("return window.graphkitNetwork.body.data.nodes.length")
    attr = driver.find_element("id", "gk-graph").get_attribute("data-node-count")
    assert stats["stabilized"] is True
    assert drawn == stats["nodes"] == int(attr) == 16
    outside = [u for u in _requested_urls(driver) if not u.startswith(("file:", "data:", "about:"))]
    assert outside == []


def test_ring_page_screenshot_is_not_blank(driver, site):
    from PIL import Image

    _open(driver, site / "masked" / "rings" / "R0002.html")
    graph = driver.find_element("id", "gk-graph")
    img = Image.open(io.BytesIO(graph.screenshot_as_png)).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50


def test_hostile_names_stay_text(driver, site):
    _open(driver, site / "plain" / "rings" / "R0001.html")
    body = driver.find_element("tag name", "body").text
    assert HOSTILE_IMG in body and HOSTILE_SCRIPT in body and HOSTILE_PHARMACY in body
    assert driver.execute_script("return window.__alerts") == []
    assert driver.execute_script("return document.querySelectorAll('img, b[onmouseover]').length") == 0
    # the tooltip of the hostile patient is DOM text too
    tips = driver.execute_script(
        "var out=[];window.graphkitNetwork.body.data.nodes.forEach(function(n){"
        "out.push(n.title.textContent)});return out")
    assert any(HOSTILE_IMG in t for t in tips)


def test_masked_index_filters_and_sorts(driver, site):
    _open(driver, site / "masked" / "index.html")
    assert driver.find_element("id", "gk-shown").text == "3"
    sel = driver.find_element("id", "gk-typology")
    driver.execute_script("arguments[0].value='diversion';"
                          "arguments[0].dispatchEvent(new Event('input'))", sel)
    assert driver.find_element("id", "gk-shown").text == "1"
    assert driver.execute_script("return window.__alerts") == []


def test_package_graph_works_in_iframe_srcdoc(driver, site, tmp_path):
    data, doc = write_sample(tmp_path / "data")
    pkg = write_package(doc, "R0003", tmp_path / "pkg", graphkit.load(data))
    host = tmp_path / "host.html"
    host.write_text("<!DOCTYPE html><html><body><iframe id=f style='width:1000px;height:700px'>"
                    "</iframe><script>document.getElementById('f').srcdoc="
                    + json.dumps((pkg / "graph.html").read_text(encoding="utf-8"))
                    .replace("</", "<\\/") + ";</script></body></html>", encoding="utf-8")
    driver.get(host.as_uri())
    end = time.monotonic() + 20
    stats = None
    while time.monotonic() < end and not (stats and stats.get("stabilized")):
        stats = driver.execute_script("var w=document.getElementById('f').contentWindow;"
                                      "return w && w.graphkitStats || null")
        time.sleep(0.05)
    assert stats and stats["stabilized"] is True and stats["nodes"] == 7


def test_500_node_layout_settles_and_stops(driver, tmp_path):
    data, doc = write_big(tmp_path / "big", n_cards=240, n_pharmacies=20)
    render_all(doc, graphkit.load(data), tmp_path / "out")
    _open(driver, tmp_path / "out" / "rings" / "R0001.html", timeout=60)
    stats = driver.execute_script("return window.graphkitStats")
    physics = driver.execute_script(
        "return window.graphkitNetwork.physics.physicsEnabled")
    print(f"\n500-node page: {stats['nodes']} nodes, {stats['edges']} edges, fixed layout, "
          f"drawn and settled in {stats['stabilizeMs']} ms")
    assert stats["nodes"] == 500 and stats["stabilized"] is True and physics is False
    assert stats["iterations"] == 0  # positions are computed in Python: no simulation runs


def test_diversion_page_draws_the_chain_left_to_right(driver, tmp_path):
    """The positions the browser draws (network.getPositions) put each layer of the chain
    right of the one before: 开方医师 → 骗保人 → 医保凭证 → 取药机构 → 药品 → 回收药店 → 收药卡."""
    ds = graphkit.load("data_samples/demo")
    doc = graphkit.find_rings(ds)
    ring = next(r for r in doc.rings if r.typology == "diversion")
    render_all(type(doc)(rings=(ring,), data_dir=doc.data_dir, fingerprint=doc.fingerprint,
                         params=doc.params), ds, tmp_path / "out")
    _open(driver, tmp_path / "out" / "rings" / f"{ring.ring_id}.html")
    drawn = driver.execute_script("return window.graphkitNetwork.getPositions()")
    G = ring_graph(ring, ds)
    ids = {n: str(i) for i, n in enumerate(sorted(G.nodes))}  # the page's node ids
    roles = [("doctor", "prescriber"), ("patient", "mule"), ("card", "mule card"),
             ("institution", "dispensing facility"), ("trace_code", "re-settled pack"),
             ("pharmacy", "re-settling pharmacy"), ("card", "straw card"),
             ("patient", "straw card holder")]
    layers = [[drawn[ids[n]]["x"] for n, a in G.nodes(data=True)
               if (a["type"], a["role"]) == tr] for tr in roles]
    assert all(layers), [len(x) for x in layers]
    for left, right in zip(layers, layers[1:]):
        assert max(left) < min(right)


# ---- Content-Security-Policy


@pytest.fixture(scope="module")
def package_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("pkg")
    data, doc = write_sample(root / "data")
    return write_package(doc, "R0001", root / "R0001", graphkit.load(data))


def _drawn(driver) -> int:
    return driver.execute_script(
        "return window.graphkitNetwork ? window.graphkitNetwork.body.data.nodes.length : 0")


@pytest.mark.parametrize("which", ["index", "ring", "report", "graph"])
def test_every_page_under_its_policy_works_and_nothing_is_refused(driver, site, package_dir,
                                                                 which):
    page = {"index": site / "masked" / "index.html",
            "ring": site / "masked" / "rings" / "R0002.html",
            "report": package_dir / "报告.html", "graph": package_dir / "graph.html"}[which]
    assert csp_problems(page.read_text(encoding="utf-8")) == []
    _open(driver, page)
    policy = driver.execute_script(
        "var m=document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]');"
        "return m && m.content")
    assert policy and "default-src 'none'" in policy
    assert driver.execute_script("return window.__csp") == []  # its own scripts and styles ran
    if which in ("ring", "graph"):
        assert _drawn(driver) > 0
        assert driver.execute_script("return window.graphkitStats.stabilized") is True
    if which == "index":
        assert driver.find_element("id", "gk-shown").text == "3"  # table.js ran
    if which == "report":  # the stylesheet applied: the heading has its border
        border = driver.execute_script(
            "return getComputedStyle(document.querySelector('h1')).borderBottomStyle")
        assert border == "solid"


_SMUGGLED = ("<script>window.__ran=(window.__ran||0)+1;alert('smuggled')</script>"
             "<img src=x onerror=\"window.__ran=(window.__ran||0)+1\">"
             "<div style=\"display:none\" id=gk-styled>x</div>")


def test_a_smuggled_script_does_not_run_and_the_graph_still_draws(driver, site, tmp_path):
    """As if a user string had slipped past escaping: the policy refuses what it adds."""
    page = (site / "plain" / "rings" / "R0001.html").read_text(encoding="utf-8")
    hostile = tmp_path / "hostile.html"
    hostile.write_text(page.replace("</main>", _SMUGGLED + "</main>", 1), encoding="utf-8")
    _open(driver, hostile)
    assert driver.execute_script("return window.__ran || 0") == 0
    assert driver.execute_script("return window.__alerts") == []
    refused = driver.execute_script("return window.__csp")
    assert any(v.startswith("script-src") for v in refused), refused
    assert any(v.startswith("style-src") for v in refused), refused  # the inline style too
    assert driver.execute_script(
        "return getComputedStyle(document.getElementById('gk-styled')).display") != "none"
    assert _drawn(driver) == 16


def test_without_the_policy_the_smuggled_script_would_run(driver, site, tmp_path):
    """The test above shows the policy at work, not a script that never runs anyway."""
    page = (site / "plain" / "rings" / "R0001.html").read_text(encoding="utf-8")
    page = re.sub(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">', "", page)
    bare = tmp_path / "bare.html"
    bare.write_text(page.replace("</main>", _SMUGGLED + "</main>", 1), encoding="utf-8")
    _open(driver, bare)
    assert driver.execute_script("return window.__ran || 0") == 2
    assert driver.execute_script("return window.__alerts") == ["smuggled"]
