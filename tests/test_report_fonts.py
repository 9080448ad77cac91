import warnings

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402

from workbench.views import style as report  # noqa: E402


def test_chinese_glyphs_render_without_missing_glyph_warnings(tmp_path):
    import matplotlib.pyplot as plt

    family = report.use_cjk_font()
    assert family in report.CJK_FAMILIES
    font_file = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    assert "DejaVu" not in font_file
    fig, ax = plt.subplots()
    ax.set_title("记名率 覆盖率 市场主体名录 行政处罚")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would raise here
        fig.savefig(tmp_path / "zh.png", dpi=50)
    plt.close(fig)
    assert (tmp_path / "zh.png").stat().st_size > 0


def test_the_font_has_the_glyphs_we_print():
    from matplotlib.ft2font import FT2Font

    family = report.use_cjk_font()
    path = font_manager.findfont(font_manager.FontProperties(family=family))
    font = FT2Font(path)
    charmap = font.get_charmap()
    for ch in "记名率覆盖率隔离原因市场主体名录数据质量报告年月日":
        assert ord(ch) in charmap, ch


def test_error_bars_are_never_negative_and_missing_is_zero():
    import numpy as np

    from workbench.views.style import error_bars

    bars = error_bars([0.0, 0.5, np.nan], [1e-17, 0.4, np.nan], [0.2, 0.7, np.nan], scale=100)
    assert bars.shape == (2, 3)
    assert bars[:, 0].tolist() == [0.0, 20.0]  # the bound a rounding error above 0
    assert np.allclose(bars[:, 1], [10.0, 20.0])
    assert bars[:, 2].tolist() == [0.0, 0.0]
