"""One department's extract of a month's grades (部门共享提取), signed so it can be checked.

:func:`build_extract` reads the month's grade folder only after it verifies
(:func:`~workbench.workspace.integrity.require_intact`), keeps the enterprises of the
department's domain and the columns ``sharing.yaml`` allows it, and writes an owner-only
folder::

    extract.csv            for people and import tools (UTF-8 BOM, formulas defused)
    extract.parquet        the same rows, original values
    README.txt             what it is, that it is internal, how to check it (Chinese)
    bureau_public_key.pem  the bureau's Ed25519 public key (convenience copy)
    manifest.json          kind, month, department, domain, columns, rows, SHA-256 of
                           every file, the key's fingerprint
    manifest.sig           Ed25519 signature of manifest.json's exact bytes (64 bytes)

Because the signature covers the manifest's bytes and the manifest every file's digest,
a receiver checks the folder with the public key alone — ``workbench verify FOLDER
--public-key FILE`` or OpenSSL and ``sha256sum`` — and no one without the bureau's
private key can make an altered folder pass. The copy of the public key inside the folder
is only a convenience: trust the key the bureau gave you, or compare fingerprints.
Every extract is recorded in the access register (:mod:`.register`).

The extract is internal to government (内部参考，不对外公开): it lives under
``data/sharing/`` and no public output (notices, the reports index) reads it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench import config, workspace
from workbench.errors import NotReadyError, ParameterError
from workbench.sharing import keys
from workbench.sharing import register as access
from workbench.sharing.policy import Department, Domain, Policy, column_names, load_policy
from workbench.workspace import csvsafe, integrity
from workbench.workspace.folders import ExtractFolder, GradeFolder, IngestFolder, check_month

KIND = "workbench.department-extract"
FORMAT_VERSION = 1
CONFIDENTIAL_NOTE = (
    "内部参考，仅限政府监管部门内部使用，不作为对企业的信用评价，不对外公开 — "
    "internal to government supervision, never to be published"
)


def policy(settings: config.Settings | None = None) -> Policy:
    """The configured departments (``sharing.yaml``: the bureau's, else the default)."""
    return load_policy((settings or config.current()).sharing)


# --------------------------------------------------------------------------- the domain


def _ingest_for(grades: GradeFolder, month: str) -> IngestFolder:
    """The ingest the month was graded from (recorded in its summary), else one covering it."""
    end = str(pd.Period(month, "M").end_time.date())
    recorded = grades.summary().get("data")
    if recorded and IngestFolder(Path(recorded)).exists():
        folder = IngestFolder(Path(recorded))
        if folder.snapshot >= end:
            return folder
    folder = workspace.current().ingest.for_month(month)
    if folder is None:
        raise NotReadyError(
            f"licences and industry codes are read from the ingest {month} was graded from, "
            f"and no ingest reaching {end} exists; run `workbench ingest` for that month"
        )
    return folder


def _held_licences(ingest: IngestFolder, types: tuple[str, ...], month: str) -> set[str]:
    """Enterprises holding one of ``types`` at the month's end (granted, not yet revoked)."""
    if not ingest.has_table("licenses"):
        raise NotReadyError(
            f"the department's domain names licence types, but the ingest {ingest.path} has "
            "no licenses table (行政许可); ingest an export that holds it"
        )
    end = pd.Timestamp(pd.Period(month, "M").end_time.date())
    frame = ingest.read_table(
        "licenses", columns=["uscc", "license_type", "granted_on", "revoked_on"]
    )
    granted = pd.to_datetime(frame["granted_on"], errors="coerce")
    revoked = pd.to_datetime(frame["revoked_on"], errors="coerce")
    held = (
        frame["license_type"].astype(str).isin(types)
        & (granted <= end)
        & (revoked.isna() | (revoked > end))
    )
    return set(frame.loc[held.to_numpy(), "uscc"].astype(str))


def _industry_codes(ingest: IngestFolder) -> pd.Series:
    frame = ingest.read_table("enterprises", columns=["uscc", "industry_code"])
    return frame.set_index(frame["uscc"].astype(str))["industry_code"].astype(str)


def in_domain(
    rows: pd.DataFrame, domain: Domain, ingest: IngestFolder | None, month: str
) -> pd.Series:
    """Which grade rows belong to the domain: any activity key, and every restricting key."""
    uscc = rows["uscc"].astype(str)
    activity = []
    if domain.licenses:
        assert ingest is not None
        activity.append(uscc.isin(_held_licences(ingest, domain.licenses, month)))
    if domain.industries:
        assert ingest is not None
        code = uscc.map(_industry_codes(ingest)).fillna("")
        activity.append(code.str.startswith(domain.industries))
    if domain.industry_sections:
        activity.append(rows["industry_section"].astype(str).isin(domain.industry_sections))
    mask = pd.Series(True, index=rows.index)
    if activity:
        mask = pd.concat(activity, axis=1).any(axis=1)
    if domain.regions:
        mask &= rows["region_code"].astype(str).str.startswith(domain.regions)
    if domain.entity_types:
        mask &= rows["entity_type"].astype(str).isin(domain.entity_types)
    return mask


def select(
    rows: pd.DataFrame,
    department: Department,
    summary: dict,
    ingest: IngestFolder | None,
    month: str,
) -> pd.DataFrame:
    """The department's rows and columns, sorted by code (the extract's content)."""
    rows = rows.reset_index(drop=True)
    kept = rows[in_domain(rows, department.domain, ingest, month).to_numpy()].copy()
    if "grade_label" in department.columns:
        labels = (summary.get("scheme") or {}).get("labels")
        if not labels:
            raise NotReadyError(
                f"{department.id}: grade_label needs the scheme's labels, which this month's "
                "summary.json does not hold; grade the month again or drop grade_label"
            )
        kept["grade_label"] = kept["grade"].astype(str).map(labels)
    absent = [c for c in department.columns if c not in kept.columns]
    if absent:
        raise NotReadyError(
            f"{department.id}: the grade file of {month} has no column(s) {', '.join(absent)}; "
            "grade the month again with this version, or remove them from sharing.yaml"
        )
    return kept[list(department.columns)].sort_values("uscc", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- writing


def _target(out: str | Path | None, month: str, department: str) -> ExtractFolder:
    if not out:
        return workspace.current().extract(month, department)
    folder = ExtractFolder(Path(out).expanduser().resolve())
    ws = workspace.current()
    if folder.path.is_relative_to(ws.data) and not folder.path.is_relative_to(ws.sharing):
        raise ParameterError(
            f"--out {folder.path} is inside another stage's outputs (a signed grade folder "
            f"would then fail its check); write extracts under {ws.sharing} or outside {ws.data}"
        )
    if folder.path.exists() and not folder.exists():
        if not folder.path.is_dir() or any(folder.path.iterdir()):
            raise ParameterError(
                f"--out {folder.path} exists and is not a department extract; name a new "
                "folder (an earlier extract there would be replaced)"
            )
    return folder


def _readme(department: Department, manifest: dict, fp: str) -> str:
    columns = "、".join(f"{c['name']}（{c['zh']}）" for c in manifest["columns"])
    return "\n".join(
        [
            "企业信用风险分类结果 — 部门共享提取（分类结果共享共用）",
            "",
            f"接收部门：{department.name}（{department.id}）",
            f"分类月份：{manifest['month']}（分类时点 {manifest['snapshot']}）",
            f"企业数：{manifest['rows']:,}",
            f"字段：{columns}",
            "",
            CONFIDENTIAL_NOTE,
            "分类结果仅作为配置监管资源的内部参考依据，请勿转发、公示或用于对企业的信用评价。",
            "",
            "校验（只需本局公钥，不需任何密钥）：",
            "  workbench verify <本文件夹> --public-key <本局提供的公钥文件>",
            "或使用 OpenSSL 3：",
            "  openssl pkeyutl -verify -pubin -inkey <公钥文件> -rawin -in manifest.json "
            "-sigfile manifest.sig",
            "  然后逐一核对 manifest.json 中 files 所列每个文件的 SHA-256（sha256sum <文件>）。",
            f"本局公钥指纹（SHA-256）：{keys.spaced(fp)}",
            "请与本局另行告知的指纹核对；文件夹内的 bureau_public_key.pem 仅为副本。",
            "",
        ]
    )


def _write_rows(frame: pd.DataFrame, folder: ExtractFolder) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[b"workbench.confidentiality"] = CONFIDENTIAL_NOTE.encode("utf-8")
    pq.write_table(table.replace_schema_metadata(metadata), folder.file("parquet"))
    csvsafe.to_csv(frame, folder.file("csv"))


def build_extract(
    month: str = "",
    department: str = "",
    *,
    out: str | Path | None = None,
    grades: str | Path | None = None,
    requested_by: str = "",
    settings: config.Settings | None = None,
) -> dict:
    """Write, sign and register one department's extract of a month's grades.

    Raises:
        ParameterError: an unknown department (the message lists the configured ids), a
            malformed month, an ``--out`` folder that holds something else.
        ConfigError: ``sharing.yaml`` names a column that is not on the whitelist.
        IntegrityError: the grade folder does not verify (nothing is written).
        NotReadyError: no grades for the month, or no ingest for a licence domain.
    """
    known = policy(settings)
    if not department:
        raise ParameterError(
            "--department is required; allowed: " + (", ".join(known.ids()) or "none configured")
        )
    dept = known.get(department)
    ws = workspace.current()
    if grades:
        folder = GradeFolder(Path(grades).expanduser().resolve())
    else:
        month = check_month(month, "--month") if month else (ws.grades.latest_month() or "")
        if not month:
            raise NotReadyError(f"no grades under {ws.grades.root}; run `workbench grade` first")
        folder = ws.grades.at(month)
    folder.require("grade the month first (`workbench grade --month YYYY-MM`)")
    checked = integrity.require_intact(
        folder.path, check_month(month, "--month") if month else None
    )
    month = checked.month or month
    summary = folder.summary()
    rows = folder.read_grades()
    ingest = _ingest_for(folder, month) if dept.domain.needs_ingest else None
    frame = select(rows, dept, summary, ingest, month)
    target = _target(out, month, dept.id)

    with workspace.owner_only():
        public = keys.bureau_public_key()
        fp = keys.fingerprint(public)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        who = access.os_user()
        with workspace.atomic_directory(target.path, ExtractFolder.MARKER) as tmp:
            written = ExtractFolder(tmp)
            _write_rows(frame, written)
            written.file("public_key").write_bytes(keys.public_pem(public))
            manifest = {
                "kind": KIND,
                "format": FORMAT_VERSION,
                "algorithm": keys.ALGORITHM,
                "month": month,
                "snapshot": str(summary.get("snapshot", "")),
                "department": {"id": dept.id, "name": dept.name},
                "domain": dept.domain.as_dict(),
                "columns": column_names(dept.columns),
                "rows": len(frame),
                "graded": len(rows),
                "scheme": (summary.get("scheme") or {}).get("id"),
                "domain_source": str(ingest.path) if ingest else None,
                "created_at": created,
                "created_by": who,
                "requested_by": requested_by,
                "confidentiality": CONFIDENTIAL_NOTE,
                "key_fingerprint": fp,
            }
            written.file("readme").write_text(_readme(dept, manifest, fp), encoding="utf-8")
            manifest["files"] = {
                written.FILES[name]: integrity.sha256_file(written.file(name))
                for name in ("csv", "parquet", "readme", "public_key")
            }
            data = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
            written.file("manifest").write_bytes(data)
            written.file("signature").write_bytes(keys.sign(data))
        digest = hashlib.sha256(data).hexdigest()
        entry = access.append(
            {
                "recorded_at": created,
                "os_user": who,
                "requested_by": requested_by,
                "month": month,
                "department": dept.id,
                "department_name": dept.name,
                "columns": ";".join(dept.columns),
                "enterprises": len(frame),
                "extract": str(target.path),
                "manifest_sha256": digest,
            }
        )
    return {
        "month": month,
        "department": dept.id,
        "department_name": dept.name,
        "enterprises": len(frame),
        "graded": len(rows),
        "columns": list(dept.columns),
        "folder": str(target.path),
        "manifest_sha256": digest,
        "key_fingerprint": fp,
        "public_key": str(target.file("public_key")),
        "register": str(access.register_path()),
        "entry_sha256": entry["entry_sha256"],
    }


# --------------------------------------------------------------------------- checking


def is_extract(folder: str | Path) -> bool:
    """True for a department extract (a detached signature, or the manifest's kind says so)."""
    folder = ExtractFolder(Path(folder))
    if folder.file("signature").is_file():
        return True
    try:
        manifest = json.loads(folder.file("manifest").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("kind") == KIND


@dataclass
class ExtractVerification:
    """What :func:`verify_extract` found; ``ok`` only when nothing changed and it is signed."""

    folder: Path
    key_fingerprint: str
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    signature_ok: bool = False
    signed_by: str = ""  # the fingerprint the manifest names
    problem: str = ""
    manifest: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the signature holds and every file matches the manifest."""
        return self.signature_ok and not (
            self.changed or self.missing or self.added or self.problem
        )

    @property
    def other_key(self) -> bool:
        """True when the manifest says it was signed with another key than the one given."""
        return bool(self.signed_by) and self.signed_by != self.key_fingerprint

    def first_problem(self) -> str:
        """The first thing wrong, naming the file."""
        if self.problem:
            return self.problem
        if not self.signature_ok:
            if self.other_key:
                return (
                    f"manifest.json is signed with another key ({self.signed_by[:16]}…), not "
                    f"the public key given ({self.key_fingerprint[:16]}…)"
                )
            return "manifest.sig does not match manifest.json (the manifest was edited)"
        for label, names in (
            ("changed", self.changed),
            ("missing", self.missing),
            ("added", self.added),
        ):
            if names:
                return f"{names[0]} {label} since it was signed"
        return ""

    def message(self) -> str:
        """What a user reads: intact with what it holds, or which file is wrong."""
        key = f"public key {keys.spaced(self.key_fingerprint)}"
        if self.ok:
            m = self.manifest
            return (
                f"{self.folder}: intact — department extract of {m.get('month')} for "
                f"{m['department']['name']} ({m['department']['id']}), {m.get('rows'):,} "
                f"enterprises, columns {', '.join(c['name'] for c in m['columns'])}; signature "
                f"holds with the {key}"
            )
        lines = [f"{self.folder}: NOT intact (department extract, checked with the {key})"]
        if self.problem or not self.signature_ok:
            lines.append(f"  {self.first_problem()}")
        lines += [f"  changed: {name}" for name in self.changed]
        lines += [f"  missing: {name}" for name in self.missing]
        lines += [f"  added (not in the manifest): {name}" for name in self.added]
        return "\n".join(lines)


def _public_key(public_key: str | Path | None):
    if public_key:
        return keys.load_public_key(public_key)
    own = keys.own_public_key()
    if own is None:
        raise keys.SharingKeyError(
            "a department extract is checked with the bureau's public key: give "
            "--public-key FILE (the key the bureau handed over; `workbench share "
            "--show-public-key` prints it on the bureau's machine)"
        )
    return own


def verify_extract(folder: str | Path, public_key: str | Path | None = None) -> ExtractVerification:
    """Check an extract with a public key only: the signature, then every file's digest.

    Without ``public_key`` the bureau's own exported public key is used (on the bureau's
    machine); the private key is never read.

    Raises:
        SharingKeyError: no public key to check with, or the file is not an Ed25519 key.
    """
    extract = ExtractFolder(Path(folder))
    public = _public_key(public_key)
    result = ExtractVerification(extract.path, keys.fingerprint(public))
    manifest_path, signature_path = extract.file("manifest"), extract.file("signature")
    for path in (manifest_path, signature_path):
        if not path.is_file():
            result.problem = f"no {path.name} in {extract.path}"
            return result
    data = manifest_path.read_bytes()
    result.signature_ok = keys.valid(public, signature_path.read_bytes(), data)
    try:
        manifest = json.loads(data.decode("utf-8"))
        listed: dict[str, str] = manifest["files"]
        result.signed_by = str(manifest.get("key_fingerprint", ""))
        if manifest.get("kind") != KIND or not isinstance(listed, dict):
            raise ValueError(f"kind is {manifest.get('kind')!r}, not {KIND}")
    except (ValueError, KeyError, TypeError) as err:
        result.problem = f"manifest.json is unreadable or not an extract's ({err})"
        return result
    result.manifest = manifest
    own = {extract.FILES["manifest"], extract.FILES["signature"]}
    present = {
        p.relative_to(extract.path).as_posix(): p
        for p in sorted(extract.path.rglob("*"))
        if p.is_file() and p.relative_to(extract.path).as_posix() not in own
    }
    for name, digest in sorted(listed.items()):
        if name not in present:
            result.missing.append(name)
        elif integrity.sha256_file(present[name]) != digest:
            result.changed.append(name)
    result.added = sorted(set(present) - set(listed))
    return result
