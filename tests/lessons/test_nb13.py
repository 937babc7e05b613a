"""Notebook 13's helpers (course_lib/lessons/nb13_sequences.py): the parameter formula against torch, the
spectral radius and forget-gate settings, the per-step gradient measure against autograd, the geometric fit, the
global norm against clip_grad_norm_, and the figures."""
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_lib.lessons import nb13_sequences as nb13


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("i, h, layers", [(3, 5, 1), (28, 16, 3)])
def test_parameter_count_is_torchs(kind, i, h, layers):
    theirs = sum(p.numel() for p in getattr(torch.nn, kind)(i, h, layers).parameters())
    assert nb13.parameter_count(kind, i, h, layers) == theirs


def test_spectral_radius_is_set():
    rnn = nb13.set_spectral_radius(nb13.torch_layer("RNN", 4, 6), 2.5)
    assert torch.linalg.eigvals(rnn.weight_hh_l0).abs().max().item() == pytest.approx(2.5, rel=1e-12)


def test_step_gradient_norms_read_a_batch_first_layer_the_same_way():
    seq_first = nb13.torch_layer("LSTM", 3, 4)
    batch_first = nb13.torch_layer("LSTM", 3, 4, batch_first=True)
    assert np.allclose(nb13.step_gradient_norms(seq_first, 7), nb13.step_gradient_norms(batch_first, 7), rtol=1e-12)


def test_step_gradient_norms_are_the_input_gradient_of_the_last_steps_sum():
    layer = nb13.torch_layer("GRU", 3, 4)
    norms = nb13.step_gradient_norms(layer, 6, batch=5, seed=2)
    x = torch.randn(6, 5, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64, requires_grad=True)
    out, _ = layer(x)
    (grad,) = torch.autograd.grad(out[-1].sum(), x)
    assert np.allclose(norms, [grad[t].norm().item() / 5 ** 0.5 for t in range(6)], rtol=1e-12)
    assert nb13.first_step_gradients(layer, [6])[6] == pytest.approx(nb13.step_gradient_norms(layer, 6)[0], rel=1e-12)


def test_geometric_factor_recovers_an_exact_rate_and_flags_a_poor_fit():
    factor, r2 = nb13.geometric_factor({t: 3.0 * 0.7 ** t for t in (5, 10, 20, 40)})
    assert factor == pytest.approx(0.7, rel=1e-12) and r2 == pytest.approx(1.0, abs=1e-12)
    assert nb13.geometric_factor({5: 1.0, 10: 0.1, 20: 1.0, 40: 0.1})[1] < 0.5


def test_global_norm_is_the_norm_clip_grad_norm_reports():
    layer = nb13.torch_layer("RNN", 3, 4)
    nb13.step_gradient_norms(layer, 5)                                   # fills the weights' .grad
    norm = nb13.global_norm([p.grad for p in layer.parameters()])
    assert torch.nn.utils.clip_grad_norm_(layer.parameters(), max_norm=1e9).item() == pytest.approx(norm, rel=1e-12)


def test_figures():
    assert isinstance(nb13.unrolled_figure(3), Figure)
    fig = nb13.gradient_view(length=10, radius=0.5, forget_bias=2.0, hidden_size=4)
    assert len(fig.axes[0].lines) == 2 and "step 1 gets" in fig.axes[0].get_title()


def test_training_curves_hold_every_trained_network():
    from course_lib import sequences
    curves = nb13.training_curves()
    assert set(curves) == set(sequences.SEQUENCE_NETS)
    assert len(nb13.rows_curves_figure(curves).axes[0].lines) == 3
    assert len(nb13.adding_figure(curves, sequences.ADDING_LENGTHS).axes) == len(sequences.ADDING_LENGTHS)


def test_adding_mse_is_the_mean_squared_error_of_the_nets_answers():
    from course_lib import data, sequences
    net = sequences.adding_net("rnn", hidden_size=4)
    x, y = data.adding_task(20, 6, seed=3)
    with torch.no_grad():
        answers = net(torch.from_numpy(x)).numpy()
    assert nb13.adding_mse(net, x, y) == pytest.approx(((answers - y) ** 2).mean(), rel=1e-12)


def test_read_strings_scores_digits_and_whole_strings():
    from course_lib import data, sequences
    torch.manual_seed(0)
    reader = sequences.digit_string_reader(length=2, hidden_size=8)
    strips, labels = data.digit_strings("validation", 5, length=2, seed=0)
    per_digit, whole, digits = nb13.read_strings(reader, strips, labels)
    assert digits.shape == labels.shape and per_digit == (digits == labels).mean()
    assert whole == (digits == labels).all(axis=1).mean() and whole <= per_digit
    fig = nb13.strings_figure(strips, labels, digits, n=3)
    assert len(fig.axes) == 3 and fig.axes[0].get_title().startswith("read: ")
