"""Notebook 11's exercises: the references agree with torch and the library, learners' own solutions pass, every
declared mistake is named, and the two quizzes answer each wrong (activation, loss) pair with its reason.

(tests/test_exercises.py runs over the whole registry too: every reference accepted, every declared mistake
rejected, every exercise posed in its notebook.)"""
import itertools
import re
import numpy as np
import pytest
import torch

from course_lib import metrics
from course_lib.exercises import EXERCISES, nb11
from course_lib.exercises.checking import ExerciseFailed, compare_answer, run_check
from exercise_inputs import trial_inputs

KEYS = [ex.key for ex in nb11.EXERCISES]
ARRAY_KEYS = ["11.psnr", "11.iou", "11.transposed_output_size", "11.cat_backward"]


def test_nb11_is_registered():
    assert KEYS == ["11.psnr", "11.iou", "11.transposed_output_size", "11.cat_backward",
                    "11.output_for_reconstruction", "11.output_for_segmentation"]
    assert all(EXERCISES[k] is ex for k, ex in zip(KEYS, nb11.EXERCISES))


# ------------------------------------------------------------------ learners' own solutions (no course_lib)

def psnr(pred, target, data_range):
    mse = ((pred - target) ** 2).reshape(len(pred), -1).mean(axis=1)
    return 10 * np.log10(data_range ** 2 / mse)


def psnr_rmse(pred, target, data_range):
    rmse = np.sqrt(np.mean((pred - target) ** 2, axis=(1, 2, 3)))
    return 20 * np.log10(data_range / rmse)


def iou(pred_labels, true_labels, num_classes):
    out = np.zeros(num_classes)
    for c in range(num_classes):
        p, t = pred_labels == c, true_labels == c
        with np.errstate(invalid="ignore"):
            out[c] = (p & t).sum() / (p | t).sum()
    return out


def transposed_output_size(size, kernel_size, stride, padding, output_padding, dilation):
    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def cat_backward(grad_output, sizes):
    grads, start = [], 0
    for c in sizes:
        grads.append(grad_output[:, start:start + c])
        start += c
    return grads


def output_for_reconstruction():
    return "sigmoid", "mse"


def output_for_segmentation(num_classes):
    if num_classes == 2:
        return "sigmoid", "bce"
    return "softmax", "cross_entropy+dice"


@pytest.mark.parametrize("key, answer", [
    ("11.psnr", psnr), ("11.psnr", psnr_rmse), ("11.iou", iou), ("11.transposed_output_size", transposed_output_size),
    ("11.cat_backward", cat_backward), ("11.cat_backward", lambda g, s: np.split(g, np.cumsum(s)[:-1], axis=1)),
    ("11.output_for_reconstruction", output_for_reconstruction),
    ("11.output_for_reconstruction", lambda: ["Linear", " L1 "]),       # a list, capitals and spaces pass
    ("11.output_for_segmentation", output_for_segmentation),
    ("11.output_for_segmentation", lambda c: ("sigmoid", "binary_cross_entropy") if c == 2 else ("softmax", "CE")),
])
def test_a_learners_own_solution_passes(key, answer):
    assert run_check(EXERCISES[key], answer).startswith(f"✔ {key}: correct")


def test_a_question_without_inputs_says_correct_without_counting_inputs():
    assert run_check(EXERCISES["11.output_for_reconstruction"], output_for_reconstruction) == \
        "✔ 11.output_for_reconstruction: correct."


# ------------------------------------------------------------------ the references

def test_transposed_output_size_is_torchs_on_every_input_the_checker_makes():
    rng = np.random.default_rng(0)
    inputs = trial_inputs("11.transposed_output_size") + [nb11._transposed_inputs(rng) for _ in range(60)]
    reference = EXERCISES["11.transposed_output_size"].reference
    for size, k, s, p, op, d in inputs:
        layer = torch.nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op, dilation=d)
        with torch.no_grad():
            out = layer(torch.zeros(1, 1, size, size + 1))
        assert out.shape[2] == reference(size, k, s, p, op, d), (size, k, s, p, op, d)
        assert out.shape[3] == transposed_output_size(size + 1, k, s, p, op, d)


def test_the_checker_tries_output_padding_and_dilation():
    inputs = trial_inputs("11.transposed_output_size")
    assert any(op > 0 for *_, op, d in inputs) and any(d > 1 for *_, d in inputs)


def test_cat_backward_is_torchs_autograd():
    for grad, sizes in trial_inputs("11.cat_backward"):
        parts = [torch.zeros(grad.shape[0], c, *grad.shape[2:], dtype=torch.float64, requires_grad=True)
                 for c in sizes]
        torch.cat(parts, dim=1).backward(torch.from_numpy(grad))
        for part, mine in zip(parts, EXERCISES["11.cat_backward"].reference(grad, sizes)):
            np.testing.assert_array_equal(part.grad.numpy(), mine)


def test_iou_inputs_hold_a_class_in_neither_map_and_psnr_inputs_a_range_other_than_1():
    for pred, true, k in trial_inputs("11.iou"):
        assert np.isnan(metrics.iou(pred, true, k)).any()
    assert all(r != 1.0 for *_, r in trial_inputs("11.psnr"))


# ------------------------------------------------------------------ declared mistakes are named

ARRAY_MISTAKES = [(k, m) for k in ARRAY_KEYS for m in EXERCISES[k].mistakes]


@pytest.mark.parametrize("key, mistake", ARRAY_MISTAKES, ids=[f"{k}: {m[:40]}" for k, m in ARRAY_MISTAKES])
def test_every_declared_mistake_is_named_in_the_feedback(key, mistake):
    with pytest.raises(ExerciseFailed) as failure:
        run_check(EXERCISES[key], EXERCISES[key].mistakes[mistake])
    assert f"This looks like a common mistake: {mistake}. Hint:" in str(failure.value)


def test_iou_zero_for_an_absent_class_says_to_keep_the_nan():
    with pytest.raises(ExerciseFailed, match=r"yours 0, expected nan\. The expected answer is nan \(undefined: "
                                             r"0/0\) at 1 position\(s\) where yours is a number"):
        run_check(EXERCISES["11.iou"], lambda p, t, k: np.nan_to_num(iou(p, t, k)))


def test_iou_nan_where_a_number_is_expected_fails():
    def nan_for_predicted_only(p, t, k):                      # 0/0 also for a class predicted but never true
        out = iou(p, t, k)
        out[[c for c in range(k) if not (t == c).any()]] = np.nan
        return out
    pred, true, k = trial_inputs("11.iou")[0]
    true[true == 1], pred[0, 0, 0] = 0, 1                      # class 1 predicted once, never true: IoU 0
    with pytest.raises(ExerciseFailed, match=r"differ; at index \(1,\): yours nan, expected 0"):
        compare_answer("11.iou", nan_for_predicted_only(pred, true, k), metrics.iou(pred, true, k), 1e-6, 1e-9, "",
                       "")


# ------------------------------------------------------------------ the quizzes

RECONSTRUCTION_RIGHT = {("sigmoid", "mse"), ("sigmoid", "l1"), ("linear", "mse"), ("linear", "l1"),
                        ("sigmoid", "bce")}
PAIRS = list(itertools.product(nb11.ACTIVATIONS, nb11.LOSSES))


@pytest.mark.parametrize("act, loss", PAIRS)
def test_reconstruction_accepts_exactly_the_right_pairs_and_says_why_the_others_are_wrong(act, loss):
    ex = EXERCISES["11.output_for_reconstruction"]
    if (act, loss) in RECONSTRUCTION_RIGHT:
        assert run_check(ex, lambda: (act, loss)).startswith("✔")
    else:
        answered = re.escape(f"for images with pixels in 0..1, you answered ({act!r}, {loss!r}). ")
        with pytest.raises(ExerciseFailed, match=answered + r"\S.{60,}\nHint: The target is an image"):
            run_check(ex, lambda: (act, loss))


def segmentation_right(act: str, loss: str, num_classes: int) -> bool:
    if num_classes == 2:
        return (act, loss) == ("sigmoid", "bce")
    return act == "softmax" and loss in ("cross_entropy", "cross_entropy+dice")


@pytest.mark.parametrize("num_classes", [2, 5, 11])
def test_segmentation_accepts_exactly_the_right_pairs_and_says_why_the_others_are_wrong(num_classes):
    for act, loss in PAIRS:
        reason = nb11._segmentation_reason(act, loss, num_classes)
        assert (reason == "") == segmentation_right(act, loss, num_classes), (act, loss, num_classes, reason)
        assert reason == "" or len(reason) > 60


def test_segmentation_is_checked_with_one_channel_and_with_many():
    assert [c for (c,) in trial_inputs("11.output_for_segmentation")] == [11, 11, 2, 2, 11, 5]
    ex = EXERCISES["11.output_for_segmentation"]
    with pytest.raises(ExerciseFailed, match=r"num_classes=2 \(one output channel.*\('softmax', 'cross_entropy'\)"):
        run_check(ex, lambda c: ("softmax", "cross_entropy"))
    with pytest.raises(ExerciseFailed, match=r"num_classes=11 \(11 output channels\).*\('sigmoid', 'bce'\)"):
        run_check(ex, lambda c: ("sigmoid", "bce"))


@pytest.mark.parametrize("key, answer, says", [
    ("11.output_for_reconstruction", ("softmax", "mse"), r"exp\(s\) / exp\(s\) = 1 always: a white image"),
    ("11.output_for_reconstruction", ("relu", "mse"), r"bounded below by 0 but not above.*cannot be bounded to 0\.\.1"),
    ("11.output_for_reconstruction", ("linear", "cross_entropy"), r"intensity in 0\.\.1, not one of C classes"),
    ("11.output_for_reconstruction", ("sigmoid", "dice"), r"best at a prediction of 1\.0 \(Dice 0\.67\)"),
    ("11.output_for_reconstruction", ("linear", "bce"), r"log\(p\) and log\(1 - p\).*nan"),
    ("11.output_for_segmentation", ("linear", "mse"), r"treats class 7 as closer to 8 than to 1"),
    ("11.output_for_segmentation", ("softmax", "l1"), r"L1 on probabilities.*p\(1 - p\)"),
    ("11.output_for_segmentation", ("linear", "cross_entropy"), r"'softmax' with 'cross_entropy'"),
    ("11.output_for_segmentation", ("softmax", "dice"), r"adds Dice to it: 'cross_entropy\+dice'"),
    ("11.output_for_segmentation", ("softmax", "bce"), r"one distribution over the classes"),
    ("11.output_for_segmentation", ("sigmoid", "cross_entropy"), r"need not add up to 1"),
])
def test_a_wrong_pair_is_answered_with_its_reason(key, answer, says):
    with pytest.raises(ExerciseFailed, match=says):
        run_check(EXERCISES[key], lambda *args: answer)


def test_with_one_channel_cross_entropy_and_dice_alone_point_to_bce():
    assert "log 1 = 0" in nb11._segmentation_reason("sigmoid", "cross_entropy", 2)
    assert "'sigmoid' with 'bce'" in nb11._segmentation_reason("linear", "cross_entropy", 2)
    assert nb11._segmentation_reason("sigmoid", "dice", 2).endswith("per-pixel loss: 'bce'.")


@pytest.mark.parametrize("answer, says", [
    (None, r"returned None: return two strings, `return activation, loss`"),
    ("sigmoid", r"return two strings, \(activation, loss\); got 'sigmoid'\. Vocabulary: the activation one of"),
    (("sigmoid", "mse", "l1"), r"return two strings, \(activation, loss\); got \('sigmoid', 'mse', 'l1'\)"),
    (("mse", "sigmoid"), r"you returned \('mse', 'sigmoid'\): the loss first\. Return \(activation, loss\)"),
    (("tanh", "mse"), r"'tanh' is not in this quiz's vocabulary for the activation: the activation one of 'linear'"),
    (("sigmoid", "huber"), r"'huber' is not in this quiz's vocabulary for the loss"),
])
def test_a_quiz_answer_of_the_wrong_form_is_told_what_to_return(answer, says):
    with pytest.raises(ExerciseFailed, match=says):
        run_check(EXERCISES["11.output_for_reconstruction"], lambda: answer)


def test_a_quiz_function_with_the_wrong_parameters_is_told_which():
    with pytest.raises(ExerciseFailed, match=r"cannot take what the checker passes.*in this order: \(num_classes\)"):
        run_check(EXERCISES["11.output_for_segmentation"], lambda: ("softmax", "cross_entropy"))
    with pytest.raises(TypeError, match="Pass the function itself"):
        run_check(EXERCISES["11.output_for_segmentation"], ("softmax", "cross_entropy"))
