"""HTML pieces of the report (版式): escaped text, Chinese number formats, tables, inline charts.

Charts are matplotlib figures drawn with the CJK font (``report.use_cjk_font``) and
embedded as base64 PNG, so the page needs no file beside it and no network.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import contract, workspace
from workbench.config.regions import region_name
from workbench.views import style as report

#: Said where no interval is meaningful (as the evaluation's estimators say it).
INSUFFICIENT = "样本不足"


def esc(value: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(value))


def num(value: object) -> str:
    """A count with thousands separators ('—' when absent)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    return f"{int(round(float(value))):,}"


def expected(value: object) -> str:
    """An expected count ('—' when absent), with one decimal below 10.

    Rounded to whole enterprises, '0.3–4.6' would read '0–5' and a small interval '0–0'.
    """
    if value is None or not np.isfinite(float(value)):
        return "—"
    return f"{float(value):.1f}" if abs(float(value)) < 10 else num(value)


def pct(value: object, digits: int = 1) -> str:
    """A share as a percentage ('—' when absent)."""
    if value is None or not np.isfinite(float(value)):
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def psi_text(value: float | None) -> str:
    """A PSI with three decimals, '< 0.001' below that ('—' when absent).

    A PSI of 0.0004 printed as '0.000' reads as 'no change measured at all'.
    """
    if value is None or not np.isfinite(float(value)):
        return "—"
    return "< 0.001" if abs(float(value)) < 0.001 else f"{float(value):.3f}"


def ci(low: float | None, high: float | None, fmt=pct) -> str:
    """'（95% 区间 a–b）', or nothing when the interval is unknown."""
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return f"（95% 区间 {fmt(low)}–{fmt(high)}）"


def month_zh(month: str) -> str:
    """'2026-10' → '2026年10月'."""
    year, mon = month.split("-")
    return f"{year}年{int(mon)}月"


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(workspace.repo_root()))
    except ValueError:
        return str(path)


def nodata(what: str, *paths: Path) -> str:
    """The notice a section shows when its input is absent, naming what it looked for."""
    looked = "、".join(_rel(p) for p in paths)
    return f'<p class="nodata">无数据：{esc(what)}（未找到 {esc(looked)}）。</p>'


def html_table(frame: pd.DataFrame, text_columns: tuple[str, ...] = ()) -> str:
    """A table of already formatted cells; numbers right-aligned, ``text_columns`` left.

    Printed, a table moves to the next page rather than split (the page's CSS); narrow
    ones do not stretch.
    """
    classes = ["narrow"] if len(frame.columns) <= 2 else []
    head = "".join(
        f'<th class="{"text" if c in text_columns else ""}">{esc(c)}</th>' for c in frame.columns
    )
    rows = []
    for _, row in frame.iterrows():
        cells = "".join(
            f'<td class="{"text" if c in text_columns else ""}">{esc(v)}</td>'
            for c, v in row.items()
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="{" ".join(classes)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def inline_figure(fig, caption: str) -> str:
    """Embed a matplotlib figure as an inline PNG (no file beside the report)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{encoded}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def new_figure(width: float, height: float):
    """A figure and its axes drawing Chinese with the CJK font (no pyplot state)."""
    report.use_cjk_font()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


#: Grade colours from the lowest risk to the highest, per number of grades.
GRADE_PALETTES = {
    2: ("#389e0d", "#a8071a"),
    3: ("#389e0d", "#d48806", "#a8071a"),
    4: ("#389e0d", "#2f7ebc", "#d48806", "#a8071a"),
    5: ("#389e0d", "#2f7ebc", "#d4b106", "#d46b08", "#a8071a"),
}


def grade_colors(n: int) -> list[str]:
    """One colour per grade, green (low risk) to red (high risk)."""
    if n in GRADE_PALETTES:
        return list(GRADE_PALETTES[n])
    from matplotlib import colormaps

    cmap = colormaps["RdYlGn_r"]
    return [cmap(x) for x in np.linspace(0.05, 0.95, n)]


def region_label(code: str, name: str | None = None) -> str:
    """'新华区（410402）': the name given (from the stage's file) or configured, and the code."""
    code = str(code)
    if not name or str(name) == code or str(name) == "nan":
        name = region_name(code)
    return f"{name}（{code}）" if name != code else code


def industry_label(section: str) -> str:
    """'C 制造业' for a GB/T 4754 section letter."""
    entry = contract.INDUSTRY_SECTIONS.get(str(section))
    return f"{section} {entry[0]}" if entry else str(section)
