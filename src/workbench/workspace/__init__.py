"""Where things live (工作目录) and how they are written without ever half-writing a month.

Every path the workbench uses by default is derived here from the workspace root, so
that notebooks run by nbval in ``notebooks/``, the CLI run from anywhere and the tests
all agree. ``WORKBENCH_HOME`` overrides the root (tests point it at a temporary folder).

- :mod:`.folders` — the catalog of outputs: one typed folder per kind;
- :mod:`.integrity` — signed manifests of folders (HMAC) and their verification;
- :mod:`.csvsafe` — CSV files for people, formulas defused;
- this module — the root, path resolution, the atomic directory writer, JSON, and
  owner-only permissions.

Outputs hold enterprise-level data, the draw's seed, the model store: they are readable
by their owner only (folders 0700, files 0600). :func:`owner_only` sets that for a whole
stage run; :func:`atomic_directory` also makes each finished output owner-only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

OWNER_ONLY_DIR = 0o700
OWNER_ONLY_FILE = 0o600
#: Top-level folders of a workspace that hold enterprise data, reports or the model store.
PRIVATE_ROOTS = ("data", "reports", "mlflow")


def repo_root() -> Path:
    """The project root: ``$WORKBENCH_HOME``, else the folder holding ``pyproject.toml``."""
    env = os.environ.get("WORKBENCH_HOME")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "notebooks").is_dir():
            return parent
    for parent in [Path.cwd(), *Path.cwd().parents]:
        if (parent / "pyproject.toml").is_file():
            return parent
    raise RuntimeError("cannot find the workbench root; set WORKBENCH_HOME")


def source_root() -> Path:
    """The checkout holding ``notebooks/`` (never redirected by ``WORKBENCH_HOME``)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "notebooks").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    return repo_root()


def current():
    """The catalog of output folders of the current workspace root."""
    from workbench.workspace.folders import Workspace

    return Workspace(repo_root())


def resolve(path: str | Path | None) -> Path | None:
    """An absolute path: a relative one is taken against the caller's working directory.

    Called on every path parameter before a notebook starts, because notebooks run with
    ``notebooks/`` as their working directory.
    """
    if path in (None, ""):
        return None
    return Path(path).expanduser().resolve()


def data_dir() -> Path:
    """Generated demo city and bureau exports (git-ignored)."""
    return repo_root() / "data"


def reports_dir() -> Path:
    """Executed notebooks and reports (git-ignored)."""
    return repo_root() / "reports"


def notebooks_dir() -> Path:
    """The stage notebooks (committed without outputs)."""
    return source_root() / "notebooks"


def default_city_dir() -> Path:
    """Where ``workbench synth`` writes the demo city by default."""
    return data_dir() / "city"


def ingest_dir(snapshot_month: str) -> Path:
    """Where ``workbench ingest`` writes one snapshot's validated tables."""
    return data_dir() / "ingest" / snapshot_month


def make_private(path: str | Path) -> None:
    """Owner-only permissions for ``path`` and, when it is a folder, everything inside."""
    path = Path(path)
    if path.is_dir():
        for child in path.rglob("*"):
            if not child.is_symlink():
                child.chmod(OWNER_ONLY_DIR if child.is_dir() else OWNER_ONLY_FILE)
        path.chmod(OWNER_ONLY_DIR)
    elif path.is_file():
        path.chmod(OWNER_ONLY_FILE)


@contextlib.contextmanager
def owner_only() -> Iterator[None]:
    """Run a block with ``umask 077``, the workspace's private roots made 0700 first.

    Whatever the block (and the notebook kernels it starts) creates is then readable by
    its owner only, whichever library writes it (nbconvert's pages, Chromium's PDF).
    MLflow also copies files with their permissions (its model code), and its store may
    have been created outside a stage run, so the local store is made owner-only after.
    """
    root = repo_root()
    for name in PRIVATE_ROOTS:
        folder = root / name
        with contextlib.suppress(FileNotFoundError, PermissionError):
            folder.chmod(OWNER_ONLY_DIR)
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)
        with contextlib.suppress(FileNotFoundError, PermissionError):
            make_private(root / "mlflow")


@contextlib.contextmanager
def atomic_directory(target: str | Path, marker: str) -> Iterator[Path]:
    """Build a directory in a temporary sibling and move it into place on success.

    A failure (an exception inside the block, a crash) leaves ``target`` exactly as it
    was: earlier outputs are never half-overwritten. On success the old ``target`` is
    replaced as a whole. The temporary sibling is named after the writing process, so
    one a killed earlier run left behind is removed here, and a live one never is. The
    finished folder is owner-only (it holds enterprise-level data).

    Only an output of the same kind is ever replaced: an existing ``target`` must be empty
    or hold ``marker``, the file that completes that kind of output (``Folder.MARKER`` of
    :mod:`.folders`, e.g. ``GradeFolder.MARKER``). A user's ``--out .`` in a folder of their
    own files, an export folder, or another stage's output is refused with one line, not
    wiped.

    Raises:
        ParameterError: ``target`` is a file, the working folder (or holds it), or a folder
            that is not an earlier output of this kind.
    """
    target = Path(target)
    check_replaceable(target, marker)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    make_private(tmp)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_replaceable(target: str | Path, marker: str) -> None:
    """Refuse a ``target`` whose replacement would delete what no run of its kind wrote."""
    from workbench.errors import ParameterError

    target = Path(target)
    if not (target.exists() or target.is_symlink()):
        return
    if not target.is_dir() or target.is_symlink():
        raise ParameterError(
            f"output folder {target} is a file or a link: name a new folder, an empty one "
            "or an earlier output of the same stage"
        )
    here = Path.cwd().resolve()
    if target.resolve() in (here, *here.parents):
        raise ParameterError(
            f"output folder {target} is the working folder or holds it: it would be replaced "
            "as a whole; name a new folder below it (e.g. --out out)"
        )
    entries = sorted(p.name for p in target.iterdir())
    if not entries or (target / marker).is_file():
        return
    shown = ", ".join(entries[:3]) + (" …" if len(entries) > 3 else "")
    raise ParameterError(
        f"output folder {target} is not an earlier output of this stage (no {marker}; it "
        f"holds {shown}): it would be replaced as a whole; name a new folder, an empty one "
        "or an earlier output of the same stage"
    )


def _remove_abandoned(target: Path) -> None:
    """Delete temporary siblings of ``target`` whose writing process no longer exists."""
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        pid = stale.name.removeprefix(f".{target.name}.tmp-").split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def write_json(path: str | Path, payload: object) -> None:
    """Write UTF-8 JSON readable by people (Chinese unescaped, sorted keys kept stable)."""
    Path(path).write_text(
        json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
