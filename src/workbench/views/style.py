"""Report styling and rendering (报告): CJK fonts for charts, notebooks rendered to HTML.

Leadership reads Chinese: a chart whose labels fall back to a Latin font shows empty
boxes (豆腐块), so ``use_cjk_font`` refuses to go on without a CJK font rather than
render them. The project's setup installs Debian's ``fonts-noto-cjk``, which also
serves headless Chromium when reports are printed to PDF.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

#: Families tried in order; the first one installed is used.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
)


def use_cjk_font() -> str:
    """Configure matplotlib to draw Chinese with an installed CJK font; return its family.

    Raises:
        RuntimeError: when no CJK font is installed (with the command that installs one).
    """
    import matplotlib
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            matplotlib.rcParams["font.family"] = "sans-serif"
            matplotlib.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
            matplotlib.rcParams["axes.unicode_minus"] = False
            return family
    raise RuntimeError(
        "no CJK font installed, Chinese labels would render as empty boxes; "
        "run ./run setup (or: apt-get install fonts-noto-cjk)"
    )


def escaped_table(frame, formatter=None, *, index: bool = False, **kwargs):
    """A DataFrame as a notebook table in which no value can inject HTML.

    pandas' ``Styler`` writes cell values into the page as they are, so an enterprise
    named ``<script>…`` would run in whoever opens the stage page; every table of the
    notebooks goes through here, which escapes every cell, index label and header.
    ``formatter`` and ``kwargs`` (``precision``, ``na_rep``, ``thousands`` …) are those of
    ``Styler.format``; the index is hidden unless ``index``.
    """
    styler = frame.style.format(None, escape="html", **kwargs)
    if formatter is not None:
        styler = styler.format(formatter, escape="html", **kwargs)
    styler = styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    return styler if index else styler.hide(axis="index")


def render_html(notebook: str | Path, html: str | Path) -> Path:
    """Render an executed notebook to self-contained HTML without code cells."""
    notebook, html = Path(notebook), Path(html)
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "nbconvert",
        "--to",
        "html",
        "--no-input",
        "--no-prompt",
        "--embed-images",
        "--TagRemovePreprocessor.enabled=True",
        "--TagRemovePreprocessor.remove_cell_tags=hide-cell",
        "--TagRemovePreprocessor.remove_all_outputs_tags=hide-output",
        "--output-dir",
        str(html.parent),
        "--output",
        html.stem,
        str(notebook),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return html


def error_bars(value, low, high, scale: float = 1.0):
    """Matplotlib ``yerr`` (2 × n) from a value and its interval: missing → 0, never negative.

    An interval bound computed separately (Wilson, HT) can sit a rounding error on the
    wrong side of the value when the value is 0 or 1; matplotlib refuses a negative
    error bar, and a chart must not fail a month's report for that.
    """
    import numpy as np

    value, low, high = (np.asarray(v, dtype=float) for v in (value, low, high))
    below = np.clip(np.nan_to_num(value - low), 0, None)
    above = np.clip(np.nan_to_num(high - value), 0, None)
    return np.vstack([below, above]) * scale
