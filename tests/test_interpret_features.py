"""course_lib.interpret.features: feature maps, receptive fields, top inputs, one unit's multiply-adds and the
features before the last layer -- scratch against torch (float64, weights copied), boxes against gradients."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

import interpret_twins
from course_lib import conv_arithmetic, models, parity, scratch
from course_lib.interpret import _model, features as fe

MAPS = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3"]


@pytest.fixture(scope="module")
def twins():
    """A random digit_cnn in float64 and its scratch mirror with the same weights (tests/interpret_twins.py)."""
    return interpret_twins.twins("digit_cnn")[:2]


@pytest.fixture(scope="module")
def digits():
    return np.random.default_rng(0).uniform(0, 1, (5, 1, 28, 28))


def _chain(backend, specs, positive=False, seed=0):
    """A Sequential of Conv2d layers (in, out, kernel, stride, padding, dilation) with ReLUs, weights copied."""
    nn_ = scratch if backend == "scratch" else nn
    layers = []
    for n, (cin, cout, k, s, p, d) in enumerate(specs):
        layers += [(f"conv{n}", nn_.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d)), (f"relu{n}", nn_.ReLU())]
    model = nn_.Sequential(OrderedDict(layers))
    if backend == "torch":
        torch.manual_seed(seed)
        model = model.double()
        if positive:
            with torch.no_grad():
                for param in model.parameters():
                    param.abs_().add_(0.01)
    return model


def _twin_chain(specs, positive=False):
    t = _chain("torch", specs, positive)
    s = _chain("scratch", specs)
    parity.copy_torch_to_scratch(t, s)
    return t, s


# ------------------------------------------------------------------------------------------ feature maps


def test_feature_maps_default_layers_and_parity(twins, digits):
    t, s = twins
    mt, ms = fe.feature_maps(t, digits), fe.feature_maps(s, digits)
    assert list(mt) == list(ms) == MAPS
    for name in MAPS:
        parity.compare(name, ms[name], mt[name], tol=1e-10, verbose=False)
    assert fe.map_resolution(mt) == fe.map_resolution(ms) == {
        "conv1": (28, 28), "relu1": (28, 28), "pool1": (14, 14), "conv2": (14, 14), "relu2": (14, 14),
        "pool2": (7, 7), "conv3": (7, 7), "relu3": (7, 7)}
    assert fe.map_readability(mt, torch.from_numpy(digits)) == pytest.approx(fe.map_readability(ms, digits), abs=1e-12)


def test_feature_maps_chosen_layers_in_the_order_given(twins, digits):
    t, s = twins
    maps = fe.feature_maps(t, digits, ["relu2", t.conv1, "relu2"])
    assert list(maps) == ["relu2", "conv1"]
    assert maps["conv1"].shape == (5, 16, 28, 28)
    np.testing.assert_allclose(maps["relu2"].numpy(), np.maximum(fe.feature_maps(s, digits, ["conv2"])["conv2"], 0))


def test_readability_is_one_for_a_copy_and_zero_for_a_constant(digits):
    copy = nn.Conv2d(1, 2, 1).double()
    with torch.no_grad():
        copy.weight[:] = torch.tensor([2.0, -1.0]).reshape(2, 1, 1, 1)
        copy.bias[:] = torch.tensor([0.5, 3.0])
    model = nn.Sequential(OrderedDict([("copy", copy), ("pool", nn.AvgPool2d(4)), ("flat", nn.MaxPool2d(7))]))
    blocky = np.repeat(np.repeat(digits[:, :, ::4, ::4], 4, axis=2), 4, axis=3)   # constant on 4x4 blocks
    for reduce in ("best", "mean"):
        assert fe.map_readability(fe.feature_maps(model, blocky, ["copy", "pool"]), blocky, reduce) == pytest.approx(
            {"copy": 1.0, "pool": 1.0})
    coarse = fe.map_readability(fe.feature_maps(model, digits, ["copy", "pool"]), digits)
    assert coarse["copy"] == pytest.approx(1.0) and 0.1 < coarse["pool"] < 0.9    # 7x7 blocks lose the detail
    assert fe.map_readability({"dead": np.zeros((5, 3, 7, 7))}, digits) == {"dead": 0.0}


# ------------------------------------------------------------------------------------------ receptive fields


def _support(model, layer, x, channel, i, j):
    """The input pixels whose gradient on unit (channel, i, j) of layer is nonzero: a boolean (H, W) mask."""
    def seed(out):
        v = out * 0
        v[:, channel, i, j] = 1.0
        return v
    g = _model.backprop(model, x, seed, at=layer).input_grad
    return (np.abs(fe._numpy(g)).sum(axis=(0, 1)) > 0)


def _mask(box, size=(28, 28)):
    m = np.zeros(size, bool)
    m[box.top:box.bottom, box.left:box.right] = True
    return m


SPECS = [(1, 2, 3, 2, 1, 1), (2, 3, 4, 1, 2, 1), (3, 2, 3, 2, 0, 2), (2, 2, 1, 1, 0, 1)]


@pytest.mark.parametrize("backend", ["torch", "scratch"])
def test_receptive_field_is_tight_for_a_conv_only_net(backend):
    t, s = _twin_chain(SPECS, positive=True)
    model = t if backend == "torch" else s
    x = np.random.default_rng(2).uniform(0.1, 1, (1, 1, 28, 28))
    h = fe.feature_maps(model, x, ["relu3"])["relu3"].shape[2]
    for layer in ("conv0", "relu1", "conv2", "relu3"):
        for i, j in [(0, 0), (h // 2, 1), (h - 1, h - 1)]:
            box = fe.receptive_field(model, layer, i, j)
            assert box == fe.receptive_field(t, layer, i, j)
            np.testing.assert_array_equal(_support(model, layer, x, 1, i, j), _mask(box), err_msg=f"{layer} {i} {j}")


def test_receptive_field_sizes_come_from_conv_arithmetic():
    t, _ = _twin_chain(SPECS)
    fields = conv_arithmetic.receptive_field([t.conv0, t.conv1, t.conv2])
    unclipped = fe._span(t, "conv2", 3, 3, (28, 28), "test")
    assert unclipped.bottom - unclipped.top == fields[-1].size == 1 + 2 + 3 * 2 + 4 * 2
    moved = fe._span(t, "conv2", 4, 3, (28, 28), "test")
    assert moved.top - unclipped.top == fields[-1].jump == 4


def test_receptive_field_contains_the_gradient_support_through_pooling(twins):
    t, s = twins
    with torch.no_grad():
        for param in t.parameters():
            param.abs_().add_(0.01)
    x = np.random.default_rng(3).uniform(0.1, 1, (1, 1, 28, 28))
    try:
        for layer, points in [("pool1", [(0, 0), (7, 13)]), ("relu2", [(5, 9), (13, 0)]), ("relu3", [(0, 6), (3, 3)])]:
            for i, j in points:
                box = fe.receptive_field(t, layer, i, j)
                support = _support(t, layer, x, 2, i, j)
                assert support.any() and not (support & ~_mask(box)).any()
                assert box == fe.receptive_field(s, layer, i, j)
    finally:
        parity.copy_scratch_to_torch(s, t)
    assert fe.receptive_field(t, "conv3", 3, 3) == fe.Box(4, 24, 4, 24)
    assert fe.receptive_field(t, "conv1", 0, 27) == fe.Box(0, 3, 25, 28)


# ------------------------------------------------------------------------------------------ top inputs


def test_top_activating_is_the_brute_force_maximum(twins, digits):
    t, s = twins
    x = np.random.default_rng(4).uniform(0, 1, (12, 1, 28, 28))
    a = fe.feature_maps(s, x, ["relu2"])["relu2"][:, 3]
    best = a.reshape(12, -1).max(axis=1)
    top_s, top_t = fe.top_activating(s, "relu2", x, 3, k=4, batch_size=5), fe.top_activating(t, "relu2", x, 3, k=4)
    np.testing.assert_array_equal(top_s.index, np.argsort(-best)[:4])
    np.testing.assert_array_equal(top_s.index, top_t.index.numpy())
    np.testing.assert_allclose(top_s.value, top_t.value.numpy(), atol=1e-12)
    np.testing.assert_array_equal(a[top_s.index, top_s.i, top_s.j], best[top_s.index])
    assert (top_t.i.numpy() == top_s.i).all() and (top_t.j.numpy() == top_s.j).all()


def test_top_activating_for_several_channels_at_once(twins):
    t, s = twins
    x = np.random.default_rng(8).uniform(0, 1, (7, 1, 28, 28))
    several, every = fe.top_activating(t, "pool2", x, [4, 0], k=3), fe.top_activating(s, "pool2", x, None, k=3)
    assert every.index.shape == every.i.shape == (32, 3) and several.value.shape == (2, 3)
    for row, channel in enumerate([4, 0]):
        one = fe.top_activating(s, "pool2", x, channel, k=3)
        for ours, theirs, all_channels in zip(one, several, every):
            np.testing.assert_allclose(ours, theirs[row].numpy(), atol=1e-12)
            np.testing.assert_allclose(ours, all_channels[channel], atol=1e-12)
    patches = fe.top_patches(t, "pool2", x, [4, 0], k=3)
    assert patches.shape == (2, 3, 1, 12, 12)
    np.testing.assert_array_equal(patches[1].numpy(), fe.top_patches(s, "pool2", x, 0, k=3))


def test_top_patches_are_the_boxes_padded_at_the_border(twins):
    t, s = twins
    x = np.random.default_rng(5).uniform(0, 1, (6, 1, 28, 28))
    top = fe.top_activating(s, "relu3", x, 7, k=3)
    patches_s, patches_t = fe.top_patches(s, "relu3", x, 7, k=3, fill=-1.0), fe.top_patches(t, "relu3", x, 7, k=3,
                                                                                            fill=-1.0)
    assert patches_s.shape == (3, 1, 20, 20)
    np.testing.assert_array_equal(patches_s, patches_t.numpy())
    for patch, n, i, j in zip(patches_s, top.index, top.i, top.j):
        box, span = fe.receptive_field(s, "relu3", i, j), fe._span(s, "relu3", i, j, (28, 28), "test")
        inside = patch[:, box.top - span.top:box.bottom - span.top, box.left - span.left:box.right - span.left]
        np.testing.assert_array_equal(inside, x[n, :, box.top:box.bottom, box.left:box.right])
        assert (patch == -1.0).sum() == patch.size - inside.size


# ------------------------------------------------------------------------------------------ one unit's sum


@pytest.mark.parametrize("layer, channel, i, j", [("conv1", 3, 0, 0), ("conv1", 0, 27, 13), ("conv2", 31, 6, 13),
                                                   ("conv3", 10, 0, 6)])
def test_unit_contributions_sum_to_the_layer_output(twins, digits, layer, channel, i, j):
    t, s = twins
    cs, ct = fe.unit_contributions(s, layer, digits, channel, i, j), fe.unit_contributions(t, layer, digits, channel,
                                                                                           i, j)
    out = fe.feature_maps(s, digits, [layer])[layer][:, channel, i, j]
    np.testing.assert_allclose(cs.products.sum(axis=(1, 2, 3)) + cs.bias, out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cs.output, out, atol=1e-12)
    for ours, theirs in zip(cs[:3], ct[:3]):
        np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-12)
    assert cs.bias == ct.bias and cs.box == ct.box
    np.testing.assert_array_equal(cs.weights, getattr(s, layer).weight.data[channel])


def test_unit_contributions_with_stride_dilation_groups_and_padding():
    t = nn.Sequential(OrderedDict([("a", nn.Conv2d(2, 4, 3, stride=2, padding=2, dilation=2, groups=2)),
                                   ("b", nn.ReLU())])).double()
    s = scratch.Sequential(OrderedDict([("a", scratch.Conv2d(2, 4, 3, stride=2, padding=2, dilation=2, groups=2)),
                                        ("b", scratch.ReLU())]))
    parity.copy_torch_to_scratch(t, s)
    x = np.random.default_rng(6).normal(size=(2, 2, 9, 9))
    out = t.a(torch.from_numpy(x)).detach().numpy()
    for model in (t, s):
        for channel, i, j in [(0, 0, 0), (3, 4, 4), (2, 0, 3)]:
            c = fe.unit_contributions(model, "a", x, channel, i, j)
            total = fe._numpy(c.products).sum(axis=(1, 2, 3)) + c.bias
            np.testing.assert_allclose(total, out[:, channel, i, j], atol=1e-12)
            assert c.window.shape == (2, 1, 3, 3) and c.box == fe.Box(2 * i - 2, 2 * i + 3, 2 * j - 2, 2 * j + 3)
    corner = fe.unit_contributions(s, "a", x, 3, 0, 0)
    np.testing.assert_array_equal(corner.window[:, :, 0], 0.0)   # the top row of taps lies on the padding
    np.testing.assert_array_equal(corner.window[:, 0, 1:, 1:], x[:, 1, 0:3:2, 0:3:2])


# ------------------------------------------------------------------------------------------ features before fc


def test_penultimate_features_are_the_pooled_last_maps(twins, digits):
    t, s = twins
    ft, fs = fe.penultimate_features(t, digits), fe.penultimate_features(s, digits)
    assert ft.shape == (5, 64)
    parity.compare("features", fs, ft, tol=1e-12, verbose=False)
    relu3 = fe.feature_maps(s, digits, ["relu3"])["relu3"]
    np.testing.assert_allclose(fs, relu3.mean(axis=(2, 3)), atol=1e-14)
    logistic = nn.Sequential(OrderedDict([("fc", nn.Linear(784, 10))]))
    assert fe.penultimate_features(logistic, digits.astype(np.float32)).shape == (5, 784)


def test_nearest_neighbour_agreement_on_a_hand_made_example():
    ref = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    labels_ref = np.array([0, 1, 1, 0])
    query = np.array([[1.0, 1.0], [9.0, 1.0], [1.0, 8.0], [6.0, 6.0]])
    assert fe.nearest_neighbour_agreement(query, np.array([0, 0, 1, 1]), ref, labels_ref) == 0.5
    assert fe.nearest_neighbour_agreement(query, np.array([0, 1, 1, 0]), ref, labels_ref) == 1.0
    # k = 3: query 0's nearest are refs 0, 1, 2 (labels 0, 1, 1): 1/3 share its label 0
    assert fe.nearest_neighbour_agreement(query[:1], [0], ref, labels_ref, k=3) == pytest.approx(1 / 3)
    # cosine: only directions count, (1, 1) is as near to (10, 10) as to anything on the diagonal
    assert fe.nearest_neighbour_agreement(np.array([[3.0, 3.0]]), [0], ref[1:], labels_ref[1:], metric="cosine") == 1
    tensors = [torch.from_numpy(a) for a in (query, np.array([0, 0, 1, 1]), ref, labels_ref)]
    assert fe.nearest_neighbour_agreement(*tensors, batch_size=3) == 0.5


def test_pca_2d_matches_numpy_svd():
    f = np.random.default_rng(7).normal(size=(30, 6)) * np.array([5.0, 1, 3, 0.5, 0.2, 0.1])
    proj = fe.pca_2d(f)
    u, s, vt = np.linalg.svd(f - f.mean(axis=0), full_matrices=False)
    signs = np.sign(vt[[0, 1], np.abs(vt[:2]).argmax(axis=1)])      # the largest loading of each axis is positive
    np.testing.assert_allclose(proj.points, u[:, :2] * s[:2] * signs, atol=1e-10)
    np.testing.assert_allclose(proj.explained, s[:2] ** 2 / (s ** 2).sum())
    np.testing.assert_allclose(fe.pca_2d(-f).points, -proj.points, atol=1e-10)   # same axes, the data mirrored
    as_tensor = fe.pca_2d(torch.from_numpy(f).float())
    assert as_tensor.points.dtype == torch.float32
    np.testing.assert_allclose(as_tensor.points.numpy(), proj.points, atol=1e-4)


def test_the_seam_runs_forward_only_without_a_seed(twins, digits):
    for model in twins:
        full = _model.backprop(model, digits, lambda out: out, at="pool2", keep=("relu1",))
        half = _model.backprop(model, digits, None, at="pool2", keep=("relu1",))
        assert half.input_grad is None and half.gradients == {}
        np.testing.assert_array_equal(fe._numpy(half.output), fe._numpy(full.output))
        np.testing.assert_array_equal(fe._numpy(half.activations["relu1"]), fe._numpy(full.activations["relu1"]))


def test_a_model_on_a_gpu_gives_what_it_gives_on_the_cpu(device):
    """NumPy inputs follow the model to its device, and the arrays come back there."""
    torch.manual_seed(1)
    model = models.digit_cnn().double()
    x = np.random.default_rng(9).uniform(0, 1, (4, 1, 28, 28))

    def everything():
        return [*fe.feature_maps(model, x, ["relu1", "pool2"]).values(),
                *fe.top_activating(model, "relu2", x, [1, 3], 2), fe.top_patches(model, "relu3", x, 5, k=2),
                *fe.unit_contributions(model, "conv2", x, 4, 0, 5)[:3],
                fe.pca_2d(fe.penultimate_features(model, x)).points]

    on_cpu = everything()
    model.to(device)
    for ours, theirs in zip(everything(), on_cpu):
        assert ours.device.type == device.type
        parity.compare("on the device", ours, theirs, tol=1e-10, verbose=False)
