"""Task 1 (CNN vs FC on MNIST and CIFAR-10): its plots and its report section, from the JSON."""
import os

from utils.report import plotting, words
from utils.report.recipe import selection_block
from utils.report.common import (accuracy_table, environment_lines,
                                 gradient_flow_table, image, interval_text,
                                 overfitting_table, param_table, reference_note,
                                 speed_table, table)
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


def _settings(groups):
    """Per net its hyperparameters, the constructor arguments that shape it (dropout is listed
    with the hyperparameters), a loss other than plain cross-entropy, its profile and seeds."""
    return [{"name": name, "h": runs[0]["hyperparameters"], "profile": runs[0]["profile"],
             "seeds": [r["seed"] for r in runs],
             "shape": ", ".join(f"{k} {v}" for k, v in runs[0].get("model_kwargs", {}).items()
                                if k != "dropout"),
             "loss": runs[0]["hyperparameters"].get("loss", PLAIN_LOSS)}
            for name, runs in groups.items()]


def _speed(groups, fc, cnns):
    """Epoch time against the FC net, explained by arithmetic per parameter (MACs / params):
    [(net, time over the FC net's or None, MACs over the FC net's, MACs per parameter)]."""
    if fc not in groups:
        return None
    base = mean(final(groups[fc], "time_per_epoch_s"))
    return [(name, None if name == fc else mean(final(groups[name], "time_per_epoch_s")) / base,
             groups[name][0]["macs"] / groups[fc][0]["macs"],
             groups[name][0]["macs"] / groups[name][0]["params"])
            for name in [fc, *cnns] if name in groups]


def class_recalls(runs):
    """{class: [recall over that class's test images, one per seed]} from the confusion
    matrices (rows: true class)."""
    classes = runs[0]["classes"]
    return {c: [r["confusion_matrix"][i][i] / max(1, sum(r["confusion_matrix"][i]))
                for r in runs] for i, c in enumerate(classes)}


def class_recall_differences(conv, fc):
    """{class: (conv − fc recall, low, high, over, p)} with the interval of compare_accuracies
    over that class's test images, classes in the confusion matrix's order."""
    recalls_conv, recalls_fc = class_recalls(conv), class_recalls(fc)
    cm = conv[0]["confusion_matrix"]
    return {c: compare_accuracies(recalls_conv[c], recalls_fc[c], sum(cm[i]))
            for i, c in enumerate(conv[0]["classes"])}


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
        m = {"h": next(iter(mnist.values()))[0]["hyperparameters"],
             "selection": selection_block(results.section(MNIST_RECIPE),
                                          [r for runs in mnist.values() for r in runs]),
             "resnet": {"name": resnet, "params": mnist[resnet][0]["params"],
                        "reference": BY_KEY["1.1"].reference.get(resnet, {}).get("params")}
             if resnet in mnist else None,
             "reference_note": reference_note(mnist),
             "accuracy": accuracy_table(mnist, BY_KEY["1.1"].reference),
             "speed": speed_table(mnist), "params": param_table(mnist),
             "speed_by": _speed(mnist, role("1.1", "fc"), [role("1.1", "cnn"), role("1.1", "resnet")]),
             "acc_curves": imgs(MNIST, ("train_acc", "test_acc"), "{}.png", "MNIST"),
             "overfitting": overfitting_table(mnist),
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
        c = {"settings": _settings(cifar), "plain_loss": PLAIN_LOSS,
             "selection": [selection_block(results.section(CIFAR_RECIPE),
                                           [r for n, runs in cifar.items() if n != fc
                                            for r in runs]),
                           selection_block(results.section(FC_RECIPE), cifar.get(fc, []))],
             "reference_note": reference_note(cifar),
             "accuracy": accuracy_table(cifar, BY_KEY["1.2"].reference),
             "speed": speed_table(cifar), "params": param_table(cifar),
             "speed_by": _speed(cifar, fc, [resnet, regularized]),
             "overfitting": overfitting_table(cifar), "regularisation": m_,
             "overfitting_plot": imgs(CIFAR, ["overfitting"], "{}.png", "CIFAR-10"),
             "gradients": gradient_flow_table(cifar, results.init_gradients()),
             "gradient_plots": imgs(CIFAR, cifar, "grad_flow_{}.png", "gradient flow"),
             "confusion_plots": imgs(CIFAR, cifar, "conf_matrix_{}.png", "confusion matrix"),
             "confusions": _confusions(cifar), "recall": class_recall_table(cifar),
             "curves": imgs(CIFAR, [key for key, _ in CURVES], "{}.png", "CIFAR-10")}
    return words.render("task1.md.j2", m=m, c=c, environment="\n".join(environment_lines(
        [r for g in (mnist, cifar) for runs in g.values() for r in runs]))).strip()


def class_recall_table(groups, fc=role("1.2", "fc"), conv=role("1.2", "resnet")):
    """Per class: each net's recall (mean over seeds) and conv − fc with its interval, the
    classes ordered by that difference (where convolution helps most first); None without
    both nets."""
    if fc not in groups or conv not in groups:
        return None
    recalls = {name: class_recalls(runs) for name, runs in groups.items()}
    rows = sorted(class_recall_differences(groups[conv], groups[fc]).items(),
                  key=lambda cd: -cd[1][0])
    return {"best": rows[0], "worst": rows[-1], "table": table(rows, [
        ("class", lambda cd: cd[0]),
        *[(n, lambda cd, n=n: f"{mean(recalls[n][cd[0]]):.3f}") for n in groups],
        (f"{conv} − {fc} [95 % CI]", lambda cd: interval_text(*cd[1][:3], digits=3)),
        ("interval over", lambda cd: cd[1][3])])}


def _confusions(groups):
    """Per net (its first seed): the most frequent confusion and the class of lowest recall."""
    out = []
    for name, runs in groups.items():
        cm, classes = runs[0]["confusion_matrix"], runs[0]["classes"]
        count, true, pred = max((cm[i][j], classes[i], classes[j]) for i in range(len(cm))
                                for j in range(len(cm)) if i != j)
        recall = [cm[i][i] / max(1, sum(cm[i])) for i in range(len(cm))]
        worst = min(range(len(cm)), key=lambda i: recall[i])
        out.append({"name": name, "count": count, "true": true, "pred": pred,
                    "worst": classes[worst], "recall": recall[worst]})
    return out
