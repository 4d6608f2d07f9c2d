"""The study's sections, in one place: the scripts, the report and README's tables all read them.

A section is what `--section` names (its key), the folder its result JSON go to under the
results directory (`RunSpec.section` holds this folder), the folder of its plots, the label
tables give it, the script that declares its runs, the order its models appear in, the
reference solution's numbers and this project's targets for it, and its seed policy: how many
seeds a run gets when --seeds is not given, per profile (a number for every run, or
{run name: number}; runs not named get one). `kind` says how its test numbers count: "final"
runs answer the assignment (headline and targets), "recipe" runs are scored on a validation
split to choose a final recipe, "study" runs are the further experiments (depth sweep,
stability test, paired comparison).
"""
from dataclasses import dataclass, field

from utils.reference import REFERENCE, TARGETS

TASK1 = "homework_cnn_vs_fc_comparison.py"
TASK2 = "homework_cnn_architecture_analysis.py"
TASK3 = "homework_custom_layers_experiments.py"
SCRIPTS = (TASK1, TASK2, TASK3)

# 2.2's deep net: conv layers when --deep-depth is not given (the assignment's "10 or more"),
# which DeepCNN's and ResidualCNN's constructors also default to (a test holds them together).
DEEP_DEPTH = 10


@dataclass(frozen=True)
class Section:
    key: str
    folder: str
    plots: str
    label: str
    script: str
    order: tuple = ()
    kind: str = "final"
    seeds: dict = field(default_factory=dict)
    # The question of the assignment the section answers, and the comparisons (a, b) that
    # decide it (a − b), as the findings table states them.
    question: str = ""
    comparisons: tuple = ()
    # Sections whose runs the comparisons may also name (1.3 compares with 1.1's nets), and
    # whether a comparison pairs the two sides seed by seed (same seeds, same training images).
    uses: tuple = ()
    paired_seeds: bool = False

    @property
    def reference(self):
        """{model: the published solution's numbers} (utils/reference.py), or {}."""
        return REFERENCE.get(self.folder, {})

    @property
    def targets(self):
        """{model: the test accuracy this project set itself to reach} (utils/reference.py)."""
        return TARGETS.get(self.folder, {})

    def default_seeds(self, profile, name):
        policy = self.seeds.get(profile, 1)
        return policy if isinstance(policy, int) else policy.get(name, 1)


# Seed policies. Full profile: 3 seeds for every run a verdict of the report rests on (the report
# then shows mean ± std and compares over seeds; 2 for 3.2's as-built variants in the quick
# profile); the paired 3.1 comparison runs the same seeds for all six nets. The rest get one.
def _three(*names):
    return {"full": {n: 3 for n in names}}


_RESIDUAL = ("BasicResNet", "BottleneckResNet", "WideResNet")
_MATCHED = tuple(f"{n}_matched" for n in _RESIDUAL)
# The depth sweep's BatchNorm nets (its degradation result) and the stability sweep's rates
# around each block's edge (run names as the scripts build them).
_SWEEP_BN = tuple(f"{kind}{depth}" for depth in (8, 20, 56) for kind in ("Plain", "Residual"))
# 1.3, why convolution wins: the seed of its one pixel order, the shift augmentation's reach
# (the translation test's largest shift), and the training-set fractions (percent of the
# profile's split; 100 % is the 1.1 runs themselves).
PERMUTATION_SEED = 1998
SHIFT_AUGMENT = 6
DATA_FRACTIONS = (1, 3, 10, 30)
# Its nets by the part they play (the script builds them; the report reads them by role).
WHY_ROLES = {"fc": "FCNet", "local": "LocallyConnectedCNN", "cnn": "SimpleCNN",
             "resnet": "ResNetLike", "fc_shift_aug": "FCNet_shift_aug",
             "fc_matched": "FCNet_matched"}
# the nets trained on permuted pixels, and on fractions of the training split
WHY_PERMUTED = ("fc", "local", "cnn", "resnet")
WHY_DATA = ("fc", "cnn")


def permuted(name):
    return f"{name}_permuted"


def data_fraction(name, pct):
    return f"{name}_data{pct}pct"


_R = WHY_ROLES
_WHY = (*(permuted(_R[k]) for k in WHY_PERMUTED), _R["local"], _R["fc_shift_aug"],
        _R["fc_matched"], *(data_fraction(_R[k], pct) for k in WHY_DATA for pct in DATA_FRACTIONS))
# (a, b) compare test accuracy; (a, b, measure) another measure of the runs (utils/report/
# verdicts.py MEASURES): "shifted" is the mean test accuracy over the shifted images, 1-6 px.
_WHY_COMPARISONS = (
    *((permuted(_R[k]), _R[k]) for k in WHY_PERMUTED),
    (_R["local"], _R["fc"]), (_R["cnn"], _R["local"]), (_R["cnn"], _R["fc_matched"]),
    (_R["fc_shift_aug"], _R["fc"], "shifted"), (_R["cnn"], _R["fc"], "shifted"),
    (_R["cnn"], _R["fc_shift_aug"], "shifted"),
    *((data_fraction(_R["cnn"], pct), data_fraction(_R["fc"], pct)) for pct in DATA_FRACTIONS))
_EDGE = tuple(f"{n}_lr{lr}" for n in _RESIDUAL for lr in ("3.2", "6.4"))


# In the order the timing table lists them: each recipe just before the runs it chose for.
SECTIONS = [
    Section("1.1-recipe", "mnist_recipe", "mnist_comparison", "1.1-recipe (validation)", TASK1,
            kind="recipe"),
    Section("1.1", "mnist_comparison", "mnist_comparison", "1.1 MNIST", TASK1,
            ("FCNet", "SimpleCNN", "ResNetLike"),
            seeds=_three("FCNet", "SimpleCNN", "ResNetLike"),
            question="Do the CNNs beat the fully connected net?",
            comparisons=(("SimpleCNN", "FCNet"), ("ResNetLike", "FCNet"),
                         ("ResNetLike", "SimpleCNN"))),
    Section("1.3", "inductive_bias", "inductive_bias", "1.3 why convolution wins", TASK1,
            _WHY, kind="study", seeds=_three(*_WHY),
            question="Why convolution wins: pixel order, translation, data, locality, sharing",
            comparisons=_WHY_COMPARISONS, uses=("1.1",), paired_seeds=True),
    Section("1.2-recipe", "cifar_recipe", "cifar_comparison", "1.2-recipe (validation)", TASK1,
            kind="recipe"),
    Section("1.2-fc-recipe", "cifar_fc_recipe", "cifar_comparison",
            "1.2-fc-recipe (validation)", TASK1, kind="recipe"),
    Section("1.2", "cifar_comparison", "cifar_comparison", "1.2 CIFAR-10", TASK1,
            ("DeepFCNet", "ResNetCIFAR", "ResNetCIFARRegularized"),
            seeds=_three("DeepFCNet", "ResNetCIFAR", "ResNetCIFARRegularized"),
            question="CNN against FC, and what did regularisation do?",
            comparisons=(("ResNetCIFAR", "DeepFCNet"), ("ResNetCIFARRegularized", "ResNetCIFAR"))),
    Section("2.1", "kernel_size", "architecture_analysis", "2.1 kernel size", TASK2,
            ("CNN_3x3", "CNN_5x5", "CNN_7x7", "CNN_Combo"),
            seeds=_three("CNN_3x3", "CNN_5x5", "CNN_7x7", "CNN_Combo"),
            question="Kernel size at an equal parameter budget",
            comparisons=(("CNN_3x3", "CNN_5x5"), ("CNN_3x3", "CNN_7x7"), ("CNN_3x3", "CNN_Combo"),
                         ("CNN_5x5", "CNN_7x7"))),
    Section("2.2", "depth", "architecture_analysis", "2.2 depth", TASK2,
            ("ShallowCNN", "MediumCNN", "DeepCNN", "ResidualCNN"),
            seeds=_three("ShallowCNN", "MediumCNN", "DeepCNN", "ResidualCNN"),
            question="Depth, and residual connections at equal depth",
            comparisons=(("MediumCNN", "ShallowCNN"), ("DeepCNN", "MediumCNN"),
                         ("ResidualCNN", "DeepCNN"))),
    Section("2.2-sweep", "depth_sweep", "architecture_analysis", "2.2 depth sweep", TASK2,
            kind="study", seeds=_three(*_SWEEP_BN)),
    Section("3.1", "custom_layers", "custom_layers", "3.1 custom layers", TASK3,
            ("CNNWithCustomLayers", "StandardCNN", "Swap_WSConv2d", "Swap_SEAttention",
             "Swap_SwishBeta", "Swap_MixPool2d"),
            seeds=_three("CNNWithCustomLayers", "StandardCNN", "Swap_WSConv2d",
                         "Swap_SEAttention", "Swap_SwishBeta", "Swap_MixPool2d"),
            question="Custom layers against the standard ones (same net, one layer swapped)",
            comparisons=(("CNNWithCustomLayers", "StandardCNN"), ("Swap_WSConv2d", "StandardCNN"),
                         ("Swap_SEAttention", "StandardCNN"), ("Swap_SwishBeta", "StandardCNN"),
                         ("Swap_MixPool2d", "StandardCNN"))),
    Section("3.1-paired", "custom_layers_paired", "custom_layers", "3.1 paired comparison",
            TASK3, ("StandardCNN", "CNNWithCustomLayers"), kind="study",
            seeds={"full": 5, "quick": 2, "smoke": 2}),
    Section("3.2-recipe", "residual_recipe", "residual_blocks", "3.2-recipe (validation)", TASK3,
            kind="recipe"),
    Section("3.2", "residual_blocks", "residual_blocks", "3.2 residual blocks", TASK3,
            ("BasicResNet", "BottleneckResNet", "WideResNet", "BasicResNet_matched",
             "BottleneckResNet_matched", "WideResNet_matched"),
            seeds={"full": {n: 3 for n in _RESIDUAL + _MATCHED},
                   "quick": {n: 2 for n in _RESIDUAL}},
            question="Residual block variants as built",
            comparisons=(("WideResNet", "BasicResNet"), ("BottleneckResNet", "BasicResNet"),
                         ("WideResNet", "BottleneckResNet"),
                         ("WideResNet_matched", "BasicResNet_matched"),
                         ("BottleneckResNet_matched", "BasicResNet_matched"))),
    Section("3.2-stability", "residual_stability", "residual_blocks", "3.2 stability test",
            TASK3, kind="study", seeds=_three(*_EDGE)),
]
BY_KEY = {s.key: s for s in SECTIONS}

# The ResNet depth candidates two recipe sections choose between (1.2-recipe for ResNetCIFAR,
# 3.2-recipe for the Bottleneck): blocks per stage, by the recipe's label.
BLOCKS_PER_STAGE = {"one_block": 1, "two_blocks": 2}
DEPTH_RECIPES = {label: {"model_kwargs": {"blocks_per_stage": n}}
                 for label, n in BLOCKS_PER_STAGE.items()}
BY_FOLDER = {s.folder: s for s in SECTIONS}


# The part each net plays in its section, by which the report code reads it (it types no net's
# name): 1.3's WHY_ROLES above, and these.
ROLES = {
    "1.1": {"fc": "FCNet", "cnn": "SimpleCNN", "resnet": "ResNetLike"},
    "1.2": {"fc": "DeepFCNet", "resnet": "ResNetCIFAR", "regularized": "ResNetCIFARRegularized"},
    "2.1": {"combo": "CNN_Combo"},
    "2.2": {"plain": "DeepCNN", "residual": "ResidualCNN"},
    "3.1": {"custom": "CNNWithCustomLayers", "standard": "StandardCNN"},
    "3.2": {"basic": "BasicResNet", "bottleneck": "BottleneckResNet", "wide": "WideResNet"},
}


# Each deliberate departure from the assignment's settings: what it is, the assignment's
# setting, the net (section, role) whose spec shows ours ("ours": formatted with that spec, its
# model_kwargs as kw, its depth in blocks and {Optimizer} capitalised), and the recipe section
# whose validation comparison measured it, with what that section chose by ("schedule",
# "recipe" or "depth"), or a sentence saying why it is not measured.
DEPARTURES = (
    dict(what="1.1 learning rate", assignment="Adam, lr 0.001", net=("1.1", "cnn"),
         ours="Adam, lr {lr:g} annealed to 0 by a {schedule} schedule",
         recipe="1.1-recipe", chose="schedule", note=" ({name})"),
    dict(what="1.2 DeepFCNet: optimizer and peak lr", assignment="Adam, lr 0.001",
         net=("1.2", "fc"), ours="{Optimizer}, peak lr {lr:g} ({schedule}), dropout {kw[dropout]}",
         recipe="1.2-fc-recipe", chose="recipe"),
    dict(what="1.2 DeepFCNet: schedule", assignment="Adam lr 0.001", net=("1.2", "fc"),
         ours="{Optimizer} peak lr {lr:g}, {schedule}", not_measured=""),
    dict(what="1.2 ResNets: schedule", assignment="SGD lr 0.1, decayed over the epochs",
         net=("1.2", "resnet"), ours="SGD peak lr {lr:g}, {schedule} (warm-up over the first "
         "quarter of the steps, then annealed), per step", not_measured=""),
    dict(what="1.2 ResNets: depth", assignment="a CNN with residual blocks", net=("1.2", "resnet"),
         ours="{blocks} BasicBlocks per stage", recipe="1.2-recipe", chose="depth"),
    dict(what="2.2 DeepCNN/ResidualCNN depth", assignment="6 or more conv layers",
         net=("2.2", "plain"), ours="{kw[depth]} (`--deep-depth`)",
         not_measured="not measured for this family; the depth sweep (section `2.2-sweep`) "
                      "varies depth in the CIFAR ResNet family"),
    dict(what="3.1 schedule", assignment="the 1.1 settings (Adam, lr 0.001)",
         net=("3.1", "standard"), ours="Adam lr {lr:g}, {schedule} (1.1 itself anneals)",
         not_measured="measured by section `3.1-paired` (the same nets under the cosine), "
                      "where it has run"),
    dict(what="3.2 depth", assignment="one block of each type (depth not set)",
         net=("3.2", "bottleneck"), ours="{blocks_text} per stage for every block type",
         recipe="3.2-recipe", chose="depth", note=" for the Bottleneck alone; not applied, so "
         "that the three compare at one depth"),
    dict(what="3.2 wide block", assignment="a wide block", net=("3.2", "wide"),
         ours="pre-activation (BN-ReLU-conv, as in WRN), where Basic and Bottleneck are "
              "post-activation", not_measured=""),
)


def role(key, part):
    """The net that plays `part` in section `key` ("1.1", "cnn" -> "SimpleCNN")."""
    return ROLES[key][part]


def folder(key):
    """The results folder of the section `key` ("1.1" -> "mnist_comparison")."""
    return BY_KEY[key].folder


def order(key):
    return list(BY_KEY[key].order)
