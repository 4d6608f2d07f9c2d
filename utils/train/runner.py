"""Trains and measures one run spec, resumably, and writes its result JSON.

A spec is plain data (what to train, on what, how); everything a report needs later goes into
the JSON, so plots and the report never need the model again.
"""
import errno
from contextlib import nullcontext
import math
import os
import tempfile
import time
from typing import NamedTuple

import torch
from torch import nn
from tqdm.auto import tqdm

from models import build_model
from utils.train import measure
from utils import predictions
from utils.train import tensorboard_log
from utils.train.analysis import run_analyses
from utils.train.data import (CLASSES, STATS, TensorLoader, holdout, permutation_of_pixels,
                              permute_pixels, shift_images, subset)
from utils.train.execution import Execution
from utils.results import run_path, weights_path, write_json_atomic
from utils.spec import RunSpec  # noqa: F401  (the spec lives with the result contract)
from utils.spec import SHIFT_DATASETS, SHIFT_DIRECTIONS, SHIFT_PIXELS

EVAL_BATCH = 1000


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite: that run stops, the others go on."""

    def __init__(self, message, epoch, batch):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch

    def __reduce__(self):  # pickled whole, so that a Ray worker's failure reaches the driver
        return type(self), (str(self), self.epoch, self.batch)


class CheckpointError(RuntimeError):
    """A checkpoint exists but does not load."""


def make_optimizer(spec, model):
    # On CUDA one fused kernel updates every parameter (the per-parameter loop would launch
    # dozens of small kernels a step); on the CPU torch's default (foreach) stays, unchanged.
    on_cuda = next(model.parameters()).device.type == "cuda"
    fused = {"fused": True} if on_cuda else {}
    if spec.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay,
                                **fused)
    if spec.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=spec.lr, momentum=spec.momentum,
                               nesterov=True, weight_decay=spec.weight_decay, **fused)
    raise ValueError(f"unknown optimizer {spec.optimizer!r}")


def make_scheduler(spec, optimizer, total_steps):
    if spec.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    if spec.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if spec.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=spec.lr,
                                                   total_steps=total_steps, pct_start=0.25)
    raise ValueError(f"unknown schedule {spec.schedule!r}")


def forward_backward(model, optimizer, x, y, execution=Execution(), label_smoothing=0.0):
    """Forward under the run's autocast, cross-entropy in float32, gradients in place of the
    last step's; returns (loss, logits). The update is the caller's (the runner reads the
    gradients between the two)."""
    with execution.autocast(x.device):
        out = model(x)
        loss = nn.functional.cross_entropy(out.float(), y, label_smoothing=label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    return loss, out


def training_step(model, optimizer, x, y, execution=Execution()):
    """One whole step (forward, backward, update), as the speed probes time it."""
    loss, _ = forward_backward(model, optimizer, x, y, execution)
    optimizer.step()
    return loss


class Evaluation(NamedTuple):
    loss: float              # mean cross-entropy, nats
    acc: float
    preds: torch.Tensor      # predicted class per image, in the loader's order (CPU)
    log_p_true: torch.Tensor  # log-probability given to the true class per image (CPU)
    confidence: torch.Tensor  # the largest class probability per image (CPU)


@torch.inference_mode()
def evaluate(model, loader, execution=Execution()):
    """Mean loss, accuracy and per-image predictions over a loader, in eval mode. Sums stay on
    the device and are read once at the end (float64: the same sum as adding each batch's on the
    host)."""
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=loader.device)
    correct = torch.zeros((), dtype=torch.long, device=loader.device)
    preds, log_p_true, confidence = [], [], []
    for x, y in loader:
        with execution.autocast(loader.device):
            out = model(x).float()
        loss_sum += nn.functional.cross_entropy(out, y, reduction="sum").double()
        log_p = out.log_softmax(1)
        p = out.argmax(1)
        correct += (p == y).sum()
        preds.append(p)
        log_p_true.append(log_p.gather(1, y[:, None])[:, 0])
        confidence.append(log_p.max(1).values.exp())
    n = len(loader.labels)
    return Evaluation(loss_sum.item() / n, correct.item() / n, torch.cat(preds).cpu(),
                      torch.cat(log_p_true).cpu(), torch.cat(confidence).cpu())


def confusion_matrix(labels, preds, num_classes):
    """Rows: true class, columns: predicted class (sklearn's convention)."""
    from sklearn.metrics import confusion_matrix as sk_confusion

    return sk_confusion(labels.cpu().numpy(), preds.cpu().numpy(),
                        labels=list(range(num_classes))).tolist()


def snapshot_steps(total_steps, count):
    """`count` step indices spread evenly from the first step to the last."""
    if count <= 1 or total_steps <= 1:
        return [0]
    return sorted({round(i * (total_steps - 1) / (count - 1)) for i in range(count)})


def _round(values, digits=6):
    """Rounded floats; NaN and inf become None (JSON has no such numbers)."""
    return [float(f"{v:.{digits}g}") if math.isfinite(v) else None for v in values]


def _finite_or_none(value):
    return value if math.isfinite(value) else None


CHECKPOINT_KEYS = {"spec", "state", "model", "optimizer", "scheduler", "loader", "torch_rng",
                   "cuda_rng"}


def load_checkpoint(path):
    """A checkpoint as saved, every tensor on the CPU. Nothing is mapped to the training device
    here: load_state_dict copies model and optimizer state onto their parameters' device, and the
    loader's generator state must stay a CPU ByteTensor (mapped to cuda, set_state refuses it).
    The file holds only tensors and plain containers, so it loads with weights_only=True."""
    return torch.load(path, map_location="cpu", weights_only=True)


def execution_change(stored, current):
    """'amp False -> True, ...' for the execution settings a checkpoint ran with that differ
    from this run's; '' when they agree (or the checkpoint predates recording them)."""
    if not isinstance(stored, dict):
        return ""
    return ", ".join(f"{key} {stored.get(key)} -> {value}" for key, value in current.items()
                     if stored.get(key) != value)


def write_result(path, result):
    """Write a result returned by train_and_measure: its JSON at `path`, then its final weights
    (state_dict only) beside it under weights/ (utils/results.py weights_path). The JSON is the
    record and goes first; the weights are a convenience (a result without them is finished)."""
    weights = result.pop(WEIGHTS, None)
    write_json_atomic(path, result)
    if weights is not None:
        target = weights_path(path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".tmp")
        os.close(fd)
        try:
            torch.save(weights, tmp)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


class Splits(NamedTuple):
    train: object           # utils.train.data.Split, as the run trains on it
    test: object            # the images its test numbers are measured on
    natural_test: object    # the same test images before any pixel permutation
    pixel_order: object     # the permutation (a tensor), or None


def run_splits(spec, data):
    """The training and test images of a run, from the dataset's (train, test) splits: the
    validation hold-out, the subsets and the pixel permutation its spec names, in that order.
    utils/trained.py rebuilds a finished run's test images with it."""
    train, test = data
    if spec.validation:
        train, test = holdout(train, spec.validation)
    train = subset(train, spec.train_subset, seed=1000 + spec.seed)
    test = natural_test = subset(test, spec.test_subset, seed=0)
    order = None
    if spec.pixel_permutation is not None:
        order = permutation_of_pixels(spec.pixel_permutation, train.images.shape)
        train, test = permute_pixels(train, order), permute_pixels(test, order)
    return Splits(train, test, natural_test, order)


def train_loader(spec, train, device="cpu"):
    """The run's training loader over `train`: its batch, order seed, augmentation (CIFAR's
    shifts and flips, or 1.3's shifts alone) and images per epoch."""
    mean, std = STATS[spec.dataset]
    shifts = {"augment": True, "pad": spec.shift_augment, "flip": False} \
        if spec.shift_augment else {"augment": spec.augment}
    return TensorLoader(train, spec.batch_size, mean=mean, std=std, shuffle=True, seed=spec.seed,
                        device=device, channels_last=spec.channels_last,
                        epoch_images=spec.epoch_images, **shifts)


# A run's final weights travel with its result under this key, from the worker to the driver,
# which writes them beside the result (utils/results.py weights_path) and drops the key.
WEIGHTS = "_weights"


class Run:
    """One spec's training, measurement and result file. `execute()` is the whole life cycle:
    resume from the checkpoint if one matches, train the remaining epochs, measure, write JSON."""

    def __init__(self, spec, data, device, results_dir, checkpoint_dir, progress=True,
                 execution=Execution(), launch_id=None, tensorboard_dir=None):
        self.spec, self.device, self.progress = spec, torch.device(device), progress
        self.launch_id = launch_id  # the command that trains it, recorded in its checkpoints
        self.tensorboard_dir = tensorboard_dir  # --tensorboard: event files while it trains
        self.execution = execution
        self.result_path = run_path(results_dir, spec.section, spec.run_id)
        self.checkpoint_path = os.path.join(checkpoint_dir, spec.section, f"{spec.run_id}.pt")
        splits = run_splits(spec, data)
        train, test = splits.train, splits.test
        # the translation test shifts natural images, then permutes them as the run's are
        self.natural_test, self.pixel_order = splits.natural_test, splits.pixel_order
        mean, std = STATS[spec.dataset]
        common = dict(mean=mean, std=std, device=self.device, channels_last=spec.channels_last)
        self.train_loader = train_loader(spec, train, self.device)
        self.train_eval_loader = TensorLoader(subset(train, spec.train_eval_subset, seed=0),
                                              EVAL_BATCH, **common)
        self.test_loader = TensorLoader(test, EVAL_BATCH, **common)
        self.common = common
        self.input_shape = tuple(train.images.shape[1:])
        self.evaluated_on = "validation" if spec.validation else "test"

        torch.manual_seed(spec.seed)
        self.model = build_model(spec.model, **spec.model_kwargs).to(self.device)
        if spec.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        # torch.compile'd forward for training only; evaluation and analyses use the module.
        self.forward = torch.compile(self.model) if execution.compile else self.model
        self.steps_per_epoch = len(self.train_loader)
        self.total_steps = spec.epochs * self.steps_per_epoch
        self.optimizer = make_optimizer(spec, self.model)
        self.scheduler = make_scheduler(spec, self.optimizer, self.total_steps)
        self.grad_steps = set(snapshot_steps(self.total_steps, spec.grad_snapshots))
        self.last_test = None  # the last epoch's Evaluation of the test split, reused at the end
        self.state = {"epoch": 0, "history": [], "gradient_flow": [], "output_gradients": [],
                      "trace": {"loss": [], "grad_norm": []}, "train_time_s": 0.0}

    # --- checkpoints -----------------------------------------------------------------------
    def save_checkpoint(self):
        folder = os.path.dirname(self.checkpoint_path)
        os.makedirs(folder, exist_ok=True)
        # A unique temporary name, renamed into place: a reader never sees half a checkpoint.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{self.spec.run_id}.", suffix=".tmp")
        os.close(fd)
        try:
            self._write_checkpoint(tmp)
            os.replace(tmp, self.checkpoint_path)
        except BaseException as err:
            if os.path.exists(tmp):
                os.remove(tmp)
            if isinstance(err, RuntimeError):  # torch.save's own write failure (a full disk)
                raise OSError(errno.EIO, f"torch.save failed: {str(err).splitlines()[0][:80]}",
                              self.checkpoint_path) from err
            raise

    def _write_checkpoint(self, path):
        torch.save({"spec": self.spec.as_dict(), "execution": self.execution.as_dict(),
                    "launch": self.launch_id,
                    "state": self.state,
                    "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "loader": self.train_loader.state_dict(),
                    "torch_rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda"
                    else None}, path)

    def discard_checkpoint(self):
        if os.path.exists(self.checkpoint_path):
            os.remove(self.checkpoint_path)

    def try_resume(self):
        """Load the checkpoint if it belongs to this exact spec; return the epochs it holds."""
        if not os.path.exists(self.checkpoint_path):
            return 0
        try:
            ckpt = load_checkpoint(self.checkpoint_path)
        except Exception as err:
            raise self._unusable(f"does not load ({type(err).__name__})") from err
        if not isinstance(ckpt, dict) or not CHECKPOINT_KEYS <= set(ckpt):
            raise self._unusable("is not one of this study's checkpoints")
        if not isinstance(ckpt["spec"], dict) or not self.spec.matches(ckpt["spec"]):
            # Settings changed since: start over rather than mix two recipes.
            tqdm.write(f"    its checkpoint is of other settings: starting {self.spec.run_id} "
                       f"from scratch (the next checkpoint replaces it)")
            return 0
        changed = execution_change(ckpt.get("execution"), self.execution.as_dict())
        if changed:
            # One run is trained in one way (one precision, compiled or not): never two halves.
            tqdm.write(f"    its checkpoint ran with other execution settings ({changed}): "
                       f"starting {self.spec.run_id} from scratch")
            return 0
        try:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.scheduler.load_state_dict(ckpt["scheduler"])
            self.train_loader.load_state_dict(ckpt["loader"])
            torch.set_rng_state(ckpt["torch_rng"])
            if ckpt["cuda_rng"] is not None and self.device.type == "cuda":
                torch.cuda.set_rng_state_all(ckpt["cuda_rng"])
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as err:
            raise self._unusable(f"does not fit this model ({type(err).__name__})") from err
        self.state = ckpt["state"]
        return self.state["epoch"]

    def _unusable(self, why):
        return CheckpointError(f"the checkpoint {self.checkpoint_path} {why}; delete it to "
                               f"restart {self.spec.run_id} from scratch")

    # --- training --------------------------------------------------------------------------
    def train_epoch(self, epoch):
        model, spec = self.model, self.spec
        model.train()
        n = self.train_loader.epoch_size
        losses = torch.zeros(self.steps_per_epoch, device=self.device)
        grad_norms = torch.zeros(self.steps_per_epoch, device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        bar = tqdm(self.train_loader, desc=f"{spec.run_id} epoch {epoch + 1}/{spec.epochs}",
                   leave=False, disable=not self.progress, unit="batch")
        # A compiled model pays its compile time in its first step: timed apart (one host wait)
        # and kept out of the epoch time, which counts that step at the mean of the others.
        first_step_s = None
        with measure.Timer(self.device) as timer:
            for i, (x, y) in enumerate(bar):
                if i == 1 and self.execution.compile and "compile_time_s" not in self.state:
                    first_step_s = timer.elapsed()
                step = epoch * self.steps_per_epoch + i
                # At a snapshot step the eager model also reports the gradient at every
                # layer's output (hooks read it; the step's numbers are unchanged).
                recording = step in self.grad_steps and not self.execution.compile
                with measure.OutputGradients(model) if recording else nullcontext() as outputs:
                    loss, out = forward_backward(self.forward, self.optimizer, x, y,
                                                 self.execution, spec.label_smoothing)
                if recording:
                    self.state.setdefault("output_gradients", []).append(
                        {"step": step, "epoch": epoch + i / self.steps_per_epoch,
                         "layers": outputs.norms, "sizes": outputs.sizes})
                # Kept on the device: reading them every step would stall a GPU.
                losses[i] = loss.detach()
                grad_norms[i] = nn.utils.get_total_norm(
                    [p.grad for p in model.parameters() if p.grad is not None])
                if step in self.grad_steps:
                    self._check_finite(losses[:i + 1], grad_norms[:i + 1], epoch)
                    self.state["gradient_flow"].append(
                        {"step": step, "epoch": epoch + i / self.steps_per_epoch,
                         "layers": measure.gradient_snapshot(model)})
                self.optimizer.step()
                self.scheduler.step()
                correct += (out.argmax(1) == y).sum()
        # The first host read of the epoch: the bar shows batches and ETA, the loss comes once.
        losses = losses.cpu()
        self._check_finite(losses, grad_norms, epoch)
        self._record_trace(losses, grad_norms)
        seconds = timer.seconds
        if first_step_s is not None:
            others = (seconds - first_step_s) / (self.steps_per_epoch - 1)
            self.state["compile_time_s"] = first_step_s - others
            seconds = others * self.steps_per_epoch
        return losses.mean().item(), correct.item() / n, seconds

    def _record_trace(self, losses, grad_norms):
        self.state["trace"]["loss"] += _round(losses.tolist())
        self.state["trace"]["grad_norm"] += _round(grad_norms.cpu().tolist())

    def _check_finite(self, losses, grad_norms, epoch):
        """Raise NonFiniteLoss naming the first NaN/inf among this epoch's step losses (the
        trace keeps the steps up to it)."""
        bad = (~torch.isfinite(losses)).nonzero()
        if len(bad):
            batch = bad[0, 0].item()
            self._record_trace(losses[:batch + 1], grad_norms[:batch + 1])
            raise NonFiniteLoss(
                f"{self.spec.run_id}: the training loss became {losses[batch].item()} at epoch "
                f"{epoch + 1}, batch {batch + 1}; lower the learning rate of this run's spec "
                f"(now {self.spec.lr}) or check the data. Its checkpoint from the last good "
                f"epoch is kept.", epoch + 1, batch + 1)

    def execute(self):
        """Train, measure and write the result JSON; returns the result."""
        result = self.train_and_measure()
        write_result(self.result_path, result)
        return result

    def train_and_measure(self):
        """The whole run without its result file: a worker of a launcher returns the result
        (its final weights under WEIGHTS) to the driver, which writes both (write_result)."""
        start_epoch = self.try_resume()
        spec = self.spec
        if start_epoch:
            print(f"    resumed from its checkpoint after epoch {start_epoch}", flush=True)
        if self.tensorboard_dir and start_epoch == 0:  # a fresh start: no older curves beside
            tensorboard_log.clear(self.tensorboard_dir, spec.section, spec.name, spec.seed)
        writer = (tensorboard_log.writer_for(self.tensorboard_dir, spec.section, spec.name,
                                             spec.seed) if self.tensorboard_dir else None)
        try:
            return self._train_and_measure(start_epoch, writer)
        finally:
            if writer is not None:
                writer.close()

    def _log_epoch(self, writer, epoch):
        """The epoch just finished, to TensorBoard: its scalars, its step losses, the gradient
        snapshots taken in it."""
        first = epoch * self.steps_per_epoch
        tensorboard_log.write_epoch(writer, self.state["history"][-1])
        tensorboard_log.write_steps(writer, self.state["trace"]["loss"][first:], first)
        for key, prefix, field in (("gradient_flow", "grad_norm", "norm"),
                                   ("output_gradients", "output_grad", None)):
            for snap in self.state.get(key, []):
                if snap["step"] >= first:
                    tensorboard_log.write_snapshot(writer, snap, prefix, field)
        writer.flush()

    def _train_and_measure(self, start_epoch, writer):
        spec = self.spec
        for epoch in range(start_epoch, spec.epochs):
            wall_start = time.perf_counter()
            lr = self.optimizer.param_groups[0]["lr"]
            try:
                train_loss, train_acc, seconds = self.train_epoch(epoch)
            except NonFiniteLoss as err:
                if not spec.divergence_is_result:
                    raise
                self.state["diverged"] = {"epoch": err.epoch, "batch": err.batch,
                                          "step": (err.epoch - 1) * self.steps_per_epoch
                                          + err.batch - 1}
                tqdm.write(f"  {spec.run_id} diverged at epoch {err.epoch}, batch {err.batch}: "
                           f"recorded as its result")
                self.last_test = None
                break
            with measure.Timer(self.device) as eval_timer:
                self.last_test = evaluate(self.model, self.test_loader, self.execution)
            test_loss, test_acc = self.last_test.loss, self.last_test.acc
            self.state["history"].append({
                "epoch": epoch + 1, "train_loss": train_loss, "train_acc": train_acc,
                "test_loss": test_loss, "test_acc": test_acc, "epoch_time_s": seconds,
                "eval_time_s": eval_timer.seconds, "lr_start": lr})
            self.state["train_time_s"] += seconds
            self.state["epoch"] = epoch + 1
            self.state["wall_time_s"] = (self.state.get("wall_time_s", 0.0)
                                         + time.perf_counter() - wall_start)
            self.save_checkpoint()
            if writer is not None:
                self._log_epoch(writer, epoch)
            # One line an epoch even without bars: background logs show where a run is.
            tqdm.write(f"  {spec.run_id} epoch {epoch + 1}/{spec.epochs}: train loss "
                       f"{train_loss:.4f} acc {train_acc:.4f} | {self.evaluated_on} loss "
                       f"{test_loss:.4f} acc {test_acc:.4f} | {seconds:.1f}s")
        wall_start = time.perf_counter()
        result = self.measure()
        # Everything this run cost: training, per-epoch evaluation, checkpoints, measurements.
        result["final"]["wall_time_s"] = (self.state.get("wall_time_s", 0.0)
                                          + time.perf_counter() - wall_start)
        result[WEIGHTS] = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        return result

    def translation(self, unshifted_acc):
        """Test accuracy with the (natural) test images moved by each of SHIFT_PIXELS in each of
        SHIFT_DIRECTIONS, zero-filled, then permuted as the run's images are; 0 pixels is the
        unshifted test accuracy itself. None for datasets outside SHIFT_DATASETS."""
        if self.spec.dataset not in SHIFT_DATASETS:
            return None
        by_direction = {}
        for direction, (dy, dx) in SHIFT_DIRECTIONS.items():
            accs = [unshifted_acc]
            for k in SHIFT_PIXELS[1:]:
                moved = shift_images(self.natural_test.images, dy * k, dx * k)
                split = type(self.natural_test)(moved, self.natural_test.labels)
                if self.pixel_order is not None:
                    split = permute_pixels(split, self.pixel_order)
                loader = TensorLoader(split, EVAL_BATCH, **self.common)
                accs.append(evaluate(self.model, loader, self.execution).acc)
            by_direction[direction] = accs
        return {"pixels": list(SHIFT_PIXELS), "fill": "zero",
                "directions": list(SHIFT_DIRECTIONS),
                "acc": [sum(a[i] for a in by_direction.values()) / len(by_direction)
                        for i in range(len(SHIFT_PIXELS))],
                "acc_by_direction": by_direction}

    def measure(self):
        spec, model = self.spec, self.model
        train_loss, train_acc, *_ = evaluate(model, self.train_eval_loader, self.execution)
        test = self.last_test or evaluate(model, self.test_loader, self.execution)
        test_loss, test_acc, preds = test.loss, test.acc, test.preds
        history = self.state["history"]
        # A run that diverged in its first epoch has no finished epoch to report.
        last = history[-1] if history else {"train_acc": None, "train_loss": None}
        speed = measure.inference_speed(model, self.input_shape, self.device,
                                        channels_last=spec.channels_last,
                                        throughput_batch=spec.inference_batch)
        return {
            "name": spec.name, "run_id": spec.run_id, "model": spec.model,
            "model_kwargs": spec.model_kwargs, "dataset": spec.dataset, "section": spec.section,
            "profile": spec.profile, "seed": spec.seed,
            "params": measure.count_params(model),
            "macs": measure.count_macs(model, self.input_shape),
            # one training pass per image, counted (not 6 x MACs: utils/train/measure.py)
            "train_flops": measure.count_train_flops(model, self.input_shape),
            "param_breakdown": measure.param_breakdown(model),
            "input_shape": list(self.input_shape),
            "train_size": len(self.train_loader.labels), "test_size": len(self.test_loader.labels),
            "train_eval_size": len(self.train_eval_loader.labels),
            # "validation": every test_* number below is on images held out of train.
            "evaluated_on": self.evaluated_on,
            "hyperparameters": spec.hyperparameters(),
            "history": history,
            # {"epoch", "batch", "step"} of the first non-finite loss, or None: trained through.
            "diverged": self.state.get("diverged"),
            "final": {
                # train_acc: running accuracy over the last epoch (augmented, dropout on), as the
                # reference reported it; train_acc_eval: the trained model on the clean train set.
                "train_acc": last["train_acc"], "train_loss": last["train_loss"],
                "train_acc_eval": train_acc, "train_loss_eval": _finite_or_none(train_loss),
                "test_acc": test_acc, "test_loss": _finite_or_none(test_loss),
                # expected calibration error over 15 equal-width confidence bins
                "test_ece": _finite_or_none(measure.calibration_error(
                    test.confidence, preds == self.test_loader.labels.cpu())),
                "train_time_s": self.state["train_time_s"],
                "time_per_epoch_s": self.state["train_time_s"] / max(1, len(history)),
                # the first compiled step's extra time, kept out of the epoch times (--compile)
                **({"compile_time_s": self.state["compile_time_s"]}
                   if "compile_time_s" in self.state else {}),
                **speed},
            "gradient_flow": self.state["gradient_flow"],
            "trace": self.state["trace"],
            "classes": CLASSES[spec.dataset],
            "confusion_matrix": confusion_matrix(self.test_loader.labels, preds, 10),
            # per image, in the test split's fixed order: paired comparisons across runs
            "predictions": predictions.encode(self.test_loader.labels.cpu().numpy(),
                                              preds.numpy(), test.log_p_true.numpy(),
                                              test.confidence.numpy()),
            # ||dL/d(layer output)|| at the gradient snapshots (eager runs; --compile has none)
            "output_gradients": self.state.get("output_gradients", []),
            "translation": self.translation(test.acc),
            "pixel_permutation": None if self.pixel_order is None else {
                "seed": spec.pixel_permutation, "order": self.pixel_order.tolist()},
            "environment": measure.environment(self.device),
            "execution": self.execution.as_dict(),
            "spec": spec.as_dict(),
            "analyses": run_analyses(spec.analyses, model, self.test_loader),
        }
