"""``RNN``, ``LSTM`` and ``GRU``: recurrent layers over sequences, with torch's arguments, parameters and shapes.

A recurrent layer applies one cell (``functional.recurrent``) at every time step with the same weights,
carrying a state from step to step; ``num_layers`` stacks layers, each reading the outputs of the one below:

    input  (L, N, input_size), or (N, L, input_size) with batch_first=True, or one sequence (L, input_size)
    hx     h_0 (num_layers, N, hidden_size), zeros if None; the LSTM's is the pair (h_0, c_0), each that shape
    output (L, N, hidden_size) (batch_first: (N, L, hidden_size)): the last layer's h_t at every step
    h_n    (num_layers, N, hidden_size): every layer's state after the last step (LSTM: (h_n, c_n))

Parameters per layer l, named as torch's (so ``load_state_dict(torch_rnn.state_dict())`` works):
``weight_ih_l{l}`` (G H, in), ``weight_hh_l{l}`` (G H, H), ``bias_ih_l{l}``, ``bias_hh_l{l}`` (G H,), where
in = input_size for l = 0 and hidden_size above it, and G is 1 (RNN), 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n).
So one LSTM layer has 4 (H (in + H) + 2 H) parameters: 4 (20 (10 + 20) + 40) = 2,560 for in = 10, H = 20.

``backward(grad_output, grad_h_n=None)`` (LSTM: also ``grad_c_n``) is backpropagation through time: from
the last step to the first, each step's state gradient is its output's gradient plus what the next step
sends back. It returns the gradients of forward's arguments, ``(d input, d h_0)`` (LSTM: ``(d input,
(d h_0, d c_0))``), and adds every parameter's gradient (summed over the steps) into its ``.grad``.
"""
from __future__ import annotations

import math

import numpy as np

from . import init
from ._checks import as_float_array, check_grad_output, check_number, positive_int
from .functional import recurrent as R
from .module import Module, Parameter


def _refuse_unimplemented(layer: str, dropout, bidirectional, proj_size=0) -> None:
    """torch's dropout between layers, bidirectional and proj_size: only torch's defaults are built here."""
    dropout = check_number(dropout, "dropout", layer)
    if not 0 <= dropout <= 1:
        raise ValueError(f"{layer}: dropout={dropout} is a probability of zeroing an element and must be in [0, 1].")
    if dropout:
        raise NotImplementedError(
            f"{layer}: dropout={dropout} (dropout between stacked layers) is not implemented in the scratch {layer}; "
            f"use dropout=0 and, if you need it, stack single-layer {layer}s with scratch.Dropout between them "
            f"(or use torch.nn.{layer}).")
    if bidirectional:
        raise NotImplementedError(
            f"{layer}: bidirectional=True is not implemented in the scratch {layer}. A bidirectional layer is two "
            f"layers: run a second {layer} on the reversed sequence (input[::-1]), reverse its output back and "
            f"concatenate the two along the last axis (or use torch.nn.{layer}).")
    if proj_size:
        raise NotImplementedError(f"{layer}: proj_size={proj_size} (a projected hidden state) is not implemented "
                                  f"in the scratch {layer}; use proj_size=0 (or torch.nn.{layer}).")


class _RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters, the checks and the loops over layers and time steps.

    A subclass sets ``_blocks`` (G) and ``_states`` (1, or 2 for the LSTM's (h, c)) and writes one step
    forward (``_step``) and back (``_step_backward``) with its cell from ``functional.recurrent``.
    """
    _blocks = 1
    _states = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False) -> None:
        super().__init__()
        layer = type(self).__name__
        self.input_size = positive_int(input_size, "input_size", layer)
        self.hidden_size = positive_int(hidden_size, "hidden_size", layer)
        self.num_layers = positive_int(num_layers, "num_layers", layer)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        _refuse_unimplemented(layer, dropout, bidirectional)
        self.dropout, self.bidirectional = 0.0, False
        rows = self._blocks * self.hidden_size
        for k in range(self.num_layers):
            inputs = self.input_size if k == 0 else self.hidden_size  # the layers above read the one below's h_t
            setattr(self, f"weight_ih_l{k}", Parameter(np.empty((rows, inputs))))
            setattr(self, f"weight_hh_l{k}", Parameter(np.empty((rows, self.hidden_size))))
            if self.bias:
                setattr(self, f"bias_ih_l{k}", Parameter(np.empty(rows)))
                setattr(self, f"bias_hh_l{k}", Parameter(np.empty(rows)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in order."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _layer_parameters(self, k: int) -> list:
        """Layer k's Parameters weight_ih, weight_hh, bias_ih, bias_hh (the biases None when bias=False)."""
        return [self._parameters.get(f"{name}_l{k}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def _weights(self, k: int) -> tuple:
        """Layer k's (weight_ih, weight_hh, bias_ih, bias_hh) arrays, as the cells take them."""
        return tuple(None if p is None else p.data for p in self._layer_parameters(k))

    # ------------------------------------------------------------ checks and layouts
    def _sequence(self, input) -> tuple[np.ndarray, bool]:
        """The input as float (L, N, input_size), and whether it was one unbatched sequence (L, input_size)."""
        x = as_float_array(input, f"{type(self).__name__} input")
        self._check_sequence(x)
        unbatched = x.ndim == 2
        return (x[:, None] if unbatched else (x.transpose(1, 0, 2) if self.batch_first else x)), unbatched

    def _check_sequence(self, x: np.ndarray) -> None:
        """Rank 3 (or 2: one sequence), input_size features on the last axis, at least one time step."""
        order = "(N, L, input_size)" if self.batch_first else "(L, N, input_size)"
        layout = f"{order} (batch_first={self.batch_first})"
        if x.ndim not in (2, 3):
            hint = (" Images (N, C, H, W)? Read them row by row, H steps of C W features: x.transpose(0, 2, 1, 3)"
                    ".reshape(N, H, C * W) (one channel: x[:, 0]) with batch_first=True." if x.ndim == 4 else "")
            raise ValueError(f"{self!r} expected input of rank 3, {layout}, or 2, one sequence (L, input_size); "
                             f"got shape {x.shape} (rank {x.ndim}).{hint}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{self!r} expects input_size = {self.input_size} features per time step (the last "
                             f"axis), got shape {x.shape} with {x.shape[-1]}. The layout is {layout}; is "
                             f"input_size wrong, or are the axes in another order?")
        if x.shape[1 if x.ndim == 3 and self.batch_first else 0] == 0:
            raise ValueError(f"{self!r}: the sequence has length L = 0 (input shape {x.shape}); a recurrent layer "
                             f"needs at least one time step (torch refuses it too).")

    def _state_shape(self, batch: int, unbatched: bool) -> tuple[int, ...]:
        return (self.num_layers, self.hidden_size) if unbatched else (self.num_layers, batch, self.hidden_size)

    def _initial_states(self, hx, x: np.ndarray, unbatched: bool) -> tuple[np.ndarray, ...]:
        """hx checked and batched: a tuple of ``_states`` arrays (num_layers, N, H); zeros when hx is None
        (in the dtype the layer computes in, so that a float32 layer stays float32)."""
        batch = x.shape[1]
        shape = self._state_shape(batch, unbatched)
        if hx is None:
            dtype = np.result_type(x, self.weight_ih_l0.data)
            return tuple(np.zeros((self.num_layers, batch, self.hidden_size), dtype) for _ in range(self._states))
        names = ("h_0", "c_0")[:self._states]
        states = self._unpack(hx)
        checked = []
        for name, state in zip(names, states):
            state = as_float_array(state, f"{type(self).__name__} {name}")
            if state.shape != shape:
                layout = "(num_layers, hidden_size)" if unbatched else "(num_layers, N, hidden_size)"
                what = "an unbatched (L, input_size) sequence" if unbatched else f"a batch of N = {batch}"
                raise ValueError(f"{self!r}: {name} must have shape {layout} = {shape} for {what}, got "
                                 f"{state.shape}. It is one state per layer and sequence, whatever batch_first "
                                 f"says (batch_first changes only the input and output).")
            checked.append(state[:, None] if unbatched else state)
        return tuple(checked)

    def _unpack(self, hx) -> tuple:
        """hx as a tuple of its states: (h_0,) for RNN and GRU, (h_0, c_0) for the LSTM."""
        layer = type(self).__name__
        if self._states == 1 and isinstance(hx, (tuple, list)):
            raise TypeError(f"{layer}: hx must be one array h_0 of shape (num_layers, N, hidden_size), got a "
                            f"{type(hx).__name__}: only an LSTM takes the pair (h_0, c_0).")
        return (hx,) if self._states == 1 else hx

    def _final_states(self, finals: list, unbatched: bool) -> tuple[np.ndarray, ...]:
        """Each layer's last state stacked to (num_layers, N, H), one array per kind of state."""
        stacked = tuple(np.stack([state[s] for state in finals]) for s in range(self._states))
        return tuple(s[:, 0] for s in stacked) if unbatched else stacked

    def _grad_finals(self, grads: tuple, grad_output: np.ndarray, unbatched: bool) -> tuple[np.ndarray, ...]:
        """dL/dh_n (and dL/dc_n) checked and batched to (num_layers, N, H): zeros where None (h_n was not used)."""
        batch = grad_output.shape[1]
        shape, checked = self._state_shape(batch, unbatched), []
        for name, grad in zip(("grad_h_n", "grad_c_n"), grads):
            if grad is None:
                checked.append(np.zeros((self.num_layers, batch, self.hidden_size), grad_output.dtype))
                continue
            grad = check_grad_output(grad, shape, f"{type(self).__name__}.backward ({name}, dL/d final state)")
            checked.append(grad[:, None] if unbatched else grad)
        return tuple(checked)

    def _to_output_layout(self, y: np.ndarray, unbatched: bool) -> np.ndarray:
        """(L, N, F) -> the caller's layout: (N, L, F) with batch_first, (L, F) when unbatched."""
        return y[:, 0] if unbatched else (y.transpose(1, 0, 2) if self.batch_first else y)

    def _from_output_layout(self, y, unbatched: bool) -> np.ndarray:
        """The inverse of ``_to_output_layout``: the caller's layout -> (L, N, F)."""
        y = np.asarray(y)
        return y[:, None] if unbatched else (y.transpose(1, 0, 2) if self.batch_first else y)

    # ------------------------------------------------------------ forward and backward through time
    def __call__(self, input, hx=None):
        output, h_n = self.forward(input, hx)
        object.__setattr__(self, "_output_shape", output.shape)  # backward's grad_output must have its shape
        return output, h_n

    def forward(self, input, hx=None):
        x, unbatched = self._sequence(input)
        states = self._initial_states(hx, x, unbatched)
        saved, finals, layer_input = [], [], x
        for k in range(self.num_layers):
            outputs, history, caches = self._layer_forward(k, layer_input, tuple(s[k] for s in states))
            saved.append((layer_input, history, caches))
            finals.append(history[-1])
            layer_input = outputs
        self.save_for_backward(saved, unbatched)
        final = self._final_states(finals, unbatched)
        return self._to_output_layout(layer_input, unbatched), final[0] if self._states == 1 else final

    def _layer_forward(self, k: int, xs: np.ndarray, state: tuple) -> tuple:
        """Layer k over the sequence: state_t = cell(x_t, state_{t-1}) for t = 1..L, the same weights each step.

        xs: (L, N, in) -> (outputs (L, N, H), the states state_0..state_L, each step's cache for backward).
        """
        weights, history, caches = self._weights(k), [state], []
        for x_t in xs:
            state, cache = self._step(x_t, state, weights)
            history.append(state)
            caches.append(cache)
        return np.stack([s[0] for s in history[1:]]), history, caches

    def _backward(self, grad_output, grad_finals: tuple) -> tuple:
        """From the top layer down: each layer's input gradient is the output gradient of the layer below."""
        saved, unbatched = self.take_saved(grad_output)
        grad = self._from_output_layout(grad_output, unbatched)
        grad_finals = self._grad_finals(grad_finals, grad, unbatched)
        grad_initial = [None] * self.num_layers
        for k in reversed(range(self.num_layers)):
            grad, grad_initial[k] = self._layer_backward(k, grad, *saved[k], tuple(g[k] for g in grad_finals))
        grad_hx = tuple(np.stack([g[s] for g in grad_initial]) for s in range(self._states))
        if unbatched:
            grad_hx = tuple(g[:, 0] for g in grad_hx)
        return self._to_output_layout(grad, unbatched), grad_hx[0] if self._states == 1 else grad_hx

    def _layer_backward(self, k: int, grads: np.ndarray, xs: np.ndarray, history: list, caches: list,
                        grad_state: tuple) -> tuple:
        """Backpropagation through time for layer k, from step L down to step 1.

        At step t the state's gradient is dL/d output_t plus what step t+1 sent back (dL/dh_n at t = L);
        the cell's backward turns it into dL/dx_t, the gradient sent to step t-1 and this step's share of
        every parameter's gradient (the weights are shared, so the shares add up).
        grads: (L, N, H) -> (dL/d xs (L, N, in), dL/d state_0).
        """
        weights, grad_xs, totals = self._weights(k), np.empty_like(xs), [0.0] * 4
        for t in reversed(range(len(xs))):
            grad_state = (grad_state[0] + grads[t], *grad_state[1:])
            grad_xs[t], grad_state, *shares = self._step_backward(grad_state, xs[t], history[t], caches[t], weights)
            totals = [total + share for total, share in zip(totals, shares)]
        for p, total in zip(self._layer_parameters(k), totals):
            if p is not None:
                p.grad += total
        return grad_xs, grad_state

    def extra_repr(self) -> str:
        """As torch prints it: the sizes, then only the options that differ from the defaults."""
        options = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            options.append(f"num_layers={self.num_layers}")
        if not self.bias:
            options.append("bias=False")
        if self.batch_first:
            options.append("batch_first=True")
        return ", ".join(options)


class RNN(_RNNBase):
    """The plain (Elman) RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu.

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False), torch's
    order; weights (H, in) and (H, H), so a layer has H (in + H) + 2 H parameters. forward(input, hx=None)
    -> (output, h_n); backward(grad_output, grad_h_n=None) -> (d input, d h_0). Shapes: see the module.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False) -> None:
        R.check_nonlinearity(nonlinearity, "RNN")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.nonlinearity = nonlinearity

    def _step(self, x_t, state, weights):
        h = R.rnn_cell(x_t, state[0], *weights, nonlinearity=self.nonlinearity)
        return (h,), h  # the cell's backward needs its output h_t

    def _step_backward(self, grad_state, x_t, state, cache, weights):
        grad_x, grad_h, *shares = R.rnn_cell_backward(grad_state[0], x_t, state[0], cache, *weights[:2],
                                                      nonlinearity=self.nonlinearity)
        return (grad_x, (grad_h,), *shares)

    def backward(self, grad_output, grad_h_n=None):
        """BPTT given dL/d output and dL/d h_n (zeros if None) -> (dL/d input, dL/d h_0); adds each .grad."""
        return self._backward(grad_output, (grad_h_n,))


class LSTM(_RNNBase):
    """Long short-term memory (Hochreiter and Schmidhuber 1997), torch's gates i, f, g, o:

        i, f, o = sigmoid(...), g = tanh(...) of the blocks of  x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
        c_t = f * c_{t-1} + i * g,      h_t = o * tanh(c_t)

    The cell state c is the memory: its gradient passes from step to step multiplied only by f (no weight
    matrix, no squashing), so it need not vanish over many steps. Weights (4H, in) and (4H, H): one layer
    has 4 (H (in + H) + 2 H) parameters. forward(input, hx=None) with hx = (h_0, c_0) -> (output, (h_n, c_n));
    backward(grad_output, grad_h_n=None, grad_c_n=None) -> (d input, (d h_0, d c_0)).
    """
    _blocks = 4
    _states = 2

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0) -> None:
        _refuse_unimplemented("LSTM", 0.0, False, proj_size)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.proj_size = 0

    def _unpack(self, hx) -> tuple:
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            pair = isinstance(hx, (tuple, list))
            got = f"a {type(hx).__name__} of length {len(hx)}" if pair else f"one {type(hx).__name__}"
            raise TypeError(f"LSTM: hx must be the pair (h_0, c_0), each of shape (num_layers, N, hidden_size), "
                            f"got {got}. An LSTM carries two states: the hidden state h and the cell state c.")
        return tuple(hx)

    def _step(self, x_t, state, weights):
        h, c, gates = R.lstm_cell(x_t, state, *weights, return_gates=True)
        return (h, c), gates

    def _step_backward(self, grad_state, x_t, state, cache, weights):
        return R.lstm_cell_backward(*grad_state, x_t, state, *weights[:2], cache)

    def backward(self, grad_output, grad_h_n=None, grad_c_n=None):
        """BPTT given dL/d output, dL/d h_n and dL/d c_n (zeros if None) -> (dL/d input, (dL/d h_0, dL/d c_0))."""
        return self._backward(grad_output, (grad_h_n, grad_c_n))


class GRU(_RNNBase):
    """Gated recurrent unit (Cho et al. 2014), torch's gates r, z, n and torch's exact candidate n:

        r = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr),   z = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn)),   h_t = (1 - z) * n + z * h_{t-1}

    Weights (3H, in) and (3H, H): a layer has 3 (H (in + H) + 2 H) parameters. forward(input, hx=None)
    -> (output, h_n); backward(grad_output, grad_h_n=None) -> (d input, d h_0).
    """
    _blocks = 3

    def _step(self, x_t, state, weights):
        h, gates = R.gru_cell(x_t, state[0], *weights, return_gates=True)
        return (h,), gates

    def _step_backward(self, grad_state, x_t, state, cache, weights):
        grad_x, grad_h, *shares = R.gru_cell_backward(grad_state[0], x_t, state[0], *weights[:2], cache)
        return (grad_x, (grad_h,), *shares)

    def backward(self, grad_output, grad_h_n=None):
        """BPTT given dL/d output and dL/d h_n (zeros if None) -> (dL/d input, dL/d h_0); adds each .grad."""
        return self._backward(grad_output, (grad_h_n,))
