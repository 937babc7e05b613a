"""Bad input to scratch Upsample, functional.interpolate and functional.cat: refused where torch refuses, with the
argument at fault and the fix in the message (torch_does: the same mistake in torch)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bad_input_harness import Bad, assert_teaches
from course_lib import scratch
from course_lib.scratch import functional as sf


def zeros(*shape: int) -> np.ndarray:
    return np.zeros(shape)


def t(*shape: int, grad: bool = False) -> torch.Tensor:
    return torch.zeros(shape, dtype=torch.float64, requires_grad=grad)


X = zeros(1, 2, 4, 4)

CASES = [
    Bad("interpolate: both size and scale_factor", lambda: sf.interpolate(X, size=8, scale_factor=2), ValueError,
        says=("exactly one of size", "scale_factor", "both"),
        torch_does=lambda: F.interpolate(t(1, 2, 4, 4), size=8, scale_factor=2)),
    Bad("interpolate: neither size nor scale_factor", lambda: sf.interpolate(X), ValueError,
        says=("exactly one of size", "neither"), torch_does=lambda: F.interpolate(t(1, 2, 4, 4))),
    Bad("interpolate: mode='bicubic' (torch has it, scratch does not)",
        lambda: sf.interpolate(X, scale_factor=2, mode="bicubic"), NotImplementedError,
        says=("'bicubic'", "'nearest' and 'bilinear'", "use torch")),
    Bad("interpolate: mode misspelt", lambda: sf.interpolate(X, scale_factor=2, mode="bilinar"), NotImplementedError,
        says=("'bilinar'", "'nearest' and 'bilinear'"),
        torch_does=lambda: F.interpolate(t(1, 2, 4, 4), scale_factor=2, mode="bilinar")),
    Bad("interpolate: align_corners with nearest", lambda: sf.interpolate(X, scale_factor=2, align_corners=True),
        ValueError, says=("align_corners", "mode='bilinear'", "None"),
        torch_does=lambda: F.interpolate(t(1, 2, 4, 4), scale_factor=2, align_corners=True)),
    Bad("interpolate: one image (C, H, W), bilinear", lambda: sf.interpolate(zeros(2, 4, 4), scale_factor=2,
                                                                              mode="bilinear"),
        ValueError, says=("(N, C, H, W)", "(2, 4, 4)", "x[None]"),
        torch_does=lambda: F.interpolate(t(2, 4, 4), scale_factor=2, mode="bilinear")),
    Bad("interpolate: size=0", lambda: sf.interpolate(X, size=0), ValueError, says=("size", "positive", "0"),
        torch_does=lambda: F.interpolate(t(1, 2, 4, 4), size=0)),
    Bad("interpolate: size of three numbers for 4-D input", lambda: sf.interpolate(X, size=(4, 5, 6)), ValueError,
        says=("size", "(height, width)", "(4, 5, 6)"), torch_does=lambda: F.interpolate(t(1, 2, 4, 4), size=(4, 5, 6))),
    Bad("interpolate: negative scale_factor", lambda: sf.interpolate(X, scale_factor=-2), ValueError,
        says=("scale_factor", "positive", "-2"), torch_does=lambda: F.interpolate(t(1, 2, 4, 4), scale_factor=-2)),
    Bad("interpolate: scale_factor shrinks to nothing", lambda: sf.interpolate(X, scale_factor=0.1), ValueError,
        says=("scale_factor=0.1", "4x4", "0x0", "larger"),
        torch_does=lambda: F.interpolate(t(1, 2, 4, 4), scale_factor=0.1)),
    Bad("interpolate: a torch tensor", lambda: sf.interpolate(t(1, 2, 4, 4), scale_factor=2), TypeError,
        says=("torch tensor", ".numpy()")),
    Bad("interpolate_backward: grad_output of the input's shape",
        lambda: sf.interpolate_backward(X, X.shape, scale_factor=2), ValueError,
        says=("grad_output has shape (1, 2, 4, 4)", "(1, 2, 8, 8)"),
        torch_does=lambda: F.interpolate(t(1, 2, 4, 4, grad=True), scale_factor=2).backward(t(1, 2, 4, 4))),
    Bad("Upsample(): neither size nor scale_factor", lambda: scratch.Upsample(), ValueError,
        says=("Upsample", "exactly one of size", "neither"), torch_does=lambda: torch.nn.Upsample()(t(1, 2, 4, 4))),
    Bad("Upsample(size=[])", lambda: scratch.Upsample(size=[]), ValueError,
        says=("size", "(height, width)", "[]"), torch_does=lambda: torch.nn.Upsample(size=[])(t(1, 2, 4, 4))),
    Bad("Upsample(mode='linear') for images", lambda: scratch.Upsample(scale_factor=2, mode="linear"),
        NotImplementedError, says=("'linear'", "'bilinear'"),
        torch_does=lambda: torch.nn.Upsample(scale_factor=2, mode="linear")(t(1, 2, 4, 4))),
    Bad("cat: skip and upsampled branch differ in H and W", lambda: sf.cat([zeros(2, 3, 8, 8), zeros(2, 4, 7, 7)]),
        ValueError, says=("(2, 4, 7, 7)", "(2, 3, 8, 8)", "dim=1", "crop or pad"),
        torch_does=lambda: torch.cat([t(2, 3, 8, 8), t(2, 4, 7, 7)], dim=1)),
    Bad("cat: different ranks", lambda: sf.cat([zeros(2, 3, 8, 8), zeros(3, 8, 8)]), ValueError,
        says=("(3, 8, 8)", "(2, 3, 8, 8)"), torch_does=lambda: torch.cat([t(2, 3, 8, 8), t(3, 8, 8)], dim=1)),
    Bad("cat: an empty list", lambda: sf.cat([]), ValueError, says=("non-empty",), torch_does=lambda: torch.cat([])),
    Bad("cat: one array instead of a list", lambda: sf.cat(zeros(2, 3, 4, 4)), TypeError,
        says=("list or tuple", "ndarray", "cat([a, b], dim=1)"), torch_does=lambda: torch.cat(t(2, 3, 4, 4))),
    Bad("cat: dim out of range", lambda: sf.cat([zeros(2, 3), zeros(2, 3)], dim=2), IndexError,
        says=("dim=2", "rank 2", "-2..1"), torch_does=lambda: torch.cat([t(2, 3), t(2, 3)], dim=2)),
    Bad("cat_backward: sizes that do not add up", lambda: sf.cat_backward(zeros(2, 5, 4, 4), [2, 2]), ValueError,
        says=("sizes [2, 2]", "dim=1", "5")),
]


@pytest.mark.parametrize("case", [case.param() for case in CASES])
def test_bad_resampling_input_teaches(case):
    assert_teaches(case)
