"""Qualitative overrides (定性判定): each packaged rule, their order, and bad rule files."""

import numpy as np
import pandas as pd
import pytest

from workbench.grading import overrides

CODES4 = ("A", "B", "C", "D")
CODES5 = ("A", "B", "C", "D", "E")

# a clean enterprise: old, nothing on record; each case changes one or two facts
CLEAN = {
    "sv_current": 0,
    "lic_revoked_36m": 0,
    "abn_current": 0,
    "abn_current_other": 0,
    "age_months": 60,
    "cmp_subst_12m": 0,
    "pen_12m": 0,
    "insp_problem_36m": 0,
    "jud_executed_36m": 0,
}


def _apply(cases, model_grades, scheme="national_4", codes=CODES4):
    frame = pd.DataFrame([{**CLEAN, **case} for case in cases])
    return overrides.apply_overrides(
        frame, np.array(model_grades, dtype=object), overrides.load_rules(), scheme, codes
    )


def _moved(out):
    """The rules that moved each grade (None when none did)."""
    return [r if isinstance(r, str) else None for r in out["override_rule"]]


def test_serious_violation_list_and_revoked_licence_give_the_worst_grade():
    out = _apply([{"sv_current": 1}, {"lic_revoked_36m": 2}, {}], ["A", "B", "A"])
    assert out["grade"].tolist() == ["D", "D", "A"]
    assert _moved(out) == ["serious_violation_list", "licence_revoked", None]
    five = _apply([{"sv_current": 1}], ["A"], "five_class", CODES5)
    assert five["grade"].tolist() == ["E"]  # Shenzhen's direct E: the scheme's worst grade


def test_abnormal_list_caps_the_grade_but_never_improves_it():
    out = _apply(
        [
            {"abn_current": 1, "abn_current_other": 1},
            {"abn_current": 1, "abn_current_other": 1},
            {"abn_current": 1, "abn_current_other": 0},
            {"abn_current": 1, "abn_current_other": 0},
        ],
        ["A", "D", "A", "C"],
    )
    assert out["grade"].tolist() == ["C", "D", "B", "C"]
    assert _moved(out) == [
        "abnormal_list_current",
        None,
        "annual_report_abnormal",
        None,
    ]
    five = _apply([{"abn_current": 1, "abn_current_other": 1}], ["A"], "five_class", CODES5)
    assert five["grade"].tolist() == ["D"]  # per-scheme mapping: 较高 is D of five


def test_new_enterprise_is_observed_unless_a_trigger_fires():
    out = _apply(
        [
            {"age_months": 5},  # observed: default B whatever the model said
            {"age_months": 5},
            {"age_months": 5, "cmp_subst_12m": 1},  # a substantiated complaint: model grade
            {"age_months": 5, "pen_12m": 1},
            {"age_months": 12},  # twelve months old: no longer new
        ],
        ["D", "A", "D", "A", "D"],
    )
    assert out["grade"].tolist() == ["B", "B", "D", "A", "D"]
    assert out["observation"].tolist() == [True, True, True, True, False]
    assert _moved(out) == [
        "new_enterprise_observation",
        "new_enterprise_observation",
        None,
        None,
        None,
    ]


def test_worsening_rules_apply_after_the_observation_default():
    out = _apply([{"age_months": 3, "sv_current": 1}], ["A"])
    assert out["grade"].tolist() == ["D"]
    assert _moved(out) == ["new_enterprise_observation;serious_violation_list"]


def test_a_missing_value_never_satisfies_a_condition():
    out = _apply([{"sv_current": np.nan, "age_months": np.nan}], ["A"])
    assert out["grade"].tolist() == ["A"]
    assert not out["observation"].iloc[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: {}", "top-level `rules:` list"),
        ("rules:\n  - description: x\n    set: worst\n    when: {a: {'>': 0}}", "needs an `id`"),
        ("rules:\n  - id: r\n    set: worst\n    when: {a: {'>': 0}}", "Chinese `description`"),
        (
            "rules:\n  - id: r\n    description: 说明\n    when: {a: {'>': 0}}",
            "exactly one action",
        ),
        (
            "rules:\n  - id: r\n    description: 说明\n    set: worst\n    when: {a: {'~': 0}}",
            "unknown operator '~'",
        ),
        (
            "rules:\n  - id: r\n    description: 说明\n    set: best\n    when: {a: {'>': 0}}",
            "only `worst`",
        ),
        (
            "rules:\n  - id: r\n    description: 说明\n    set: worst\n    when: {a: {'>': 'x'}}",
            "must be a number",
        ),
    ],
)
def test_bad_rule_files_name_the_rule_and_field(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(overrides.OverrideError, match=message):
        overrides.load_rules(path)


def test_rules_are_checked_against_the_matrix_and_the_scheme(tmp_path):
    rules = overrides.load_rules()
    frame = pd.DataFrame([CLEAN]).drop(columns=["sv_current"])
    with pytest.raises(overrides.OverrideError, match="serious_violation_list reads indicator"):
        overrides.check_rules(rules, frame.columns, "national_4", CODES4)
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - id: cap\n    description: 说明\n    when: {a: {'>': 0}}\n    at_least: E\n",
        encoding="utf-8",
    )
    with pytest.raises(overrides.OverrideError, match="grade 'E' is not in scheme national_4"):
        overrides.check_rules(overrides.load_rules(path), ["a"], "national_4", CODES4)


def _scheme(scheme_id, codes, labels):
    from workbench.scoring.grades import GradeScheme

    return GradeScheme(scheme_id, scheme_id, tuple(codes), tuple(labels), "shares")


def test_a_default_grade_is_not_used_for_a_scheme_it_was_not_written_for(tmp_path):
    """`default: C` is 信用风险较高 in national_4 but 信用风险一般 in an A–E scheme: a
    bureau's five-grade scheme must be named in every rule that does not set the worst."""
    from workbench.scoring.grades import load_schemes

    schemes = load_schemes()
    rules = overrides.load_rules()
    five = schemes["five_class"]
    bureau_5 = _scheme("bureau_5", five.codes, five.labels)
    with pytest.raises(
        overrides.OverrideError,
        match=r"^override abnormal_list_current: no grade for scheme bureau_5 .*E 信用风险高\); "
        r"its default C \(信用风险较高 in national_4\).*add `bureau_5: <grade>` to its at_least",
    ):
        overrides.check_scheme(rules, bureau_5, schemes)
    # the packaged schemes are all named, or share national_4's codes and labels
    for scheme in schemes.values():
        overrides.check_scheme(rules, scheme, schemes)
    n4 = schemes["national_4"]
    overrides.check_scheme(rules, _scheme("bureau_4", n4.codes, n4.labels), schemes)
    relabelled = _scheme("bureau_4", n4.codes, ("低", "中", "较高", "高"))
    with pytest.raises(overrides.OverrideError, match="no grade for scheme bureau_4"):
        overrides.check_scheme(rules, relabelled, schemes)
    # a file whose defaults were written for the A–E scheme says so
    path = tmp_path / "rules.yaml"
    path.write_text(
        "default_scheme: five_class\nrules:\n  - id: cap\n    description: 说明\n"
        "    when: {a: {'>': 0}}\n    at_least: D\n",
        encoding="utf-8",
    )
    overrides.check_scheme(overrides.load_rules(path), bureau_5, schemes)
    with pytest.raises(overrides.OverrideError, match="override cap: no grade for scheme national"):
        overrides.check_scheme(overrides.load_rules(path), n4, schemes)
