"""Bad input to course_lib.scratch.optim and scratch.lr_scheduler: every case teaches, and torch agrees."""
import numpy as np
import pytest
import torch
from bad_input_harness import Bad, assert_teaches

from course_lib import scratch
from course_lib.scratch import lr_scheduler

optim = scratch.optim


def weights():
    return [scratch.Parameter(np.ones(2))]


def torch_weights():
    return [torch.nn.Parameter(torch.ones(2))]


def used_up_generator(optimizers, model):
    """Two optimisers from one model.parameters() generator: the second gets nothing."""
    params = model.parameters()
    optimizers.SGD(params, lr=0.1)
    return optimizers.SGD(params, lr=0.1)


def one_parameter_in_two_groups(optimizers, params):
    w = params[0]
    return optimizers.SGD([{"params": [w]}, {"params": [w], "lr": 0.01}], lr=0.1)


def scheduler_before_optimizer(optimizers, schedulers, params):
    optimizer = optimizers.SGD(params, lr=0.1)
    schedulers.StepLR(optimizer, step_size=2).step()


def sgd(momentum=0.9):
    return optim.SGD(weights(), lr=0.1, momentum=momentum)


def torch_sgd(momentum=0.9):
    return torch.optim.SGD(torch_weights(), lr=0.1, momentum=momentum)


CASES = [
    # what params may be
    Bad("SGD: a used-up model.parameters() generator", lambda: used_up_generator(optim, scratch.Linear(3, 2)),
        ValueError, says=("used-up generator", "model.parameters()", "list(model.parameters())"),
        torch_does=lambda: used_up_generator(torch.optim, torch.nn.Linear(3, 2))),
    Bad("SGD: a model without parameters", lambda: optim.SGD(scratch.ReLU().parameters(), lr=0.1), ValueError,
        says=("empty parameter list", "no parameters"),
        torch_does=lambda: torch.optim.SGD(torch.nn.ReLU().parameters(), lr=0.1)),
    Bad("SGD: the model instead of its parameters", lambda: optim.SGD(scratch.Linear(3, 2), lr=0.1), TypeError,
        says=("model itself", "Linear", "model.parameters()"),
        torch_does=lambda: torch.optim.SGD(torch.nn.Linear(3, 2), lr=0.1)),
    Bad("SGD: one Parameter, not a list", lambda: optim.SGD(weights()[0], lr=0.1), TypeError,
        says=("single Parameter", "list", "[weight]"), torch_does=lambda: torch.optim.SGD(torch_weights()[0], lr=0.1)),
    Bad("SGD: a torch parameter", lambda: optim.SGD(torch_weights(), lr=0.1), TypeError,
        says=("params[0]", "torch", "torch.optim.SGD(torch_model.parameters()"),
        torch_does=lambda: torch.optim.SGD(weights(), lr=0.1)),
    Bad("SGD: a NumPy array as a parameter", lambda: optim.SGD([np.zeros(2)], lr=0.1), TypeError,
        says=("params[0]", "NumPy array", "scratch.Parameter(array)"),
        torch_does=lambda: torch.optim.SGD([np.zeros(2)], lr=0.1)),
    Bad("SGD: a parameter in two param groups", lambda: one_parameter_in_two_groups(optim, weights()), ValueError,
        says=("more than one parameter group", "exactly one group"),
        torch_does=lambda: one_parameter_in_two_groups(torch.optim, torch_weights())),
    Bad("SGD: the same parameter twice in a group", lambda: optim.SGD(weights() * 2, lr=0.1), UserWarning,
        says=("same Parameter more than once", "once"),
        torch_does=lambda: torch.optim.SGD(torch_weights() * 2, lr=0.1)),
    Bad("SGD: a param group without 'params'", lambda: optim.SGD([{"lr": 0.1}], lr=0.1), ValueError,
        says=("param group 0", "'params'"), torch_does=lambda: torch.optim.SGD([{"lr": 0.1}], lr=0.1)),
    Bad("SGD: param-group dicts mixed with parameters", lambda: optim.SGD([{"params": weights()}, *weights()],
                                                                         lr=0.1), TypeError,
        says=("mixes param-group dicts", "only dicts"),
        torch_does=lambda: torch.optim.SGD([{"params": torch_weights()}, *torch_weights()], lr=0.1)),
    # hyper-parameters
    Bad("SGD: a param group's own lr=-1", lambda: optim.SGD([{"params": weights(), "lr": -1}], lr=0.1), ValueError,
        says=("lr=-1", ">= 0")),
    Bad("SGD: lr=None", lambda: optim.SGD(weights(), lr=None), TypeError, says=("lr", "number", "None"),
        torch_does=lambda: torch.optim.SGD(torch_weights(), lr=None)),
    Bad("SGD: lr=nan", lambda: optim.SGD(weights(), lr=float("nan")), ValueError, says=("lr=nan", "finite")),
    Bad("SGD: weight_decay=-1", lambda: optim.SGD(weights(), lr=0.1, weight_decay=-1), ValueError,
        says=("weight_decay=-1", ">= 0"), torch_does=lambda: torch.optim.SGD(torch_weights(), lr=0.1, weight_decay=-1)),
    Bad("Adam: betas with one value", lambda: optim.Adam(weights(), betas=(0.9,)), ValueError,
        says=("betas=(0.9,)", "both", "[0, 1)"), torch_does=lambda: torch.optim.Adam(torch_weights(), betas=(0.9,))),
    Bad("Adam: a negative beta1", lambda: optim.Adam(weights(), betas=(-0.1, 0.999)), ValueError,
        says=("betas=(-0.1, 0.999)", "[0, 1)"), torch_does=lambda: torch.optim.Adam(torch_weights(), betas=(-0.1, 0.999))),
    Bad("Adagrad: eps=-1", lambda: optim.Adagrad(weights(), eps=-1), ValueError, says=("eps=-1", ">= 0"),
        torch_does=lambda: torch.optim.Adagrad(torch_weights(), eps=-1)),
    Bad("RMSprop: weight_decay=-1", lambda: optim.RMSprop(weights(), weight_decay=-1), ValueError,
        says=("weight_decay=-1", ">= 0"), torch_does=lambda: torch.optim.RMSprop(torch_weights(), weight_decay=-1)),
    # schedulers
    Bad("scheduler.step() before optimizer.step()", lambda: scheduler_before_optimizer(optim, lr_scheduler, weights()),
        UserWarning, says=("lr_scheduler.step()", "before", "optimizer.step()"),
        torch_does=lambda: scheduler_before_optimizer(torch.optim, torch.optim.lr_scheduler, torch_weights())),
    Bad("StepLR: gamma=-1", lambda: lr_scheduler.StepLR(sgd(), step_size=2, gamma=-1), ValueError,
        says=("gamma", "> 0", "-1")),
    Bad("ExponentialLR: gamma=0", lambda: lr_scheduler.ExponentialLR(sgd(), gamma=0), ValueError,
        says=("gamma", "> 0", "got 0")),
    Bad("CosineAnnealingLR: eta_min=-1", lambda: lr_scheduler.CosineAnnealingLR(sgd(), T_max=3, eta_min=-1),
        ValueError, says=("eta_min", ">= 0", "-1")),
    Bad("LinearLR: total_iters=0", lambda: lr_scheduler.LinearLR(sgd(), total_iters=0), ValueError,
        says=("total_iters", "positive integer", "0")),
    Bad("OneCycleLR: max_lr=-0.1", lambda: lr_scheduler.OneCycleLR(sgd(), max_lr=-0.1, total_steps=10), ValueError,
        says=("max_lr", "> 0", "-0.1")),
    Bad("OneCycleLR: div_factor=0", lambda: lr_scheduler.OneCycleLR(sgd(), max_lr=0.1, total_steps=10, div_factor=0),
        ValueError, says=("div_factor", "> 0", "max_lr / div_factor"),
        torch_does=lambda: torch.optim.lr_scheduler.OneCycleLR(torch_sgd(), max_lr=0.1, total_steps=10, div_factor=0)),
    Bad("OneCycleLR: final_div_factor=0", lambda: lr_scheduler.OneCycleLR(sgd(), max_lr=0.1, total_steps=10,
                                                                        final_div_factor=0), ValueError,
        says=("final_div_factor", "> 0"),
        torch_does=lambda: torch.optim.lr_scheduler.OneCycleLR(torch_sgd(), max_lr=0.1, total_steps=10,
                                                               final_div_factor=0)),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_teaches(case):
    assert_teaches(case)


def test_scheduler_after_optimizer_step_is_quiet(recwarn):
    optimizer = sgd()
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2)
    optimizer.step()
    scheduler.step()
    assert not recwarn.list
