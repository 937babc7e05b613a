"""Bad input to the per-position cross-entropy (scratch.CrossEntropyLoss, functional.cross_entropy with
(N, C, H, W) logits): label maps of the wrong shape, dtype or range are refused with both shapes and the rule
"(N, C, H, W) logits take (N, H, W) targets" (torch_does: the same mistake in torch)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bad_input_harness import Bad, assert_teaches
from course_lib import scratch
from course_lib.scratch import functional as sf

LOGITS = np.zeros((2, 3, 4, 5))          # (N, C, H, W)
LABELS = np.zeros((2, 4, 5), np.int64)   # (N, H, W)


def torch_ce(logits: np.ndarray, target: np.ndarray):
    return lambda: F.cross_entropy(torch.as_tensor(logits), torch.as_tensor(target))


OUT_OF_RANGE = LABELS.copy()
OUT_OF_RANGE[1, 2, 3] = 3

CASES = [
    Bad("CrossEntropyLoss: label maps with H and W transposed (N, W, H)",
        lambda: scratch.CrossEntropyLoss()(LOGITS, LABELS.transpose(0, 2, 1)), ValueError,
        says=("(2, 3, 4, 5)", "(2, 4, 5)", "(2, 5, 4)", "(N, C, H, W) logits take (N, H, W) targets", "swapped"),
        torch_does=torch_ce(LOGITS, LABELS.transpose(0, 2, 1))),
    Bad("CrossEntropyLoss: label maps with a channel axis (N, 1, H, W)",
        lambda: scratch.CrossEntropyLoss()(LOGITS, LABELS[:, None]), ValueError,
        says=("(2, 1, 4, 5)", "(2, 4, 5)", "(N, C, H, W) logits take (N, H, W) targets", "target.squeeze(1)"),
        torch_does=torch_ce(LOGITS, LABELS[:, None])),
    Bad("cross_entropy: float label maps", lambda: sf.cross_entropy(LOGITS, LABELS.astype(np.float64)), TypeError,
        says=("integer class indices", "float64", "target.astype(np.int64)"),
        torch_does=torch_ce(LOGITS, LABELS.astype(np.float64))),
    Bad("cross_entropy: probability targets of the logits' shape (torch accepts them; scratch does not)",
        lambda: sf.cross_entropy(LOGITS, np.full(LOGITS.shape, 1 / 3)), TypeError,
        says=("integer class indices", "Probability targets", "not supported")),
    Bad("cross_entropy: integer targets of the logits' own shape",
        lambda: sf.cross_entropy(LOGITS, np.zeros(LOGITS.shape, np.int64)), ValueError,
        says=("(2, 3, 4, 5)", "(2, 4, 5)", "no class axis"),
        torch_does=torch_ce(LOGITS, np.zeros(LOGITS.shape, np.int64))),
    Bad("cross_entropy: a pixel of class 3 with 3 classes", lambda: sf.cross_entropy(LOGITS, OUT_OF_RANGE),
        ValueError, says=("labels must be in 0..2", "target[1, 2, 3] = 3", "1 label(s) out of range"),
        torch_does=torch_ce(LOGITS, OUT_OF_RANGE)),
    Bad("cross_entropy_backward, reduction='none': one number where one gradient per pixel is expected",
        lambda: sf.cross_entropy_backward(1.0, LOGITS, LABELS, reduction="none"), ValueError,
        says=("grad_output has shape ()", "(2, 4, 5)"),
        torch_does=lambda: F.cross_entropy(torch.zeros(2, 3, 4, 5, requires_grad=True), torch.as_tensor(LABELS),
                                           reduction="none").backward(torch.tensor(1.0))),
    Bad("cross_entropy_backward: label maps with a channel axis",
        lambda: sf.cross_entropy_backward(1.0, LOGITS, LABELS[:, None]), ValueError,
        says=("cross_entropy_backward", "(2, 1, 4, 5)", "target.squeeze(1)")),
]


@pytest.mark.parametrize("case", [case.param() for case in CASES])
def test_bad_spatial_cross_entropy_teaches(case):
    assert_teaches(case)
