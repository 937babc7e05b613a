"""Notebook 13's sequence networks, their trained copies in data/sequence_nets.pt, and the LSTM's forget-gate bias.

A recurrent layer reads the sequence, and a linear layer reads its last hidden state (both backends, same names):

    rnn   RNN / LSTM / GRU(input_size, hidden_size, batch_first=True)   (N, L, input_size) -> (N, L, hidden_size)
    fc    Linear(hidden_size, outputs) on the last step's h_L            (N, hidden_size)   -> (N, outputs)

``sequence_classifier`` (the digits read row by row: L = 28 steps of 28 pixels, 10 classes) and ``adding_net``
(the adding problem, ``data.adding_task``: 2 inputs per step, one number out, (N,)) are this network.
``digit_string_reader`` (torch only) reads a strip of digits (``data.digit_strings``) and writes them one per step:
the shape of the decks' CNN + RNN that writes chest X-ray reports, a CNN encoder whose code starts an LSTM decoder.

Why a module of its own and not models.py: these networks need their own forward (a recurrent layer returns
(output, h_n), so they are not a Sequential) and a scratch twin with a written-out backward, like ``unet``; and
models.py already holds notebooks 01-11's builders. The loader uses models' weight-file machinery.
"""
from __future__ import annotations

import functools
import numbers
from collections import OrderedDict
from pathlib import Path
from typing import Optional, Union

import numpy as np

from . import data, models, scratch
from .scratch._checks import as_float_array

KINDS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}   # kind -> the layer's class name in torch.nn and scratch
START = 10                                             # the digit string reader's first input: "no digit yet"


def _check_kind(kind: str, where: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {tuple(KINDS)} (a plain RNN, an LSTM or a GRU), got {kind!r}.")
    return kind


def _check_forget_bias(forget_bias, kind: str, where: str) -> Optional[float]:
    """None (torch's initialisation) or a real number, and only for an LSTM (the one layer with a forget gate)."""
    if forget_bias is None:
        return None
    if isinstance(forget_bias, bool) or not isinstance(forget_bias, numbers.Real):
        raise TypeError(f"{where}: forget_bias is the forget gate's initial bias, a number such as 1.0 (or None for "
                        f"torch's initialisation), got {forget_bias!r}.")
    if kind != "lstm":
        raise ValueError(f"{where}: forget_bias={forget_bias} is for kind='lstm' only: a plain RNN has no gates and "
                         f"a GRU's gates are reset and update, not forget; leave forget_bias=None for kind={kind!r}.")
    return float(forget_bias)


def set_forget_bias(lstm, value: float) -> None:
    """Start every layer of an LSTM (torch or scratch) with forget-gate bias ``value``: bias_ih's forget block
    (rows H .. 2H-1, torch's gate order i, f, g, o) set to ``value`` and bias_hh's to 0, so their sum is ``value``.

    With torch's initialisation the forget gate starts near sigmoid(0) = 0.5, so the cell state's gradient is
    multiplied by about 0.5 per step and vanishes over tens of steps as a plain RNN's does; a bias of 1 (Jozefowicz
    et al. 2015; Gers et al. 2000) starts it at sigmoid(1) = 0.73, a bias of 3 at 0.95: remembering is the default.
    """
    hidden = lstm.hidden_size
    for k in range(lstm.num_layers):
        for name, fill in ((f"bias_ih_l{k}", value), (f"bias_hh_l{k}", 0.0)):
            p = getattr(lstm, name)
            if isinstance(p, scratch.Parameter):
                p.data[hidden:2 * hidden] = fill
            else:
                import torch

                with torch.no_grad():
                    p[hidden:2 * hidden] = fill


def check_sequences(x, input_size: int, where: str) -> None:
    """x must be (N, L, input_size) (batch first); images (N, 1, 28, 28) get told how to read them row by row."""
    shape = tuple(x.shape)
    if len(shape) == 4 and shape[1] == 1:
        raise ValueError(f"{where}: got images of shape {shape}; a sequence network reads (N, L, input_size). Read "
                         f"the digits row by row, 28 steps of 28 pixels: x[:, 0] (shape {(shape[0], *shape[2:])}).")
    if len(shape) != 3 or shape[-1] != input_size:
        raise ValueError(f"{where}: expected sequences (N, L, input_size) = (N, L, {input_size}), batch first, got "
                         f"shape {shape}.")


def _layers(nn, kind: str, input_size: int, hidden_size: int, outputs: int, num_layers: int, forget_bias):
    """The two submodules, rnn and fc, in namespace ``nn`` (scratch or torch.nn)."""
    rnn = getattr(nn, KINDS[kind])(input_size, hidden_size, num_layers, batch_first=True)
    if forget_bias is not None:
        set_forget_bias(rnn, forget_bias)
    return rnn, nn.Linear(hidden_size, outputs)


class ScratchSequenceNet(scratch.Module):
    """The sequence network of the module docstring in NumPy; backward sends the output's gradient into h_L only
    (the last step's output), and the recurrent layer's backpropagation through time takes it to every step."""

    def __init__(self, kind: str, input_size: int, hidden_size: int, outputs: int, num_layers: int = 1,
                 forget_bias: Optional[float] = None, regression: bool = False) -> None:
        super().__init__()
        self.kind, self.regression = kind, regression
        self.rnn, self.fc = _layers(scratch, kind, input_size, hidden_size, outputs, num_layers, forget_bias)

    def forward(self, x):
        x = as_float_array(x, "sequence network input")
        check_sequences(x, self.rnn.input_size, type(self).__name__)
        output, _ = self.rnn(x)
        self.save_for_backward(output.shape)
        y = self.fc(output[:, -1])
        return y[:, 0] if self.regression else y

    def backward(self, grad_output):
        output_shape, = self.take_saved(grad_output)
        grad_output = np.asarray(grad_output)
        grad_last = self.fc.backward(grad_output[:, None] if self.regression else grad_output)
        grad = np.zeros(output_shape, grad_last.dtype)
        grad[:, -1] = grad_last
        return self.rnn.backward(grad)[0]

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, regression={self.regression}"


@functools.lru_cache(maxsize=None)
def torch_sequence_net_class():
    """The torch ``SequenceNet`` class (made on first use, so that importing course_lib needs no torch)."""
    import torch

    class SequenceNet(torch.nn.Module):
        """The sequence network of course_lib.sequences' docstring in torch.nn; autograd does the backward."""

        def __init__(self, kind: str, input_size: int, hidden_size: int, outputs: int, num_layers: int = 1,
                     forget_bias: Optional[float] = None, regression: bool = False) -> None:
            super().__init__()
            self.kind, self.regression = kind, regression
            self.rnn, self.fc = _layers(torch.nn, kind, input_size, hidden_size, outputs, num_layers, forget_bias)

        def forward(self, x):
            check_sequences(x, self.rnn.input_size, type(self).__name__)
            output, _ = self.rnn(x)
            y = self.fc(output[:, -1])
            return y[:, 0] if self.regression else y

        def extra_repr(self) -> str:
            return f"kind={self.kind!r}, regression={self.regression}"

    return SequenceNet


def _sequence_net(where: str, kind: str, input_size, hidden_size, outputs, num_layers, forget_bias, regression,
                  backend: str):
    kind = _check_kind(kind, where)
    sizes = [models.check_size(where, name, value) for name, value in (
        ("input_size", input_size), ("hidden_size", hidden_size), ("num_classes", outputs),
        ("num_layers", num_layers))]
    forget_bias = _check_forget_bias(forget_bias, kind, where)
    models._check_backend(backend)
    build = ScratchSequenceNet if backend == "scratch" else torch_sequence_net_class()
    return build(kind, *sizes[:3], sizes[3], forget_bias, regression)


def sequence_classifier(kind: str = "lstm", input_size: int = 28, hidden_size: int = 64, num_classes: int = 10,
                        num_layers: int = 1, forget_bias: Optional[float] = None, backend: str = "torch"):
    """A recurrent layer reads the sequence (N, L, input_size); a linear layer turns its last hidden state into
    class scores (N, num_classes). For the digits read row by row (``data.digit_images(split)[0][:, 0]``: 28 steps
    of 28 pixels), the defaults.

    kind: "rnn" (tanh), "lstm" or "gru". forget_bias: an LSTM's initial forget-gate bias (``set_forget_bias``; None
    keeps torch's initialisation). state_dict keys rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0,
    rnn.bias_hh_l0, (more layers: _l1, ...), fc.weight, fc.bias in both backends ("torch", default, or "scratch").
    Parameters for the defaults: G (64 (28 + 64) + 128) + 650, G = 1, 4, 3: RNN 6,666, LSTM 24,714, GRU 18,698.
    """
    return _sequence_net("sequence_classifier", kind, input_size, hidden_size, num_classes, num_layers,
                         forget_bias, False, backend)


def adding_net(kind: str = "lstm", hidden_size: int = 32, forget_bias: Optional[float] = None,
               backend: str = "torch"):
    """The network of ``sequence_classifier`` for the adding problem (``data.adding_task``): 2 inputs per step
    (the value, the marker) and one number out, the predicted sum, shape (N,) (train it with MSELoss).

    Parameters for hidden_size 32: G (32 (2 + 32) + 64) + 33, G = 1, 4, 3: RNN 1,185, LSTM 4,641, GRU 3,489.
    """
    return _sequence_net("adding_net", kind, 2, hidden_size, 1, 1, forget_bias, True, backend)


# ------------------------------------------------------------------------------------------ CNN + RNN


def digit_string_reader(length: int = 4, hidden_size: int = 128, kind: str = "lstm", embedding: int = 16,
                        forget_bias: Optional[float] = 1.0):
    """A CNN reads a strip of ``length`` digits (N, 1, 28, 28 length) and an LSTM (or GRU) writes them, one digit
    per step: logits (N, 10, length), so CrossEntropyLoss takes the labels (N, length) as they are. Torch only.

        encoder  conv1 Conv2d(1, 16, 3, padding=1) + ReLU + MaxPool2d(2)   (N, 1, 28, 112)  -> (N, 16, 14, 56)
                 conv2 Conv2d(16, 32, 3, padding=1) + ReLU + MaxPool2d(2)                   -> (N, 32, 7, 28)
                 conv3 Conv2d(32, 32, 3, padding=1) + ReLU + MaxPool2d(2), flatten          -> (N, 32 * 3 * 14)
        start    Linear(32 * 3 * (28 length // 8), 2 hidden) the code -> the decoder's initial state: h_0 = tanh(first
                                                       half), c_0 = second half (a GRU: h_0 only)
        embed    Embedding(11, embedding)               the previous digit (START = 10 at the first step) -> a vector
        decoder  LSTMCell / GRUCell(embedding, hidden)  one step per digit
        out      Linear(hidden, 10)                     the step's digit scores

    The design is the X-ray report generator's (and Show and Tell's, Vinyals et al. 2015): the image is encoded
    once into a vector that starts the decoder, and the decoder writes one token per step, each step fed the token
    written before. Reading the CNN's feature columns as the RNN's input sequence instead would need as many
    outputs as columns (or CTC); this way the decoder decides when each digit is written, as a report's words are.

    forward(images, targets=None): with targets (N, length) the step after digit k is fed the true digit k (teacher
    forcing); without, the digit it wrote itself (greedy decoding), which is also how it is trained here, with
    ``training.fit`` (whose step calls model(x)): the model learns to read after its own mistakes, as at test time.
    ``predict(images)`` gives the digits (N, length). forget_bias: the LSTM cell's initial forget-gate bias.
    """
    length = models.check_size("digit_string_reader", "length", length, "the number of digits in a strip")
    hidden_size = models.check_size("digit_string_reader", "hidden_size", hidden_size)
    embedding = models.check_size("digit_string_reader", "embedding", embedding, "the size of a digit's vector")
    kind = _check_kind(kind, "digit_string_reader")
    if kind == "rnn":
        raise ValueError("digit_string_reader: kind must be 'lstm' or 'gru' (the decoder of an image-to-text "
                         "network is gated); got 'rnn'.")
    forget_bias = _check_forget_bias(forget_bias if kind == "lstm" else None, kind, "digit_string_reader")
    return torch_reader_class()(length, hidden_size, kind, embedding, forget_bias)


@functools.lru_cache(maxsize=None)
def torch_reader_class():
    """The torch ``DigitStringReader`` class (made on first use)."""
    import torch

    nn = torch.nn

    class DigitStringReader(nn.Module):
        """``digit_string_reader``'s network: a CNN encoder whose code starts a recurrent decoder."""

        def __init__(self, length: int, hidden_size: int, kind: str, embedding: int, forget_bias) -> None:
            super().__init__()
            self.length, self.kind, self.hidden_size = length, kind, hidden_size
            blocks = []
            for i, (c_in, c_out) in enumerate(((1, 16), (16, 32), (32, 32)), start=1):
                blocks += [(f"conv{i}", nn.Conv2d(c_in, c_out, 3, padding=1)), (f"relu{i}", nn.ReLU()),
                           (f"pool{i}", nn.MaxPool2d(2))]
            self.encoder = nn.Sequential(OrderedDict(blocks + [("flatten", nn.Flatten())]))
            states = 2 if kind == "lstm" else 1
            self.start = nn.Linear(32 * 3 * (28 * length // 8), states * hidden_size)
            self.embed = nn.Embedding(11, embedding)
            self.decoder = (nn.LSTMCell if kind == "lstm" else nn.GRUCell)(embedding, hidden_size)
            if forget_bias is not None:
                with torch.no_grad():
                    self.decoder.bias_ih[hidden_size:2 * hidden_size] = forget_bias
                    self.decoder.bias_hh[hidden_size:2 * hidden_size] = 0.0
            self.out = nn.Linear(hidden_size, 10)

        def _check(self, images) -> None:
            shape = tuple(images.shape)
            if len(shape) != 4 or shape[1:] != (1, 28, 28 * self.length):
                raise ValueError(f"DigitStringReader: expected strips of {self.length} digits, shape (N, 1, 28, "
                                 f"{28 * self.length}) (data.digit_strings(split, n, length={self.length})), got "
                                 f"shape {shape}.")

        def initial_state(self, images):
            """The encoder's code of each strip turned into the decoder's first state: h_0 (and c_0)."""
            start = self.start(self.encoder(images))
            if self.kind == "gru":
                return torch.tanh(start)
            h, c = start.chunk(2, dim=1)
            return torch.tanh(h), c

        def forward(self, images, targets=None):
            """images (N, 1, 28, 28 length) -> logits (N, 10, length); targets (N, length): teacher forcing."""
            self._check(images)
            state = self.initial_state(images)
            previous = torch.full((len(images),), START, dtype=torch.long, device=images.device)
            logits = []
            for k in range(self.length):
                state = self.decoder(self.embed(previous), state)
                scores = self.out(state[0] if self.kind == "lstm" else state)
                logits.append(scores)
                previous = scores.argmax(1) if targets is None else targets[:, k]
            return torch.stack(logits, dim=2)

        def predict(self, images):
            """The digits written by greedy decoding, (N, length) int64, in eval mode and without gradients."""
            self.eval()
            with torch.no_grad():
                return self(torch.as_tensor(images)).argmax(1)

        def extra_repr(self) -> str:
            return f"length={self.length}, kind={self.kind!r}"

    return DigitStringReader


# ------------------------------------------------------------------------------------------ the trained networks

SEQUENCE_NETS_PATH = data.DATA_DIR / "sequence_nets.pt"
SEQUENCE_NETS_SHA256 = "d9631a2793c3ca797e51dcaa82afeff6d9655d57f29a01b40f7d5329acc73b0f"
SEQUENCE_NETS_REBUILD_HELP = (
    "data/sequence_nets.pt ships with the course in git. Get it back with\n"
    "    git checkout data/sequence_nets.pt\n"
    "or rebuild it (CPU, about ten minutes, deterministic) with\n"
    "    python data/train_sequence_nets.py"
)
ADDING_LENGTHS = (10, 50, 100)

# name -> the builder call that makes it untrained (backend= for all but the reader, which is torch only); how each
# is trained: data/train_sequence_nets.py. The forget-gate biases were chosen there on validation data: 1 for the
# rows (0.972 against 0.967 with torch's initialisation), 3 for the adding problem (at T = 50: MSE 0.035 against
# 0.130 with bias 1, after 1,875 steps); the reader's 1 is Jozefowicz et al.'s default, not swept.
SEQUENCE_NETS = {
    "rows_rnn": functools.partial(sequence_classifier, "rnn"),
    "rows_lstm": functools.partial(sequence_classifier, "lstm", forget_bias=1.0),
    "rows_gru": functools.partial(sequence_classifier, "gru"),
    **{f"adding_{kind}_{length}": functools.partial(adding_net, kind, forget_bias=3.0 if kind == "lstm" else None)
       for length in ADDING_LENGTHS for kind in ("rnn", "lstm")},
    "reader": functools.partial(digit_string_reader),
}


def load_sequence_net(name: str, backend: str = "torch", path: Union[str, Path, None] = None,
                      expected_sha256: Optional[str] = SEQUENCE_NETS_SHA256):
    """One of notebook 13's trained networks from ``data/sequence_nets.pt``, its sha256 checked first.

    name: a key of SEQUENCE_NETS ("rows_rnn", "rows_lstm", "rows_gru", "adding_rnn_10" .. "adding_lstm_100",
    "reader"; how each was trained is in data/train_sequence_nets.py). backend="scratch" gives the NumPy mirror with
    the same weights (not for "reader", which is torch only).
    Raises FileNotFoundError (missing) or data.DataIntegrityError (other bytes), each saying how to get the file
    back; expected_sha256=None skips the check (for a file you have just rebuilt yourself).
    """
    if name not in SEQUENCE_NETS:
        raise ValueError(f"load_sequence_net: {name!r} is not one of the trained networks; they are "
                         f"{', '.join(SEQUENCE_NETS)}.")
    models._check_backend(backend)
    if name == "reader" and backend == "scratch":
        raise ValueError("load_sequence_net: 'reader' (the CNN + RNN) is built in torch only; use backend='torch'.")
    states = models._load_checked(Path(path or SEQUENCE_NETS_PATH), expected_sha256,
                                  "Notebook 13's trained networks", SEQUENCE_NETS_REBUILD_HELP)
    model = SEQUENCE_NETS[name]() if name == "reader" else SEQUENCE_NETS[name](backend=backend)
    model.load_state_dict(states[name])
    return model
