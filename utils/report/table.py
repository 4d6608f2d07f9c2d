"""The results table: every result file of a results folder read exactly once, for the whole
report build (REPORT.md, the plots, the findings, README's blocks).

`Results(results_dir)` loads each section folder of the registry through the result-file
contract (utils/results.py: the schema, one run per name and seed, one recipe per name) and
keeps the runs; report code asks it for a section's runs or the layer study instead of reading
the disk.
"""
import os

from utils.results import load_section, load_study, read_json
from utils.sections import SECTIONS

# Written by utils/train/init_gradients.py (the name is the contract between the two halves).
INIT_RECORD = "init_gradients.json"


class Results:
    def __init__(self, results_dir):
        self.dir = results_dir
        self._runs = {s.folder: load_section(results_dir, s.folder) for s in SECTIONS}
        self._studies = {}

    def section(self, folder):
        """The finished runs of a section folder, ordered by run id (a new list each call)."""
        if folder not in self._runs:  # a folder outside the registry (tests, older layouts)
            self._runs[folder] = load_section(self.dir, folder)
        return list(self._runs[folder])

    def init_gradients(self):
        """{"<section>/<run id>": the gradient at each layer's output at step 0} from the
        folder's init_gradients.json (utils/train/init_gradients.py), or {}."""
        if not hasattr(self, "_init"):
            path = os.path.join(self.dir, INIT_RECORD)
            self._init = read_json(path)["runs"] if os.path.exists(path) else {}
        return self._init

    def study(self, folder):
        """The layer study kept beside a section's runs, or None."""
        if folder not in self._studies:
            self._studies[folder] = load_study(self.dir, folder)
        return self._studies[folder]
