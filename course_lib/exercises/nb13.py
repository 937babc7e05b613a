"""Exercises of notebook 13: sequences.

Four pieces of a recurrent network, each checked on hidden inputs against the library or torch's own formula: one
step of the plain RNN (``scratch.functional.rnn_cell``) and of the LSTM cell with its gates in torch's order i, f, g,
o (``scratch.functional.lstm_cell``), the parameter count of ``torch.nn.LSTM`` (the tests hold it to torch's count),
and clipping a list of gradients by their global norm as ``torch.nn.utils.clip_grad_norm_`` does (the tests hold it
to torch's function). The hidden inputs are drawn so that every declared mistake gives an answer of its own, and
the feedback can name it; an RNN step's inputs are square (input size = hidden size) where a mistake needs it (the
weights not transposed, x and h swapped), and not always.
"""
from __future__ import annotations

import numpy as np

from ..scratch import functional as sf
from .checking import Exercise, draw_apart

# ------------------------------------------------------------------ 13.rnn_step


def _rnn_reference(x, h, weight_ih, weight_hh, bias_ih, bias_hh) -> np.ndarray:
    return sf.rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)


def _rnn_make(rng: np.random.Generator) -> tuple:
    """A batch of N rows, input size I, hidden size H, N differing from both and all above 1 (a transpose shows in
    the shape); three draws in four have I = H, where every mistake below runs (the weights not transposed, x and
    h swapped), the others I != H, as a network's layers mostly have."""
    n, i, h = (int(s) for s in rng.choice(np.arange(2, 9), 3, replace=False))
    i = h if rng.random() < 0.75 else i
    weight = 1 / np.sqrt(i + h)                          # pre-activations of order 1: tanh neither flat nor linear
    return (rng.normal(size=(n, i)), rng.normal(size=(n, h)), rng.normal(0, weight, (h, i)),
            rng.normal(0, weight, (h, h)), rng.normal(0, 0.5, h), rng.normal(0, 0.5, h))


_RNN_MISTAKES = {
    "the weights not transposed: torch stores weight_ih as (hidden, input) and weight_hh as (hidden, hidden), one "
    "row per output, so a batch of rows x meets them as x @ weight_ih.T (as in nn.Linear)":
        lambda x, h, wi, wh, bi, bh: np.tanh(x @ wi + bi + h @ wh + bh),
    "x and h swapped: the input x goes through weight_ih (input to hidden), the hidden state h through weight_hh":
        lambda x, h, wi, wh, bi, bh: np.tanh(h @ wi.T + bi + x @ wh.T + bh),
    "bias_hh forgotten: torch's cell adds two biases, bias_ih and bias_hh":
        lambda x, h, wi, wh, bi, bh: np.tanh(x @ wi.T + bi + h @ wh.T),
    "bias_ih forgotten: torch's cell adds two biases, bias_ih and bias_hh":
        lambda x, h, wi, wh, bi, bh: np.tanh(x @ wi.T + h @ wh.T + bh),
    "the tanh forgotten: without it the step is linear, and a hundred steps of it multiply by W_hh a hundred times":
        lambda x, h, wi, wh, bi, bh: x @ wi.T + bi + h @ wh.T + bh,
    "sigmoid in place of tanh: torch's RNN squashes with tanh (or relu), into (-1, 1), centred on 0":
        lambda x, h, wi, wh, bi, bh: sf.sigmoid(x @ wi.T + bi + h @ wh.T + bh),
    "the biases added after the tanh: they belong inside it, with the two products":
        lambda x, h, wi, wh, bi, bh: np.tanh(x @ wi.T + h @ wh.T) + bi + bh,
}


# ------------------------------------------------------------------ 13.lstm_step


def _lstm_reference(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh) -> tuple[np.ndarray, np.ndarray]:
    return sf.lstm_cell(x, (h, c), weight_ih, weight_hh, bias_ih, bias_hh)


def _lstm_by(order: str = "ifgo", candidate=np.tanh, forget: bool = True, squash_cell: bool = False,
             read_tanh: bool = True):
    """An LSTM step made with one slip: the blocks read in ``order``, the candidate through ``candidate``, the
    forget gate left out, the new cell state squashed by tanh, or h' = o * c' without the tanh."""
    def step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
        blocks = dict(zip(order, np.split(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh, 4, axis=-1)))
        i, f, o = (sf.sigmoid(blocks[gate]) for gate in "ifo")
        c_new = (f * c if forget else c) + i * candidate(blocks["g"])
        c_new = np.tanh(c_new) if squash_cell else c_new
        return o * (np.tanh(c_new) if read_tanh else c_new), c_new
    return step


def _lstm_make(rng: np.random.Generator) -> tuple:
    """N rows, input size I, hidden size H all different; a cell state c of order 1 (the forget gate shows)."""
    n, i, h = (int(s) for s in rng.choice(np.arange(2, 9), 3, replace=False))
    weight = 1 / np.sqrt(i + h)
    return (rng.normal(size=(n, i)), rng.normal(size=(n, h)), rng.normal(size=(n, h)),
            rng.normal(0, weight, (4 * h, i)), rng.normal(0, weight, (4 * h, h)), rng.normal(0, 0.5, 4 * h),
            rng.normal(0, 0.5, 4 * h))


_LSTM_MISTAKES = {
    "the gates read in the order i, f, o, g (as some texts stack them): torch stacks the four H-row blocks of "
    "weight_ih as i, f, g, o, so the third block is the candidate g and the fourth the output gate o":
        _lstm_by(order="ifog"),
    "the candidate g through a sigmoid like the three gates: g = tanh(its block), in (-1, 1), so that the cell can "
    "be written down as well as up; the sigmoids, in (0, 1), are the gates i, f, o":
        _lstm_by(candidate=sf.sigmoid),
    "the new cell state squashed, c' = tanh(f * c + i * g): c' is the plain sum, which is what lets it carry a "
    "value (and its gradient) over many steps; only h' reads it through a tanh":
        _lstm_by(squash_cell=True),
    "h' = o * c', the tanh forgotten: h' = o * tanh(c'), the output gate reads the squashed cell state":
        _lstm_by(read_tanh=False),
    "the forget gate ignored, c' = c + i * g: c' = f * c + i * g, f decides how much of the old cell state is kept":
        _lstm_by(forget=False),
}


# ------------------------------------------------------------------ 13.lstm_parameters


def _lstm_count(input_size: int, hidden_size: int, num_layers: int, bias: bool, blocks: int = 4,
                biases: int = 2, inputs_above: int | None = None, recurrent: bool = True) -> int:
    """blocks * (h * (in + h) + biases * h) per layer, in = input_size for the first layer and hidden_size (or
    ``inputs_above``) for the layers above it."""
    above = hidden_size if inputs_above is None else inputs_above
    h = hidden_size
    return sum(blocks * (h * (layer_in + h * recurrent) + biases * h * bias)
               for layer_in in [input_size] + [above] * (num_layers - 1))


def _lstm_parameters_reference(input_size, hidden_size, num_layers, bias) -> int:
    return _lstm_count(input_size, hidden_size, num_layers, bias)


def _lstm_parameters_make(rng: np.random.Generator) -> tuple:
    """Input and hidden sizes that differ (else every layer's input is the same), 1 to 4 layers, with or without
    biases."""
    input_size, hidden_size = (int(s) for s in rng.choice(np.arange(1, 65), 2, replace=False))
    return input_size, hidden_size, int(rng.integers(1, 5)), bool(rng.random() < 0.6)


_LSTM_PARAMETERS_MISTAKES = {
    "one bias a layer (4h numbers) where torch has two, bias_ih and bias_hh (4h each)":
        lambda i, h, layers, bias: _lstm_count(i, h, layers, bias, biases=1),
    "every layer fed input_size numbers: the second layer and those above read the layer below's output, "
    "hidden_size numbers":
        lambda i, h, layers, bias: _lstm_count(i, h, layers, bias, inputs_above=i),
    "a factor 3: that is a GRU (blocks r, z, n); an LSTM stacks four blocks, i, f, g, o":
        lambda i, h, layers, bias: _lstm_count(i, h, layers, bias, blocks=3),
    "a factor 1: that is a plain RNN; an LSTM stacks four blocks, i, f, g, o":
        lambda i, h, layers, bias: _lstm_count(i, h, layers, bias, blocks=1),
    "the biases counted with bias=False: such a layer has its two weight matrices only":
        lambda i, h, layers, bias: _lstm_count(i, h, layers, True),
    "one layer only: num_layers stacks that many LSTMs, each with weights of its own":
        lambda i, h, layers, bias: _lstm_count(i, h, 1, bias),
    "weight_hh forgotten: every layer also has the recurrent weights, (4h, h), that read its previous hidden state":
        lambda i, h, layers, bias: _lstm_count(i, h, layers, bias, recurrent=False),
}


# ------------------------------------------------------------------ 13.clip_grad_norm

EPS = 1e-6                                              # torch.nn.utils.clip_grad_norm_ divides by total + 1e-6


def _global_norm(grads) -> float:
    """sqrt of the sum of the squares of every number in every array."""
    return float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))


def _clip_by(total_of=_global_norm, eps: float = EPS, always: bool = False, upside_down: bool = False):
    """Clipping by the global norm, made with one slip: the total computed by ``total_of``, eps left out, the
    scale applied even when above 1, or the ratio upside down."""
    def clip(grads, max_norm):
        total = float(total_of(grads))
        scale = (total + eps) / max_norm if upside_down else max_norm / (total + eps)
        return tuple(g * scale if always or scale < 1 else g for g in grads), total
    return clip


_clip_reference = _clip_by()


def _own_norms(grads, max_norm):
    """Each array clipped by its own norm (the total still the global one)."""
    return tuple(_clip_reference([g], max_norm)[0][0] for g in grads), _global_norm(grads)


def _by_value(grads, max_norm):
    """Every number clipped to [-max_norm, max_norm] (torch's clip_grad_value_)."""
    return tuple(np.clip(g, -max_norm, max_norm) for g in grads), _global_norm(grads)


def _norm_after(grads, max_norm):
    """The clipped arrays, and their norm in place of the norm before clipping."""
    clipped = _clip_reference(grads, max_norm)[0]
    return clipped, _global_norm(clipped)


def _clip_make(rng: np.random.Generator) -> tuple:
    """Two to four gradients of a recurrent layer's shapes (weights (4H, I), (4H, H), biases (4H,)), their global
    norm 1.5 to 10 times max_norm (clipped), or in two draws out of ten 0.1 to 0.9 times it (left alone)."""
    i, h = (int(s) for s in rng.choice(np.arange(2, 7), 2, replace=False))
    shapes = [(4 * h, i), (4 * h, h), (4 * h,), (4 * h,)][:int(rng.integers(2, 5))]
    grads = [rng.normal(size=s) for s in shapes]
    max_norm = round(float(rng.uniform(0.5, 5.0)), 2)
    ratio = rng.uniform(1.5, 10.0) if rng.random() < 0.8 else rng.uniform(0.1, 0.9)
    return [g * ratio * max_norm / _global_norm(grads) for g in grads], max_norm


CLIP_RTOL, CLIP_ATOL = 1e-9, 1e-12                      # tight enough to see torch's 1e-6


_CLIP_MISTAKES = {
    "each array clipped by its own norm: the norm is global, one number over all the arrays together (as if they "
    "were one long vector), so clipping scales the whole gradient and keeps its direction":
        _own_norms,
    "clipped by value, np.clip(g, -max_norm, max_norm): that is torch's clip_grad_value_; clip_grad_norm_ scales "
    "every array by the same factor, keeping the gradient's direction":
        _by_value,
    "scaled even when the norm is below max_norm: the scale is applied only when it is below 1 (a gradient is "
    "shortened, never lengthened)":
        _clip_by(always=True),
    "the ratio upside down, total / max_norm: the clipped gradient's norm should come out max_norm, so the "
    "scale is max_norm / (total + 1e-6)":
        _clip_by(upside_down=True),
    "the total without its square root (the sum of the squares): the norm is sqrt(sum of all the squares)":
        _clip_by(total_of=lambda grads: sum(np.sum(g ** 2) for g in grads)),
    "the total as the sum of the arrays' norms: the global norm is the root of the sum of ALL the squares, "
    "sqrt(sum_k ||g_k||^2), which is less":
        _clip_by(total_of=lambda grads: sum(np.sqrt(np.sum(g ** 2)) for g in grads)),
    "the 1e-6 forgotten: torch's scale is max_norm / (total + 1e-6) (the 1e-6 keeps a zero gradient from "
    "dividing by zero), so a clipped gradient's norm comes out a hair under max_norm":
        _clip_by(eps=0.0),
    "the norm after clipping returned: clip_grad_norm_ returns the total norm of the gradients as they came in, "
    "before clipping (what a training log records to see explosions)":
        _norm_after,
}


# ------------------------------------------------------------------ the exercises

EXERCISES: list[Exercise] = [
    Exercise(
        key="13.rnn_step",
        task="Write rnn_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh): one step of torch's plain RNN, h' = "
             "tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), for a batch: x is (N, I), h is (N, H), and the parameters "
             "have torch's names and shapes, weight_ih (H, I), weight_hh (H, H), bias_ih and bias_hh (H,). Return "
             "h', (N, H).",
        hint="np.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh): torch stores a weight as (out, in), so "
             "a batch of rows meets it transposed, as in nn.Linear; both biases are added, inside the tanh.",
        reference=_rnn_reference,
        make_inputs=draw_apart(_rnn_make, _rnn_reference, _RNN_MISTAKES),
        trials=4,
        mistakes=_RNN_MISTAKES,
    ),
    Exercise(
        key="13.lstm_step",
        task="Write lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh): one step of torch's LSTM cell for a "
             "batch, x (N, I), h and c (N, H), weight_ih (4H, I), weight_hh (4H, H), bias_ih and bias_hh (4H,), the "
             "four H-row blocks stacked in torch's order i, f, g, o. With z = x W_ih^T + b_ih + h W_hh^T + b_hh "
             "split into z_i, z_f, z_g, z_o: i, f, o = sigmoid(z_i, z_f, z_o), g = tanh(z_g), c' = f * c + i * g, "
             "h' = o * tanh(c'). Return (h_new, c_new).",
        hint="z = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh is (N, 4H); z_i, z_f, z_g, z_o = np.split(z, "
             "4, axis=1); sigmoid(t) = 1 / (1 + np.exp(-t)); c_new = f * c + i * g; h_new = o * np.tanh(c_new).",
        reference=_lstm_reference,
        make_inputs=draw_apart(_lstm_make, _lstm_reference, _LSTM_MISTAKES),
        trials=4,
        parts=("h_new", "c_new"),
        mistakes=_LSTM_MISTAKES,
    ),
    Exercise(
        key="13.lstm_parameters",
        task="Write lstm_parameters(input_size, hidden_size, num_layers, bias): the number of parameters of "
             "torch.nn.LSTM(input_size, hidden_size, num_layers, bias=bias). Each layer has weight_ih (4h, its input "
             "size), weight_hh (4h, h) and, with bias=True, bias_ih and bias_hh (4h each); the first layer reads "
             "input_size numbers a step, every layer above it the h numbers of the layer below.",
        hint="One layer with input size n: 4 * (h * (n + h) + 2 * h) with biases, 4 * h * (n + h) without; n = "
             "input_size for the first layer, hidden_size for the others. LSTM(28, 128, 2): 4 * (128 * 156 + 256) "
             "+ 4 * (128 * 256 + 256) = 212,992.",
        reference=_lstm_parameters_reference,
        make_inputs=draw_apart(_lstm_parameters_make, _lstm_parameters_reference, _LSTM_PARAMETERS_MISTAKES, 0.0,
                               0.5),
        rtol=0.0,
        atol=0.5,                                   # a whole number: exact
        trials=5,
        mistakes=_LSTM_PARAMETERS_MISTAKES,
    ),
    Exercise(
        key="13.clip_grad_norm",
        task="Write clip_grad_norm(grads, max_norm): clip a list of gradient arrays by their global norm, as "
             "torch.nn.utils.clip_grad_norm_ does: total = sqrt(the sum of the squares of every number in every "
             "array), scale = max_norm / (total + 1e-6), and every array multiplied by scale when scale < 1 (left "
             "as it is otherwise). Return (clipped, total_norm): the list of clipped arrays, in order, and total.",
        hint="total = np.sqrt(sum(np.sum(g ** 2) for g in grads)); scale = max_norm / (total + 1e-6); clipped = "
             "[g * min(scale, 1.0) for g in grads]; return clipped, total. One scale for all the arrays: the "
             "gradient keeps its direction.",
        reference=_clip_reference,
        make_inputs=draw_apart(_clip_make, _clip_reference, _CLIP_MISTAKES, CLIP_RTOL, CLIP_ATOL),
        rtol=CLIP_RTOL,
        atol=CLIP_ATOL,
        trials=4,
        parts=("clipped", "total_norm"),
        mistakes=_CLIP_MISTAKES,
    ),
]
