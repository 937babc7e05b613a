"""scratch.lr_scheduler against torch.optim.lr_scheduler: the same lr (and momentum) at every step."""
import math

import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.scratch import lr_scheduler
from parity_helpers import assert_close

STEPS = 40

# (scheduler name, its arguments, optimiser name, optimiser options); two param groups, lrs 0.1 and 0.02.
CASES = [
    ("StepLR", dict(step_size=7, gamma=0.5), "SGD", dict(momentum=0.9)),
    ("StepLR", dict(step_size=10), "Adam", dict()),
    ("ExponentialLR", dict(gamma=0.9), "SGD", dict()),
    ("ExponentialLR", dict(gamma=0.97), "Adam", dict()),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001), "SGD", dict(momentum=0.9)),
    ("CosineAnnealingLR", dict(T_max=30), "Adam", dict()),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.005), "SGD", dict()),
    ("LinearLR", dict(), "SGD", dict()),
    ("LinearLR", dict(start_factor=0.1, total_iters=10), "Adam", dict()),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.2, total_iters=25), "SGD", dict()),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=STEPS), "SGD", dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.05], total_steps=STEPS, anneal_strategy="linear"), "SGD", dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=STEPS, three_phase=True, pct_start=0.25), "Adam", dict()),
    ("OneCycleLR", dict(max_lr=0.01, epochs=4, steps_per_epoch=10, base_momentum=0.8, max_momentum=0.9), "AdamW", dict()),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=STEPS, div_factor=10.0, final_div_factor=100.0), "RMSprop",
     dict(momentum=0.5)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=STEPS, cycle_momentum=False), "Adagrad", dict()),
]


def case_id(case):
    name, kwargs, opt_name, _ = case
    return f"{name}({','.join(f'{k}={v}' for k, v in kwargs.items())})-{opt_name}"


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_lr_sequence_matches_torch(case, rng):
    name, kwargs, opt_name, opt_options = case
    ours = [scratch.Parameter(rng.standard_normal((3, 2))) for _ in range(2)]
    theirs = [torch.tensor(p.data.copy(), requires_grad=True) for p in ours]
    groups = [{"params": [ours[0]], "lr": 0.1}, {"params": [ours[1]], "lr": 0.02}]
    groups_t = [{"params": [theirs[0]], "lr": 0.1}, {"params": [theirs[1]], "lr": 0.02}]
    opt = getattr(scratch.optim, opt_name)(groups, lr=0.1, **opt_options)
    opt_t = getattr(torch.optim, opt_name)(groups_t, lr=0.1, **opt_options)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    sched_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **kwargs)
    steps = STEPS - 1 if name == "OneCycleLR" else STEPS  # OneCycleLR sets total_steps lrs in all
    for step in range(steps + 1):
        assert sched.last_epoch == sched_t.last_epoch == step
        for lr, lr_t in zip(sched.get_last_lr(), sched_t.get_last_lr()):
            assert abs(lr - lr_t) <= 1e-12 * abs(lr_t), f"step {step}: lr {lr!r} vs torch {lr_t!r}"
        for group, group_t in zip(opt.param_groups, opt_t.param_groups):
            assert group["lr"] == pytest.approx(group_t["lr"], rel=1e-12, abs=0)
            if momentum_of(group_t) is not None:
                assert momentum_of(group) == pytest.approx(momentum_of(group_t), rel=1e-12), f"step {step}: momentum"
        if step == steps:
            break
        for p, q in zip(ours, theirs):
            g = rng.standard_normal(p.shape)
            p.grad, q.grad = g.copy(), torch.tensor(g)
        opt.step()
        opt_t.step()
        sched.step()
        sched_t.step()
    for p, q in zip(ours, theirs):  # the optimiser followed the schedule
        assert_close(p.data, q, "parameter after the schedule", tol=1e-10)


def make_sgd(lr=0.1, **options):
    return scratch.optim.SGD([scratch.Parameter(np.ones(2))], lr=lr, **options)


def test_steplr_staircase_closed_form():
    opt = make_sgd(0.1)
    sched = lr_scheduler.StepLR(opt, step_size=10, gamma=0.1)
    lrs = []
    for _ in range(30):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert lrs[:10] == [0.1] * 10
    assert np.allclose(lrs[10:20], 0.01) and np.allclose(lrs[20:], 0.001)


def test_cosine_recursion_agrees_with_closed_form():
    T, eta_min, base = 12, 0.001, 0.1
    opt = make_sgd(base)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=T, eta_min=eta_min)
    for t in range(1, 3 * T):
        opt.step()
        sched.step()
        closed = eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(closed, rel=1e-12)


def test_linear_warmup_reaches_base_lr_and_stays():
    opt = make_sgd(0.2)
    sched = lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=4)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(8):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert np.allclose(lrs, [0.05, 0.0875, 0.125, 0.1625, 0.2, 0.2, 0.2, 0.2, 0.2])


def test_one_cycle_peaks_at_max_lr_with_lowest_momentum():
    opt = make_sgd(momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=22, pct_start=0.5, anneal_strategy="linear")
    history = []
    for _ in range(22):
        history.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
        opt.step()
        sched.step()
    lrs, moms = np.array(history).T
    peak = int(np.argmax(lrs))
    assert peak == 10  # the warm-up phase ends at step pct_start * total_steps - 1
    assert lrs[0] == pytest.approx(1.0 / 25) and lrs[peak] == pytest.approx(1.0)
    assert moms[0] == pytest.approx(0.95) and moms[peak] == pytest.approx(0.85) and moms[-1] == pytest.approx(0.95)
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)


def test_scheduler_records_initial_lr_like_torch():
    opt = make_sgd(0.3)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["initial_lr"] == 0.3 and sched.base_lrs == [0.3]
    assert opt.param_groups[0]["lr"] == 0.15


def test_errors_that_teach():
    with pytest.raises(TypeError, match="needs a course_lib.scratch.optim optimizer.*torch.optim.lr_scheduler"):
        lr_scheduler.StepLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), step_size=3)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        lr_scheduler.StepLR(make_sgd(), step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive integer"):
        lr_scheduler.CosineAnnealingLR(make_sgd(), T_max=0)
    with pytest.raises(ValueError, match=r"start_factor must be in \(0, 1\]"):
        lr_scheduler.LinearLR(make_sgd(), start_factor=0.0)
    with pytest.raises(ValueError, match="anneal_strategy must be 'cos' or 'linear'"):
        lr_scheduler.OneCycleLR(make_sgd(), max_lr=0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="give total_steps, or both epochs and steps_per_epoch"):
        lr_scheduler.OneCycleLR(make_sgd(), max_lr=0.1)
    with pytest.raises(ValueError, match="no momentum or betas to cycle; pass cycle_momentum=False"):
        lr_scheduler.OneCycleLR(scratch.optim.Adagrad([scratch.Parameter(np.ones(1))]), max_lr=0.1, total_steps=5)
    with pytest.raises(ValueError, match="max_lr has 2 values but the optimizer has 1 param groups"):
        lr_scheduler.OneCycleLR(make_sgd(momentum=0.9), max_lr=[0.1, 0.2], total_steps=5)


def test_one_cycle_refuses_to_step_past_the_end():
    opt = make_sgd(momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    opt.step()
    sched.step()
    sched.step()
    sched.step()  # last_epoch == total_steps is still allowed, as in torch
    with pytest.raises(ValueError, match="tried to step 4 times, but total_steps=3"):
        sched.step()


def test_reachable_at_torchs_path():
    """torch.optim.lr_scheduler.StepLR  <->  scratch.optim.lr_scheduler.StepLR."""
    assert scratch.optim.lr_scheduler is lr_scheduler
