"""The seam of course_lib.interpret (interpret/_model.py): one forward and one backward pass through a scratch or a
torch model, with its options, and no side effects on the model explained."""
import numpy as np
import pytest
import torch

import interpret_twins
from course_lib import models, parity, scratch
from course_lib.interpret import _model


@pytest.fixture(scope="module")
def twins():
    """A random digit_cnn in float64 and its scratch mirror with the same weights (tests/interpret_twins.py)."""
    return interpret_twins.twins("digit_cnn")[:2]


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).uniform(0, 1, (3, 1, 28, 28))


def one_hot(target):
    return lambda scores: _model.one_hot_like(scores, target)


@pytest.mark.parametrize("guided", [False, True])
def test_both_sides_send_the_same_gradient_back_and_keep_the_same_layers(twins, x, guided):
    net, mirror = twins
    ours = _model.backprop(mirror, x, one_hot([1, 2, 3]), guided=guided, keep=("relu2", "relu3"))
    theirs = _model.backprop(net, torch.tensor(x), one_hot([1, 2, 3]), guided=guided, keep=("relu2", "relu3"))
    parity.compare("input gradient", ours.input_grad, theirs.input_grad, tol=1e-12, verbose=False)
    parity.compare("scores", ours.output, theirs.output, tol=1e-12, verbose=False)
    for name in ("relu2", "relu3"):
        parity.compare(name, ours.activations[name], theirs.activations[name], tol=1e-12, verbose=False)
        parity.compare(f"d/d {name}", ours.gradients[name], theirs.gradients[name], tol=1e-12, verbose=False)


@pytest.mark.parametrize("side", ["torch", "scratch"])
def test_guided_gradients_leave_every_relu_non_negative(twins, x, side):
    """d/d(conv1's output) is what relu1's backward passed down: clipped at zero under the guided rule."""
    model, xs = (twins[0], torch.tensor(x)) if side == "torch" else (twins[1], x)
    plain = _model.backprop(model, xs, one_hot(4), keep=("conv1", "conv2"))
    guided = _model.backprop(model, xs, one_hot(4), guided=True, keep=("conv1", "conv2"))
    for name in ("conv1", "conv2"):
        assert float(plain.gradients[name].min()) < 0 <= float(guided.gradients[name].min())


def test_at_stops_at_a_layer_and_the_seed_starts_there(twins, x):
    net, mirror = twins
    for model, xs in ((net, torch.tensor(x)), (mirror, x)):
        p = _model.backprop(model, xs, lambda out: out * 0 + 1, at="conv2")
        assert tuple(p.output.shape) == (3, 32, 14, 14)
    p_scratch = _model.backprop(mirror, x, lambda out: out * 0 + 1, at="conv2")
    p_torch = _model.backprop(net, torch.tensor(x), lambda out: out * 0 + 1, at="conv2")
    parity.compare("d sum(conv2) / dx", p_scratch.input_grad, p_torch.input_grad, tol=1e-12, verbose=False)


def test_seed_none_runs_the_forward_half_only(twins, x):
    net, mirror = twins
    for model, xs in ((net, torch.tensor(x)), (mirror, x)):
        p = _model.backprop(model, xs, None, keep=("pool1",))
        assert p.input_grad is None and p.gradients == {} and tuple(p.activations["pool1"].shape) == (3, 16, 14, 14)


def test_explaining_a_model_leaves_it_as_it_was(x):
    torch.manual_seed(1)
    net = models.digit_cnn().double().train()
    mirror = models.digit_cnn(backend="scratch").train()
    mirror.conv1.weight.grad[:] = 7.0                                 # a learner's accumulated gradient
    _model.backprop(mirror, x, one_hot(0))
    _model.backprop(net, torch.tensor(x), one_hot(0), guided=True)
    assert np.all(mirror.conv1.weight.grad == 7.0) and mirror.training and mirror.conv1.training
    assert net.training and all(p.grad is None for p in net.parameters())
    assert all(not m._backward_hooks and not m._forward_hooks for m in net.modules())


def test_dropout_is_off_while_explaining():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(4, 2)).double().train()
    xs = torch.ones(1, 4, dtype=torch.float64)
    grads = [_model.backprop(net, xs, one_hot(1)).input_grad for _ in range(3)]
    assert all(torch.equal(g, grads[0]) for g in grads) and torch.allclose(grads[0], net[2].weight[1:2])


def test_names_targets_and_kinds(twins):
    net, mirror = twins
    assert list(_model.leaf_layers(net)) == list(_model.leaf_layers(mirror)) == [n for n, _ in net.named_children()]
    assert _model.layer_name(net, net.conv2) == "conv2" and _model.layer_name(mirror, "fc") == "fc"
    with pytest.raises(ValueError, match="no layer named 'conv9'.*conv1"):
        _model.layer_name(net, "conv9")
    with pytest.raises(ValueError, match="not in this model"):
        _model.layer_name(net, torch.nn.ReLU())
    assert _model.targets(3, 2).tolist() == [3, 3] and _model.targets(torch.tensor([1, 2]), 2).tolist() == [1, 2]
    with pytest.raises(ValueError, match="classes are 0..9"):
        _model.targets([3, 10], 2, num_classes=10)
    with pytest.raises(TypeError, match="one int per input"):
        _model.targets(np.eye(2), 2)
    with pytest.raises(TypeError, match="scratch model \\(NumPy\\), but x is a torch tensor"):
        _model.as_input(mirror, torch.zeros(1, 1, 28, 28))
    assert _model.as_input(net, np.zeros((1, 1, 28, 28), np.float32)).dtype == torch.float64


def test_a_scratch_model_with_its_own_forward_is_refused():
    class Branchy(scratch.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = scratch.Linear(2, 2), scratch.Linear(2, 2)

        def forward(self, x):
            return self.a(x) + self.b(x)

    with pytest.raises(TypeError, match="every container must be a scratch.Sequential"):
        _model.backprop(Branchy(), np.ones((1, 2)), one_hot(0))


def test_a_bare_scratch_layer_is_its_own_leaf():
    layer = scratch.Linear(3, 2)
    p = _model.backprop(layer, np.ones((1, 3)), one_hot(1))
    assert np.allclose(p.input_grad, layer.weight.data[1:2])
