"""Module mechanics: registration, Sequential, state_dict round trips with torch, train/eval, zero_grad, saved tensors."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.models import mlp
from course_lib.parity import copy_scratch_to_torch, copy_torch_to_scratch
from parity_helpers import assert_close


def test_state_dict_keys_and_shapes_match_torch():
    ours, theirs = mlp([784, 32, 10]), mlp([784, 32, 10], backend="torch")
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["1.weight", "1.bias", "3.weight", "3.bias"]
    for (k, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert a.shape == tuple(b.shape), k


def test_state_dict_round_trip_through_torch(rng):
    torch.manual_seed(3)
    theirs = mlp([6, 5, 2], backend="torch")
    ours = mlp([6, 5, 2])
    copy_torch_to_scratch(theirs, ours)
    for k, v in theirs.state_dict().items():
        assert np.array_equal(ours.state_dict()[k], v.numpy().astype(np.float64))
    for p in ours.parameters():
        p.data += 1.0
    copy_scratch_to_torch(ours, theirs)
    back = mlp([6, 5, 2])
    copy_torch_to_scratch(theirs, back)
    for k, v in ours.state_dict().items():
        assert np.allclose(back.state_dict()[k], v, atol=1e-6)  # float32 on the torch side


def test_state_dict_returns_copies():
    m = scratch.Linear(2, 2)
    sd = m.state_dict()
    sd["weight"][:] = 99.0
    assert not np.any(m.weight.data == 99.0)


def test_load_state_dict_names_missing_unexpected_and_mismatched_keys():
    m = scratch.Linear(3, 2)
    with pytest.raises(KeyError, match=r"missing keys \['bias'\]"):
        m.load_state_dict({"weight": np.zeros((2, 3))})
    with pytest.raises(KeyError, match=r"unexpected keys \['extra'\]"):
        m.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.zeros(2), "extra": np.zeros(1)})
    with pytest.raises(ValueError, match=r"'weight' has shape \(2, 3\) in this model but \(3, 2\)"):
        m.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(2)})
    m.load_state_dict({"weight": np.ones((2, 3))}, strict=False)
    assert np.all(m.weight.data == 1.0)


def test_train_eval_propagate_to_children():
    m = mlp([4, 3, 2])
    m.eval()
    assert not any(layer.training for layer in m)
    m.train()
    assert all(layer.training for layer in m)


def test_backward_accumulates_and_zero_grad_resets(rng):
    m = scratch.Linear(3, 2)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    m(x)
    m.backward(g)
    first = m.weight.grad.copy()
    m(x)
    m.backward(g)
    assert np.allclose(m.weight.grad, 2 * first)
    m.zero_grad()
    assert not m.weight.grad.any()


def test_sequential_indexing_len_and_repr():
    m = scratch.Sequential(scratch.Linear(2, 3), scratch.ReLU(), scratch.Linear(3, 1))
    assert len(m) == 3 and isinstance(m[1], scratch.ReLU) and isinstance(m[-1], scratch.Linear)
    assert len(m[:2]) == 2
    assert "(0): Linear(in_features=2, out_features=3, bias=True)" in repr(m)


def test_float_and_double_convert_parameters_and_keep_dtype_on_load(rng):
    m = mlp([4, 3, 2]).float()
    assert all(p.data.dtype == np.float32 and p.grad.dtype == np.float32 for p in m.parameters())
    torch.manual_seed(0)
    m.load_state_dict(mlp([4, 3, 2], backend="torch").double().state_dict())
    assert all(p.data.dtype == np.float32 for p in m.parameters())
    assert m(rng.standard_normal((5, 4)).astype(np.float32)).dtype == np.float32
    assert all(p.data.dtype == np.float64 for p in m.double().parameters())


def test_buffers_are_saved_and_loaded_in_torch_order():
    class WithBuffer(scratch.Module):
        def __init__(self):
            super().__init__()
            self.weight = scratch.Parameter(np.ones(2))
            self.register_buffer("running_mean", np.zeros(2))

    model = scratch.Sequential(WithBuffer(), scratch.Linear(2, 1))
    assert list(model.state_dict()) == ["0.weight", "0.running_mean", "1.weight", "1.bias"]
    state = model.state_dict()
    state["0.running_mean"] = np.array([3.0, 4.0])
    model.load_state_dict(state)
    assert np.array_equal(model[0].running_mean, [3.0, 4.0])
    model[0].running_mean = np.array([5.0, 6.0])  # reassigning keeps it registered
    assert np.array_equal(model.state_dict()["0.running_mean"], [5.0, 6.0])
    assert [name for name, _ in model.named_buffers()] == ["0.running_mean"]
    with pytest.raises(KeyError, match=r"missing keys \['0.running_mean'\]"):
        model.load_state_dict({k: v for k, v in state.items() if k != "0.running_mean"})


def test_buffer_shape_mismatch_and_float_conversion():
    with pytest.raises(ValueError, match=r"buffer 'running_mean' has shape \(3,\) in this model but \(4,\)"):
        state = scratch.BatchNorm2d(3).state_dict()
        state["running_mean"] = np.zeros(4)
        scratch.BatchNorm2d(3).load_state_dict(state)
    bn = scratch.BatchNorm2d(3).float()
    assert bn.running_mean.dtype == np.float32 and bn.num_batches_tracked.dtype.kind == "i"


def test_sequential_from_an_ordered_dict_keeps_the_names_like_torch():
    layers = [("fc1", scratch.Linear(4, 3)), ("act", scratch.ReLU()), ("fc2", scratch.Linear(3, 2))]
    ours = scratch.Sequential(OrderedDict(layers))
    theirs = torch.nn.Sequential(OrderedDict([("fc1", torch.nn.Linear(4, 3)), ("act", torch.nn.ReLU()),
                                              ("fc2", torch.nn.Linear(3, 2))]))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert ours[0] is layers[0][1] and ours.fc2 is layers[2][1] and len(ours) == 3
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 4))
    assert_close(ours(x), theirs(torch.from_numpy(x).float()), "forward, float64 vs float32 torch", tol=1e-6)


def test_sequential_slices_keep_their_names_like_torch():
    ours = scratch.Sequential(scratch.Linear(2, 3), scratch.ReLU(), scratch.Linear(3, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    assert list(ours[1:3].state_dict()) == list(theirs[1:3].state_dict()) == ["2.weight", "2.bias"]
    assert list(ours[1:]._modules) == list(theirs[1:]._modules) == ["1", "2"]
    named = scratch.Sequential(OrderedDict([("conv", scratch.Conv2d(1, 2, 3)), ("flat", scratch.Flatten())]))
    assert list(named[:-1].state_dict()) == ["conv.weight", "conv.bias"]


def test_named_children_are_the_direct_submodules_in_order_like_torch():
    ours = scratch.Sequential(OrderedDict([("enc", scratch.Sequential(scratch.Linear(2, 3))), ("act", scratch.ReLU())]))
    theirs = torch.nn.Sequential(OrderedDict([("enc", torch.nn.Sequential(torch.nn.Linear(2, 3))),
                                              ("act", torch.nn.ReLU())]))
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()] == ["enc", "act"]
    assert [m for _, m in ours.named_children()] == list(ours.children())


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        scratch.ReLU().backward(np.ones(3))


def test_module_subclass_must_call_super_init():
    class Forgetful(scratch.Module):
        def __init__(self):
            self.w = scratch.Parameter(np.ones(1))

    with pytest.raises(RuntimeError, match="super\\(\\).__init__\\(\\)"):
        Forgetful()


def test_sequential_refuses_non_modules():
    with pytest.raises(TypeError, match="argument 1 is a .*, not a scratch Module"):
        scratch.Sequential(scratch.ReLU(), np.tanh)


def test_forward_saves_what_backward_takes_back(rng):
    x = rng.standard_normal((3, 1, 6, 6))
    conv, pool = scratch.Conv2d(1, 2, 3), scratch.MaxPool2d(2)
    y = pool(conv(x))
    _, argmax = pool.take_saved(np.ones_like(y))
    assert argmax.shape == (3, 2, 2, 2) and argmax.dtype.kind in "iu"   # window offsets of the maxima
    saved_x, cols = conv.take_saved(np.ones((3, 2, 4, 4)))
    assert saved_x is x and cols.shape == (1 * 3 * 3, 3 * 4 * 4)   # the forward's im2col matrix, reused by backward
    layer = scratch.Linear(4, 2)
    layer.save_for_backward("a", 1)
    assert layer.take_saved(np.ones(2)) == ("a", 1)
