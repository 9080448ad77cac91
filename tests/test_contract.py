from pathlib import Path

from workbench import contract

ROOT = Path(__file__).resolve().parents[1]


def test_docs_data_contract_is_generated_from_the_module():
    committed = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert committed == contract.render_markdown(), (
        "docs/data-contract.md is stale: run `workbench contract --write docs/data-contract.md`"
    )


def test_every_shared_contract_table_and_column_is_in_the_module():
    # The tables and required columns of data contract v1 (docs/sources.md; the interface
    # we must not break), written out here independently of the module.
    required = {
        "enterprises": [
            "uscc",
            "name",
            "entity_type",
            "industry_code",
            "region_code",
            "established_on",
            "status",
        ],
        "annual_reports": ["uscc", "report_year"],
        "penalties": ["uscc", "case_id", "decided_on", "severity"],
        "abnormal_list": ["uscc", "listed_on", "reason"],
        "serious_violations": ["uscc", "listed_on", "reason"],
        "inspections": ["uscc", "inspected_on", "result"],
        "complaints": ["uscc", "received_on"],
        "licenses": ["uscc", "license_type", "granted_on"],
        "changes": ["uscc", "changed_on", "item"],
        "judicial": ["uscc", "filed_on", "role"],
        "relations": ["uscc", "related_uscc", "relation"],
        "inspectors": ["inspector_id", "name", "department", "region_code", "active"],
        "conflicts": ["inspector_id", "uscc", "reason"],
    }
    assert set(contract.TABLES) == set(required)
    for table, columns in required.items():
        assert [c.name for c in contract.TABLES[table].required] == columns, table


def test_code_lists_cover_the_shared_codes():
    expected = {
        "entity_type": {
            "company",
            "partnership",
            "sole_proprietorship",
            "branch",
            "foreign_invested",
            "individual_business",
            "cooperative",
        },
        "status": {"active", "revoked", "cancelled", "moved_out"},
        "severity": {"minor", "serious", "grave"},
        "abnormal_reason": {
            "annual_report_not_filed",
            "disclosure_not_fulfilled",
            "false_disclosure",
            "address_unreachable",
        },
        "inspection_result": {
            "no_problem",
            "not_disclosed",
            "false_disclosure",
            "unreachable",
            "refused",
            "corrected",
            "pending",
            "other_violation",
            "not_operating",
            "closed",
            "deregistered",
        },
        "judicial_role": {"defendant", "executed", "dishonest_executed"},
        "relation": {"shareholder", "same_legal_rep", "investment", "branch"},
    }
    for name, codes in expected.items():
        assert set(contract.CODE_LISTS[name].labels) == codes, name
    assert set(contract.RESULT_FOUND_PROBLEM) == expected["inspection_result"]


def test_no_label_maps_to_two_codes():
    for code_list in contract.CODE_LISTS.values():
        seen = {}
        for code, labels in code_list.labels.items():
            for spelling in (code, *labels):
                key = contract.normalise_label(spelling)
                assert seen.setdefault(key, code) == code, (code_list.name, spelling)


def test_division_to_section():
    assert contract.section_of_division(13) == "C"
    assert contract.section_of_division(62) == "H"
    assert contract.section_of_division(52) == "F"
    assert contract.section_of_division(98) is None
