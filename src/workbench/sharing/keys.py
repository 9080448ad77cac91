"""The bureau's sharing key pair (共享签名密钥): Ed25519, so receivers check without a secret.

Grade folders are signed with an HMAC (:mod:`workbench.workspace.integrity`): whoever can
check one could also forge one, which is fine inside the bureau and wrong for a
department outside it. An extract is therefore signed with an Ed25519 private key that
never leaves the bureau (``.workbench/sharing_ed25519.key``, created once by the first
``workbench share``, owner-only; ``$WORKBENCH_SHARING_KEY_FILE`` points elsewhere), and
checked with its public key, which the bureau hands to each department once, over a
channel other than the extracts', together with its fingerprint. Checking never reads or
creates the private key.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from workbench import workspace
from workbench.errors import WorkbenchError

KEY_ENV_FILE = "WORKBENCH_SHARING_KEY_FILE"
ALGORITHM = "Ed25519"
PUBLIC_SUFFIX = ".pub"


class SharingKeyError(WorkbenchError, RuntimeError):
    """The sharing key cannot be read, created or used (says which file and why)."""


def key_path() -> Path:
    """Where the private key lives (``$WORKBENCH_SHARING_KEY_FILE`` overrides)."""
    override = os.environ.get(KEY_ENV_FILE)
    if override:
        return Path(override).expanduser()
    return workspace.repo_root() / ".workbench" / "sharing_ed25519.key"


def public_key_path() -> Path:
    """Where the bureau keeps its own copy of the public key (beside the private key)."""
    path = key_path()
    return path.with_name(path.name + PUBLIC_SUFFIX)


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex: what the department compares by phone."""
    return hashlib.sha256(_raw(public)).hexdigest()


def spaced(fp: str) -> str:
    """A fingerprint in groups of four, for reading aloud."""
    return " ".join(fp[i : i + 4] for i in range(0, len(fp), 4))


def public_pem(public: Ed25519PublicKey) -> bytes:
    """The public key as PEM (SubjectPublicKeyInfo): what OpenSSL and ``cryptography`` read."""
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_key() -> Ed25519PrivateKey:
    """The bureau's private key; created on first use (0600 in a 0700 folder).

    Raises:
        SharingKeyError: a key file that others can read (anyone could then sign
            extracts in the bureau's name), or one that is not an Ed25519 key.
    """
    path = key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=workspace.OWNER_ONLY_DIR)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, workspace.OWNER_ONLY_FILE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SharingKeyError(
            f"sharing key {path} is readable by others (mode {mode:o}); run: chmod 600 {path}"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as err:
        raise SharingKeyError(f"sharing key {path} is not a PEM private key ({err})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SharingKeyError(f"sharing key {path} is not an {ALGORITHM} key")
    _export_public(key.public_key())
    return key


def _export_public(public: Ed25519PublicKey) -> None:
    """Keep the public key beside the private one, so checking never needs the secret."""
    path = public_key_path()
    pem = public_pem(public)
    if not path.is_file() or path.read_bytes() != pem:
        path.write_bytes(pem)
        path.chmod(workspace.OWNER_ONLY_FILE)


def bureau_public_key() -> Ed25519PublicKey:
    """The public key of this bureau's sharing key pair, created when there is none yet."""
    return private_key().public_key()


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (what ``workbench share`` exports).

    Raises:
        SharingKeyError: the file is absent or holds no Ed25519 public key.
    """
    path = Path(path)
    if not path.is_file():
        raise SharingKeyError(f"public key {path} does not exist")
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (ValueError, TypeError, UnicodeDecodeError) as err:
        raise SharingKeyError(
            f"{path} is not a PEM public key ({' '.join(str(err).split())})"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise SharingKeyError(f"{path} is not an {ALGORITHM} public key")
    return key


def own_public_key() -> Ed25519PublicKey | None:
    """This workspace's exported public key, when the bureau has one (never the secret)."""
    path = public_key_path()
    return load_public_key(path) if path.is_file() else None


def sign(data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``data`` with the bureau's private key."""
    return private_key().sign(data)


def valid(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is ``public``'s signature of ``data``."""
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True
