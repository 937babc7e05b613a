"""Every scratch optimiser (SGD, Adagrad, RMSprop, Adam, AdamW) against torch.optim, step by step."""
import numpy as np
import pytest
import torch

from course_lib import scratch
from parity_helpers import assert_close


OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.02, momentum=0.9, weight_decay=0.01),
    dict(lr=0.02, momentum=0.5, nesterov=True, weight_decay=0.1),
    dict(lr=0.3, weight_decay=0.05),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_sgd_matches_torch_for_25_steps(options, rng):
    shapes = [(4, 3), (3,), (2, 2, 2)]
    ours = [scratch.Parameter(rng.standard_normal(s)) for s in shapes]
    theirs = [torch.tensor(p.data.copy(), requires_grad=True) for p in ours]
    opt, opt_t = scratch.optim.SGD(ours, **options), torch.optim.SGD(theirs, **options)
    for _ in range(25):
        for p, q in zip(ours, theirs):
            g = rng.standard_normal(p.data.shape)
            p.grad = g.copy()
            q.grad = torch.tensor(g)
        opt.step()
        opt_t.step()
    for p, q in zip(ours, theirs):
        assert_close(p.data, q, "parameter", tol=1e-10)
        if options.get("momentum"):
            assert_close(opt.state[p]["momentum_buffer"], opt_t.state[q]["momentum_buffer"], "momentum_buffer",
                         tol=1e-10)


def test_param_groups_have_their_own_learning_rate():
    a, b = scratch.Parameter(np.ones(2)), scratch.Parameter(np.ones(2))
    opt = scratch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad[:] = 1.0
    b.grad[:] = 1.0
    opt.step()
    assert np.allclose(a.data, 0.9) and np.allclose(b.data, 0.5)
    assert opt.param_groups[1]["momentum"] == 0.0


def test_zero_grad_clears_gradients():
    p = scratch.Parameter(np.ones(3))
    p.grad += 2.0
    scratch.optim.SGD([p], lr=0.1).zero_grad()
    assert not p.grad.any()


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1.0), "invalid learning rate"),
    (dict(lr=0.1, nesterov=True), "Nesterov momentum requires"),
    (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
    (dict(lr=0.1, momentum=-0.5), "must be >= 0"),
])
def test_sgd_rejects_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        scratch.optim.SGD([scratch.Parameter(np.ones(1))], **kwargs)


def test_sgd_rejects_empty_and_foreign_parameters():
    with pytest.raises(ValueError, match="empty parameter list"):
        scratch.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="not a scratch Parameter"):
        scratch.optim.SGD([torch.zeros(2)], lr=0.1)


SHAPES = [(4, 3), (3,), (2, 2, 2)]
STEPS = 25


# (optimiser name, options for the whole optimiser, options for the second param group)
CASES = [
    ("Adagrad", dict(), {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05), {"lr": 0.02}),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5), {"lr": 0.3}),
    ("Adagrad", dict(lr=0.05, eps=1e-3, lr_decay=0.01, weight_decay=0.01), {"weight_decay": 0.2}),
    ("RMSprop", dict(), {}),
    ("RMSprop", dict(lr=0.01, alpha=0.9), {"lr": 0.001}),
    ("RMSprop", dict(lr=0.01, momentum=0.9), {"lr": 0.002, "momentum": 0.5}),
    ("RMSprop", dict(lr=0.005, centered=True), {"lr": 0.02}),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.8, weight_decay=0.1), {"lr": 0.01, "alpha": 0.95}),
    ("Adam", dict(), {}),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99)), {"lr": 0.05}),
    ("Adam", dict(lr=0.01, weight_decay=0.1), {"lr": 0.003, "weight_decay": 0.0}),
    ("Adam", dict(lr=0.02, amsgrad=True), {"lr": 0.001}),
    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.05, eps=1e-4), {"betas": (0.5, 0.9)}),
    ("AdamW", dict(), {}),
    ("AdamW", dict(lr=0.01, weight_decay=0.1), {"lr": 0.03, "weight_decay": 0.5}),
    ("AdamW", dict(lr=0.01, amsgrad=True, betas=(0.85, 0.95)), {"lr": 0.002}),
]


def case_id(case):
    name, options, second = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in {**options, **second}.items()) + ")"


def make_pair(name, options, second_group, rng):
    """The same parameters in two param groups (the second with its own options) for scratch and torch."""
    ours = [scratch.Parameter(rng.standard_normal(s)) for s in SHAPES]
    theirs = [torch.tensor(p.data.copy(), requires_grad=True) for p in ours]
    groups = [{"params": ours[:2]}, {"params": ours[2:], **second_group}]
    groups_t = [{"params": theirs[:2]}, {"params": theirs[2:], **second_group}]
    return ours, theirs, getattr(scratch.optim, name)(groups, **options), getattr(torch.optim, name)(groups_t, **options)


def run_steps(ours, theirs, opt, opt_t, rng, steps=STEPS):
    for _ in range(steps):
        for p, q in zip(ours, theirs):
            g = rng.standard_normal(p.shape)
            p.grad = g.copy()
            q.grad = torch.tensor(g)
        opt.step()
        opt_t.step()


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch_for_25_steps_parameters_and_state(case, rng):
    name, options, second_group = case
    ours, theirs, opt, opt_t = make_pair(name, options, second_group, rng)
    run_steps(ours, theirs, opt, opt_t, rng)
    for i, (p, q) in enumerate(zip(ours, theirs)):
        assert_close(p.data, q, f"{name} parameter {i}", tol=1e-10)
        state, state_t = opt.state[p], opt_t.state[q]
        assert set(state) == set(state_t), f"{name} state keys {sorted(state)} vs torch {sorted(state_t)}"
        for key, value_t in state_t.items():
            if key == "step":
                assert state[key] == value_t.item() == STEPS
            else:
                assert_close(state[key], value_t, f"{name} state[{key!r}] of parameter {i}", tol=1e-10)


@pytest.mark.parametrize("name", ["Adagrad", "RMSprop", "Adam", "AdamW"])
def test_defaults_are_torchs(name):
    ours = getattr(scratch.optim, name)([scratch.Parameter(np.ones(2))])
    theirs = getattr(torch.optim, name)([torch.ones(2, requires_grad=True)])
    for key, value in ours.defaults.items():
        assert theirs.defaults[key] == value, f"{name} default {key}: {value} vs torch {theirs.defaults[key]}"


def test_param_groups_keep_their_own_learning_rates():
    a, b = scratch.Parameter(np.ones(2)), scratch.Parameter(np.ones(2))
    opt = scratch.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad[:] = b.grad[:] = 1.0
    opt.step()
    # Adam's first step moves every weight by lr * sign(g) (up to eps): m_hat = g, v_hat = g^2.
    assert np.allclose(a.data, 0.9) and np.allclose(b.data, 0.5)
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)


def test_adamw_decays_weights_even_with_zero_gradient():
    p = scratch.Parameter(np.full(3, 2.0))
    opt = scratch.optim.AdamW([p], lr=0.1, weight_decay=0.5)
    opt.step()  # grad is zero: m = v = 0, so only the decoupled decay acts
    assert np.allclose(p.data, 2.0 * (1 - 0.1 * 0.5))
    q = scratch.Parameter(np.full(3, 2.0))
    scratch.optim.Adam([q], lr=0.1, weight_decay=0.5).step()  # coupled: the decay is normalised by sqrt(v)
    assert np.allclose(q.data, 2.0 - 0.1, atol=1e-6)


def test_adagrad_state_exists_before_the_first_step():
    p = scratch.Parameter(np.ones(2))
    opt = scratch.optim.Adagrad([p], initial_accumulator_value=0.25)
    assert opt.state[p]["step"] == 0 and np.array_equal(opt.state[p]["sum"], [0.25, 0.25])


def test_optimizers_follow_a_changed_group_lr(rng):
    """Schedulers work by writing group["lr"]; every optimiser must read it at each step."""
    for name in ["Adagrad", "RMSprop", "Adam", "AdamW"]:
        ours, theirs, opt, opt_t = make_pair(name, dict(lr=0.01), {}, rng)
        run_steps(ours, theirs, opt, opt_t, rng, steps=3)
        for group, group_t in zip(opt.param_groups, opt_t.param_groups):
            group["lr"] = group_t["lr"] = 0.2
        run_steps(ours, theirs, opt, opt_t, rng, steps=3)
        for p, q in zip(ours, theirs):
            assert_close(p.data, q, name, tol=1e-10)


@pytest.mark.parametrize("name, kwargs, message", [
    ("Adagrad", dict(lr=-0.1), "Adagrad: invalid learning rate lr=-0.1"),
    ("Adagrad", dict(lr_decay=-1.0), "invalid lr_decay=-1.0; it must be >= 0"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    ("RMSprop", dict(lr=-0.1), "RMSprop: invalid learning rate"),
    ("RMSprop", dict(momentum=-0.9), "invalid momentum=-0.9"),
    ("RMSprop", dict(alpha=-0.5), "invalid alpha"),
    ("Adam", dict(lr=-1e-3), "Adam: invalid learning rate lr=-0.001"),
    ("Adam", dict(betas=(0.9, 1.0)), r"invalid betas=\(0.9, 1.0\); both must be in \[0, 1\)"),
    ("Adam", dict(eps=-1e-8), "invalid eps"),
    ("AdamW", dict(lr=-1.0), "AdamW: invalid learning rate"),
    ("AdamW", dict(weight_decay=-0.01), "invalid weight_decay"),
])
def test_bad_hyper_parameters_are_refused(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(scratch.optim, name)([scratch.Parameter(np.ones(1))], **kwargs)


def test_foreign_and_empty_parameter_lists_are_refused():
    with pytest.raises(ValueError, match="empty parameter list"):
        scratch.optim.Adam([])
    with pytest.raises(TypeError, match="not a scratch Parameter"):
        scratch.optim.RMSprop([torch.zeros(2)])
