"""Notebook 02's helpers: the loss explorer's numbers and pictures, and the exercises' checkers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.lessons import nb02_losses as lx
from course_lib.exercises import EXERCISES
from course_lib.exercises.checking import ExerciseFailed, run_check
from course_lib.exercises.nb02 import EXERCISES as NB02
from course_lib.exercises.nb02 import hinge_grad_reference
from course_lib.parity import compare
from course_lib.scratch import functional as sf
from course_lib.scratch import numerical_gradient


# ---------------------------------------------------------------- loss_report


def test_lecture_example_numbers():
    r = lx.loss_report(lx.LECTURE_SCORES, lx.LECTURE_TARGET)
    assert r["hinge"] == pytest.approx(1.58, abs=1e-12)
    assert np.allclose(r["hinge_terms"], [0.0, 1.58, 0.0])
    assert np.array_equal(r["hinge_grad"], [0.0, 1.0, -1.0])
    assert np.allclose(r["probabilities"], [0.01545, 0.63116, 0.35339], atol=1e-5)
    assert r["cross_entropy"] == pytest.approx(1.0402, abs=1e-4)
    assert np.allclose(r["cross_entropy_grad"], r["probabilities"] - np.eye(3)[2])
    assert np.exp(r["scores"]).sum() == pytest.approx(3.7441, abs=1e-4)


def test_loss_report_matches_torch():
    scores = torch.tensor([[0.3, -1.2, 2.0, 0.5]], dtype=torch.float64, requires_grad=True)
    target = torch.tensor([3])
    r = lx.loss_report(scores[0].tolist(), 3, margin=0.7)
    ce = F.cross_entropy(scores, target)
    ce_grad, = torch.autograd.grad(ce, scores)
    hinge = 4 * F.multi_margin_loss(scores, target, margin=0.7)      # torch divides by C = 4
    hinge_grad, = torch.autograd.grad(hinge, scores)
    assert r["cross_entropy"] == pytest.approx(ce.item(), rel=1e-12)
    compare("cross-entropy gradient", r["cross_entropy_grad"], ce_grad[0], tol=1e-12, verbose=False)
    assert r["hinge"] == pytest.approx(hinge.item(), rel=1e-12)
    compare("hinge gradient", r["hinge_grad"], hinge_grad[0], verbose=False)


def test_loss_report_gradients_match_finite_differences():
    scores = np.array([0.4, -0.3, 1.1, 0.9])
    r = lx.loss_report(scores, 1)
    numeric = numerical_gradient(lambda: lx.loss_report(scores, 1)["cross_entropy"], scores)
    assert np.allclose(r["cross_entropy_grad"], numeric, atol=1e-7)
    numeric = numerical_gradient(lambda: lx.loss_report(scores, 1)["hinge"], scores)   # no kink at these scores
    assert np.allclose(r["hinge_grad"], numeric, atol=1e-7)


def test_confident_correct_class_zeroes_the_hinge_but_not_cross_entropy():
    r = lx.loss_report([-2.85, 0.86, 1.9], 2)
    assert r["hinge"] == 0.0 and not r["hinge_grad"].any()
    assert r["cross_entropy"] > 0 and np.abs(r["cross_entropy_grad"]).sum() > 0


def test_loss_report_refuses_a_bad_target():
    with pytest.raises(ValueError, match="class index 0..2"):
        lx.loss_report([1.0, 2.0, 3.0], 3)


# ---------------------------------------------------------------- other numbers


def test_sigmoid_output_gradients():
    z = np.linspace(-8, 8, 33)
    g = lx.sigmoid_output_gradients(z, t=1.0)
    assert g["ce_grad"].shape == z.shape
    assert np.all(np.abs(g["ce_grad"]) >= 4 * np.abs(g["mse_grad"]) - 1e-15)   # sigma' <= 1/4
    one = lx.sigmoid_output_gradients(-5.0)
    assert abs(one["ce_grad"]) > 100 * abs(one["mse_grad"])
    # against autograd, for both losses
    zt = torch.tensor(z, requires_grad=True)
    mse = 0.5 * ((torch.sigmoid(zt) - 1.0) ** 2).sum()
    compare("MSE gradient", g["mse_grad"], torch.autograd.grad(mse, zt)[0], verbose=False)
    bce = F.binary_cross_entropy_with_logits(zt, torch.ones_like(zt), reduction="sum")
    compare("sigmoid cross-entropy gradient", g["ce_grad"], torch.autograd.grad(bce, zt)[0], verbose=False)


def test_weight_roughness_prefers_smooth_images():
    smooth = np.tile(np.linspace(0, 1, 28), (2, 28))       # (2, 784): gentle ramps
    noisy = np.random.default_rng(0).normal(size=(2, 784))
    assert lx.weight_roughness(smooth) < 0.05 < lx.weight_roughness(noisy)


def test_sgd_with_l1_takes_the_lectures_l1_step():
    rng = np.random.default_rng(0)
    w0, g = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    w = lx.scratch.Parameter(w0.copy())
    w.grad = g.copy()
    lx.SGDWithL1([w], lr=0.1, l1=0.02).step()
    assert np.allclose(w.data, w0 - 0.1 * 0.02 * np.sign(w0) - 0.1 * g, rtol=0, atol=1e-15)
    plain = lx.scratch.Parameter(w0.copy())
    plain.grad = g.copy()
    lx.SGDWithL1([plain], lr=0.1).step()                       # l1 = 0: plain SGD
    assert np.allclose(plain.data, w0 - 0.1 * g, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="l1"):
        lx.SGDWithL1([plain], lr=0.1, l1=-1.0)


def test_sgd_with_l1_matches_torch_on_the_penalised_loss():
    rng = np.random.default_rng(1)
    w0, g = rng.normal(size=5), rng.normal(size=5)
    w = lx.scratch.Parameter(w0.copy())
    w.grad = g.copy()
    lx.SGDWithL1([w], lr=0.3, l1=0.05, weight_decay=0.01).step()
    wt = torch.tensor(w0, requires_grad=True)
    penalised = (torch.tensor(g) * wt).sum() + 0.05 * wt.abs().sum() + 0.01 / 2 * (wt ** 2).sum()
    penalised.backward()
    compare("SGDWithL1 step", w.data, wt.detach() - 0.3 * wt.grad, verbose=False)


def test_train_linear_classifier_penalties_shrink_and_sparsify():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(60, 20)), rng.integers(0, 10, 60)
    plain = lx.train_linear_classifier(x, y, epochs=5, batch_size=20)
    again = lx.train_linear_classifier(x, y, epochs=5, batch_size=20)
    assert np.array_equal(plain.weight.data, again.weight.data)             # seeded: the same run
    l2 = lx.train_linear_classifier(x, y, weight_decay=0.5, epochs=5, batch_size=20)
    l1 = lx.train_linear_classifier(x, y, l1=0.05, epochs=5, batch_size=20)
    assert np.linalg.norm(l2.weight.data) < np.linalg.norm(plain.weight.data)
    assert (np.abs(l1.weight.data) < 1e-2).sum() > (np.abs(plain.weight.data) < 1e-2).sum()
    assert l2.weight.data.shape == (10, 20)


# ---------------------------------------------------------------- pictures


def test_plot_loss_shapes_draws_the_four_losses_of_the_margin():
    ax = lx.plot_loss_shapes((-3.0, 3.0)).axes[0]
    zero_one, hinge, cross_entropy, _ = ax.lines[:4]
    m = hinge.get_xdata()
    assert np.allclose(zero_one.get_ydata(), m < 0)
    assert np.allclose(hinge.get_ydata(), np.maximum(0, 1 - m))
    assert np.allclose(cross_entropy.get_ydata(), np.log1p(np.exp(-m)))


def test_plot_penalties_draws_l2_and_l1_and_their_slopes():
    fig = lx.plot_penalties(lam=2.0)
    (l2, l1), (dl2, dl1) = fig.axes[0].lines[:2], fig.axes[1].lines[:2]
    w = l2.get_xdata()
    assert np.allclose(l2.get_ydata(), w**2) and np.allclose(l1.get_ydata(), 2 * np.abs(w))
    assert np.allclose(dl2.get_ydata(), 2 * w) and np.allclose(dl1.get_ydata(), 2 * np.sign(w))


def test_plot_sigmoid_gradients_shows_squared_error_vanishing_when_wrong():
    ce, mse = lx.plot_sigmoid_gradients((-8.0, 8.0), t=1.0).axes[0].lines[:2]
    assert ce.get_ydata()[0] > 0.99                     # z = -8, target 1: cross-entropy pushes with ~1
    assert mse.get_ydata()[0] < 1e-3                    # squared error barely moves


def test_loss_report_figure_states_both_losses():
    fig = lx.plot_loss_report(lx.LECTURE_SCORES, lx.LECTURE_TARGET)
    assert "1.5800" in fig._suptitle.get_text() and "1.0402" in fig._suptitle.get_text()
    assert len(fig.axes) == 3
    assert [p.get_height() for p in fig.axes[0].patches] == list(lx.LECTURE_SCORES)


def test_weight_images_one_row_per_run():
    w = np.random.default_rng(0).normal(size=(10, 784))
    fig = lx.plot_weight_images({"a": w, "b": 0.5 * w})
    assert len(fig.axes) == 20
    assert [fig.axes[0].get_ylabel(), fig.axes[10].get_ylabel()] == ["a", "b"]
    assert np.array_equal(fig.axes[13].images[0].get_array(), 0.5 * w[3].reshape(28, 28))


def test_widget_callback_returns_the_report_of_its_scores():
    fig = lx.explore_losses(1.0, -0.5, 2.0, true_class=0, margin=0.5)
    report = lx.loss_report((1.0, -0.5, 2.0), 0, 0.5)
    assert [p.get_height() for p in fig.axes[0].patches] == [1.0, -0.5, 2.0]
    assert f"hinge loss = {report['hinge']:.4f}" in fig._suptitle.get_text()


# ---------------------------------------------------------------- exercises


def test_notebook_02_exercises_are_registered():
    keys = [ex.key for ex in NB02]
    assert 3 <= len(keys) <= 6
    assert all(k.startswith("02.") and k in EXERCISES for k in keys)


@pytest.mark.parametrize("ex", NB02, ids=lambda ex: ex.key)
def test_reference_passes_its_own_check(ex):
    assert "correct" in run_check(ex, ex.reference)


@pytest.mark.parametrize("ex", NB02, ids=lambda ex: ex.key)
def test_every_exercise_declares_at_least_two_mistakes(ex):
    assert len(ex.mistakes) >= 2


def test_hinge_grad_reference_is_torchs_autograd_of_the_mean_hinge_loss():
    rng = np.random.default_rng(0)
    for n, c in [(1, 3), (5, 4), (16, 10)]:
        scores, target = rng.normal(size=(n, c)), rng.integers(0, c, n)
        st = torch.tensor(scores, requires_grad=True)
        loss = c * F.multi_margin_loss(st, torch.tensor(target), margin=1.0)     # the lecture's form: x C
        loss.backward()
        compare(f"hinge grad {n}x{c}", hinge_grad_reference(scores, target), st.grad, verbose=False)
        assert np.allclose(hinge_grad_reference(scores, target), sf.hinge_loss_backward(1.0, scores, target))


def test_hinge_grad_boundary_a_margin_of_exactly_zero_is_satisfied_as_in_torch():
    scores, target = np.array([[1.0, 2.0, 0.5]]), np.array([1])        # class 0: 1 - 2 + 1 = 0, exactly
    st = torch.tensor(scores, requires_grad=True)
    (3 * F.multi_margin_loss(st, torch.tensor(target))).backward()
    assert hinge_grad_reference(scores, target).tolist() == [[0.0, 0.0, 0.0]] == st.grad.tolist()


def naive_softmax(scores):
    e = np.exp(scores)
    return e / e.sum(axis=1, keepdims=True)


def hinge_including_correct_class(scores, target):
    return np.maximum(0, scores - scores[np.arange(len(target)), target][:, None] + 1).sum(axis=1).mean()


WRONG = [
    ("02.softmax", naive_softmax, "overflows.*\n.*common mistake: no max subtraction"),
    ("02.softmax", lambda s: np.exp(s - s.max(axis=1, keepdims=True)), "differ"),        # forgot to normalise
    ("02.cross_entropy", lambda s, t: -np.log(naive_softmax(s)[np.arange(len(t)), t]).mean(),
     "overflows.*\n.*common mistake: -ln of a softmax without max subtraction"),
    ("02.cross_entropy", lambda s, t: EXERCISES["02.cross_entropy"].reference(s, t) * len(t), "times the expected"),
    ("02.hinge", lambda s, t: EXERCISES["02.hinge"].reference(s, t) / s.shape[1], "times the expected"),
    ("02.hinge", hinge_including_correct_class, "differ"),
    ("02.cross_entropy_grad", lambda s, t: EXERCISES["02.cross_entropy_grad"].reference(s, t) * len(t),
     "times the expected"),
    ("02.cross_entropy_grad", lambda s, t: -EXERCISES["02.cross_entropy_grad"].reference(s, t), "opposite sign"),
    ("02.l2_update", lambda w, g, lr, lam, n: (1 + lr * lam / n) * w - lr * g, "differ"),
    ("02.l2_update", lambda w, g, lr, lam, n: (1 - lr * lam) * w - lr * g, "differ"),
]


@pytest.mark.parametrize("key, answer, message", WRONG, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(WRONG)])
def test_plausible_wrong_answers_fail_with_a_useful_message(key, answer, message):
    with np.errstate(all="ignore"), pytest.raises(ExerciseFailed, match=message) as info:
        run_check(EXERCISES[key], answer)
    assert "Hint:" in str(info.value)


@pytest.mark.parametrize("ex", NB02, ids=lambda ex: ex.key)
def test_stub_says_not_attempted(ex):
    def stub(*args):
        raise NotImplementedError("Exercise: replace this line with your answer")
    with pytest.raises(ExerciseFailed, match="not attempted yet"):
        run_check(ex, stub)
