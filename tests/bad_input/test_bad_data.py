"""Bad input to the data loaders: split names, task classes, few-shot draws, damaged files, the ImageNet weights.

Each case is a learner's mistake and the error that must teach (see bad_input_harness). Damaged files are made
in a fresh temporary folder when the case runs.
"""
import tempfile
from pathlib import Path

import numpy as np
import pytest
from bad_input_harness import Bad, assert_teaches

from course_lib import data
from course_lib.data import MNIST10K_SHA256, DataIntegrityError
from course_lib.lessons import nb09_transfer_learning as nb09


def _damaged_copy(content: bytes, name: str = "mnist10k.npz") -> Path:
    path = Path(tempfile.mkdtemp()) / name
    path.write_bytes(content)
    return path


def _truncated_digits() -> Path:
    """The first half of the digits file: an interrupted download or copy."""
    whole = data.MNIST10K_PATH.read_bytes()
    return _damaged_copy(whole[: len(whole) // 2])


GIT_LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
                   b"oid sha256:" + MNIST10K_SHA256.encode() + b"\nsize 1621305\n")
LABELS = np.array([0, 1, 0, 1, 2, 2])

CASES = [
    # split names: the valid ones, and the closest one
    Bad("load_mnist: split 'Train' in capitals", lambda: data.load_mnist("Train"), ValueError,
        says=("split", "'Train'", "did you mean 'train'")),
    Bad("load_mnist: split 'tst' misspelt", lambda: data.load_mnist("tst"), ValueError,
        says=("'tst'", "did you mean 'test'")),
    Bad("load_mnist: split None", lambda: data.load_mnist(None), ValueError,
        says=("split", "None", "'train', 'test', 'fit', 'validation'")),
    Bad("load_torchvision_mnist: split 'validation'", lambda: data.load_torchvision_mnist("/nonexistent", "validation"),
        ValueError, says=("'train' and 'test'", "'validation'", "load_mnist(split)")),
    # task_digits: the classes of a task
    Bad("task_digits: a digit twice", lambda: data.task_digits("test", (5, 5, 6)), ValueError,
        says=("classes", "[5]", "twice", "once")),
    Bad("task_digits: digit 10", lambda: data.task_digits("test", (5, 10)), ValueError,
        says=("classes", "10", "0..9")),
    Bad("task_digits: digit -1", lambda: data.task_digits("test", (-1, 5)), ValueError,
        says=("classes", "-1", "0..9")),
    Bad("task_digits: no classes", lambda: data.task_digits("test", ()), ValueError,
        says=("classes is empty", "(5, 6, 7, 8, 9)")),
    Bad("task_digits: one int, not a sequence", lambda: data.task_digits("test", 5), TypeError,
        says=("classes", "sequence", "(5,)")),
    Bad("task_digits: a float digit", lambda: data.task_digits("test", (1.0, 2)), ValueError,
        says=("classes", "1.0", "whole numbers")),
    # few_shot_indices and validation_mask
    Bad("few_shot_indices: n=0", lambda: data.few_shot_indices(LABELS, 0, seed=0), ValueError,
        says=("n", "n=0", "at least 1")),
    Bad("few_shot_indices: n=1.5", lambda: data.few_shot_indices(LABELS, 1.5, seed=0), ValueError,
        says=("n=1.5", "whole number")),
    Bad("few_shot_indices: labels (2, 3)", lambda: data.few_shot_indices(LABELS.reshape(2, 3), 1, seed=0), ValueError,
        says=("labels", "1-D", "(2, 3)")),
    Bad("few_shot_indices: no labels", lambda: data.few_shot_indices(np.array([], dtype=int), 1, seed=0), ValueError,
        says=("labels", "non-empty", "(0,)")),
    Bad("validation_mask: size larger than the labels", lambda: data.validation_mask(LABELS, size=10), ValueError,
        says=("size=10", "6 labels", "0 < size < 6")),
    Bad("standardize: floats already scaled", lambda: data.standardize(np.zeros((2, 28, 28))), TypeError,
        says=("uint8", "float64", "load_mnist")),
    # damaged files: what they are, the expected hash, how to get the right one
    Bad("load_mnist: a truncated file", lambda: data.load_mnist("train", path=_truncated_digits()), DataIntegrityError,
        says=("wrong sha256", MNIST10K_SHA256, "truncated", "git checkout data/mnist10k.npz", "build_mnist10k.py")),
    Bad("load_mnist: a git-lfs pointer instead of the npz", lambda: data.load_mnist("test",
        path=_damaged_copy(GIT_LFS_POINTER)), DataIntegrityError, says=("expected", MNIST10K_SHA256, "git-lfs",
                                                                         "git checkout data/mnist10k.npz")),
    Bad("load_mnist: a folder instead of the file", lambda: data.load_mnist("fit", path=tempfile.mkdtemp()),
        FileNotFoundError, says=("not found", "git checkout data/mnist10k.npz")),
    Bad("load_imagenet_resnet18: weights_path to other bytes",
        lambda: nb09.load_imagenet_resnet18(_damaged_copy(b"not a checkpoint", "resnet18.pth")), DataIntegrityError,
        says=("not torchvision's resnet18-f37072fd.pth", "expected f37072fd", "actual", "IMAGENET1K_V1",
              "check_sha256=False")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_teaches(case):
    assert_teaches(case)
