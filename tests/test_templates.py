"""HTML comes from templates: no module puts markup together from formatted strings, every user
string is escaped in each of the four pages (ring page, index, 报告.html, notebook page), and the
templates are package data."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import tomllib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

import graphkit as gk
from graphkit.evidence import write_package
from graphkit.render import render_all
from graphkit.rings import Evidence
from graphkit.templating import TEMPLATES_DIR, environment, render_template

ROOT = Path(__file__).resolve().parent.parent

#: a user string that would end a <script> element, open one, break out of an attribute and
#: start an entity, if a page wrote it as it is
HOSTILE = '</script><script>alert("x&y")</script>'
#: how the HTML text of a page must carry it (autoescaped)
HOSTILE_ESCAPED = "&lt;/script&gt;&lt;script&gt;alert(&#34;x&amp;y&#34;)&lt;/script&gt;"

# ---- no HTML by string formatting

#: the elements graphkit's pages are made of; "<Ring R0001 ...>" (a repr) or "<type>:<id>" (a
#: message) are not markup
_ELEMENT = re.compile(r"<(?:!DOCTYPE|/?(?:html|head|meta|title|style|script|body|main|div|span|p|a|"
                      r"h[1-6]|ul|ol|li|table|thead|tbody|tr|td|th|svg|g|rect|circle|polygon|"
                      r"line|text|br|b|i|pre|dl|dt|dd|label|input|select|option|iframe|details|"
                      r"summary|code|em|strong|img|form|button|section|header|footer|nav))[\s>/]",
                      re.I)

#: (module, text of the formatted expression) that may hold markup, and why; keep it empty
#: unless a line truly cannot be a template
ALLOWED: dict[tuple[str, str], str] = {}


def _formatting(tree: ast.AST):
    """Expressions that build a string from pieces: f-strings, ``%``, ``+``, ``.format``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            yield node
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
            yield node
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("format", "format_map", "join")):
            yield node


def markup_built_by_formatting(root: Path) -> list[str]:
    """``module:line: expression`` for each expression under ``root`` that formats a string
    holding an HTML element (its literal parts are searched)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in _formatting(ast.parse(source)):
            literals = [n.value for n in ast.walk(node)
                        if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            if any(_ELEMENT.search(text) for text in literals):
                segment = ast.get_source_segment(source, node)
                module = path.relative_to(root.parent).as_posix()
                if (module, segment) not in ALLOWED:
                    found.append((module, node.lineno, segment[:80]))
    return [f"{module}:{line}: {segment}" for module, line, segment in sorted(found)]


class _Elements(HTMLParser):
    """The elements a browser would open, by tag (script contents are text, as a browser reads
    them up to the first ``</script``)."""

    def __init__(self, text: str):
        super().__init__()
        self.opened: Counter = Counter()
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.opened[tag] += 1


def test_no_module_assembles_html_by_string_formatting():
    assert markup_built_by_formatting(ROOT / "graphkit") == []


def test_the_scan_finds_each_way_of_formatting_markup(tmp_path):
    pkg = tmp_path / "graphkit"
    pkg.mkdir()
    (pkg / "page.py").write_text(
        "def a(x):\n    return f'<td>{x}</td>'\n"
        "def b(x):\n    return '<p class=\"muted\">%s</p>' % x\n"
        "def c(x):\n    return '<li>' + x + '</li>'\n"
        "def d(x):\n    return '<span>{}</span>'.format(x)\n"
        "def e(xs):\n    return '</td><td>'.join(xs)\n"
        "def f(x):\n    return f'<Ring {x}>' + f'write \"<type>:<id>\"'\n"
        "def g(x):\n    return '<b>' if x else ''\n", encoding="utf-8")
    found = markup_built_by_formatting(pkg)
    assert [line.split(":")[1] for line in found] == ["2", "4", "6", "6", "8", "10"]


# ---- every user string escaped, in each of the four pages


@pytest.fixture(scope="module")
def hostile(sample, tmp_path_factory):
    """The sample's rings with a hostile evidence clause and detail on R0001, and its pages: the
    ring page, the index, the package report (hostile operator too) and a notebook page (hostile
    title)."""
    data, doc, ds = sample
    ring = doc.ring("R0001")
    ring = dataclasses.replace(ring, evidence=(Evidence("R-X", HOSTILE, "明细 " + HOSTILE, 3),))
    doc = dataclasses.replace(doc, rings=(ring,) + tuple(r for r in doc.rings if r is not doc.ring("R0001")))
    out = tmp_path_factory.mktemp("hostile")
    render_all(doc, ds, out / "site")
    pkg = write_package(doc, "R0001", out / "pkg", ds, operator=HOSTILE)
    graph = gk.expand(ds, ring, hops=1)
    return {"ring": (out / "site" / "rings" / "R0001.html").read_text(encoding="utf-8"),
            "index": (out / "site" / "index.html").read_text(encoding="utf-8"),
            "report": (pkg / "报告.html").read_text(encoding="utf-8"),
            "notebook": gk.show(graph, ds, title=HOSTILE).page}


#: how many times each page shows the hostile string as text
_SHOWN = {"ring": 2, "index": 2, "report": 3, "notebook": 2}


@pytest.mark.parametrize("page", ["ring", "index", "report", "notebook"])
def test_a_hostile_user_string_is_escaped_text(hostile, page):
    text = hostile[page]
    assert HOSTILE not in text and 'alert("x' not in text
    assert text.count(HOSTILE_ESCAPED) == _SHOWN[page]
    # the page's own script elements only: none was opened by the user string
    scripts = {"ring": 3, "index": 1, "report": 0, "notebook": 3}[page]
    assert _Elements(text).opened["script"] == scripts


@pytest.mark.parametrize("page", ["ring", "notebook"])
def test_a_hostile_string_in_the_graph_data_stays_json(hostile, sample, page):
    """A name in the graph's JSON (a tooltip) keeps </script> from ending the data element."""
    from tests.browser import HOSTILE_PHARMACY

    text = hostile[page]
    data = re.search(r'<script type="application/json" id="gk-data">(.*?)</script>', text, re.S)
    assert "<" not in data.group(1) and ">" not in data.group(1) and "&" not in data.group(1)
    tips = [line for n in json.loads(data.group(1))["nodes"] for line in n["tip"]]
    assert any(HOSTILE_PHARMACY in line for line in tips)


def test_the_index_escapes_attribute_values():
    row = {"ring_id": 'R"1', "href": 'rings/R"1.html', "typology": 'g"&', "typology_zh": "团伙",
           "typology_en": 'a "b"', "also": "", "score": "0.50", "score_key": "0.5000",
           "score_sort": "0.500000", "members": "", "facilities": "", "more_facilities": "",
           "counted": 0, "fund": "0.00", "fund_sort": "0.00", "first_seen": "", "last_seen": "",
           "status": '"><b>', "status_zh": "新增", "repeat": 0, "evidence": False, "clause": "",
           "detail": "", "more_evidence": 0}
    page = render_template("index.html", generator="graphkit", title="t", css="", scripts=(),
                           policy="default-src 'none'", n_rings=1, fingerprint="f", masked=True,
                           analysed=None, typologies=[], rows=[row])
    assert ('<tr data-typology="g&#34;&amp;" data-score="0.5000" data-status="&#34;&gt;&lt;b&gt;"'
            ' data-repeat="0"><td><a href="rings/R&#34;1.html">R&#34;1</a></td>') in page
    assert 'title="a &#34;b&#34;"' in page


# ---- the environment and the package data


def test_the_environment_escapes_and_refuses_undefined_names():
    from jinja2 import StrictUndefined, UndefinedError

    env = environment()
    assert env is environment() and env.autoescape is True and env.undefined is StrictUndefined
    with pytest.raises(UndefinedError):
        render_template("_inline.html", title="t", srcdoc="")  # no height


def test_a_template_is_one_line_of_markup_unless_it_keeps_its_lines():
    page = render_template("_inline.html", title="t", srcdoc="<p>", height=5)
    assert page == ('<div class="graphkit-inline"><iframe title="t" srcdoc="&lt;p&gt;" '
                    'sandbox="allow-scripts" style="width:100%;height:5px;border:1px solid #ddd">'
                    "</iframe></div>")


def test_every_template_is_package_data():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = conf["tool"]["setuptools"]["package-data"]["graphkit"]
    package = ROOT / "graphkit"
    covered = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    templates = set(TEMPLATES_DIR.glob("*"))
    assert {p.name for p in templates} >= {"_page.html", "ring.html", "index.html", "report.html"}
    assert templates <= covered
    deps = " ".join(conf["project"]["dependencies"])
    assert "jinja2" in deps and "markupsafe" in deps


def test_every_html_template_compiles():
    env = environment()
    names = sorted(p.name for p in TEMPLATES_DIR.glob("*.html"))
    assert [env.get_template(n).name for n in names] == names


# ---- one notebook page path: a graph's page is drawn as a ring's page draws its graph


def _graph_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="gk-data">(.*?)</script>',
                                page, re.S).group(1))


def test_a_notebook_page_draws_nodes_and_edges_as_the_ring_page_does(sample):
    from graphkit.render import graph_page_html, ring_graph, ring_page_html

    _, doc, ds = sample
    ring = doc.ring("R0001")
    on_ring_page = _graph_data(ring_page_html(ring, ds))
    on_notebook = _graph_data(graph_page_html(ring_graph(ring, ds), ds))
    for data in (on_ring_page, on_notebook):
        data["nodes"].sort(key=lambda n: n["label"])
    def drawn(nodes):  # what a node shows; a member's tooltip names its role on both pages
        return [(n["label"], n["group"], n["m"], n["tip"][0], n["tip"][1] if n["m"] else "")
                for n in nodes]

    assert drawn(on_notebook["nodes"]) == drawn(on_ring_page["nodes"])
    assert (sorted((e["label"], e["c"]) for e in on_notebook["edges"])
            == sorted((e["label"], e["c"]) for e in on_ring_page["edges"]))
    assert on_notebook["groups"] == on_ring_page["groups"]


def test_a_neighbourhood_page_draws_its_seed_solid_and_says_so(sample):
    from tests.browser import PHONES

    _, doc, ds = sample
    page = gk.show(gk.expand(ds, f"phone:{PHONES[0]}", hops=1), ds, title="号码").page
    nodes = _graph_data(page)["nodes"]
    seed = [n for n in nodes if n["group"] == "phone"]
    assert len(seed) == 1 and seed[0]["m"] == 1 and seed[0]["tip"][1] == "起点 (seed)"
    assert {n["tip"][1] for n in nodes if n["m"] == 0} == {"关联节点（非起点/成员）"}
    assert '<h1>号码</h1>' in page and PHONES[0] not in page
