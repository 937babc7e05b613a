"""Exercises of notebook 11: image to image.

Four pieces of the notebook's machinery, each checked on hidden test inputs: PSNR per image, IoU per class, the
output size of a transposed convolution, and the backward of a channel concatenation (a U-Net's skip). Then the
decks' two quizzes, which output activation and which loss for a reconstruction and for a segmentation: the
learner's function returns two words, and a wrong pair is answered with the reason it is wrong.
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from .. import conv_arithmetic as ca
from .. import metrics
from ..scratch import functional as sf
from ..scratch.sizes import transposed_output_size
from .checking import Exercise, ExerciseFailed

# ------------------------------------------------------------------ 11.psnr


def _psnr_inputs(rng: np.random.Generator) -> tuple:
    data_range = float(rng.choice([2.0, 10.0, 255.0]))           # never 1: a missing square must show
    shape = (int(rng.integers(2, 5)), int(rng.integers(1, 4)), int(rng.integers(4, 8)), int(rng.integers(4, 8)))
    target = rng.random(shape) * data_range
    noise = rng.standard_normal(shape) * data_range * rng.uniform(0.02, 0.3, (shape[0], 1, 1, 1))
    return np.clip(target + noise, 0.0, data_range), target, data_range   # each image its own noise level


def _image_mse(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    return ((pred - target) ** 2).reshape(len(pred), -1).mean(axis=1)


# ------------------------------------------------------------------ 11.iou


def _iou_inputs(rng: np.random.Generator) -> tuple:
    num_classes = int(rng.integers(4, 7))
    absent = int(rng.integers(1, num_classes))                   # a class in neither map: its IoU is nan
    present = np.array([c for c in range(num_classes) if c != absent])
    shape = (int(rng.integers(1, 3)), int(rng.integers(5, 9)), int(rng.integers(5, 9)))
    true = rng.choice(present, shape, p=_mostly_background(len(present)))
    pred = np.where(rng.random(shape) < 0.7, true, rng.choice(present, shape))   # right on most pixels
    return pred, true, num_classes


def _mostly_background(n: int) -> np.ndarray:
    """Class 0 the most common, as in the digit scenes."""
    p = np.full(n, 1.0)
    p[0] = n
    return p / p.sum()


def _counts(pred: np.ndarray, true: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per class: pixels predicted and true (the intersection), pixels predicted, pixels true."""
    classes = np.arange(num_classes)[:, None]
    p, t = pred.ravel()[None] == classes, true.ravel()[None] == classes
    return (p & t).sum(1).astype(float), p.sum(1).astype(float), t.sum(1).astype(float)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return top / bottom


# ------------------------------------------------------------------ 11.transposed_output_size


def _transposed_inputs(rng: np.random.Generator) -> tuple:
    while True:
        stride, dilation = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        size, kernel_size, padding = int(rng.integers(2, 16)), int(rng.integers(2, 6)), int(rng.integers(0, 3))
        output_padding = int(rng.integers(0, max(stride, dilation)))          # torch: < stride or < dilation
        if transposed_output_size(size, kernel_size, stride, padding, output_padding, dilation) >= 1:
            return size, kernel_size, stride, padding, output_padding, dilation


def _conv_formula(size, kernel_size, stride, padding, output_padding, dilation):
    """A common mistake: the convolution's size, as a learner writes it (no check that the kernel fits)."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


# ------------------------------------------------------------------ 11.cat_backward


def _cat_inputs(rng: np.random.Generator) -> tuple:
    sizes = [int(s) for s in rng.choice(np.arange(1, 7), int(rng.integers(2, 4)), replace=False)]  # all different
    shape = (int(rng.integers(2, 4)), sum(sizes), int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    return rng.standard_normal(shape), sizes


def _cat_backward_reference(grad_output: np.ndarray, sizes) -> tuple:
    return tuple(sf.cat_backward(grad_output, sizes, dim=1))


# ------------------------------------------------------------------ the quizzes: which output, which loss

ACTIVATIONS = ("linear", "sigmoid", "softmax", "relu")
LOSSES = ("mse", "l1", "cross_entropy", "dice", "cross_entropy+dice", "bce")
_SAME_AS = {"identity": "linear", "none": "linear", "mae": "l1", "ce": "cross_entropy", "crossentropy": "cross_entropy",
            "cross-entropy": "cross_entropy", "binary_cross_entropy": "bce", "ce+dice": "cross_entropy+dice"}
VOCABULARY = (f"the activation one of {', '.join(map(repr, ACTIVATIONS))}; the loss one of "
              f"{', '.join(map(repr, LOSSES))}")
_PROBABILITY_LOSS_GRADIENT = (
    "{loss} on probabilities against the 0/1 target: when the network is confidently wrong (the true class's p "
    "near 0), the gradient through the {act}, p(1 - p), is near 0 too and learning stalls where it is needed most; "
    "cross-entropy's -log p has a gradient that stays large exactly there.")
_DICE_ALONE = (
    "Dice alone can train (V-Net does), but its gradient at a pixel depends on sums over the whole image, and it "
    "is erratic for a class with few pixels (a digit covers a few percent of a scene). The decks' answer keeps a "
    "per-pixel loss{addition}.")
_BCE_NEEDS_PROBABILITIES = (
    "BCE takes log(p) and log(1 - p): a linear output can be negative or above 1, and the loss is nan. BCE needs a "
    "sigmoid in front (torch's BCEWithLogitsLoss puts it there for you).")


def _reconstruction_reason(act: str, loss: str) -> str:
    """Why (act, loss) is wrong for reconstructing images with pixels in 0..1 ('' when it is right)."""
    if act == "relu":
        return ("ReLU's output is bounded below by 0 but not above: nothing keeps a pixel under 1, so it cannot be "
                "bounded to 0..1 (and a pixel whose score goes negative outputs 0 with zero gradient: it stops "
                "learning). A sigmoid stays within 0..1; a linear output reaches every value (clip it for display).")
    if act == "softmax":
        return ("softmax over the output channel of a grey image (one channel) is exp(s) / exp(s) = 1 always: a white "
                "image whatever the input, and no gradient. Taken over the pixels instead, it would make an image's "
                "pixels add up to 1: brightness is not a probability distribution over pixels.")
    if loss in ("cross_entropy", "cross_entropy+dice"):
        return ("cross-entropy compares a distribution over classes with a class label, but a pixel's value is an "
                "intensity in 0..1, not one of C classes (taking the 256 grey levels as classes, 0.51 for a 0.50 "
                "would be exactly as wrong as 0.0). The error of an intensity is a distance: MSE or L1.")
    if loss == "dice":
        return ("Dice scores the overlap of two masks (segmentation), not how close each grey level is: for a target "
                "pixel of 0.5 everywhere it is best at a prediction of 1.0 (Dice 0.67), not 0.5 (Dice 0.5). The error "
                "of an intensity is a distance: MSE or L1.")
    if loss == "bce" and act == "linear":
        return _BCE_NEEDS_PROBABILITIES
    return ""


def _segmentation_reason(act: str, loss: str, num_classes: int) -> str:
    """Why (act, loss) is wrong for a per-pixel classification into num_classes classes ('' when it is right);
    one output channel when num_classes == 2 (the foreground's score), num_classes channels otherwise."""
    one_channel = num_classes == 2
    if act == "relu":
        return ("ReLU outputs are not probabilities: unbounded above, not adding up to 1 over the classes, and 0 "
                "with no gradient wherever a score is negative.")
    if act == "linear" and loss in ("mse", "l1"):
        return ("a linear output with MSE (or L1) on the class labels regresses the class NUMBER: it treats class 7 "
                "as closer to 8 than to 1 (an error of 1 against 36), though both are simply wrong, and 7.4 is no "
                "class at all. Classes are categories: a probability per class, and cross-entropy.")
    if act == "linear" and loss == "bce":
        return _BCE_NEEDS_PROBABILITIES
    if act == "linear":
        written = "'sigmoid' with 'bce'" if one_channel else "'softmax' with 'cross_entropy'"
        return ("the scores must become probabilities first. (If you meant that the network outputs raw scores and "
                f"torch's loss applies the softmax or sigmoid inside: here that is written with the activation the "
                f"loss applies, {written}.)")
    if act == "softmax" and one_channel:
        return ("softmax over ONE output channel is exp(s) / exp(s) = 1 whatever s: every pixel foreground with "
                "certainty, whatever the input, and a gradient of 0. One channel for a yes/no: a sigmoid, with BCE.")
    if act == "sigmoid" and not one_channel:
        if loss == "bce":
            return ("sigmoid + BCE makes each of the channels its own yes/no question: a pixel can come out as both a "
                    "3 and an 8, or as nothing. A pixel has exactly one class, and softmax across the channels says "
                    "so (the probabilities add up to 1), with cross-entropy.")
        return ("a sigmoid on each channel gives one yes/no probability per class, which need not add up to 1: no "
                "distribution over the classes. Softmax across the channels gives one.")
    if loss in ("mse", "l1"):
        return _PROBABILITY_LOSS_GRADIENT.format(loss=loss.upper(), act=act)
    if one_channel and loss in ("cross_entropy", "cross_entropy+dice"):
        return ("'cross_entropy' is the multi-class loss (a softmax across the channels, torch's CrossEntropyLoss): "
                "over one channel its softmax is 1 and the loss log 1 = 0 whatever the network does. The two-class "
                "form for one sigmoid output is binary cross-entropy, 'bce'.")
    if loss == "dice":
        return _DICE_ALONE.format(addition=": 'bce'" if one_channel else " and adds Dice to it: 'cross_entropy+dice'")
    if act == "softmax" and loss == "bce":
        return ("BCE scores each channel as its own yes/no; after a softmax the channels are one distribution over "
                "the classes, and its loss is the (multi-class) cross-entropy.")
    return ""


def _words(key: str, got, where: str, hint: str) -> tuple[str, str]:
    """The (activation, loss) pair of a learner's answer, in the vocabulary's spelling; a teaching failure for any
    other form: None, not a pair, not strings, a word outside the vocabulary, the two swapped."""
    def fail(message: str) -> ExerciseFailed:
        return ExerciseFailed(f"{key}: {where}{message}\nHint: {hint}")

    if got is None:
        raise fail("your function returned None: return two strings, `return activation, loss` (did you forget "
                   "`return`?).")
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not all(isinstance(w, str) for w in got):
        raise fail(f"return two strings, (activation, loss); got {got!r}. Vocabulary: {VOCABULARY}.")
    act, loss = (_SAME_AS.get(w.strip().lower(), w.strip().lower()) for w in got)
    if act in LOSSES and loss in ACTIVATIONS:
        raise fail(f"you returned {tuple(got)!r}: the loss first. Return (activation, loss), in that order.")
    for word, allowed, role in ((act, ACTIVATIONS, "activation"), (loss, LOSSES, "loss")):
        if word not in allowed:
            raise fail(f"{word!r} is not in this quiz's vocabulary for the {role}: {VOCABULARY}.")
    return act, loss


def quiz_answer(key: str, judge: Callable[..., str], hint: str, describe: Callable[..., str]) -> Callable:
    """Wrap a learner's ``f(*args) -> (activation, loss)``: the wrapper fails with the reason ``judge(act, loss,
    *args)`` gives for a wrong pair, and returns 1.0 for a right one (what the checker compares with the
    reference's). ``describe(*args)`` says what the inputs mean, for the message."""
    def adapt(fn: Callable) -> Callable:
        if getattr(fn, "answers_the_quiz", False):  # wrapped already: the checker wraps what the learner passes
            return fn

        @functools.wraps(fn)                         # the checker reads the learner's own signature
        def wrapped(*args) -> float:
            where = describe(*args)
            act, loss = _words(key, fn(*args), where, hint)
            reason = judge(act, loss, *args)
            if reason:
                raise ExerciseFailed(f"{key}: {where}you answered ({act!r}, {loss!r}). {reason}\nHint: {hint}")
            return 1.0

        wrapped.answers_the_quiz = True
        return wrapped

    return adapt


RECONSTRUCTION_HINT = ("The target is an image with pixels in 0..1: the output must be able to reach every value in "
                       "0..1 (and need not be anything else), and the loss should say how far each pixel's value is "
                       "from the target's: a distance between numbers, not a class.")
SEGMENTATION_HINT = ("Each pixel has exactly one of num_classes classes: per pixel, the output should be a probability "
                     "for each class that add up to 1, and the loss the one made for class labels. With a single "
                     "output channel (num_classes == 2), that is one probability, the foreground's.")
reconstruction_answer = quiz_answer("11.output_for_reconstruction", _reconstruction_reason, RECONSTRUCTION_HINT,
                                    lambda: "for images with pixels in 0..1, ")
segmentation_answer = quiz_answer(
    "11.output_for_segmentation", _segmentation_reason, SEGMENTATION_HINT,
    lambda c: (f"for num_classes={c} (one output channel: the foreground's score), " if c == 2
               else f"for num_classes={c} ({c} output channels), "))


def _segmentation_inputs(rng: np.random.Generator) -> tuple:
    return (int(rng.choice([2, 5, 11])),)


def _constant(act: str, loss: str) -> Callable:
    return lambda *args: (act, loss)


# ------------------------------------------------------------------ the exercises

EXERCISES: list[Exercise] = [
    Exercise(
        key="11.psnr",
        task="Write psnr(pred, target, data_range): the peak signal-to-noise ratio of each image, in decibels. pred "
             "and target are (N, C, H, W); pixels span 0..data_range. For each image, MSE is the mean of (pred - "
             "target)^2 over all of that image's pixels (every channel, row and column), and PSNR = 10 * "
             "log10(data_range^2 / MSE). Return (N,), one PSNR per image.",
        hint="mse = ((pred - target) ** 2).reshape(len(pred), -1).mean(axis=1) keeps one MSE per image; then "
             "10 * np.log10(data_range ** 2 / mse). Decibels are 10 log10 of a ratio of powers (squares): "
             "20 log10 goes with the root of the MSE, 20 log10(data_range / RMSE), the same number.",
        reference=metrics.psnr,
        make_inputs=_psnr_inputs,
        trials=4,
        mistakes={
            "one MSE over the whole batch, not one per image (a single number)":
                lambda p, t, r: 10 * np.log10(r ** 2 / np.mean((p - t) ** 2)),
            "np.log (natural logarithm) instead of np.log10: decibels are 10 log10":
                lambda p, t, r: 10 * np.log(r ** 2 / _image_mse(p, t)),
            "data_range not squared (10 log10(data_range / MSE)): the peak power is data_range^2":
                lambda p, t, r: 10 * np.log10(r / _image_mse(p, t)),
            "20 log10 of the MSE: the 20 goes with the root of the MSE (20 log10(data_range / RMSE))":
                lambda p, t, r: 20 * np.log10(r / _image_mse(p, t)),
        },
    ),
    Exercise(
        key="11.iou",
        task="Write iou(pred_labels, true_labels, num_classes): the intersection over union of each class. The two "
             "are integer label maps of the same shape (N, H, W), classes 0 .. num_classes - 1; pool the pixels of "
             "the whole batch. For class c: IoU_c = |P_c and T_c| / |P_c or T_c|, P_c the pixels predicted c, T_c "
             "the pixels truly c. A class in neither map has IoU 0/0: return nan for it. Return (num_classes,).",
        hint="For each c: p = pred_labels == c, t = true_labels == c; intersection (p & t).sum(), union (p | t).sum() "
             "(= |P_c| + |T_c| - intersection: the overlap counted once). Divide as floats; 0/0 gives nan, which is "
             "what a class in neither map should be (np.errstate(invalid='ignore') quiets the warning).",
        reference=metrics.iou,
        make_inputs=_iou_inputs,
        trials=4,
        mistakes={
            "pixel accuracy (the fraction of all pixels right, one number: 'all background' scores high on scenes "
            "that are mostly background)":
                lambda p, t, k: float(np.mean(p == t)),
            "intersection over the prediction only, |P & T| / |P| (precision: missing most of a class costs "
            "nothing)":
                lambda p, t, k: _ratio(_counts(p, t, k)[0], _counts(p, t, k)[1]),
            "intersection over the truth only, |P & T| / |T| (recall: predicting c everywhere scores 1)":
                lambda p, t, k: _ratio(_counts(p, t, k)[0], _counts(p, t, k)[2]),
            "the union counted as |P| + |T|, the overlap counted twice (that is half the Dice score)":
                lambda p, t, k: _ratio(_counts(p, t, k)[0], _counts(p, t, k)[1] + _counts(p, t, k)[2]),
            "0 instead of nan for a class in neither map (0/0: nothing to get right or wrong, so mean_iou must "
            "leave it out, not count it as a failure)":
                lambda p, t, k: np.nan_to_num(metrics.iou(p, t, k), nan=0.0),
        },
    ),
    Exercise(
        key="11.transposed_output_size",
        task="Write transposed_output_size(size, kernel_size, stride, padding, output_padding, dilation): the output "
             "size, along one axis, of torch.nn.ConvTranspose2d for an input of `size` pixels. A whole number.",
        hint="A transposed convolution runs a convolution's size arithmetic backwards: O = (size - 1) * stride - "
             "2 * padding + dilation * (kernel_size - 1) + output_padding + 1. Check: kernel 4, stride 2, padding 1 "
             "takes 7 to 14, and Conv2d with the same settings takes 14 back to 7.",
        reference=ca.conv_transpose_output_size,
        make_inputs=_transposed_inputs,
        trials=8,
        mistakes={
            "the convolution's formula, (size + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1: that "
            "shrinks, a transposed convolution grows":
                _conv_formula,
            "output_padding forgotten":
                lambda n, k, s, p, op, d: (n - 1) * s - 2 * p + d * (k - 1) + 1,
            "size * stride (the upsampling factor alone, as for Upsample)":
                lambda n, k, s, p, op, d: n * s,
            "dilation forgotten (kernel_size - 1 instead of dilation * (kernel_size - 1))":
                lambda n, k, s, p, op, d: (n - 1) * s - 2 * p + (k - 1) + op + 1,
        },
    ),
    Exercise(
        key="11.cat_backward",
        task="Write cat_backward(grad_output, sizes): out = cat([a, b, ...], dim=1) joined inputs (N, C_i, H, W) "
             "along the channels, and sizes = [C_a, C_b, ...] are their channel counts. Given grad_output = dL/d out "
             "(N, sum(sizes), H, W), return the list of gradients, one per input, each of its input's shape.",
        hint="Every channel of out is a copy of exactly one input's channel, so its gradient goes back to that input "
             "alone: the first C_a channels of grad_output are dL/da, the next C_b are dL/db, ... Slice along axis 1, "
             "e.g. np.split(grad_output, np.cumsum(sizes)[:-1], axis=1): np.split takes the positions of the cuts.",
        reference=_cat_backward_reference,
        make_inputs=_cat_inputs,
        trials=4,
        mistakes={
            "the full gradient to every input (as for a sum: cat copies each channel once, so each input gets only "
            "its own channels)":
                lambda g, sizes: tuple(g for _ in sizes),
            "split into equal parts, whatever the channel counts":
                lambda g, sizes: tuple(np.array_split(g, len(sizes), axis=1)),
            "split along the batch axis 0 (np.split's default axis), not the channels, axis 1":
                lambda g, sizes: tuple(np.split(g, np.cumsum(sizes)[:-1])),
            "np.split given the sizes, not the positions of the cuts (np.cumsum(sizes)[:-1])":
                lambda g, sizes: tuple(np.split(g, sizes[:-1], axis=1)),
        },
    ),
    Exercise(
        key="11.output_for_reconstruction",
        task="Write output_for_reconstruction(): an autoencoder reconstructs images whose pixels are in 0..1. Which "
             "activation on its last layer, and which loss? Return the two as strings, (activation, loss): "
             f"{VOCABULARY}.",
        hint=RECONSTRUCTION_HINT,
        reference=reconstruction_answer(_constant("sigmoid", "mse")),
        make_inputs=lambda rng: (),
        trials=1,
        adapt_answer=reconstruction_answer,
        mistakes={
            "softmax output": reconstruction_answer(_constant("softmax", "mse")),
            "ReLU output": reconstruction_answer(_constant("relu", "l1")),
            "cross-entropy on intensities": reconstruction_answer(_constant("sigmoid", "cross_entropy")),
            "Dice on intensities": reconstruction_answer(_constant("sigmoid", "dice")),
            "BCE on a linear output": reconstruction_answer(_constant("linear", "bce")),
        },
    ),
    Exercise(
        key="11.output_for_segmentation",
        task="Write output_for_segmentation(num_classes): a network labels every pixel with one of num_classes "
             "classes (the digit scenes: 11, background and ten digits). For num_classes > 2 it outputs num_classes "
             "channels per pixel; for num_classes == 2 (background and one foreground class) ONE channel, the "
             "foreground's score. Which activation on those scores, and which loss? Return the two as strings, "
             f"(activation, loss): {VOCABULARY}. (In torch, 'softmax' with 'cross_entropy' is CrossEntropyLoss on "
             "the scores, which applies the softmax itself.)",
        hint=SEGMENTATION_HINT,
        reference=segmentation_answer(lambda c: ("sigmoid", "bce") if c == 2 else ("softmax", "cross_entropy+dice")),
        make_inputs=_segmentation_inputs,
        trials=6,                                     # num_classes 11, 11, 2, 2, 11, 5 (a test holds it to that)
        adapt_answer=segmentation_answer,
        mistakes={
            "MSE on the class labels": segmentation_answer(_constant("linear", "mse")),
            "sigmoid + BCE for many classes": segmentation_answer(_constant("sigmoid", "bce")),
            "softmax over one channel": segmentation_answer(_constant("softmax", "cross_entropy")),
            "MSE on probabilities": segmentation_answer(_constant("softmax", "mse")),
            "Dice alone": segmentation_answer(
                lambda c: ("sigmoid", "dice") if c == 2 else ("softmax", "dice")),
        },
    ),
]
