"""Integrity of grade runs (完整性校验): SHA-256 manifest, keyed signature, verify.

Grades decide who is inspected; a grade file altered after the run — one letter, one
deleted row — must be detectable, and must not be used. Each run folder gets a
``manifest.json`` listing the SHA-256 of every other file and an HMAC-SHA256 over that
list and the run's identity (its month among it), keyed by a secret that is not in the
folder: the environment variable ``WORKBENCH_SIGNING_KEY`` or, by default, a key file
created once by the first signing run (random, owner read/write only) at
``.workbench/signing.key`` under the workspace. Whoever can change a file but not read
the key cannot forge a matching manifest; :func:`verify` names the file that changed.

Checking never creates a key (a new key would only make every folder fail), and a folder
signed for one month and copied under another month's name fails. Every stage that reads
a grade folder calls :func:`require_intact` first and refuses a folder that fails.
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
from workbench.workspace.folders import MONTH

MANIFEST = "manifest.json"
KEY_ENV = "WORKBENCH_SIGNING_KEY"
KEY_ENV_FILE = "WORKBENCH_SIGNING_KEY_FILE"
ALGORITHM = "HMAC-SHA256"
OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIR = 0o700


class SigningKeyError(WorkbenchError, RuntimeError):
    """The signing key cannot be read or created (says where it looked)."""


class IntegrityError(WorkbenchError, ValueError):
    """A signed folder failed verification, so it is not used (names the file)."""


def key_path() -> Path:
    """Where the signing key file lives (``WORKBENCH_SIGNING_KEY_FILE`` overrides)."""
    override = os.environ.get(KEY_ENV_FILE)
    return Path(override) if override else workspace.repo_root() / ".workbench" / "signing.key"


def signing_key(create: bool = True) -> tuple[bytes, str]:
    """The key and where it came from; a signing run creates the key file on first use.

    The file is created with owner-only permissions (0600) in an owner-only folder; a key
    file that others can read is refused, since anyone could then re-sign altered grades.

    Raises:
        SigningKeyError: no key and ``create`` is false (checking needs the key that
            signed), or a key file that others can read or that is too short.
    """
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return from_env.encode("utf-8"), f"${KEY_ENV}"
    path = key_path()
    if not path.exists():
        if not create:
            raise SigningKeyError(
                f"no signing key: {path} does not exist and ${KEY_ENV} is not set, so nothing "
                "can be checked; point $WORKBENCH_SIGNING_KEY_FILE at the key that signed the "
                "folder (a new key would not match any signature)"
            )
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


def key_id(key: bytes) -> str:
    """A short public fingerprint of a key: tells "signed with another key" apart."""
    return hashlib.sha256(b"workbench signing key id\0" + key).hexdigest()[:16]


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
    """Hash every file in ``folder``, sign the list, write ``manifest.json``; owner-only.

    ``meta`` is the run's identity, signed with the files; its ``month`` (YYYY-MM) is
    compared with the folder's name when the folder is checked.
    """
    folder = Path(folder)
    meta = dict(meta or {})
    files = {p.relative_to(folder).as_posix(): sha256_file(p) for p in _files(folder)}
    key, _ = signing_key()
    signature = hmac.new(key, _payload(files, meta), hashlib.sha256).hexdigest()
    manifest = folder / MANIFEST
    manifest.write_text(
        json.dumps(
            {
                "algorithm": ALGORITHM,
                "meta": meta,
                "files": files,
                "key_id": key_id(key),
                "signature": signature,
            },
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
    workspace.make_private(folder)


@dataclass
class Verification:
    """What :func:`verify` found; ``ok`` only when nothing changed and the signature holds."""

    folder: Path
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    signature_ok: bool = False
    problem: str = ""
    month: str | None = None  # the month the manifest was signed for
    other_key: bool = False  # signed with a key other than this workspace's

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
            lines.append(
                "  signed with another key than this workspace's (copied from elsewhere, or "
                "the key was replaced): it cannot be checked here"
                if self.other_key
                else "  the manifest's signature does not match (the manifest was edited)"
            )
        return "\n".join(lines)

    def first_problem(self) -> str:
        """The first thing wrong, naming the file (for a one-line refusal)."""
        if self.problem:
            return self.problem
        for label, names in (
            ("changed", self.changed),
            ("missing", self.missing),
            ("added", self.added),
        ):
            if names:
                more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
                return f"{names[0]} {label} since it was signed{more}"
        if not self.signature_ok:
            return (
                f"{MANIFEST} was signed with another key"
                if self.other_key
                else f"{MANIFEST}'s signature does not match (the manifest was edited)"
            )
        return ""


def verify(folder: str | Path) -> Verification:
    """Recompute every hash and the signature of a run folder, and check its month.

    Raises:
        SigningKeyError: there is no key to check with (none is ever created here).
    """
    folder = Path(folder)
    key, _ = signing_key(create=False)
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
    expected = hmac.new(key, _payload(listed, meta), hashlib.sha256).hexdigest()
    result.signature_ok = hmac.compare_digest(expected, str(signature))
    signed_by = manifest.get("key_id")
    result.other_key = not result.signature_ok and bool(signed_by) and signed_by != key_id(key)
    result.month = _signed_month(meta)
    named = folder.resolve().name
    if MONTH.match(named) and result.month and named != result.month:
        result.problem = (
            f"{MANIFEST} was signed for {result.month}, but the folder is named {named} "
            "(a month's grades copied under another month)"
        )
    return result


def _signed_month(meta: dict) -> str | None:
    """The month a manifest was signed for (older manifests: their snapshot's month)."""
    month = meta.get("month") if isinstance(meta, dict) else None
    if not month and isinstance(meta, dict) and meta.get("snapshot"):
        month = str(meta["snapshot"])[:7]
    return str(month) if month else None


def require_intact(folder: str | Path, month: str | None = None) -> Verification:
    """Verify a signed folder before using it; refuse it, naming the file, when it fails.

    ``month`` (YYYY-MM), when given, must be the month the folder was signed for.

    Raises:
        IntegrityError: the folder changed, is unsigned, or is another month's.
        SigningKeyError: no key to check with.
    """
    result = verify(folder)
    if not result.ok:
        raise IntegrityError(
            f"{result.folder} failed verification and is not used: {result.first_problem()}; "
            f"see `workbench verify {result.folder}`, and grade the month again"
        )
    if month and result.month != month:
        raise IntegrityError(
            f"{result.folder} holds the grades of {result.month}, not of {month}; "
            "name the grade folder of that month"
        )
    return result
