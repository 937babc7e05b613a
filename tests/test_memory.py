"""course_lib.memory: the training-memory count against hand calculations and against what autograd saves;
the layouts of fact 24 against torch's own strides."""
import math

import pytest
import torch
import torchvision
from torch import nn

from course_lib import memory, models
from course_lib.memory import (activation_numbers, largest_batch, layout_strides, measured_peak_memory,
                               saved_for_backward, training_memory)

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")


def tiny():
    """23 parameters: Linear(4, 3) has 4*3 + 3, Linear(3, 2) has 3*2 + 2."""
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


@pytest.mark.parametrize("optimizer, copies", [("sgd", 0), ("sgd_momentum", 1), ("adam", 2)])
def test_tiny_model_by_hand(optimizer, copies):
    count = training_memory(tiny(), (5, 4), optimizer)
    assert count.weights == 4 * 23 and count.gradients == 4 * 23
    assert count.optimizer_state == 4 * 23 * copies
    assert count.activations == 4 * 5 * (4 + 3 + 3 + 2)       # input, Linear, ReLU, Linear outputs
    assert count.total == count.weights + count.gradients + count.optimizer_state + count.activations


def test_bytes_per_number_and_frozen_weights():
    model = tiny()
    model[0].requires_grad_(False)                              # 15 frozen parameters: no gradient, no state
    count = training_memory(model, (5, 4), "adam", dtype_bytes=2)
    assert (count.weights, count.gradients, count.optimizer_state) == (2 * 23, 2 * 8, 2 * 8 * 2)


def test_lenet_by_hand():
    """Per example: 784 input + conv 4704 + relu 4704 + pool 1176 + conv 1600 + relu 1600 + pool 400
    + conv 120 + relu 120 (flatten is a view) + linear 84 + relu 84 + linear 10 = 15,386 numbers."""
    model = models.lenet5(backend="torch")
    assert activation_numbers(model, (8, 1, 28, 28)) == 8 * 15_386
    params = sum(p.numel() for p in model.parameters())
    assert params == 61_706 and training_memory(model, (8, 1, 28, 28)).weights == 4 * 61_706


def test_views_and_in_place_layers_cost_nothing():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(inplace=True), nn.Identity())
    assert activation_numbers(model, (2, 2, 2)) == 2 * (4 + 3)


@pytest.mark.parametrize("build, shape, low, high", [
    (lambda: models.lenet5(backend="torch"), (8, 1, 28, 28), 1.2, 1.35),
    (lambda: models.digit_cnn(), (8, 1, 28, 28), 1.2, 1.4),
    (lambda: torchvision.models.resnet18(num_classes=10), (2, 3, 64, 64), 0.9, 1.1),
], ids=["lenet5", "digit_cnn", "resnet18"])
def test_count_against_what_autograd_saves(build, shape, low, high):
    """The count over what autograd keeps (saved_tensors_hooks, unique storages): LeNet-5 counts its conv outputs
    (freed, ReLU keeps its own output) and misses the pooling indices, so about 1.28; ResNet-18 about 0.95."""
    torch.manual_seed(0)
    model = build()
    ratio = training_memory(model, shape).activations / saved_for_backward(model, torch.randn(shape))
    assert low < ratio < high


def test_saved_for_backward_leaves_out_the_weights():
    model = nn.Sequential(nn.Linear(4, 3))
    saved = saved_for_backward(model, torch.randn(5, 4))
    # Linear keeps its input (5x4 float32); cross-entropy keeps its log-softmax (5x3), the int64 targets (5)
    # and the total weight of the examples (one float32)
    assert saved == 4 * 5 * 4 + 4 * 5 * 3 + 8 * 5 + 4


def test_largest_batch_fits_and_one_more_does_not():
    model = models.lenet5(backend="torch")
    budget = 10 * 2**20
    n = largest_batch(model, (1, 28, 28), budget, "adam")
    assert training_memory(model, (n, 1, 28, 28), "adam").total <= budget
    assert training_memory(model, (n + 1, 1, 28, 28), "adam").total > budget
    assert largest_batch(model, (1, 28, 28), budget, "sgd") > n   # no optimiser state: room for more images


def test_peak_memory_is_none_on_cpu():
    assert measured_peak_memory(tiny(), torch.randn(5, 4), "cpu") is None


@needs_cuda
def test_cuda_peak_memory_against_the_count():
    model = models.lenet5(backend="torch")
    """At batch 4096 the activations (about 250 MB counted) outweigh the cuBLAS/cuDNN workspaces in the peak."""
    count = training_memory(model, (4096, 1, 28, 28), "adam")
    peak = measured_peak_memory(model, torch.randn(4096, 1, 28, 28), "cuda", "adam")
    assert peak > count.weights + count.gradients + count.optimizer_state
    assert 0.4 < count.total / peak < 2.5


@needs_cuda
def test_saved_for_backward_on_cuda_matches_cpu():
    torch.manual_seed(0)
    model, x = models.lenet5(backend="torch"), torch.randn(8, 1, 28, 28)
    on_cpu = saved_for_backward(model, x)
    assert saved_for_backward(model.cuda(), x.cuda()) == pytest.approx(on_cpu, rel=0.05)


def test_fact_24_strides():
    layout = layout_strides((2, 3, 4, 5))
    assert layout.nchw_strides == (60, 20, 5, 1)
    assert layout.channels_last_strides == (60, 1, 15, 3)
    assert layout.nhwc_shape == (2, 4, 5, 3)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 1, 1), (4, 16, 7, 3), (3, 64, 2, 9), (2, 3, 4, 1)])
def test_strides_are_torchs(shape):
    x = torch.empty(shape)
    layout = layout_strides(shape)
    assert layout.nchw_strides == x.stride()
    assert layout.channels_last_strides == x.to(memory_format=torch.channels_last).stride()
    assert layout.nhwc_shape == tuple(x.permute(0, 2, 3, 1).shape)
    assert layout.channels_last_strides == x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2).stride()


def test_channels_last_is_the_nhwc_tensor_read_as_nchw():
    x = torch.arange(math.prod((2, 3, 4, 5))).reshape(2, 3, 4, 5)
    last = x.to(memory_format=torch.channels_last)
    assert torch.equal(last, x)                                            # same values, same shape
    storage = torch.as_strided(last, (last.numel(),), (1,))               # the numbers in memory order
    assert torch.equal(storage, x.permute(0, 2, 3, 1).reshape(-1))


def test_optimizer_copies_are_the_state_torch_keeps():
    model = tiny()
    for name, copies in memory.OPTIMIZER_COPIES.items():
        opt = memory.make_optimizer(name, model.parameters())
        model(torch.randn(2, 4)).sum().backward()
        opt.step()
        kept = sum(t.numel() for s in opt.state.values() for t in s.values() if torch.is_tensor(t) and t.dim() > 0)
        assert kept == copies * 23, name
