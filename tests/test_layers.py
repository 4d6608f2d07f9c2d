"""The study's two halves touch only through the result files, and the tree shows it: the
training half is `utils/train/` (writes results), the report half is `utils/report/` (reads them,
draws, writes REPORT.md and README's blocks), and what both use — the result-file contract and
the section registry — is the modules directly under `utils/`. The report half and the contract
import neither torch, `models` nor the training half, anywhere; the training half and the scripts
import no report module at module level (the CLI loads the report when it draws). Read from the
import graph of the source, so an import inside a function counts too."""
import ast
import glob
import os

from tests.conftest import ROOT
from utils.sections import SCRIPTS

FORBIDDEN_IN_REPORT = {"torch", "torchvision", "models"}


def modules_in(folder):
    return sorted(glob.glob(os.path.join(ROOT, folder, "*.py")))


def imports(path, module_level_only=False):
    """Every module name an import in the file names (`from a.b import c` gives a.b and a.b.c)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_utils_holds_the_two_halves_and_the_shared_contract():
    shared = {os.path.basename(p)[:-3] for p in modules_in("utils")} - {"__init__"}
    assert {"results", "sections", "spec"} <= shared
    assert {"runner", "cli", "data", "measure", "launch"} <= \
        {os.path.basename(p)[:-3] for p in modules_in("utils/train")}
    assert {"table", "findings", "plotting", "readme", "build"} <= \
        {os.path.basename(p)[:-3] for p in modules_in("utils/report")}


def test_the_report_half_and_the_contract_import_neither_torch_models_nor_the_training_half():
    for path in modules_in("utils/report") + modules_in("utils"):
        found = imports(path)
        assert not {name.split(".")[0] for name in found} & FORBIDDEN_IN_REPORT, path
        assert not {name for name in found if name.startswith("utils.train")}, path


def test_the_contract_imports_no_report_module():
    for path in modules_in("utils"):
        assert not {n for n in imports(path) if n.startswith("utils.report")}, path


def test_the_training_half_and_the_scripts_import_no_report_module_at_module_level():
    paths = modules_in("utils/train") + [os.path.join(ROOT, s) for s in SCRIPTS]
    for path in paths:
        found = imports(path, module_level_only=True)
        assert not {n for n in found if n.startswith("utils.report")}, path


# stats.py's tests and comparisons (a difference, its p-value, whether it is resolved, Holm's
# correction): what turns numbers into a verdict. Intervals of one accuracy (Wilson, a mean
# over seeds) are descriptive and may be drawn anywhere.
VERDICT_MAKERS = {"accuracy_difference", "mcnemar_difference", "welch_interval", "compare_runs",
                  "compare_accuracies", "mean_p",
                  "holm", "resolved"}


# The rule of which module concludes what: one concluding module per concern. The comparisons
# the whole report shares and their Holm correction: verdicts.py; overfitting: overfitting.py;
# the depth sweep's verdicts: sweep.py; 3.2's ranking and stability: stability_rates.py; 1.2's
# per-class recall: task1.py; 3.1's swap effects and late movement: task3.py. No other module
# turns numbers into a verdict.
CONCLUDING = {"verdicts.py", "stats.py", "overfitting.py", "sweep.py", "stability_rates.py",
              "task1.py", "task3.py"}


def test_every_verdict_of_the_report_is_computed_in_its_concluding_module():
    for path in modules_in("utils/report"):
        if os.path.basename(path) in CONCLUDING:
            continue
        used = {n.rsplit(".", 1)[1] for n in imports(path) if n.startswith("utils.report.stats.")}
        assert not used & VERDICT_MAKERS, (path, used & VERDICT_MAKERS)


def test_the_verdict_module_formats_nothing_and_draws_nothing():
    found = imports(os.path.join(ROOT, "utils/report/verdicts.py"))
    assert not {n for n in found if n.split(".")[0] in {"matplotlib", "seaborn"}}
    assert not {n for n in found if n.startswith(("utils.markdown", "utils.report.common"))}

