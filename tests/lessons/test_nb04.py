"""Notebook 04's helpers: 2-D surfaces, scratch vs torch optimiser trajectories, the widget callback, exercises."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_lib.lessons import nb04_optimization as ov
from course_lib import models, scratch
from course_lib.exercises.checking import ExerciseFailed, run_check
from course_lib.exercises.nb04 import EXERCISES as NB04
from course_lib.parity import compare
from course_lib.scratch import numerical_gradient
from course_lib.training import Callback, evaluate, fit, train_steps

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


def test_point_model_and_surface_loss_give_the_optimiser_grad_f():
    s = ov.SURFACES["rosenbrock"]
    model, loss_fn = ov.PointModel([0.3, -0.7]), ov.SurfaceLoss(s.f, s.grad)
    row = model(np.zeros((1, 1)))
    assert row.shape == (1, 2) and loss_fn(row, None) == pytest.approx(s.f(0.3, -0.7))
    model.backward(loss_fn.backward())
    assert np.allclose(model.point.grad, s.grad(np.array([0.3, -0.7]))) and [*model.parameters()] == [model.point]


def test_the_race_runs_on_the_course_loop_bit_for_bit_like_a_bare_loop():
    s = ov.SURFACES["ravine"]
    point = scratch.Parameter(np.array(s.start))
    opt = ov.make_optimizer("Adam", [point], 0.3)
    path = [point.data.copy()]
    for _ in range(30):
        point.grad = s.grad(point.data)
        opt.step()
        path.append(point.data.copy())
    assert np.array_equal(ov.run_scratch(s, "Adam", 0.3, steps=30), np.array(path))


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


# ---------------------------------------------------------------- Nesterov's two forms


@pytest.mark.parametrize("surface", ["ravine", "saddle"])
def test_nesterov_lookahead_shifted_is_torchs_nesterov(surface):
    s = ov.SURFACES[surface]
    lr = s.lrs["Nesterov"]
    w, v = ov.nesterov_lookahead(s, lr, momentum=0.9, steps=60)
    theirs = ov.run_torch(s, "Nesterov", lr, steps=60)
    assert w.shape == v.shape == (61, 2) and np.array_equal(v[0], [0.0, 0.0])
    compare(f"look-ahead w + m v on {surface}", w + 0.9 * v, theirs, tol=1e-12, verbose=False)
    assert np.abs(w - theirs).max() > 1e-3                 # the shift is needed


# ---------------------------------------------------------------- the condition number


def test_gradient_descent_with_the_best_step_contracts_at_the_theoretical_rate():
    lr, rate = ov.gd_best(100.0, 1.0)
    assert lr == pytest.approx(2 / 101) and rate == pytest.approx(99 / 101)
    distances = ov.quadratic_distances((100.0, 1.0), lr, 0.0, steps=50)
    assert distances.shape == (51,) and distances[0] == pytest.approx(np.sqrt(2))
    assert np.allclose(distances[1:] / distances[:-1], rate, rtol=1e-12)     # both coordinates shrink by rate


def test_heavy_ball_parameters_and_measured_rate():
    lr, momentum, rate = ov.heavy_ball_best(100.0, 1.0)
    assert lr == pytest.approx(4 / 121) and rate == pytest.approx(9 / 11) and momentum == pytest.approx(rate ** 2)
    measured = ov.tail_rate(ov.quadratic_distances((100.0, 1.0), lr, momentum, steps=400))
    assert rate < measured < rate * 2 ** (1 / 200) * 1.001                    # t rho^t: only the factor t on top


def test_tail_rate_of_a_geometric_sequence():
    assert ov.tail_rate(0.9 ** np.arange(21)) == pytest.approx(0.9, rel=1e-12)
    assert ov.tail_rate(np.array([8.0, 4.0, 1.0]), tail=1) == pytest.approx(0.25)


def test_condition_number_rates_and_their_figure():
    rates = ov.condition_number_rates([10, 100], steps=200)
    assert rates["gd"].shape == rates["momentum"].shape == (2, 201)
    assert np.allclose(rates["gd_measured"], rates["gd_theory"], rtol=1e-9)
    assert np.all(np.abs(rates["momentum_measured"] / rates["momentum_theory"] - 1) < 0.01)
    fig = ov.plot_condition_number(rates)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 4
    assert np.allclose(fig.axes[1].lines[2].get_ydata(), rates["gd_measured"])


# ---------------------------------------------------------------- the LR range test


def test_range_test_lrs_rise_by_a_constant_factor_from_start_to_end():
    lrs = ov.range_test_lrs(1e-5, 10.0, 100)
    assert lrs.shape == (100,) and lrs[0] == pytest.approx(1e-5) and lrs[-1] == pytest.approx(10.0)
    assert np.allclose(lrs[1:] / lrs[:-1], (1e6) ** (1 / 99))
    with pytest.raises(ValueError, match="start_lr < end_lr"):
        ov.range_test_lrs(1.0, 0.1, 10)


class _LrSpy(Callback):
    """Reads the optimiser's lr after each step, before the range test changes it: the lr that step used."""

    def __init__(self, optimizer):
        self.optimizer, self.used = optimizer, []

    def on_step(self, step, loss, model):
        self.used.append(self.optimizer.param_groups[0]["lr"])


def _blobs(n=64, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return rng.normal(size=(n, 5)) + 2.0 * np.eye(3, 5)[y], y


def test_range_test_trains_each_step_with_its_lr_and_stops_when_the_loss_blows_up():
    x, y = _blobs()
    scratch.manual_seed(0)
    model = models.mlp([5, 8, 3])
    optimizer = scratch.optim.SGD(model.parameters(), lr=123.0, momentum=0.9)
    test, spy = ov.LRRangeTest(optimizer, 1e-4, 100.0, steps=60), _LrSpy(optimizer)
    train_steps(model, scratch.CrossEntropyLoss(), optimizer, (x, y), 60, batch_size=16, callbacks=[spy, test])
    n = len(test.lrs)
    assert 5 < n < 60                                                     # lr 100 blows up before the end
    assert np.allclose(spy.used, test.lrs) and np.allclose(test.lrs, ov.range_test_lrs(1e-4, 100.0, 60)[:n])
    assert test.smoothed[0] == pytest.approx(test.losses[0])              # debiased: no pull towards 0
    assert not test.smoothed[-1] <= 4.0 * min(test.smoothed)              # the rule that stopped it
    assert test.suggestion() == pytest.approx(test.lrs[int(np.argmin(test.smoothed))] / 10)


def test_range_test_without_a_blow_up_runs_every_step():
    x, y = _blobs()
    scratch.manual_seed(0)
    model = models.mlp([5, 3])
    optimizer = scratch.optim.SGD(model.parameters(), lr=1.0)
    test = ov.lr_range_test(model, scratch.CrossEntropyLoss(), optimizer, (x, y), 1e-6, 1e-4, steps=20, batch_size=8)
    assert len(test.lrs) == 20 and test.lrs[-1] == pytest.approx(1e-4)


def test_range_test_scratch_and_torch_agree_on_lrs_and_losses():
    x, y = _blobs()
    torch.manual_seed(0)
    torch_model = models.mlp([5, 8, 3], backend="torch").double()
    scratch_model = models.mlp([5, 8, 3])
    scratch_model.load_state_dict(torch_model.state_dict())
    tests = {}
    for backend, model, loss_fn in (("scratch", scratch_model, scratch.CrossEntropyLoss()),
                                    ("torch", torch_model, torch.nn.CrossEntropyLoss())):
        optimizer = ov.make_optimizer("Momentum", model.parameters(), 1.0, backend=backend)
        tests[backend] = ov.lr_range_test(model, loss_fn, optimizer, (x, y), 1e-4, 100.0, steps=60, batch_size=16)
    ours, theirs = tests["scratch"], tests["torch"]
    assert ours.lrs == theirs.lrs
    compare("range test losses", np.array(ours.losses), np.array(theirs.losses), tol=1e-9, verbose=False)
    assert ours.suggestion() == theirs.suggestion()


def test_plot_lr_range_test_marks_the_suggestion():
    x, y = _blobs()
    scratch.manual_seed(0)
    model = models.mlp([5, 8, 3])
    optimizer = scratch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
    test = ov.lr_range_test(model, scratch.CrossEntropyLoss(), optimizer, (x, y), 1e-4, 100.0, steps=60, batch_size=16)
    fig = ov.plot_lr_range_test({"scratch": test})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and np.allclose(ax.lines[0].get_ydata(), test.smoothed)
    assert any(l.get_label().startswith("scratch: suggestion") and l.get_xdata()[0] == test.suggestion()
               for l in ax.lines)


def test_epoch_loss_records_the_loss_on_the_whole_set_after_each_epoch():
    x, y = _blobs()
    scratch.manual_seed(0)
    model = models.mlp([5, 3])
    record = ov.EpochLoss(scratch.CrossEntropyLoss(), x, y)
    fit(model, scratch.CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=3,
        batch_size=16, progress=False, callbacks=[record])
    assert len(record.losses) == 3
    assert record.losses[-1] == pytest.approx(evaluate(model, scratch.CrossEntropyLoss(), x, y)[0])


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
    saddle = ov.race(ov.SURFACES["saddle"], ["Adam"])
    fig = ov.plot_race_grid(["saddle"], paths={"saddle": saddle})
    line = next(l for l in fig.axes[0].lines if l.get_label().startswith("Adam (lr"))
    assert np.allclose(line.get_xydata(), np.clip(saddle["Adam"], [-3.0, -2.6], [3.0, 2.6]))


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


def test_step_lr_has_dropped_at_the_boundary():
    """The rule the notebook states: after exactly step_size calls the lr is base_lr * gamma."""
    reference = EX["04.step_lr"].reference
    assert reference(0.1, 3, 0.5, 2) == pytest.approx(0.1) and reference(0.1, 3, 0.5, 3) == pytest.approx(0.05)
    wrong = EX["04.step_lr"].mistakes["off by one at the boundary: the drop comes one call late ((epoch - 1) // step_size)"]
    with pytest.raises(ExerciseFailed, match="04.step_lr"):
        run_check(EX["04.step_lr"], wrong)


def test_every_exercise_declares_its_common_mistakes():
    assert all(len(ex.mistakes) >= 3 for ex in NB04)


def test_smooth_exponential_decay_is_not_step_lr():
    with pytest.raises(ExerciseFailed, match="04.step_lr"):
        run_check(EX["04.step_lr"], lambda lr0, k, gamma, t: lr0 * gamma ** (t / k))


def test_unattempted_exercise_says_so():
    def stub(*args):
        raise NotImplementedError
    with pytest.raises(ExerciseFailed, match="not attempted"):
        run_check(EX["04.sgd_momentum_step"], stub)
