"""RNN (tanh, relu), LSTM and GRU from scratch against torch autograd (float64): torch's state_dict loads
directly, and the outputs, final states and the gradients of the input, of h_0 (and c_0) and of every
parameter agree, over sizes, sequence lengths, layers, batch_first and bias; gradient checks on tiny cases."""
import math

import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.scratch import functional as sf

from parity_helpers import assert_close, t

KINDS = {"RNN": {}, "RNN-relu": {"nonlinearity": "relu"}, "LSTM": {}, "GRU": {}}


def build(nn, kind, *args, **kwargs):
    """The same layer in ``course_lib.scratch`` or ``torch.nn``: kind is RNN, RNN-relu, LSTM or GRU."""
    return getattr(nn, kind.split("-")[0])(*args, **KINDS[kind], **kwargs)


def states_of(final, kind):
    """The final states as a tuple: (h_n,), or (h_n, c_n) for the LSTM."""
    return tuple(final) if kind == "LSTM" else (final,)


def check_recurrent(kind, sizes, options, x, initial, device, rng):
    """Load torch's state_dict into ours, run both on x (and the initial states, or None), send random
    gradients into the output and every final state, and compare everything forward and back."""
    theirs = build(torch.nn, kind, *sizes, **options).to(device=device, dtype=torch.float64)
    ours = build(scratch, kind, *sizes, **options)
    ours.load_state_dict(theirs.state_dict())
    xt = t(x, device, grad=True)
    initial_t = None if initial is None else tuple(t(s, device, grad=True) for s in initial)
    out_t, final_t = theirs(xt, None if initial is None else (initial_t if kind == "LSTM" else initial_t[0]))
    out, final = ours(x, None if initial is None else (initial if kind == "LSTM" else initial[0]))
    assert_close(out, out_t, "output")
    for ours_s, theirs_s, name in zip(states_of(final, kind), states_of(final_t, kind), ("h_n", "c_n")):
        assert_close(ours_s, theirs_s, name)
    grads = [rng.standard_normal(out.shape)] + [rng.standard_normal(s.shape) for s in states_of(final, kind)]
    torch.autograd.backward([out_t, *states_of(final_t, kind)], [t(g, device) for g in grads])
    grad_x, grad_hx = ours.backward(*grads)
    assert_close(grad_x, xt.grad, "grad of input")
    if initial is not None:
        for ours_g, theirs_s, name in zip(states_of(grad_hx, kind), initial_t, ("h_0", "c_0")):
            assert_close(ours_g, theirs_s.grad, f"grad of {name}")
    torch_grads = {name: p.grad for name, p in theirs.named_parameters()}
    assert list(torch_grads) == [name for name, _ in ours.named_parameters()]
    for name, p in ours.named_parameters():
        assert_close(p.grad, torch_grads[name], f"grad of {name}")


# (input_size, hidden_size, num_layers, L, N or None for one unbatched sequence, batch_first, bias, initial states)
SHAPES = [
    (3, 4, 1, 1, 2, False, True, True),      # one time step
    (5, 3, 2, 6, 3, True, True, True),       # two layers, batch first
    (2, 5, 2, 4, 1, False, False, True),     # no biases, a batch of one
    (4, 2, 1, 9, 5, True, False, False),     # hx=None: zero initial states
    (3, 4, 2, 5, None, True, True, True),    # one unbatched sequence (L, input_size): batch_first does not apply
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("i, h, layers, length, n, batch_first, bias, given", SHAPES)
def test_recurrent_layer_matches_torch(kind, i, h, layers, length, n, batch_first, bias, given, device, rng):
    x_shape = (length, i) if n is None else ((n, length, i) if batch_first else (length, n, i))
    state_shape = (layers, h) if n is None else (layers, n, h)
    initial = tuple(rng.standard_normal(state_shape) for _ in range(2 if kind == "LSTM" else 1)) if given else None
    check_recurrent(kind, (i, h, layers), {"bias": bias, "batch_first": batch_first},
                    rng.standard_normal(x_shape), initial, device, rng)


def test_a_long_sequence_matches_torch(device, rng):
    """28 steps, as the row-by-row digits: BPTT's products over many steps still agree to 1e-7."""
    check_recurrent("LSTM", (28, 16, 2), {"batch_first": True}, rng.standard_normal((4, 28, 28)), None, device, rng)


CELLS = {
    "rnn_cell tanh": (torch.nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_cell relu": (torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm_cell": (torch.nn.LSTMCell, {}),
    "gru_cell": (torch.nn.GRUCell, {}),
}


def scratch_cell_step(name, x, h, c, weights, g, gc):
    """One step of the functional cell forward and back: (output, gradients of (x, h[, c], w_ih, w_hh, b_ih, b_hh))."""
    w_ih, w_hh = weights[:2]
    if name.startswith("rnn"):
        act = name.split()[1]
        out = sf.rnn_cell(x, h, *weights, nonlinearity=act)
        return (out,), sf.rnn_cell_backward(g, x, h, out, w_ih, w_hh, nonlinearity=act)
    if name == "gru_cell":
        out, gates = sf.gru_cell(x, h, *weights, return_gates=True)
        assert_close(out, sf.gru_cell(x, h, *weights), "gru_cell with and without its gates")
        return (out,), sf.gru_cell_backward(g, x, h, w_ih, w_hh, gates)
    h_new, c_new, gates = sf.lstm_cell(x, (h, c), *weights, return_gates=True)
    grad_x, (grad_h, grad_c), *grad_params = sf.lstm_cell_backward(g, gc, x, (h, c), w_ih, w_hh, gates)
    return (h_new, c_new), (grad_x, grad_h, grad_c, *grad_params)


@pytest.mark.parametrize("name", CELLS)
def test_functional_cell_matches_torchs_cell(name, device, rng):
    """One step of sf.rnn_cell / lstm_cell / gru_cell and its backward against torch.nn.RNNCell/LSTMCell/GRUCell."""
    cell_class, options = CELLS[name]
    cell = cell_class(3, 4, **options).to(device=device, dtype=torch.float64)
    weights = tuple(p.detach().cpu().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
    x, h, c, g, gc = (rng.standard_normal(s) for s in ((5, 3), (5, 4), (5, 4), (5, 4), (5, 4)))
    xt, ht, ct = (t(a, device, grad=True) for a in (x, h, c))
    lstm = name == "lstm_cell"
    out_t = cell(xt, (ht, ct)) if lstm else (cell(xt, ht),)
    torch.autograd.backward(list(out_t), [t(g, device), t(gc, device)][:len(out_t)])
    outs, grads = scratch_cell_step(name, x, h, c, weights, g, gc)
    for ours, theirs in zip(outs, out_t):
        assert_close(ours, theirs, f"{name} output")
    theirs = [xt.grad, ht.grad, *([ct.grad] if lstm else []), *(p.grad for p in
              (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))]
    assert len(grads) == len(theirs)
    for k, (ours, expected) in enumerate(zip(grads, theirs)):
        assert_close(ours, expected, f"{name} gradient {k}")


class EveryOutput(scratch.Module):
    """A recurrent layer with its initial states as parameters and every result in one flat array, so that
    scratch.gradcheck checks d input, d h_0 (d c_0) and every weight through output, h_n (and c_n) at once."""

    def __init__(self, layer, *initial):
        super().__init__()
        self.layer = layer
        self.h_0 = scratch.Parameter(initial[0])
        self.c_0 = scratch.Parameter(initial[1]) if len(initial) == 2 else None

    def _hx(self):
        return self.h_0.data if self.c_0 is None else (self.h_0.data, self.c_0.data)

    def forward(self, x):
        out, final = self.layer(x, self._hx())
        self.save_for_backward([out.shape] + [s.shape for s in states_of(final, self._kind())])
        return np.concatenate([a.ravel() for a in (out, *states_of(final, self._kind()))])

    def _kind(self):
        return "GRU" if self.c_0 is None else "LSTM"

    def backward(self, grad_output):
        shapes, = self.take_saved(grad_output)
        cuts = np.cumsum([math.prod(s) for s in shapes])[:-1]
        grads = [g.reshape(s) for g, s in zip(np.split(grad_output, cuts), shapes)]
        grad_x, grad_hx = self.layer.backward(*grads)
        for p, g in zip((self.h_0, self.c_0), states_of(grad_hx, self._kind())):
            p.grad += g
        return grad_x


@pytest.mark.parametrize("kind", KINDS)
def test_backpropagation_through_time_passes_gradcheck(kind, rng):
    scratch.manual_seed(0)
    layer = build(scratch, kind, 2, 3, 2, batch_first=True)
    initial = [rng.standard_normal((2, 2, 3)) for _ in range(2 if kind == "LSTM" else 1)]
    x = rng.standard_normal((2, 4, 2))
    if kind == "RNN-relu":  # keep every pre-activation away from relu's kink, where differences are not derivatives
        x, initial = np.abs(x), [np.abs(s) for s in initial]
        for name, p in layer.named_parameters():
            p.data = np.abs(p.data)
    errors = scratch.gradcheck(EveryOutput(layer, *initial), x, tol=1e-6)
    assert {"input", "h_0", "layer.weight_hh_l1"} <= set(errors)


def lstm_parameter_count(i, h, layers):
    """4 (h (i + h) + 2 h) for the first layer, 4 (h (h + h) + 2 h) for each one above (it reads h features)."""
    return 4 * (h * (i + h) + 2 * h) + (layers - 1) * 4 * (h * (h + h) + 2 * h)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("i, h, layers, bias", [(10, 20, 1, True), (28, 64, 2, True), (3, 5, 3, False)])
def test_parameter_names_shapes_and_counts_equal_torchs(kind, i, h, layers, bias):
    ours, theirs = build(scratch, kind, i, h, layers, bias=bias), build(torch.nn, kind, i, h, layers, bias=bias)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    count = sum(p.data.size for p in ours.parameters())
    assert count == sum(p.numel() for p in theirs.parameters())
    if kind == "LSTM" and bias:
        assert count == lstm_parameter_count(i, h, layers)


def test_the_lstm_parameter_count_of_the_docstring():
    assert lstm_parameter_count(10, 20, 1) == sum(p.data.size for p in scratch.LSTM(10, 20).parameters()) == 2560


@pytest.mark.parametrize("kind", KINDS)
def test_initialisation_is_torchs_uniform_and_seeded(kind):
    """Every parameter from U(-1/sqrt(H), 1/sqrt(H)), drawn from the scratch generator (manual_seed repeats it)."""
    scratch.manual_seed(3)
    first = build(scratch, kind, 6, 16, 2).state_dict()
    scratch.manual_seed(3)
    again = build(scratch, kind, 6, 16, 2).state_dict()
    values = np.concatenate([v.ravel() for v in first.values()])
    assert np.abs(values).max() <= 1 / math.sqrt(16) and np.abs(values).max() > 0.9 / math.sqrt(16)
    assert abs(values.std() - 1 / math.sqrt(16) / math.sqrt(3)) < 0.01  # a uniform U(-b, b) has std b / sqrt(3)
    assert all(np.array_equal(first[k], again[k]) for k in first)


@pytest.mark.parametrize("kind", KINDS)
def test_repr_is_torchs(kind):
    for args, options in (((3, 4), {}), ((3, 4, 2), {"bias": False, "batch_first": True})):
        assert repr(build(scratch, kind, *args, **options)) == repr(build(torch.nn, kind, *args, **options))


def test_gradients_add_up_over_forward_backward_pairs_as_in_torch(rng):
    layer, x = scratch.GRU(2, 3), rng.standard_normal((4, 1, 2))
    for _ in range(2):
        out, _ = layer(x)
        layer.backward(np.ones_like(out))
    once = scratch.GRU(2, 3)
    once.load_state_dict(layer.state_dict())
    out, _ = once(x)
    once.backward(np.ones_like(out))
    assert_close(layer.weight_hh_l0.grad, 2 * once.weight_hh_l0.grad, "two backwards")


@pytest.mark.parametrize("kind", KINDS)
def test_a_float32_layer_computes_in_float32(kind, rng):
    """After .float(), the zero initial states follow the layer's dtype, so nothing is promoted to float64."""
    layer = build(scratch, kind, 3, 4, 2).float()
    out, final = layer(rng.standard_normal((5, 2, 3)).astype(np.float32))
    grad_x, grad_hx = layer.backward(np.ones_like(out))
    assert {a.dtype for a in (out, *states_of(final, kind), grad_x, *states_of(grad_hx, kind))} == {np.dtype("float32")}
    assert {p.grad.dtype for p in layer.parameters()} == {np.dtype("float32")}
