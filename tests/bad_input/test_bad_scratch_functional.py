"""Bad input to course_lib.scratch.functional, init, gradcheck and sizes: the same mistake made in torch, where
torch has it, must be refused there too; a backward pass never broadcasts or reshapes a grad_output of the wrong
shape (torch: "Mismatch in shape"); options out of range are refused with the rule they break."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bad_input_harness import Bad, assert_teaches
from course_lib import scratch
from course_lib.lessons import nb06_pooling as lesson
from course_lib.scratch import functional as sf
from course_lib.scratch import init, sizes


def zeros(*shape: int) -> np.ndarray:
    return np.zeros(shape)


def ones(*shape: int) -> np.ndarray:
    return np.ones(shape)


def t(*shape: int, grad: bool = False) -> torch.Tensor:
    return torch.ones(shape, dtype=torch.float64, requires_grad=grad)


def torch_backward(forward, x_shape: tuple, grad_shape: tuple):
    """The torch twin of a *_backward call with a wrong grad_output: y = forward(x); y.backward(grad)."""
    return lambda: forward(t(*x_shape, grad=True)).backward(t(*grad_shape))


RNG = np.random.default_rng(0)
X4 = RNG.standard_normal((2, 2, 4, 4))
W = RNG.standard_normal((3, 2, 3, 3))

GRAD_OUTPUT = [
    Bad("linear_backward: transposed grad_output (4, 2) for a (2, 4) output",
        lambda: sf.linear_backward(zeros(4, 2), zeros(2, 3), zeros(4, 3)), ValueError,
        says=("grad_output has shape (4, 2)", "(2, 4)", "transposed"),
        torch_does=torch_backward(lambda x: F.linear(x, t(4, 3)), (2, 3), (4, 2))),
    Bad("relu_backward: a (3,) gradient would broadcast over a (2, 3) input",
        lambda: sf.relu_backward(ones(3), ones(2, 3)), ValueError, says=("(3,)", "(2, 3)", "Mismatch in shape"),
        torch_does=torch_backward(F.relu, (2, 3), (3,))),
    Bad("leaky_relu_backward: (2, 1) for (2, 3)", lambda: sf.leaky_relu_backward(ones(2, 1), ones(2, 3)), ValueError,
        says=("(2, 1)", "(2, 3)"), torch_does=torch_backward(F.leaky_relu, (2, 3), (2, 1))),
    Bad("sigmoid_backward: (1,) for (2, 3)", lambda: sf.sigmoid_backward(ones(1), ones(2, 3) / 2), ValueError,
        says=("(1,)", "(2, 3)"), torch_does=torch_backward(torch.sigmoid, (2, 3), (1,))),
    Bad("tanh_backward: (3, 2) for (2, 3)", lambda: sf.tanh_backward(ones(3, 2), zeros(2, 3)), ValueError,
        says=("(3, 2)", "(2, 3)"), torch_does=torch_backward(torch.tanh, (2, 3), (3, 2))),
    Bad("softmax_backward: (2,) for (2, 3)", lambda: sf.softmax_backward(ones(2), ones(2, 3) / 3), ValueError,
        says=("(2,)", "(2, 3)"), torch_does=torch_backward(lambda x: F.softmax(x, dim=-1), (2, 3), (2,))),
    Bad("conv2d_backward: grad_output with the input's spatial size",
        lambda: sf.conv2d_backward(zeros(2, 3, 4, 4), X4, W, padding=0), ValueError,
        says=("(2, 3, 4, 4)", "(2, 3, 2, 2)"),
        torch_does=torch_backward(lambda x: F.conv2d(x, t(3, 2, 3, 3)), (2, 2, 4, 4), (2, 3, 4, 4))),
    Bad("conv2d_loops_backward: grad_output of the wrong shape",
        lambda: sf.conv2d_loops_backward(zeros(2, 3, 3, 3), X4, W), ValueError, says=("(2, 3, 3, 3)", "(2, 3, 2, 2)")),
    Bad("conv_transpose2d_backward: grad_output of the input's shape",
        lambda: sf.conv_transpose2d_backward(zeros(2, 2, 4, 4), X4, RNG.standard_normal((2, 3, 3, 3))), ValueError,
        says=("(2, 2, 4, 4)", "(2, 3, 6, 6)"),
        torch_does=torch_backward(lambda x: F.conv_transpose2d(x, t(2, 3, 3, 3)), (2, 2, 4, 4), (2, 2, 4, 4))),
    Bad("max_pool2d_backward: grad_output of the input's shape", lambda: sf.max_pool2d_backward(X4, X4, 2), ValueError,
        says=("(2, 2, 4, 4)", "(2, 2, 2, 2)"),
        torch_does=torch_backward(lambda x: F.max_pool2d(x, 2), X4.shape, X4.shape)),
    Bad("avg_pool2d_backward: one gradient per image", lambda: sf.avg_pool2d_backward(ones(2, 1, 1, 1), X4, 2),
        ValueError, says=("(2, 1, 1, 1)", "(2, 2, 2, 2)"),
        torch_does=torch_backward(lambda x: F.avg_pool2d(x, 2), X4.shape, (2, 1, 1, 1))),
    Bad("lp_pool2d_backward: grad_output of the wrong shape", lambda: sf.lp_pool2d_backward(ones(2, 2, 2), X4, 2, 2),
        ValueError, says=("(2, 2, 2)", "(2, 2, 2, 2)"),
        torch_does=torch_backward(lambda x: F.lp_pool2d(x, 2, 2), X4.shape, (2, 2, 2))),
    Bad("adaptive_avg_pool2d_backward: channels of grad_output differ",
        lambda: sf.adaptive_avg_pool2d_backward(ones(2, 3, 1, 1), X4), ValueError,
        says=("(2, 3, 1, 1)", "(2, 2, 4, 4)"),
        torch_does=torch_backward(lambda x: F.adaptive_avg_pool2d(x, 1), X4.shape, (2, 3, 1, 1))),
    Bad("batch_norm_backward: (C,) gradient for an (N, C) output",
        lambda: sf.batch_norm_backward(ones(3), ones(4, 3), ones(3), None, True), ValueError, says=("(3,)", "(4, 3)"),
        torch_does=torch_backward(lambda x: F.batch_norm(x, None, None, training=True), (4, 3), (3,))),
    Bad("dropout_backward: a mask of another shape", lambda: sf.dropout_backward(ones(2, 3), ones(3, 2)), ValueError,
        says=("(2, 3)", "(3, 2)")),
    Bad("cross_entropy_backward: grad_output is one number, not an array",
        lambda: sf.cross_entropy_backward(ones(2), zeros(2, 3), np.array([0, 1])), ValueError,
        says=("grad_output", "one number", "(2,)"),
        torch_does=torch_backward(lambda x: F.cross_entropy(x, torch.tensor([0, 1])), (2, 3), (2,))),
    Bad("mse_loss_backward: input and target shapes differ",
        lambda: sf.mse_loss_backward(1.0, zeros(4, 1), zeros(4)), ValueError,
        says=("(4, 1)", "(4,)", "no broadcasting")),
]

OPTIONS = [
    Bad("linear: bias of the wrong length", lambda: sf.linear(zeros(2, 3), zeros(4, 3), zeros(3)), ValueError,
        says=("bias has shape (3,)", "(4,)"), torch_does=lambda: F.linear(t(2, 3), t(4, 3), t(3))),
    # torch computes x @ w for a 1-D weight; the scratch linear keeps the layer's (out, in) layout (a difference)
    Bad("linear: a 1-D weight", lambda: sf.linear(zeros(2, 3), zeros(3)), ValueError,
        says=("(out_features, in_features)", "(3,)")),
    Bad("conv2d: a 2-D filter as the weight", lambda: sf.conv2d(X4, ones(3, 3)), ValueError,
        says=("(C_out, C_in, kH, kW)", "(3, 3)", "f[None, None]"), torch_does=lambda: F.conv2d(t(2, 2, 4, 4), t(3, 3))),
    Bad("conv2d: a (N, H, W) batch into a one-channel filter needs x[:, None]",
        lambda: sf.conv2d(zeros(4, 6, 6), ones(2, 1, 3, 3)), ValueError, says=("(4, 6, 6)", "x[:, None]"),
        torch_does=lambda: F.conv2d(t(4, 6, 6), t(2, 1, 3, 3))),
    Bad("conv_transpose2d: output_padding not smaller than stride",
        lambda: sf.conv_transpose2d(X4, ones(2, 3, 3, 3), stride=2, output_padding=(0, 2)), ValueError,
        says=("output_padding (2)", "stride (2)", "output_padding < 2"),
        torch_does=lambda: F.conv_transpose2d(t(2, 2, 4, 4), t(2, 3, 3, 3), stride=2, output_padding=(0, 2))),
    Bad("lp_pool2d: norm_type=0", lambda: sf.lp_pool2d(X4, 0, 2), ValueError, says=("norm_type", "non-zero", "1/p"),
        torch_does=lambda: F.lp_pool2d(t(2, 2, 4, 4), 0, 2)),
    Bad("max_pool2d: a (H, W) image", lambda: sf.max_pool2d(zeros(4, 4), 2), ValueError,
        says=("(4, 4)", "x[None, None]"), torch_does=lambda: F.max_pool2d(t(4, 4), 2)),
    Bad("batch_norm: running_mean for another channel count",
        lambda: sf.batch_norm(zeros(4, 3), zeros(4), ones(3)), ValueError, says=("mean has shape (4,)", "(3,)"),
        torch_does=lambda: F.batch_norm(t(4, 3), t(4), t(3))),
    Bad("dropout: p=1.5", lambda: sf.dropout(ones(2, 3), 1.5), ValueError, says=("p", "[0, 1)", "1.5"),
        torch_does=lambda: F.dropout(t(2, 3), 1.5)),
    Bad("leaky_relu: negative_slope as a string", lambda: sf.leaky_relu(ones(2), "0.01"), TypeError,
        says=("negative_slope", "'0.01'"), torch_does=lambda: F.leaky_relu(t(2), "0.01")),
    Bad("mse_loss: an empty batch (torch returns nan)", lambda: sf.mse_loss(zeros(0), zeros(0)), ValueError,
        says=("empty", "nan", "at least one example")),
    Bad("binary_cross_entropy_with_logits: targets 0..2", lambda: sf.binary_cross_entropy_with_logits(
        zeros(3), np.array([0, 1, 2])), ValueError, says=("[0, 1]", "target[2] = 2")),
    Bad("hinge_loss: an empty batch", lambda: sf.hinge_loss(zeros(0, 3), np.zeros(0, np.int64)), ValueError,
        says=("empty", "(0, 3)")),
]

INIT_GRADCHECK_SIZES = [
    Bad("init.kaiming_normal_ on a bias (1-D)", lambda: init.kaiming_normal_(zeros(5)), ValueError,
        says=("at least 2 dimensions", "(5,)", "zeros_"), torch_does=lambda: torch.nn.init.kaiming_normal_(t(5))),
    Bad("init.uniform_ with a > b", lambda: init.uniform_(zeros(3, 3), 1.0, 0.0), ValueError,
        says=("a <= b", "a=1.0", "b=0.0"), torch_does=lambda: torch.nn.init.uniform_(torch.empty(3, 3), 1.0, 0.0)),
    Bad("init.normal_ with std < 0", lambda: init.normal_(zeros(3, 3), 0.0, -1.0), ValueError,
        says=("std", ">= 0", "-1.0"), torch_does=lambda: torch.nn.init.normal_(torch.empty(3, 3), 0.0, -1.0)),
    Bad("init.xavier_uniform_ on an empty weight", lambda: init.xavier_uniform_(zeros(0, 0)), ValueError,
        says=("fan_in = 0", "no entries"), torch_does=lambda: torch.nn.init.xavier_uniform_(torch.empty(0, 0))),
    Bad("gradcheck: float32 input", lambda: scratch.gradcheck(scratch.Tanh(), ones(2, 3).astype(np.float32)),
        TypeError, says=("float64", "float32", "astype(np.float64)"),
        torch_does=lambda: torch.autograd.gradcheck(torch.tanh, (torch.ones(2, 3, requires_grad=True),))),
    Bad("gradcheck: a float32 model", lambda: scratch.gradcheck(scratch.Linear(3, 2).float(), ones(2, 3)), TypeError,
        says=("float64", "weight", "module.double()")),
    Bad("gradcheck: eps=0", lambda: scratch.gradcheck(scratch.Tanh(), ones(2, 3), eps=0), ValueError,
        says=("eps=0", "positive", "2h"),
        torch_does=lambda: torch.autograd.gradcheck(torch.tanh, (t(2, 3, grad=True),), eps=0)),
    Bad("gradcheck: a torch module", lambda: scratch.gradcheck(torch.nn.Tanh(), ones(2, 3)), TypeError,
        says=("scratch Module", "torch.autograd.gradcheck")),
    Bad("sizes.output_size: a kernel larger than the padded input", lambda: sizes.output_size(3, 5), ValueError,
        says=("5 pixels", "3 + 2*0 = 3", "does not fit")),
    Bad("sizes.output_size: stride 0", lambda: sizes.output_size(8, 3, stride=0), ValueError,
        says=("stride", "positive", "stride=0")),
    Bad("sizes.kernel_span: kernel_size 0", lambda: sizes.kernel_span(0), ValueError, says=("kernel_size", "positive")),
    Bad("sizes.transposed_output_size: negative output_padding",
        lambda: sizes.transposed_output_size(4, 3, output_padding=-1), ValueError, says=("output_padding", ">= 0")),
]


@pytest.mark.parametrize("case", [c.param() for c in GRAD_OUTPUT + OPTIONS + INIT_GRADCHECK_SIZES])
def test_bad_input_teaches(case):
    assert_teaches(case)


@pytest.mark.parametrize("norm_type", [1, 2, 3])
def test_lp_pool_backward_over_a_window_of_zeros_is_zero_as_in_torch(norm_type):
    """A window whose sum of x^p is 0 passes no gradient (torch: "the gradient is set to zero as well"); the
    formula x^(p-1) y^(1-p) would give 0 * inf = nan there. Windows with negatives are compared too."""
    x = np.array([[[[0., 0., 1., -2.], [0., 0., 3., 0.5], [-1., 2., 0., 0.], [0., -3., 0., 0.]]]])
    x_t = torch.tensor(x, requires_grad=True)
    F.lp_pool2d(x_t, norm_type, 2).sum().backward()
    with np.errstate(invalid="ignore"):  # p = 3, a negative sum: (-20)^(1/3) is nan, in NumPy as in torch
        ours = sf.lp_pool2d_backward(np.ones((1, 1, 2, 2)), x, norm_type, 2)
    assert np.array_equal(np.isnan(ours), np.isnan(x_t.grad.numpy()))
    assert np.allclose(ours, x_t.grad.numpy(), equal_nan=True)
    assert np.all(ours[0, 0, :2, :2] == 0)


def test_the_pooling_figures_l2_gradient_of_a_digit_has_no_nan():
    """Digits scaled to [0, 1] are mostly background: most L2 windows are all zeros (was: 70% NaN gradients)."""
    digit = np.zeros((1, 1, 8, 8))
    digit[0, 0, 2:6, 3:5] = 1.0
    grad = lesson.pool_backward(np.ones((1, 1, 4, 4)), digit, "l2", 2)
    assert np.isfinite(grad).all() and grad[0, 0, 0, 0] == 0


def test_max_pool_of_an_empty_batch_is_empty_as_in_torch():
    y, where = sf.max_pool2d(np.zeros((0, 2, 4, 4)), 2, return_indices=True)
    assert y.shape == where.shape == (0, 2, 2, 2)
