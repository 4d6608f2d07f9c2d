"""README's measured numbers are generated from the committed result files, never typed."""
from utils import readme


def test_readme_generated_blocks_match_the_result_files():
    assert readme.main(["--check"]) == 0


def test_render_fills_a_marked_block_and_leaves_prose_alone(tmp_path):
    text = "prose\n<!-- generated:headline -->\nstale\n<!-- /generated:headline -->\nmore\n"
    out = readme.render(text, root=str(tmp_path))
    assert out.startswith("prose\n") and out.endswith("more\n")
    assert "stale" not in out and "No finished runs yet." in out
