"""Tests of course_lib.lessons.nb01_neurons (notebook 01's pictures and explorers) and of the nb01 exercises."""
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_lib import scratch
from course_lib.lessons import nb01_neurons as neurons
from course_lib.exercises import EXERCISES, ExerciseFailed, check, nb01
from course_lib.exercises.checking import run_check
from course_lib.parity import compare
from course_lib.training import fit


# ------------------------------------------------------------------ activations


@pytest.mark.parametrize("name", neurons.ACTIVATION_NAMES)
def test_activation_grad_matches_centred_differences(name):
    x = np.linspace(-4, 4, 41) + 0.013          # avoid the kink of (leaky) ReLU at exactly 0
    eps = 1e-6
    numeric = (neurons.activation(name, x + eps) - neurons.activation(name, x - eps)) / (2 * eps)
    assert np.allclose(neurons.activation_grad(name, x), numeric, atol=1e-8)


@pytest.mark.parametrize("name, torch_fn", [("sigmoid", torch.sigmoid), ("tanh", torch.tanh),
                                            ("relu", torch.relu),
                                            ("leaky_relu", torch.nn.functional.leaky_relu)])
def test_activation_and_grad_match_torch_autograd(name, torch_fn):
    x = np.linspace(-5, 5, 101)                  # contains 0 exactly: both use the same convention there
    xt = torch.tensor(x, requires_grad=True)
    yt = torch_fn(xt)
    yt.sum().backward()
    compare(f"{name} forward", neurons.activation(name, x), yt, tol=1e-15, verbose=False)
    assert np.array_equal(neurons.activation_grad(name, x) != 0, xt.grad.numpy() != 0)
    compare(f"{name} gradient", neurons.activation_grad(name, x), xt.grad, tol=1e-15, verbose=False)


def test_lecture_facts_on_activations():
    grid = np.linspace(-5, 5, 1001)
    dsig = neurons.activation_grad("sigmoid", grid)
    assert dsig.max() == 0.25 and grid[dsig.argmax()] == 0.0
    v = np.array([-2.0, 0.0, 3.0])
    assert np.array_equal(neurons.activation("relu", v), [0, 0, 3])
    assert np.allclose(neurons.activation("leaky_relu", v), [-0.02, 0, 3])


def test_unknown_activation_is_named_in_the_error():
    with pytest.raises(ValueError, match="softplus"):
        neurons.activation("softplus", np.zeros(3))
    with pytest.raises(ValueError, match="softplus"):
        neurons.activation_grad("softplus", np.zeros(3))


def test_maxout_pieces_reproduce_relu_leaky_and_abs():
    x = np.linspace(-3, 3, 61)[:, None]
    expected = [np.maximum(x[:, 0], 0), np.where(x[:, 0] > 0, x[:, 0], 0.1 * x[:, 0]), np.abs(x[:, 0])]
    for (w, b), want in zip(neurons.MAXOUT_PIECES.values(), expected):
        assert np.allclose(neurons.maxout(x, w, b), want)


def test_maxout_grad_is_the_winning_row_and_matches_differences():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    grad = neurons.maxout_grad(x, w, b)
    eps = 1e-6
    for i in range(3):
        e = np.zeros(3)
        e[i] = eps
        numeric = (neurons.maxout(x + e, w, b) - neurons.maxout(x - e, w, b)) / (2 * eps)
        assert np.allclose(grad[:, i], numeric, atol=1e-6)


def test_maxout_shape_error_names_the_shapes():
    with pytest.raises(ValueError, match=r"weight \(K, D\)"):
        neurons.maxout(np.zeros((4, 3)), np.zeros((2, 5)), np.zeros(2))


# ------------------------------------------------------------------ vanishing gradients


def test_deep_nets_share_weights_across_activations():
    a, b = neurons.deep_net("sigmoid", depth=3, width=8), neurons.deep_net("relu", depth=3, width=8)
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert np.array_equal(pa.data, pb.data)


def test_sigmoid_gradients_vanish_and_relu_gradients_do_not():
    sig = neurons.gradient_norms_by_depth("sigmoid", depth=12)
    relu = neurons.gradient_norms_by_depth("relu", depth=12)
    assert sig.shape == relu.shape == (12,)
    assert sig[0] / sig[-1] < 1e-4
    assert 0.1 < relu[0] / relu[-1] < 10


def test_stop_at_accuracy_stops_at_the_epoch_epochs_to_reach_counts():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > 0).astype(np.int64)                                  # separable: reaches 95 % quickly
    scratch.manual_seed(0)
    model = scratch.Linear(2, 2)
    history = fit(model, scratch.CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=0.5), (x, y),
                          epochs=50, batch_size=20, progress=False, callbacks=[neurons.StopAtAccuracy(0.95)])
    assert history.train_acc[-1] >= 0.95 and all(acc < 0.95 for acc in history.train_acc[:-1])
    assert len(history.train_acc) == neurons.epochs_to_reach(history.train_acc, 0.95) < 50


def test_epochs_to_reach():
    assert neurons.epochs_to_reach([0.5, 0.84, 0.85, 0.9], 0.85) == 3
    assert neurons.epochs_to_reach([0.5, 0.6], 0.85) is None


# ------------------------------------------------------------------ features and lines


def test_digit_features_symmetry_and_intensity():
    symmetric = np.zeros((1, 28, 28), dtype=np.uint8)
    symmetric[0, 5:20, 13:15] = 255               # a vertical bar in the middle columns 13, 14
    lopsided = np.zeros((1, 28, 28), dtype=np.uint8)
    lopsided[0, 5:20, 2:4] = 255                  # the same bar at the left edge
    f = neurons.digit_features(np.concatenate([symmetric, lopsided]))
    assert f.shape == (2, 2)
    assert f[0, 0] == 0.0 and f[1, 0] < 0          # symmetric: 0, lopsided: negative
    assert np.isclose(f[0, 1], 30 / 784) and np.isclose(f[1, 1], 30 / 784)


def test_line_geometry():
    geo = neurons.line_geometry(np.array([3.0, 4.0]), -10.0)
    assert np.allclose(geo["normal"], [0.6, 0.8])
    assert np.isclose(geo["offset"], 2.0)          # -b/|w| = 10/5
    assert np.allclose(geo["closest_point"], [1.2, 1.6])
    assert np.isclose(np.array([3.0, 4.0]) @ geo["closest_point"] - 10.0, 0)


# ------------------------------------------------------------------ toy data and the playground


@pytest.mark.parametrize("name", neurons.DATASETS)
def test_make_dataset_shapes_balance_and_seeding(name):
    x, y = neurons.make_dataset(name, n=200, seed=0)
    assert x.shape == (200, 2) and x.dtype == np.float64
    assert y.shape == (200,) and y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    assert 0.3 < y.mean() < 0.7
    assert np.abs(x).max() < 3
    x2, y2 = neurons.make_dataset(name, n=200, seed=0)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(x, neurons.make_dataset(name, n=200, seed=1)[0])


def test_make_dataset_unknown_name():
    with pytest.raises(ValueError, match="xor"):
        neurons.make_dataset("checkerboard")


def test_make_classifier_shapes():
    linear = neurons.make_classifier(hidden=0)
    assert [name for name, _ in linear.named_parameters()] == ["0.weight", "0.bias"]
    deep = neurons.make_classifier(hidden=5, activation_name="tanh", layers=2)
    assert deep(np.zeros((7, 2))).shape == (7, 1)
    assert sum(p.data.size for p in deep.parameters()) == (2 * 5 + 5) + (5 * 5 + 5) + (5 + 1)
    with pytest.raises(ValueError, match="relu"):
        neurons.make_classifier(activation_name="swish")


def test_linear_fails_and_hidden_layer_succeeds_on_xor_and_circles():
    for name in ("xor", "circles"):
        lin, x, y, _ = neurons.playground_result(name, hidden=0)
        mlp_, _, _, losses = neurons.playground_result(name, hidden=8)
        assert neurons.classifier_accuracy(lin, x, y) < 0.75
        assert neurons.classifier_accuracy(mlp_, x, y) > 0.95
        assert losses[-1] < losses[0]


def test_playground_is_cached_and_returns_a_figure():
    first = neurons.playground_result("moons", 4, "relu", 1, 0.1, 100)
    assert neurons.playground_result("moons", 4, "relu", 1, 0.1, 100) is first
    fig = neurons.playground("moons", hidden=4, activation_name="relu", steps=100)
    model, x, y, losses = first
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.axes[0].get_title() == f"moons: 1 x 4 relu\naccuracy {neurons.classifier_accuracy(model, x, y):.3f}"
    assert np.allclose(fig.axes[1].lines[0].get_ydata(), losses)


def test_train_classifier_matches_torch():
    x, y = neurons.make_dataset("moons", n=50)
    model = neurons.make_classifier(hidden=4, activation_name="tanh")
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
    net.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    neurons.train_classifier(model, x, y, lr=0.1, steps=20, momentum=0.9)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y[:, None].astype(np.float64))
    for _ in range(20):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for key, value in net.state_dict().items():
        compare(f"{key} after training", model.state_dict()[key], value, tol=1e-10, verbose=False)


# ------------------------------------------------------------------ approximation


def test_relu_interpolant_is_exact_at_knots_and_improves():
    f = np.sin
    knots = np.linspace(-3, 3, 9)
    g, units = neurons.relu_interpolant(f, knots)
    assert units == 8
    assert np.allclose(g(knots), f(knots))
    xs = np.linspace(-3, 3, 1001)
    errors = [np.abs(neurons.relu_interpolant(f, np.linspace(-3, 3, k + 1))[0](xs) - f(xs)).max()
              for k in (4, 16, 64)]
    assert errors[0] > errors[1] > errors[2]


def test_tent_compositions_double_the_pieces():
    x = np.linspace(0, 1, 2**10 + 1)
    y = x.copy()
    for k in range(1, 6):
        y = neurons.tent(y)
        assert neurons.count_linear_pieces(y, x) == 2**k


# ------------------------------------------------------------------ figures


def test_plot_neuron_draws_both_neurons():
    fig = neurons.plot_neuron()
    assert [ax.get_title() for ax in fig.axes] == ["a (cartoon) biological neuron", "the mathematical neuron"]
    assert any("w}\\cdot" in t.get_text() for t in fig.axes[1].texts)         # s = f(w . x + b) written out


def test_plot_activations_draws_f_and_its_derivative():
    x = np.linspace(-3, 3, 61)
    fig = neurons.plot_activations(x=x, negative_slope=0.1)
    assert [ax.get_title() for ax in fig.axes] == ["sigmoid", "tanh", "relu", "leaky_relu (slope 0.1)"]
    for ax, name in zip(fig.axes, neurons.ACTIVATION_NAMES):
        f, df = ax.lines[:2]
        assert np.allclose(f.get_ydata(), neurons.activation(name, x, 0.1))
        assert np.allclose(df.get_ydata(), neurons.activation_grad(name, x, 0.1))


def test_plot_maxout_draws_the_max_of_the_pieces():
    fig = neurons.plot_maxout()
    assert len(fig.axes) == len(neurons.MAXOUT_PIECES)
    thick = fig.axes[2].lines[-1]                                  # "|x|: max(-x, x)"
    assert thick.get_label() == "maxout" and np.allclose(thick.get_ydata(), np.abs(thick.get_xdata()))


def test_plot_gradient_vs_depth_draws_one_line_per_activation():
    fig = neurons.plot_gradient_vs_depth(names=("sigmoid", "relu"), depth=5, width=8)
    lines = fig.axes[0].lines
    assert [line.get_label() for line in lines] == ["sigmoid", "relu"]
    assert np.allclose(lines[1].get_ydata(), neurons.gradient_norms_by_depth("relu", depth=5, width=8))


def test_plot_linear_scores_writes_the_scores():
    weight, x, bias = np.ones((3, 4)), np.arange(4.0), np.array([0.0, 1.0, -1.0])
    fig = neurons.plot_linear_scores(weight, x, bias, ["ship", "cat", "dog"])
    assert [ax.get_title() for ax in fig.axes] == ["W", "x", "b", "s = Wx + b"]
    assert [float(t.get_text()) for t in fig.axes[3].texts] == [6.0, 7.0, 5.0]


def test_plot_templates_draws_each_row_as_an_image():
    weight = np.random.default_rng(0).normal(size=(10, 784))
    fig = neurons.plot_templates(weight)
    assert len(fig.axes) == 10 and fig.axes[4].get_title() == "4"
    assert np.array_equal(fig.axes[4].images[0].get_array(), weight[4].reshape(28, 28))


def test_plot_feature_scatter_splits_the_classes_and_draws_the_line():
    feats, labels = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]), np.array([0, 1, 1])
    ax = neurons.plot_feature_scatter(feats, labels).axes[0]
    assert [len(c.get_offsets()) for c in ax.collections] == [1, 2]
    assert not ax.lines                                            # no w, b: no line
    ax = neurons.plot_feature_scatter(feats, labels, np.array([1.0, 2.0]), 0.5).axes[0]
    assert r"$w\cdot x + b = 0$" in [line.get_label() for line in ax.lines]


def test_explore_neuron_line_reports_accuracy_and_survives_w_zero():
    feats = np.array([[1.0, 0.0], [-1.0, 0.0]])
    fig = neurons.explore_neuron_line(1.0, 0.0, 0.0, feats, np.array([1, 0]))
    assert fig.axes[0].get_title() == "w = (1.00, 0.00), b = 0.00: accuracy 1.000"
    assert "accuracy" in neurons.explore_neuron_line(0.0, 0.0, 0.0, feats, np.array([1, 0])).axes[0].get_title()


def test_plot_relu_approximation_gets_closer_with_more_units():
    fig = neurons.plot_relu_approximation(np.sin, units=(2, 4))
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels[0] == "target f" and labels[1].startswith("2 ReLUs") and labels[2].startswith("4 ReLUs")
    errors = [float(label.rsplit(" ", 1)[1]) for label in labels[1:]]
    assert errors[0] > errors[1]


def test_plot_vision_tasks_boxes_one_then_two_objects():
    digit = np.zeros((28, 28), dtype=np.uint8)
    digit[8:20, 10:18] = 200
    fig = neurons.plot_vision_tasks(digit, 7, digit, 7)
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == [
        "classification", "localization", "detection", "semantic segmentation", "instance segmentation"]
    assert [len(ax.patches) for ax in fig.axes[1:3]] == [1, 2]
    assert fig.axes[1].patches[0].get_width() == 8 and fig.axes[1].patches[0].get_height() == 12


def test_plot_linear_vs_hidden_titles_the_accuracies():
    fig = neurons.plot_linear_vs_hidden(datasets=("xor",), steps=300)
    acc = neurons.linear_vs_hidden_accuracies(datasets=("xor",), steps=300)
    assert [ax.get_title() for ax in fig.axes] == [f"xor, linear: {acc[('xor', 0)]:.2f}",
                                                   f"xor, 8 hidden relu: {acc[('xor', 8)]:.2f}"]
    assert acc[("xor", 0)] < 0.75 < 0.95 < acc[("xor", 8)]


# ------------------------------------------------------------------ exercises


def test_nb01_has_three_to_five_registered_exercises():
    keys = [ex.key for ex in nb01.EXERCISES]
    assert 3 <= len(keys) <= 5 and all(k.startswith("01.") for k in keys)
    assert all(k in EXERCISES for k in keys)


@pytest.mark.parametrize("exercise", nb01.EXERCISES, ids=lambda ex: ex.key)
def test_reference_passes_its_own_check(exercise, capsys):
    check(exercise.key, exercise.reference)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("exercise", nb01.EXERCISES, ids=lambda ex: ex.key)
def test_stub_answers_not_attempted_with_the_hint(exercise):
    def stub(*args):
        raise NotImplementedError("Exercise: replace this line with your answer")
    with pytest.raises(ExerciseFailed, match="not attempted yet") as info:
        run_check(exercise, stub)
    assert exercise.hint in str(info.value)


WRONG_ANSWERS = {
    "01.sigmoid": (lambda x: np.exp(x) / (1 + np.exp(x)), "overflows.*\n.*common mistake: e\\^x / \\(1 \\+ e\\^x\\)"),
    "01.sigmoid_grad": (lambda x: nb01.sigmoid_reference(x) * (1 + nb01.sigmoid_reference(x)), "differ"),
    "01.leaky_relu": (lambda x, a: np.maximum(x, 0), "differ"),                   # forgot the leak
    "01.neuron": (lambda x, w, b: x @ w + b, "differ"),                           # forgot the sigmoid
    "01.maxout": (lambda x, w, b: (x @ w.T).max(axis=1), "differ"),               # forgot the bias
}


@pytest.mark.parametrize("key", sorted(WRONG_ANSWERS))
def test_plausible_wrong_answer_fails_with_a_useful_message(key):
    answer, expected_phrase = WRONG_ANSWERS[key]
    with np.errstate(all="ignore"):
        with pytest.raises(ExerciseFailed, match=expected_phrase) as info:
            check(key, answer)
    assert "Hint:" in str(info.value)


def test_sigmoid_reference_is_stable():
    with np.errstate(over="raise"):
        out = nb01.sigmoid_reference(np.array([-1000.0, 0.0, 1000.0]))
    assert np.array_equal(out, [0.0, 0.5, 1.0])
    assert np.isclose(nb01.sigmoid_grad_reference(np.array(0.0)), 0.25)


def test_exercise_references_agree_with_scratch():
    x = np.linspace(-6, 6, 49)
    assert np.allclose(nb01.sigmoid_reference(x), scratch.functional.sigmoid(x))
    assert np.allclose(nb01.leaky_relu_reference(x, 0.01), scratch.functional.leaky_relu(x, 0.01))
    w, b = np.array([[1.0], [-1.0]]), np.zeros(2)
    assert np.allclose(nb01.maxout_reference(x[:, None], w, b), neurons.maxout(x[:, None], w, b))


@pytest.mark.parametrize("exercise", nb01.EXERCISES, ids=lambda ex: ex.key)
def test_every_exercise_declares_at_least_two_mistakes(exercise):
    assert len(exercise.mistakes) >= 2
