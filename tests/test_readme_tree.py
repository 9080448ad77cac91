"""The README's architecture tree and the package say the same thing: every module and
sub-package of ``src/workbench`` is listed under its parent, and nothing listed is gone."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "workbench"


def _tree() -> dict[str, str]:
    """Top-level entry → its description (continuation lines included)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Architecture", 1)[1].split("src/workbench/\n", 1)[1].split("```", 1)[0]
    entries: dict[str, str] = {}
    name = None
    for line in block.splitlines():
        head = re.match(r"^  (\S+)\s", line)
        if head:
            name = head.group(1).rstrip("/")
            entries[name] = line[len(head.group(0)) :]
        elif name and line.strip():
            entries[name] += " " + line.strip()
    return entries


def _top_level() -> set[str]:
    names = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    names |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    return names


def test_every_top_level_module_and_package_is_listed_and_nothing_else():
    listed = {name.removesuffix(".py") for name in _tree()}
    assert listed == _top_level()


def test_every_module_of_a_sub_package_is_named_in_its_entry():
    tree = {name.rstrip("/").removesuffix(".py"): text for name, text in _tree().items()}
    missing = []
    for package in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()):
        if package.name == "demo":  # the demo's internals are described as a whole
            continue
        for child in sorted(package.iterdir()):
            stem = child.stem if child.suffix == ".py" else child.name
            is_module = child.suffix == ".py" or (child / "__init__.py").is_file()
            if not is_module or stem == "__init__":
                continue
            if not re.search(rf"\b{re.escape(stem)}\b", tree.get(package.name, "")):
                missing.append(f"{package.name}/{stem}")
    assert not missing, missing


def test_every_repository_path_the_readme_names_exists():
    """A path in backticks (`src/…`, `tests/…`, `docs/…`, …) names a file that is there."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:src|tests|bench|docs|notebooks)/[^`\s]*)`", text))
    missing = []
    for path in sorted(named):
        if "<" in path or "*" in path:  # a pattern, not a file
            continue
        if not (ROOT / path.split("::", 1)[0]).exists():
            missing.append(path)
    assert not missing, missing


def test_every_workbench_import_in_the_readme_resolves():
    """Code the README shows (``from workbench.x import y``) imports as written."""
    import importlib

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    imports = re.findall(r"^\s*from (workbench[\w.]*) import ([\w, ]+)$", text, re.MULTILINE)
    assert imports, "the README shows no workbench import: update this test"
    broken = []
    for module, names in imports:
        loaded = importlib.import_module(module)
        broken += [
            f"{module}.{n.strip()}" for n in names.split(",") if not hasattr(loaded, n.strip())
        ]
    assert not broken
