"""Bad input to the exercise checker: answers wrong in form rather than in value, and check() called wrongly.

Each case is a learner's slip on a real exercise (course_lib.exercises.check): the message must say what is wrong
and the fix, in the learner's words. Wrong values (declared mistakes, hints) are tested in tests/test_exercises.py
and tests/lessons/. No case has a torch equivalent: the checker is the course's own.
"""
import numpy as np
import pytest
import torch
from bad_input_harness import Bad, assert_teaches

from course_lib.exercises import EXERCISES, ExerciseFailed, check, show
from course_lib.exercises.checking import Exercise, run_check


def reference(key):
    return EXERCISES[key].reference


def softmax(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_without_keepdims(scores):
    e = np.exp(scores - scores.max(axis=1))            # (N, C) - (N,): the learner's bug, on their line
    return e / e.sum(axis=1, keepdims=True)


def softmax_that_prints(scores):
    print(softmax(scores))


def leaky_relu_without_slope(x):
    return np.where(x > 0, x, 0.01 * x)


def sgd_momentum_with_dampening(w, grad, buf, lr, momentum, dampening):
    buf = momentum * buf + (1 - dampening) * grad
    return w - lr * buf, buf


def mean_image_into_uint8(images, labels, digit):
    out = np.zeros_like(images[0])                      # uint8, like the images: the mean is truncated into it
    out[:] = images[labels == digit].mean(axis=0)
    return out


def stub(*args):
    raise NotImplementedError("Exercise: replace this line with your answer")


def topological_order_without_return(root):
    order, stack = [], [root]
    while stack:
        order.append(stack.pop())


def linear_backward_parts(dy, x, W):
    return dy @ W, dy.T @ x, dy.sum(axis=0)


def batchnorm_backward_parts(*args):
    return reference("08.batchnorm_backward")(*args)


SQUARE = Exercise(key="t.square", task="What is 3 squared?", hint="3 * 3", expected=9)

CASES = [
    # ------------------------------------------------------------------ the function returned nothing
    Bad("02.softmax: returns None (print, no return)", lambda: check("02.softmax", softmax_that_prints),
        ExerciseFailed, says=("None", "returned nothing", "forget `return`")),
    Bad("02.cross_entropy: returns None where a number is expected (was 'nan or inf (overflow?)')",
        lambda: check("02.cross_entropy", lambda scores, target: None), ExerciseFailed,
        says=("None", "forget `return`")),
    Bad("08.early_stopping: returns the None of list.sort()",
        lambda: check("08.early_stopping", lambda val_loss, patience: list(val_loss).sort()), ExerciseFailed,
        says=("None", "in-place", "x.sort()")),
    Bad("03.linear_backward: returns None where (dx, dW, db) is expected",
        lambda: check("03.linear_backward", lambda dy, x, W: None), ExerciseFailed,
        says=("returned None", "(dx, dW, db)", "3 results", "forget `return`")),
    Bad("08.batchnorm_backward: one part of the tuple is None",
        lambda: check("08.batchnorm_backward", lambda *a: (batchnorm_backward_parts(*a)[0], None,
                                                           batchnorm_backward_parts(*a)[2])),
        ExerciseFailed, says=("dgamma", "None")),
    Bad("03.topological_order: returns None (was blamed on recursion)",
        lambda: check("03.topological_order", topological_order_without_return), ExerciseFailed,
        says=("returned None", "return order")),

    # ------------------------------------------------------------------ the wrong kind of thing
    Bad("01.sigmoid: a Python list where an array is expected",
        lambda: check("01.sigmoid", lambda x: reference("01.sigmoid")(x).tolist()), ExerciseFailed,
        says=("Python list", "NumPy array", "np.array(")),
    Bad("04.rmsprop_step: a part is a list, named by the part",
        lambda: check("04.rmsprop_step", lambda *a: (reference("04.rmsprop_step")(*a)[0],
                                                     reference("04.rmsprop_step")(*a)[1].tolist())),
        ExerciseFailed, says=("new_square_avg", "Python list", "np.array(")),
    Bad("02.softmax: a torch tensor where a NumPy array is expected",
        lambda: check("02.softmax", lambda scores: torch.softmax(torch.from_numpy(scores), dim=1)), ExerciseFailed,
        says=("torch.Tensor", "NumPy", ".numpy()")),
    Bad("02.hinge: a 0-d torch tensor where a number is expected",
        lambda: check("02.hinge", lambda s, t: torch.tensor(reference("02.hinge")(s, t))), ExerciseFailed,
        says=("torch.Tensor", "a single number")),
    Bad("01.neuron: torch's function on the NumPy arrays the checker passes",
        lambda: check("01.neuron", lambda x, w, b: torch.sigmoid(x @ w + b)), ExerciseFailed,
        says=("raised TypeError", "must be Tensor", "NumPy's functions")),
    Bad("02.softmax: a generator expression",
        lambda: check("02.softmax", lambda scores: (row for row in softmax(scores))), ExerciseFailed,
        says=("generator", "square brackets")),
    Bad("09.first_n_per_class: a set, not numbers in order",
        lambda: check("09.first_n_per_class", lambda labels, n: set(reference("09.first_n_per_class")(labels, n))),
        ExerciseFailed, says=("a set", "cannot be read as numbers", "NumPy array")),

    # ------------------------------------------------------------------ one number vs an array, the shape slips
    Bad("00.ink_fraction: one number (a mean over every axis)",
        lambda: check("00.ink_fraction", lambda images: (images > 0).mean()), ExerciseFailed,
        says=("single number", "axis=")),
    Bad("02.cross_entropy: the per-example losses where one number is expected",
        lambda: check("02.cross_entropy", lambda s, t: -np.log(softmax(s)[np.arange(len(t)), t])), ExerciseFailed,
        says=("single number is expected", "mean")),
    Bad("08.update_ratio: a one-element array where a number is expected",
        lambda: check("08.update_ratio", lambda a, b: np.array([reference("08.update_ratio")(a, b)])),
        ExerciseFailed, says=("single number", ".item()")),
    Bad("02.softmax: the transpose",
        lambda: check("02.softmax", lambda scores: softmax(scores).T), ExerciseFailed,
        says=("transpose", ".T")),
    Bad("05.conv2d_forward: channels last (NHWC) instead of NCHW",
        lambda: check("05.conv2d_forward", lambda *a: reference("05.conv2d_forward")(*a).transpose(0, 2, 3, 1)),
        ExerciseFailed, says=("axes in another order", "transpose")),
    Bad("01.neuron: a column (N, 1) where (N,) is expected",
        lambda: check("01.neuron", lambda x, w, b: reference("01.neuron")(x, w, b)[:, None]), ExerciseFailed,
        says=("extra axis of length 1", ".squeeze()")),
    Bad("06.global_avg_pool: keepdims=True leaves (N, C, 1, 1)",
        lambda: check("06.global_avg_pool", lambda x: x.mean(axis=(2, 3), keepdims=True)), ExerciseFailed,
        says=("extra axis of length 1", "keepdims=True")),
    Bad("00.ink_fraction: a mean over one pixel axis only",
        lambda: check("00.ink_fraction", lambda images: (images > 0).mean(axis=1)), ExerciseFailed,
        says=("keeps the axes", "axis=")),
    Bad("01.leaky_relu: int dtype truncates the fractions",
        lambda: check("01.leaky_relu", lambda x, a: np.where(x > 0, x, a * x).astype(int)), ExerciseFailed,
        says=("integers (int64)", "astype(int)")),
    Bad("00.mean_image: the mean stored into np.zeros_like of uint8 images",
        lambda: check("00.mean_image", mean_image_into_uint8), ExerciseFailed,
        says=("integers (uint8)", "zeros_like")),

    # ------------------------------------------------------------------ tuples: one array, length, order
    Bad("02.softmax: a trailing comma returns a tuple of 1",
        lambda: check("02.softmax", lambda scores: (softmax(scores),)), ExerciseFailed,
        says=("tuple of 1", "trailing comma")),
    Bad("02.cross_entropy_grad: (grad, loss) where the gradient alone is expected",
        lambda: check("02.cross_entropy_grad", lambda s, t: (reference("02.cross_entropy_grad")(s, t), 0.0)),
        ExerciseFailed, says=("tuple of 2 values", "alone")),
    Bad("03.linear_backward: a tuple of 2 where (dx, dW, db) is expected",
        lambda: check("03.linear_backward", lambda dy, x, W: linear_backward_parts(dy, x, W)[:2]), ExerciseFailed,
        says=("(dx, dW, db)", "3 results", "tuple of 2")),
    Bad("03.linear_backward: the right parts in another order",
        lambda: check("03.linear_backward", lambda dy, x, W: (dy.T @ x, dy @ W, dy.sum(axis=0))), ExerciseFailed,
        says=("another order", "(dW, dx, db)", "expected (dx, dW, db)")),

    # ------------------------------------------------------------------ the function raises
    Bad("01.sigmoid: the unfilled stub", lambda: check("01.sigmoid", stub), ExerciseFailed,
        says=("not attempted yet", "Replace the stub", "NotImplementedError")),
    Bad("02.softmax: the learner's own error, at the learner's line",
        lambda: check("02.softmax", softmax_without_keepdims), ExerciseFailed,
        says=("raised ValueError", "broadcast", "in softmax_without_keepdims, line",
              "scores - scores.max(axis=1)", "fix your code there")),

    # ------------------------------------------------------------------ the function takes other arguments
    Bad("01.leaky_relu: negative_slope forgotten in the signature",
        lambda: check("01.leaky_relu", leaky_relu_without_slope), ExerciseFailed,
        says=("leaky_relu_without_slope(x)", "2 argument(s)", "negative_slope = ", "(x, negative_slope)")),
    Bad("04.sgd_momentum_step: one parameter too many",
        lambda: check("04.sgd_momentum_step", sgd_momentum_with_dampening), ExerciseFailed,
        says=("dampening", "5 argument(s)", "(w, grad, buf, lr, momentum)")),

    # ------------------------------------------------------------------ check() called wrongly
    Bad("check: the function's result instead of the function",
        lambda: check("02.softmax", softmax(np.zeros((2, 3)))), TypeError,
        says=("your function", "a ndarray", "without parentheses")),
    Bad("check: the None a printing function returned",
        lambda: check("02.softmax", softmax_that_prints(np.zeros((2, 3)))), TypeError,
        says=("you passed None", "without parentheses")),
    Bad("check: the function's name in quotes", lambda: check("02.softmax", "softmax"), TypeError,
        says=("the string 'softmax'", "quotes")),
    Bad("check: the two arguments swapped", lambda: check(softmax, "02.softmax"), TypeError,
        says=("name first", "'02.softmax'", "swapped")),
    Bad("check: a typo in the key", lambda: check("02.sofmax", softmax), KeyError,
        says=("'02.sofmax'", "Did you mean '02.softmax'")),
    Bad("check: the key without its notebook number", lambda: check("relu_backward", softmax), KeyError,
        says=("Did you mean '03.relu_backward'", "notebook's number")),
    Bad("show: a typo in the key", lambda: show("03.linear_backwards"), KeyError,
        says=("Did you mean '03.linear_backward'",)),
    Bad("a value exercise given a function", lambda: run_check(SQUARE, lambda: 9), TypeError,
        says=("wants a value", "call it")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_teaches(case):
    assert_teaches(case)


def test_a_torch_size_is_read_as_the_numbers_it_holds():
    """torch.Size is a tuple of ints, not a tensor: no 'this exercise is NumPy' for the channel counts of a shape."""
    channels = reference("07.dense_block_channels")
    check("07.dense_block_channels", lambda *args: torch.Size(channels(*args)))
    with pytest.raises(ExerciseFailed, match="differ") as failure:
        check("07.dense_block_channels", lambda *args: torch.Size([1 + c for c in channels(*args)]))
    assert "NumPy" not in str(failure.value)
