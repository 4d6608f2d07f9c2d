"""The published reference solution's numbers, quoted from ../shared/ASSIGNMENT.md.

These are another project's figures, kept only to print beside ours; nothing here is a result
of this project.
"""

REFERENCE = {
    "mnist_comparison": {
        "FCNet": {"params": 567_434, "train_acc": 0.9954, "test_acc": 0.9806,
                  "train_time_s": 81.64},
        "SimpleCNN": {"params": 241_546, "train_acc": 0.9968, "test_acc": 0.9911,
                      "train_time_s": 280.84},
        "ResNetLike": {"params": 290_058, "train_acc": 0.9983, "test_acc": 0.9905,
                       "train_time_s": 591.11},
    },
    "cifar_comparison": {
        "DeepFCNet": {"train_acc": 0.4353, "test_acc": 0.4781, "train_time_s": 718.84},
        "ResNetCIFAR": {"train_acc": 0.9105, "test_acc": 0.8273, "train_time_s": 1169.86},
        "ResNetCIFARRegularized": {"train_acc": 0.7711, "test_acc": 0.7934,
                                   "train_time_s": 1294.81},
    },
}

REFERENCE.update({
    # 2.1: its own metrics files show these runs trained for 20 epochs (ours: 10).
    "kernel_size": {
        "CNN_3x3": {"params": 20_042, "train_acc": 0.5329, "test_acc": 0.5329,
                    "train_time_s": 584.58, "epochs": 20},
        "CNN_5x5": {"params": 19_922, "train_acc": 0.5562, "test_acc": 0.5503,
                    "train_time_s": 584.88, "epochs": 20},
        "CNN_7x7": {"params": 18_782, "train_acc": 0.5460, "test_acc": 0.5445,
                    "train_time_s": 588.64, "epochs": 20},
        "CNN_Combo": {"params": 19_274, "train_acc": 0.4554, "test_acc": 0.4378,
                      "train_time_s": 580.48, "epochs": 20},
    },
    "depth": {
        "ShallowCNN": {"train_acc": 0.4709, "test_acc": 0.4608, "train_time_s": 806.29},
        "MediumCNN": {"train_acc": 0.6180, "test_acc": 0.6093, "train_time_s": 3333.88},
        "DeepCNN": {"train_acc": 0.6776, "test_acc": 0.6872, "train_time_s": 6332.97},
        "ResidualCNN": {"train_acc": 0.8504, "test_acc": 0.7883, "train_time_s": 11413.16},
    },
})

REFERENCE.update({
    # 3.1: the reference's custom net reached 0.8876 after 5 epochs and 0.8962 in a second run
    # of unstated length; its 3.1 table's FCNet row is Task 1's, its SimpleCNN row another run
    # (epochs not stated) than Task 1's 0.9911.
    "custom_layers": {
        "CNNWithCustomLayers (5 epochs)": {"train_acc": 0.8582, "test_acc": 0.8876,
                                           "train_time_s": 96.28},
        "CNNWithCustomLayers": {"train_acc": 0.8872, "test_acc": 0.8962, "train_time_s": 200.80},
        "SimpleCNN": {"train_acc": 0.9948, "test_acc": 0.9880, "train_time_s": 131.26},
        "FCNet": {"train_acc": 0.9954, "test_acc": 0.9806, "train_time_s": 81.64},
    },
    # 3.2: accuracies from the reference's own metrics files, after 20 epochs (ours: 10).
    "residual_blocks": {
        "BasicResNet": {"params": 304_810, "train_acc": 0.9321, "test_acc": 0.7975,
                        "train_time_s": 589.55, "epochs": 20},
        "BottleneckResNet": {"params": 33_770, "train_acc": 0.7384, "test_acc": 0.7006,
                             "train_time_s": 583.22, "epochs": 20},
        "WideResNet": {"params": 886_762, "train_acc": 0.9554, "test_acc": 0.8158,
                       "train_time_s": 602.42, "epochs": 20},
    },
})

# The targets this project set itself (its issue 6): test accuracy at the last epoch, full
# profile, mean over seeds; each above the reference's number but one: 3.2 has one target for
# its three block types, 0.80, below the reference's WideResNet (0.8158 after 20 epochs). Kernel
# size has one target for the best of its four variants, keyed BEST_KERNEL.
BEST_KERNEL = "best kernel variant"
TARGETS = {
    "mnist_comparison": {"FCNet": 0.982, "SimpleCNN": 0.992, "ResNetLike": 0.993},
    "cifar_comparison": {"DeepFCNet": 0.52, "ResNetCIFAR": 0.86, "ResNetCIFARRegularized": 0.86},
    "kernel_size": {BEST_KERNEL: 0.60},
    "depth": {"ShallowCNN": 0.50, "MediumCNN": 0.66, "DeepCNN": 0.72, "ResidualCNN": 0.82},
    "custom_layers": {"CNNWithCustomLayers": 0.99},
    "residual_blocks": {"BasicResNet": 0.80, "BottleneckResNet": 0.80, "WideResNet": 0.80},
}

# Published MNIST test errors on the questions section 1.3 asks (fully connected against
# convolutional, and what distorted training images buy each), quoted from the papers' tables
# to print beside ours as reference, never as results of this project. LeCun et al. 1998,
# "Gradient-based learning applied to document recognition" (Proc. IEEE), Fig. 9; Simard,
# Steinkraus & Platt 2003, "Best practices for convolutional neural networks applied to visual
# document analysis" (ICDAR), Table 2.
LITERATURE = (
    {"source": "LeCun et al. 1998", "net": "FC net, 300+100 hidden units", "kind": "fc",
     "training": "plain", "test_error_pct": 3.05},
    {"source": "LeCun et al. 1998", "net": "LeNet-5", "kind": "cnn", "training": "plain",
     "test_error_pct": 0.95},
    {"source": "LeCun et al. 1998", "net": "LeNet-5", "kind": "cnn", "training": "distorted",
     "test_error_pct": 0.8},
    {"source": "Simard et al. 2003", "net": "FC net, 800 hidden units", "kind": "fc",
     "training": "plain", "test_error_pct": 1.6},
    {"source": "Simard et al. 2003", "net": "FC net, 800 hidden units", "kind": "fc",
     "training": "distorted", "test_error_pct": 0.7},
    {"source": "Simard et al. 2003", "net": "CNN", "kind": "cnn", "training": "distorted",
     "test_error_pct": 0.4},
)
