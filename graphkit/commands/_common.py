"""Helpers shared by the click commands."""

from __future__ import annotations

import contextlib
import sys

import click

from graphkit._files import writing
from graphkit.errors import GraphkitError


class GraphkitCommandError(click.ClickException):
    """A ClickException that keeps the library error's exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


@contextlib.contextmanager
def library_errors():
    """Turn a GraphkitError into a one-line click error with the error's exit code."""
    try:
        yield
    except GraphkitError as exc:
        raise GraphkitCommandError(str(exc), getattr(exc, "exit_code", 1)) from None


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def keep_rejects(ds, path, say, hint: str = "") -> None:
    """Write the rows of ``ds`` that did not load to ``path`` (file, line, values, reason) and
    ``say`` where they went, or remove an earlier run's file when every row loaded: nothing
    the user gave is lost without a trace. A path that cannot be written is an
    :class:`~graphkit.errors.OutputError` naming it (with ``hint``, what to do instead)."""
    if ds.n_rejected:
        with writing(path, "the rejects file", hint):
            ds.write_rejects(path)
        reasons = ds.rejects["reason"].value_counts()
        say(f"wrote {ds.n_rejected:,} rejected rows to {path} ("
            + "; ".join(f"{r}: {n:,}" for r, n in reasons.head(3).items())
            + ("; …" if len(reasons) > 3 else "") + ")")
    elif path.exists():
        with writing(path, "the rejects file", hint):
            path.unlink()
