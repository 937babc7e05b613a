"""course_lib.interpret.adversarial: FGSM and PGD against Captum's, scratch against torch, the linear explanation,
adversarial batches through training.fit, and the fooling and transfer rates."""
import warnings

import numpy as np
import pytest
import torch
from captum.robust import FGSM, PGD

import interpret_twins
from course_lib import models, parity, scratch, training
from course_lib.interpret import adversarial_batch, fgsm, fooling_rate, linear_score_change, loss_gradient, pgd
from course_lib.interpret import random_sign

EPS = 0.1


@pytest.fixture(scope="module")
def twins():
    """A random digit_cnn in float64 and its scratch mirror with the same weights (tests/interpret_twins.py)."""
    return interpret_twins.twins("digit_cnn")[:2]


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    return rng.uniform(0.0, 1.0, (4, 1, 28, 28)), np.array([0, 3, 5, 9])


def ce(reduction="none"):
    return torch.nn.CrossEntropyLoss(reduction=reduction)


def captum_fgsm(net, x, y, eps, low=0.0, high=1.0):
    attack = FGSM(net, ce(), lower_bound=low, upper_bound=high)
    attack.zero_thresh = 0.0                        # Captum leaves |gradient| <= 1e-6 unmoved; ours only exact 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # "Input Tensor 0 did not already require gradients"
        return attack.perturb(torch.tensor(x), eps, torch.tensor(y))


def test_loss_gradient_is_autograd_of_the_mean_cross_entropy(twins, digits):
    net, mirror = twins
    x, y = digits
    xt = torch.tensor(x, requires_grad=True)
    expected, = torch.autograd.grad(ce("mean")(net(xt), torch.tensor(y)), xt)
    parity.compare("dCE/dx torch", loss_gradient(net, x, y), expected, tol=1e-12, verbose=False)
    parity.compare("dCE/dx scratch", loss_gradient(mirror, x, y), expected, tol=1e-10, verbose=False)


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.3])
def test_fgsm_is_captums_fgsm_and_the_scratch_side_agrees(twins, digits, eps):
    net, mirror = twins
    x, y = digits
    ours = fgsm(net, x, y, eps)
    assert isinstance(ours, torch.Tensor) and ours.dtype == torch.float64
    parity.compare("fgsm vs captum", ours, captum_fgsm(net, x, y, eps), tol=1e-12, verbose=False)
    theirs = fgsm(mirror, x, y, eps)
    assert isinstance(theirs, np.ndarray)
    parity.compare("fgsm scratch vs torch", theirs, ours, tol=1e-12, verbose=False)


def test_fgsm_without_clamp_moves_every_pixel_by_eps(twins, digits):
    net, _ = twins
    x, y = digits
    free = fgsm(net, x, y, EPS, clamp=None)
    parity.compare("fgsm clamp=None", free, captum_fgsm(net, x, y, EPS, -np.inf, np.inf), tol=1e-12, verbose=False)
    step = (free - torch.tensor(x)).abs()
    assert torch.allclose(step[step > 0], torch.tensor(EPS, dtype=torch.float64))
    assert (step > 0).float().mean() > 0.5                              # most pixels have a gradient
    clamped = fgsm(net, x, y, EPS)
    assert clamped.min() >= 0.0 and clamped.max() <= 1.0
    assert torch.equal(clamped, free.clamp(0.0, 1.0))
    assert torch.equal(fgsm(net, x, y, 0.0), torch.tensor(x))


def test_fgsm_raises_the_loss(twins, digits):
    net, _ = twins
    x, y = digits
    loss = ce("mean")
    clean = loss(net(torch.tensor(x)), torch.tensor(y))
    assert loss(net(fgsm(net, x, y, 0.01)), torch.tensor(y)) > clean


@pytest.mark.parametrize("clamp", [(0.0, 1.0), None])
def test_pgd_is_captums_pgd_and_the_scratch_side_agrees(twins, digits, clamp):
    net, mirror = twins
    x, y = digits
    low, high = clamp or (-np.inf, np.inf)
    attack = PGD(net, ce(), lower_bound=low, upper_bound=high)
    attack.fgsm.zero_thresh = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = attack.perturb(torch.tensor(x), radius=EPS, step_size=0.03, step_num=5, target=torch.tensor(y),
                                random_start=False, norm="Linf")
    ours = pgd(net, x, y, EPS, step_size=0.03, steps=5, clamp=clamp)
    parity.compare("pgd vs captum", ours, theirs, tol=1e-12, verbose=False)
    parity.compare("pgd scratch vs torch", pgd(mirror, x, y, EPS, 0.03, 5, clamp=clamp), ours, tol=1e-12,
                   verbose=False)
    assert (ours - torch.tensor(x)).abs().max() <= EPS + 1e-12


def test_pgd_one_step_of_eps_is_fgsm_and_random_start_is_seeded(twins, digits):
    net, mirror = twins
    x, y = digits
    assert torch.equal(pgd(net, x, y, EPS, step_size=EPS, steps=1), fgsm(net, x, y, EPS))
    a = pgd(net, x, y, EPS, 0.02, 3, random_start=True, seed=1)
    assert torch.equal(a, pgd(net, x, y, EPS, 0.02, 3, random_start=True, seed=1))
    assert not torch.equal(a, pgd(net, x, y, EPS, 0.02, 3, random_start=True, seed=2))
    assert not torch.equal(a, pgd(net, x, y, EPS, 0.02, 3))
    parity.compare("pgd random start", pgd(mirror, x, y, EPS, 0.02, 3, random_start=True, seed=1), a, tol=1e-12,
                   verbose=False)
    assert (a - torch.tensor(x)).abs().max() <= EPS + 1e-12 and a.min() >= 0 and a.max() <= 1


def test_pgd_is_stronger_than_fgsm(twins, digits):
    net, _ = twins
    x, y = digits
    loss = ce("mean")
    assert loss(net(pgd(net, x, y, 0.02, 0.005, 10)), torch.tensor(y)) > loss(net(fgsm(net, x, y, 0.02)),
                                                                              torch.tensor(y))


# ---------------------------------------------------------------- Goodfellow's linear explanation


def test_eps_sign_w_moves_a_linear_score_by_eps_times_the_l1_norm():
    w = np.random.default_rng(1).normal(size=784)
    x = np.random.default_rng(2).uniform(size=784)
    assert w @ (x + 0.1 * np.sign(w)) - w @ x == pytest.approx(linear_score_change(w, 0.1), rel=1e-12)
    assert linear_score_change(torch.tensor(w), 0.1) == pytest.approx(0.1 * np.abs(w).sum(), rel=1e-12)
    assert linear_score_change(w.reshape(1, 28, 28), 0.0) == 0.0


@pytest.mark.parametrize("backend", ["scratch", "torch"])
def test_fgsm_on_a_two_class_linear_model_moves_the_margin_by_eps_times_the_l1_norm(backend):
    """Scores s = Wx + b, label 0: dCE/dx = p1 (W1 - W0), so FGSM steps along sign(W1 - W0), exactly Goodfellow's
    step for the margin s1 - s0, which it moves by eps * ||W1 - W0||_1 (a bare Linear, like notebook 01's)."""
    scratch.manual_seed(0)
    torch.manual_seed(0)
    model = scratch.Linear(784, 2) if backend == "scratch" else torch.nn.Linear(784, 2).double()
    x = np.random.default_rng(0).uniform(size=(3, 784))
    W = model.weight.data if backend == "scratch" else model.weight.detach().numpy()
    margin = lambda v: np.asarray(training.outputs(model, v)) @ np.array([-1.0, 1.0])   # noqa: E731
    moved = margin(np.asarray(fgsm(model, x, 0, EPS, clamp=None))) - margin(x)
    np.testing.assert_allclose(moved, linear_score_change(W[1] - W[0], EPS), rtol=1e-10)


# ---------------------------------------------------------------- adversarial training


@pytest.mark.parametrize("fraction, changed", [(0.5, 2), (0.3, 1), (0.0, 0), (1.0, 4)])
def test_adversarial_batch_replaces_only_the_chosen_fraction(twins, digits, fraction, changed):
    net, mirror = twins
    x, y = digits
    batch = adversarial_batch(net, x, y, EPS, fraction=fraction)
    assert batch.shape == x.shape and isinstance(batch, torch.Tensor)
    assert torch.equal(batch[changed:], torch.tensor(x[changed:]))
    if changed:
        assert torch.equal(batch[:changed], fgsm(net, x[:changed], y[:changed], EPS))
    parity.compare("adversarial_batch scratch", adversarial_batch(mirror, x, y, EPS, fraction=fraction), batch,
                   tol=1e-12, verbose=False)


def test_adversarial_batch_with_pgd(twins, digits):
    net, _ = twins
    x, y = digits
    batch = adversarial_batch(net, x, torch.tensor(y), EPS, attack="pgd", step_size=0.05, steps=2)
    assert torch.equal(batch[:2], pgd(net, x[:2], y[:2], EPS, step_size=0.05, steps=2))
    assert torch.equal(batch[2:], torch.tensor(x[2:]))


@pytest.mark.parametrize("backend", ["scratch", "torch"])
def test_fit_trains_on_adversarial_batches(backend, digits):
    """fit's perturb gets the model as it is at each step; the step then sees half the batch attacked."""
    x, y = np.repeat(digits[0], 4, axis=0), np.repeat(digits[1], 4)
    torch.manual_seed(0)
    scratch.manual_seed(0)
    model = models.digit_cnn(backend=backend)
    model = model if backend == "scratch" else model.double()
    nn, optim = models.namespace(backend), models.optim_namespace(backend)
    seen = []

    def perturb(m, xb, yb):
        seen.append(adversarial_batch(m, xb, yb, EPS))
        return seen[-1]
    training.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=1,
                 batch_size=8, perturb=perturb, progress=False)
    assert len(seen) == 2 and all(tuple(b.shape) == (8, 1, 28, 28) for b in seen)
    assert all(float(abs(b[:4] - b[:4].clip(0, 1)).max()) == 0 for b in seen)


# ---------------------------------------------------------------- fooling and transfer


def test_random_sign_moves_every_pixel_by_eps_and_keeps_the_kind(digits):
    x, _ = digits
    noise = random_sign(x, EPS, clamp=None, seed=3)
    np.testing.assert_allclose(np.abs(noise - x), EPS)
    assert np.array_equal(noise, random_sign(x, EPS, clamp=None, seed=3))
    t = random_sign(torch.tensor(x, dtype=torch.float32), EPS, seed=3)
    assert t.dtype == torch.float32 and t.min() >= 0 and t.max() <= 1
    np.testing.assert_allclose(t.numpy(), np.clip(noise, 0, 1), atol=1e-6)


def test_fooling_rate_counts_only_inputs_classified_correctly_when_clean(twins, digits):
    net, mirror = twins
    x, _ = digits
    y = np.asarray(training.outputs(mirror, x).argmax(1))           # all correct by construction
    assert fooling_rate(net, x, x, y) == 0.0
    attacked = fgsm(net, x, y, 1.0, clamp=None)
    rate = fooling_rate(net, x, attacked, y)
    assert rate == np.mean(training.outputs(net, attacked).argmax(1).numpy() != y)
    wrong = y.copy()
    wrong[0] = (y[0] + 1) % 10
    attacked = attacked.numpy()
    assert fooling_rate(mirror, x, attacked, wrong, correct_also=[net]) == \
        np.mean(training.outputs(mirror, attacked[1:]).argmax(1) != y[1:])
