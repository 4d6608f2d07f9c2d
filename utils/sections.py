"""The study's sections, in one place: the scripts, the report and README's tables all read them.

A section is what `--section` names (its key), the folder its result JSON go to under the
results directory (`RunSpec.section` holds this folder), the folder of its plots, the label
tables give it, the script that declares its runs, and the order its models appear in.
`kind` says how its test numbers count: "final" runs answer the assignment (headline and
targets), "recipe" runs are scored on a validation split to choose a final recipe, "study" runs
are the further experiments (depth sweep, stability test, paired comparison).
"""
from dataclasses import dataclass

TASK1 = "homework_cnn_vs_fc_comparison.py"
TASK2 = "homework_cnn_architecture_analysis.py"
TASK3 = "homework_custom_layers_experiments.py"


@dataclass(frozen=True)
class Section:
    key: str
    folder: str
    plots: str
    label: str
    script: str
    order: tuple = ()
    kind: str = "final"


# In the order the timing table lists them: each recipe just before the runs it chose for.
SECTIONS = [
    Section("1.1-recipe", "mnist_recipe", "mnist_comparison", "1.1-recipe (validation)", TASK1,
            kind="recipe"),
    Section("1.1", "mnist_comparison", "mnist_comparison", "1.1 MNIST", TASK1,
            ("FCNet", "SimpleCNN", "ResNetLike")),
    Section("1.2-recipe", "cifar_recipe", "cifar_comparison", "1.2-recipe (validation)", TASK1,
            kind="recipe"),
    Section("1.2", "cifar_comparison", "cifar_comparison", "1.2 CIFAR-10", TASK1,
            ("DeepFCNet", "ResNetCIFAR", "ResNetCIFARRegularized")),
    Section("2.1", "kernel_size", "architecture_analysis", "2.1 kernel size", TASK2,
            ("CNN_3x3", "CNN_5x5", "CNN_7x7", "CNN_Combo")),
    Section("2.2", "depth", "architecture_analysis", "2.2 depth", TASK2,
            ("ShallowCNN", "MediumCNN", "DeepCNN", "ResidualCNN")),
    Section("2.2-sweep", "depth_sweep", "architecture_analysis", "2.2 depth sweep", TASK2,
            kind="study"),
    Section("3.1", "custom_layers", "custom_layers", "3.1 custom layers", TASK3,
            ("CNNWithCustomLayers", "StandardCNN", "Swap_WSConv2d", "Swap_SEAttention",
             "Swap_SwishBeta", "Swap_MixPool2d")),
    Section("3.1-paired", "custom_layers_paired", "custom_layers", "3.1 paired comparison",
            TASK3, ("StandardCNN", "CNNWithCustomLayers"), kind="study"),
    Section("3.2-recipe", "residual_recipe", "residual_blocks", "3.2-recipe (validation)", TASK3,
            kind="recipe"),
    Section("3.2", "residual_blocks", "residual_blocks", "3.2 residual blocks", TASK3,
            ("BasicResNet", "BottleneckResNet", "WideResNet", "BasicResNet_matched",
             "BottleneckResNet_matched", "WideResNet_matched")),
    Section("3.2-stability", "residual_stability", "residual_blocks", "3.2 stability test",
            TASK3, kind="study"),
]
BY_KEY = {s.key: s for s in SECTIONS}


def folder(key):
    """The results folder of the section `key` ("1.1" -> "mnist_comparison")."""
    return BY_KEY[key].folder


def order(key):
    return list(BY_KEY[key].order)
