"""Bad input to the scratch RNN, LSTM and GRU, made the same way in torch.nn: sequences of the wrong rank or
width, initial states of the wrong shape or kind, and options the scratch layers do not build (torch computes
those: the scratch layer says it is not implemented here and what to do instead)."""
import numpy as np
import pytest
import torch

from bad_input_harness import Bad, assert_teaches
from course_lib import scratch


def zeros(*shape: int) -> np.ndarray:
    return np.zeros(shape)


def tzeros(*shape: int) -> torch.Tensor:
    return torch.zeros(shape, dtype=torch.float64)


def both(build, *args):
    """The mistake in scratch and in torch: ``build(nn)(*args)`` with NumPy zeros, or torch zeros of the same shapes."""
    def as_torch(a):
        return tuple(map(as_torch, a)) if isinstance(a, tuple) else torch.from_numpy(np.array(a))
    return (lambda: build(scratch)(*args)), (lambda: build(torch.nn).double()(*map(as_torch, args)))


def case(id, build, args, error, says) -> Bad:
    ours, theirs = both(build, *args)
    return Bad(id, ours, error, says=says, torch_does=theirs)


def lstm_backward_with(grad_c_n_shape):
    """An LSTM run forward on (L=2, N=2, 3), then sent a dL/dc_n of the wrong shape."""
    def ours():
        layer = scratch.LSTM(3, 4)
        out, (h_n, c_n) = layer(zeros(2, 2, 3))
        layer.backward(np.ones_like(out), None, zeros(*grad_c_n_shape))

    def theirs():
        out, (h_n, c_n) = torch.nn.LSTM(3, 4).double()(tzeros(2, 2, 3))
        torch.autograd.backward([out, c_n], [torch.ones_like(out), tzeros(*grad_c_n_shape)])
    return ours, theirs


CASES = [
    case("LSTM: a batch of images (N, C, H, W) is no sequence", lambda nn: nn.LSTM(28, 8), (zeros(2, 1, 28, 28),),
         ValueError, ("rank 3", "(L, N, input_size)", "(2, 1, 28, 28)", "row by row")),
    case("RNN: one vector (rank 1)", lambda nn: nn.RNN(3, 4), (zeros(3),), ValueError, ("rank 3", "(3,)")),
    case("GRU: 5 features per step where input_size=3", lambda nn: nn.GRU(3, 4), (zeros(2, 3, 5),), ValueError,
         ("input_size = 3", "(2, 3, 5)", "with 5")),
    case("RNN batch_first: (N, L, 5) where input_size=3", lambda nn: nn.RNN(3, 4, batch_first=True),
         (zeros(6, 2, 5),), ValueError, ("input_size = 3", "(N, L, input_size)", "batch_first=True")),
    case("RNN: a sequence of length 0", lambda nn: nn.RNN(3, 4), (zeros(0, 2, 3),), ValueError,
         ("L = 0", "one time step")),
    case("RNN: h_0 for another batch size", lambda nn: nn.RNN(3, 4), (zeros(2, 3, 3), zeros(1, 2, 4)), ValueError,
         ("h_0", "(1, 3, 4)", "(1, 2, 4)")),
    case("RNN batch_first: h_0 laid out batch first too", lambda nn: nn.RNN(3, 4, batch_first=True),
         (zeros(3, 2, 3), zeros(3, 1, 4)), ValueError, ("h_0", "(1, 3, 4)", "whatever batch_first says")),
    case("GRU 2 layers: h_0 with one layer", lambda nn: nn.GRU(3, 4, 2), (zeros(5, 2, 3), zeros(1, 2, 4)), ValueError,
         ("h_0", "(num_layers, N, hidden_size)", "(2, 2, 4)")),
    case("RNN: an unbatched sequence with a batched h_0", lambda nn: nn.RNN(3, 4), (zeros(5, 3), zeros(1, 1, 4)),
         ValueError, ("h_0", "(num_layers, hidden_size)", "unbatched", "(1, 4)")),
    case("LSTM: hx is h_0 alone", lambda nn: nn.LSTM(3, 4), (zeros(2, 3, 3), zeros(1, 3, 4)), TypeError,
         ("(h_0, c_0)", "cell state")),
    case("LSTM: c_0 of the wrong shape", lambda nn: nn.LSTM(3, 4), (zeros(2, 3, 3), (zeros(1, 3, 4), zeros(1, 2, 4))),
         ValueError, ("c_0", "(1, 3, 4)", "(1, 2, 4)")),
    case("GRU: hx is an LSTM's pair (h_0, c_0)", lambda nn: nn.GRU(3, 4),
         (zeros(2, 3, 3), (zeros(1, 3, 4), zeros(1, 3, 4))), TypeError, ("h_0", "only an LSTM")),
    Bad("RNN nonlinearity='sigmoid'", lambda: scratch.RNN(3, 4, nonlinearity="sigmoid"), ValueError,
        says=("'sigmoid'", "'tanh' or 'relu'"), torch_does=lambda: torch.nn.RNN(3, 4, nonlinearity="sigmoid")),
    Bad("LSTM hidden_size=0", lambda: scratch.LSTM(3, 0), ValueError, says=("hidden_size", "positive"),
        torch_does=lambda: torch.nn.LSTM(3, 0)),
    Bad("GRU num_layers=0", lambda: scratch.GRU(3, 4, 0), ValueError, says=("num_layers", "positive"),
        torch_does=lambda: torch.nn.GRU(3, 4, 0)),
    Bad("RNN dropout=1.5", lambda: scratch.RNN(3, 4, dropout=1.5), ValueError, says=("dropout", "[0, 1]"),
        torch_does=lambda: torch.nn.RNN(3, 4, dropout=1.5)),
    Bad("LSTM backward: dL/dc_n of the wrong shape", lstm_backward_with((1, 3, 4))[0], ValueError,
        says=("grad_c_n", "(1, 3, 4)", "(1, 2, 4)"), torch_does=lstm_backward_with((1, 3, 4))[1]),
    # torch computes these; the scratch layers do not build them and say what to do instead
    Bad("LSTM dropout=0.5 between layers (torch computes it)", lambda: scratch.LSTM(3, 4, 2, dropout=0.5),
        NotImplementedError, says=("dropout=0.5", "not implemented", "scratch.Dropout")),
    Bad("GRU bidirectional=True (torch computes it)", lambda: scratch.GRU(3, 4, bidirectional=True),
        NotImplementedError, says=("bidirectional", "not implemented", "input[::-1]")),
    Bad("LSTM proj_size=2 (torch computes it)", lambda: scratch.LSTM(3, 4, proj_size=2), NotImplementedError,
        says=("proj_size=2", "not implemented")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_a_bad_recurrent_input_is_refused_with_a_lesson(case):
    assert_teaches(case)


def test_the_options_refused_here_run_in_torch():
    """dropout between layers, bidirectional and proj_size are torch features the scratch layers leave out."""
    x = tzeros(5, 2, 3)
    assert torch.nn.LSTM(3, 4, 2, dropout=0.5).double()(x)[0].shape == (5, 2, 4)
    assert torch.nn.GRU(3, 4, bidirectional=True).double()(x)[0].shape == (5, 2, 8)
    assert torch.nn.LSTM(3, 4, proj_size=2).double()(x)[0].shape == (5, 2, 2)
