"""Loader paths and every quarantine reason, on tiny hand-made tables."""

import zipfile

import numpy as np
import pandas as pd
import pytest

from workbench import contract
from workbench.contract import uscc
from workbench.intake import load

SNAPSHOT = "2026-10-31"
CODES = list(
    uscc.make_codes(
        np.array(["1", "2", "3"]), np.array(["410402", "410423", "410482"]), np.array([11, 22, 33])
    )
)
UNREGISTERED = uscc.make_codes(np.array(["1"]), np.array(["410402"]), np.array([44]))[0]


def register_frame(**overrides):
    frame = pd.DataFrame(
        {
            "uscc": CODES,
            "name": ["平顶山市甲公司", "乙餐饮店", "丙合作社"],
            "entity_type": ["company", "individual_business", "cooperative"],
            "industry_code": ["C1431", "H6210", "A0111"],
            "region_code": ["410402", "410423", "410482"],
            "established_on": ["2015-03-01", "2020-07-15", "2019-01-02"],
            "status": ["active", "active", "active"],
        }
    )
    for key, value in overrides.items():
        frame[key] = value
    return frame


def write_register(folder, frame=None):
    (frame if frame is not None else register_frame()).to_csv(
        folder / "enterprises.csv", index=False
    )


# ---------------------------------------------------------------- file formats and headers


def test_csv_utf8_english_headers(tmp_path):
    write_register(tmp_path)
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert result.encoding == "utf-8"
    assert len(result.accepted) == 3 and result.quarantine.empty
    assert list(result.accepted["uscc"]) == CODES
    assert result.accepted["industry_section"].tolist() == ["C", "H", "A"]
    assert result.accepted["industry_division"].tolist() == ["14", "62", "01"]
    assert result.accepted["established_on"].dt.strftime("%Y-%m-%d").tolist() == [
        "2015-03-01",
        "2020-07-15",
        "2019-01-02",
    ]
    assert result.accepted["uscc_check_ok"].all()


def chinese(frame, table):
    """Rename to Chinese headers and replace codes by their Chinese labels."""
    spec = contract.TABLES[table]
    out = frame.copy()
    for col in spec.columns:
        if col.name in out and col.codes:
            out[col.name] = out[col.name].map(contract.CODE_LISTS[col.codes].label)
    return out.rename(columns={c.name: c.zh for c in spec.columns})


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_csv_encodings_with_chinese_headers_and_labels(tmp_path, encoding):
    chinese(register_frame(), "enterprises").to_csv(
        tmp_path / "enterprises.csv", index=False, encoding=encoding
    )
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    # GB18030 text made only of GBK characters is byte-identical to GBK
    assert result.encoding == ("gbk" if encoding in ("gbk", "gb18030") else encoding)
    assert result.quarantine.empty
    assert result.accepted["name"].tolist() == register_frame()["name"].tolist()
    assert result.accepted["entity_type"].tolist() == [
        "company",
        "individual_business",
        "cooperative",
    ]
    assert result.accepted["status"].tolist() == ["active"] * 3


def test_gb18030_only_characters_are_detected(tmp_path):
    frame = register_frame(name=["䶮记商行", "乙", "丙"])  # 䶮 is outside GBK
    with pytest.raises(UnicodeEncodeError):
        "䶮".encode("gbk")
    frame.to_csv(tmp_path / "enterprises.csv", index=False, encoding="gb18030")
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert result.encoding == "gb18030"
    assert result.accepted["name"][0] == "䶮记商行"


def test_undecodable_file_is_a_clear_error(tmp_path):
    (tmp_path / "enterprises.csv").write_bytes(b"uscc,name\n\xff\xfe\xfa\xfb,\x81\n")
    with pytest.raises(load.ContractError, match="UTF-8, GBK or GB18030"):
        load.load_folder(tmp_path, SNAPSHOT)


def test_xlsx_with_real_dates_and_chinese_headers(tmp_path):
    frame = chinese(register_frame(), "enterprises")
    frame["成立日期"] = pd.to_datetime(frame["成立日期"])  # Excel date cells
    frame.to_excel(tmp_path / "市场主体名录.xlsx", index=False)  # Chinese file name too
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert result.file_format == "xlsx" and result.quarantine.empty
    assert result.accepted["established_on"].dt.strftime("%Y-%m-%d").tolist() == [
        "2015-03-01",
        "2020-07-15",
        "2019-01-02",
    ]


def _digit_codes(n):
    """Valid codes made only of digits, each one no double holds exactly."""
    codes = uscc.make_codes(np.array(["1"] * 300), np.array(["220502"] * 300), np.arange(300))
    return [c for c in codes if c.isdigit() and int(float(c)) != int(c)][:n]


def test_xlsx_codes_stored_as_numbers_are_quarantined(tmp_path):
    """Excel keeps numbers as doubles: an 18-digit code in a number cell has lost digits."""
    codes = _digit_codes(3)
    frame = register_frame(uscc=codes).astype({"uscc": object})
    frame["uscc"] = [float(codes[0]), codes[1], float(codes[2])]
    path = tmp_path / "enterprises.xlsx"
    frame.to_excel(path, index=False)
    # a tool other than Excel may write a number cell's every digit: that code is exact
    with zipfile.ZipFile(path) as book:
        parts = {n: book.read(n) for n in book.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    written = f"<v>{float(codes[2])!r}</v>".encode()
    assert written in parts[sheet]
    parts[sheet] = parts[sheet].replace(written, f"<v>{codes[2]}</v>".encode())
    with zipfile.ZipFile(path, "w") as book:
        for name, data in parts.items():
            book.writestr(name, data)
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert reasons_of(result) == {2: "uscc_malformed"}
    detail = result.quarantine[load.DETAIL_COLUMN].iloc[0]
    assert "stored as a number in Excel" in detail and "format the column as text" in detail
    assert "9.12205" in detail  # the value as Excel held it
    assert result.accepted["uscc"].tolist() == codes[1:] and result.check_digit_failures == []
    # its events are not "missing from the register": they name the quarantined row
    (tmp_path / "complaints.csv").write_text(
        f"uscc,received_on\n{codes[0]},2025-01-01\n", encoding="utf-8"
    )
    events = load.load_folder(tmp_path, SNAPSHOT)["complaints"].quarantine
    assert "register row 2 was quarantined: uscc_malformed" in events[load.DETAIL_COLUMN][0]


def test_xlsx_register_of_number_codes_is_refused_in_one_line(tmp_path):
    codes = _digit_codes(3)
    frame = register_frame(uscc=[float(c) for c in codes])
    frame.to_excel(tmp_path / "enterprises.xlsx", index=False)
    one_line_error(tmp_path, "no enterprise passed the checks", "stored as a number in Excel")


def test_parquet_with_typed_columns(tmp_path):
    frame = register_frame()
    frame["established_on"] = pd.to_datetime(frame["established_on"])
    frame["registered_capital"] = [100.0, 3.5, 50.0]
    frame.to_parquet(tmp_path / "enterprises.parquet")
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert result.quarantine.empty
    assert result.accepted["registered_capital"].tolist() == [100.0, 3.5, 50.0]
    assert str(result.accepted["established_on"][0].date()) == "2015-03-01"


@pytest.mark.parametrize(
    "written",
    [
        "2024-03-05",
        "2024/03/05",
        "20240305",
        "2024/3/5",
        "45356",
        "2024年3月5日",
        "2024-03-05 00:00:00",
    ],
)
def test_each_date_format(tmp_path, written):
    write_register(tmp_path)
    pd.DataFrame({"uscc": [CODES[0]], "changed_on": [written], "item": ["住所变更"]}).to_csv(
        tmp_path / "changes.csv", index=False
    )
    result = load.load_folder(tmp_path, SNAPSHOT)["changes"]
    assert result.quarantine.empty, result.quarantine.to_dict("records")
    assert str(result.accepted["changed_on"][0].date()) == "2024-03-05"
    assert result.accepted["item"][0] == "address"


def test_excel_serial_date_in_xlsx_number_cell(tmp_path):
    write_register(tmp_path)
    pd.DataFrame({"uscc": [CODES[0]], "changed_on": [45356], "item": ["legal_rep"]}).to_excel(
        tmp_path / "changes.xlsx", index=False
    )
    result = load.load_folder(tmp_path, SNAPSHOT)["changes"]
    assert str(result.accepted["changed_on"][0].date()) == "2024-03-05"


def test_unknown_extra_columns_are_kept_not_errors(tmp_path):
    write_register(tmp_path, register_frame(备注=["x", "y", "z"]))
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert result.extra_columns == ["备注"]
    assert result.accepted["备注"].tolist() == ["x", "y", "z"]


def test_fullwidth_bracket_headers_match(tmp_path):
    frame = register_frame()
    frame["注册资本（万元）"] = ["1,000", "5", "20"]
    write_register(tmp_path, frame)
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert result.accepted["registered_capital"].tolist() == [1000.0, 5.0, 20.0]


# ------------------------------------------------------------------------------ errors


def test_missing_required_column_names_table_column_and_headers(tmp_path):
    write_register(tmp_path, register_frame().drop(columns=["status"]))
    with pytest.raises(load.ContractError) as err:
        load.load_folder(tmp_path, SNAPSHOT)
    text = str(err.value)
    assert "enterprises (市场主体名录)" in text
    assert "status (登记状态)" in text
    assert "headers found: uscc, name, entity_type, industry_code" in text


def test_missing_register_is_a_clear_error(tmp_path):
    pd.DataFrame({"uscc": [CODES[0]]}).to_csv(tmp_path / "penalties.csv", index=False)
    with pytest.raises(load.ContractError, match="enterprises .*市场主体名录.* is required"):
        load.load_folder(tmp_path, SNAPSHOT)


def test_two_files_for_one_table_is_an_error(tmp_path):
    write_register(tmp_path)
    register_frame().to_parquet(tmp_path / "enterprises.parquet")
    with pytest.raises(load.ContractError, match="several files"):
        load.load_folder(tmp_path, SNAPSHOT)


def test_missing_event_tables_are_absent_not_errors(tmp_path):
    write_register(tmp_path)
    result = load.load_folder(tmp_path, SNAPSHOT)
    assert list(result) == ["enterprises"]


# ------------------------------------------------------------------ quarantine reasons


def reasons_of(result):
    q = result.quarantine
    return dict(zip(q[load.ROW_COLUMN], q[load.REASON_COLUMN], strict=True))


def test_register_quarantine_reasons(tmp_path):
    bad_check = CODES[0][:17] + ("0" if CODES[0][17] != "0" else "1")
    frame = pd.DataFrame(
        {
            "uscc": [
                CODES[0],
                CODES[0],
                "9141040200000001",
                bad_check,
                CODES[1],
                CODES[2],
                "91410402I00000011X",
                UNREGISTERED,
                " " + CODES[1].lower(),
            ],
            "name": ["a", "dup", "short", "flagged", "", "c", "bad char", "e", "dup2"],
            "entity_type": [
                "company",
                "company",
                "company",
                "company",
                "company",
                "法人",
                "company",
                "company",
                "company",
            ],
            "industry_code": [
                "C1431",
                "C1431",
                "C1431",
                "C1431",
                "C1431",
                "C1431",
                "C1431",
                "Z99",
                "C1431",
            ],
            "region_code": [
                "410402",
                "410402",
                "410402",
                "410402",
                "410402",
                "410402",
                "410402",
                "990402",
                "410402",
            ],
            "established_on": [
                "2015-03-01",
                "2015-03-01",
                "2015-03-01",
                "2015-03-01",
                "2015-03-01",
                "2023-02-30",
                "2015-03-01",
                "2015-03-01",
                "2015-03-01",
            ],
            "status": ["active"] * 9,
            "registered_capital": ["10", "10", "10", "10", "10", "-1", "10", "abc", "10"],
        }
    )
    frame.to_csv(tmp_path / "enterprises.csv", index=False)
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert reasons_of(result) == {
        3: "duplicate_uscc",  # second row with CODES[0]: first kept
        4: "uscc_malformed",  # 16 characters
        6: "missing_value",  # empty name (also unknown_code … listed in detail)
        7: "invalid_date",  # 2023-02-30 runs first; 法人 and -1 listed in the detail
        8: "uscc_malformed",  # I is not allowed
        9: "invalid_number",  # capital 'abc'; industry and region also bad
    }
    detail = result.quarantine.set_index(load.ROW_COLUMN)[load.DETAIL_COLUMN]
    assert "第9位" in detail[8] and "'I'" in detail[8]
    assert "'法人'" in detail[7] and "registered_capital='-1'" in detail[7]
    assert "industry_code='Z99'" in detail[9] and "region_code='990402'" in detail[9]
    # the check-digit failure is kept and flagged; the padded lower-case code is accepted
    assert result.check_digit_failures == [bad_check]
    assert set(result.accepted["uscc"]) == {CODES[0], bad_check, CODES[1]}
    assert result.rows_read == 9 and len(result.accepted) + len(result.quarantine) == 9


def test_duplicate_in_register_is_its_own_reason(tmp_path):
    write_register(tmp_path, pd.concat([register_frame(), register_frame().iloc[[1]]]))
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert reasons_of(result) == {5: "duplicate_uscc"}
    assert len(result.accepted) == 3


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"decided_on": "2023-02-30"}, "invalid_date"),
        ({"decided_on": "2026-11-01"}, "date_after_snapshot"),
        ({"fine_amount": "-200"}, "negative_amount"),
        ({"fine_amount": "两百"}, "invalid_number"),
        ({"severity": "特别严重"}, "unknown_code"),
        ({"severity": ""}, "missing_value"),
        ({"uscc": UNREGISTERED}, "uscc_not_registered"),
        ({"uscc": "91410402MA0000000"}, "uscc_malformed"),
        ({"uscc": "WRONGCHECK"}, "uscc_check_digit"),
        ({"case_id": "平市监罚〔2024〕1号"}, "duplicate_key"),
    ],
)
def test_event_quarantine_reason(tmp_path, row, reason):
    write_register(tmp_path)
    bad_check = UNREGISTERED[:17] + ("0" if UNREGISTERED[17] != "0" else "1")
    good = {
        "uscc": CODES[0],
        "case_id": "平市监罚〔2024〕1号",
        "decided_on": "2024-05-06",
        "severity": "一般",
        "fine_amount": "1000",
    }
    bad = {**good, "case_id": "平市监罚〔2024〕2号", **row}
    if bad["uscc"] == "WRONGCHECK":
        bad["uscc"] = bad_check
    pd.DataFrame([good, bad]).to_csv(tmp_path / "penalties.csv", index=False)
    result = load.load_folder(tmp_path, SNAPSHOT)["penalties"]
    assert reasons_of(result) == {3: reason}
    assert len(result.accepted) == 1
    assert result.quarantine[load.DETAIL_COLUMN][0]


@pytest.mark.parametrize(
    ("industry", "region", "reason", "code", "section"),
    [
        ("C1391", "410402", None, "C1391", "C"),
        ("1391", "410402", None, "C1391", "C"),
        ("c 13", "410402", None, "C13", "C"),
        ("F", "410402", None, "F", "F"),
        ("H6210", "４１０４０２", None, "H6210", "H"),  # full-width digits, as a code's are
        ("H6210", "'410402", None, "H6210", "H"),  # Excel's text mark
        ("C6210", "410402", "invalid_industry", None, None),  # 62 is in section H
        ("98", "410402", "invalid_industry", None, None),  # no such division
        ("Z99", "410402", "invalid_industry", None, None),
        ("H6210", "41040", "invalid_region", None, None),
        ("H6210", "990402", "invalid_region", None, None),  # 99 is no province
    ],
)
def test_industry_and_region_codes(tmp_path, industry, region, reason, code, section):
    write_register(
        tmp_path,
        register_frame(
            industry_code=["H6210", industry, "A0111"], region_code=["410402", region, "410482"]
        ),
    )
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    if reason:
        assert reasons_of(result) == {3: reason}
    else:
        assert result.quarantine.empty
        assert result.accepted["industry_code"][1] == code
        assert result.accepted["industry_section"][1] == section
        assert result.accepted["region_code"][1] == "410402"


def test_excel_text_mark_before_a_code_is_stripped(tmp_path):
    write_register(tmp_path, register_frame(uscc=[CODES[0], "'" + CODES[1], " ＇" + CODES[2]]))
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert result.quarantine.empty and result.accepted["uscc"].tolist() == CODES


def test_check_digit_failure_in_register_attributes_events(tmp_path):
    """An early code failing its check stays in the register; its events are attributed."""
    bad_check = CODES[0][:17] + ("0" if CODES[0][17] != "0" else "1")
    write_register(tmp_path, register_frame(uscc=[bad_check, CODES[1], CODES[2]]))
    pd.DataFrame({"uscc": [bad_check], "received_on": ["2025-01-01"]}).to_csv(
        tmp_path / "complaints.csv", index=False
    )
    result = load.load_folder(tmp_path, SNAPSHOT)
    assert result["enterprises"].check_digit_failures == [bad_check]
    assert len(result["complaints"].accepted) == 1 and result["complaints"].attributed == 1


def test_licence_expiry_may_be_in_the_future(tmp_path):
    write_register(tmp_path)
    pd.DataFrame(
        {
            "uscc": [CODES[1]] * 2,
            "license_type": ["食品经营许可", "烟草专卖零售许可"],
            "granted_on": ["2022-01-01"] * 2,
            "expires_on": ["2027-01-01"] * 2,
        }
    ).to_csv(tmp_path / "licenses.csv", index=False)
    result = load.load_folder(tmp_path, SNAPSHOT)["licenses"]
    assert result.quarantine.empty
    # open list: a known label maps to its code, an unknown licence type is kept as written
    assert result.accepted["license_type"].tolist() == ["food_business", "烟草专卖零售许可"]


def test_inspection_found_problem_derived_from_result(tmp_path):
    write_register(tmp_path)
    pd.DataFrame(
        {
            "uscc": [CODES[0]] * 4,
            "inspected_on": ["2025-01-01"] * 4,
            "result": [
                "正常（符合信息公示相关规定）",
                "发现问题经责令已改正",
                "未发现开展本次抽查涉及的经营活动",
                "不予配合检查情节严重",
            ],
        }
    ).to_csv(tmp_path / "inspections.csv", index=False)
    result = load.load_folder(tmp_path, SNAPSHOT)["inspections"]
    assert result.accepted["result"].tolist() == [
        "no_problem",
        "corrected",
        "not_operating",
        "refused",
    ]
    assert result.accepted["found_problem"].tolist() == [False, True, pd.NA, True]


def test_bool_and_unknown_inspector(tmp_path):
    write_register(tmp_path)
    pd.DataFrame(
        {
            "inspector_id": ["P1", "P2"],
            "name": ["张三", "李四"],
            "department": ["执法支队"] * 2,
            "region_code": ["410402"] * 2,
            "active": ["是", "也许"],
        }
    ).to_csv(tmp_path / "inspectors.csv", index=False)
    pd.DataFrame(
        {"inspector_id": ["P1", "P9"], "uscc": [CODES[0]] * 2, "reason": ["亲属", "曾任职"]}
    ).to_csv(tmp_path / "conflicts.csv", index=False)
    result = load.load_folder(tmp_path, SNAPSHOT)
    assert reasons_of(result["inspectors"]) == {3: "invalid_bool"}
    assert reasons_of(result["conflicts"]) == {3: "unknown_inspector"}


def test_official_entity_type_labels_are_mapped_to_codes(tmp_path):
    labels = ["有限责任公司（自然人投资或控股）", "普通合伙企业", "外商投资企业分公司"]
    write_register(tmp_path, register_frame(entity_type=labels))
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert result.quarantine.empty
    assert result.accepted["entity_type"].tolist() == ["company", "partnership", "branch"]


def test_event_of_a_quarantined_register_row_names_that_row(tmp_path):
    """The enterprise is in the file: "not in the register" would send users hunting."""
    write_register(tmp_path, register_frame(entity_type=["company", "法人", "cooperative"]))
    (tmp_path / "complaints.csv").write_text(
        f"uscc,received_on\n{CODES[1]},2025-01-01\n{UNREGISTERED},2025-01-02\n",
        encoding="utf-8",
    )
    result = load.load_folder(tmp_path, SNAPSHOT)["complaints"]
    assert reasons_of(result) == {2: "uscc_not_registered", 3: "uscc_not_registered"}
    detail = result.quarantine[load.DETAIL_COLUMN].tolist()
    assert "register row 3 was quarantined: unknown_code" in detail[0]
    assert "名录第3行已隔离" in detail[0] and "不在市场主体名录中" not in detail[0]
    assert "不在市场主体名录中" in detail[1]


def test_line_with_too_many_fields_is_quarantined(tmp_path):
    write_register(tmp_path)
    (tmp_path / "complaints.csv").write_text(
        f"uscc,received_on\n{CODES[0]},2025-01-01\n{CODES[1]},2025-01-02,extra,fields\n"
        f"{CODES[2]},2025-01-03\n",
        encoding="utf-8",
    )
    result = load.load_folder(tmp_path, SNAPSHOT)["complaints"]
    assert reasons_of(result) == {3: "malformed_line"}
    assert result.rows_read == 3 and len(result.accepted) == 2


def _complaints(folder, lines):
    (folder / "complaints.csv").write_text(
        "uscc,received_on\n" + "".join(line + "\n" for line in lines), encoding="utf-8"
    )


def test_stray_quote_is_one_malformed_line_and_the_rest_is_read(tmp_path):
    """A stray quote must not swallow the lines after it into one quarantined value."""
    write_register(tmp_path)
    days = [f"2025-01-{d:02d}" for d in range(1, 9)]
    lines = [f"{CODES[i % 3]},{day}" for i, day in enumerate(days)]
    lines[2] = '"' + lines[2]  # an unclosed quote on line 4 (row 4)
    _complaints(tmp_path, lines)
    result = load.load_folder(tmp_path, SNAPSHOT)["complaints"]
    assert reasons_of(result) == {4: "malformed_line"}
    detail = result.quarantine[load.DETAIL_COLUMN].iloc[0]
    assert "第4行引号未闭合" in detail and "line 4" in detail and lines[2] in detail
    assert result.rows_read == 8 and len(result.accepted) == 7
    kept = result.accepted["received_on"].dt.strftime("%Y-%m-%d").tolist()
    assert kept == days[:2] + days[3:]


def test_a_stray_quote_over_more_than_the_csv_field_limit(tmp_path):
    """Left open over thousands of lines the quote is still one line set aside, not a failure.

    Python's csv module stops at a field of 131,072 characters; a stray quote early in a
    real file makes a field that long.
    """
    write_register(tmp_path)
    days = [f"2025-01-{d:02d}" for d in range(1, 29)]
    lines = [f"{CODES[i % 3]},{days[i % 28]}" for i in range(8_000)]
    lines[1] = '"' + lines[1]
    _complaints(tmp_path, lines)
    result = load.load_folder(tmp_path, SNAPSHOT)["complaints"]
    assert reasons_of(result) == {3: "malformed_line"}
    assert result.rows_read == 8_000 and len(result.accepted) == 7_999


def test_two_stray_quotes_and_a_real_multiline_value(tmp_path):
    """Each stray quote costs its own line only; a value written over lines stays whole."""
    write_register(tmp_path)
    _complaints(
        tmp_path,
        [
            f'{CODES[0]},"2025-01-01',
            f"{CODES[1]},2025-01-02",
            f'{CODES[2]},2025-01-03"',
            f"{CODES[0]},2025-01-04",
            f'"{CODES[1]},2025-01-05',  # unclosed to the end of the file
        ],
    )
    (tmp_path / "changes.csv").write_text(
        f'uscc,changed_on,item\n{CODES[0]},2024-01-02,"经营范围变更,\n含许可项目"\n'
        f"{CODES[1]},2024-01-03,住所变更\n",
        encoding="utf-8",
    )
    result = load.load_folder(tmp_path, SNAPSHOT)
    complaints = result["complaints"]
    assert {r: w for r, w in reasons_of(complaints).items() if w == "malformed_line"} == {
        2: "malformed_line",
        6: "malformed_line",
    }
    assert complaints.rows_read == 5
    assert CODES[1] in complaints.accepted["uscc"].tolist()
    assert result["changes"].quarantine.empty and result["changes"].rows_read == 2


def test_stray_quote_in_a_file_read_in_batches(tmp_path, monkeypatch):
    """Read in batches, a swallowed record sends the file to the whole-file reader."""
    write_register(tmp_path)
    lines = [f"{CODES[i % 3]},2025-01-{i + 1:02d}" for i in range(6)]
    lines[1] = '"' + lines[1]
    _complaints(tmp_path, lines)
    monkeypatch.setattr(load, "STREAM_BYTES", 0)
    result = load.load_folder(tmp_path, SNAPSHOT, stage=tmp_path)["complaints"]
    assert result.staged is None and reasons_of(result) == {3: "malformed_line"}
    assert len(result.accepted) == 5


def test_every_contract_reason_is_exercised():
    """Guard: a new quarantine reason must come with a test in this module."""
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    missing = [r for r in contract.QUARANTINE_REASONS if f'"{r}"' not in source]
    assert missing == []


def test_header_only_file_and_quoted_values(tmp_path):
    write_register(tmp_path)
    (tmp_path / "penalties.csv").write_text("uscc,case_id,decided_on,severity\n", encoding="utf-8")
    (tmp_path / "changes.csv").write_text(
        f'uscc,changed_on,item\n{CODES[0]},2024-01-02,"住所变更"\n\n'
        f'{CODES[1]},2024-01-03,"经营范围变更,\n含许可项目"\n',
        encoding="utf-8",
    )
    result = load.load_folder(tmp_path, SNAPSHOT)
    assert result["penalties"].rows_read == 0 and result["penalties"].accepted.empty
    changes = result["changes"]
    assert changes.quarantine.empty
    # an open list keeps an unknown item as written, embedded comma and newline included
    assert changes.accepted["item"].tolist() == ["address", "经营范围变更,\n含许可项目"]


# ------------------------------------------------- files that are no table: one clear line


def one_line_error(folder, *fragments):
    """The ContractError loading ``folder``: one line, naming the file, then ``fragments``."""
    with pytest.raises(load.ContractError) as err:
        load.load_folder(folder, SNAPSHOT)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(str(folder / "enterprises."))
    for fragment in fragments:
        assert fragment in text, text
    return text


def test_empty_register_file_is_a_clear_error(tmp_path):
    (tmp_path / "enterprises.csv").write_bytes(b"")
    one_line_error(tmp_path, "enterprises.csv: empty file (0 bytes)", "CSV, an XLSX")


def test_blank_lines_only_is_no_header(tmp_path):
    (tmp_path / "enterprises.csv").write_text("\n  \r\n\n", encoding="utf-8")
    one_line_error(tmp_path, "no header row")


def test_header_only_register_is_an_error(tmp_path):
    register_frame().iloc[:0].to_csv(tmp_path / "enterprises.csv", index=False)
    one_line_error(tmp_path, "市场主体名录", "header but no rows")


def test_register_with_every_row_quarantined_is_an_error(tmp_path):
    write_register(tmp_path, register_frame(uscc=["bad1", "bad2", "bad3"]))
    text = one_line_error(tmp_path, "no enterprise passed the checks", "uscc_malformed 3")
    assert "row 2" in text


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (np.random.default_rng(0).bytes(4096), "(binary content)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "(a PNG image)"),
        (b"PK\x03\x04" + bytes(64), "XLSX workbook? name it .xlsx"),
        ("uscc,name\n".encode("utf-16"), "UTF-16"),
    ],
    ids=["random", "png", "zip", "utf16"],
)
def test_binary_csv_is_a_clear_error(tmp_path, content, what):
    (tmp_path / "enterprises.csv").write_bytes(content)
    one_line_error(tmp_path, "enterprises.csv: not a text CSV", what, "UTF-8/GBK CSV")


def test_dos_end_of_file_mark_is_not_binary(tmp_path):
    text = register_frame().to_csv(index=False, lineterminator="\r\n")
    (tmp_path / "enterprises.csv").write_bytes(text.encode("gbk") + b"\x1a")
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert result.quarantine.empty and result.accepted["uscc"].tolist() == CODES


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        ("enterprises.xlsx", b"uscc,name\n", "not a readable XLSX workbook"),
        ("enterprises.xlsx", b"", "empty file (0 bytes)"),
        ("enterprises.parquet", b"PAR1" + bytes(32), "not a readable Parquet file"),
    ],
    ids=["csv-named-xlsx", "empty-xlsx", "truncated-parquet"],
)
def test_unreadable_xlsx_or_parquet_is_a_clear_error(tmp_path, name, content, what):
    (tmp_path / name).write_bytes(content)
    one_line_error(tmp_path, f"{name}: {what}")


def test_csv_named_xlsx_says_so(tmp_path):
    (tmp_path / "enterprises.xlsx").write_text("uscc,name\n", encoding="utf-8")
    one_line_error(tmp_path, "it holds text — a CSV? name it .csv")


def test_empty_event_file_is_named(tmp_path):
    write_register(tmp_path)
    (tmp_path / "penalties.csv").write_bytes(b"")
    with pytest.raises(load.ContractError, match=r"penalties\.csv: empty file"):
        load.load_folder(tmp_path, SNAPSHOT)


# ---------------------------------------------------------------- workbooks with several sheets


def _workbook(path, sheets: dict):
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)


def test_every_sheet_of_a_table_is_read(tmp_path):
    """Two sheets of enterprises (English and Chinese headers): every row read, none lost."""
    first = register_frame().iloc[:2]
    second = chinese(register_frame().iloc[2:], "enterprises")
    second.loc[:, "成立日期"] = "不是日期"  # one bad row, on the second sheet
    _workbook(tmp_path / "enterprises.xlsx", {"2024年": first, "2025年": second})
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert result.rows_read == 3
    assert result.accepted["uscc"].tolist() == CODES[:2]
    assert result.quarantine[load.ROW_COLUMN].tolist() == ["2025年!2"]
    assert [s["sheet"] for s in result.sheets if s["used"]] == ["2024年", "2025年"]


def test_a_sheet_that_is_not_the_table_is_reported(tmp_path):
    from workbench.intake import quality

    notes = pd.DataFrame({"说明": ["本表由业务系统导出"], "导出人": ["张三"]})
    _workbook(tmp_path / "enterprises.xlsx", {"名录": register_frame(), "说明": notes})
    loaded = load.load_folder(tmp_path, SNAPSHOT)
    result = loaded["enterprises"]
    assert result.rows_read == 3 and result.quarantine.empty
    unused = [s for s in result.sheets if not s["used"]]
    assert [s["sheet"] for s in unused] == ["说明"] and "not table enterprises" in unused[0]["why"]
    report = quality.build_report(loaded, SNAPSHOT, str(tmp_path))
    assert report["unused_sheets"][0]["sheet"] == "说明"
    assert report["tables"]["enterprises"]["sheets"] == result.sheets


def test_a_sheet_with_part_of_the_table_is_refused_by_name(tmp_path):
    broken = register_frame().drop(columns=["status", "region_code"])
    _workbook(tmp_path / "enterprises.xlsx", {"一": register_frame(), "二": broken})
    with pytest.raises(load.ContractError, match=r"sheet '二'.*lacks region_code.*status"):
        load.load_folder(tmp_path, SNAPSHOT)


def test_no_sheet_with_the_table_names_every_sheet(tmp_path):
    a = pd.DataFrame({"甲": [1]})
    b = pd.DataFrame({"乙": [2]})
    _workbook(tmp_path / "enterprises.xlsx", {"A": a, "B": b})
    with pytest.raises(
        load.ContractError, match=r"no sheet has table enterprises.*'A': 甲.*'B': 乙"
    ):
        load.load_folder(tmp_path, SNAPSHOT)


def test_absent_optional_columns_are_recorded(tmp_path):
    write_register(tmp_path)  # no registered_capital, legal_rep_key, … in the file
    result = load.load_folder(tmp_path, SNAPSHOT)["enterprises"]
    assert {"registered_capital", "legal_rep_key", "address"} <= set(result.absent_columns)
    assert "uscc" not in result.absent_columns
