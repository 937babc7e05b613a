"""Bad input to the scratch layers, made the same way in torch.nn: where torch refuses, the scratch layer refuses
with a message that teaches; where torch computes, both compute and agree on the output's shape.

``LAYERS`` is the registry of every scratch layer that has a torch.nn twin. A layer added to course_lib.scratch
joins the sweep with one ``Layer(...)`` entry (``test_every_scratch_layer_is_in_the_registry`` fails until it
does): its constructor (the same call builds both, given ``course_lib.scratch`` or ``torch.nn``), one input it
accepts, the bad inputs torch refuses, and the odd inputs torch computes anyway.
"""
from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
import torch

from bad_input_harness import Bad, assert_teaches
from course_lib import scratch

Args = tuple  # the arguments of one forward call: NumPy arrays (turned into float64/int64 tensors for torch)


def zeros(*shape: int) -> np.ndarray:
    return np.zeros(shape)


def labels(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


@dataclass(frozen=True)
class Refused:
    """One input that torch refuses: the scratch layer must refuse it too, with these words in its message."""
    what: str
    args: Args
    error: type[BaseException]
    says: tuple[str, ...]


@dataclass(frozen=True)
class Layer:
    """A scratch layer and its torch.nn twin, built by the same call: ``build(course_lib.scratch)`` and
    ``build(torch.nn)``. ``good`` is one input both accept; ``refused`` are inputs torch refuses; ``computes``
    are odd inputs (empty batch, NaN, an unbatched image) that torch computes, where scratch must compute too."""
    name: str
    build: Callable
    good: Args
    refused: tuple[Refused, ...] = ()
    computes: tuple[tuple[str, Args], ...] = field(default=())


NAN_ROW = np.array([[np.nan, 0.0, 1.0]])

LAYERS: tuple[Layer, ...] = (
    Layer("Linear", lambda nn: nn.Linear(3, 2), (zeros(4, 3),),
          (Refused("features", (zeros(4, 5),), ValueError, ("3 input features", "(4, 5)", "in_features")),),
          (("empty batch", (zeros(0, 3),)), ("NaN", (NAN_ROW,)))),
    Layer("Flatten", lambda nn: nn.Flatten(), (zeros(2, 1, 3, 3),),
          (Refused("one vector", (zeros(3),), IndexError, ("start_dim=1", "(3,)", "x[None]")),),
          (("empty batch", (zeros(0, 1, 3, 3),)),)),
    Layer("Conv2d", lambda nn: nn.Conv2d(2, 3, 3), (zeros(2, 2, 5, 5),),
          (Refused("channels", (zeros(2, 3, 5, 5),), ValueError, ("3 channels", "C_in = 2")),
           Refused("smaller than the kernel", (zeros(1, 2, 2, 2),), ValueError, ("3 pixels", "does not fit")),
           Refused("rank 5", (zeros(1, 1, 2, 5, 5),), ValueError, ("(N, C, H, W)", "rank 5", "reshape"))),
          (("empty batch", (zeros(0, 2, 5, 5),)),)),
    Layer("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(2, 3, 3), (zeros(2, 2, 4, 4),),
          (Refused("channels", (zeros(2, 3, 4, 4),), ValueError, ("3 channels", "C_in = 2")),
           Refused("rank 2", (zeros(4, 4),), ValueError, ("(N, C, H, W)", "x[None, None]"))),
          (("empty batch", (zeros(0, 2, 4, 4),)),)),
    Layer("MaxPool2d", lambda nn: nn.MaxPool2d(2), (zeros(2, 2, 4, 4),),
          (Refused("rank 2", (zeros(4, 4),), ValueError, ("(N, C, H, W)", "x[None, None]")),
           Refused("smaller than the window", (zeros(1, 1, 1, 1),), ValueError, ("2-pixel window", "does not fit"))),
          (("empty batch", (zeros(0, 2, 4, 4),)), ("unbatched (C, H, W)", (zeros(2, 4, 4),)))),
    Layer("AvgPool2d", lambda nn: nn.AvgPool2d(2), (zeros(2, 2, 4, 4),),
          (Refused("rank 2", (zeros(4, 4),), ValueError, ("(N, C, H, W)", "x[None, None]")),
           Refused("smaller than the window", (zeros(1, 1, 1, 1),), ValueError, ("2-pixel window", "does not fit"))),
          (("empty batch", (zeros(0, 2, 4, 4),)), ("unbatched (C, H, W)", (zeros(2, 4, 4),)))),
    Layer("LPPool2d", lambda nn: nn.LPPool2d(2, 2), (zeros(2, 2, 4, 4),),
          (Refused("smaller than the window", (zeros(1, 1, 1, 1),), ValueError, ("2-pixel window", "does not fit")),),
          (("empty batch", (zeros(0, 2, 4, 4),)), ("unbatched (C, H, W)", (zeros(2, 4, 4),)))),
    Layer("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d(2), (zeros(2, 2, 4, 4),),
          (Refused("rank 5", (zeros(1, 1, 2, 4, 4),), ValueError, ("(N, C, H, W)", "rank 5")),),
          (("empty batch", (zeros(0, 2, 4, 4),)), ("unbatched (C, H, W)", (zeros(2, 4, 4),)))),
    Layer("Unflatten", lambda nn: nn.Unflatten(1, (2, 3)), (zeros(4, 6),),
          (Refused("sizes do not multiply up", (zeros(4, 5),), ValueError, ("(2, 3)", "multiply up", "5")),
           Refused("dim out of range", (zeros(6),), IndexError, ("dim=1", "(6,)"))),
          (("empty batch", (zeros(0, 6),)),)),
    Layer("Upsample", lambda nn: nn.Upsample(scale_factor=2), (zeros(2, 2, 3, 3),),
          (Refused("rank 2", (zeros(4, 4),), ValueError, ("(N, C, H, W)", "x[None, None]")),),
          (("empty batch", (zeros(0, 2, 3, 3),)),)),
    Layer("ReLU", lambda nn: nn.ReLU(), (zeros(2, 3),), (), (("empty batch", (zeros(0, 3),)), ("NaN", (NAN_ROW,)))),
    Layer("LeakyReLU", lambda nn: nn.LeakyReLU(0.1), (zeros(2, 3),), (), (("empty batch", (zeros(0, 3),)),)),
    Layer("Sigmoid", lambda nn: nn.Sigmoid(), (zeros(2, 3),), (), (("empty batch", (zeros(0, 3),)),)),
    Layer("Tanh", lambda nn: nn.Tanh(), (zeros(2, 3),), (), (("NaN", (NAN_ROW,)),)),
    Layer("Dropout", lambda nn: nn.Dropout(0.5), (zeros(2, 3),), (), (("empty batch", (zeros(0, 3),)),)),
    Layer("BatchNorm1d", lambda nn: nn.BatchNorm1d(3), (zeros(4, 3),),
          (Refused("features", (zeros(4, 5),), ValueError, ("3 channels", "(4, 5)", "num_features")),
           Refused("one vector", (zeros(3),), ValueError, ("rank 2 or 3", "(3,)", "x[None]"))),
          (("NaN", (np.vstack([NAN_ROW, NAN_ROW]),)),)),
    Layer("BatchNorm2d", lambda nn: nn.BatchNorm2d(3), (zeros(2, 3, 4, 4),),
          (Refused("one image (C, H, W)", (zeros(3, 4, 4),), ValueError, ("(N, C, H, W)", "x[None]")),
           Refused("features (N, C)", (zeros(8, 3),), ValueError, ("(8, 3)", "BatchNorm1d"))),
          ()),
    Layer("RNN", lambda nn: nn.RNN(3, 4), (zeros(5, 2, 3),),
          (Refused("features", (zeros(5, 2, 6),), ValueError, ("input_size = 3", "(5, 2, 6)")),),
          (("empty batch", (zeros(5, 0, 3),)), ("unbatched (L, input_size)", (zeros(5, 3),)))),
    Layer("LSTM", lambda nn: nn.LSTM(3, 4, 2), (zeros(5, 2, 3),),
          (Refused("features", (zeros(5, 2, 6),), ValueError, ("input_size = 3", "(5, 2, 6)")),),
          (("empty batch", (zeros(5, 0, 3),)), ("unbatched (L, input_size)", (zeros(5, 3),)))),
    Layer("GRU", lambda nn: nn.GRU(3, 4, batch_first=True), (zeros(2, 5, 3),),
          (Refused("features", (zeros(2, 5, 6),), ValueError, ("input_size = 3", "(2, 5, 6)")),),
          (("empty batch", (zeros(0, 5, 3),)), ("unbatched (L, input_size)", (zeros(5, 3),)))),
    Layer("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(), (zeros(2, 3), labels(0, 2)),
          (Refused("label out of range", (zeros(2, 3), labels(0, 3)), ValueError, ("0..2", "target[1] = 3")),
           Refused("float labels", (zeros(2, 3), np.array([0.0, 2.0])), TypeError,
                   ("integer class indices", "float64"))),
          ()),
    Layer("MSELoss", lambda nn: nn.MSELoss(), (zeros(4, 2), zeros(4, 2)),
          (Refused("target shape", (zeros(4, 3), zeros(4, 2)), ValueError, ("(4, 3)", "(4, 2)", "no broadcasting")),),
          (("NaN", (NAN_ROW, zeros(1, 3))),)),
    Layer("BCEWithLogitsLoss", lambda nn: nn.BCEWithLogitsLoss(), (zeros(3), np.array([0.0, 1.0, 1.0])),
          (Refused("target shape", (zeros(3, 1), np.array([0.0, 1.0, 1.0])), ValueError, ("(3, 1)", "(3,)")),),
          ()),
)


def to_torch(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(a))


def scratch_call(layer: Layer, args: Args):
    return layer.build(scratch)(*args)


def torch_call(layer: Layer, args: Args):
    module = layer.build(torch.nn).double()
    return module(*map(to_torch, args))


def sweep_cases() -> list:
    return [Bad(f"{layer.name}: {bad.what}", lambda layer=layer, bad=bad: scratch_call(layer, bad.args), bad.error,
                says=bad.says, torch_does=lambda layer=layer, bad=bad: torch_call(layer, bad.args)).param()
            for layer in LAYERS for bad in layer.refused]


@pytest.mark.parametrize("case", sweep_cases())
def test_a_bad_input_that_torch_refuses_is_refused_with_a_lesson(case):
    assert_teaches(case)


@pytest.mark.parametrize("layer, args", [pytest.param(layer, args, id=f"{layer.name}: {what}")
                                         for layer in LAYERS for what, args in (("good", layer.good), *layer.computes)])
def test_an_input_that_torch_computes_is_computed_with_the_same_shape(layer, args):
    ours, theirs = scratch_call(layer, args), torch_call(layer, args)
    assert shapes(ours) == shapes(theirs)


def shapes(result) -> tuple:
    """A result's shape; for a recurrent layer's (output, h_n) or (output, (h_n, c_n)) the shapes nested alike."""
    return tuple(map(shapes, result)) if isinstance(result, tuple) else tuple(np.shape(result))


def test_every_scratch_layer_is_in_the_registry():
    """A new scratch layer with a torch.nn twin must join LAYERS (and so the sweep) in the issue that adds it."""
    layers = {name for name, obj in vars(scratch).items()
              if inspect.isclass(obj) and issubclass(obj, scratch.Module) and hasattr(torch.nn, name)}
    assert layers - {"Module", "Sequential"} <= {layer.name for layer in LAYERS}


# ---------------------------------------------------------------- constructors: the same arguments in both


def torch_strict(call: Callable) -> Callable:
    """The torch mistake with its warnings turned into errors: for where torch only warns (a zero-size weight,
    a broadcast target) and the scratch layer refuses."""
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return call()
    return run


def built_and_run(build: Callable, *shape: int) -> Callable:
    """torch checks many options only when the layer runs: build it with torch.nn and feed it zeros of ``shape``."""
    return lambda: build(torch.nn).double()(torch.zeros(shape, dtype=torch.float64))


def constructor(id: str, build: Callable, error, says, torch_shape: tuple | None = None, strict: bool = False) -> Bad:
    """A bad constructor argument: scratch refuses at construction; torch at construction, or when it runs on
    an input of ``torch_shape``, or (``strict``) only warns."""
    if torch_shape is not None:
        torch_does = built_and_run(build, *torch_shape)
    else:
        torch_does = lambda: build(torch.nn)  # noqa: E731
    return Bad(id, lambda: build(scratch), error, says=says,
               torch_does=torch_strict(torch_does) if strict else torch_does)


CONSTRUCTORS = [
    constructor("Linear(-1, 2)", lambda nn: nn.Linear(-1, 2), ValueError, ("in_features", "-1", "positive")),
    constructor("Linear(2.5, 2)", lambda nn: nn.Linear(2.5, 2), TypeError, ("in_features", "2.5", "whole number")),
    constructor("Linear(3, 0): torch warns", lambda nn: nn.Linear(3, 0), ValueError, ("out_features", "positive"),
                strict=True),
    constructor("Conv2d(2.0, 3, 3)", lambda nn: nn.Conv2d(2.0, 3, 3), TypeError, ("in_channels", "2.0", "int(")),
    constructor("Conv2d kernel_size=0", lambda nn: nn.Conv2d(1, 3, 0), ValueError, ("kernel_size", "positive"),
                torch_shape=(1, 1, 4, 4)),
    constructor("ConvTranspose2d(4, 0, 3)", lambda nn: nn.ConvTranspose2d(4, 0, 3), ValueError,
                ("out_channels", "positive", "0"), strict=True),
    constructor("ConvTranspose2d(0, 4, 3)", lambda nn: nn.ConvTranspose2d(0, 4, 3), ValueError,
                ("in_channels", "positive"), strict=True),
    constructor("ConvTranspose2d output_padding=1, stride=1", lambda nn: nn.ConvTranspose2d(2, 2, 3, output_padding=1),
                ValueError, ("output_padding (1)", "stride (1)", "smaller"), torch_shape=(1, 2, 4, 4)),
    constructor("ConvTranspose2d stride=0", lambda nn: nn.ConvTranspose2d(2, 2, 3, stride=0), ValueError,
                ("stride", "positive", "0"), torch_shape=(1, 2, 4, 4)),
    constructor("ConvTranspose2d padding=-1", lambda nn: nn.ConvTranspose2d(2, 2, 3, padding=-1), ValueError,
                ("padding", ">= 0", "-1"), torch_shape=(1, 2, 4, 4)),
    constructor("MaxPool2d kernel_size=0", lambda nn: nn.MaxPool2d(0), ValueError, ("kernel_size", "positive"),
                torch_shape=(1, 1, 4, 4)),
    constructor("MaxPool2d padding > kernel/2", lambda nn: nn.MaxPool2d(2, padding=2), ValueError,
                ("padding (2)", "half the kernel size (2)", "padding <= 1"), torch_shape=(1, 1, 4, 4)),
    constructor("AvgPool2d stride=0", lambda nn: nn.AvgPool2d(2, stride=0), ValueError, ("stride", "positive"),
                torch_shape=(1, 1, 4, 4)),
    constructor("AvgPool2d padding > kernel/2", lambda nn: nn.AvgPool2d(3, padding=2), ValueError,
                ("padding (2)", "half the kernel size (3)"), torch_shape=(1, 1, 4, 4)),
    constructor("LPPool2d(0, 2)", lambda nn: nn.LPPool2d(0, 2), ValueError, ("norm_type", "non-zero", "0"),
                torch_shape=(1, 1, 4, 4)),
    constructor("LeakyReLU('0.1')", lambda nn: nn.LeakyReLU("0.1"), TypeError, ("negative_slope", "'0.1'", "number"),
                torch_shape=(2, 3)),
    constructor("LeakyReLU(None)", lambda nn: nn.LeakyReLU(None), TypeError, ("negative_slope", "None"),
                torch_shape=(2, 3)),
    constructor("BatchNorm1d(2.5)", lambda nn: nn.BatchNorm1d(2.5), TypeError, ("num_features", "2.5")),
    constructor("BatchNorm1d eps=0", lambda nn: nn.BatchNorm1d(3, eps=0), ValueError, ("eps=0", "positive", "1e-5"),
                torch_shape=(4, 3)),
    constructor("BatchNorm2d eps=-1e-5", lambda nn: nn.BatchNorm2d(3, eps=-1e-5), ValueError, ("eps", "positive"),
                torch_shape=(2, 3, 2, 2)),
    constructor("CrossEntropyLoss reduction='avg'", lambda nn: nn.CrossEntropyLoss(reduction="avg"), ValueError,
                ("reduction", "'avg'", "'mean' or 'sum'"), torch_shape=(2, 3)),
]


@pytest.mark.parametrize("case", [c.param() for c in CONSTRUCTORS])
def test_a_bad_constructor_argument_is_refused_with_a_lesson(case):
    assert_teaches(case)


# ---------------------------------------------------------------- one-off mistakes: shapes the hint must read


def _torch_conv(in_channels: int, *shape: int):
    return lambda: torch.nn.Conv2d(in_channels, 2, 3).double()(torch.zeros(shape, dtype=torch.float64))


MISTAKES = [
    Bad("Conv2d(1, ...): a (4, 28, 28) batch of grey digits needs x[:, None]",
        lambda: scratch.Conv2d(1, 2, 3)(zeros(4, 28, 28)), ValueError,
        says=("(4, 28, 28)", "x[:, None]", "(4, 1, 28, 28)"), torch_does=_torch_conv(1, 4, 28, 28)),
    Bad("Conv2d(3, ...): a (4, 28, 28) batch fits neither x[None] nor x[:, None]",
        lambda: scratch.Conv2d(3, 2, 3)(zeros(4, 28, 28)), ValueError,
        says=("C = 3 channels", "4 channels", "x[None] would not help"), torch_does=_torch_conv(3, 4, 28, 28)),
    Bad("BatchNorm2d(1): a (4, 5, 5) batch without its channel axis needs x[:, None]",
        lambda: scratch.BatchNorm2d(1)(zeros(4, 5, 5)), ValueError, says=("(4, 5, 5)", "x[:, None]"),
        torch_does=lambda: torch.nn.BatchNorm2d(1)(torch.zeros(4, 5, 5))),
    Bad("MSELoss: (N, 1) predictions against (N,) targets would broadcast to (N, N)",
        lambda: scratch.MSELoss()(zeros(4, 1), zeros(4)), ValueError, says=("(4, 1)", "(4,)", "no broadcasting"),
        torch_does=torch_strict(lambda: torch.nn.MSELoss()(torch.zeros(4, 1), torch.zeros(4)))),
    # where torch computes a number that means nothing, the scratch loss refuses (a documented difference)
    Bad("BCEWithLogitsLoss: a target of 2 is no probability (torch computes a loss anyway)",
        lambda: scratch.BCEWithLogitsLoss()(zeros(3), np.array([0.0, 1.0, 2.0])), ValueError,
        says=("[0, 1]", "target[2] = 2", "CrossEntropyLoss")),
    Bad("BCEWithLogitsLoss: -1/+1 labels (torch computes a loss anyway)",
        lambda: scratch.BCEWithLogitsLoss()(zeros(2), np.array([-1.0, 1.0])), ValueError,
        says=("[0, 1]", "target[0] = -1", "(t + 1) / 2")),
    Bad("CrossEntropyLoss: an empty batch (torch returns nan)",
        lambda: scratch.CrossEntropyLoss()(zeros(0, 3), labels()), ValueError, says=("empty", "(0, 3)", "nan")),
    Bad("LPPool2d(inf, 2): max pooling of |x| (torch computes it; here: use MaxPool2d)",
        lambda: scratch.LPPool2d(float("inf"), 2), ValueError, says=("norm_type=inf", "MaxPool2d", "np.abs(x)")),
    Bad("Flatten: a torch tensor", lambda: scratch.Flatten()(torch.zeros(2, 3)), TypeError,
        says=("torch tensor", ".numpy()")),
]


@pytest.mark.parametrize("case", [c.param() for c in MISTAKES])
def test_a_shape_mistake_gets_the_fix_that_fits_the_shape(case):
    assert_teaches(case)


def test_an_unbatched_image_pools_and_backpropagates_like_a_batch_of_one():
    """torch's pooling layers take one (C, H, W) image; so do the scratch ones, forward and backward."""
    x = np.random.default_rng(0).standard_normal((2, 4, 4))
    for layer in (scratch.MaxPool2d(2), scratch.AvgPool2d(2), scratch.LPPool2d(2, 2), scratch.AdaptiveAvgPool2d(1)):
        y = layer(x)
        grad = layer.backward(np.ones_like(y))
        y_batch = layer(x[None])
        assert np.allclose(y, y_batch[0]) and np.allclose(grad, layer.backward(np.ones_like(y_batch))[0])
