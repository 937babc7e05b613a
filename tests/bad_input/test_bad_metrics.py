"""Bad input to course_lib.metrics and the image-to-image data: each mistake and the error that must teach it.

See bad_input_harness. Where torch has the same measure (a loss on logits given as probabilities, mixing a
tensor with an array) its verdict is asserted too.
"""
import numpy as np
import pytest
import torch
from bad_input_harness import Bad, assert_teaches

from course_lib import data
from course_lib.metrics import dice_loss, iou, mean_iou, psnr

IMAGES = np.zeros((2, 1, 4, 4))
LABELS = np.array([[[0, 1], [2, 10]]])                   # (1, 2, 2), classes of the digit scenes
SCORES = np.random.default_rng(0).standard_normal((1, 11, 2, 2))
PROBS = np.exp(SCORES) / np.exp(SCORES).sum(1, keepdims=True)

CASES = [
    # psnr
    Bad("psnr: shapes differ", lambda: psnr(IMAGES, IMAGES[:, :, :2]), ValueError,
        says=("(2, 1, 4, 4)", "(2, 1, 2, 4)", "same")),
    Bad("psnr: data_range 0", lambda: psnr(IMAGES, IMAGES, data_range=0), ValueError,
        says=("data_range", "> 0", "255 for pixels 0..255")),
    Bad("psnr: one image without its batch axis", lambda: psnr(np.zeros(4), np.ones(4)), ValueError,
        says=("per image", "(N, ...)", "x[None]")),
    Bad("psnr: a tensor against an array", lambda: psnr(torch.zeros(2, 1, 4, 4), IMAGES), TypeError,
        says=("pred is a torch tensor", "target is not", "torch.from_numpy(target)", ".detach().cpu().numpy()"),
        torch_does=lambda: torch.nn.functional.mse_loss(torch.zeros(2, 1, 4, 4), IMAGES)),
    # iou and mean_iou
    Bad("iou: label 11 with 11 classes", lambda: iou(LABELS + 1, LABELS, 11), ValueError,
        says=("pred_labels", "11", "outside 0..10", "num_classes")),
    Bad("iou: label -1", lambda: iou(LABELS, LABELS - 1, 11), ValueError,
        says=("true_labels", "-1", "outside 0..10")),
    Bad("iou: scores instead of labels", lambda: iou(SCORES, LABELS, 11), ValueError,
        says=("(1, 11, 2, 2)", "(1, 2, 2)", "scores", "argmax(1)")),
    Bad("mean_iou: float labels", lambda: mean_iou(LABELS.astype(float), LABELS, 11), TypeError,
        says=("pred_labels", "float64", "argmax(1)", "astype(np.int64)")),
    Bad("iou: shapes differ", lambda: iou(LABELS[:, :1], LABELS, 11), ValueError,
        says=("(1, 1, 2)", "(1, 2, 2)", "same")),
    Bad("iou: num_classes 0", lambda: iou(LABELS, LABELS, 0), ValueError,
        says=("num_classes", ">= 1", "11 for the digit scenes")),
    Bad("mean_iou: a tensor against an array", lambda: mean_iou(LABELS, torch.from_numpy(LABELS), 11), TypeError,
        says=("true_labels is a torch tensor", "pred_labels is not")),
    Bad("iou: empty maps", lambda: iou(np.zeros((0, 2, 2), int), np.zeros((0, 2, 2), int), 11), ValueError,
        says=("empty", "(0, 2, 2)")),
    # dice_loss
    Bad("dice_loss: logits instead of probabilities", lambda: dice_loss(SCORES, LABELS), ValueError,
        says=("probs", "sum to 1", "dim 1", "softmax(dim=1)")),
    Bad("dice_loss: torch logits", lambda: dice_loss(torch.from_numpy(SCORES), torch.from_numpy(LABELS)), ValueError,
        says=("sum to 1", "softmax(dim=1)")),
    Bad("dice_loss: one-hot target", lambda: dice_loss(PROBS, np.eye(11)[LABELS].transpose(0, 3, 1, 2)), ValueError,
        says=("(1, 11, 2, 2)", "(N, C, H, W)", "(N, H, W) labels")),
    Bad("dice_loss: label 11 for 11 classes", lambda: dice_loss(PROBS, LABELS + 1), ValueError,
        says=("target", "11", "outside 0..10")),
    # the image-to-image data
    Bad("digit_scenes: canvas too small for 4 digits", lambda: data.digit_scenes("test", 2, size=48), ValueError,
        says=("size=48", "size >= 56", "2 x 2")),
    Bad("digit_scenes: digits (4, 2)", lambda: data.digit_scenes("test", 2, digits=(4, 2)), ValueError,
        says=("digits", "(4, 2)", "1 <= fewest <= most")),
    Bad("pixelated_digits: factor 3", lambda: data.pixelated_digits("test", factor=3), ValueError,
        says=("factor", "divide 28", "3")),
    Bad("noisy_digits: sigma negative", lambda: data.noisy_digits("test", -0.1), ValueError,
        says=("sigma", ">= 0", "-0.1")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_teaches(case):
    assert_teaches(case)
