"""Bad input to course_lib.training (fit, train_step, the batch makers, callbacks, evaluation): every case teaches."""
import numpy as np
import pytest
import torch
from bad_input_harness import Bad, assert_teaches
from torch.utils.data import DataLoader, TensorDataset

from course_lib import scratch, training
from course_lib.training import (AccuracyEvery, EarlyStopping, History, MaxSteps, Schedule, fit, fit_in_phases,
                                 full_batches, random_batches, shuffled_batches)

X = np.random.default_rng(0).normal(size=(6, 3))
Y = np.array([0, 1, 0, 1, 1, 0])
QUIET = dict(progress=False, epochs=1)


def scratch_parts():
    model = scratch.Linear(3, 2)
    return model, scratch.CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=0.1)


def torch_parts():
    model = torch.nn.Linear(3, 2).double()
    return model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1)


def fit_scratch(train=(X, Y), **options):
    return fit(*scratch_parts(), train, **{**QUIET, **options})


def mixed(model_from, loss_from, optimizer_from):
    """fit with the model, the loss and the optimizer each taken from the scratch or the torch parts."""
    parts = {"scratch": scratch_parts(), "torch": torch_parts()}
    return fit(parts[model_from][0], parts[loss_from][1], parts[optimizer_from][2], (X, Y), **QUIET)


def fit_with_schedule_of_another_optimizer():
    other = scratch.optim.SGD(scratch.Linear(3, 2).parameters(), lr=0.1)
    return fit_scratch(callbacks=[Schedule(scratch.lr_scheduler.StepLR(other, step_size=2))])


def torch_loader(x, y, **options):
    return list(DataLoader(TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), **options))


def scratch_model_with_torch_optimizer_step():
    model, loss_fn, _ = scratch_parts()
    return training.train_step(model, loss_fn, torch_parts()[2], X, Y)


CASES = [
    # sizes and counts
    Bad("fit: batch_size=-1", lambda: fit_scratch(batch_size=-1), ValueError,
        says=("batch_size", "-1", "positive integer"), torch_does=lambda: torch_loader(X, Y, batch_size=-1)),
    Bad("fit: batch_size=2.5", lambda: fit_scratch(batch_size=2.5), ValueError,
        says=("batch_size", "2.5", "positive integer"), torch_does=lambda: torch_loader(X, Y, batch_size=2.5)),
    Bad("fit: epochs=0", lambda: fit_scratch(epochs=0), ValueError, says=("epochs", "0", "positive integer")),
    Bad("fit: epochs=1.5", lambda: fit_scratch(epochs=1.5), ValueError, says=("epochs", "1.5", "positive integer")),
    Bad("train_steps: steps=0", lambda: training.train_steps(*scratch_parts(), (X, Y), steps=0), ValueError,
        says=("steps", "0", "positive integer")),
    Bad("fit: an empty training set", lambda: fit_scratch(train=(X[:0], Y[:0])), ValueError,
        says=("train", "no examples"), torch_does=lambda: torch_loader(X[:0], Y[:0], shuffle=True)),
    # train and val are (x, y) pairs
    Bad("fit: val=x_test, a bare array", lambda: fit_scratch(val=X), TypeError,
        says=("val", "pair (x, y)", "shape (6, 3)", "val=(x_val, y_val)")),
    Bad("fit: val=(x, y, y)", lambda: fit_scratch(val=(X, Y, Y)), TypeError, says=("val", "pair (x, y)", "length 3")),
    Bad("fit: x and y as two arguments", lambda: fit(*scratch_parts(), X, Y, progress=False), TypeError,
        says=("train", "pair (x, y)", "one tuple")),
    Bad("fit: val with fewer labels than inputs", lambda: fit_scratch(val=(X, Y[:3])), ValueError,
        says=("val", "6 inputs", "3 labels"), torch_does=lambda: TensorDataset(torch.zeros(6, 3), torch.zeros(3))),
    # targets the loss cannot use (refused by the loss, through fit)
    Bad("fit: float class labels for CrossEntropyLoss", lambda: fit_scratch(train=(X, Y.astype(float))), TypeError,
        says=("integer class indices", "float64"),
        torch_does=lambda: torch.nn.functional.cross_entropy(torch.zeros(6, 2), torch.zeros(6, dtype=torch.float64))),
    Bad("fit: a label beyond the classes", lambda: fit_scratch(train=(X, Y + 5)), ValueError,
        says=("labels must be in 0..1", "out of range"),
        torch_does=lambda: torch.nn.functional.cross_entropy(torch.zeros(6, 2), torch.as_tensor(Y + 5))),
    # model, loss and optimizer from one world
    Bad("fit: scratch model, torch optimizer", lambda: mixed("scratch", "scratch", "torch"), TypeError,
        says=("scratch model", "torch SGD", "scratch.optim.SGD(model.parameters()")),
    Bad("fit: torch model, scratch optimizer", lambda: mixed("torch", "torch", "scratch"), TypeError,
        says=("torch model", "scratch SGD", "torch.optim.SGD(model.parameters()")),
    Bad("fit: scratch loss on a torch model", lambda: mixed("torch", "scratch", "torch"), TypeError,
        says=("torch model", "scratch CrossEntropyLoss", "torch.nn.CrossEntropyLoss()")),
    Bad("fit: torch loss on a scratch model", lambda: mixed("scratch", "torch", "scratch"), TypeError,
        says=("scratch model", "torch CrossEntropyLoss", "scratch.CrossEntropyLoss()")),
    Bad("fit: optimizer made for another model", lambda: fit(scratch.Linear(3, 2), *scratch_parts()[1:], (X, Y),
                                                            **QUIET), ValueError,
        says=("optimizer", "another model", "model.parameters()")),
    Bad("fit: a function as the model", lambda: fit(lambda x: x, *scratch_parts()[1:], (X, Y), **QUIET), TypeError,
        says=("model", "scratch", "torch.nn.Module", "function")),
    Bad("train_step: scratch model, torch optimizer", scratch_model_with_torch_optimizer_step, TypeError,
        says=("scratch model", "torch SGD", "scratch.optim.SGD")),
    Bad("fit: device='cuda' on a scratch model", lambda: fit_scratch(device="cuda"), ValueError,
        says=("device", "scratch model", "leave device out")),
    # batches, transform, callbacks
    Bad("fit: batches=shuffled_batches, the function", lambda: fit_scratch(batches=shuffled_batches), TypeError,
        says=("batches=", "shuffled_batches(64)")),
    Bad("fit: batches=64", lambda: fit_scratch(batches=64), TypeError, says=("batches=", "random_batches(", "an int")),
    Bad("fit: batches that yield nothing", lambda: fit_scratch(batches=lambda n: []), ValueError,
        says=("epoch 0", "no mini-batches", "batches=")),
    Bad("fit: a transform that returns None", lambda: fit_scratch(transform=lambda xb: None), TypeError,
        says=("transform", "None", "return")),
    Bad("fit: a perturb that drops half the batch", lambda: fit_scratch(perturb=lambda model, xb, yb: xb[::2]),
        ValueError, says=("perturb", "6 inputs into 3", "labels must still pair up")),
    Bad("fit: callbacks=MaxSteps(1), not a list", lambda: fit_scratch(callbacks=MaxSteps(1)), TypeError,
        says=("callbacks", "list", "[MaxSteps(100)]")),
    Bad("fit: callbacks=[MaxSteps], the class", lambda: fit_scratch(callbacks=[MaxSteps]), TypeError,
        says=("callbacks[0]", "class MaxSteps", "MaxSteps(...)")),
    Bad("fit: Schedule over another optimizer", fit_with_schedule_of_another_optimizer, ValueError,
        says=("Schedule", "another optimizer", "fit's optimizer")),
    Bad("Schedule(optimizer) instead of a scheduler", lambda: Schedule(scratch_parts()[2]), TypeError,
        says=("Schedule", "optimizer SGD", "StepLR(optimizer")),
    Bad("fit_in_phases: no phases", lambda: fit_in_phases(*scratch_parts(), (X, Y), [], progress=False), ValueError,
        says=("phases", "non-empty", "(0.05, 4)")),
    Bad("fit_in_phases: (epochs, lr) swapped", lambda: fit_in_phases(*scratch_parts(), (X, Y), [(4, 0.05)],
                                                                     progress=False), ValueError,
        says=("phases[0]", "(4, 0.05)", "swapped")),
    # batch makers
    Bad("shuffled_batches(batch_size=-1)", lambda: shuffled_batches(-1), ValueError,
        says=("batch_size", "-1", "positive integer"), torch_does=lambda: torch_loader(X, Y, batch_size=-1)),
    Bad("random_batches(batch_size=0)", lambda: random_batches(0, steps=2), ValueError,
        says=("batch_size", "0", "positive integer"), torch_does=lambda: torch_loader(X, Y, batch_size=0)),
    Bad("full_batches(steps=0)", lambda: full_batches(0), ValueError, says=("steps", "0", "positive integer")),
    # callbacks' own arguments
    Bad("EarlyStopping(patience=-1)", lambda: EarlyStopping(patience=-1), ValueError,
        says=("patience", "-1", "positive integer")),
    Bad("EarlyStopping: best_epoch before any validation loss", lambda: EarlyStopping().best_epoch, ValueError,
        says=("no validation loss", "at least one epoch")),
    Bad("AccuracyEvery(every=0)", lambda: AccuracyEvery(X, Y, every=0), ValueError,
        says=("every", "0", "positive integer")),
    Bad("AccuracyEvery(target=90), a percentage", lambda: AccuracyEvery(X, Y, target=90), ValueError,
        says=("target", "90", "(0, 1]", "0.9")),
    Bad("AccuracyEvery: x and y of different lengths", lambda: AccuracyEvery(X, Y[:4]), ValueError,
        says=("AccuracyEvery", "6 inputs", "4 labels")),
    Bad("MaxSteps(0)", lambda: MaxSteps(0), ValueError, says=("max_steps", "0", "positive integer")),
    # evaluation
    Bad("outputs: batch_size=0", lambda: training.outputs(scratch_parts()[0], X, batch_size=0), ValueError,
        says=("batch_size", "0", "positive integer")),
    Bad("outputs: an empty x", lambda: training.outputs(scratch_parts()[0], X[:0]), ValueError,
        says=("x", "no examples")),
    Bad("accuracy: labels as a column (N, 1)", lambda: training.accuracy(scratch_parts()[0], X, Y[:, None]),
        ValueError, says=("y", "(6,)", "(6, 1)", "y.ravel()")),
    Bad("accuracy: one-hot labels", lambda: training.accuracy(torch_parts()[0], X, np.eye(2)[Y]), ValueError,
        says=("y", "(6, 2)", "y.argmax(1)")),
    Bad("History + a list", lambda: History() + [], TypeError, says=("History", "list")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_teaches(case):
    assert_teaches(case)


def test_fit_takes_lists_as_arrays():
    """Decided: lists for x and y (train and val) are turned into arrays, not refused."""
    history = fit_scratch(train=(X.tolist(), Y.tolist()), val=(X.tolist(), Y.tolist()))
    assert len(history.train_loss) == 1 and len(history.val_acc) == 1


def test_histories_sum_from_zero():
    parts = [History(train_loss=[1.0]), History(train_loss=[0.5])]
    assert sum(parts).train_loss == [1.0, 0.5]
