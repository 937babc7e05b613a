"""Upsample / interpolate and cat from scratch against torch autograd (float64), and the adjoint property."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.scratch import functional as sf

from parity_helpers import assert_close, check_layer, t

# (options, input shape): odd and non-square sizes, scale 2 and 3, size=, fractional scales, shrinking
NEAREST = [
    (dict(scale_factor=2), (2, 3, 5, 5)), (dict(scale_factor=3), (2, 2, 4, 7)),
    (dict(scale_factor=(2, 3)), (1, 3, 3, 5)), (dict(size=(7, 9)), (2, 3, 5, 4)), (dict(size=11), (1, 2, 4, 6)),
    (dict(size=(3, 2)), (2, 2, 7, 5)),
    (dict(scale_factor=2.5), (2, 1, 4, 5)), (dict(scale_factor=0.5), (1, 2, 9, 8)),
    (dict(scale_factor=2.1), (1, 1, 5, 3)),  # floor(5 * 2.1) = 10 = 2 * 5: torch's "exactly double" shortcut
    (dict(size=(46, 22)), (1, 1, 14, 26)),  # float64 steps would pick another source pixel here: torch uses float32
]
BILINEAR = [
    (dict(scale_factor=2), (2, 3, 5, 5)), (dict(scale_factor=3), (2, 2, 4, 7)),
    (dict(scale_factor=(2, 3)), (1, 3, 3, 5)), (dict(size=(7, 9)), (2, 3, 5, 4)), (dict(size=(1, 3)), (1, 2, 4, 6)),
    (dict(size=(3, 2)), (2, 2, 7, 5)),
    (dict(scale_factor=2.5), (2, 1, 4, 5)), (dict(scale_factor=0.5), (1, 2, 9, 8)),
]
CASES = ([pytest.param(dict(o, mode="nearest"), s, id=f"nearest-{o}-{s}") for o, s in NEAREST]
         + [pytest.param(dict(o, mode="bilinear", align_corners=a), s, id=f"bilinear-ac{a}-{o}-{s}")
            for o, s in BILINEAR for a in (False, True)])


@pytest.mark.parametrize("options, shape", CASES)
def test_upsample_matches_torch(options, shape, device, rng):
    check_layer(scratch.Upsample(**options), torch.nn.Upsample(**options), rng.standard_normal(shape), device, rng)


@pytest.mark.parametrize("options, shape", CASES)
def test_interpolate_and_its_backward_match_torch_autograd(options, shape, device, rng):
    x = rng.standard_normal(shape)
    xt = t(x, device, grad=True)
    out_t = F.interpolate(xt, **options)
    g = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(t(g, device))
    assert_close(sf.interpolate(x, **options), out_t, "forward")
    assert_close(sf.interpolate_backward(g, x.shape, **options), xt.grad, "input gradient")


@pytest.mark.parametrize("options, shape", CASES[::3])
def test_backward_is_the_adjoint_of_forward(options, shape, rng):
    """<A x, g> = <x, A^T g> for every x and g: the backward is the forward's transpose, nothing else."""
    x = rng.standard_normal(shape)
    y = sf.interpolate(x, **options)
    g = rng.standard_normal(y.shape)
    assert np.vdot(y, g) == pytest.approx(np.vdot(x, sf.interpolate_backward(g, shape, **options)), rel=1e-12)


@pytest.mark.parametrize("module", [
    scratch.Upsample(scale_factor=2), scratch.Upsample(size=(7, 4), mode="bilinear"),
    scratch.Upsample(scale_factor=3, mode="bilinear", align_corners=True),
])
def test_gradcheck_upsample(module, rng):
    assert max(scratch.gradcheck(module, rng.standard_normal((2, 2, 3, 5))).values()) < 1e-6


def test_upsample_worked_examples():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    assert np.array_equal(sf.interpolate(x, scale_factor=2)[0, 0],
                          [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
    # nearest's backward: each input pixel collects the gradients of its 2 x 2 copies
    assert np.array_equal(sf.interpolate_backward(np.ones((1, 1, 4, 4)), x.shape, scale_factor=2)[0, 0],
                          [[4, 4], [4, 4]])
    corners = sf.interpolate(x, size=3, mode="bilinear", align_corners=True)[0, 0]
    assert np.allclose(corners, [[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]])
    assert repr(scratch.Upsample(scale_factor=2)) == repr(torch.nn.Upsample(scale_factor=2))
    assert repr(scratch.Upsample(size=(3, 4), mode="bilinear")) == repr(torch.nn.Upsample(size=(3, 4), mode="bilinear"))


# (shapes, dim): a U-Net's channel concatenation, and other axes
CAT_CASES = [([(2, 3, 5, 5), (2, 4, 5, 5)], 1), ([(2, 1, 4, 6), (2, 2, 4, 6), (2, 3, 4, 6)], 1),
             ([(1, 2, 3, 3), (3, 2, 3, 3)], 0), ([(2, 2, 3, 4), (2, 2, 3, 1)], -1), ([(2, 3), (2, 0)], 1)]


@pytest.mark.parametrize("shapes, dim", CAT_CASES)
def test_cat_and_its_backward_match_torch_autograd(shapes, dim, device, rng):
    xs = [rng.standard_normal(s) for s in shapes]
    xts = [t(x, device, grad=True) for x in xs]
    out_t = torch.cat(xts, dim=dim)
    g = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(t(g, device))
    assert_close(sf.cat(xs, dim=dim), out_t, "forward")
    grads = sf.cat_backward(g, [x.shape[dim] for x in xs], dim=dim)
    assert len(grads) == len(xs)
    for i, (grad, xt) in enumerate(zip(grads, xts)):
        assert_close(grad, xt.grad, f"gradient of tensors[{i}]")


def test_the_gradient_splits_back_to_both_branches():
    g = np.arange(2 * 5 * 2 * 2, dtype=float).reshape(2, 5, 2, 2)
    skip, up = sf.cat_backward(g, [2, 3])
    assert np.array_equal(skip, g[:, :2]) and np.array_equal(up, g[:, 2:])
