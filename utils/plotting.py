"""Plots as pure functions of result dicts (the JSON files): redrawable without training."""
import os

import matplotlib

matplotlib.use("Agg")  # no screen on the training machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def _save(fig, path):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.tight_layout()
    # A fixed creation date keeps the PNGs byte-stable across redraws.
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def history_matrix(runs, key):
    """epochs x seeds array of one history field (runs of unequal length are cut to the shortest)."""
    n = min(len(r["history"]) for r in runs)
    return np.array([[h[key] for h in r["history"][:n]] for r in runs]).T


def curves(groups, key, title, ylabel, path):
    """One line per model (mean over seeds, band = min..max over seeds) against the epoch."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, runs in groups.items():
        values = history_matrix(runs, key)
        epochs = np.arange(1, len(values) + 1)
        label = name if len(runs) == 1 else f"{name} (mean of {len(runs)} seeds)"
        ax.plot(epochs, values.mean(1), marker="o", ms=3, label=label)
        if len(runs) > 1:
            ax.fill_between(epochs, values.min(1), values.max(1), alpha=0.2)
    ax.set(title=title, xlabel="epoch", ylabel=ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def confusion(run, path):
    cm = np.array(run["confusion_matrix"])
    fig, ax = plt.subplots(figsize=(7, 6))
    sns.heatmap(cm, annot=True, fmt="d", cmap="Blues", xticklabels=run["classes"],
                yticklabels=run["classes"], ax=ax, cbar_kws={"label": "test images"})
    acc = np.trace(cm) / cm.sum()
    ax.set(title=f"{run['name']} confusion matrix (test, seed {run['seed']}, acc {acc:.3f})",
           xlabel="predicted class", ylabel="true class")
    return _save(fig, path)


def gradient_flow(run, path, stat="mean_abs"):
    """Per-layer gradient magnitude (log scale) at each sampled point of training."""
    snaps = run["gradient_flow"]
    layers = list(snaps[0]["layers"])
    fig, ax = plt.subplots(figsize=(max(6.4, 0.45 * len(layers) + 2), 4.6))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(snaps)))
    for snap, color in zip(snaps, colors):
        values = [snap["layers"][name][stat] for name in layers]
        ax.plot(range(len(layers)), values, marker="o", ms=3, color=color,
                label=f"step {snap['step']} (epoch {snap['epoch']:.2f})")
    ax.set_yscale("log")
    ax.set_xticks(range(len(layers)), [n.removesuffix(".weight") for n in layers],
                  rotation=60, ha="right", fontsize=7)
    pretty = {"mean_abs": "mean |grad|", "max_abs": "max |grad|", "norm": "||grad||"}[stat]
    ax.set(title=f"{run['name']} gradient flow (input → output)", xlabel="layer (weights)",
           ylabel=f"{pretty} (log)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return _save(fig, path)
