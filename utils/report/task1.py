"""Task 1 (CNN vs FC on MNIST and CIFAR-10): its plots and its report section, from the JSON."""
import os

from utils.report import plotting
from utils.markdown import md_table
from utils.report.parts import join
from utils.report.recipe import selection_block
from utils.report.common import (accuracy_table, environment_lines, fmt_int, gradient_flow_table,
                                 image, interval_text, overfitting_sentences, param_sentences,
                                 reference_note, speed_table)
from utils.report.runs import final, gap_of, group_by_name, mean
from utils.sections import BY_KEY, folder, order, role
from utils.report.stats import compare_accuracies

MNIST, CIFAR = folder("1.1"), folder("1.2")
# Recipe candidates, evaluated on a validation split (utils/train/recipe.py)
MNIST_RECIPE, CIFAR_RECIPE = folder("1.1-recipe"), folder("1.2-recipe")
FC_RECIPE = folder("1.2-fc-recipe")
PLAIN_LOSS = "CrossEntropyLoss"
MNIST_ORDER, CIFAR_ORDER = order("1.1"), order("1.2")
CURVES = [("train_acc", "train accuracy (running, in-epoch)"), ("test_acc", "test accuracy"),
          ("train_loss", "train loss"), ("test_loss", "test loss")]


def _groups(results, section, order):
    return group_by_name(results.section(section), order)


def draw(results, plots_dir):
    """Every Task 1 plot whose runs exist; returns the paths written."""
    written = []
    for section, label in ((MNIST, "MNIST"), (CIFAR, "CIFAR-10")):
        groups = _groups(results, section, MNIST_ORDER if section == MNIST else CIFAR_ORDER)
        if not groups:
            continue
        for key, ylabel in CURVES:
            written.append(plotting.curves(groups, key, f"{label}: {ylabel} by epoch", ylabel,
                                           os.path.join(plots_dir, section, f"{key}.png")))
        written.append(plotting.generalisation(
            groups, f"{label}: train and test loss", os.path.join(plots_dir, section,
                                                                  "overfitting.png")))
        if section == CIFAR:
            for name, runs in groups.items():
                written.append(plotting.confusion(
                    runs[0], os.path.join(plots_dir, section, f"conf_matrix_{name}.png")))
                written.append(plotting.gradient_flow(
                    runs[0], os.path.join(plots_dir, section, f"grad_flow_{name}.png")))
    return written


def _resnetlike_sentence(mnist):
    name = role("1.1", "resnet")
    if name not in mnist:
        return None
    ours = mnist[name][0]["params"]
    ref = BY_KEY["1.1"].reference.get(name, {}).get("params")
    same = f" (the reference's {fmt_int(ref)})" if ref == ours else ""
    return (f"{name} uses stride-2 residual blocks (28 → 14 → 7 pixels): {fmt_int(ours)} "
            f"parameters{same}, at a fraction of the compute the same blocks cost at stride 1 "
            "(see the MACs column; a test checks that stride 1 costs 8–12× more).")


def _hyper_line(groups):
    h = next(iter(groups.values()))[0]["hyperparameters"]
    return (f"Settings: batch {h['batch_size']}, {h['epochs']} epochs, {h['optimizer']} lr "
            f"{h['lr']} ({h['schedule']} schedule), augmentation: {h['augmentation']}"
            + (f", train subset {h['train_subset']}" if h["train_subset"] else "")
            + (f", test subset {h['test_subset']}" if h["test_subset"] else "") + ".")


def _per_model_settings(groups):
    rows = []
    for name, runs in groups.items():
        h = runs[0]["hyperparameters"]
        # constructor arguments that shape the net (dropout is listed with the hyperparameters)
        shape = ", ".join(f"{k} {v}" for k, v in runs[0].get("model_kwargs", {}).items()
                          if k != "dropout")
        label = f"{name} ({shape})" if shape else name
        rows.append(f"- {label}: {h['optimizer']} lr {h['lr']}, {h['schedule']} schedule, "
                    f"weight decay {h['weight_decay']}, dropout {h['dropout']}, "
                    f"augmentation {h['augmentation']}, "
                    + (f"loss {h['loss']}, " if h.get("loss", PLAIN_LOSS) != PLAIN_LOSS else "")
                    + f"profile `{runs[0]['profile']}`, "
                    f"seeds {[r['seed'] for r in runs]}")
    return "\n".join(rows)


def _curves_block(plots_dir, report_dir, section, label, keys=None):
    return "\n".join(image(plots_dir, report_dir, f"{section}/{key}.png", f"{label} {key}")
                     for key, _ in CURVES if keys is None or key in keys)


def _speed_sentence(groups, fc, cnns):
    """Epoch time against the FC net, explained by arithmetic per parameter (MACs / params)."""
    if fc not in groups:
        return ""
    base = mean([r["final"]["time_per_epoch_s"] for r in groups[fc]])
    parts, reuse = [], []
    for name in [fc, *cnns]:
        if name not in groups:
            continue
        r0 = groups[name][0]
        reuse.append(f"{name} {r0['macs'] / r0['params']:.1f}")
        if name != fc:
            t = mean([r["final"]["time_per_epoch_s"] for r in groups[name]])
            parts.append(f"{name} {t / base:.1f}× ({r0['macs'] / groups[fc][0]['macs']:.0f}× "
                         f"the MACs)")
    if not parts:
        return ""
    return (f"Time per epoch relative to {fc}: " + ", ".join(parts) + ". MACs per parameter "
            "(how often each weight is used per image): " + ", ".join(reuse) + ".")


def class_recalls(runs):
    """{class: [recall over that class's test images, one per seed]} from the confusion
    matrices (rows: true class)."""
    classes = runs[0]["classes"]
    return {c: [r["confusion_matrix"][i][i] / max(1, sum(r["confusion_matrix"][i]))
                for r in runs] for i, c in enumerate(classes)}


def class_recall_differences(conv, fc):
    """{class: (conv − fc recall, low, high, over)} with the interval of compare_accuracies
    over that class's test images, classes in the confusion matrix's order."""
    recalls_conv, recalls_fc = class_recalls(conv), class_recalls(fc)
    cm = conv[0]["confusion_matrix"]
    return {c: compare_accuracies(recalls_conv[c], recalls_fc[c], sum(cm[i]))
            for i, c in enumerate(conv[0]["classes"])}


# --- 2.2's depth sweep --------------------------------------------------------------------------


def render(results, plots_dir):
    mnist = _groups(results, MNIST, MNIST_ORDER)
    cifar = _groups(results, CIFAR, CIFAR_ORDER)
    if not mnist and not cifar:
        return None
    out = ["## Task 1 — CNN versus fully connected networks"]
    if mnist:
        out += [
            "### 1.1 MNIST", _hyper_line(mnist),
            *[selection_block(results.section(MNIST_RECIPE),
                                    [r for runs in mnist.values() for r in runs]),
                    _resnetlike_sentence(mnist)],
            f"**Accuracy**{reference_note(mnist)}:",
            accuracy_table(mnist, BY_KEY["1.1"].reference),
            "**Speed** (train time = sum of the training passes of all epochs, evaluation "
            "excluded; inference: eval mode, median of repeated timed calls after a warm-up):",
            speed_table(mnist), _speed_sentence(mnist, role("1.1", "fc"),
                                                [role("1.1", "cnn"), role("1.1", "resnet")]),
            *["**Where the parameters are:**", param_sentences(mnist)],
            _curves_block(plots_dir, results.dir, MNIST, "MNIST", ("train_acc", "test_acc")),
            *["**Overfitting:**", overfitting_sentences(mnist),
                    image(plots_dir, results.dir, f"{MNIST}/overfitting.png", "MNIST overfitting"),
                    "**Loss curves:**",
                    _curves_block(plots_dir, results.dir, MNIST, "MNIST", ("train_loss", "test_loss"))],
        ]
    if cifar:
        out += [
            "### 1.2 CIFAR-10",
            *[_per_model_settings(cifar),
                    selection_block(results.section(CIFAR_RECIPE),
                                    [r for n, runs in cifar.items() if n != role("1.2", "fc")
                                     for r in runs]),
                    selection_block(results.section(FC_RECIPE),
                                    cifar.get(role("1.2", "fc"), []))],
            f"**Accuracy**{reference_note(cifar)}:",
            accuracy_table(cifar, BY_KEY["1.2"].reference),
            *["**Speed:**", speed_table(cifar),
                    _speed_sentence(cifar, role("1.2", "fc"),
                                    [role("1.2", "resnet"), role("1.2", "regularized")]),
                    "**Where the parameters are:**", param_sentences(cifar)],
            "**Overfitting:**", overfitting_sentences(cifar), _regularisation_sentence(cifar),
            image(plots_dir, results.dir, f"{CIFAR}/overfitting.png", "CIFAR-10 overfitting"),
            "**Gradient flow**: the backpropagated signal at initialisation (the gradient at "
            "each layer's output, first over last hidden layer), and the relative update size "
            "‖grad‖/‖weight‖ (first over last main-path layer) at evenly spaced steps, which "
            "the plots show per layer:",
            gradient_flow_table(cifar, results.init_gradients()),
            "\n".join(image(plots_dir, results.dir, f"{CIFAR}/grad_flow_{n}.png",
                            f"gradient flow {n}") for n in cifar),
            "**Confusion matrices** (test set, seed 0):",
            "\n".join(image(plots_dir, results.dir, f"{CIFAR}/conf_matrix_{n}.png",
                            f"confusion matrix {n}") for n in cifar),
            _confusion_sentence(cifar),
            *["**Recall per class**, the ResNet against the FC net (a class's test images; "
                    "the interval is Welch's over seeds where both sides ran several, else over "
                    "the class's test images):", class_recall_table(cifar),
                    "**Calibration** (test NLL in nats per image, the mean cross-entropy; "
                    "expected calibration error over 15 equal-width confidence bins, from the "
                    "per-image predictions):", calibration_table(cifar),
                    "**Learning curves:**",
                    _curves_block(plots_dir, results.dir, CIFAR, "CIFAR-10")],
        ]
    out += ["**Measured on:**", "\n".join(environment_lines(
        [r for g in (mnist, cifar) for runs in g.values() for r in runs]))]
    return join(out)


def _regularisation_sentence(groups):
    a, b = groups.get(role("1.2", "resnet")), groups.get(role("1.2", "regularized"))
    if not a or not b:
        return ""

    def gap(runs):
        return mean([gap_of(r) for r in runs])

    def acc(runs):
        return mean(final(runs, "test_acc"))

    return (f"Regularisation (dropout {b[0]['hyperparameters']['dropout']} on top of the same "
            f"weight decay and augmentation) changed the final gap by "
            f"{gap(b) - gap(a):+.4f} ({gap(a):+.4f} → {gap(b):+.4f}) and test accuracy by "
            f"{acc(b) - acc(a):+.4f}.")


def class_recall_table(groups, fc=role("1.2", "fc"), conv=role("1.2", "resnet")):
    """Per class: each net's recall (mean over seeds) and conv − fc with its interval, the
    classes ordered by that difference (where convolution helps most first)."""
    if fc not in groups or conv not in groups:
        return ""
    recalls = {name: class_recalls(runs) for name, runs in groups.items()}
    rows = []
    for c, (diff, low, high, over) in class_recall_differences(groups[conv], groups[fc]).items():
        rows.append((diff, [c, *(f"{mean(recalls[n][c]):.3f}" for n in groups),
                            interval_text(diff, low, high, digits=3), over]))
    rows.sort(key=lambda r: -r[0])
    best, worst = rows[0][1][0], rows[-1][1][0]
    return (md_table(["class", *groups, f"{conv} − {fc} [95 % CI]", "interval over"],
                     [cells for _, cells in rows])
            + f"\n\nConvolution helps most on {best} ({rows[0][0]:+.3f}) and least on {worst} "
              f"({rows[-1][0]:+.3f}).")


def calibration_table(groups):
    """Per net: test NLL and the expected calibration error (mean over the seeds that
    recorded it; a run older than the per-image record has none)."""
    rows = []
    for name, runs in groups.items():
        eces = [r["final"]["test_ece"] for r in runs if "test_ece" in r["final"]]
        rows.append([name, f"{mean(final(runs, 'test_loss')):.3f}", len(runs),
                     f"{mean(eces):.4f} ({len(eces)} of {len(runs)} seeds)" if eces else
                     "not recorded (its runs predate the per-image record)"])
    return md_table(["net", "test NLL (nats)", "seeds", "ECE, 15 bins"], rows)


def _confusion_sentence(groups):
    lines = []
    for name, runs in groups.items():
        cm, classes = runs[0]["confusion_matrix"], runs[0]["classes"]
        pairs = [(cm[i][j], classes[i], classes[j]) for i in range(len(cm))
                 for j in range(len(cm)) if i != j]
        count, true, pred = max(pairs)
        recall = [cm[i][i] / max(1, sum(cm[i])) for i in range(len(cm))]
        worst = min(range(len(cm)), key=lambda i: recall[i])
        lines.append(f"- **{name}**: most frequent confusion {true} → {pred} ({count} images); "
                     f"lowest recall: {classes[worst]} ({recall[worst]:.3f}).")
    return "\n".join(lines)
