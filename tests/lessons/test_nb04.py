"""Notebook 04's helpers: 2-D surfaces, scratch vs torch optimiser trajectories, the widget callback, exercises."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_lib.lessons import nb04_optimization as ov
from course_lib import scratch
from course_lib.exercises.checking import ExerciseFailed, run_check
from course_lib.exercises.nb04 import EXERCISES as NB04
from course_lib.parity import compare
from course_lib.scratch import numerical_gradient

EX = {ex.key: ex for ex in NB04}


# ---------------------------------------------------------------- surfaces


@pytest.mark.parametrize("name", list(ov.SURFACES))
def test_gradients_match_finite_differences(name):
    s = ov.SURFACES[name]
    for point in ([0.3, -0.7], [-1.2, 1.0], [1.5, 0.2]):
        p = np.array(point)
        numeric = numerical_gradient(lambda: s.f(p[0], p[1]), p)
        assert np.allclose(s.grad(p), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(ov.SURFACES))
def test_minima_are_stationary_and_lowest(name):
    s = ov.SURFACES[name]
    X, Y = np.meshgrid(np.linspace(*s.xlim, 50), np.linspace(*s.ylim, 50))
    for m in s.minima:
        assert np.allclose(s.grad(np.array(m)), 0.0)
        assert s.f(*m) <= s.f(X, Y).min() + 1e-12


# ---------------------------------------------------------------- optimisers on the plane


@pytest.mark.parametrize("surface", list(ov.SURFACES))
@pytest.mark.parametrize("optimizer", ov.OPTIMIZERS)
def test_scratch_trajectory_equals_torch(surface, optimizer):
    s = ov.SURFACES[surface]
    ours = ov.run_scratch(s, optimizer, s.lrs[optimizer], steps=50)
    theirs = ov.run_torch(s, optimizer, s.lrs[optimizer], steps=50)
    assert ours.shape == theirs.shape == (51, 2)
    compare(f"{optimizer} trajectory on {surface}", ours, theirs, tol=1e-10, verbose=False)


def test_default_learning_rates_make_progress():
    for s in ov.SURFACES.values():
        finals = ov.final_losses(s, ov.race(s))
        start = float(s.f(*s.start))
        assert all(np.isfinite(v) and v < start for v in finals.values()), (s.name, finals)


def test_race_tells_the_lecture_story():
    ravine = ov.final_losses(ov.SURFACES["ravine"], ov.race(ov.SURFACES["ravine"]))
    saddle = ov.final_losses(ov.SURFACES["saddle"], ov.race(ov.SURFACES["saddle"]))
    assert ravine["Momentum"] < ravine["SGD"] / 100          # momentum beats SGD in a ravine
    assert saddle["SGD"] > 0.2 and saddle["Adam"] < 0.01     # SGD stalls at the saddle, Adam escapes


def test_start_and_steps_are_respected():
    path = ov.run_scratch(ov.SURFACES["saddle"], "Adam", 0.1, start=(0.5, -0.5), steps=7)
    assert path.shape == (8, 2) and np.array_equal(path[0], [0.5, -0.5])


def test_unknown_optimizer_and_backend_are_refused():
    with pytest.raises(ValueError, match="unknown optimiser"):
        ov.make_optimizer("Adadelta", [scratch.Parameter(np.zeros(2))], 0.1)
    with pytest.raises(ValueError, match="backend"):
        ov.make_optimizer("SGD", [scratch.Parameter(np.zeros(2))], 0.1, backend="jax")


# ---------------------------------------------------------------- the lecture's numbers


def test_effective_learning_rate_of_momentum():
    assert ov.effective_lr_factor(0.9) == pytest.approx(10.0, abs=1e-6)
    assert ov.effective_lr_factor(0.8) == pytest.approx(5.0, abs=1e-6)
    assert ov.effective_lr_factor(0.0) == pytest.approx(1.0)


def test_adam_first_step_is_lr_for_any_gradient_scale():
    for g in (1000.0, 1.0, 0.001):
        assert ov.first_steps("Adam", [g], lr=0.1)[0] == pytest.approx(0.1, abs=1e-5)
    assert ov.first_steps("SGD", [1000.0], lr=0.1)[0] == pytest.approx(100.0)


def test_rmsprop_forgets_and_adagrad_does_not():
    grads = [10.0] * 100 + [0.1] * 1000
    assert ov.first_steps("RMSprop", grads, 0.01)[-1] > 0.008
    assert ov.first_steps("Adagrad", grads, 0.01)[-1] < 1e-4


def test_grid_count_and_log_uniform():
    assert [ov.grid_count(3, k) for k in (1, 2, 3)] == [3, 9, 27]
    v = ov.log_uniform(np.random.default_rng(0), 1e-4, 1.0, 20000)
    assert v.min() >= 1e-4 and v.max() <= 1.0
    assert np.mean(v > 0.1) == pytest.approx(0.25, abs=0.02)


@pytest.mark.parametrize("name", ["StepLR", "ExponentialLR", "CosineAnnealingLR", "OneCycleLR", "LinearLR"])
def test_lr_curve_same_in_scratch_and_torch(name):
    kwargs = {"StepLR": dict(step_size=7, gamma=0.5), "ExponentialLR": dict(gamma=0.9),
              "CosineAnnealingLR": dict(T_max=20), "OneCycleLR": dict(max_lr=0.2, total_steps=30),
              "LinearLR": dict(start_factor=0.2, total_iters=5)}[name]
    ours = ov.lr_curve(lambda opt: getattr(scratch.lr_scheduler, name)(opt, **kwargs), 30)
    theirs = ov.lr_curve(lambda opt: getattr(torch.optim.lr_scheduler, name)(opt, **kwargs), 30, backend="torch")
    compare(f"{name} lr curve", ours, theirs, tol=1e-12, verbose=False)


# ---------------------------------------------------------------- pictures and the widget callback


@pytest.mark.parametrize("surface", list(ov.SURFACES))
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_explore_optimizer_draws_the_trajectory_it_ran(surface, optimizer):
    s, lr = ov.SURFACES[surface], ov.SURFACES[surface].lrs[optimizer]
    fig = ov.explore_optimizer(surface, optimizer, lr=lr)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 2
    path = ov.run_scratch(s, optimizer, lr, s.start, s.steps)
    line = next(l for l in fig.axes[0].lines if l.get_label() == f"{optimizer} (lr {lr:g})")
    low, high = [s.xlim[0] - 1, s.ylim[0] - 1], [s.xlim[1] + 1, s.ylim[1] + 1]        # the drawing clips far-off points
    assert np.allclose(line.get_xydata(), np.clip(path, low, high))
    assert f"final f = {float(s.f(*path[-1])):.3g}" in fig._suptitle.get_text()
    assert [l.get_label() for l in fig.axes[1].lines] == ([optimizer] if optimizer == "SGD" else [optimizer, "SGD"])


def test_explore_optimizer_survives_a_diverging_learning_rate():
    fig = ov.explore_optimizer("ravine", "SGD", lr=10.0, x0=1.0, y0=1.0, steps=100)
    assert "final f = " in fig._suptitle.get_text() and "start (1, 1)" in fig._suptitle.get_text()


def test_plot_race_grid_draws_every_optimizer_on_every_surface():
    fig = ov.plot_race_grid()
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["ravine", "saddle", "rosenbrock"]
    labels = [l.get_label() for l in fig.axes[1].lines]
    assert all(any(label.startswith(f"{name} (lr") for label in labels) for name in ov.OPTIMIZERS)


def test_plot_search_places_the_trials():
    trials = [{"lr": 10.0 ** -k, "wd": 1e-4, "val_acc": 0.5 + 0.1 * k} for k in (1, 2, 3)]
    fig = ov.plot_search(trials, trials)
    assert len(fig.axes) == 3                                       # two panels and a colour bar
    assert np.allclose(fig.axes[1].collections[0].get_offsets(), [[0.1, 0.6], [0.01, 0.7], [0.001, 0.8]])


def test_plot_lr_curves_draws_one_line_per_schedule():
    fig = ov.plot_lr_curves({"constant": np.full(10, 0.1), "halved": np.full(10, 0.05)})
    ax = fig.axes[0]
    assert [l.get_label() for l in ax.lines] == ["constant", "halved"]
    assert np.allclose(ax.lines[1].get_ydata(), 0.05) and ax.get_title() == "learning-rate schedules"


# ---------------------------------------------------------------- exercises


def _adam_without_correction(w, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    return w - lr * m / (np.sqrt(v) + eps), m, v


def _adam_right(w, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    return w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v


def test_exercise_references_pass_their_own_checks():
    for ex in NB04:
        assert run_check(ex, ex.reference).startswith("✔")


def test_right_answers_pass():
    assert run_check(EX["04.adam_step"], _adam_right).startswith("✔")
    assert run_check(EX["04.sgd_momentum_step"], lambda w, g, b, lr, m: (w - lr * (m * b + g), m * b + g)).startswith("✔")
    assert run_check(EX["04.step_lr"], lambda lr0, k, gamma, t: lr0 * gamma ** (t // k)).startswith("✔")


def test_adam_without_bias_correction_fails_with_a_hint():
    with pytest.raises(ExerciseFailed, match="04.adam_step.*differ") as err:
        run_check(EX["04.adam_step"], _adam_without_correction)
    assert "1 - beta1**t" in str(err.value)


def test_rmsprop_without_square_root_fails():
    with pytest.raises(ExerciseFailed, match="04.rmsprop_step"):
        run_check(EX["04.rmsprop_step"], lambda w, g, s, lr, a, eps: (w - lr * g / (a * s + (1 - a) * g ** 2 + eps),
                                                                         a * s + (1 - a) * g ** 2))


def test_smooth_exponential_decay_is_not_step_lr():
    with pytest.raises(ExerciseFailed, match="04.step_lr"):
        run_check(EX["04.step_lr"], lambda lr0, k, gamma, t: lr0 * gamma ** (t / k))


def test_unattempted_exercise_says_so():
    def stub(*args):
        raise NotImplementedError
    with pytest.raises(ExerciseFailed, match="not attempted"):
        run_check(EX["04.sgd_momentum_step"], stub)
