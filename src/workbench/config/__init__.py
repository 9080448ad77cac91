"""The bureau's configuration (配置): package defaults overlaid by the bureau's ``conf/``.

Everything a bureau changes — where its exports land (``workbench.yaml``), the label (``labels.yaml``), the grade schemes
(``grade_schemes.yaml``), the promotion gates (``gates.yaml``), the qualitative override
rules (``overrides.yaml``), the names of its divisions (``regions.yaml``), the departments
it shares grades with (``sharing.yaml``), its sampling
plans (``plans/*.yaml``) and its indicator catalogs (``catalog/*.yaml``) — is a YAML file.
The package ships a default of each under ``config/defaults/``; a bureau puts its own
files in a configuration folder (``$WORKBENCH_CONF``, else ``conf/`` in the workspace) and
a file there replaces the default of the same name. Nobody edits the installed package.

:func:`current` loads the effective settings once per folder state; every stage receives
them, and their :attr:`Settings.fingerprint` goes into every MLflow run, so a run says
which configuration produced it. ``workbench config`` prints where each piece came from.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

CONF_ENV = "WORKBENCH_CONF"
DEFAULTS = Path(str(resources.files("workbench.config") / "defaults"))

#: single-file pieces: name → (file name, what it holds in a bureau's words)
FILES = {
    "settings": ("workbench.yaml", "工作台设置（导出数据所在文件夹）"),
    "labels": ("labels.yaml", "训练标签定义（坏样本事件、观察期）"),
    "grade_schemes": ("grade_schemes.yaml", "分类方案（A–D / A–E、切分点）"),
    "gates": ("gates.yaml", "模型晋级门槛"),
    "overrides": ("overrides.yaml", "定性判定规则"),
    "regions": ("regions.yaml", "行政区划名称"),
    "sharing": ("sharing.yaml", "分类结果共享：部门、范围与可共享字段"),
}
#: folder pieces: name → (folder name, what it holds)
FOLDERS = {
    "plans": ("plans", "双随机抽查计划"),
    "catalogs": ("catalog", "指标目录（通用型 + 专业型）"),
}


@dataclass(frozen=True)
class Source:
    """One piece of configuration and where it came from."""

    piece: str
    path: Path
    origin: str  # "bureau" (the conf folder) or "default" (the package)
    what: str


@dataclass(frozen=True)
class Settings:
    """The effective configuration: one path per piece, bureau files over defaults."""

    folder: Path | None
    files: dict[str, Path] = field(default_factory=dict)
    plans: dict[str, Path] = field(default_factory=dict)
    catalogs: dict[str, Path] = field(default_factory=dict)
    sources: tuple[Source, ...] = ()

    @property
    def labels(self) -> Path:
        """The label definition file."""
        return self.files["labels"]

    @property
    def grade_schemes(self) -> Path:
        """The grade schemes file."""
        return self.files["grade_schemes"]

    @property
    def gates(self) -> Path:
        """The promotion gates file."""
        return self.files["gates"]

    @property
    def overrides(self) -> Path:
        """The qualitative override rules file."""
        return self.files["overrides"]

    @property
    def regions(self) -> Path:
        """The division names file."""
        return self.files["regions"]

    @property
    def sharing(self) -> Path:
        """The departments that receive extracts of the grades (分类结果共享共用)."""
        return self.files["sharing"]

    @property
    def exports(self) -> Path | None:
        """The configured export folder (``exports:`` in ``workbench.yaml``), or None."""
        from workbench import workspace
        from workbench.errors import ConfigError

        path = self.files["settings"]
        data = read_yaml(path, dict, "a mapping with the key 'exports'")
        if set(data) - {"exports"}:
            raise ConfigError(f"{path}: expected a mapping with the key 'exports'")
        value = data.get("exports")
        if not value:
            return None
        folder = Path(str(value)).expanduser()
        return folder if folder.is_absolute() else workspace.repo_root() / folder

    @property
    def fingerprint(self) -> str:
        """SHA-256 (16 hex digits) of every effective file's name and bytes.

        Two runs with the same fingerprint ran with byte-identical configuration.
        """
        digest = hashlib.sha256()
        for source in sorted(self.sources, key=lambda s: s.piece):
            digest.update(source.piece.encode() + b"\0" + source.path.read_bytes() + b"\0")
        return digest.hexdigest()[:16]

    def catalog_file(self, name: str) -> Path | None:
        """The catalog file called ``name`` (``generic``, a pack id), or None."""
        return self.catalogs.get(name)

    def describe(self) -> list[dict[str, str]]:
        """One row per piece: what it is, the file, bureau or default (for printing)."""
        return [
            {"piece": s.piece, "what": s.what, "origin": s.origin, "path": str(s.path)}
            for s in self.sources
        ]


_SHAPES = {dict: "a mapping", list: "a list"}


def read_yaml(
    path: str | Path,
    shape: type | None = dict,
    expected: str = "",
    error: type[Exception] | None = None,
):
    """Read one configuration file safely: the one loader every configuration file goes through.

    Args:
        path: the YAML file.
        shape: the type the top level must have (``dict`` or ``list``); None for any.
            An empty file reads as an empty one of that shape.
        expected: what the top level holds, in the message (default: "a mapping" …).
        error: the :class:`~workbench.errors.WorkbenchError` subclass to raise (a domain's
            own, e.g. ``CatalogError``); default :class:`~workbench.errors.ConfigError`.

    Raises:
        ``error``, on one line naming the file: a file that does not exist, is not UTF-8,
        is not valid YAML (with the line and column), or has the wrong top-level shape.
    """
    import yaml

    from workbench.errors import ConfigError

    error = error or ConfigError
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"configuration file {path} does not exist") from None
    except UnicodeDecodeError as err:
        raise error(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    except OSError as err:
        raise error(f"{path}: cannot be read ({err.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        context = getattr(err, "context", None)
        detail = " ".join(f"{context + ': ' if context else ''}{problem}".split())
        raise error(f"{path}: not valid YAML{where}: {detail}") from None
    if data is None and shape is not None:
        return shape()
    if shape is not None and not isinstance(data, shape):
        what = expected or _SHAPES.get(shape, shape.__name__)
        got = _SHAPES.get(type(data), f"a {type(data).__name__}")
        raise error(f"{path}: expected {what} at the top level, got {got}")
    return data


def conf_dir() -> Path:
    """The bureau's configuration folder (it may not exist: then defaults apply)."""
    env = os.environ.get(CONF_ENV)
    if env:
        return Path(env).expanduser().resolve()
    from workbench import workspace

    return workspace.repo_root() / "conf"


def load_settings(folder: str | Path | None = None) -> Settings:
    """Resolve every piece: the file in ``folder`` (default :func:`conf_dir`), else the default.

    Raises:
        ConfigError: when an explicitly given folder does not exist, or holds a file that
            is not one of the known pieces (a typo would otherwise be ignored silently).
    """
    from workbench.errors import ConfigError

    explicit = folder is not None
    conf = Path(folder).expanduser().resolve() if explicit else conf_dir()
    if explicit and not conf.is_dir():
        raise ConfigError(f"configuration folder {conf} does not exist")
    bureau = conf if conf.is_dir() else None
    if bureau is not None:
        known = {name for name, _ in FILES.values()} | {name for name, _ in FOLDERS.values()}
        stray = sorted(
            p.name for p in bureau.iterdir() if p.name not in known and not p.name.startswith(".")
        )
        if stray:
            raise ConfigError(
                f"{bureau}: unknown configuration file(s) {', '.join(stray)}; allowed: "
                + ", ".join(sorted(known))
            )
    sources: list[Source] = []
    files: dict[str, Path] = {}
    for piece, (name, what) in FILES.items():
        mine = bureau / name if bureau else None
        path = mine if mine is not None and mine.is_file() else DEFAULTS / name
        files[piece] = path
        sources.append(Source(piece, path, "bureau" if path == mine else "default", what))
    collections: dict[str, dict[str, Path]] = {}
    for piece, (name, what) in FOLDERS.items():
        found = {p.stem: p for p in sorted((DEFAULTS / name).glob("*.yaml"))}
        origin = dict.fromkeys(found, "default")
        if bureau is not None and (bureau / name).is_dir():
            for p in sorted((bureau / name).glob("*.yaml")):
                found[p.stem], origin[p.stem] = p, "bureau"
        collections[piece] = found
        for stem, path in found.items():
            sources.append(Source(f"{piece}/{stem}", path, origin[stem], what))
    return Settings(
        folder=bureau,
        files=files,
        plans=collections["plans"],
        catalogs=collections["catalogs"],
        sources=tuple(sources),
    )


_cache: dict[tuple, Settings] = {}


def current() -> Settings:
    """The effective settings for the current configuration folder (cached per state).

    The cache key includes the folder's files and their modification times, so a bureau
    editing a file between two stages gets the new file, never a stale copy.
    """
    conf = conf_dir()
    state: tuple = (str(conf),)
    if conf.is_dir():
        state += tuple(
            (str(p), p.stat().st_mtime_ns) for p in sorted(conf.rglob("*.yaml")) if p.is_file()
        )
    if state not in _cache:
        _cache.clear()
        _cache[state] = load_settings()
    return _cache[state]


def default_file(piece: str) -> Path:
    """The package default of a single-file piece (``extends`` bases, documentation)."""
    return DEFAULTS / FILES[piece][0]


def default_catalog(name: str) -> Path:
    """The package default catalog ``name`` (the base of ``extends: generic``)."""
    return DEFAULTS / FOLDERS["catalogs"][0] / f"{name}.yaml"
