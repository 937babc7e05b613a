"""One time step of the recurrent cells, each a forward/backward pair, with torch's weights and gate order.

Shapes: ``N`` sequences in the batch, ``I`` input features, ``H`` hidden features; ``G`` stacked gate blocks
(RNN 1, LSTM 4 in the order i, f, g, o; GRU 3 in the order r, z, n), so weight_ih is (G H, I), weight_hh
(G H, H) and both biases (G H,), exactly as in ``torch.nn.RNN/LSTM/GRU`` (``weight_ih_l0``, ...).

A backward returns the gradients of the forward's arguments in their order: ``(d input, d hx, d weight_ih,
d weight_hh, d bias_ih, d bias_hh)``; for the LSTM ``d hx`` is the pair ``(d h, d c)``, as hx is ``(h, c)``.
Backpropagation through time calls these once per step, from the last step to the first.
"""
from __future__ import annotations

import numpy as np

from .dense import linear, linear_backward, relu, relu_backward, sigmoid, sigmoid_backward, tanh, tanh_backward

NONLINEARITIES = ("tanh", "relu")


def check_nonlinearity(nonlinearity: str, where: str) -> None:
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"{where}: unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or 'relu' "
                         f"(torch's RNN knows only these two; an LSTM or GRU has its gates built in).")


def _preactivations(input, hx, weight_ih, weight_hh, bias_ih, bias_hh) -> tuple[np.ndarray, np.ndarray]:
    """(x W_ih^T + b_ih, h W_hh^T + b_hh): the input's and the hidden state's parts, each (N, G H)."""
    return linear(input, weight_ih, bias_ih), linear(hx, weight_hh, bias_hh)


def _affine_backward(grad_gi, grad_gh, input, hx, weight_ih, weight_hh) -> tuple:
    """Back through both affine maps: (d input, d hx, d W_ih, d W_hh, d b_ih, d b_hh), each via linear_backward."""
    grad_input, grad_w_ih, grad_b_ih = linear_backward(grad_gi, input, weight_ih)
    grad_hx, grad_w_hh, grad_b_hh = linear_backward(grad_gh, hx, weight_hh)
    return grad_input, grad_hx, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh


# ---------------------------------------------------------------- plain RNN (Elman)
def rnn_cell(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity: str = "tanh") -> np.ndarray:
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu (torch's rnn_tanh_cell / rnn_relu_cell).

    (N, I), (N, H), (H, I), (H, H), (H,), (H,) -> (N, H).
    """
    check_nonlinearity(nonlinearity, "rnn_cell")
    gi, gh = _preactivations(input, hx, weight_ih, weight_hh, bias_ih, bias_hh)
    return tanh(gi + gh) if nonlinearity == "tanh" else relu(gi + gh)


def rnn_cell_backward(grad_output, input, hx, output, weight_ih, weight_hh, nonlinearity: str = "tanh") -> tuple:
    """d pre = dh' act'(pre) (tanh: 1 - h'^2; relu: [h' > 0]), then dx = d pre W_ih, dh = d pre W_hh,
    dW_ih = d pre^T x, dW_hh = d pre^T h, db_ih = db_hh = sum_n d pre.  ``output`` is the forward's h'.

    (N, H), (N, I), (N, H), (N, H), (H, I), (H, H) -> (N, I), (N, H), (H, I), (H, H), (H,), (H,).
    """
    check_nonlinearity(nonlinearity, "rnn_cell_backward")
    backward = tanh_backward if nonlinearity == "tanh" else relu_backward  # relu: h' > 0 exactly where pre > 0
    grad_pre = backward(grad_output, output)
    return _affine_backward(grad_pre, grad_pre, input, hx, weight_ih, weight_hh)


# ---------------------------------------------------------------- LSTM
def lstm_cell(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, return_gates: bool = False):
    """One LSTM step, torch's gate order i, f, g, o (the four H-wide blocks of the pre-activation):

        i, f, o = sigmoid(blocks 0, 1, 3 of  x W_ih^T + b_ih + h W_hh^T + b_hh),   g = tanh(block 2)
        c' = f * c + i * g          (the cell state: forget some, write some)
        h' = o * tanh(c')           (the hidden state: read some)

    hx = (h, c), each (N, H); -> (h', c'), and with ``return_gates`` also the gates (N, 4H): i, f, g, o after
    their nonlinearities, which is what ``lstm_cell_backward`` needs.
    """
    h, c = hx
    gi, gh = _preactivations(input, h, weight_ih, weight_hh, bias_ih, bias_hh)
    pre_i, pre_f, pre_g, pre_o = np.split(gi + gh, 4, axis=-1)
    gates = np.concatenate([sigmoid(pre_i), sigmoid(pre_f), tanh(pre_g), sigmoid(pre_o)], axis=-1)
    i, f, g, o = np.split(gates, 4, axis=-1)
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    return (h_new, c_new, gates) if return_gates else (h_new, c_new)


def lstm_cell_backward(grad_hy, grad_cy, input, hx, weight_ih, weight_hh, gates) -> tuple:
    """Back through one LSTM step, given dL/dh' and dL/dc' (what later steps and the loss send back):

        dc = dc' + dh' o (1 - tanh(c')^2)      (the cell state's total gradient)
        d pre_i = dc g i (1 - i),  d pre_f = dc c f (1 - f),  d pre_g = dc i (1 - g^2),
        d pre_o = dh' tanh(c') o (1 - o),      dc_prev = dc f   (f near 1: the gradient passes almost unchanged)

    then both affine maps as in the RNN. ``gates`` is what ``lstm_cell(..., return_gates=True)`` returned.
    (N, H), (N, H), (N, I), ((N, H), (N, H)), (4H, I), (4H, H), (N, 4H)
    -> (N, I), ((N, H), (N, H)), (4H, I), (4H, H), (4H,), (4H,).
    """
    h, c = hx
    i, f, g, o = np.split(gates, 4, axis=-1)
    tanh_c = np.tanh(f * c + i * g)
    grad_c = grad_cy + tanh_backward(grad_hy * o, tanh_c)
    grad_pre = np.concatenate([sigmoid_backward(grad_c * g, i), sigmoid_backward(grad_c * c, f),
                               tanh_backward(grad_c * i, g), sigmoid_backward(grad_hy * tanh_c, o)], axis=-1)
    grad_input, grad_h, *grad_params = _affine_backward(grad_pre, grad_pre, input, h, weight_ih, weight_hh)
    return (grad_input, (grad_h, grad_c * f), *grad_params)


# ---------------------------------------------------------------- GRU
def gru_cell(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, return_gates: bool = False):
    """One GRU step, torch's gate order r, z, n and torch's exact n (r multiplies W_hn h + b_hn, bias included):

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)          (reset: how much of h the candidate sees)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)          (update: how much of h is kept)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))       (the candidate)
        h' = (1 - z) * n + z * h

    (N, I), (N, H), (3H, I), (3H, H), (3H,), (3H,) -> (N, H), and with ``return_gates`` also (N, 4H):
    r, z, n and W_hn h + b_hn, which is what ``gru_cell_backward`` needs.
    """
    gi, gh = _preactivations(input, hx, weight_ih, weight_hh, bias_ih, bias_hh)
    gi_r, gi_z, gi_n = np.split(gi, 3, axis=-1)
    gh_r, gh_z, gh_n = np.split(gh, 3, axis=-1)
    r, z = sigmoid(gi_r + gh_r), sigmoid(gi_z + gh_z)
    n = tanh(gi_n + r * gh_n)
    h_new = (1.0 - z) * n + z * hx
    return (h_new, np.concatenate([r, z, n, gh_n], axis=-1)) if return_gates else h_new


def gru_cell_backward(grad_output, input, hx, weight_ih, weight_hh, gates) -> tuple:
    """Back through one GRU step, given dL/dh':

        dn = dh' (1 - z),  dz = dh' (h - n),  dh (direct) = dh' z
        d pre_n = dn (1 - n^2),  dr = d pre_n (W_hn h + b_hn),  d pre_r = dr r (1 - r),  d pre_z = dz z (1 - z)

    the input's part gets (d pre_r, d pre_z, d pre_n), the hidden state's part (d pre_r, d pre_z, r d pre_n).
    ``gates`` is what ``gru_cell(..., return_gates=True)`` returned.
    (N, H), (N, I), (N, H), (3H, I), (3H, H), (N, 4H) -> (N, I), (N, H), (3H, I), (3H, H), (3H,), (3H,).
    """
    r, z, n, gh_n = np.split(gates, 4, axis=-1)
    grad_pre_n = tanh_backward(grad_output * (1.0 - z), n)
    grad_pre_r = sigmoid_backward(grad_pre_n * gh_n, r)
    grad_pre_z = sigmoid_backward(grad_output * (hx - n), z)
    grad_gi = np.concatenate([grad_pre_r, grad_pre_z, grad_pre_n], axis=-1)
    grad_gh = np.concatenate([grad_pre_r, grad_pre_z, grad_pre_n * r], axis=-1)
    grad_input, grad_hx, *grad_params = _affine_backward(grad_gi, grad_gh, input, hx, weight_ih, weight_hh)
    return (grad_input, grad_hx + grad_output * z, *grad_params)
