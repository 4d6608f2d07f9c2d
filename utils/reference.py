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
