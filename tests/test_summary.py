"""The summary speaks in the report-wide verdicts and says what a difference means in test
images; its figure holds every comparison."""
import pytest

from utils.report.summary import draw, in_test_images, verdict_words


def comparison(acc_a, acc_b, low, high, resolved_holm):
    return {"section": "1.1", "a": "A", "b": "B", "acc_a": acc_a, "acc_b": acc_b,
            "difference": acc_a - acc_b, "low": low, "high": high, "over": "seeds",
            "resolved": low > 0 or high < 0, "resolved_holm": resolved_holm}


def test_a_resolved_difference_is_told_as_errors_before_and_after_and_test_images():
    c = comparison(0.9937, 0.9853, 0.0071, 0.0096, True)
    text = in_test_images(c, 10_000)
    # error 1.47 % -> 0.63 %: 2.33x fewer errors, 84 of the 10,000 images
    assert "1.47% → 0.63%" in text and f"{0.0147 / 0.0063:.2f}×" in text
    assert "84 of 10,000" in text


def test_an_unresolved_difference_gets_no_error_ratio():
    assert in_test_images(comparison(0.9939, 0.9937, -0.0010, 0.0015, False), 10_000) == ""


def test_the_verdict_names_the_report_wide_correction():
    assert verdict_words(comparison(0.8, 0.7, 0.01, 0.2, True)).startswith("survives")
    assert "not after" in verdict_words(comparison(0.71, 0.70, 0.003, 0.016, False))
    assert verdict_words(comparison(0.7, 0.7, -0.01, 0.01, False)) == "unresolved"


def test_the_figure_is_drawn_with_one_row_per_comparison(tmp_path):
    import matplotlib.image as mpimg

    rows = [comparison(0.8, 0.7, 0.05, 0.15, True), comparison(0.7, 0.7, -0.01, 0.01, False)]
    (path,) = draw(rows, str(tmp_path))
    height, width, _ = mpimg.imread(path).shape
    assert width > 600 and height == pytest.approx(110 * (0.3 * 2 + 1.4), abs=2)
