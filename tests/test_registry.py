"""The stage registry is the one declaration: the CLI, the cycle, the notebooks and the
README follow it (a fake stage registered here appears in all of them)."""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import papermill
import pytest

from workbench import cli, cycle, workspace
from workbench.stages import registry
from workbench.stages.registry import Stage, option

README = Path(__file__).resolve().parents[1] / "README.md"
CALLS: list[tuple[str, str]] = []


# --------------------------------------------------------------- a fake stage (this module)
@dataclass(frozen=True)
class Parameters:
    """Parameters of the fake stage."""

    month: str = option("", "month YYYY-MM")
    colour: str = option("blue", "a parameter only this stage has")


def resolve(params, settings=None):
    return params


def run(params, settings=None):
    CALLS.append(("run", params.month))
    return {"month": params.month, "colour": params.colour}


def read(params):
    return run(params)


def month(params):
    return params.month


def describe(params, summary):
    return [f"fake stage ran for {summary['month']} in {summary['colour']}"]


def cycle_parameters(ctx):
    CALLS.append(("cycle_parameters", ctx.month))
    return Parameters(month=ctx.month)


FAKE = Stage("fakestage", "假阶段", "a stage declared only in a test", __name__)


# --------------------------------------------------------------------------- the tests
def test_a_registered_stage_appears_in_help_and_runs_from_the_cli(capsys):
    with registry.registered(FAKE, after="health"):
        text = cli.build_parser().format_help()
        assert "fakestage" in text and "假阶段" in text
        with pytest.raises(SystemExit):
            cli.main(["fakestage", "--help"])
        assert "a parameter only this stage has" in capsys.readouterr().out
        assert cli.main(["fakestage", "--month", "2026-09", "--colour", "red"]) == 0
        assert "fake stage ran for 2026-09 in red" in capsys.readouterr().out
    assert "fakestage" not in cli.build_parser().format_help()


def test_every_stage_has_a_cli_option_per_parameter():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for stage in registry.STAGES:
        options = {a.dest for a in sub.choices[stage.name]._actions}
        wanted = {f.name for f in stage.fields() if f.metadata.get("cli", True)}
        assert wanted <= options, stage.name
        assert all(f.metadata["help"] for f in stage.fields()), stage.name


def test_the_command_list_is_printed_once():
    text = cli.build_parser().format_help()
    for stage in registry.STAGES:
        assert len(re.findall(rf"^  {stage.name}\b", text, flags=re.M)) == 1, stage.name


@pytest.mark.parametrize("stage", [s for s in registry.STAGES if s.notebook], ids=lambda s: s.name)
def test_notebook_parameters_are_the_stage_parameters(stage):
    notebook = workspace.notebooks_dir() / stage.notebook
    declared = set(papermill.inspect_notebook(str(notebook)))
    assert declared == stage.notebook_parameters()
    defaults = {name: p["default"] for name, p in papermill.inspect_notebook(str(notebook)).items()}
    for f in stage.fields():  # the notebook's defaults are the CLI's
        assert ast.literal_eval(defaults[f.name]) == f.default, (stage.name, f.name)


def test_the_cycle_runs_what_the_registry_declares(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.setattr(registry, "STAGES", [FAKE])
    CALLS.clear()
    settings = cycle.CycleSettings(
        exports=tmp_path, data_snapshot="2026-10-31", months=("2026-08", "2026-09"), plan="x"
    )
    cycle.run_cycle(settings, echo=lambda line: None)
    assert CALLS == [
        ("cycle_parameters", "2026-08"),
        ("run", "2026-08"),
        ("cycle_parameters", "2026-09"),
        ("run", "2026-09"),
    ]


def test_the_readme_lists_every_stage():
    text = README.read_text(encoding="utf-8")
    for stage in registry.STAGES:
        assert f"| `workbench {stage.name}` | {stage.title} |" in text, stage.name


def _options(parser):
    """(command, action) for every option of every sub-command, stages and tools."""
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        for action in command._actions:
            if action.dest != "help":
                yield name, action


def test_one_vocabulary_for_months_and_days_and_help_everywhere():
    """--month YYYY-MM names a month, --as-of YYYY-MM-DD a day; every option says what it is."""
    found = set()
    for command, action in _options(cli.build_parser()):
        assert action.help and action.help.strip(), (command, action.dest)
        flags = set(action.option_strings)
        assert not flags & {"--snapshot", "--date", "--day"}, (command, flags)
        if "--month" in flags or "--previous" in flags:
            assert action.metavar == "YYYY-MM", (command, flags)
            found.add("month")
        if "--as-of" in flags:
            assert action.metavar == "YYYY-MM-DD", (command, flags)
            found.add("as-of")
    assert found == {"month", "as-of"}
