"""Helpers shared by the click commands."""

from __future__ import annotations

import contextlib
import sys

import click

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
