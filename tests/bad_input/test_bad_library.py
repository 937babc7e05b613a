"""Bad input to the library above scratch: models, architectures, conv arithmetic, summary, diagnostics, parity,
transfer, device and plots. Each case is a learner's mistake and the error that must teach (bad_input_harness);
``torch_does`` is the same mistake in torch or torchvision, which must refuse it too.

Deliberate differences (we refuse, torch only warns "Initializing zero-element tensors is a no-op"): a classifier
with num_classes=0 (torchvision.models.resnet18(num_classes=0), nn.Linear(64, 0)).
"""
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from bad_input_harness import Bad, assert_teaches
from torch import nn

from course_lib import architectures, conv_arithmetic, device, diagnostics, models, parity, plots, scratch, summary
from course_lib import transfer
from course_lib.architectures import BasicBlock, ResNet


def on_meta(build):
    """A big network built on the meta device: shapes only, no memory, no time."""
    with torch.device("meta"):
        return build()


def meta_images(size):
    return torch.empty(1, 3, size, size, device="meta")


def _tiny_torch_net():
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 2))


def _tiny_scratch_net():
    return scratch.Sequential(scratch.Flatten(), scratch.Linear(4, 2))


X4, Y2 = np.ones((2, 4)), np.array([0, 1])
GEN = torch.Generator().manual_seed(0)
DIGITS = torch.zeros(2, 1, 28, 28)


def _pick_cuda_without_a_gpu():
    with mock.patch.object(torch.cuda, "is_available", return_value=False):
        return device.pick_device("cuda")


def _unused_activation_log():
    return diagnostics.ActivationLog(X4, Y2, scratch.CrossEntropyLoss())


CASES = [
    # models: the one builder
    Bad("mlp: a negative width", lambda: models.mlp([784, -1, 10], backend="torch"), ValueError,
        says=("sizes[1]", "-1", "at least 1"), torch_does=lambda: nn.Linear(784, -1)),
    Bad("mlp: a float width", lambda: models.mlp([784, 2.5, 10]), TypeError,
        says=("sizes[1]", "2.5", "whole number"), torch_does=lambda: nn.Linear(784, 2.5)),
    Bad("mlp: one int instead of the list", lambda: models.mlp(784), TypeError, says=("sizes", "[784, 256, 10]")),
    Bad("lenet5: num_classes=0", lambda: models.lenet5(0, backend="torch"), ValueError,
        says=("num_classes=0", "at least 1")),
    Bad("source_cnn: num_classes=5.0", lambda: models.source_cnn(5.0), TypeError,
        says=("num_classes", "5.0", "num_classes=5")),
    # architectures: sizes and inputs
    Bad("resnet18: num_classes=-1", lambda: architectures.resnet18(-1), ValueError,
        says=("num_classes=-1", "at least 1"), torch_does=lambda: torchvision.models.resnet18(num_classes=-1)),
    Bad("ResNet: three stages", lambda: ResNet(BasicBlock, [2, 2, 2]), ValueError,
        says=("layers", "4 stages", "[2, 2, 2]")),
    Bad("ResNet: a stage of 0 blocks", lambda: ResNet(BasicBlock, [0, 2, 2, 2]), ValueError,
        says=("layers[0]", "0", "at least 1")),
    Bad("alexnet: 62x62 images", lambda: on_meta(architectures.alexnet)(meta_images(62)), RuntimeError,
        says=("63x63", "62x62", "too small", "features.12", "O = (W - F_eff + 2P)/S + 1",
              "(2 - 3 + 2*0)/2 + 1 = 0.5", "F.interpolate"),
        torch_does=lambda: on_meta(torchvision.models.alexnet)(meta_images(62))),
    Bad("vgg11: 31x31 images", lambda: on_meta(architectures.vgg11)(meta_images(31)), RuntimeError,
        says=("32x32", "features.20", "(1 - 2 + 2*0)/2 + 1 = 0.5"),
        torch_does=lambda: on_meta(torchvision.models.vgg11)(meta_images(31))),
    Bad("googlenet: 14x14 images", lambda: on_meta(architectures.googlenet)(meta_images(14)), RuntimeError,
        says=("15x15", "maxpool3", "ceil_mode=True", "rounds to 0"),
        torch_does=lambda: on_meta(lambda: torchvision.models.googlenet(aux_logits=False, init_weights=False))(
            meta_images(14))),
    Bad("densenet121: 28x28 images", lambda: on_meta(architectures.densenet121)(meta_images(28)), RuntimeError,
        says=("29x29", "features.transition3.pool", "AvgPool2d"),
        torch_does=lambda: on_meta(torchvision.models.densenet121)(meta_images(28))),
    Bad("resnet18: one image without the batch dimension", lambda: on_meta(architectures.resnet18)(
        torch.empty(3, 32, 32, device="meta")), ValueError, says=("(N, 3, H, W)", "(3, 32, 32)", "unsqueeze(0)"),
        torch_does=lambda: on_meta(torchvision.models.resnet18)(torch.empty(3, 32, 32, device="meta"))),
    Bad("resnet18: gray digits", lambda: on_meta(architectures.resnet18)(torch.empty(2, 1, 28, 28, device="meta")),
        RuntimeError, says=("(2, 1, 28, 28)", "repeat(1, 3, 1, 1)"),
        torch_does=lambda: on_meta(torchvision.models.resnet18)(torch.empty(2, 1, 28, 28, device="meta"))),
    Bad("resnet18: channels last", lambda: on_meta(architectures.resnet18)(torch.empty(2, 32, 32, 3, device="meta")),
        RuntimeError, says=("(2, 32, 32, 3)", "permute(0, 3, 1, 2)"),
        torch_does=lambda: on_meta(torchvision.models.resnet18)(torch.empty(2, 32, 32, 3, device="meta"))),
    Bad("resnet18: a NumPy batch", lambda: on_meta(architectures.resnet18)(np.zeros((2, 3, 32, 32), np.float32)),
        TypeError, says=("ndarray", "torch.as_tensor"),
        torch_does=lambda: on_meta(torchvision.models.resnet18)(np.zeros((2, 3, 32, 32), np.float32))),
    # conv_arithmetic: what torch.nn.Conv2d refuses
    Bad("conv_output_size: negative padding", lambda: conv_arithmetic.conv_output_size(28, 3, padding=-1), ValueError,
        says=("padding=-1", "at least 0", "slice"),
        torch_does=lambda: nn.Conv2d(1, 1, 3, padding=-1)(torch.zeros(1, 1, 28, 28))),
    Bad("conv_output_size: stride 0", lambda: conv_arithmetic.conv_output_size(28, 3, stride=0), ValueError,
        says=("stride=0", "at least 1", "never move"),
        torch_does=lambda: nn.Conv2d(1, 1, 3, stride=0)(torch.zeros(1, 1, 28, 28))),
    Bad("conv_output_size: a float size", lambda: conv_arithmetic.conv_output_size(28.0, 3), TypeError,
        says=("size", "28.0", "whole number")),
    Bad("conv_output_shape: a kernel larger than the padded input",
        lambda: conv_arithmetic.conv_output_shape((4, 4), 5, padding=0), ValueError,
        says=("kernel_size=5", "W + 2P = 4 + 2*0 = 4", "more padding"),
        torch_does=lambda: nn.Conv2d(1, 1, 5)(torch.zeros(1, 1, 4, 4))),
    # summary
    Bad("shape_table: a conv net without the batch dimension",
        lambda: summary.shape_table(models.lenet5(backend="torch"), (1, 28, 28)), ValueError,
        says=("input_shape=(1, 28, 28)", "batch dimension", "(1, 1, 28, 28)"),
        torch_does=lambda: models.lenet5(backend="torch")(torch.zeros(1, 28, 28))),
    Bad("shape_table: channels that do not fit the model",
        lambda: summary.shape_table(models.lenet5(backend="torch"), (1, 3, 28, 28)), RuntimeError,
        says=("(1, 3, 28, 28)", "in the first layer", "3 channels"),
        torch_does=lambda: models.lenet5(backend="torch")(torch.zeros(1, 3, 28, 28))),
    # diagnostics
    Bad("record_activations: a torch model with a scratch loss",
        lambda: diagnostics.record_activations(_tiny_torch_net(), X4, Y2, scratch.CrossEntropyLoss()), TypeError,
        says=("torch Sequential", "course_lib.scratch CrossEntropyLoss", "torch.nn.CrossEntropyLoss()")),
    Bad("record_activations: a scratch model with a torch loss",
        lambda: diagnostics.record_activations(_tiny_scratch_net(), X4, Y2, nn.CrossEntropyLoss()), TypeError,
        says=("course_lib.scratch Sequential", "scratch.CrossEntropyLoss()")),
    Bad("record_torch: a scratch model", lambda: diagnostics.record_torch(_tiny_scratch_net(), X4, Y2,
        nn.CrossEntropyLoss()), TypeError, says=("torch.nn.Module", "record_scratch")),
    Bad("record_torch: a model without parameters", lambda: diagnostics.record_torch(nn.Flatten(), X4, Y2,
        nn.CrossEntropyLoss()), ValueError, says=("Flatten", "no parameters")),
    Bad("early_stopping_epoch: no losses", lambda: diagnostics.early_stopping_epoch([]), ValueError,
        says=("val_loss is empty", "val=(x, y)")),
    Bad("read_diagnostics: nothing to read", lambda: diagnostics.read_diagnostics(), ValueError,
        says=("records=", "history=", "healthy")),
    Bad("ActivationLog: histograms before training", lambda: _unused_activation_log().histograms(), ValueError,
        says=("nothing recorded", "callbacks=[log]")),
    Bad("ActivationLog: an unknown statistic", lambda: _unused_activation_log().series("std"), ValueError,
        says=("'std'", "act_std", "dead_fraction")),
    Bad("update_ratio: weights of two shapes", lambda: diagnostics.update_ratio(np.ones(3), np.ones((3, 3))),
        ValueError, says=("(3,)", "(3, 3)", "same shape")),
    Bad("update_ratio: zero weights", lambda: diagnostics.update_ratio(np.zeros(3), np.ones(3)), ValueError,
        says=("w_before is all zeros", "undefined", "biases")),
    Bad("plot_update_ratios: no ratios", lambda: diagnostics.plot_update_ratios({}), ValueError,
        says=("no ratios", "StepLog")),
    Bad("plot_filters: a vector", lambda: diagnostics.plot_filters(np.zeros(4)), ValueError,
        says=("(4,)", "(out, in, k, k)", "first_layer_weights")),
    # parity
    Bad("compare: ours is None (a missing return)", lambda: parity.compare("dx", None, np.ones(3), verbose=False),
        TypeError, says=("ours is None", "return")),
    Bad("compare: the name last", lambda: parity.compare(np.ones(3), np.ones(3), "dx", verbose=False), TypeError,
        says=("name", "ndarray", "compare(\"what\", ours, theirs)")),
    Bad("compare: nan on our side", lambda: parity.compare("dx", [np.nan, 1.0], torch.tensor([0.0, 1.0]),
        verbose=False), parity.ParityError, says=("ours has 1 nan or inf", "index (0,)", "first makes it"),
        torch_does=lambda: torch.testing.assert_close(torch.tensor([np.nan, 1.0]), torch.tensor([0.0, 1.0]))),
    Bad("compare: nan on both sides", lambda: parity.compare("dx", [np.nan], [np.nan], verbose=False),
        parity.ParityError, says=("ours has 1", "torch has 1"),
        torch_does=lambda: torch.testing.assert_close(torch.tensor([np.nan]), torch.tensor([np.nan]))),
    Bad("compare: a (3,) against a (1, 3) never broadcasts",
        lambda: parity.compare("bias grad", np.ones(3), torch.ones(1, 3), verbose=False), parity.ParityError,
        says=("shapes differ", "(3,)", "(1, 3)"),
        torch_does=lambda: torch.testing.assert_close(torch.ones(3), torch.ones(1, 3))),
    Bad("compare: a negative tol", lambda: parity.compare("dx", [1.0], [1.0], tol=-1, verbose=False), ValueError,
        says=("tol", "-1", ">= 0")),
    Bad("compare: text", lambda: parity.compare("dx", "ab", [1.0, 2.0], verbose=False), TypeError,
        says=("ours", "real numbers", "str")),
    Bad("copy_scratch_to_torch: a torch model without parameters",
        lambda: parity.copy_scratch_to_torch(_tiny_scratch_net(), nn.Flatten()), ValueError,
        says=("Flatten", "no parameters", "same layers")),
    # transfer
    Bad("layer_groups: a negative head_lr", lambda: transfer.layer_groups(models.source_cnn(5), -1e-3, 0.5),
        ValueError, says=("head_lr", "-0.001", ">= 0"),
        torch_does=lambda: torch.optim.SGD(models.source_cnn(5).parameters(), lr=-1e-3)),
    Bad("param_groups: a negative body_lr", lambda: transfer.param_groups(models.source_cnn(5), 1e-2, -1), ValueError,
        says=("body_lr", "-1", ">= 0"), torch_does=lambda: torch.optim.Adam(models.source_cnn(5).parameters(), lr=-1)),
    Bad("layer_groups: a scratch model", lambda: transfer.layer_groups(models.source_cnn(5, "scratch"), 1e-3, 0.5),
        TypeError, says=("torch.nn.Module", "course_lib.scratch", "backend='torch'")),
    Bad("replace_head: num_classes=0", lambda: transfer.replace_head(models.source_cnn(5), 0), ValueError,
        says=("num_classes=0", "at least 1")),
    Bad("freeze: True instead of a count", lambda: transfer.freeze(models.source_cnn(5), True), TypeError,
        says=("True", "count k", "conv1")),
    Bad("GradualUnfreezing: every=1.5 steps", lambda: transfer.GradualUnfreezing(1.5), TypeError,
        says=("every", "1.5", "whole number")),
    Bad("body: a ResNet is no Sequential", lambda: transfer.body(on_meta(lambda: architectures.resnet18(10))),
        TypeError, says=("Sequential", "ResNet", "nn.Identity()")),
    Bad("augment: digits (N, 28, 28) without a channel", lambda: transfer.augment(torch.zeros(2, 28, 28), GEN),
        TypeError, says=("(N, C, H, W)", "(2, 28, 28)", "unsqueeze(1)"),
        torch_does=lambda: F.grid_sample(torch.zeros(2, 28, 28), torch.zeros(2, 28, 28, 2), align_corners=False)),
    Bad("augment: uint8 pixels", lambda: transfer.augment(DIGITS.to(torch.uint8), GEN), TypeError,
        says=("torch.uint8", "dtype=torch.float32"),
        torch_does=lambda: F.grid_sample(DIGITS.to(torch.uint8), torch.zeros(2, 28, 28, 2), align_corners=False)),
    Bad("augment: no generator", lambda: transfer.augment(DIGITS, None), TypeError,
        says=("generator", "None", "torch.Generator().manual_seed(0)")),
    Bad("augment: a negative max_shift", lambda: transfer.augment(DIGITS, GEN, max_shift=-2), ValueError,
        says=("max_shift", "-2", ">= 0")),
    Bad("pretrain_source: epochs=0", lambda: transfer.pretrain_source(epochs=0), ValueError,
        says=("epochs=0", "at least 1")),
    Bad("pretrain_source: batch_size=0", lambda: transfer.pretrain_source(batch_size=0), ValueError,
        says=("batch_size=0", "at least 1")),
    # device
    Bad("pick_device: 'gpu'", lambda: device.pick_device("gpu"), RuntimeError, says=("'gpu'", "'cuda'", "'cpu'"),
        torch_does=lambda: torch.device("gpu")),
    Bad("pick_device: cuda:99", lambda: device.pick_device("cuda:99"), RuntimeError, says=("cuda:99", "CUDA GPU"),
        torch_does=lambda: torch.zeros(1, device="cuda:99")),
    Bad("pick_device: cuda on a machine without a GPU",
        _pick_cuda_without_a_gpu,
        RuntimeError, says=("'cuda'", "is_available() is False", "None for the best available")),
    # plots
    Bad("image_grid: a batch (N, 1, H, W)", lambda: plots.image_grid(np.zeros((2, 1, 28, 28))), ValueError,
        says=("images[0]", "(1, 28, 28)", "x[:, 0]")),
    Bad("image_grid: cols=0", lambda: plots.image_grid(np.zeros((2, 3, 3)), cols=0), ValueError,
        says=("cols", "0", ">= 1")),
    Bad("show_digits: fewer labels than digits", lambda: plots.show_digits(np.zeros((4, 28, 28)), labels=[1, 2]),
        ValueError, says=("2 labels for 4 digits", "n=2")),
    Bad("plot_history: no history", lambda: plots.plot_history(), ValueError, says=("no history", "fit")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_teaches(case):
    assert_teaches(case)
