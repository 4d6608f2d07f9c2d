"""Task 1 (CNN vs FC on MNIST and CIFAR-10): its plots and its report section, from the JSON."""
import os

from utils.report import plotting, words
from utils.markdown import md_table
from utils.report.recipe import selection_block
from utils.report.common import (accuracy_table, environment_lines, gradient_flow_table,
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
    """DETAILS.md's Task 1 (templates/task1.md.j2): 1.1 and 1.2."""
    mnist = _groups(results, MNIST, MNIST_ORDER)
    cifar = _groups(results, CIFAR, CIFAR_ORDER)
    if not mnist and not cifar:
        return None

    def imgs(folder, names, pattern, alt):
        return "\n".join(image(plots_dir, results.dir, f"{folder}/{pattern.format(n)}",
                                f"{alt} {n}") for n in names)

    m = c = None
    if mnist:
        resnet = role("1.1", "resnet")
        m = {"settings": _hyper_line(mnist),
             "selection": selection_block(results.section(MNIST_RECIPE),
                                          [r for runs in mnist.values() for r in runs]),
             "resnet": {"name": resnet, "params": mnist[resnet][0]["params"],
                        "reference": BY_KEY["1.1"].reference.get(resnet, {}).get("params")}
             if resnet in mnist else None,
             "reference_note": reference_note(mnist),
             "accuracy": accuracy_table(mnist, BY_KEY["1.1"].reference),
             "speed": speed_table(mnist), "params": param_sentences(mnist),
             "speed_sentence": _speed_sentence(mnist, role("1.1", "fc"),
                                               [role("1.1", "cnn"), role("1.1", "resnet")]),
             "acc_curves": imgs(MNIST, ("train_acc", "test_acc"), "{}.png", "MNIST"),
             "overfitting": overfitting_sentences(mnist),
             "overfitting_plot": imgs(MNIST, ["overfitting"], "{}.png", "MNIST"),
             "loss_curves": imgs(MNIST, ("train_loss", "test_loss"), "{}.png", "MNIST")}
    if cifar:
        fc, resnet, regularized = (role("1.2", p) for p in ("fc", "resnet", "regularized"))
        a, b = cifar.get(resnet), cifar.get(regularized)
        m_ = {"dropout": b[0]["hyperparameters"]["dropout"],
              "gap_before": mean([gap_of(r) for r in a]),
              "gap_after": mean([gap_of(r) for r in b]),
              "accuracy_change": mean(final(b, "test_acc")) - mean(final(a, "test_acc"))} \
            if a and b else None
        c = {"settings": _per_model_settings(cifar),
             "selection": [selection_block(results.section(CIFAR_RECIPE),
                                           [r for n, runs in cifar.items() if n != fc
                                            for r in runs]),
                           selection_block(results.section(FC_RECIPE), cifar.get(fc, []))],
             "reference_note": reference_note(cifar),
             "accuracy": accuracy_table(cifar, BY_KEY["1.2"].reference),
             "speed": speed_table(cifar), "params": param_sentences(cifar),
             "speed_sentence": _speed_sentence(cifar, fc, [resnet, regularized]),
             "overfitting": overfitting_sentences(cifar), "regularisation": m_,
             "overfitting_plot": imgs(CIFAR, ["overfitting"], "{}.png", "CIFAR-10"),
             "gradients": gradient_flow_table(cifar, results.init_gradients()),
             "gradient_plots": imgs(CIFAR, cifar, "grad_flow_{}.png", "gradient flow"),
             "confusion_plots": imgs(CIFAR, cifar, "conf_matrix_{}.png", "confusion matrix"),
             "confusions": _confusion_sentence(cifar), "recall": class_recall_table(cifar),
             "calibration": calibration_table(cifar),
             "curves": imgs(CIFAR, [key for key, _ in CURVES], "{}.png", "CIFAR-10")}
    return words.render("task1.md.j2", m=m, c=c, environment="\n".join(environment_lines(
        [r for g in (mnist, cifar) for runs in g.values() for r in runs]))).strip()


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
