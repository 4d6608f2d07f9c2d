"""Every deliberate departure from the assignment's settings, with its measured effect where a
run measured it (a validation comparison of the recipe section that chose it), else "not
measured". The settings in use are read from the result specs; the effects from the JSON."""
import statistics

from utils.report.recipe import recipe_of, validation_acc
from utils.markdown import md_table
from utils.report.common import count
from utils.report.parts import detail, split
from utils.sections import BLOCKS_PER_STAGE, DEEP_DEPTH, folder


def _validation(results, key, model):
    """{recipe: mean validation accuracy of `model`} in a recipe section."""
    scores = {}
    for r in results.section(folder(key)):
        meta = r["spec"]["meta"]
        if meta.get("tuned_model") == model:
            scores.setdefault(meta["recipe"], []).append(validation_acc(r))
    return {k: statistics.mean(v) for k, v in scores.items()}


def _effect(scores, chosen, key):
    if len(scores) < 2 or chosen not in scores:
        return "not measured"
    others = ", ".join(f"{k} {v:.4f}" for k, v in scores.items() if k != chosen)
    return f"validation accuracy {chosen} {scores[chosen]:.4f} against {others} (`{key}`)"


def _spec(results, key, name):
    runs = [r for r in results.section(folder(key)) if r["name"] == name]
    return runs[0]["spec"] if runs else None


def _depth_label(blocks):
    """The depth recipe's label for a number of blocks per stage (the registry's names)."""
    return next(label for label, n in BLOCKS_PER_STAGE.items() if n == blocks)


def depth_of(spec):
    """Conv layers of a 2.2 run: its `depth` argument, else the default (DEEP_DEPTH)."""
    return spec["model_kwargs"].get("depth", DEEP_DEPTH)


def departures(results):
    rows = []
    mnist = _spec(results, "1.1", "SimpleCNN")
    if mnist:
        rows.append(["1.1 learning rate", "Adam, lr 0.001", f"Adam, lr {mnist['lr']:g} "
                     f"annealed to 0 by a {mnist['schedule']} schedule",
                     _effect(_validation(results, "1.1-recipe", "SimpleCNN"),
                             mnist["schedule"], "1.1-recipe") + " (SimpleCNN)"])
    fc = _spec(results, "1.2", "DeepFCNet")
    if fc:
        scores = _validation(results, "1.2-fc-recipe", "DeepFCNet")
        chosen = recipe_of({"spec": fc}, results.section(folder("1.2-fc-recipe")))
        rows.append(["1.2 DeepFCNet: optimizer and peak lr", "Adam, lr 0.001",
                     f"{fc['optimizer'].capitalize()}, peak lr {fc['lr']:g} ({fc['schedule']}), "
                     f"dropout {fc['model_kwargs'].get('dropout')}",
                     _effect(scores, chosen, "1.2-fc-recipe") if chosen else "not measured"])
    resnet = _spec(results, "1.2", "ResNetCIFAR")
    if resnet:
        rows.append(["1.2 ResNets: schedule", "SGD lr 0.1, decayed over the epochs",
                     f"SGD peak lr {resnet['lr']:g}, {resnet['schedule']} (warm-up over the "
                     "first quarter of the steps, then annealed), per step", "not measured"])
        blocks = resnet["model_kwargs"].get("blocks_per_stage", 1)
        rows.append(["1.2 ResNets: depth", "a CNN with residual blocks",
                     f"{blocks} BasicBlocks per stage",
                     _effect(_validation(results, "1.2-recipe", "ResNetCIFAR"),
                             _depth_label(blocks), "1.2-recipe")])
    fc = _spec(results, "1.2", "DeepFCNet")
    if fc:
        rows.append(["1.2 DeepFCNet: schedule", "Adam lr 0.001",
                     f"Adam peak lr {fc['lr']:g}, {fc['schedule']}", "not measured"])
    deep = _spec(results, "2.2", "DeepCNN")
    if deep:
        rows.append(["2.2 DeepCNN/ResidualCNN depth", "6 or more conv layers",
                     f"{depth_of(deep)} (`--deep-depth`)", "not measured for this family; the "
                     "depth sweep (section `2.2-sweep`) varies depth in the CIFAR ResNet family"])
    custom = _spec(results, "3.1", "StandardCNN")
    if custom:
        rows.append(["3.1 schedule", "the 1.1 settings (Adam, lr 0.001)",
                     f"Adam lr {custom['lr']:g}, {custom['schedule']} (1.1 itself anneals)",
                     "measured by section `3.1-paired` (the same nets under the cosine), "
                     "where it has run"])
    bottleneck = _spec(results, "3.2", "BottleneckResNet")
    if bottleneck:
        blocks = bottleneck["model_kwargs"].get("blocks_per_stage", 1)
        rows.append(["3.2 depth", "one block of each type (depth not set)",
                     f"{blocks} block{'s' * (blocks > 1)} per stage for every block type",
                     _effect(_validation(results, "3.2-recipe", "BottleneckResNet"),
                             _depth_label(blocks), "3.2-recipe")
                     + " for the Bottleneck alone; not applied, so that the three compare at "
                       "one depth"])
        rows.append(["3.2 wide block", "a wide block", "pre-activation (BN-ReLU-conv, as in "
                     "WRN), where Basic and Bottleneck are post-activation", "not measured"])
    if not rows:
        return None
    return split([
        "## Departures from the assignment's settings",
        f"{count(len(rows), 'deliberate change')}: " + "; ".join(r[0] for r in rows) + ".",
        *detail("Each deliberate change, the setting the runs used (read from their specs) and "
                "its measured effect where a validation comparison measured it:",
                md_table(["what", "the assignment", "this study", "measured effect"], rows))])


