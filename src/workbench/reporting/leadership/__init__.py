"""The monthly leadership report (月度领导报告): one self-contained HTML file and its PDF.

局领导 and the 联席会议 read it offline, in Chinese, printed or on screen, so the file
carries everything inside: CSS inline, charts as inline PNG drawn with a CJK font, no
scripts and no external addresses. It reads the stage outputs of one month (grades,
sampling, evaluation, health — see the file interfaces) and never fails because one
of them is missing: that section says 无数据 and names the file it looked for.

**Aggregates only (仅含汇总数据).** Grades are internal and per-enterprise; this report
shows counts, shares and rates, never one enterprise's grade, score, name or code.
Region × industry cells with fewer than :data:`MIN_CELL` enterprises are suppressed
(a cell of one would reveal that enterprise's grade), and before anything is written
the page is searched for every code and every identifying name in the month's grade
file — a name equal to a common label (an industry, a grade label) identifies no one —
and a hit refuses to write the report (:class:`ReportLeakError`).

Modules: :mod:`.inputs` (what is read), :mod:`.markup` (HTML pieces and charts),
:mod:`.sections` (the six sections); this module assembles the page, checks it, writes
it with its PDF (:mod:`workbench.browser`) and keeps ``reports/index.html``.
"""

from __future__ import annotations

import html
import logging
import os
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from workbench import workspace
from workbench.errors import WorkbenchError
from workbench.reporting.leadership.inputs import (
    MONTH_RE,
    PSI_ALERT,
    PSI_WATCH,
    MonthInputs,
    check_month,
    latest_month,
    load_inputs,
    months_in,
)
from workbench.reporting.leadership.markup import esc, month_zh, num
from workbench.reporting.leadership.sections import (
    MIN_CELL,
    grades_section,
    health_section,
    region_section,
    sampling_section,
    warnings_section,
)
from workbench.reporting.leadership.summary import (
    KeyFigure,
    key_figures,
    key_figures_table,
    overview,
)
from workbench.views import style as report

__all__ = [
    "MIN_CELL",
    "MONTH_RE",
    "PSI_ALERT",
    "PSI_WATCH",
    "REPORT_CSS",
    "SECTIONS",
    "KeyFigure",
    "MonthInputs",
    "ReportLeakError",
    "build_index",
    "build_month_report",
    "check_month",
    "check_no_enterprise_data",
    "common_labels",
    "check_self_contained",
    "key_figures",
    "key_figures_table",
    "latest_month",
    "load_inputs",
    "render_html",
]

log = logging.getLogger(__name__)

#: Enterprise names shorter than this are too generic to search for in the page.
MIN_NAME_LENGTH = 4


SECTIONS = (
    ("overview", "本月概况"),
    ("grades", "信用风险分类结果"),
    ("sampling", "双随机抽查成效"),
    ("region", "区域行业风险"),
    ("health", "模型健康"),
    ("warnings", "预警"),
)


#: Stage notebook renderings listed on the index page, by the word in their file name.
STAGE_TITLES = (
    ("ingest", "数据归集与质量"),
    ("indicator", "指标计算"),
    ("train", "模型训练与验证"),
    ("grade", "信用风险分类"),
    ("verify", "分类结果校验"),
    ("sampl", "双随机抽查计划"),
    ("evaluat", "抽查成效评估"),
    ("health", "模型健康监测"),
    ("report", "月度报告生成"),
)


FONT_STACK = ", ".join(f'"{f}"' for f in report.CJK_FAMILIES) + ", sans-serif"


REPORT_CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: FONTS; color: #1f2933; margin: 0 auto; max-width: 1040px;
       padding: 24px 28px; line-height: 1.6; font-size: 14px; background: #fff; }
header.cover { border-bottom: 3px solid #8b1e1e; margin-bottom: 14px; }
h1 { font-size: 25px; color: #8b1e1e; margin: 0 0 4px; }
h2 { font-size: 20px; border-left: 6px solid #8b1e1e; padding-left: 10px; margin: 30px 0 10px;
     break-after: avoid; page-break-after: avoid; }
h3 { font-size: 16px; margin: 18px 0 6px; break-after: avoid; page-break-after: avoid; }
.meta { color: #52606d; font-size: 12.5px; margin: 2px 0 8px; }
.badge { display: inline-block; border: 1px solid #a8071a; color: #a8071a; border-radius: 3px;
         padding: 0 6px; font-size: 12px; margin-right: 6px; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 10px; margin: 10px 0 14px; }
.card { border: 1px solid #d5dbe1; border-radius: 6px; padding: 8px 12px; background: #f7f9fb;
        break-inside: avoid; page-break-inside: avoid; }
.card .label { color: #52606d; font-size: 12.5px; }
.card .value { font-size: 22px; font-weight: 700; line-height: 1.3; }
.card .note { font-size: 11.5px; color: #7b8794; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin: 8px 0 14px;
        break-inside: avoid; page-break-inside: avoid; }
thead { display: table-header-group; }
tr, img { break-inside: avoid; page-break-inside: avoid; }
p.lead { break-after: avoid; page-break-after: avoid; }
table.narrow { width: auto; min-width: 45%; }
th, td { border: 1px solid #d5dbe1; padding: 4px 6px; text-align: right; }
th { background: #eef2f6; text-align: center; font-weight: 600; }
td.text, th.text { text-align: left; }
td.diag { font-weight: 700; }
figure { margin: 10px 0; text-align: center; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: #52606d; }
.nodata { border: 1px dashed #b0b8c1; background: #fafafa; color: #52606d; padding: 10px 12px; }
.conclusion { background: #fff7e6; border-left: 4px solid #d48806; padding: 8px 12px;
              margin: 8px 0; break-inside: avoid; }
.note { color: #52606d; font-size: 12px; }
.good { color: #237804; } .bad { color: #a8071a; } .warn { color: #ad6800; }
footer { margin-top: 28px; border-top: 1px solid #d5dbe1; color: #7b8794; font-size: 11.5px; }
@media print {
  body { max-width: none; padding: 0; font-size: 12px; }
  h2 { margin-top: 22px; }
  .card .value { font-size: 19px; }
}
""".replace("FONTS", FONT_STACK)


class ReportLeakError(WorkbenchError, RuntimeError):
    """The page would show enterprise-level data (a code or a name from the grade file)."""


def render_html(inputs: MonthInputs) -> str:
    """The whole report page for one month's inputs (self-contained HTML)."""
    builders = {
        "overview": overview,
        "grades": grades_section,
        "sampling": sampling_section,
        "region": region_section,
        "health": health_section,
        "warnings": warnings_section,
    }
    body = "".join(
        f'<section id="{key}"><h2>{title}</h2>{builders[key](inputs)}</section>'
        for key, title in SECTIONS
    )
    title = f"{month_zh(inputs.month)} 企业信用风险分类与双随机抽查月度报告"
    generated = datetime.now().strftime("%Y年%m月%d日 %H:%M")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{REPORT_CSS}</style></head><body>"
        f'<header class="cover"><h1>{esc(title)}</h1><p class="meta">'
        '<span class="badge">内部参考，不对外公开</span><span class="badge">仅含汇总数据</span>'
        f"生成时间：{generated}</p></header>{body}"
        "<footer>本报告由企业信用风险分类工作台自动生成，仅含汇总统计，不含任何单个企业的等级、"
        "评分、名称或代码。检出率指检查发现问题的比例（发现问题户数 ÷ 有结论的检查户数），"
        "不等于违法率。区间为 95% 置信区间：检出率用 Wilson 区间；抽查名录（本计划可抽取的企业）"
        "的检出率估计按入样概率加权（Horvitz–Thompson），把检查结果视为按所在层预期检出率的"
        "随机结果，全数抽取的层同样给出区间；提升倍数的区间用对数尺度的 delta 方法，发现问题过少时"
        f"注明“样本不足”。企业少于 {MIN_CELL} 户的区域行业组合不予显示。</footer>"
        "</body></html>\n"
    )


_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


_DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def check_self_contained(page: str) -> None:
    """Raise ValueError if the page has a script or loads anything from outside."""
    if re.search(r"<script", page, re.IGNORECASE):
        raise ValueError("the report must not contain scripts")
    match = _EXTERNAL.search(page)
    if match:
        raise ValueError(f"the report must not load external resources: {match.group(0)!r}")


def common_labels(inputs: MonthInputs | None = None) -> set[str]:
    """Words the report shows as labels, which a name equal to them does not identify.

    Industry sections (GB/T 4754), configured regions, the grade scheme's codes and
    labels, indicator names, override rules and the report's own fixed text (the page of
    a month without data) — vocabularies, never values of an enterprise-level file. An
    enterprise that happens to be called 住宿和餐饮业 or 信用风险一般 is not named by a page
    that shows the industry or the grade label.
    """
    from workbench import contract
    from workbench.config.regions import region_names

    labels = {zh for zh, _, _ in contract.INDUSTRY_SECTIONS.values()}
    labels |= set(region_names().values())
    labels |= {title for _, title in SECTIONS}
    if inputs is not None:
        labels |= set(inputs.grade_labels.values()) | set(inputs.grade_codes)
        for frame, columns in (
            (inputs.region_industry, ("region_name", "industry_name")),
            (inputs.importance, ("name_zh", "indicator", "dimension")),
            (inputs.psi, ("name", "indicator")),
            (inputs.overrides, ("rule", "description")),
        ):  # never an enterprise-level file (warnings): what it holds could be the leak
            for column in columns:
                if frame is not None and column in frame:
                    labels |= set(frame[column].dropna().astype(str))
        labels.add(_text(render_html(MonthInputs(month=inputs.month))))
    return {label for label in labels if label}


def _text(page: str) -> str:
    """The page's text as a reader sees it: tags and embedded images out, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", _DATA_URI.sub("", page)))


def check_no_enterprise_data(
    page: str, enterprises: pd.DataFrame | None, labels: set[str] | None = None
) -> None:
    """Raise ReportLeakError if a code or an identifying name of the grade file is in the page.

    Every unified social credit code is searched. A name is searched when it can
    identify an enterprise: at least :data:`MIN_NAME_LENGTH` characters, and not equal
    to or part of a common label (``labels``, default :func:`common_labels`) — those
    appear in any report and name no one.
    """
    if enterprises is None or enterprises.empty:
        return
    text = html.unescape(_DATA_URI.sub("", page))
    leaked = []
    if "uscc" in enterprises:
        codes = set(enterprises["uscc"].dropna().astype(str))
        leaked += sorted(codes & set(re.findall(r"[0-9A-Z]{18}", text)))
    if "name" in enterprises:
        common = "\x00".join(common_labels() if labels is None else labels)
        names = {
            n
            for n in enterprises["name"].dropna().astype(str).str.strip()
            if len(n) >= MIN_NAME_LENGTH and n not in common
        }
        for length in sorted({len(n) for n in names}):
            windows = {text[i : i + length] for i in range(len(text) - length + 1)}
            leaked += sorted(n for n in names if len(n) == length and n in windows)
    if leaked:
        raise ReportLeakError(
            f"the report would show {len(leaked)} enterprise code(s)/name(s) of the grade file "
            f"(e.g. {leaked[0]!r}); it must contain aggregates only — not written"
        )


def _write_atomically(target: Path, write) -> None:
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def build_month_report(month: str, *, pdf: bool = True, update_index: bool = True) -> Path:
    """Write reports/<month>/leadership.html (and .pdf), then rebuild the index; return the HTML.

    The new files replace the old ones only once both were produced, so a failure (no
    Chromium, a leak found) leaves last run's report as it was. Without ``pdf`` an older
    PDF is removed rather than left beside an HTML it no longer matches.
    """
    inputs = load_inputs(month)
    page = render_html(inputs)
    check_self_contained(page)
    labels = common_labels(inputs)
    check_no_enterprise_data(page, inputs.enterprises, labels)
    check_no_enterprise_data(page, inputs.warnings, labels)
    folder = workspace.current().report_months.at(month)
    out_dir = folder.path
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, pdf_path = folder.file("html"), folder.file("pdf")
    tmp_html = out_dir / f".leadership.tmp-{os.getpid()}.html"
    tmp_pdf = out_dir / f".leadership.tmp-{os.getpid()}.pdf"
    try:
        tmp_html.write_text(page, encoding="utf-8")
        if pdf:
            from workbench.reporting import browser

            browser.print_pdf(tmp_html, tmp_pdf)
            os.replace(tmp_pdf, pdf_path)
        else:
            pdf_path.unlink(missing_ok=True)
        os.replace(tmp_html, html_path)
    finally:
        tmp_html.unlink(missing_ok=True)
        tmp_pdf.unlink(missing_ok=True)
    log.info("leadership report: %s", html_path)
    if update_index:
        build_index()
    return html_path


def _stage_title(stem: str) -> str:
    lowered = stem.lower().split("-")[-1]
    for word, title in STAGE_TITLES:
        if word in lowered:
            return title
    return stem


def build_index() -> Path:
    """Write reports/index.html: every month's report and stage renderings, newest first."""
    ws = workspace.current()
    root = ws.reports
    root.mkdir(parents=True, exist_ok=True)
    blocks = []
    for month in reversed(months_in(root)):
        folder = ws.report_months.at(month)
        links = []
        if folder.file("html").is_file():
            links.append(f'<li><a href="{month}/leadership.html">月度领导报告（网页）</a>')
            if folder.file("pdf").is_file():
                links[-1] += f' · <a href="{month}/leadership.pdf">PDF 版</a>'
            links[-1] += "</li>"
        for page in reversed(folder.executed_notebooks()):
            failed = page.stem.endswith("-failed")
            title = _stage_title(page.stem.removesuffix("-failed")) + (
                "（运行失败）" if failed else ""
            )
            href = f"{month}/{folder.runs.name}/{page.name}"
            links.append(
                f'<li><a href="{esc(href)}">{esc(title)}</a>'
                f' <span class="note">{esc(page.name)}</span></li>'
            )
        summary = ws.grades.at(month).maybe_json("summary") or {}
        line = ""
        if summary.get("enterprises"):
            line = f'<p class="meta">参与分类市场主体 {num(summary["enterprises"])} 户</p>'
        content = f"<ul>{''.join(links)}</ul>" if links else '<p class="nodata">本月暂无报告。</p>'
        blocks.append(f"<section class='month'><h2>{month_zh(month)}</h2>{line}{content}</section>")
    if not blocks:
        blocks.append('<p class="nodata">尚无任何月份的报告：请先运行 workbench demo。</p>')
    page = (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>企业信用风险分类工作台 · 报告目录</title>"
        f"<style>{REPORT_CSS} section.month {{ break-before: auto; page-break-before: auto; }}"
        "</style></head><body>"
        '<header class="cover"><h1>企业信用风险分类工作台 · 报告目录</h1><p class="meta">'
        '<span class="badge">内部参考，不对外公开</span>按月份倒序排列；各阶段笔记本的网页版由'
        f"工作台自动生成。更新时间：{datetime.now():%Y年%m月%d日 %H:%M}</p></header>"
        f"{''.join(blocks)}</body></html>\n"
    )
    check_self_contained(page)
    target = root / "index.html"
    _write_atomically(target, lambda p: p.write_text(page, encoding="utf-8"))
    return target
