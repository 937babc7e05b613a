"""Notebook 13's exercises: the references agree with torch and the scratch layers, learners' own solutions pass,
every declared mistake is named, and answers of the wrong form are told what to return.

(tests/test_exercises.py runs over the whole registry too: every reference accepted, every declared mistake
rejected, every exercise posed in its notebook.)"""
import numpy as np
import pytest
import torch

from course_lib import exercises, scratch
from course_lib.exercises import EXERCISES, nb13
from course_lib.exercises.checking import ExerciseFailed, run_check, tells_mistakes_apart
from course_lib.transfer import count_params
from exercise_inputs import correct, told_why, trial_inputs

KEYS = [ex.key for ex in nb13.EXERCISES]


def test_nb13_is_registered():
    assert KEYS == ["13.rnn_step", "13.lstm_step", "13.lstm_parameters", "13.clip_grad_norm"]
    assert all(EXERCISES[k] is ex for k, ex in zip(KEYS, nb13.EXERCISES))


# ------------------------------------------------------------------ learners' own solutions (no course_lib)

def rnn_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    return np.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)


def rnn_step_einsum(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    return np.tanh(np.einsum("ni,hi->nh", x, weight_ih) + np.einsum("nk,hk->nh", h, weight_hh) + bias_ih + bias_hh)


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    z_i, z_f, z_g, z_o = np.split(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh, 4, axis=1)
    c_new = sigmoid(z_f) * c + sigmoid(z_i) * np.tanh(z_g)
    return sigmoid(z_o) * np.tanh(c_new), c_new


def lstm_step_sliced(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    n = h.shape[1]
    gate = [x @ weight_ih[k * n:(k + 1) * n].T + bias_ih[k * n:(k + 1) * n] + h @ weight_hh[k * n:(k + 1) * n].T
            + bias_hh[k * n:(k + 1) * n] for k in range(4)]
    c_new = sigmoid(gate[1]) * c + sigmoid(gate[0]) * np.tanh(gate[2])
    return [sigmoid(gate[3]) * np.tanh(c_new), c_new]                  # a list passes as well as a tuple


def lstm_parameters(input_size, hidden_size, num_layers, bias):
    total = 0
    for layer in range(num_layers):
        n = input_size if layer == 0 else hidden_size
        total += 4 * (hidden_size * (n + hidden_size) + (2 * hidden_size if bias else 0))
    return total


def lstm_parameters_from_torch(input_size, hidden_size, num_layers, bias):
    return sum(p.numel() for p in torch.nn.LSTM(input_size, hidden_size, num_layers, bias=bias).parameters())


def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    scale = max_norm / (total + 1e-6)
    return [g * min(scale, 1.0) for g in grads], total


def clip_grad_norm_in_place(grads, max_norm):
    """As torch does it: the arrays changed in place, and returned."""
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
    if max_norm / (total + 1e-6) < 1:
        for g in grads:
            g *= max_norm / (total + 1e-6)
    return grads, total


@pytest.mark.parametrize("key, answer", [
    ("13.rnn_step", rnn_step), ("13.rnn_step", rnn_step_einsum),
    ("13.lstm_step", lstm_step), ("13.lstm_step", lstm_step_sliced),
    ("13.lstm_parameters", lstm_parameters), ("13.lstm_parameters", lstm_parameters_from_torch),
    ("13.clip_grad_norm", clip_grad_norm), ("13.clip_grad_norm", clip_grad_norm_in_place),
    ("13.clip_grad_norm", lambda grads, m: (tuple(clip_grad_norm(grads, m)[0]), float(clip_grad_norm(grads, m)[1]))),
])
def test_a_learners_own_solution_passes(key, answer):
    assert run_check(EXERCISES[key], answer) == correct(key)


def test_check_finds_the_exercises_by_name(capsys):
    exercises.check("13.lstm_step", lstm_step)
    assert "✔ 13.lstm_step: correct" in capsys.readouterr().out
    with pytest.raises(KeyError, match="Did you mean '13.clip_grad_norm'"):
        exercises.check("clip_grad_norm", clip_grad_norm)


# ------------------------------------------------------------------ the references against torch and the scratch layers

def torch_cell(cell: torch.nn.Module, *weights) -> torch.nn.Module:
    """``cell`` in float64 with the given weight_ih, weight_hh, bias_ih and bias_hh (torch's shapes)."""
    cell = cell.double()
    with torch.no_grad():
        for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights, strict=True):
            getattr(cell, name).copy_(torch.from_numpy(value))
    return cell


def more_inputs(key: str, count: int = 30) -> list[tuple]:
    rng = np.random.default_rng(7)
    return trial_inputs(key) + [EXERCISES[key].make_inputs(rng) for _ in range(count)]


def test_the_rnn_step_is_torchs_rnn_cell_on_every_input_the_checker_makes():
    for x, h, *weights in more_inputs("13.rnn_step"):
        cell = torch_cell(torch.nn.RNNCell(x.shape[1], h.shape[1]), *weights)
        want = cell(torch.from_numpy(x), torch.from_numpy(h)).detach().numpy()
        np.testing.assert_allclose(EXERCISES["13.rnn_step"].reference(x, h, *weights), want, rtol=0, atol=1e-12)


def test_the_lstm_step_is_torchs_lstm_cell_on_every_input_the_checker_makes():
    for x, h, c, *weights in more_inputs("13.lstm_step"):
        cell = torch_cell(torch.nn.LSTMCell(x.shape[1], h.shape[1]), *weights)
        want = [t.detach().numpy() for t in cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))]
        got = EXERCISES["13.lstm_step"].reference(x, h, c, *weights)
        for mine, torchs in zip(got, want, strict=True):
            np.testing.assert_allclose(mine, torchs, rtol=0, atol=1e-12)


def test_the_rnn_steps_inputs_are_square_first_and_not_always():
    shapes = [(x.shape, weight_ih.shape) for x, h, weight_ih, *_ in trial_inputs("13.rnn_step")]
    (n, i), (h, _) = shapes[0]
    assert i == h != n                                        # where every declared mistake runs and is named
    assert any(i != h for (_, i), (h, _) in shapes)           # and a layer whose input and hidden sizes differ
    assert all(len({n, i, h}) >= 2 and min(n, i, h) > 1 for (n, i), (h, _) in shapes)


def test_the_lstm_steps_inputs_have_three_different_sizes_and_a_cell_state():
    for x, h, c, weight_ih, *_ in trial_inputs("13.lstm_step"):
        assert len({x.shape[0], x.shape[1], h.shape[1]}) == 3 and weight_ih.shape == (4 * h.shape[1], x.shape[1])
        assert np.abs(c).max() > 0.5


def test_the_lstm_parameter_count_is_torchs_and_the_scratch_layers():
    rng = np.random.default_rng(3)
    reference = EXERCISES["13.lstm_parameters"].reference
    cases = trial_inputs("13.lstm_parameters") + [nb13._lstm_parameters_make(rng) for _ in range(40)]
    for i, h, layers, bias in cases:
        count = reference(i, h, layers, bias)
        assert count == count_params(torch.nn.LSTM(i, h, layers, bias=bias)), (i, h, layers, bias)
        assert count == count_params(scratch.LSTM(i, h, layers, bias=bias)), (i, h, layers, bias)


def test_the_hints_lstm_and_the_issues_formula():
    reference = EXERCISES["13.lstm_parameters"].reference
    assert reference(28, 128, 2, True) == count_params(torch.nn.LSTM(28, 128, 2)) == 212_992
    assert "= 212,992" in EXERCISES["13.lstm_parameters"].hint
    for i, h in [(1, 1), (10, 20), (28, 128)]:
        assert reference(i, h, 1, True) == 4 * (h * (i + h) + 2 * h)


def test_the_lstm_parameter_inputs_cover_biases_and_stacks():
    inputs = trial_inputs("13.lstm_parameters")
    assert {bias for *_, bias in inputs} == {True, False}
    assert {layers > 1 for _, _, layers, _ in inputs} == {True, False}
    assert all(i != h for i, h, *_ in inputs)


def test_the_gru_and_rnn_factors_the_mistakes_name_are_torchs():
    mistakes = EXERCISES["13.lstm_parameters"].mistakes
    gru, rnn = (next(m for name, m in mistakes.items() if name.startswith(f"a factor {k}")) for k in (3, 1))
    assert gru(12, 20, 2, True) == count_params(torch.nn.GRU(12, 20, 2))
    assert rnn(12, 20, 2, True) == count_params(torch.nn.RNN(12, 20, 2))


def torch_clip(grads, max_norm):
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.numpy() for p in params], float(total)


def test_clipping_is_torchs_clip_grad_norm_on_every_input_the_checker_makes():
    for grads, max_norm in more_inputs("13.clip_grad_norm"):
        clipped, total = EXERCISES["13.clip_grad_norm"].reference(grads, max_norm)
        torch_clipped, torch_total = torch_clip(grads, max_norm)
        assert total == pytest.approx(torch_total, rel=1e-13)
        for mine, torchs in zip(clipped, torch_clipped, strict=True):
            np.testing.assert_allclose(mine, torchs, rtol=1e-13, atol=0)


def test_the_clipping_inputs_clip_some_and_leave_some():
    norms = [nb13._global_norm(grads) / max_norm for grads, max_norm in trial_inputs("13.clip_grad_norm")]
    assert any(r > 1.5 for r in norms) and any(r < 0.9 for r in norms)


def test_the_checker_sees_torchs_1e_6():
    """The tolerance tells max_norm / total from max_norm / (total + 1e-6) on every hidden input."""
    ex = EXERCISES["13.clip_grad_norm"]
    for grads, max_norm in trial_inputs("13.clip_grad_norm"):
        total = nb13._global_norm(grads)
        if total > max_norm:
            assert not np.isclose(max_norm / total, max_norm / (total + 1e-6), rtol=ex.rtol, atol=ex.atol)


# ------------------------------------------------------------------ declared mistakes are named

MISTAKES = [(k, m) for k in KEYS for m in EXERCISES[k].mistakes]


@pytest.mark.parametrize("key, mistake", MISTAKES, ids=[f"{k}: {m[:40]}" for k, m in MISTAKES])
def test_every_declared_mistake_is_named_in_the_feedback(key, mistake):
    with pytest.raises(ExerciseFailed) as failure:
        run_check(EXERCISES[key], EXERCISES[key].mistakes[mistake])
    assert f"This looks like a common mistake: {mistake}. Hint:" in str(failure.value)


def ifog(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    z = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
    n = h.shape[1]
    i, f, o, g = sigmoid(z[:, :n]), sigmoid(z[:, n:2 * n]), sigmoid(z[:, 2 * n:3 * n]), np.tanh(z[:, 3 * n:])
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new


def lstm_gates_then(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, new_states):
    """A learner's LSTM step whose gates are right and whose (h', c') are ``new_states(i, f, g, o, c)``."""
    z_i, z_f, z_g, z_o = np.split(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh, 4, axis=1)
    return new_states(sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o), c)


@pytest.mark.parametrize("key, answer, says", [
    ("13.rnn_step", lambda x, h, wi, wh, bi, bh: np.tanh(x @ wi + h @ wh + bi + bh),
     r"(?s)value\(s\) differ.*the weights not transposed: torch stores weight_ih as \(hidden, input\)"),
    ("13.rnn_step", lambda x, h, wi, wh, bi, bh: np.tanh(np.dot(x, wi.T) + np.dot(h, wh.T) + bi),
     r"bias_hh forgotten: torch's cell adds two biases"),
    ("13.rnn_step", lambda x, h, wi, wh, bi, bh: x @ wi.T + h @ wh.T + bi + bh, r"the tanh forgotten"),
    ("13.rnn_step", lambda x, h, wi, wh, bi, bh: np.tanh(h @ wi.T + x @ wh.T + bi + bh), r"x and h swapped"),
    ("13.lstm_step", ifog, r"(?s)h_new: \d+ of \d+ value\(s\) differ.*the gates read in the order i, f, o, g"),
    ("13.lstm_step", lambda *args: lstm_gates_then(*args, lambda i, f, g, o, c: (o * (f * c + i * g), f * c + i * g)),
     r"h' = o \* c', the tanh forgotten"),
    ("13.lstm_step", lambda *args: lstm_gates_then(*args, lambda i, f, g, o, c: (o * np.tanh(c + i * g), c + i * g)),
     r"the forget gate ignored, c' = c \+ i \* g"),
    ("13.lstm_parameters", lambda i, h, L, bias: sum(4 * (h * (i + h) + 2 * h * bias) for _ in range(L)),
     r"every layer fed input_size numbers"),
    ("13.lstm_parameters", lambda i, h, L, bias: 3 * lstm_parameters(i, h, L, bias) // 4, r"a factor 3: that is a GRU"),
    ("13.lstm_parameters", lambda i, h, L, bias: lstm_parameters(i, h, L, bias) - 4 * h * L * bias,
     r"one bias a layer \(4h numbers\) where torch has two"),
    ("13.clip_grad_norm", lambda grads, m: ([g * min(1.0, m / (np.linalg.norm(g) + 1e-6)) for g in grads],
                                           np.sqrt(sum((g ** 2).sum() for g in grads))),
     r"(?s)clipped: result \d of \d: \d+ of \d+ value\(s\) differ.*each array clipped by its own norm"),
    ("13.clip_grad_norm", lambda grads, m: ([np.clip(g, -m, m) for g in grads], clip_grad_norm(grads, m)[1]),
     r"clipped by value, np\.clip\(g, -max_norm, max_norm\)"),
    ("13.clip_grad_norm", lambda grads, m: ([g * m / (clip_grad_norm(grads, m)[1] + 1e-6) for g in grads],
                                           clip_grad_norm(grads, m)[1]),
     r"scaled even when the norm is below max_norm"),
])
def test_a_learners_wrong_answer_is_told_its_reason(key, answer, says):
    told_why(key, answer, says)


def test_a_wrong_answer_that_is_no_declared_mistake_gets_the_values_and_the_hint():
    with pytest.raises(ExerciseFailed) as failure:
        run_check(EXERCISES["13.lstm_step"], lambda *args: (lstm_step(*args)[0], 2 * lstm_step(*args)[1]))
    message = str(failure.value)
    assert "c_new:" in message and "yours" in message and "common mistake" not in message
    assert "Hint: z = x @ weight_ih.T + bias_ih" in message


# ------------------------------------------------------------------ answers of the wrong form

@pytest.mark.parametrize("key, answer, says", [
    ("13.rnn_step", lambda x, h, wi, wh, bi, bh: None, r"your answer is None: your function returned nothing"),
    ("13.rnn_step", lambda x, h, wi, wh, bi, bh: rnn_step(x, h, wi, wh, bi, bh).T,
     r"your answer has shape \(4, 8\), expected \(8, 4\)\. That is the transpose"),
    ("13.rnn_step", lambda x, h, wi, wh, bi, bh: torch.tanh(torch.from_numpy(rnn_step(x, h, wi, wh, bi, bh))),
     r"your answer is a torch\.Tensor, and this exercise is NumPy"),
    ("13.rnn_step", lambda x, h, weight_ih, weight_hh, bias: 0,
     r"cannot take what the checker passes.*in this order: \(x, h, weight_ih, weight_hh, bias_ih, bias_hh\)"),
    ("13.lstm_step", lambda *args: lstm_step(*args)[::-1],
     r"your results are right but in another order: you return \(c_new, h_new\), expected \(h_new, c_new\)"),
    ("13.lstm_step", lambda *args: lstm_step(*args)[0], r"return a tuple \(h_new, c_new\) of 2 results, got a ndarray"),
    ("13.lstm_step", lambda x, hx, weight_ih, weight_hh, bias_ih, bias_hh: 0,          # torch's (h, c) pair
     r"cannot take what the checker passes.*\(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh\)"),
    ("13.lstm_parameters", lambda i, h, L, bias: [lstm_parameters(i, h, L, bias)],
     r"A single number is expected: take it out with float\(\.\.\.\)"),
    ("13.clip_grad_norm", lambda grads, m: clip_grad_norm(grads, m)[0],
     r"return a tuple \(clipped, total_norm\) of 2 results, got a list of 4"),
    ("13.clip_grad_norm", lambda grads, m: clip_grad_norm(grads, m)[::-1],
     r"your results are right but in another order: you return \(total_norm, clipped\)"),
    ("13.clip_grad_norm", lambda grads, m: (np.concatenate([g.ravel() for g in clip_grad_norm(grads, m)[0]]),
                                           clip_grad_norm(grads, m)[1]),
     r"clipped: return a tuple of 4 results, got a ndarray"),
])
def test_an_answer_of_the_wrong_form_is_told_what_to_return(key, answer, says):
    with pytest.raises(ExerciseFailed, match=says):
        run_check(EXERCISES[key], answer)


def test_an_answer_that_raises_shows_the_learners_line():
    def not_transposed(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
        z = x @ weight_ih + bias_ih + h @ weight_hh + bias_hh
        return z, z

    with pytest.raises(ExerciseFailed, match=r"13\.lstm_step: your function raised ValueError: matmul.*\n  in "
                                             r"not_transposed, line \d+: z = x @ weight_ih \+ bias_ih.*\nfor inputs "
                                             r"\(array\(7, 8\), array\(7, 5\)"):
        run_check(EXERCISES["13.lstm_step"], not_transposed)


def test_the_gradients_are_described_by_their_shapes_and_an_in_place_answer_harms_nothing():
    seen = []

    def clips_in_place_and_forgets_the_eps(grads, max_norm):
        seen.append([g.copy() for g in grads])
        total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
        for g in grads:
            g *= min(1.0, max_norm / total)
        return grads, total

    with pytest.raises(ExerciseFailed, match=r"for inputs \(\[array\(16, 2\), array\(16, 4\), array\(16,\)\], "
                                             r"1\.68\), clipped: result 0 of 3: 32 of 32 value\(s\) differ") as failure:
        run_check(EXERCISES["13.clip_grad_norm"], clips_in_place_and_forgets_the_eps)
    assert "the 1e-6 forgotten" in str(failure.value)             # named on the inputs as they were, not as changed
    hidden = [grads for grads, _ in trial_inputs("13.clip_grad_norm")[:2]]
    assert len(seen) == 4                       # each trial's answer, then its run that looks for an overflow
    for run, grads in zip(seen, [hidden[0], hidden[0], hidden[1], hidden[1]]):
        assert all(np.array_equal(a, b) for a, b in zip(run, grads, strict=True))


def test_a_near_miss_is_shown_to_the_digits_that_differ_and_named():
    def no_eps(grads, max_norm):
        total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
        return [g * min(1.0, max_norm / total) for g in grads], total
    with pytest.raises(ExerciseFailed, match=r"at index \(0, 0\): yours (-?[0-9.]{9,}), expected (?!\1)-?[0-9.]{9,}"
                                             r"\. Your values are all 1 \+ 1\.2e-07 times the expected ones\.\n"
                                             r"This looks like a common mistake: the 1e-6 forgotten"):
        run_check(EXERCISES["13.clip_grad_norm"], no_eps)


def test_a_mistake_that_raises_on_an_input_is_left_out_of_telling_apart():
    mistakes = {"raises": lambda x: x @ np.ones((3, 3)), "doubles": lambda x: 2 * x, "twice": lambda x: x + x}
    assert tells_mistakes_apart((np.ones((2, 3)),), lambda x: x, {"raises": mistakes["raises"]}, 1e-6, 1e-9)
    assert not tells_mistakes_apart((np.ones((2, 3)),), lambda x: x, mistakes, 1e-6, 1e-9)


def test_a_value_where_a_function_is_expected_is_told_to_pass_the_function():
    with pytest.raises(TypeError, match=r"Pass the function itself.*check\('13\.lstm_parameters', my_function\)"):
        run_check(EXERCISES["13.lstm_parameters"], lstm_parameters(28, 128, 2, True))
