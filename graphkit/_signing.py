"""Ed25519 keys and detached signatures of evidence package manifests.

A package's ``manifest.json`` lists the SHA-256 of every other file, so whoever holds the
manifest can check every file; but an edited file with its hash edited in the manifest still
checks. The signature anchors the manifest: ``manifest.sig`` holds the Ed25519 signature of the
manifest's bytes exactly as written (base64, one line), made with the operator's private key.
Whoever holds the matching public key, received out of band, can confirm that nothing was
changed since it was signed. A key is named by its fingerprint: the SHA-256 of its 32 raw
public-key bytes, in hex (read it to each other over the phone).

Keys are PEM files: the private key PKCS #8, unencrypted and readable by its owner only
(mode 0600); the public key SubjectPublicKeyInfo.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from graphkit._files import writing
from graphkit.errors import GraphkitError, OutputError

__all__ = ["SigningKeyError", "PRIVATE_KEY_FILE", "PUBLIC_KEY_FILE", "generate_key_pair",
           "load_private_key", "load_public_key", "key_fingerprint", "sign", "signature_valid"]

PRIVATE_KEY_FILE = "graphkit_ed25519.pem"
PUBLIC_KEY_FILE = "graphkit_ed25519.pub.pem"


class SigningKeyError(GraphkitError):
    """A key file cannot be read or is not an Ed25519 key (a bad argument: exit 2)."""

    exit_code = 2


def _exclusive(path: Path, data: bytes, mode: int) -> None:
    """Write a new file, failing if it exists (never replaces a key)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, mode)  # the process umask may have narrowed or not the mode asked for


def generate_key_pair(directory: str | Path) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair into ``directory``; return (private, public) paths.

    Refuses (:class:`~graphkit.errors.OutputError`) when either file exists already: replacing
    a key would orphan every package signed with it.
    """
    d = Path(directory)
    private, public = d / PRIVATE_KEY_FILE, d / PUBLIC_KEY_FILE
    existing = [p.name for p in (private, public) if p.exists()]
    if existing:
        raise OutputError(f"{d} already holds {', '.join(existing)}; keys are never overwritten "
                          "(choose another directory)")
    with writing(d, "the key pair"):  # a path through a file, no permission: one line, exit 1
        d.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        _exclusive(private, private_pem, 0o600)
        _exclusive(public, public_pem, 0o644)
    except FileExistsError as exc:  # created by someone else meanwhile
        raise OutputError(f"{exc.filename}: exists; keys are never overwritten") from None
    except OSError as exc:
        raise OutputError(f"cannot write keys into {d}: {exc.strerror or exc}") from None
    return private, public


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file ``path``."""
    p = Path(path)
    try:
        key = serialization.load_pem_private_key(p.read_bytes(), password=None)
    except OSError as exc:
        raise SigningKeyError(f"{p}: cannot read the private key ({exc.strerror or exc})") from None
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{p}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{p}: not an Ed25519 key (make one with graphkit keygen)")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM file ``path``."""
    p = Path(path)
    try:
        key = serialization.load_pem_public_key(p.read_bytes())
    except OSError as exc:
        raise SigningKeyError(f"{p}: cannot read the public key ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise SigningKeyError(f"{p}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{p}: not an Ed25519 public key (make one with graphkit keygen)")
    return key


def key_fingerprint(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """SHA-256 (hex) of the 32 raw bytes of the public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The signature file's content for ``data``: base64 of the 64-byte signature, a newline."""
    return base64.b64encode(key.sign(data)) + b"\n"


def signature_valid(key: Ed25519PublicKey, data: bytes, signature_file: bytes) -> bool:
    """Whether ``signature_file`` (as :func:`sign` writes it) signs ``data`` under ``key``."""
    try:
        raw = base64.b64decode(signature_file.strip(), validate=True)
        key.verify(raw, data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
