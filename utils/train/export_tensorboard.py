"""Write TensorBoard event files for every finished run of a results folder, from its JSON: the
whole committed study in `tensorboard --logdir`, with no retraining (the tags of a run trained
with --tensorboard; utils/train/tensorboard_log.py).

    python -m utils.train.export_tensorboard                       # results/ -> runs/
    python -m utils.train.export_tensorboard --results-dir results/quick --out runs/quick
    tensorboard --logdir runs
"""
import argparse
import os
import sys

from tqdm.auto import tqdm

from utils.train import tensorboard_log
from utils.results import load_section
from utils.sections import SECTIONS


def export(results_dir, out):
    """Event files for each finished run under `out`; returns how many runs were written. A
    run's folder is written anew each time (an export never appends to an older one)."""
    runs = [r for s in SECTIONS for r in load_section(results_dir, s.folder)]
    for result in tqdm(runs, desc="runs", unit="run", disable=not sys.stderr.isatty()):
        tensorboard_log.clear(out, result["section"], result["name"], result["seed"])
        writer = tensorboard_log.writer_for(out, result["section"], result["name"],
                                            result["seed"])
        tensorboard_log.write_result(writer, result)
        writer.close()
    return len(runs)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results-dir", default="results", help="where the result JSON are")
    p.add_argument("--out", default="runs", help="where the event files go (tensorboard --logdir)")
    args = p.parse_args(argv)
    if not os.path.isdir(args.results_dir):
        print(f"error: {args.results_dir} is not a folder; point --results-dir at one",
              file=sys.stderr)
        return 2
    n = export(args.results_dir, args.out)
    print(f"{n} runs written under {args.out}; view them with: tensorboard --logdir {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
