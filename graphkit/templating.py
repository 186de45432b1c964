"""The Jinja2 environment every HTML page graphkit writes is rendered with.

Templates are package data, ``graphkit/templates/*.html``. Autoescaping is on for every one of
them, so each value a template writes is HTML-escaped unless it is a :class:`markupsafe.Markup`;
graphkit makes Markup only of what it builds itself and must inline unchanged (the vendored
vis-network build and graphkit's own scripts and stylesheet, and JSON data made safe for a
``<script>`` element), each at the place it is made. An undefined name is an error, not an empty
string (``StrictUndefined``). ``None`` and NA values print as nothing, as
:func:`graphkit.masking.text_of` shows them.

Template sources are written on many lines for reading, but the pages carry no line breaks
between their elements (a line break between two inline elements would show as a space): a line
break in a template and the indentation after it are dropped when the template is loaded, except
in the templates of :data:`KEEP_LINES`. A tag or expression is therefore never broken over lines,
and where a page needs a line break the template writes ``{{ "\\n" }}``.

Examples
--------
>>> from graphkit.templating import render_template
>>> render_template("_inline.html", title='R1 <"&>', srcdoc="<p>x</p>", height=300)[:66]
'<div class="graphkit-inline"><iframe title="R1 &lt;&#34;&amp;&gt;"'
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from graphkit.masking import text_of

__all__ = ["TEMPLATES_DIR", "KEEP_LINES", "environment", "render_template"]

#: where the templates are (package data of graphkit)
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: templates whose line breaks are part of the page (the evidence report is read as text too)
KEEP_LINES = frozenset({"report.html"})

_LINE_BREAK = re.compile(r"\n[ \t]*")


def _shown(value):
    """A value as a template prints it: strings (and Markup) as they are, None and NA as ``""``."""
    return value if isinstance(value, str) else text_of(value)


@functools.lru_cache(maxsize=1)
def environment():
    """The one :class:`jinja2.Environment` of graphkit's templates (built on first use)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined
    from jinja2.ext import Extension

    class JoinLines(Extension):
        """Drops each line break of a template source and the indentation after it."""

        def preprocess(self, source, name, filename=None):
            return source if name in KEEP_LINES else _LINE_BREAK.sub("", source)

    return Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                       undefined=StrictUndefined, finalize=_shown, extensions=[JoinLines],
                       keep_trailing_newline=True, auto_reload=False)


def render_template(name: str, **context) -> str:
    """The page (or fragment) template ``name`` renders with ``context``."""
    return environment().get_template(name).render(**context)
