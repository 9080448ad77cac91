"""Configuration a bureau owns: a conf/ folder changes labels, schemes, regions and plans.

A private workspace gets a ``conf/`` folder with the bureau's own label (a 6-month
horizon), grade schemes (a three-class scheme), gates, division names and a plan of its
own; the test runs the stages and finds each change in their outputs, and the
configuration's fingerprint in the MLflow run.
"""

import shutil

import pandas as pd
import pytest
import yaml

from workbench import cli, config, governance, workspace
from workbench.errors import ConfigError, WorkbenchError
from workbench.workspace import integrity

pytestmark = [
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]

THREE_CLASS = {
    "name": "本局三类（A 低 / B 中 / C 高）",
    "grades": [
        {"code": "A", "label": "风险低"},
        {"code": "B", "label": "风险中"},
        {"code": "C", "label": "风险高"},
    ],
    "method": "shares",
    "shares": [0.6, 0.3, 0.1],
}
RENAMED = "新华区（本局定名）"


def _bureau_conf(conf, city):
    conf.mkdir()
    defaults = config.DEFAULTS
    labels = yaml.safe_load((defaults / "labels.yaml").read_text(encoding="utf-8"))
    labels["horizon_months"] = 6
    (conf / "labels.yaml").write_text(yaml.safe_dump(labels, allow_unicode=True), "utf-8")
    schemes = yaml.safe_load((defaults / "grade_schemes.yaml").read_text(encoding="utf-8"))
    schemes["schemes"] = {"three_class": THREE_CLASS}
    (conf / "grade_schemes.yaml").write_text(yaml.safe_dump(schemes, allow_unicode=True), "utf-8")
    (conf / "gates.yaml").write_text(
        "auc_min: 0.5\nks_min: 0.0\npsi_max: null\ngrades_monotone: false\n"
        "max_missing_share: 1.0\n",
        encoding="utf-8",
    )
    # a scheme of its own: every override states its grade there (README: 本局配置)
    rules = yaml.safe_load((defaults / "overrides.yaml").read_text(encoding="utf-8"))
    for rule in rules["rules"]:
        target = rule.get("at_least") or (rule.get("observe") or {}).get("default_grade")
        if isinstance(target, dict):
            target["three_class"] = "B"
    (conf / "overrides.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), "utf-8")
    regions = yaml.safe_load((defaults / "regions.yaml").read_text(encoding="utf-8"))
    regions["regions"]["410402"] = RENAMED
    (conf / "regions.yaml").write_text(yaml.safe_dump(regions, allow_unicode=True), "utf-8")
    plan = yaml.safe_load((defaults / "plans" / "demo_monthly.yaml").read_text(encoding="utf-8"))
    plan["id"] = "bureau_plan"
    plan["grades"] = {"A": {"ratio": "100%", "triggered_only": True}, "B": "5%", "C": "30%"}
    plan.pop("budget", None)
    (conf / "plans").mkdir()
    (conf / "plans" / "bureau_plan.yaml").write_text(
        yaml.safe_dump(plan, allow_unicode=True), "utf-8"
    )
    (conf / "workbench.yaml").write_text(f"exports: {city}\n", encoding="utf-8")


@pytest.fixture
def bureau_home(clean_city, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv(integrity.KEY_ENV_FILE, str(home / ".workbench" / "signing.key"))
    monkeypatch.delenv(integrity.KEY_ENV, raising=False)
    monkeypatch.delenv(governance.URI_VARIABLE, raising=False)
    monkeypatch.delenv(config.CONF_ENV, raising=False)
    city = tmp_path / "exports"
    shutil.copytree(clean_city, city, ignore=shutil.ignore_patterns("_truth"))
    _bureau_conf(home / "conf", city)
    return home


def test_config_reports_where_each_piece_comes_from(bureau_home, capsys):
    settings = config.current()
    origins = {row["piece"]: row["origin"] for row in settings.describe()}
    assert origins["labels"] == origins["grade_schemes"] == origins["regions"] == "bureau"
    assert origins["overrides"] == "bureau" and origins["plans/bureau_plan"] == "bureau"
    assert origins["sharing"] == "default"
    assert origins["plans/henan_2021"] == "default"
    assert cli.main(["config"]) == 0
    printed = capsys.readouterr().out
    assert settings.fingerprint in printed and str(bureau_home / "conf" / "labels.yaml") in printed
    # a changed file changes the fingerprint (and the cache sees it)
    before = settings.fingerprint
    (bureau_home / "conf" / "overrides.yaml").write_text(
        (config.DEFAULTS / "overrides.yaml").read_text(encoding="utf-8") + "\n# 本局\n",
        encoding="utf-8",
    )
    assert config.current().fingerprint != before


def test_a_stray_file_in_the_conf_folder_is_named(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "label.yaml").write_text("horizon_months: 6\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown configuration file.*label.yaml.*labels.yaml"):
        config.load_settings(conf)


@pytest.mark.slow
def test_bureau_configuration_shows_in_every_output(bureau_home, capsys):
    month = "2026-09"
    assert cli.main(["ingest", "--no-notebook"]) == 0  # the export folder comes from conf/
    assert cli.main(["indicators", "--as-of", "2026-09-30", "--no-notebook"]) == 0
    summary = workspace.current().indicators.at(month).summary()
    assert summary["label"].startswith("基准日后6个月内发生")  # the bureau's label
    assert summary["config_fingerprint"] == config.current().fingerprint

    assert cli.main(["train", "--scheme", "three_class", "--no-notebook"]) == 0
    run = workspace.current().models.at("generic").run()
    assert cli.main(["promote", run["run_id"]]) == 0  # the bureau's lax gates
    from mlflow import MlflowClient

    params = MlflowClient(tracking_uri=governance.tracking_uri()).get_run(run["run_id"]).data.params
    assert params["config_fingerprint"] == config.current().fingerprint

    assert cli.main(["grade", "--month", month, "--no-notebook"]) == 0
    grades = workspace.current().grades.at(month)
    assert grades.summary()["scheme"]["id"] == "three_class"
    assert set(grades.read_grades()["grade"]) <= {"A", "B", "C"}

    assert cli.main(["sample", "bureau_plan", "--month", month, "--no-notebook"]) == 0
    plan = workspace.current().plans.at(month, "bureau_plan")
    assert plan.exists() and set(plan.read_tasks()["grade"]) <= {"A", "B", "C"}

    assert cli.main(["report", "--month", month, "--no-pdf", "--no-notebook"]) == 0
    page = workspace.current().report_months.at(month).file("html").read_text(encoding="utf-8")
    assert RENAMED in page
    assert not pd.isna(run["metrics"]["valid_auc"])


def test_every_packaged_id_has_a_chinese_name_and_a_bureau_id_falls_back(tmp_path, monkeypatch):
    """Leadership reads names, not ids: every package default names its plans, model
    families, schemes and rules in Chinese; a bureau file without one shows its own id."""
    from workbench.config import labels

    monkeypatch.setenv(config.CONF_ENV, str(tmp_path / "absent"))  # package defaults only
    settings = config.current()
    named = {
        **{plan: labels.plan_title(plan) for plan in settings.plans},
        **{family: labels.family_name(family) for family in settings.catalogs},
        **{scheme: labels.scheme_name(scheme) for scheme in _schemes(settings)},
        **{rule["id"]: labels.rule_label(rule["id"]) for rule in _rules(settings)},
    }
    for ident, name in named.items():
        assert name != ident and any("\u4e00" <= ch <= "\u9fff" for ch in name), ident
    assert labels.model_label("generic") == "通用型信用风险评分模型"
    conf = tmp_path / "conf"
    (conf / "plans").mkdir(parents=True)
    plan = yaml.safe_load(settings.plans["demo_monthly"].read_text(encoding="utf-8"))
    plan.pop("title")
    (conf / "plans" / "my_plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    monkeypatch.setenv(config.CONF_ENV, str(conf))
    assert labels.plan_title("my_plan") == "my_plan"  # the bureau's own word, never blank
    assert labels.plan_title("my_plan", "本局月度计划") == "本局月度计划"  # as recorded at the draw
    assert labels.family_name("no_such_family") == "no_such_family"


def _schemes(settings) -> list[str]:
    return list(yaml.safe_load(settings.grade_schemes.read_text(encoding="utf-8"))["schemes"])


def _rules(settings) -> list[dict]:
    return yaml.safe_load(settings.overrides.read_text(encoding="utf-8"))["rules"]


#: every single-file piece → the loader its stage reads it with
def _loaders():
    from workbench.config.regions import region_names
    from workbench.governance.gates import load_gates
    from workbench.grading.overrides import load_rules
    from workbench.scoring.grades import load_schemes
    from workbench.scoring.labels import load_label_definition
    from workbench.sharing.policy import load_policy

    return {
        "workbench.yaml": lambda path: config.load_settings(path.parent).exports,
        "labels.yaml": load_label_definition,
        "grade_schemes.yaml": load_schemes,
        "gates.yaml": load_gates,
        "overrides.yaml": load_rules,
        "regions.yaml": lambda path: region_names(str(path)),
        "sharing.yaml": load_policy,
    }


BROKEN = {
    "invalid": ("schemes:\n  a: [1,\n  b: 2\n", r"not valid YAML at line \d+, column \d+"),
    "list": ("- a\n- b\n", "expected a mapping.* at the top level, got a list"),
    "scalar": ("just text\n", "expected a mapping.* at the top level, got a str"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
@pytest.mark.parametrize("name", [name for name, _ in config.FILES.values()])
def test_a_broken_configuration_file_is_one_config_error_naming_it(tmp_path, name, case):
    text, message = BROKEN[case]
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / name).write_text(text, encoding="utf-8")
    with pytest.raises(WorkbenchError, match=message) as caught:
        _loaders()[name](conf / name)
    assert str(conf / name) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("name", [name for name, _ in config.FILES.values()])
def test_workbench_config_checks_every_file_it_lists(tmp_path, capsys, name):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / name).write_text("a: [1,\n", encoding="utf-8")
    (conf / "plans").mkdir()
    (conf / "plans" / "mine.yaml").write_text("- not a plan\n", encoding="utf-8")
    assert cli.main(["config", "--conf", str(conf)]) == 2
    captured = capsys.readouterr()
    errors = captured.err.splitlines()
    assert "Traceback" not in captured.err and len(errors) == 2, captured.err
    assert errors[0].startswith(f"workbench config: error: {conf / name}: not valid YAML at line")
    assert str(conf / "plans" / "mine.yaml") in errors[1] and "got a list" in errors[1]
    assert "INVALID" in captured.out


def test_workbench_config_of_the_packaged_defaults_passes(tmp_path, capsys):
    conf = tmp_path / "conf"
    conf.mkdir()
    assert cli.main(["config", "--conf", str(conf)]) == 0
    assert capsys.readouterr().err == ""


def test_the_configuration_loader_names_a_missing_or_non_utf8_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        config.read_yaml(tmp_path / "absent.yaml")
    (tmp_path / "gbk.yaml").write_bytes("地区: 新华区\n".encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        config.read_yaml(tmp_path / "gbk.yaml")
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    assert config.read_yaml(tmp_path / "empty.yaml") == {}


def test_a_stage_reading_a_broken_file_ends_with_one_line(tmp_path, monkeypatch, capsys):
    """A stage meets the broken file as one line naming it (the loaders: test above)."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "workbench.yaml").write_text("exports: a: b\n", encoding="utf-8")
    monkeypatch.setenv(config.CONF_ENV, str(conf))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    assert cli.main(["ingest"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert str(conf / "workbench.yaml") in err


@pytest.mark.parametrize("shares", ["3", "[0.5, half]", "'0.5,0.5'"])
def test_a_scheme_whose_numbers_are_not_a_list_is_one_line(tmp_path, capsys, shares):
    """``shares: 3`` was a TypeError from inside the loader; now the field is named."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "grade_schemes.yaml").write_text(
        "schemes:\n  two:\n    method: shares\n"
        f"    shares: {shares}\n    grades: [{{code: A}}, {{code: B}}]\n",
        encoding="utf-8",
    )
    assert cli.main(["config", "--conf", str(conf)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert "scheme two: field 'shares' must be a list of numbers" in err


def test_a_catalog_whose_indicators_are_not_a_list_is_one_line(tmp_path):
    from workbench.indicators.catalog import CatalogError, load_catalog

    (tmp_path / "generic.yaml").write_text("indicators: 3\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="field 'indicators' must be a list"):
        load_catalog(tmp_path / "generic.yaml")
