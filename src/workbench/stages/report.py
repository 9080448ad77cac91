"""The report stage (领导报告): the month's leadership report, its PDF, and the index.

Writes ``reports/<YYYY-MM>/leadership.html`` (one self-contained file: inline CSS and
charts, no scripts, no external addresses), prints it to ``leadership.pdf`` with headless
Chromium, and rebuilds ``reports/index.html`` (every month's report and every executed
stage notebook, newest first). Aggregates only: the page is searched for every enterprise
code and name of the month's grade file before it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench import config, workspace
from workbench.errors import NotReadyError
from workbench.stages.registry import option
from workbench.workspace import integrity
from workbench.workspace.folders import check_month


@dataclass(frozen=True)
class Parameters:
    """Parameters of ``workbench report`` (and of ``notebooks/07_report.ipynb``)."""

    month: str = option("", "report month YYYY-MM (default: the latest month with outputs)")
    pdf: bool = option(True, "HTML only: do not print the PDF with Chromium", flag="--no-pdf")


def resolve(params: Parameters, settings: config.Settings | None = None) -> Parameters:
    """The month defaults to the latest month with any stage output; it must be graded."""
    if params.month:
        month = check_month(params.month, "--month")
    else:
        months = workspace.current().output_months()
        if not months:
            raise NotReadyError(
                f"no stage outputs under {workspace.current().data}: run the month's stages first"
            )
        month = months[-1]
    graded = workspace.current().grades.months()
    if month not in graded:  # a report of 无数据 only, listed in the index: refused
        shown = ", ".join(graded[-6:]) if graded else "none"
        raise NotReadyError(
            f"no grades for {month}: the leadership report needs the month's grades "
            f"(graded months: {shown}); run `workbench grade --month {month}` first"
        )
    return Parameters(month, params.pdf)


def run(params: Parameters, settings: config.Settings | None = None) -> dict:
    """Build the month's report and the index (from verified grade folders only)."""
    from workbench.reporting import leadership

    grades = workspace.current().grades
    for used in [m for m in grades.months() if m <= params.month][-12:]:
        integrity.require_intact(grades.at(used).path, used)
    html = leadership.build_month_report(params.month, pdf=params.pdf)
    return _summary(params.month, html)


def read(params: Parameters) -> dict:
    """Where the finished report lies."""
    return _summary(params.month, workspace.current().report_months.at(params.month).file("html"))


def after_notebook(params: Parameters, executed: Path) -> None:
    """Rebuild the index so that it lists the report notebook's own page too."""
    from workbench.reporting import leadership

    leadership.build_index()


def _summary(month: str, html: Path) -> dict:
    pdf = html.with_suffix(".pdf")
    return {
        "month": month,
        "html": str(html),
        "pdf": str(pdf) if pdf.is_file() else None,
        "index": str(workspace.current().reports / "index.html"),
    }


def month(params: Parameters) -> str:
    """The report's month."""
    return params.month


def describe(params: Parameters, summary: dict) -> list[str]:
    """What the CLI prints."""
    lines = [f"leadership report: {summary['html']}"]
    if summary["pdf"]:
        lines.append(f"  PDF: {summary['pdf']}")
    lines.append(f"  every month: {summary['index']} (opens offline)")
    return lines


def cycle_parameters(ctx) -> Parameters:
    """The cycle reports every month."""
    return Parameters(month=ctx.month)
