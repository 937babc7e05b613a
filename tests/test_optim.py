"""scratch.optim.SGD against torch.optim.SGD, update for update, every option exercised."""
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
