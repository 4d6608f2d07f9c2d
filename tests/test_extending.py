"""docs/EXTENDING.md, followed step by step: a new model joins section 2.2 and appears in its
tables (and no sentence that names the others changes); a model without the method its
section's analysis calls stops before training in one line."""
import dataclasses

import torch
from torch import nn

import homework_cnn_architecture_analysis as task2
import models
from utils import sections
from utils.train import cli


class MyCNN(nn.Module):
    """Step 1: a plain module with what 2.2's feature_maps analysis calls."""

    def __init__(self, width=8, num_classes=10):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(width, num_classes))

    def forward(self, x):
        return self.head(self.conv(x))

    def feature_layers(self):
        return [("conv", self.conv)]


class NoFeatures(MyCNN):
    feature_layers = None  # lacks what feature_maps calls


def add_to_depth_section(monkeypatch, name, cls):
    monkeypatch.setitem(models.MODELS, name, cls)                          # step 2
    section = sections.BY_KEY["2.2"]
    monkeypatch.setitem(sections.BY_KEY, "2.2", dataclasses.replace(      # step 3
        section, order=(*section.order, name)))
    monkeypatch.setattr(task2, "DEPTH_VARIANTS", [*task2.DEPTH_VARIANTS, name])


def run_depth(tmp_path, data, *argv):
    return cli.main("task 2", task2.SECTIONS,
                    ["--no-progress", "--profile", "smoke", "--section", "2.2", "--data-dir",
                     data, "--results-dir", str(tmp_path / "r"), "--plots-dir",
                     str(tmp_path / "p"), *argv], extra_options=task2.options)


def cifar_root(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    images = torch.randint(0, 255, (64, 3, 32, 32), dtype=torch.uint8)
    labels = torch.arange(64) % 10
    torch.save({"train": {"images": images, "labels": labels},
                "test": {"images": images[:32], "labels": labels[:32]}},
               root / "cifar10-packed.pt")
    return str(root)


def test_a_new_model_joins_its_sections_tables_and_no_sentence_about_the_others(
        tmp_path, monkeypatch):
    data = cifar_root(tmp_path)
    assert run_depth(tmp_path, data, "--only", "ShallowCNN", "MediumCNN") == 0
    before = (tmp_path / "r" / "REPORT.md").read_text()
    add_to_depth_section(monkeypatch, "MyCNN", MyCNN)
    assert run_depth(tmp_path, data, "--only", "MyCNN") == 0                # step 4
    after = (tmp_path / "r" / "REPORT.md").read_text()
    rows = [line for line in after.splitlines() if line.startswith("| MyCNN |")]
    assert rows  # in the section's tables
    assert (tmp_path / "p" / "architecture_analysis" / "fmap_MyCNN.png").exists()
    # every line of the report that named the others before is still there, unchanged
    others = [line for line in before.splitlines()
              if ("ShallowCNN" in line or "MediumCNN" in line) and not line.startswith("|")
              and "MyCNN" not in line]
    assert others and all(line in after for line in others)


def test_a_model_without_the_method_its_analysis_calls_stops_before_training(
        tmp_path, monkeypatch, capsys):
    add_to_depth_section(monkeypatch, "NoFeatures", NoFeatures)
    code = run_depth(tmp_path, cifar_root(tmp_path), "--only", "NoFeatures")
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "NoFeatures has no feature_layers()" in err
    assert not (tmp_path / "r" / "depth").exists()  # nothing trained
