"""Scalar circuits (notebook 03): the lecture's numbers, autograd parity, the pictures, and the exercises."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_lib.lessons import nb03_backprop as circuits
from course_lib.exercises import EXERCISES, check, nb03
from course_lib.exercises.checking import ExerciseFailed, run_check
from course_lib.exercises.nb03 import order_answer
from course_lib.parity import compare
from course_lib.scratch import functional as sf


def test_sigmoid_circuit_reproduces_the_lecture_numbers():
    c = circuits.sigmoid_circuit([2, -3, -3], [-1, -2])
    values = [c.nodes[k].value for k in ("a", "b", "c", "dot", "neg", "e", "den", "f")]
    np.testing.assert_allclose(values, [-2, 6, 4, 1, -1, np.exp(-1), 1 + np.exp(-1), 0.7310586], atol=1e-6)
    g = c.grads
    np.testing.assert_allclose([g["w0"], g["w1"], g["w2"]], [-0.19661, -0.39322, 0.19661], atol=1e-5)
    np.testing.assert_allclose([g["x0"], g["x1"]], [0.39322, -0.58984], atol=1e-5)
    assert abs(g["den"] - -0.5344) < 1e-4          # the gradient arriving at the 1/x gate's input
    assert abs(g["dot"] - 0.19661) < 1e-5


def test_collapsed_sigmoid_gate_gives_the_same_gradients():
    rng = np.random.default_rng(0)
    for _ in range(5):
        w, x = rng.normal(size=3), rng.normal(size=2)
        full, short = circuits.sigmoid_circuit(w, x), circuits.sigmoid_circuit(w, x, collapsed=True)
        assert short.output == pytest.approx(full.output)
        for k in ("w0", "w1", "w2", "x0", "x1"):
            assert short.grads[k] == pytest.approx(full.grads[k])


def test_circuit_gradients_match_torch_autograd():
    rng = np.random.default_rng(1)
    for _ in range(5):
        w, x = rng.normal(0, 2, 3), rng.normal(0, 2, 2)
        wt = torch.tensor(w, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        torch.sigmoid(wt[0] * xt[0] + wt[1] * xt[1] + wt[2]).backward()
        dw, dx = circuits.sigmoid_circuit_grads(w, x)
        compare("d sigmoid / d w", dw, wt.grad, tol=1e-12, verbose=False)
        compare("d sigmoid / d x", dx, xt.grad, tol=1e-12, verbose=False)


def test_patterns_add_distributes_mul_swaps_max_routes():
    c = circuits.patterns_circuit(3, -4, 2, -1)
    assert c.output == -20
    assert c.grads == pytest.approx({"x": -8, "y": 6, "z": 2, "w": 0, "xy": 2, "m": 2, "s": 2, "f": 1})


def test_gate_table_lists_forward_and_backward_for_each_gate():
    c = circuits.sigmoid_circuit()
    rows = {r["gate"]: r for r in c.table()}
    assert rows["f"]["local"] == pytest.approx((-0.5344,), abs=1e-4)
    assert rows["e"]["downstream"] == pytest.approx((-0.19661,), abs=1e-5)
    text = c.table_text()
    assert "0.7311" in text and "-0.5344" in text and len(text.splitlines()) == 9


def test_circuit_rejects_bad_specs_and_inputs():
    with pytest.raises(ValueError, match="Unknown gate"):
        circuits.Circuit([("x", "input"), ("y", "sqrt", ("x",))])
    with pytest.raises(ValueError, match="before they are defined"):
        circuits.Circuit([("y", "exp", ("x",)), ("x", "input")])
    c = circuits.Circuit([("x", "input"), ("y", "exp", ("x",))])
    with pytest.raises(ValueError, match="missing"):
        c.forward()
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        circuits.sigmoid_circuit([1, 2], [1, 2])


def test_gradient_accumulates_when_a_value_is_used_twice():
    c = circuits.Circuit([("x", "input"), ("xx", "*", ("x", "x"))])
    c.forward(x=3.0)
    assert c.backward()["x"] == 6.0                  # d(x^2)/dx = 2x: both branches add up


def test_plot_circuit_labels_every_edge_with_value_and_gradient():
    c = circuits.sigmoid_circuit()
    fig = circuits.plot_circuit(c)
    texts = [t.get_text() for t in fig.axes[0].texts]
    n_edges = len(c.edges()) + 1                      # plus the output edge
    greens = [t for t in fig.axes[0].texts if t.get_color() == circuits.FORWARD_COLOR]
    reds = [t for t in fig.axes[0].texts if t.get_color() == circuits.BACKWARD_COLOR]
    assert len(greens) == len(reds) == n_edges
    assert {"0.73", "1.00", "-0.53", "0.37"} <= set(texts)
    assert {"w0", "x0", "w1", "x1", "w2"} <= {t.strip() for t in texts}


def test_explore_circuit_callback_returns_a_figure_with_the_new_numbers():
    fig = circuits.explore_circuit(w0=1, w1=0, w2=0, x0=0, x1=5)
    assert isinstance(fig, plt.Figure)
    assert "f = 0.5000" in fig.axes[0].get_title()   # sigma(0) = 0.5
    assert "dx = [0.250, 0.000]" in fig.axes[0].get_title()


def test_centred_differences_beat_forward_differences_in_float64():
    errs = circuits.finite_difference_errors([1e-5], np.float64)
    assert errs["centred"][0] < 1e-9 < errs["forward"][0]
    errs32 = circuits.finite_difference_errors([1e-5], np.float32)
    assert errs32["centred"][0] > 1e-4                # float32 rounding swamps the difference
    lines = circuits.plot_finite_difference_errors([1e-5]).axes[0].lines
    assert [line.get_label() for line in lines] == ["forward, float64", "centred, float64",
                                                    "forward, float32", "centred, float32"]
    assert lines[1].get_ydata()[0] == errs["centred"][0] and lines[3].get_ydata()[0] == errs32["centred"][0]


# ---------------------------------------------------------------- exercises of notebook 03

NB03 = [k for k in EXERCISES if k.startswith("03.")]


def test_notebook_03_has_three_to_six_exercises():
    assert 3 <= len(NB03) <= 6


@pytest.mark.parametrize("key", NB03)
def test_every_exercise_of_notebook_03_declares_its_common_mistakes(key):
    assert len(EXERCISES[key].mistakes) >= 2, key


@pytest.mark.parametrize("key", ["03.sigmoid_circuit_grads", "03.linear_backward"])
def test_tuple_exercises_accept_the_reference_parts(key, capsys):
    check(key, EXERCISES[key].reference)
    assert "correct" in capsys.readouterr().out


def test_linear_backward_names_the_wrong_part():
    key = "03.linear_backward"
    with pytest.raises(ExerciseFailed, match=r"dW: .*(has shape \(\d, \d\), expected|transpose of the expected)"):
        run_check(EXERCISES[key], lambda dy, x, W: (dy @ W, x.T @ dy, dy.sum(0)))
    with pytest.raises(ExerciseFailed, match="db: "):
        run_check(EXERCISES[key], lambda dy, x, W: (dy @ W, dy.T @ x, dy.sum(1)))
    with pytest.raises(ExerciseFailed, match=r"return a tuple \(dx, dW, db\)"):
        run_check(EXERCISES[key], lambda dy, x, W: dy @ W)


def test_sigmoid_circuit_exercise_catches_a_missing_sigma_prime():
    key = "03.sigmoid_circuit_grads"

    def forgot_sigma_prime(w, x):
        return np.array([x[0], x[1], 1.0]), np.array([w[0], w[1]])
    with pytest.raises(ExerciseFailed, match="dw: 3 of 3 value"):
        run_check(EXERCISES[key], forgot_sigma_prime)


def test_tuple_exercise_stub_is_not_attempted():
    def stub(dy, x, W):
        raise NotImplementedError
    with pytest.raises(ExerciseFailed, match="not attempted yet"):
        run_check(EXERCISES["03.linear_backward"], stub)


def test_relu_backward_exercise_catches_gradient_at_zero():
    with pytest.raises(ExerciseFailed, match="differ"):
        run_check(EXERCISES["03.relu_backward"], lambda dy, x: dy * (x >= 0))


def test_softmax_ce_exercise_names_a_missing_mean():
    def no_mean(s, y):
        return sf.cross_entropy_backward(1.0, s, y) * len(y)
    with pytest.raises(ExerciseFailed, match="times the expected"):
        run_check(EXERCISES["03.softmax_ce_backward"], no_mean)


def _numgrad(f, x, h, centred):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h if centred else old
        down = f(x)
        x[i] = old
        g[i] = (up - down) / (2 * h if centred else h)
    return g


def test_numerical_gradient_exercise_wants_centred_differences():
    ex = EXERCISES["03.numerical_gradient"]
    assert "correct" in run_check(ex, lambda f, x: _numgrad(f, x, 1e-5, centred=True))
    with pytest.raises(ExerciseFailed, match="Centred differences"):
        run_check(ex, lambda f, x: _numgrad(f, x, 1e-5, centred=False))


# ---------------------------------------------------------------- 03.topological_order


def test_random_graph_shares_nodes_and_is_deeper_than_the_recursion_limit():
    import sys
    graph = nb03.RandomGraph(np.random.default_rng(0))
    order = nb03.topological_order(graph.root)
    assert len(order) == len({id(n) for n in order}) > sys.getrecursionlimit()
    assert {id(n) for n in order} <= {id(n) for n in graph.nodes} and order[-1] is graph.root
    position = {id(n): i for i, n in enumerate(order)}
    assert all(position[id(p)] < position[id(n)] for n in order for p in n.parents)
    assert any(len(n.parents) == 2 and n.parents[0] is n.parents[1] for n in graph.nodes)    # x * x
    assert repr(graph).startswith("a graph of ")


def test_backward_in_reverse_topological_order_matches_torch_autograd():
    graph = nb03.RandomGraph(np.random.default_rng(3), chain=5)
    leaves = [n for n in graph.nodes if not n.parents]
    tensors = {id(n): torch.tensor(n.data, dtype=torch.float64, requires_grad=True) for n in leaves}
    for n in graph.nodes:                       # made in computing order: replay it in torch
        if n.parents:
            a, b = (tensors[id(p)] for p in n.parents)
            tensors[id(n)] = a + b if n.op == "+" else a * b
    tensors[id(graph.root)].backward()
    order = nb03.topological_order(graph.root)
    nb03.backward(graph.root, order)
    leaves = [n for n in order if not n.parents]
    compare("leaf grads", np.array([n.grad for n in leaves]), torch.stack([tensors[id(n)].grad for n in leaves]),
            tol=1e-12, verbose=False)


@pytest.mark.parametrize("mistake, message", [
    ("recursive", "recursed deeper than Python allows"),
    ("order reversed", "comes before its parent"),
    ("listed twice", "appears twice"),
    ("pre-order", "comes before its parent"),
])
def test_topological_order_mistakes_get_named_feedback(mistake, message):
    ex = EXERCISES["03.topological_order"]
    name = next(k for k in ex.mistakes if mistake in k)
    with pytest.raises(ExerciseFailed, match=message):
        run_check(ex, ex.mistakes[name])


def test_order_answer_rejects_missing_nodes_and_wrong_types():
    ex = EXERCISES["03.topological_order"]
    with pytest.raises(ExerciseFailed, match="missing: "):
        run_check(ex, order_answer(lambda root: [root]))
    with pytest.raises(ExerciseFailed, match="return a list of the graph's nodes"):
        run_check(ex, order_answer(lambda root: root))

    def stub(root):
        raise NotImplementedError
    with pytest.raises(ExerciseFailed, match="not attempted yet"):
        run_check(ex, order_answer(stub))


def test_relu_exercise_states_and_checks_the_rule_at_zero():
    ex = EXERCISES["03.relu_backward"]
    assert "x == 0" in ex.task
    assert "correct" in run_check(ex, lambda dy, x: dy * (x > 0))
    with pytest.raises(ExerciseFailed):
        run_check(ex, lambda dy, x: dy * (x >= 0))
