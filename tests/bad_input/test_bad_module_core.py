"""Bad input to the scratch Module core: the backward pass, parameter assignment, input dtypes, state_dict.

One place checks each of these for every layer (``Module.take_saved``, ``Module.__setattr__``,
``_checks.as_float_array``), so a case here on a few layers stands for all of them.
"""
import numpy as np
import pytest
import torch

from bad_input_harness import Bad, assert_teaches
from course_lib import scratch

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 10))
IMAGES = RNG.standard_normal((2, 1, 6, 6))
LABELS = np.array([0, 1, 2, 1])


def forwarded(layer, x):
    """The layer after one forward pass, and its output."""
    return layer, layer(x)


def backward_twice(layer, x):
    layer, y = forwarded(layer, x)
    layer.backward(np.ones_like(y))
    layer.backward(np.ones_like(y))


def torch_backward_twice(layer, x):
    y = layer(torch.as_tensor(x).requires_grad_()).sum()
    y.backward()
    y.backward()


def backward_with(layer, x, grad):
    layer(x)
    return layer.backward(grad)


def torch_backward_with(layer, x, grad):
    layer(torch.as_tensor(x).requires_grad_()).backward(torch.as_tensor(grad))


def loss_backward_twice():
    loss = scratch.CrossEntropyLoss()
    loss(X, LABELS)
    loss.backward()
    loss.backward()


def torch_loss_backward_twice():
    loss = torch.nn.CrossEntropyLoss()(torch.as_tensor(X).requires_grad_(), torch.as_tensor(LABELS))
    loss.backward()
    loss.backward()


def assign(obj, name, value):
    setattr(obj, name, value)


def seq():
    return scratch.Sequential(scratch.Linear(10, 3), scratch.ReLU(), scratch.Linear(3, 2))


def torch_seq():
    return torch.nn.Sequential(torch.nn.Linear(10, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)).double()


TWICE = ("second time", "forward again")
SHAPE = ("grad_output has shape", "must be equal")

CASES = [
    # ------------------------------------------------------------------ backward twice after one forward
    Bad("Linear: backward twice after one forward (the weight gradient would double)",
        lambda: backward_twice(scratch.Linear(10, 3), X), RuntimeError, TWICE,
        torch_does=lambda: torch_backward_twice(torch.nn.Linear(10, 3).double(), X)),
    Bad("ReLU: backward twice", lambda: backward_twice(scratch.ReLU(), X), RuntimeError, TWICE,
        torch_does=lambda: torch_backward_twice(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Sigmoid()), X)),
    Bad("Conv2d: backward twice", lambda: backward_twice(scratch.Conv2d(1, 2, 3), IMAGES), RuntimeError, TWICE,
        torch_does=lambda: torch_backward_twice(torch.nn.Conv2d(1, 2, 3).double(), IMAGES)),
    Bad("BatchNorm1d: backward twice", lambda: backward_twice(scratch.BatchNorm1d(10), X), RuntimeError, TWICE,
        torch_does=lambda: torch_backward_twice(torch.nn.BatchNorm1d(10).double(), X)),
    Bad("Sequential: backward twice", lambda: backward_twice(seq(), X), RuntimeError, TWICE,
        torch_does=lambda: torch_backward_twice(torch_seq(), X)),
    Bad("CrossEntropyLoss: backward twice", loss_backward_twice, RuntimeError, ("CrossEntropyLoss", *TWICE),
        torch_does=torch_loss_backward_twice),
    Bad("Linear: backward before any forward", lambda: scratch.Linear(10, 3).backward(np.ones((4, 3))),
        RuntimeError, ("before forward", "forward pass first")),
    # ------------------------------------------------------------------ grad_output of the wrong shape
    Bad("Linear: grad_output transposed, (3, 4) for a (4, 3) output",
        lambda: backward_with(scratch.Linear(10, 3), X, np.ones((3, 4))), ValueError, (*SHAPE, "(3, 4)", "(4, 3)"),
        torch_does=lambda: torch_backward_with(torch.nn.Linear(10, 3).double(), X, np.ones((3, 4)))),
    Bad("ReLU: grad_output (10,) would broadcast over a (4, 10) output",
        lambda: backward_with(scratch.ReLU(), X, np.ones(10)), ValueError, (*SHAPE, "(10,)", "(4, 10)"),
        torch_does=lambda: torch_backward_with(torch.nn.Sigmoid(), X, np.ones(10))),
    Bad("Sigmoid: grad_output with one row too many",
        lambda: backward_with(scratch.Sigmoid(), X, np.ones((5, 10))), ValueError, SHAPE,
        torch_does=lambda: torch_backward_with(torch.nn.Sigmoid(), X, np.ones((5, 10)))),
    Bad("Flatten: grad_output of the right size but the wrong shape (would be reshaped silently)",
        lambda: backward_with(scratch.Flatten(), IMAGES, np.ones((2, 6, 6))), ValueError, (*SHAPE, "(2, 36)"),
        torch_does=lambda: torch_backward_with(torch.nn.Flatten(), IMAGES, np.ones((2, 6, 6)))),
    Bad("Conv2d: grad_output without its channel axis",
        lambda: backward_with(scratch.Conv2d(1, 1, 3), IMAGES, np.ones((2, 4, 4))), ValueError,
        (*SHAPE, "(2, 1, 4, 4)"),
        torch_does=lambda: torch_backward_with(torch.nn.Conv2d(1, 1, 3).double(), IMAGES, np.ones((2, 4, 4)))),
    Bad("MaxPool2d: grad_output the shape of the input, not the output",
        lambda: backward_with(scratch.MaxPool2d(2), IMAGES, np.ones_like(IMAGES)), ValueError,
        (*SHAPE, "(2, 1, 3, 3)"),
        torch_does=lambda: torch_backward_with(torch.nn.MaxPool2d(2), IMAGES, np.ones_like(IMAGES))),
    Bad("BatchNorm2d: grad_output for another channel count",
        lambda: backward_with(scratch.BatchNorm2d(1), IMAGES, np.ones((2, 2, 6, 6))), ValueError, SHAPE,
        torch_does=lambda: torch_backward_with(torch.nn.BatchNorm2d(1).double(), IMAGES, np.ones((2, 2, 6, 6)))),
    Bad("Dropout: grad_output of another batch",
        lambda: backward_with(scratch.Dropout(0.5), X, np.ones((2, 10))), ValueError, SHAPE,
        torch_does=lambda: torch_backward_with(torch.nn.Dropout(0.5), X, np.ones((2, 10)))),
    Bad("Sequential: grad_output of the wrong shape is caught by its last layer",
        lambda: backward_with(seq(), X, np.ones((4, 3))), ValueError, ("Linear.backward", *SHAPE, "(4, 2)"),
        torch_does=lambda: torch_backward_with(torch_seq(), X, np.ones((4, 3)))),
    Bad("CrossEntropyLoss: an array grad_output for a scalar loss",
        lambda: (lambda loss: (loss(X, LABELS), loss.backward(np.ones(4))))(scratch.CrossEntropyLoss()),
        ValueError, (*SHAPE, "()"),
        torch_does=lambda: torch.nn.CrossEntropyLoss()(torch.as_tensor(X).requires_grad_(),
                                                       torch.as_tensor(LABELS)).backward(torch.ones(4))),
    Bad("ReLU: grad_output of strings", lambda: backward_with(scratch.ReLU(), X, np.full((4, 10), "1")), TypeError,
        ("grad_output", "numeric")),
    # ------------------------------------------------------------------ replacing a Parameter by an array
    Bad("Linear: weight = np.zeros(...) (the optimiser would keep updating the old Parameter)",
        lambda: assign(scratch.Linear(10, 3), "weight", np.zeros((3, 10))), TypeError,
        ("cannot assign", "ndarray", "parameter 'weight'", "weight.data ="),
        torch_does=lambda: assign(torch.nn.Linear(10, 3), "weight", torch.zeros(3, 10))),
    Bad("Conv2d: bias = a list", lambda: assign(scratch.Conv2d(1, 2, 3), "bias", [0.0, 0.0]), TypeError,
        ("cannot assign", "list", "parameter 'bias'", "bias.data"),
        torch_does=lambda: assign(torch.nn.Conv2d(1, 2, 3), "bias", [0.0, 0.0])),
    Bad("BatchNorm1d: weight = a float", lambda: assign(scratch.BatchNorm1d(3), "weight", 1.0), TypeError,
        ("cannot assign", "float", "parameter 'weight'"),
        torch_does=lambda: assign(torch.nn.BatchNorm1d(3), "weight", 1.0)),
    Bad("Sequential: a child layer replaced by a NumPy function",
        lambda: assign(seq(), "1", np.tanh), TypeError, ("cannot assign", "child module '1'", "Module"),
        torch_does=lambda: assign(torch_seq(), "1", torch.tanh)),
    # ------------------------------------------------------------------ integer, boolean, object and torch input
    Bad("Linear: uint8 images (0..255)", lambda: scratch.Linear(4, 2)(np.zeros((3, 4), np.uint8)), TypeError,
        ("Linear input", "uint8", "/ 255"),
        torch_does=lambda: torch.nn.Linear(4, 2)(torch.zeros(3, 4, dtype=torch.uint8))),
    Bad("Conv2d: uint8 images", lambda: scratch.Conv2d(1, 2, 3)(np.zeros((2, 1, 6, 6), np.uint8)), TypeError,
        ("Conv2d input", "uint8", "astype"),
        torch_does=lambda: torch.nn.Conv2d(1, 2, 3)(torch.zeros(2, 1, 6, 6, dtype=torch.uint8))),
    Bad("BatchNorm1d: int64 features", lambda: scratch.BatchNorm1d(2)(np.zeros((3, 2), np.int64)), TypeError,
        ("BatchNorm1d input", "int64", "astype(np.float64)"),
        torch_does=lambda: torch.nn.BatchNorm1d(2)(torch.zeros(3, 2, dtype=torch.long))),
    Bad("AvgPool2d: uint8 images", lambda: scratch.AvgPool2d(2)(np.zeros((1, 1, 4, 4), np.uint8)), TypeError,
        ("AvgPool2d input", "uint8"),
        torch_does=lambda: torch.nn.AvgPool2d(2)(torch.zeros(1, 1, 4, 4, dtype=torch.uint8))),
    Bad("LeakyReLU: int64 input", lambda: scratch.LeakyReLU()(np.array([-1, 2])), TypeError, ("int64", "astype"),
        torch_does=lambda: torch.nn.LeakyReLU()(torch.tensor([-1, 2]))),
    Bad("Linear: a boolean mask as input", lambda: scratch.Linear(4, 2)(np.ones((3, 4), bool)), TypeError,
        ("bool", "astype"),
        torch_does=lambda: torch.nn.Linear(4, 2)(torch.ones(3, 4, dtype=torch.bool))),
    Bad("ReLU: an array of strings", lambda: scratch.ReLU()(np.array(["0.5", "1"])), TypeError,
        ("ReLU input", "floats")),
    Bad("Linear: a torch tensor into a scratch layer", lambda: scratch.Linear(4, 2)(torch.zeros(3, 4)), TypeError,
        ("torch tensor", ".numpy()", "backend='torch'")),
    Bad("Conv2d: a CUDA-style torch tensor (requires_grad) into a scratch layer",
        lambda: scratch.Conv2d(1, 1, 3)(torch.zeros(1, 1, 5, 5, requires_grad=True)), TypeError,
        ("Conv2d input", "torch tensor", "detach()")),
    # ------------------------------------------------------------------ the scratch generator
    Bad("manual_seed: a string", lambda: scratch.manual_seed("0"), ValueError, ("manual_seed", "'0'", "integer"),
        torch_does=lambda: torch.manual_seed("x")),
    Bad("manual_seed: a negative seed (NumPy refuses it; torch wraps it)", lambda: scratch.manual_seed(-1),
        ValueError, ("manual_seed", "-1", "non-negative")),
    Bad("manual_seed: a fraction (torch would truncate it silently)", lambda: scratch.manual_seed(1.5), ValueError,
        ("manual_seed", "1.5", "whole number")),
    # ------------------------------------------------------------------ state_dict
    Bad("load_state_dict: the model itself instead of its state_dict",
        lambda: scratch.Linear(2, 3).load_state_dict(scratch.Linear(2, 3)), TypeError,
        ("state_dict", "Linear", ".state_dict()"),
        torch_does=lambda: torch.nn.Linear(2, 3).load_state_dict(torch.nn.Linear(2, 3))),
    Bad("load_state_dict: a torch model's weights into a scratch model of another architecture",
        lambda: seq().load_state_dict(torch.nn.Linear(10, 3).state_dict()), KeyError,
        ("missing keys", "'0.weight'", "unexpected keys", "'weight'"),
        torch_does=lambda: torch_seq().load_state_dict(torch.nn.Linear(10, 3).state_dict())),
    Bad("load_state_dict: a parameter of strings",
        lambda: scratch.Linear(1, 1).load_state_dict({"weight": np.array([["a"]]), "bias": np.zeros(1)}), TypeError,
        ("'weight'", "numeric")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_teaches(case):
    assert_teaches(case)
