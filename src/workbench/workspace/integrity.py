"""Integrity of grade runs (完整性校验): SHA-256 manifest, keyed signature, verify.

Grades decide who is inspected; a grade file altered after the run — one letter, one
deleted row — must be detectable. Each run folder gets a ``manifest.json`` listing the
SHA-256 of every other file and an HMAC-SHA256 over that list, keyed by a secret that
is not in the folder: the environment variable ``WORKBENCH_SIGNING_KEY`` or, by default,
a key file created once (random, owner read/write only) at ``.workbench/signing.key``
under the workspace. Whoever can change a file but not read the key cannot forge a
matching manifest; :func:`verify` names the file that changed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from workbench import workspace
from workbench.errors import WorkbenchError

MANIFEST = "manifest.json"
KEY_ENV = "WORKBENCH_SIGNING_KEY"
KEY_ENV_FILE = "WORKBENCH_SIGNING_KEY_FILE"
ALGORITHM = "HMAC-SHA256"
OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIR = 0o700


class SigningKeyError(WorkbenchError, RuntimeError):
    """The signing key cannot be read or created (says where it looked)."""


def key_path() -> Path:
    """Where the signing key file lives (``WORKBENCH_SIGNING_KEY_FILE`` overrides)."""
    override = os.environ.get(KEY_ENV_FILE)
    return Path(override) if override else workspace.repo_root() / ".workbench" / "signing.key"


def signing_key() -> tuple[bytes, str]:
    """The key and where it came from; the key file is created on first use.

    The file is created with owner-only permissions (0600) in an owner-only folder; a key
    file that others can read is refused, since anyone could then re-sign altered grades.
    """
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return from_env.encode("utf-8"), f"${KEY_ENV}"
    path = key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=OWNER_ONLY_DIR)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SigningKeyError(
            f"signing key {path} is readable by others (mode {mode:o}); run: chmod 600 {path}"
        )
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise SigningKeyError(f"signing key {path} is too short to be a key")
    return key.encode("ascii"), str(path)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def _payload(files: dict[str, str], meta: dict) -> bytes:
    """The signed bytes: canonical JSON of the file list and the run's identity."""
    return json.dumps(
        {"files": files, "meta": meta}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def write_manifest(folder: str | Path, meta: dict | None = None) -> Path:
    """Hash every file in ``folder``, sign the list, write ``manifest.json``; owner-only."""
    folder = Path(folder)
    meta = dict(meta or {})
    files = {p.relative_to(folder).as_posix(): sha256_file(p) for p in _files(folder)}
    key, _ = signing_key()
    signature = hmac.new(key, _payload(files, meta), hashlib.sha256).hexdigest()
    manifest = folder / MANIFEST
    manifest.write_text(
        json.dumps(
            {"algorithm": ALGORITHM, "meta": meta, "files": files, "signature": signature},
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    restrict(folder)
    return manifest


def restrict(folder: Path) -> None:
    """Owner read/write only, for every file and folder of a run (grades are confidential)."""
    for path in folder.rglob("*"):
        path.chmod(OWNER_ONLY_DIR if path.is_dir() else OWNER_ONLY_FILE)
    folder.chmod(OWNER_ONLY_DIR)


@dataclass
class Verification:
    """What :func:`verify` found; ``ok`` only when nothing changed and the signature holds."""

    folder: Path
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    signature_ok: bool = False
    problem: str = ""

    @property
    def ok(self) -> bool:
        """True when nothing changed, was added or removed, and the signature holds."""
        return (
            not (self.changed or self.missing or self.added or self.problem) and self.signature_ok
        )

    def message(self) -> str:
        """What a user reads: intact, or which file changed."""
        if self.ok:
            return (
                f"{self.folder}: intact — every file matches manifest.json and the signature holds"
            )
        lines = [f"{self.folder}: NOT intact"]
        if self.problem:
            lines.append(f"  {self.problem}")
        lines += [f"  changed: {name}" for name in self.changed]
        lines += [f"  missing: {name}" for name in self.missing]
        lines += [f"  added (not in the manifest): {name}" for name in self.added]
        if not self.signature_ok and not self.problem:
            lines.append("  the manifest's signature does not match (the manifest was edited)")
        return "\n".join(lines)


def verify(folder: str | Path) -> Verification:
    """Recompute every hash and the signature of a run folder."""
    folder = Path(folder)
    result = Verification(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        result.problem = f"no {MANIFEST} in {folder}"
        return result
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed: dict[str, str] = manifest["files"]
        meta = manifest.get("meta", {})
        signature = manifest["signature"]
    except (ValueError, KeyError, TypeError) as err:
        result.problem = f"{MANIFEST} is unreadable or incomplete ({err})"
        return result
    present = {p.relative_to(folder).as_posix(): p for p in _files(folder)}
    for name, digest in sorted(listed.items()):
        if name not in present:
            result.missing.append(name)
        elif sha256_file(present[name]) != digest:
            result.changed.append(name)
    result.added = sorted(set(present) - set(listed))
    key, _ = signing_key()
    expected = hmac.new(key, _payload(listed, meta), hashlib.sha256).hexdigest()
    result.signature_ok = hmac.compare_digest(expected, str(signature))
    return result
