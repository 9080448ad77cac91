"""The access register (访问登记): every extract, who asked, what it held; append-only.

One CSV line per extract in ``data/sharing/register.csv`` (owner-only): when, who (the
OS user and who requested it), which month and department, which columns, how many
enterprises, where it was written and the SHA-256 of its signed manifest, which names
every file's digest. Each line also carries ``entry_sha256``, a hash over the line and
the previous line's hash, so a line edited, removed or inserted later breaks the chain
from there on and :func:`read_register` says where (an edit cannot go unnoticed, though
whoever can write the file can still truncate its end — keep a copy of the last hash).
Lines are appended under an exclusive lock; text cells are defused for spreadsheets.
"""

from __future__ import annotations

import csv
import fcntl
import getpass
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from workbench import workspace
from workbench.workspace import csvsafe

FIELDS = (
    "recorded_at",
    "os_user",
    "requested_by",
    "month",
    "department",
    "department_name",
    "columns",
    "enterprises",
    "extract",
    "manifest_sha256",
    "entry_sha256",
)
#: Chinese headings for printing (the file keeps the English names, stable for scripts).
HEADINGS = {
    "recorded_at": "登记时间",
    "os_user": "操作用户",
    "requested_by": "申请人",
    "month": "月份",
    "department": "部门",
    "department_name": "部门名称",
    "columns": "字段",
    "enterprises": "企业数",
    "extract": "提取文件夹",
    "manifest_sha256": "清单摘要",
    "entry_sha256": "登记链摘要",
}
GENESIS = "0" * 64


def register_path() -> Path:
    """``data/sharing/register.csv`` of the current workspace."""
    return workspace.current().sharing_register


def os_user() -> str:
    """The operating-system user running the command (uid when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _chain(previous: str, row: dict[str, str]) -> str:
    line = "\x1f".join(row[f] for f in FIELDS if f != "entry_sha256")
    return hashlib.sha256(f"{previous}\n{line}".encode()).hexdigest()


def _line(row: dict[str, str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(
        [row[f] for f in FIELDS]
    )
    return buffer.getvalue()


def append(entry: dict[str, object], path: Path | None = None) -> dict[str, str]:
    """Append one entry (the fields but the chain hash); returns the line as written."""
    path = path or register_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=workspace.OWNER_ONLY_DIR)
    path.parent.chmod(workspace.OWNER_ONLY_DIR)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, workspace.OWNER_ONLY_FILE)
    with os.fdopen(fd, "r+", encoding="utf-8", newline="") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            existing = list(csv.DictReader(io.StringIO(handle.read().removeprefix("\ufeff"))))
            previous = existing[-1]["entry_sha256"] if existing else GENESIS
            row = {f: str(csvsafe.defuse_value(str(entry.get(f, "")))) for f in FIELDS}
            row["entry_sha256"] = _chain(previous, row)
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                handle.write("\ufeff" + ",".join(FIELDS) + "\n")
            handle.write(_line(row))
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    path.chmod(workspace.OWNER_ONLY_FILE)
    return row


@dataclass(frozen=True)
class Register:
    """The register's lines (as written) and whether the hash chain holds."""

    path: Path
    rows: list[dict[str, str]]
    broken_at: int | None  # the 1-based entry where the chain first fails, or None

    @property
    def intact(self) -> bool:
        """True when every line chains to the one before it."""
        return self.broken_at is None


def read_register(path: Path | None = None) -> Register:
    """Every line of the register, and the first line whose chain hash does not hold."""
    path = path or register_path()
    if not path.is_file():
        return Register(path, [], None)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = [dict(r) for r in csv.DictReader(handle)]
    previous, broken = GENESIS, None
    for i, row in enumerate(rows, start=1):
        if set(FIELDS) - set(row) or _chain(previous, row) != row["entry_sha256"]:
            broken = i
            break
        previous = row["entry_sha256"]
    return Register(path, rows, broken)
