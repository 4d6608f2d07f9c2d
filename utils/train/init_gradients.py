"""The backpropagated signal at initialisation, for finished runs, without retraining them: the
run's seed fixes its initial weights (the runner seeds torch before it builds the model) and its
training loader's first batch, so one forward and backward of that batch gives the gradient at
every layer's output exactly as the run saw it at step 0 (measure.OutputGradients).

    python -m utils.train.init_gradients                     # results/ -> results/init_gradients.json
    python -m utils.train.init_gradients --results-dir results/quick

Runs recorded since the runner measures it carry the same in their `output_gradients`; this
record covers every run of the folder, older ones included.
"""
import argparse
import os
import sys

import torch
from tqdm.auto import tqdm

from models import build_model
from utils.results import load_section, write_json_atomic
from utils.sections import SECTIONS
from utils.spec import RunSpec
from utils.train import measure
from utils.train.cli import cached_dataset
from utils.train.data import default_data_root
from utils.train.runner import forward_backward, make_optimizer, run_splits, train_loader

RECORD = "init_gradients.json"


def at_init(spec, data):
    """{"layers": {name: ||dL/d output||}, "sizes": {name: values per image}} at step 0."""
    loader = train_loader(spec, run_splits(spec, data).train)
    torch.manual_seed(spec.seed)  # as the runner does, just before it builds the model
    model = build_model(spec.model, **spec.model_kwargs)
    if spec.channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    x, y = next(iter(loader))
    with measure.OutputGradients(model) as grads:
        forward_backward(model, make_optimizer(spec, model), x, y,
                         label_smoothing=spec.label_smoothing)
    return {"layers": grads.norms, "sizes": grads.sizes, "batch": len(y)}


def record(results_dir, data_dir):
    runs = [r for s in SECTIONS for r in load_section(results_dir, s.folder)]
    out = {}
    for result in tqdm(runs, desc="runs", unit="run", disable=not sys.stderr.isatty()):
        spec = RunSpec(**result["spec"])
        out[f"{result['section']}/{result['run_id']}"] = at_init(
            spec, cached_dataset(spec.dataset, data_dir))
    path = os.path.join(results_dir, RECORD)
    write_json_atomic(path, {"note": __doc__.split("\n\n")[0], "runs": out})
    return path, len(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results-dir", default="results")
    p.add_argument("--data-dir", default=default_data_root())
    args = p.parse_args(argv)
    path, n = record(args.results_dir, args.data_dir)
    print(f"{n} runs measured at initialisation: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
