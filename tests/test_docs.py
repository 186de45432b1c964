"""The documentation a clone carries: every relative link and #anchor in README.md, docs/,
CHANGELOG.md and the folder READMEs resolves inside the repository, and nothing links outside it."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "notebooks" / "README.md",
                ROOT / "data_samples" / "README.md", ROOT / "bench" / "README.md",
                *(ROOT / "docs").glob("*.md")])
_FENCE = re.compile(r"```.*?```", re.S)
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but - and _ dropped, spaces -> -."""
    out = []
    for ch in heading.strip().lower().replace("`", ""):
        if ch == " ":
            out.append("-")
        elif ch in "-_" or unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) == "Mn":
            out.append(ch)
    return "".join(out)


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for m in re.finditer(r"^#{1,6}\s+(.*)$", _FENCE.sub("", path.read_text(encoding="utf-8")), re.M):
        s = _slug(m.group(1))
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else f"{s}-{n}")
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page):
    bad = []
    for target in _LINK.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        file, _, fragment = target.partition("#")
        dest = (page.parent / file).resolve() if file else page.resolve()
        if ROOT not in dest.parents and dest != ROOT:
            bad.append(f"{target} (outside the repository)")
        elif not dest.exists():
            bad.append(f"{target} (missing)")
        elif fragment and dest.suffix == ".md" and fragment not in _anchors(dest):
            bad.append(f"{target} (no such heading)")
    assert bad == []
