"""The study's two halves touch only through the result files: the report half (reads results,
draws, writes REPORT.md and README's blocks) imports neither torch, `models` nor any module of
the training half, anywhere; the training half and the scripts import no report module at
module level (the CLI loads the report when it draws). Read from the import graph of the source,
so an import inside a function counts too."""
import ast
import os

from tests.conftest import ROOT
from utils.sections import SCRIPTS

REPORT_HALF = {"report", "report_task1", "report_task2", "report_task3", "report_sweep",
               "report_stability", "report_paired", "report_recipe", "report_superseded",
               "reporting", "findings", "departures", "plotting", "readme", "stats", "stability",
               "gradient_flow", "table"}
# What both halves use: the result-file contract, the section registry and what it is made of.
SHARED = {"results", "sections", "spec", "markdown", "reference", "profiles", "predictions",
          "supersede"}


def modules_of_utils():
    return {f[:-3] for f in os.listdir(os.path.join(ROOT, "utils"))
            if f.endswith(".py") and f != "__init__.py"}


def imports(path, module_level_only=False):
    """(top-level package, utils module or None) for every import in the file."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + ([f"{node.module}.{a.name}" for a in node.names]
                                     if node.module == "utils" else [])
        for name in names:
            parts = name.split(".")
            found.add((parts[0], parts[1] if parts[0] == "utils" and len(parts) > 1 else None))
    return found


def test_every_utils_module_belongs_to_one_half_or_to_the_shared_contract():
    training = modules_of_utils() - REPORT_HALF - SHARED
    assert REPORT_HALF | SHARED <= modules_of_utils()
    assert {"runner", "cli", "data", "measure", "launch"} <= training


def test_the_report_half_imports_neither_torch_models_nor_the_training_half():
    training = modules_of_utils() - REPORT_HALF - SHARED
    for module in sorted(REPORT_HALF | SHARED):
        found = imports(os.path.join(ROOT, "utils", f"{module}.py"))
        assert not {pkg for pkg, _ in found} & {"torch", "torchvision", "models"}, module
        assert not {sub for _, sub in found} & training, module


def test_the_training_half_and_the_scripts_import_no_report_module_at_module_level():
    training = modules_of_utils() - REPORT_HALF - SHARED
    paths = [os.path.join(ROOT, "utils", f"{m}.py") for m in sorted(training)] + \
        [os.path.join(ROOT, s) for s in SCRIPTS]
    for path in paths:
        found = imports(path, module_level_only=True)
        assert not {sub for _, sub in found} & REPORT_HALF, path
