"""course_lib.interpret's attribution maps: the torch side against Captum, the scratch side against the torch side
(float64), and the exact answers of a linear model."""
import numpy as np
import pytest
import torch
from captum.attr import GuidedBackprop, IntegratedGradients, NoiseTunnel, Occlusion, Saliency
from interpret_twins import twins

from course_lib.interpret import attribution
from course_lib.interpret.attribution import (completeness_gap, guided_backprop, integrated_gradients, occlusion,
                                              saliency, smoothgrad)
from course_lib.parity import compare

MODELS = ["digit_cnn", "source_cnn", "tiny_cnn", "linear"]
pytestmark = pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients",
                                        "ignore:Setting backward hooks on ReLU")
TOL = 1e-6   # float64 throughout; scratch and torch agree to ~1e-15, Captum to ~1e-8 (next fixture)


@pytest.fixture
def float64_default():
    """Captum builds its windows and IG's alphas in torch's default dtype: make it float64 for exact references.
    (IG's step sizes it still casts to float32, so IG agrees with Captum to ~1e-8, not 1e-15.)"""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def linear_parts(model):
    """W_t (one row per target, shaped like an image) and the model's x for the linear twin."""
    return model.fc.weight.detach().reshape(4, 2, 6, 6)


# ------------------------------------------------------------------------------------------ against Captum


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("use_abs", [True, False])
def test_saliency_is_captums(name, use_abs):
    model, _, _, x, t = twins(name)
    compare("saliency", saliency(model, x, t, abs=use_abs), Saliency(model).attribute(x, t, abs=use_abs), TOL)


@pytest.mark.parametrize("name", MODELS)
def test_guided_backprop_is_captums(name):
    model, _, _, x, t = twins(name)
    compare("guided backprop", guided_backprop(model, x, t), GuidedBackprop(model).attribute(x, t), TOL)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("baseline", [None, 0.3, "image"])
def test_integrated_gradients_is_captums_midpoint_rule(name, baseline, float64_default):
    model, _, x_np, x, t = twins(name)
    base = torch.as_tensor(np.random.default_rng(5).random((1,) + x.shape[1:])) if baseline == "image" else baseline
    theirs = IntegratedGradients(model).attribute(x, 0.0 if base is None else base, target=t, n_steps=12,
                                                  method="riemann_middle")
    compare("integrated gradients", integrated_gradients(model, x, t, base, steps=12), theirs, TOL)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("use_abs", [False, True])
def test_smoothgrad_is_captums_noise_tunnel_given_the_same_noise(name, use_abs, monkeypatch):
    """Captum draws its noise with torch.normal, one (N*n, ...) draw, copy j of input i in row i*n + j. We hand it
    our NumPy noise (n, N, ...) in that order, so both average the gradients at the very same points."""
    model, _, _, x, t = twins(name)
    n, sigma = 5, 0.2
    noise = np.random.default_rng(7).normal(0.0, sigma, size=(n,) + tuple(x.shape))
    ours = smoothgrad(model, x, t, n=n, sigma=sigma, seed=7, abs=use_abs)
    rows = torch.as_tensor(noise.swapaxes(0, 1).reshape((-1,) + tuple(x.shape[1:])))
    monkeypatch.setattr(torch, "normal", lambda mean, std: rows)
    theirs = NoiseTunnel(Saliency(model)).attribute(x, nt_type="smoothgrad", nt_samples=n, stdevs=sigma,
                                                    target=t, abs=use_abs)
    compare("smoothgrad", ours, theirs, TOL)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("window, stride, baseline", [(3, 2, 0.0), (4, 2, 0.5), (5, 3, 0.0), (6, 6, 1.0)])
def test_occlusion_is_captums(name, window, stride, baseline, float64_default):
    model, _, _, x, t = twins(name)
    theirs = Occlusion(model).attribute(x, sliding_window_shapes=(x.shape[1], window, window), strides=stride,
                                        target=t, baselines=baseline, perturbations_per_eval=64)
    compare("occlusion", occlusion(model, x, t, window, stride, baseline), theirs, TOL)


# ------------------------------------------------------------------------------------------ scratch = torch


METHODS = {
    "saliency": saliency,
    "signed saliency": lambda m, x, t: saliency(m, x, t, abs=False),
    "guided backprop": guided_backprop,
    "smoothgrad": lambda m, x, t: smoothgrad(m, x, t, n=4, sigma=0.1, seed=3),
    "integrated gradients": lambda m, x, t: integrated_gradients(m, x, t, baseline=0.2, steps=6),
    "occlusion": lambda m, x, t: occlusion(m, x, t, window=5, stride=3, baseline=0.1),
}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_scratch_side_is_the_torch_side(name, method):
    torch_model, scratch_model, x_np, x, t = twins(name)
    ours = METHODS[method](scratch_model, x_np, t)
    assert isinstance(ours, np.ndarray)
    compare(method, ours, METHODS[method](torch_model, x, t), TOL)


def test_many_copies_go_through_in_chunks_with_the_same_result(monkeypatch):
    model, _, x_np, _, t = twins("tiny_cnn")
    whole = [smoothgrad(model, x_np, t, n=6), integrated_gradients(model, x_np, t, steps=7),
             occlusion(model, x_np, t, 3, 2)]
    monkeypatch.setattr(attribution, "_CHUNK", 5)
    chunked = [smoothgrad(model, x_np, t, n=6), integrated_gradients(model, x_np, t, steps=7),
               occlusion(model, x_np, t, 3, 2)]
    for a, b in zip(whole, chunked):
        compare("chunked", a, b, 1e-12)


# ------------------------------------------------------------------------------------------ properties


@pytest.mark.parametrize("name", ["digit_cnn", "source_cnn"])
def test_integrated_gradients_is_complete_within_one_percent(name):
    model, _, _, x, t = twins(name)
    attr = integrated_gradients(model, x, t, baseline=0.1, steps=50)
    gap = completeness_gap(model, x, t, attr, baseline=0.1)
    assert gap.shape == (3,) and gap.abs().max() < 0.01


def test_a_linear_model_has_exact_maps():
    """s = W x + b: the gradient is W_t everywhere, so saliency = |W_t|, guided = W_t (no ReLU to guide),
    SmoothGrad = W_t whatever the noise, IG = (x - x') W_t for any number of steps, with no completeness gap."""
    model, _, _, x, t = twins("linear")
    w = linear_parts(model)[t]
    compare("saliency", saliency(model, x, t), w.abs(), 1e-15)
    compare("guided", guided_backprop(model, x, t), w, 1e-15)
    compare("smoothgrad", smoothgrad(model, x, t, n=3, sigma=0.5), w, 1e-14)
    compare("ig", integrated_gradients(model, x, t, baseline=0.25, steps=1), (x - 0.25) * w, 1e-14)
    assert completeness_gap(model, x, t, (x - 0.25) * w, baseline=0.25).abs().max() < 1e-12


@pytest.mark.parametrize("window, stride", [(1, 1), (2, 2), (3, 2), (4, 1)])
def test_occlusion_of_a_linear_model_is_its_exact_drop(window, stride):
    """Covering window S drops a linear score by sum over S of W_t (x - baseline); every pixel gets the mean drop
    of the windows that cover it (window 1: exactly W_t (x - baseline) per pixel)."""
    model, _, _, x, t = twins("linear")
    w, baseline = linear_parts(model)[t], 0.3
    drop_per_pixel = (w * (x - baseline)).sum(1, keepdim=True)          # all channels are covered together
    expected, count = torch.zeros(3, 1, 6, 6, dtype=x.dtype), torch.zeros(1, 1, 6, 6, dtype=x.dtype)
    starts = list(range(0, 6 - window + 1, stride))
    starts += [starts[-1] + stride] if starts[-1] + window < 6 else []  # the last window, cut at the edge
    for r in starts:
        for c in starts:
            window_drop = drop_per_pixel[:, :, r:r + window, c:c + window].sum((1, 2, 3))
            expected[:, :, r:r + window, c:c + window] += window_drop[:, None, None, None]
            count[:, :, r:r + window, c:c + window] += 1
    compare("occlusion", occlusion(model, x, t, window, stride, baseline), (expected / count).expand(3, 2, 6, 6),
            1e-13)


def test_one_target_for_the_whole_batch_and_a_numpy_x_for_a_torch_model():
    model, _, x_np, x, _ = twins("digit_cnn")
    compare("one int", saliency(model, x_np, 4), saliency(model, x, [4, 4, 4]), 0.0)


def test_smoothgrad_is_reproducible_and_seeded():
    model, _, x_np, _, t = twins("tiny_cnn")
    a, b = smoothgrad(model, x_np, t, seed=1, n=3), smoothgrad(model, x_np, t, seed=1, n=3)
    assert np.array_equal(a, b) and not np.array_equal(a, smoothgrad(model, x_np, t, seed=2, n=3))


def test_a_model_on_a_gpu_gives_the_maps_it_gives_on_the_cpu(device):
    """Inputs (NumPy or CPU tensors) follow the model to its device; the maps come back there."""
    model, _, x_np, x, t = twins("tiny_cnn")
    on_cpu = {name: method(model, x, t) for name, method in METHODS.items()}
    model.to(device)
    for name, method in METHODS.items():
        ours = method(model, x_np, t)
        assert ours.device.type == device.type
        compare(name, ours, on_cpu[name], 1e-10)
