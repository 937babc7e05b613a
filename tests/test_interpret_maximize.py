"""course_lib.interpret.maximize: activation maximisation and DeepDream -- the scratch model and its torch twin make
the same image (float64, weights copied), and the ascent raises what it climbs."""
import numpy as np
import pytest
import torch

import interpret_twins
from course_lib import models, parity
from course_lib.interpret import features as fe, maximize as mx


@pytest.fixture(scope="module")
def twins():
    """A random digit_cnn in float64 and its scratch mirror with the same weights (tests/interpret_twins.py)."""
    return interpret_twins.twins("digit_cnn")[:2]


REGULARISED = dict(steps=3, lr=0.5, l2=0.1, jitter=2, blur_every=2, blur_sigma=0.7, seed=1)


@pytest.mark.parametrize("objective", [dict(target=[3, 7]), dict(target=[3, 7], score="log_probability"),
                                       dict(layer="relu2", channel=[1, 5])], ids=["logit", "log_p", "channel"])
def test_scratch_and_torch_make_the_same_image(twins, objective):
    t, s = twins
    kw = dict(shape=(2, 1, 28, 28), **REGULARISED, **objective)
    ours, theirs = mx.maximize_activation(s, **kw), mx.maximize_activation(t, **kw)
    assert isinstance(ours, np.ndarray) and theirs.dtype == torch.float64
    parity.compare("maximised image", ours, theirs, tol=1e-6, verbose=False)
    assert ours.min() >= 0.0 and ours.max() <= 1.0


@pytest.mark.parametrize("objective", [dict(target=4), dict(target=4, score="log_probability"),
                                       dict(layer="conv3", channel=9)], ids=["logit", "log_p", "channel"])
def test_the_ascent_raises_the_objective(twins, objective):
    t, _ = twins
    start = np.random.default_rng(0).uniform(0, 0.1, (3, 1, 28, 28))
    before = mx.activation_objective(t, start, **objective)
    image = mx.maximize_activation(t, shape=(3, 1, 28, 28), steps=10, lr=5.0, **objective)
    after = mx.activation_objective(t, image, **objective)
    assert (after > before).all(), (before, after)


def test_a_batch_climbs_each_image_on_its_own(twins):
    t, _ = twins
    start = np.random.default_rng(1).uniform(0, 0.1, (3, 1, 28, 28))
    kw = dict(steps=4, lr=0.3, jitter=1, blur_every=2, seed=5)
    together = mx.maximize_activation(t, target=[0, 5, 9], start=start, **kw)
    for n, c in enumerate([0, 5, 9]):
        alone = mx.maximize_activation(t, target=c, start=start[n:n + 1], **kw)
        torch.testing.assert_close(together[n:n + 1], alone, rtol=0, atol=1e-12)


def test_activation_objective_is_the_logit_the_log_probability_or_the_channel_mean(twins):
    t, s = twins
    x = np.random.default_rng(2).uniform(0, 1, (4, 1, 28, 28))
    logits = t(torch.from_numpy(x)).detach()
    np.testing.assert_allclose(mx.activation_objective(s, x, target=[1, 2, 3, 4]), logits[range(4), [1, 2, 3, 4]])
    np.testing.assert_allclose(mx.activation_objective(s, x, target=6, score="log_probability"),
                               logits.log_softmax(1)[:, 6], atol=1e-12)
    np.testing.assert_allclose(mx.activation_objective(t, x, target=6, score="log_probability"),
                               logits.log_softmax(1)[:, 6], atol=1e-12)
    relu2 = fe.feature_maps(s, x, ["relu2"])["relu2"]
    np.testing.assert_allclose(mx.activation_objective(t, x, layer="relu2", channel=3), relu2[:, 3].mean((1, 2)))


def test_gaussian_blur_of_a_point_is_the_kernel_and_the_same_on_both_sides():
    point = np.zeros((1, 2, 11, 11))
    point[0, :, 5, 5] = 1.0
    blurred = mx.gaussian_blur(point, 1.0)
    u = np.arange(-3, 4)
    kernel = np.exp(-u ** 2 / 2.0) / np.exp(-u ** 2 / 2.0).sum()
    np.testing.assert_allclose(blurred[0, 1, 2:9, 2:9], np.outer(kernel, kernel), atol=1e-15)
    assert blurred.sum() == pytest.approx(2.0)
    images = np.random.default_rng(3).uniform(size=(2, 1, 9, 12))
    np.testing.assert_allclose(mx.gaussian_blur(torch.from_numpy(images), 0.6).numpy(),
                               mx.gaussian_blur(images, 0.6), atol=1e-15)


def test_deep_dream_matches_and_amplifies_the_layer(twins):
    t, s = twins
    x = np.random.default_rng(4).uniform(0, 1, (2, 1, 28, 28))
    ours, theirs = (mx.deep_dream(m, x, "relu2", steps=3, lr=0.02, jitter=1, seed=2) for m in (s, t))
    parity.compare("dream", ours, theirs, tol=1e-6, verbose=False)

    def energy(image):
        return (fe.feature_maps(s, image, ["relu2"])["relu2"] ** 2).sum(axis=(1, 2, 3)) / 2

    assert (energy(ours) > energy(x)).all()
    assert ours.min() >= 0.0 and ours.max() <= 1.0 and np.abs(ours - x).max() > 0


def test_a_model_on_a_gpu_makes_the_images_it_makes_on_the_cpu(device):
    torch.manual_seed(1)
    model = models.digit_cnn().double()
    x = np.random.default_rng(5).uniform(0, 1, (2, 1, 28, 28))

    def images():
        return [mx.maximize_activation(model, target=[2, 8], shape=(2, 1, 28, 28), **REGULARISED),
                mx.maximize_activation(model, target=1, score="log_probability", steps=2),
                mx.deep_dream(model, x, "relu1", steps=2, jitter=1)]

    on_cpu = images()
    model.to(device)
    for ours, theirs in zip(images(), on_cpu):
        assert ours.device.type == device.type
        parity.compare("on the device", ours, theirs, tol=1e-8, verbose=False)
