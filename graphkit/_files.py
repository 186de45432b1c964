"""Small file helpers shared across graphkit: JSON files with clear errors, file digests."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from graphkit.errors import OutputError

__all__ = ["read_json", "file_sha256", "writing"]


def read_json(path, error: type[Exception], what: str):
    """Parse the JSON file ``path``; a missing or unreadable file raises ``error`` naming it."""
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{p}: {what} file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{p}: not a readable JSON {what} file ({exc})") from None


def file_sha256(path) -> str:
    """SHA-256 hex digest of a file, read in 4 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def writing(path, what: str, hint: str = ""):
    """Turn an OSError raised while writing ``what`` under ``path`` into an :class:`OutputError`
    naming the file that failed and why (and ``hint``, what the user can do about it)."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or path
        raise OutputError(f"{where}: cannot write {what} ({exc.strerror or exc})"
                          + (f"; {hint}" if hint else "")) from None
