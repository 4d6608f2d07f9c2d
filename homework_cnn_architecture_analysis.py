"""Task 2: CNN architecture analysis on CIFAR-10 — kernel size (2.1) and depth (2.2).

Declares the runs as data; utils/ trains them, writes one JSON per run under
results/{kernel_size,depth,depth_sweep}/, draws plots/architecture_analysis/ and regenerates the report.

    python homework_cnn_architecture_analysis.py --profile quick    # minutes on a 2-core CPU
    python homework_cnn_architecture_analysis.py --section 2.1 --budget 30000
"""
import sys
from dataclasses import replace

from models import build_model
from utils.train.cli import int_in, main
from utils.train.param_search import widths_for_budget
from utils.profiles import CIFAR_CONV, for_profile
from utils.train.runner import RunSpec
from utils.sections import DEEP_DEPTH, folder, order

KERNEL, DEPTH, DEPTH_SWEEP = folder("2.1"), folder("2.2"), folder("2.2-sweep")

KERNEL_VARIANTS, DEPTH_VARIANTS = order("2.1"), order("2.2")


def kernel_specs(args):
    """2.1: four kernel variants of one layout, each sized by the equal-parameter search to the
    same budget (--budget); the Task 1 CIFAR recipe."""
    specs = []
    for name in KERNEL_VARIANTS:
        widths, _ = widths_for_budget(lambda w, n=name: build_model(n, widths=w), args.budget)
        specs.append(RunSpec(name=name, section=KERNEL, model=name,
                             model_kwargs={"widths": list(widths)},
                             analyses=["first_layer", "receptive_field"],
                             meta={"param_budget": args.budget}, **CIFAR_CONV))
    return for_profile(specs, args)


def depth_specs(args):
    """2.2: 2, 4 and 10 (--deep-depth) conv layers, and the deep net with skip connections;
    gradient norms sampled at six points of training."""
    deep = {"depth": args.deep_depth} if args.deep_depth != DEEP_DEPTH else {}
    specs = [RunSpec(name=name, section=DEPTH, model=name, grad_snapshots=6,
                     model_kwargs=deep if name in ("DeepCNN", "ResidualCNN") else {},
                     analyses=["feature_maps"], **CIFAR_CONV) for name in DEPTH_VARIANTS]
    return for_profile(specs, args)


# The depth sweep (section "2.2-sweep"): the CIFAR ResNet family at 6n + 2 layers, each depth
# plain and residual, with and without BatchNorm, all on one recipe (Task 1's CIFAR one), so that
# vanishing/exploding gradients and the degradation of deep plain nets can show. A run whose loss
# becomes non-finite is a result here (it diverged), not an error. Depths and epochs per profile:
# the full sweep's 12 runs take ~1.7 h on the 2-core CPU (--plan); quick keeps every comparison at
# smaller depths on its data subset.
# Quick trains its sweep on 2,500 of its 6,000 CIFAR images: 12 runs in ~2 minutes.
SWEEP = {"full": dict(depths=(8, 20, 56), epochs=3),
         "quick": dict(depths=(8, 14, 20), epochs=2, train_subset=2_500),
         "smoke": dict(depths=(8, 14), epochs=1)}


def sweep_name(depth, residual, batchnorm):
    return f"{'Residual' if residual else 'Plain'}{depth}{'' if batchnorm else '_noBN'}"


def sweep_specs(args):
    plan = dict(SWEEP[args.profile])
    depths = plan.pop("depths")
    specs = [RunSpec(name=sweep_name(depth, residual, bn), section=DEPTH_SWEEP,
                     model="SweepResNet", grad_snapshots=8, divergence_is_result=True,
                     model_kwargs={"depth": depth, "residual": residual, "batchnorm": bn},
                     **CIFAR_CONV)
             for depth in depths for bn in (True, False) for residual in (False, True)]
    return [replace(s, **plan) for s in for_profile(specs, args)]


def options(parser):
    # Bounded so that the width search and --plan answer in seconds.
    parser.add_argument("--budget", type=int_in(5_000, 200_000), default=20_000,
                        help="2.1: the parameter count every kernel variant is sized to (±2%%), "
                             "5,000 to 200,000")
    parser.add_argument("--deep-depth", type=int_in(6, 56), default=DEEP_DEPTH,
                        help="2.2: conv layers of DeepCNN and ResidualCNN, 6 to 56 (below 6 "
                             "ResidualCNN would have no skip connection)")


SECTIONS = {"2.1": kernel_specs, "2.2": depth_specs, "2.2-sweep": sweep_specs}


if __name__ == "__main__":
    sys.exit(main(__doc__.split("\n\n")[0], SECTIONS, extra_options=options))
