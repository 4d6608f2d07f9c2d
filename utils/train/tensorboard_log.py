"""TensorBoard event files of a run: written while it trains (--tensorboard DIR) and, for runs
already finished, from their result JSON (python -m utils.train.export_tensorboard), with the same
tags, so `tensorboard --logdir DIR` shows live and committed runs alike.

One folder a run: DIR/<section folder>/<name>/seed<k>. Tags: loss/train, loss/test,
accuracy/train, accuracy/test (x: epoch), lr (the rate an epoch started at), step_loss (every
STEP_EVERY-th training step's loss; x: step), grad_norm/<weight> (||g|| of each weight at the
gradient snapshots) and output_grad/<layer> (the gradient at each layer's output; x: step).
"""
import glob
import os

STEP_EVERY = 10
EPOCH_TAGS = {"train_loss": "loss/train", "test_loss": "loss/test",
              "train_acc": "accuracy/train", "test_acc": "accuracy/test", "lr_start": "lr"}


def run_folder(root, section, name, seed):
    return os.path.join(root, section, name, f"seed{seed}")


def clear(root, section, name, seed):
    """Remove a run's earlier event files (a run that starts over, an export written again):
    TensorBoard would draw the old curves beside the new ones."""
    for path in glob.glob(os.path.join(run_folder(root, section, name, seed),
                                       "events.out.tfevents.*")):
        os.remove(path)


def writer_for(root, section, name, seed):
    from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

    return SummaryWriter(log_dir=run_folder(root, section, name, seed))


def write_epoch(writer, entry):
    """One history entry (utils/train/runner.py) as scalars at its epoch."""
    for key, tag in EPOCH_TAGS.items():
        if entry.get(key) is not None:
            writer.add_scalar(tag, entry[key], entry["epoch"])


def write_steps(writer, losses, first_step):
    """Every STEP_EVERY-th step loss of a run of consecutive steps starting at `first_step`."""
    for i, loss in enumerate(losses):
        step = first_step + i
        if step % STEP_EVERY == 0 and loss is not None:
            writer.add_scalar("step_loss", loss, step)


def write_snapshot(writer, snapshot, prefix, key=None):
    """One gradient snapshot: {"step", "layers": {name: value or {key: value}}}."""
    for name, value in snapshot["layers"].items():
        value = value.get(key) if key and isinstance(value, dict) else value
        if value is not None:
            writer.add_scalar(f"{prefix}/{name}", value, snapshot["step"])


def write_result(writer, result):
    """Everything a finished run's JSON holds that the live writer writes."""
    for entry in result["history"]:
        write_epoch(writer, entry)
    write_steps(writer, (result.get("trace") or {}).get("loss", []), 0)
    for snap in result.get("gradient_flow") or []:
        write_snapshot(writer, snap, "grad_norm", "norm")
    for snap in result.get("output_gradients") or []:
        write_snapshot(writer, snap, "output_grad")
