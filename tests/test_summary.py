"""The figure of every comparison: one row each."""
import pytest

from utils.report.plotting import comparisons_figure


def comparison(difference, low, high, resolved_holm):
    return {"section": "1.1", "a": "A", "b": "B", "difference": difference, "low": low,
            "high": high, "resolved": low > 0 or high < 0, "resolved_holm": resolved_holm}


def test_the_figure_is_drawn_with_one_row_per_comparison(tmp_path):
    import matplotlib.image as mpimg

    rows = [comparison(0.1, 0.05, 0.15, True), comparison(0.0, -0.01, 0.01, False)]
    (path,) = comparisons_figure(rows, str(tmp_path / "comparisons.png"))
    height, width, _ = mpimg.imread(path).shape
    assert width > 600 and height == pytest.approx(110 * (0.3 * 2 + 1.4), abs=2)
