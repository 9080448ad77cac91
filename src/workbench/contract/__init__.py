"""The data contract (数据接口规范) as code: tables, columns, Chinese headers and code lists.

One place that the loaders, the synthetic city, the quality report and the generated
``docs/data-contract.md`` all read, so that the interface cannot drift between them.
Version 1 is the interface agreed with the bureaus (``docs/sources.md``, "Data contract
v1"); additions (extra optional columns, the ``serious_reason`` and ``change_item``
lists) extend it without breaking it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

CONTRACT_VERSION = "1.2"

ColumnKind = Literal[
    "uscc",  # 统一社会信用代码, validated by GB 32100-2015
    "text",  # free text, kept as written (trimmed)
    "code",  # one value of a code list (Chinese label or code accepted)
    "date",  # YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or an Excel date
    "year",  # a four-digit year
    "amount",  # a non-negative number
    "bool",  # 是/否, true/false, 1/0
    "industry",  # GB/T 4754-2017 industry code
    "region",  # GB/T 2260 administrative division code
]


@dataclass(frozen=True)
class CodeList:
    """A closed (``strict``) or open list of codes, each with its Chinese labels.

    ``labels`` maps each canonical code to its Chinese labels; the first label is the one
    written by the workbench, the others are accepted on input (older system wordings).
    In a strict list an unknown value quarantines the row; in an open list (free text
    in the contract, such as licence types) known labels are mapped and the rest kept.
    """

    name: str
    zh: str
    labels: dict[str, tuple[str, ...]]
    strict: bool = True

    def label(self, code: str) -> str:
        """Return the Chinese label the workbench writes for ``code``."""
        return self.labels[code][0]

    def lookup(self) -> dict[str, str]:
        """Map every accepted spelling (code or label, normalised) to its canonical code."""
        table: dict[str, str] = {}
        for code, labels in self.labels.items():
            for spelling in (code, *labels):
                table[normalise_label(spelling)] = code
        return table


@dataclass(frozen=True)
class Column:
    """One column of an input table."""

    name: str
    zh: str
    kind: ColumnKind
    required: bool = False
    codes: str | None = None  # name of the code list for kind == "code"
    future_ok: bool = False  # a date after the snapshot is legitimate (licence expiry)
    aliases: tuple[str, ...] = ()  # further headers seen in exports
    note: str = ""

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header accepted for this column (English, Chinese, aliases)."""
        return (self.name, self.zh, *self.aliases)


@dataclass(frozen=True)
class Table:
    """One input table: a file named after it in the data folder."""

    name: str
    zh: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # natural key: a repeated key quarantines the later rows
    attributed: bool = True  # rows are keyed by an enterprise's uscc
    source: bool = True  # enterprise information (涉企信息): counts in 记名率 and coverage
    note: str = ""
    extra_derived: tuple[str, ...] = field(default=())  # columns the loader adds

    @property
    def required(self) -> tuple[Column, ...]:
        """The required columns."""
        return tuple(c for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name} has no column {name!r}")


def normalise_label(text: str) -> str:
    """Normalise a header or a code label for matching.

    Full-width characters become half-width (NFKC), case is folded and spaces,
    brackets' width and the common separators are ignored, so that
    ``注册资本（万元）``, ``注册资本(万元)`` and ``注册资本 (万元)`` all match.
    """
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s_\-·:：]+", "", text)


# --------------------------------------------------------------------------- code lists

CODE_LISTS: dict[str, CodeList] = {
    cl.name: cl
    for cl in [
        CodeList(
            "entity_type",
            "市场主体类型",
            # Beside the short labels, the registration system's detailed 企业类型 wordings
            # (登记注册类型) that exports carry, each mapped to the contract's code: a
            # branch of any kind is ``branch``; a company with foreign investment is
            # ``foreign_invested``.
            {
                "company": (
                    "公司",
                    "有限责任公司",
                    "股份有限公司",
                    "有限责任公司（自然人投资或控股）",
                    "有限责任公司（自然人独资）",
                    "有限责任公司（自然人投资或控股的法人独资）",
                    "有限责任公司（非自然人投资或控股的法人独资）",
                    "有限责任公司（法人独资）",
                    "有限责任公司（国有独资）",
                    "有限责任公司（国有控股）",
                    "其他有限责任公司",
                    "股份有限公司（非上市、自然人投资或控股）",
                    "股份有限公司（非上市、国有控股）",
                    "股份有限公司（上市、自然人投资或控股）",
                    "股份有限公司（上市、国有控股）",
                    "其他股份有限公司（非上市）",
                    "其他股份有限公司（上市）",
                ),
                "partnership": ("合伙企业", "普通合伙企业", "有限合伙企业", "特殊普通合伙企业"),
                "sole_proprietorship": ("个人独资企业",),
                "branch": (
                    "分支机构",
                    "分公司",
                    "有限责任公司分公司",
                    "股份有限公司分公司",
                    "外商投资企业分公司",
                    "合伙企业分支机构",
                    "个人独资企业分支机构",
                    "农民专业合作社分支机构",
                ),
                "foreign_invested": (
                    "外商投资企业",
                    "外资企业",
                    "有限责任公司（外商投资）",
                    "有限责任公司（外商独资）",
                    "有限责任公司（中外合资）",
                    "有限责任公司（中外合作）",
                    "有限责任公司（外国法人独资）",
                    "有限责任公司（台港澳法人独资）",
                    "有限责任公司（台港澳与境内合资）",
                    "股份有限公司（外商投资、未上市）",
                    "股份有限公司（外商投资、上市）",
                    "中外合资经营企业",
                    "中外合作经营企业",
                    "外商独资企业",
                ),
                "individual_business": ("个体工商户", "个体"),
                "cooperative": ("农民专业合作社", "合作社", "农民专业合作社联合社"),
            },
        ),
        CodeList(
            "status",
            "登记状态",
            {
                "active": ("存续", "在业", "开业", "存续（在营、开业、在册）"),
                "revoked": ("吊销", "吊销，未注销"),
                "cancelled": ("注销",),
                "moved_out": ("迁出",),
            },
        ),
        CodeList(
            "severity",
            "处罚等级",
            {
                "minor": ("一般", "轻微"),
                "serious": ("较重",),
                "grave": ("严重",),
            },
        ),
        CodeList(
            "abnormal_reason",
            "经营异常名录列入原因",
            {
                "annual_report_not_filed": ("未按规定报送年度报告", "未依照规定报送年度报告"),
                "disclosure_not_fulfilled": ("未按责令期限公示有关企业信息",),
                "false_disclosure": (
                    "公示信息隐瞒真实情况、弄虚作假",
                    "公示企业信息隐瞒真实情况、弄虚作假",
                ),
                "address_unreachable": (
                    "通过登记的住所或者经营场所无法联系",
                    "通过登记的住所（经营场所）无法联系",
                ),
            },
        ),
        CodeList(
            "serious_reason",
            "严重违法失信名单列入原因",
            {
                "abnormal_three_years": ("被列入经营异常名录届满3年仍未履行相关义务",),
                "grave_violation": ("因严重违法行为受到较重行政处罚",),
                "false_registration": ("提交虚假材料或者采取其他欺诈手段隐瞒重要事实取得登记",),
                "other": ("其他严重违法失信行为",),
            },
            strict=False,
        ),
        CodeList(
            "inspection_result",
            "检查结果",
            {
                "no_problem": ("未发现问题", "正常（符合信息公示相关规定）", "正常"),
                "not_disclosed": ("未按规定公示应当公示的信息",),
                "false_disclosure": ("公示信息隐瞒真实情况、弄虚作假",),
                "unreachable": (
                    "通过登记的住所（经营场所）无法联系",
                    "通过登记的住所或者经营场所无法联系",
                ),
                "refused": ("不配合检查情节严重", "不予配合检查情节严重"),
                "corrected": ("发现问题已责令改正", "发现问题经责令已改正"),
                "pending": ("发现问题待后续处理",),
                "other_violation": (
                    "违反其他部门相关规定",
                    "违反食品安全相关规定",
                    "违反药品管理相关规定",
                    "违反特种设备安全相关规定",
                    "违反产品质量相关规定",
                ),
                "not_operating": ("未发现开展本次抽查涉及的经营活动",),
                "closed": ("已关闭停业或正在组织清算",),
                "deregistered": ("注销", "被吊销", "被撤销", "迁出", "注销/被吊销/被撤销/迁出"),
            },
        ),
        CodeList(
            "judicial_role",
            "诉讼地位",
            {
                "defendant": ("被告",),
                "executed": ("被执行人",),
                "dishonest_executed": ("失信被执行人",),
            },
        ),
        CodeList(
            "relation",
            "关联类型",
            {
                "shareholder": ("股东",),
                "same_legal_rep": ("同一法定代表人",),
                "investment": ("对外投资",),
                "branch": ("分支机构",),
            },
        ),
        CodeList(
            "license_type",
            "许可类型",
            {
                "food_production": ("食品生产许可",),
                "food_business": ("食品经营许可",),
                "drug_retail": ("药品经营许可", "药品零售许可"),
                "drug_production": ("药品生产许可",),
                "medical_device_business": ("医疗器械经营许可",),
                "special_equipment_use": ("特种设备使用登记",),
                "industrial_product": ("工业产品生产许可",),
            },
            strict=False,
        ),
        CodeList(
            "change_item",
            "变更事项",
            {
                "legal_rep": ("法定代表人变更", "法定代表人"),
                "address": ("住所变更", "住所", "经营场所变更"),
                "name": ("名称变更", "名称"),
                "capital": ("注册资本变更", "注册资本"),
                "scope": ("经营范围变更", "经营范围"),
                "shareholder": ("股东变更", "投资人变更", "股东"),
                "other": ("其他事项变更", "其他"),
            },
            strict=False,
        ),
    ]
}

#: Inspection results that carry a verdict (问题) — the rest leave hit-rate denominators.
RESULT_FOUND_PROBLEM: dict[str, bool | None] = {
    "no_problem": False,
    "not_disclosed": True,
    "false_disclosure": True,
    "unreachable": True,
    "refused": True,
    "corrected": True,
    "pending": True,
    "other_violation": True,
    "not_operating": None,
    "closed": None,
    "deregistered": None,
}

#: Entity type → second character of the USCC (GB 32100-2015, under registration dept 9).
USCC_CATEGORY: dict[str, str] = {
    "company": "1",
    "partnership": "1",
    "sole_proprietorship": "1",
    "branch": "1",
    "foreign_invested": "1",
    "individual_business": "2",
    "cooperative": "3",
}

# ----------------------------------------------------------------- GB/T 4754-2017 sections

#: 门类 (section) → (Chinese name, first division, last division).
INDUSTRY_SECTIONS: dict[str, tuple[str, int, int]] = {
    "A": ("农、林、牧、渔业", 1, 5),
    "B": ("采矿业", 6, 12),
    "C": ("制造业", 13, 43),
    "D": ("电力、热力、燃气及水生产和供应业", 44, 46),
    "E": ("建筑业", 47, 50),
    "F": ("批发和零售业", 51, 52),
    "G": ("交通运输、仓储和邮政业", 53, 60),
    "H": ("住宿和餐饮业", 61, 62),
    "I": ("信息传输、软件和信息技术服务业", 63, 65),
    "J": ("金融业", 66, 69),
    "K": ("房地产业", 70, 70),
    "L": ("租赁和商务服务业", 71, 72),
    "M": ("科学研究和技术服务业", 73, 75),
    "N": ("水利、环境和公共设施管理业", 76, 79),
    "O": ("居民服务、修理和其他服务业", 80, 82),
    "P": ("教育", 83, 83),
    "Q": ("卫生和社会工作", 84, 85),
    "R": ("文化、体育和娱乐业", 86, 90),
    "S": ("公共管理、社会保障和社会组织", 91, 96),
    "T": ("国际组织", 97, 97),
}


def section_of_division(division: int) -> str | None:
    """Return the section letter (门类) of a two-digit GB/T 4754 division, or None."""
    for letter, (_, first, last) in INDUSTRY_SECTIONS.items():
        if first <= division <= last:
            return letter
    return None


#: GB/T 2260 province-level codes (省级), for a plausibility check of region codes.
PROVINCE_CODES: frozenset[str] = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

# --------------------------------------------------------------------------- tables

_U = Column("uscc", "统一社会信用代码", "uscc", required=True, aliases=("社会信用代码", "信用代码"))

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "enterprises",
            "市场主体名录",
            (
                _U,
                Column("name", "企业名称", "text", required=True, aliases=("名称", "主体名称")),
                Column(
                    "entity_type",
                    "市场主体类型",
                    "code",
                    required=True,
                    codes="entity_type",
                    aliases=("主体类型", "企业类型"),
                ),
                Column(
                    "industry_code",
                    "行业代码",
                    "industry",
                    required=True,
                    aliases=("国民经济行业代码", "行业门类代码"),
                ),
                Column(
                    "region_code", "行政区划代码", "region", required=True, aliases=("区划代码",)
                ),
                Column("established_on", "成立日期", "date", required=True),
                Column(
                    "status",
                    "登记状态",
                    "code",
                    required=True,
                    codes="status",
                    aliases=("经营状态",),
                ),
                Column("registered_capital", "注册资本(万元)", "amount", aliases=("注册资本",)),
                Column("status_changed_on", "状态变更日期", "date"),
                Column("legal_rep_key", "法定代表人标识", "text", aliases=("法定代表人",)),
                Column("address", "住所", "text", aliases=("经营场所", "住所(经营场所)")),
            ),
            key=("uscc",),
            attributed=False,
            note="The authoritative register (名录库): every other table is attributed to it.",
            extra_derived=("industry_section", "industry_division", "uscc_check_ok"),
        ),
        Table(
            "annual_reports",
            "年度报告",
            (
                _U,
                Column("report_year", "年报年度", "year", required=True, aliases=("年度",)),
                Column("filed_on", "报送日期", "date", note="empty = not filed (未报送)"),
            ),
            key=("uscc", "report_year"),
        ),
        Table(
            "penalties",
            "行政处罚",
            (
                _U,
                Column(
                    "case_id", "决定书文号", "text", required=True, aliases=("行政处罚决定书文号",)
                ),
                Column(
                    "decided_on",
                    "处罚决定日期",
                    "date",
                    required=True,
                    aliases=("作出处罚决定日期",),
                ),
                Column("severity", "处罚等级", "code", required=True, codes="severity"),
                Column("authority", "处罚机关", "text"),
                Column("violation_type", "违法行为类型", "text"),
                Column("fine_amount", "罚没金额(元)", "amount", aliases=("罚没金额",)),
                Column("repaired_on", "信用修复日期", "date"),
            ),
            key=("case_id",),
        ),
        Table(
            "abnormal_list",
            "经营异常名录",
            (
                _U,
                Column("listed_on", "列入日期", "date", required=True),
                Column(
                    "reason",
                    "列入原因",
                    "code",
                    required=True,
                    codes="abnormal_reason",
                    aliases=("列入经营异常名录原因",),
                ),
                Column("removed_on", "移出日期", "date"),
            ),
        ),
        Table(
            "serious_violations",
            "严重违法失信名单",
            (
                _U,
                Column("listed_on", "列入日期", "date", required=True),
                Column(
                    "reason",
                    "列入原因",
                    "code",
                    required=True,
                    codes="serious_reason",
                    aliases=("列入严重违法失信名单原因",),
                ),
                Column("removed_on", "移出日期", "date"),
            ),
        ),
        Table(
            "inspections",
            "抽查检查结果",
            (
                _U,
                Column(
                    "inspected_on",
                    "检查日期",
                    "date",
                    required=True,
                    aliases=("抽查日期", "检查完成日期"),
                ),
                Column(
                    "result",
                    "检查结果",
                    "code",
                    required=True,
                    codes="inspection_result",
                    aliases=("抽查结果",),
                ),
                Column("plan_id", "抽查计划编号", "text"),
                Column("task_id", "任务编号", "text"),
                Column("item", "抽查事项", "text"),
                Column("method", "检查方式", "text"),
                Column(
                    "found_problem", "是否发现问题", "bool", note="derived from result when absent"
                ),
                Column("repaired_on", "信用修复日期", "date"),
            ),
        ),
        Table(
            "complaints",
            "投诉举报",
            (
                _U,
                Column("received_on", "登记日期", "date", required=True, aliases=("受理日期",)),
                Column("category", "类别", "text", aliases=("投诉举报类别",)),
                Column("substantiated", "是否属实", "bool"),
            ),
        ),
        Table(
            "licenses",
            "行政许可",
            (
                _U,
                Column(
                    "license_type",
                    "许可类型",
                    "code",
                    required=True,
                    codes="license_type",
                    aliases=("许可证类型", "许可文件名称"),
                ),
                Column(
                    "granted_on",
                    "许可日期",
                    "date",
                    required=True,
                    aliases=("许可决定日期", "发证日期"),
                ),
                Column("expires_on", "有效期至", "date", future_ok=True),
                Column("revoked_on", "撤销日期", "date"),
            ),
        ),
        Table(
            "changes",
            "变更登记",
            (
                _U,
                Column("changed_on", "变更日期", "date", required=True),
                Column("item", "变更事项", "code", required=True, codes="change_item"),
            ),
        ),
        Table(
            "judicial",
            "司法涉诉",
            (
                _U,
                Column("filed_on", "立案日期", "date", required=True),
                Column("role", "诉讼地位", "code", required=True, codes="judicial_role"),
                Column("amount", "标的金额(元)", "amount", aliases=("标的金额",)),
            ),
        ),
        Table(
            "relations",
            "关联关系",
            (
                _U,
                Column(
                    "related_uscc",
                    "关联主体代码",
                    "uscc",
                    required=True,
                    note="may name an entity outside this register (another city's)",
                ),
                Column("relation", "关联类型", "code", required=True, codes="relation"),
            ),
            key=("uscc", "related_uscc", "relation"),
        ),
        Table(
            "inspectors",
            "执法检查人员名录库",
            (
                Column("inspector_id", "人员编号", "text", required=True),
                Column("name", "姓名", "text", required=True),
                Column("department", "所属部门", "text", required=True),
                Column("region_code", "所属区划", "region", required=True),
                Column("active", "是否在岗", "bool", required=True),
                Column("items", "可检查事项", "text", note="`;`-separated"),
                Column("cert_no", "执法证号", "text"),
            ),
            key=("inspector_id",),
            attributed=False,
        ),
        Table(
            "conflicts",
            "回避关系",
            (
                Column("inspector_id", "人员编号", "text", required=True),
                _U,
                Column("reason", "回避原因", "text", required=True),
            ),
            key=("inspector_id", "uscc"),
            source=False,
            note="Declared conflicts of interest (回避): internal, not enterprise information.",
        ),
    ]
}

#: Sources of enterprise information (涉企信息) attributed to an enterprise: 记名率 and
#: coverage are computed over these.
EVENT_TABLES: tuple[str, ...] = tuple(
    t for t, spec in TABLES.items() if spec.attributed and spec.source
)

# ----------------------------------------------------------------- quarantine reasons

#: Why a row is quarantined (隔离原因), in the order the checks run: a row is filed
#: under its first failing check; every failing check is listed in its detail.
QUARANTINE_REASONS: dict[str, str] = {
    "malformed_line": (
        "行字段数多于表头或引号未闭合 — a CSV line with more fields than the header, or "
        "whose quote is not closed (the lines after it are read on their own)"
    ),
    "missing_value": "必填项为空 — a required value is empty",
    "uscc_malformed": (
        "统一社会信用代码格式错误 — wrong length or a character outside GB 32100-2015"
    ),
    "uscc_check_digit": (
        "统一社会信用代码校验位错误且名录中无此代码 — check character fails and no "
        "registered enterprise has the code"
    ),
    "uscc_not_registered": "名录中无此市场主体 — a valid code that is not in the register",
    "invalid_date": "日期无法识别或不存在 — unreadable or impossible date (e.g. 2023-02-30)",
    "date_after_snapshot": "日期晚于数据基准日 — a date after the snapshot",
    "negative_amount": "金额为负 — a negative amount",
    "invalid_number": "数值无法识别 — an unreadable number or year",
    "unknown_code": "代码不在代码表中 — a value not in the code list",
    "invalid_industry": "行业代码不符合 GB/T 4754-2017 — not a GB/T 4754-2017 industry code",
    "invalid_region": "行政区划代码不符合 GB/T 2260 — not a GB/T 2260 division code",
    "invalid_bool": "是否值无法识别 — not a yes/no value",
    "unknown_inspector": "人员编号不在执法检查人员名录库 — inspector not in the register",
    "duplicate_uscc": "统一社会信用代码重复 — the register already has this code (first row kept)",
    "duplicate_key": "记录重复 — the table already has a row with this key (first row kept)",
}


def code_label(list_name: str, code: str) -> str:
    """Return the Chinese label of ``code`` in the code list ``list_name``."""
    return CODE_LISTS[list_name].label(code)


# ------------------------------------------------------------------------------ outputs

#: The grade file (grades.parquet / grades.csv): column, 中文, confidential?, note.
#: Confidential columns never reach a public output (the notices' tests check every one).
GRADE_FILE: tuple[tuple[str, str, bool, str], ...] = (
    ("uscc", "统一社会信用代码", False, ""),
    ("name", "企业名称", False, "from the register"),
    ("snapshot", "评级时点", False, "the month's last day"),
    ("entity_type", "市场主体类型", False, ""),
    ("industry_section", "行业门类", False, ""),
    ("region_code", "行政区划代码", False, ""),
    ("score", "信用风险分值", True, "points: higher = lower risk (600 at odds 50:1, PDO 20)"),
    ("pd", "违约概率", True, "probability of a label event within 12 months"),
    ("model_grade", "模型等级", True, "grade from the score alone"),
    ("override_rule", "定性调整规则", True, "`;`-joined ids of the rules that moved the grade"),
    ("grade", "最终等级", True, "the grade acted on"),
    ("observation", "观察期", True, "newly established: observed (触发式监管)"),
    (
        "reason_1",
        "理由一",
        True,
        "indicator, value and points, e.g. `近12个月投诉举报次数 3：-8.1 分`",
    ),
    ("reason_1_points", "理由一分值", True, ""),
    ("reason_2", "理由二", True, ""),
    ("reason_2_points", "理由二分值", True, ""),
    ("reason_3", "理由三", True, ""),
    ("reason_3_points", "理由三分值", True, ""),
    ("model_name", "模型名称", False, "registered model"),
    ("model_version", "模型版本", False, ""),
    ("run_id", "训练运行编号", False, "the MLflow run that trained the model"),
    ("scheme", "等级方案", False, "grade scheme id"),
)
CONFIDENTIAL_GRADE_COLUMNS = tuple(name for name, _, secret, _ in GRADE_FILE if secret)


#: What each table is needed for (which tables are required): the contract document's
#: "Required tables" section and the readiness report's absent-table lines. The label
#: tables are those of the packaged ``labels.yaml`` (a test compares them).
LABEL_TABLES: tuple[str, ...] = ("penalties", "abnormal_list", "serious_violations", "inspections")
NEEDED_FOR: dict[str, str] = {
    "enterprises": "required: nothing is ingested, graded or sampled without the register",
    "annual_reports": "optional: its indicators (ar_*) are unavailable without it",
    "penalties": "needed for training (the label uses it) and its indicators (pen_*)",
    "abnormal_list": "needed for training (the label uses it) and its indicators (abn_*)",
    "serious_violations": "needed for training (the label uses it) and its indicators (sv_*)",
    "inspections": "needed for training (the label uses it) and its indicators (insp_*)",
    "complaints": "optional: its indicators (cmp_*) are unavailable without it",
    "licenses": "optional: its indicators (lic_*) and the professional packs' domains by "
    "licence are unavailable without it",
    "changes": "optional: its indicators (chg_*) are unavailable without it",
    "judicial": "optional: its indicators (jud_*) are unavailable without it",
    "relations": "optional: the relation indicators (rel_*) are unavailable without it",
    "inspectors": "needed for sampling (the inspectors drawn for each task)",
    "conflicts": "optional: without it no declared conflict (回避) excludes an inspector",
}


def render_markdown() -> str:
    """Render the contract as the Markdown of ``docs/data-contract.md``.

    The document is generated, not written by hand, so it cannot drift from this module;
    a test compares the committed file with this output.
    """
    out: list[str] = [
        f"# Data contract v{CONTRACT_VERSION} — 数据接口规范",
        "",
        "<!-- Generated by `workbench contract --write docs/data-contract.md` from "
        "`src/workbench/contract.py`; edit the module, not this file. -->",
        "",
        "What a bureau hands the workbench: **one folder, one file per table**, named after the",
        "table (`enterprises.csv`, `penalties.xlsx`, `inspections.parquet`, …). CSV files may be",
        "UTF-8, UTF-8 with BOM, GBK or GB18030 (detected, never asked). Headers may be the English",
        "names or the Chinese headers below (full-width brackets and spaces are ignored); unknown",
        "extra columns are kept out of the way, not an error. Dates may be written `YYYY-MM-DD`,",
        "`YYYY/MM/DD`, `YYYYMMDD`, or be Excel dates. Coded columns accept the code or any of its",
        "Chinese labels.",
        "",
        "Only `enterprises` is required. A missing event table means *no events of that kind*,",
        "and the data-quality report says so once.",
        "",
        "## Required tables (必需的表)",
        "",
        "What each table is needed for. Grading needs only `enterprises`; training needs at",
        "least one of the tables the label uses (`labels.yaml`; by default "
        + ", ".join(f"`{t}`" for t in LABEL_TABLES)
        + "), and enough history in them for",
        "an embargoed design (`workbench check --data DIR` says how much the export holds);",
        "sampling needs `inspectors`. An indicator whose table is absent is reported",
        "unavailable and the model is built from the others.",
        "",
        "| table | 中文 | needed for |",
        "|---|---|---|",
        *(f"| `{name}` | {TABLES[name].zh} | {NEEDED_FOR[name]} |" for name in TABLES),
        "",
        "## Tables",
        "",
    ]
    for table in TABLES.values():
        out.append(f"### `{table.name}` — {table.zh}")
        out.append("")
        if table.note:
            out += [table.note, ""]
        if table.key:
            out += [
                f"Key: {', '.join(f'`{k}`' for k in table.key)} (a repeated key is quarantined).",
                "",
            ]
        out.append("| column | 中文表头 | kind | required | accepted headers | note |")
        out.append("|---|---|---|---|---|---|")
        for col in table.columns:
            kind = f"code (`{col.codes}`)" if col.codes else col.kind
            note = col.note + (" may lie after the snapshot" if col.future_ok else "")
            aliases = ", ".join(col.aliases) or "—"
            out.append(
                f"| `{col.name}` | {col.zh} | {kind} | {'yes' if col.required else ''} "
                f"| {aliases} | {note.strip()} |"
            )
        if table.extra_derived:
            derived = ", ".join(f"`{c}`" for c in table.extra_derived)
            out += ["", f"The loader adds {derived}."]
        out.append("")
    out += [
        "## Code lists",
        "",
        "A value matches a code or any of its labels, full-width or half-width brackets and "
        "spaces alike; the other labels are those older systems write and the registration "
        "system's detailed 企业类型 wordings (e.g. 有限责任公司（自然人投资或控股） → "
        "`company`, 普通合伙企业 → `partnership`, 外商投资企业分公司 → `branch`: any "
        "branch is `branch`).",
        "",
    ]
    for cl in CODE_LISTS.values():
        kind = (
            "closed: an unknown value is quarantined"
            if cl.strict
            else ("open: known labels are mapped to codes, other values kept as written")
        )
        out += [
            f"### `{cl.name}` — {cl.zh} ({kind})",
            "",
            "| code | 中文 (first label is written) |",
            "|---|---|",
        ]
        for code, labels in cl.labels.items():
            out.append(f"| `{code}` | {' / '.join(labels)} |")
        out.append("")
    out += [
        "### `found_problem` from `result`",
        "",
        "When `found_problem` is absent it is derived from `result`: "
        + "; ".join(
            f"`{r}` → {'no verdict' if v is None else str(v).lower()}"
            for r, v in RESULT_FOUND_PROBLEM.items()
        )
        + ". Results with no verdict leave hit-rate denominators and are reported apart.",
        "",
        "### GB/T 4754-2017 sections (门类)",
        "",
        "`industry_code` is a section letter and/or 2–4 digits (`C1391`, `1391`, `C`); the",
        "section is derived from the division when absent, and a letter that contradicts the",
        "division is an error.",
        "",
        "| section | 门类 | divisions |",
        "|---|---|---|",
    ]
    for letter, (zh, first, last) in INDUSTRY_SECTIONS.items():
        out.append(f"| {letter} | {zh} | {first:02d}–{last:02d} |")
    out += [
        "",
        "`region_code` is six GB/T 2260 digits whose first two name a province-level division,",
        "normalised as the unified social credit code is (below).",
        "",
        "## The unified social credit code (GB 32100-2015)",
        "",
        "18 characters from `0123456789ABCDEFGHJKLMNPQRTUWXY`; input is normalised first",
        "(all whitespace removed, full-width made half-width, letters upper-cased, and a",
        "leading `'` — Excel's mark for a text cell — dropped). A code that Excel stored as a",
        "number has lost its last digits (a double keeps 15): it is quarantined",
        "(`uscc_malformed`), never read as a code. A code of",
        "the wrong length or with a character outside the set is quarantined with a message",
        "naming the position and the character. The 18th character is",
        "`31 − (Σ value(cᵢ)·wᵢ mod 31)` over the first 17 with weights",
        "`1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28` (31 → `0`). A wrong check",
        "character keeps the row in `enterprises` (flagged `uscc_check_ok = false`, counted in",
        "the quality report, since some early codes were issued that way); an event row is",
        "matched against the register, and quarantined only when no registered enterprise has",
        "its code. A code is never repaired by guessing.",
        "",
        "## Quarantine reasons (隔离原因)",
        "",
        "A bad row is never dropped silently: it goes to `quarantine/<table>.csv` (UTF-8 with",
        "BOM) as it was read, preceded by `source_row` (the spreadsheet row number, header =",
        "1), `quarantine_reason` (its first failing check) and `quarantine_detail` (every",
        "failing check, naming column and value), and it is counted in `quality.json`.",
        "Checks run in this order:",
        "",
        "| reason | meaning |",
        "|---|---|",
    ]
    for reason, meaning in QUARANTINE_REASONS.items():
        out.append(f"| `{reason}` | {meaning} |")
    out += [
        "",
        "In `enterprises` a repeated code keeps the first row; in other tables with a key",
        "(see each table) the first row with a key is kept. `relations.related_uscc` must be",
        "well-formed but may name an entity outside the register.",
        "",
        "## 记名率 and coverage",
        "",
        "- **记名率** (attribution rate): share of event rows whose `uscc` names a registered",
        "  enterprise, whatever else is wrong with the row (the 通化 pilot's target is ≥ 80 %, docs/sources.md).",
        "- **Coverage per source**: share of active enterprises with at least one accepted row",
        "  in that table.",
        "",
        "## Feedback folders (回流数据)",
        "",
        "Rows the workbench itself produced since the last export — inspection results of its",
        "own sampling plans, as `inspections` rows carrying `plan_id` and `task_id` — are",
        "handed to ingest as extra folders (`workbench ingest --feedback DIR`). Their event",
        "tables are validated exactly like exports, attributed to the same register and",
        "appended to their tables; rejected rows go to `quarantine/<table>.<folder>.csv` and",
        "the report counts them apart (`feedback`). Registers (`enterprises`, `inspectors`,",
        "`conflicts`) come from the exports only.",
        "",
        "## Outputs: the grade file (内部参考，不对外公开)",
        "",
        "`data/grades/<YYYY-MM>/grades.parquet` and `grades.csv` (UTF-8 with BOM; its first",
        "line is the confidentiality note), one row per graded enterprise. A `manifest.json`",
        "beside them lists the SHA-256 of every file of the month and an HMAC-SHA256",
        "signature (`workbench verify DIR`). Columns marked confidential never reach a",
        "public output.",
        "",
        "| column | 中文 | confidential | note |",
        "|---|---|---|---|",
    ]
    for name, zh, secret, note in GRADE_FILE:
        out.append(f"| `{name}` | {zh} | {'yes' if secret else ''} | {note} |")
    out.append("")
    return "\n".join(out)
