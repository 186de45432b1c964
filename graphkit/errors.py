"""Named exceptions. Every error graphkit raises on purpose derives from :class:`GraphkitError`."""

from __future__ import annotations

__all__ = ["GraphkitError", "LoadError", "SettingsError", "RingsFileError", "UnknownRingError",
           "BackendError", "OutputError"]


class GraphkitError(Exception):
    """Root of graphkit's errors; the CLI turns these into a one-line message and exit code."""

    exit_code = 1


class LoadError(GraphkitError):
    """A data directory or file cannot be loaded (missing table or column, unreadable file)."""

    def __init__(self, message: str, *, file: str | None = None, column: str | None = None):
        super().__init__(message)
        self.file = file
        self.column = column


class SettingsError(GraphkitError):
    """A settings file or value is invalid."""

    exit_code = 2


class RingsFileError(GraphkitError):
    """A rings.json (or truth.csv) is missing or malformed: a data error (exit 1), as a data
    directory that cannot be loaded is; 2 is for usage (an unknown option, a bad setting)."""


class UnknownRingError(RingsFileError):
    """A ring id the user named is not in the rings file: a usage error (exit 2)."""

    exit_code = 2


class BackendError(GraphkitError):
    """A backend (Neo4j / Bolt server) failed: unreachable, auth refused, query failed."""



class OutputError(GraphkitError):
    """An output file or directory cannot be written: a path through a file, no permission, a
    full disk. The message names the path that failed and why."""
