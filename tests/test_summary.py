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


def test_the_comparisons_figure_keeps_small_differences_on_a_linear_axis(monkeypatch, tmp_path):
    import math

    import matplotlib.pyplot as plt

    from utils.report import plotting

    kept = []
    monkeypatch.setattr(plotting, "_save", lambda fig, path: kept.append(fig) or path)

    def row(a, d, section="3.1-paired", **more):
        return {"section": section, "a": a, "b": "StandardCNN", "difference": d,
                "low": d - 0.001, "high": d + 0.001, "resolved": False, "resolved_holm": False,
                **more}

    def labels():
        return {t.get_text() for t in kept[-1].axes[0].get_yticklabels()}
    # one section, every interval inside ±0.01: a linear axis, rows named without the section
    plotting.comparisons_figure([row("A", 0.002), row("B", -0.001)], str(tmp_path / "a.png"))
    assert kept[-1].axes[0].get_xscale() == "linear"
    assert labels() == {"A − StandardCNN", "B − StandardCNN"}
    # a wide difference from another section: symlog, and each row says its section
    plotting.comparisons_figure([row("A", 0.002), row("C", 0.2, "1.1")], str(tmp_path / "b.png"))
    assert kept[-1].axes[0].get_xscale() == "symlog"
    assert labels() == {"3.1-paired  A − StandardCNN", "1.1  C − StandardCNN"}
    # rows with no number at all (too few seeds, no difference) draw without failing
    nan = math.nan
    assert plotting.comparisons_figure([row("D", nan, too_few=True, low=nan, high=nan)],
                                       str(tmp_path / "c.png")) == [str(tmp_path / "c.png")]
    assert plotting.comparisons_figure([], str(tmp_path / "d.png")) == []
    for fig in kept:
        plt.close(fig)
