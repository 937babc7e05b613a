"""course_lib.metrics: hand-computed IoU and PSNR, Dice's gradient against finite differences, NumPy = torch.

torchmetrics and scikit-image are not installed here, so the references are worked examples and the
definitions written out directly (a loop over classes with set operations, the PSNR formula).
"""
import numpy as np
import pytest
import torch

from course_lib.metrics import dice_loss, iou, mean_iou, psnr

# 2 x 3 maps, classes 0..3; class 3 is in neither map.
PRED = np.array([[[0, 0, 1], [1, 2, 2]]])
TRUE = np.array([[[0, 1, 1], [1, 2, 0]]])
# class 0: pred {00, 01}, true {00, 12} -> 1 / 3;  class 1: pred {02, 10}, true {01, 02, 10} -> 2 / 3;
# class 2: pred {11, 12}, true {11} -> 1 / 2;      class 3: nowhere -> nan
PER_CLASS = [1 / 3, 2 / 3, 1 / 2, np.nan]


def _random_labels(seed, shape=(3, 6, 5), classes=5):
    rng = np.random.default_rng(seed)
    return rng.integers(classes, size=shape), rng.integers(classes, size=shape)


def _probs(seed, shape=(2, 4, 3, 5)):
    logits = np.random.default_rng(seed).standard_normal(shape)
    return np.exp(logits) / np.exp(logits).sum(1, keepdims=True)


def test_iou_hand_computed_with_an_absent_class():
    np.testing.assert_allclose(iou(PRED, TRUE, 4), PER_CLASS, equal_nan=True)
    assert mean_iou(PRED, TRUE, 4) == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)


def test_iou_of_a_class_predicted_but_absent_is_zero_and_perfect_maps_score_one():
    assert iou(np.array([[0, 1]]), np.array([[0, 0]]), 2).tolist() == [0.5, 0.0]
    assert mean_iou(TRUE, TRUE, 4) == 1.0


@pytest.mark.parametrize("seed", range(4))
def test_iou_matches_the_definition_by_sets(seed):
    pred, true = _random_labels(seed)
    expected = [((pred == c) & (true == c)).sum() / ((pred == c) | (true == c)).sum() for c in range(5)]
    np.testing.assert_allclose(iou(pred, true, 5), expected, rtol=1e-15)
    assert mean_iou(pred, true, 5) == pytest.approx(np.mean(expected), rel=1e-15)


@pytest.mark.parametrize("seed", range(3))
def test_iou_and_mean_iou_same_numbers_for_numpy_and_torch(seed):
    pred, true = _random_labels(seed, classes=7)     # 7 classes in 90 pixels: some may be absent
    ours = iou(torch.from_numpy(pred), torch.from_numpy(true), 9)
    assert isinstance(ours, torch.Tensor) and ours.shape == (9,)
    np.testing.assert_array_equal(ours.numpy(), iou(pred, true, 9))
    mean_torch = mean_iou(torch.from_numpy(pred), torch.from_numpy(true), 9).item()
    assert mean_torch == pytest.approx(mean_iou(pred, true, 9), rel=1e-14)     # summed in another order
    assert isinstance(mean_iou(pred, true, 9), float)


def test_psnr_known_values():
    target = np.zeros((3, 1, 4, 4))
    pred = target + np.array([0.1, 0.01, 0.0])[:, None, None, None]   # MSE 1e-2, 1e-4, 0
    np.testing.assert_allclose(psnr(pred, target), [20.0, 40.0, np.inf], rtol=1e-12)
    np.testing.assert_allclose(psnr(pred * 255, target, data_range=255), [20.0, 40.0, np.inf], rtol=1e-12)
    half = np.zeros((1, 2, 2)); half[0, 0] = 1.0                      # MSE 1/2: 10 log10 2 = 3.0103 dB
    assert psnr(half, np.zeros((1, 2, 2)))[0] == pytest.approx(10 * np.log10(2), rel=1e-12)


@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (5, 3, 4, 4), (3, 7)])
def test_psnr_matches_the_formula_per_image_and_torch(shape):
    rng = np.random.default_rng(sum(shape))
    pred, target = rng.random(shape), rng.random(shape)
    mse = ((pred - target) ** 2).reshape(shape[0], -1).mean(1)
    np.testing.assert_allclose(psnr(pred, target), 10 * np.log10(1 / mse), rtol=1e-13)
    ours = psnr(torch.from_numpy(pred), torch.from_numpy(target))
    assert isinstance(ours, torch.Tensor) and ours.shape == (shape[0],)
    np.testing.assert_allclose(ours.numpy(), psnr(pred, target), rtol=1e-13)
    assert torch.isinf(psnr(torch.from_numpy(pred), torch.from_numpy(pred))).all()


def test_psnr_of_float32_and_uint8_images():
    rng = np.random.default_rng(0)
    pixels = rng.integers(256, size=(2, 1, 5, 5)).astype(np.uint8)
    np.testing.assert_allclose(psnr(pixels, 255 - pixels, data_range=255),
                               psnr(pixels / 255.0, 1 - pixels / 255.0), rtol=1e-12)
    np.testing.assert_allclose(psnr(torch.from_numpy(pixels / np.float32(255)), torch.zeros(2, 1, 5, 5)).numpy(),
                               psnr(pixels / np.float32(255), np.zeros((2, 1, 5, 5))), rtol=1e-12)


def test_dice_loss_is_zero_for_perfect_one_hot_and_one_for_all_wrong():
    target = np.random.default_rng(0).integers(3, size=(2, 4, 5))
    perfect = np.eye(3)[target].transpose(0, 3, 1, 2)
    assert dice_loss(perfect, target) == 0.0
    assert dice_loss(torch.from_numpy(perfect), torch.from_numpy(target)).item() == 0.0
    wrong = np.eye(3)[(target + 1) % 3].transpose(0, 3, 1, 2)
    assert dice_loss(wrong, target) == pytest.approx(1.0, abs=1e-6)


def test_dice_loss_hand_computed():
    # one image of 2 pixels, 2 classes; target [0, 1]; probabilities of class 0: 0.75 and 0.5
    probs = np.array([[[[0.75, 0.5]], [[0.25, 0.5]]]])          # (1, 2, 1, 2)
    target = np.array([[[0, 1]]])
    # class 0: overlap 0.75, |P| 1.25, |T| 1 -> 1.5 / 2.25;  class 1: overlap 0.5, |P| 0.75, |T| 1 -> 1 / 1.75
    expected = 1 - (1.5 / 2.25 + 1 / 1.75) / 2
    assert dice_loss(probs, target, eps=0) == pytest.approx(expected, rel=1e-15)
    assert dice_loss(probs, target) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("shape", [(2, 4, 3, 5), (1, 11, 8, 8), (3, 2, 1, 1)])
def test_dice_loss_same_number_for_numpy_and_torch(shape):
    probs = _probs(sum(shape), shape)
    target = np.random.default_rng(1).integers(shape[1], size=shape[:1] + shape[2:])
    ours = dice_loss(torch.from_numpy(probs), torch.from_numpy(target))
    assert isinstance(ours, torch.Tensor) and ours.ndim == 0
    assert isinstance(dice_loss(probs, target), float)
    assert ours.item() == pytest.approx(dice_loss(probs, target), rel=1e-13)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 4, 2, 3)])
def test_dice_loss_gradient_matches_finite_differences(shape):
    """Through the softmax, as in training: d loss / d logits by autograd against central differences."""
    logits = torch.from_numpy(np.random.default_rng(2).standard_normal(shape)).requires_grad_()
    target = torch.from_numpy(np.random.default_rng(3).integers(shape[1], size=shape[:1] + shape[2:]))
    assert torch.autograd.gradcheck(lambda z: dice_loss(z.softmax(1), target), (logits,), eps=1e-6, atol=1e-8)
    loss = dice_loss(logits.softmax(1), target)
    loss.backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_dice_loss_falls_when_a_step_follows_its_gradient():
    logits = torch.zeros(1, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    target = torch.from_numpy(np.random.default_rng(4).integers(3, size=(1, 4, 4)))
    before = dice_loss(logits.softmax(1), target)
    before.backward()
    with torch.no_grad():
        after = dice_loss((logits - 10 * logits.grad).softmax(1), target)
    assert after < before
