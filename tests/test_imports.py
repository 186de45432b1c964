"""graphkit's modules import one another one way: the import graph has no cycle.

The graph is read from the source (``ast``), not by importing: every ``import`` and ``from ...
import`` naming a graphkit module counts, at module level and inside functions alike, since a
function-level import that closes a cycle only hides it until that function runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_files(root: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (its file, whether it is a package ``__init__``) under ``root``."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


def imports_of(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> every module name its import statements name (of any package).

    ``from a.b import c`` is an import of ``a.b.c`` when that is a module of ``package``, else
    of ``a.b``; relative imports are resolved against the importing module's package."""
    modules = module_files(root, package)
    out = {}
    for name, (path, is_package) in modules.items():
        here = name if is_package else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    source = ".".join(parts + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    targets.add(submodule if submodule in modules else source)
        out[name] = targets
    return out


def import_graph(root: Path, package: str) -> dict[str, list[str]]:
    """Module -> the modules of ``package`` it imports (sorted), from every import statement.

    Importing a submodule also runs its parent packages' ``__init__``; that implied step is not
    an edge (a package importing its own submodules would otherwise always be a cycle)."""
    modules = module_files(root, package)
    return {name: sorted(t for t in targets if t in modules and t != name)
            for name, targets in imports_of(root, package).items()}


def missing_modules(root: Path, package: str) -> dict[str, list[str]]:
    """Module -> the modules of ``package`` it imports that do not exist (sorted); a
    function-level import of a module that was moved fails only when that function runs."""
    modules = module_files(root, package)
    out = {}
    for name, targets in imports_of(root, package).items():
        gone = sorted(t for t in targets
                      if (t == package or t.startswith(package + ".")) and t not in modules)
        if gone:
            out[name] = gone
    return out


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One import cycle as the modules along it, first repeated last, or None (modules and
    their imports are visited in sorted order, so the same graph names the same cycle)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for imported in graph[module]:
            if imported in on_path:
                return path[path.index(imported):] + [imported]
            if imported not in done:
                cycle = visit(imported)
                if cycle:
                    return cycle
        path.pop()
        on_path.discard(module)
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_graphkit_has_no_import_cycle():
    graph = import_graph(ROOT, "graphkit")
    # the graph is really read: the detectors and the pipeline are in it with their imports
    assert "graphkit.detectors.context" in graph["graphkit.detectors.diversion"]
    assert "graphkit.detectors" in graph["graphkit.detect"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_every_graphkit_module_imported_exists():
    assert missing_modules(ROOT, "graphkit") == {}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_cycle_through_a_function_level_import_is_named(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "from pkg.a import run\n",
        "pkg/a.py": "import os\nfrom pkg import b\n\ndef run():\n    return b.VALUE\n",
        "pkg/b.py": "VALUE = 1\n\ndef page():\n    from pkg.c import helper\n    return helper()\n",
        "pkg/c.py": "from .a import run\n\ndef helper():\n    return run\n",
    })
    graph = import_graph(tmp_path, "pkg")
    assert graph == {"pkg": ["pkg.a"], "pkg.a": ["pkg.b"], "pkg.b": ["pkg.c"],
                     "pkg.c": ["pkg.a"]}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]


def test_a_package_importing_its_version_from_the_pipeline_and_back_is_a_cycle(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "__version__ = '1'\nfrom pkg.detect import find\n",
        "pkg/detect.py": "def find():\n    from pkg import __version__\n    return __version__\n",
    })
    assert find_cycle(import_graph(tmp_path, "pkg")) == ["pkg", "pkg.detect", "pkg"]


def test_one_way_imports_through_a_subpackage_have_no_cycle(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "from pkg.sub.x import f\n", "pkg/sub/__init__.py": "",
        "pkg/sub/x.py": "from ..y import g\n\ndef f():\n    return g\n",
        "pkg/y.py": "import json\n\ndef g():\n    return json\n",
    })
    graph = import_graph(tmp_path, "pkg")
    assert graph == {"pkg": ["pkg.sub.x"], "pkg.sub": [], "pkg.sub.x": ["pkg.y"], "pkg.y": []}
    assert find_cycle(graph) is None


def test_an_import_inside_a_function_of_a_module_that_is_gone_is_named(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "", "pkg/places.py": "def place_of(a):\n    return a\n",
        "pkg/page.py": ("from pkg.places import place_of\n\n"
                        "def layout():\n    from pkg.signals import place_of\n    return place_of\n"),
    })
    assert missing_modules(tmp_path, "pkg") == {"pkg.page": ["pkg.signals"]}
