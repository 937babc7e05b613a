"""From-scratch neural networks in NumPy, named and shaped like ``torch.nn`` (no torch import).

    from course_lib import scratch
    scratch.manual_seed(0)
    model = scratch.Sequential(scratch.Linear(784, 100), scratch.ReLU(), scratch.Linear(100, 10))
    loss = scratch.CrossEntropyLoss()(model(x), y)

Bad input is refused wherever torch refuses it, with a message that names the argument and the fix. Where
scratch differs from torch, on purpose (each difference is asserted in
tests/bad_input/test_bad_differences_documented.py):

- Integer and boolean inputs are refused by every layer that computes (Flatten only reshapes), also those
  torch would run on integers (ReLU, Sigmoid, MaxPool2d): uint8 pixels 0..255 must be scaled to floats first,
  and saying so at the first layer is kinder than a model that trains on inputs 255 times too large.
- Integer targets of MSELoss and BCEWithLogitsLoss are converted to floats (torch refuses integer BCE
  targets): 0/1 labels are what the course's binary examples hold.
- Floating-point dtypes mix by NumPy's rule (float32 input to a float64 layer computes in float64), where
  torch refuses "mat1 and mat2 must have the same dtype": the result is the more precise one, never wrong.
- Upsample takes only batches (N, C, H, W): torch reads a rank-3 input as 1-D signals (N, C, L) and resizes
  only its last axis, which for one image (C, H, W) is a silent half-resize; scratch says to add x[None].
- CrossEntropyLoss takes class indices only (N,) or (N, d1, ...): torch also takes probability targets of the
  scores' shape (label smoothing, soft labels), which the course's notebooks never need; the message says so.
- RNN, LSTM and GRU build torch's defaults dropout=0, bidirectional=False (and the LSTM's proj_size=0) only:
  other values, which torch computes, raise NotImplementedError with how to build them from scratch layers.
  Their backward returns the gradients of both forward arguments, (d input, d h_0) (LSTM: (d input, (d h_0, d c_0))).
"""
from . import functional, init, lr_scheduler, optim
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout
from .gradcheck import GradcheckError, gradcheck, numerical_gradient, relative_error
from .linear import Flatten, Linear, Unflatten
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, Parameter, Sequential
from .normalization import BatchNorm1d, BatchNorm2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d, LPPool2d, MaxPool2d
from .random import manual_seed
from .recurrent import GRU, LSTM, RNN
from .resampling import Upsample

__all__ = [
    "functional", "optim", "init", "lr_scheduler", "Dropout", "BatchNorm1d", "BatchNorm2d", "Module", "Parameter", "Sequential", "Linear", "Flatten",
    "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "LPPool2d", "AdaptiveAvgPool2d", "Upsample", "Unflatten",
    "RNN", "LSTM", "GRU", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "CrossEntropyLoss", "MSELoss", "BCEWithLogitsLoss",
    "gradcheck", "numerical_gradient", "relative_error", "GradcheckError", "manual_seed",
]
