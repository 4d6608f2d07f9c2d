"""Per-image test predictions in a result file: compact enough to keep with every run (about
30 KB for 10,000 images), read back without torch by whatever pairs two runs image by image.

Each run evaluates its test images in one fixed order (utils/data.subset with seed 0), so two
runs with the same test split are paired image by image. Stored per image: the true label, the
predicted class, and the log-probability the model gave the true class (float16: NLL to ~1e-3
relative). Each array is zlib-compressed and base64-encoded.
"""
import base64
import zlib

import numpy as np

FORMAT = "zlib-base64-v1"
_FIELDS = {"label": np.uint8, "pred": np.uint8, "log_p_true": np.float16,
           "confidence": np.float16}
# Older runs lack these; a reader says "not recorded" where it needs one.
_OPTIONAL = ("confidence",)


def encode(labels, preds, log_p_true, confidence=None):
    """The `predictions` entry of a result: equal-length arrays (numpy or lists)."""
    arrays = {"label": labels, "pred": preds, "log_p_true": log_p_true,
              **({"confidence": confidence} if confidence is not None else {})}
    n = {len(a) for a in arrays.values()}
    if len(n) != 1:
        raise ValueError(f"predictions of unequal lengths {sorted(n)}")
    out = {"format": FORMAT, "n": n.pop()}
    for key, dtype in _FIELDS.items():
        if key not in arrays:
            continue
        raw = np.asarray(arrays[key]).astype(dtype).astype(np.dtype(dtype).newbyteorder("<"))
        out[key] = base64.b64encode(zlib.compress(raw.tobytes(), 9)).decode("ascii")
    return out


def decode(entry):
    """{"label", "pred", "log_p_true", "correct"} (+ "confidence" where recorded) as numpy
    arrays; ValueError if malformed."""
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        raise ValueError("not a predictions entry of format " + FORMAT)
    out = {}
    for key, dtype in _FIELDS.items():
        if key in _OPTIONAL and key not in entry:
            continue
        raw = zlib.decompress(base64.b64decode(entry[key]))
        out[key] = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
        if len(out[key]) != entry["n"]:
            raise ValueError(f"predictions field {key} holds {len(out[key])} of {entry['n']}")
    out["correct"] = out["pred"] == out["label"]
    return out
