"""From-scratch neural networks in NumPy, named and shaped like ``torch.nn`` (no torch import).

    from course_lib import scratch
    scratch.manual_seed(0)
    model = scratch.Sequential(scratch.Linear(784, 100), scratch.ReLU(), scratch.Linear(100, 10))
    loss = scratch.CrossEntropyLoss()(model(x), y)
"""
from . import functional, init, lr_scheduler, optim
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout
from .gradcheck import GradcheckError, gradcheck, numerical_gradient, relative_error
from .linear import Flatten, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, Parameter, Sequential
from .normalization import BatchNorm1d, BatchNorm2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d, LPPool2d, MaxPool2d
from .random import manual_seed

__all__ = [
    "functional", "optim", "init", "lr_scheduler", "Dropout", "BatchNorm1d", "BatchNorm2d", "Module", "Parameter", "Sequential", "Linear", "Flatten",
    "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "LPPool2d", "AdaptiveAvgPool2d",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "CrossEntropyLoss", "MSELoss", "BCEWithLogitsLoss",
    "gradcheck", "numerical_gradient", "relative_error", "GradcheckError", "manual_seed",
]
