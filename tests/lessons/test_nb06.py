"""Notebook 06's helpers: pooling numbers and pictures, the shift experiment, the widget, the exercises."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.lessons import nb06_pooling as pv
from course_lib.exercises.checking import ExerciseFailed, run_check
from course_lib.exercises.nb06 import EXERCISES as NB06
from course_lib.parity import compare
from course_lib.scratch import functional as sf

BY_KEY = {ex.key: ex for ex in NB06}


@pytest.fixture(scope="module")
def digits():
    """20 small fake digits, uint8 (20, 28, 28): a bright vertical bar at a varying column."""
    images = np.zeros((20, 28, 28), dtype=np.uint8)
    for i in range(20):
        images[i, 6:22, 6 + i // 2:9 + i // 2] = 255
    return images


# ---------------------------------------------------------------- numbers


def test_lecture_window_and_cs231n_example():
    window = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    assert pv.pool(window, "max", 2).item() == 4.0
    assert pv.pool(window, "avg", 2).item() == 2.5
    assert pv.pool(window, "l2", 2).item() == pytest.approx(np.sqrt(30), abs=1e-12)
    assert pv.pool(pv.CS231N_EXAMPLE[None, None], "max", 2)[0, 0].tolist() == [[6, 8], [3, 4]]


@pytest.mark.parametrize("kind", pv.POOL_KINDS)
@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 2), (2, 1)])
def test_pool_and_backward_match_torch(kind, kernel, stride, rng):
    x = rng.standard_normal((2, 3, 7, 8))
    x_t = torch.tensor(x, requires_grad=True)
    y_t = {"max": F.max_pool2d, "avg": F.avg_pool2d}.get(kind, lambda a, k, s: F.lp_pool2d(a, 2, k, s))(
        x_t, kernel, stride)
    g = rng.standard_normal(tuple(y_t.shape))
    (y_t * torch.from_numpy(g)).sum().backward()
    compare(f"{kind} pool", pv.pool(x, kind, kernel, stride), y_t, tol=1e-12, verbose=False)
    compare(f"{kind} pool backward", pv.pool_backward(g, x, kind, kernel, stride), x_t.grad, tol=1e-12, verbose=False)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        pv.pool(np.zeros((1, 1, 4, 4)), "median", 2)


def test_window_coverage():
    assert np.array_equal(pv.window_coverage(8, 2, 2), np.ones((8, 8), dtype=int))
    cover = pv.window_coverage(9, 3, 2)
    assert cover.max() == 4 and cover[2, 2] == 4 and cover[0, 0] == 1
    odd = pv.window_coverage(9, 2, 2)
    assert odd[-1].sum() == 0 and odd[:8, :8].min() == 1          # the floor drops the last row and column
    assert pv.window_coverage(55, 3, 2).max() == 4


def test_shift_images_moves_and_fills():
    img = np.arange(16).reshape(1, 4, 4)
    right = pv.shift_images(img, 0, 1)
    assert np.array_equal(right[0, :, 1:], img[0, :, :3]) and not right[0, :, 0].any()
    down_left = pv.shift_images(img, 1, -1, fill=-1)
    assert np.array_equal(down_left[0, 1:, :3], img[0, :3, 1:]) and (down_left[0, 0] == -1).all()
    assert np.array_equal(pv.shift_images(pv.shift_images(img, 0, 2), 0, -2)[0, :, :2], img[0, :, :2])
    with pytest.raises(ValueError, match="out of the frame"):
        pv.shift_images(img, 4, 0)


def test_relative_change():
    a = np.ones((3, 2, 4, 4))
    assert np.allclose(pv.relative_change(a, a), 0)
    assert np.allclose(pv.relative_change(a, 2 * a), 1)
    assert pv.relative_change(np.zeros((1, 3)), np.ones((1, 3)))[0] == pytest.approx(np.sqrt(3))   # no 0/0
    with pytest.raises(ValueError, match="shapes differ"):
        pv.relative_change(np.ones((2, 3)), np.ones((2, 4)))


def test_pooling_makes_features_less_sensitive_to_a_one_pixel_shift(digits):
    fmap = np.stack([pv.edge_feature_map(d) for d in digits])[:, None]
    moved = np.stack([pv.edge_feature_map(d) for d in pv.shift_images(digits, 0, 1)])[:, None]
    unpooled = pv.relative_change(fmap, moved).mean()
    pooled = pv.relative_change(sf.max_pool2d(fmap, 2), sf.max_pool2d(moved, 2)).mean()
    assert pooled < unpooled


def test_edge_feature_map_answers_to_vertical_edges_only():
    img = np.zeros((28, 28), dtype=np.uint8)
    img[:, 14:] = 255                                   # a vertical edge, dark to ink going right
    fmap = pv.edge_feature_map(img)
    assert fmap.shape == (28, 28) and fmap.min() >= 0
    assert fmap[5:23, 13:15].min() > 0 and fmap[5:23, :12].max() == 0 and fmap[5:23, 16:27].max() == 0
    flat = np.zeros((28, 28), dtype=np.uint8)
    flat[14:] = 255                                     # a horizontal edge gives nothing (away from the
    assert pv.edge_feature_map(flat)[:, 2:].max() == 0  # left border, where the zero padding is an edge)


def test_confusion_matrix():
    counts = pv.confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), num_classes=3)
    assert counts.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


# ---------------------------------------------------------------- figures


def test_window_overlap_writes_each_pixels_window_count():
    fig = pv.plot_window_overlap(size=9, settings=((2, 2), (3, 2)))
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == ["2x2 windows, stride 2: 9 -> 4",
                                                                 "3x3 windows, stride 2: 9 -> 4"]
    counts = [int(t.get_text()) for t in fig.axes[1].texts]
    assert counts == pv.window_coverage(9, 3, 2).ravel().tolist()


def test_shift_sensitivity_draws_one_bar_group_per_shift():
    fig = pv.plot_shift_sensitivity({"1 px": {"a": 0.5, "b": 0.3}, "2 px": {"a": 0.7, "b": 0.4}}, title="t")
    ax = fig.axes[0]
    assert [c.get_label() for c in ax.containers] == ["a", "b"]
    assert [bar.get_height() for bar in ax.containers[1]] == [0.3, 0.4]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1 px", "2 px"] and ax.get_title() == "t"


def test_confusion_matrix_figure_writes_the_nonzero_counts():
    counts = np.eye(3, dtype=int) * 5
    counts[0, 2] = 2
    ax = pv.plot_confusion_matrix(counts).axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["2", "5", "5", "5"]
    assert ax.images[0].get_array()[0, 2] == 2 and ax.images[0].get_array()[1, 1] == 0   # colour: mistakes only


def test_pooling_example_shows_every_output():
    fig = pv.plot_pooling_example()
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"6", "8", "3", "4", "3.25", "5.25"} <= texts
    assert f"{np.sqrt(63):.3g}" in texts                  # L2 of the top-left window


def test_gradient_figure_prints_the_gradients():
    fig = pv.plot_pool_gradients(pv.CS231N_EXAMPLE, np.array([[1.0, 2.0], [3.0, 4.0]]))
    max_panel = {t.get_text() for t in fig.axes[0].texts}
    assert "x=6\ndx=1" in max_panel and "x=5\ndx=0" in max_panel and "x=4\ndx=4" in max_panel
    assert "x=1\ndx=0.25" in {t.get_text() for t in fig.axes[1].texts}


def test_gradient_figure_refuses_bad_shapes():
    with pytest.raises(ValueError, match="output's shape"):
        pv.plot_pool_gradients(pv.CS231N_EXAMPLE, np.ones((3, 3)))
    with pytest.raises(ValueError, match="stride >= kernel_size"):
        pv.plot_pool_gradients(pv.CS231N_EXAMPLE, np.ones((1, 1)), kernel_size=3, stride=2)


# ---------------------------------------------------------------- the widget


@pytest.mark.parametrize("kind", pv.POOL_KINDS)
def test_widget_callback_draws_its_pooled_map_and_titles_it(digits, kind):
    fig = pv.explore_pooling(digits, index=3, kind=kind, kernel_size=3, stride=2)
    fig.canvas.draw()
    title = fig.axes[2].get_title()
    assert "13x13" in title and "13.5, floored to 13" in title
    assert fig.axes[2].images[0].get_array().shape == (13, 13)


def test_widget_output_size_without_floor(digits):
    fig = pv.explore_pooling(digits, 0, "avg", 2, 2)
    assert "14x14" in fig.axes[2].get_title() and "floored" not in fig.axes[2].get_title()


# ---------------------------------------------------------------- exercises


def _max_pool(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def _avg_pool(x, k, s):
    n, c, h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    return sum(x[:, :, u:u + s * (ho - 1) + 1:s, v:v + s * (wo - 1) + 1:s] for u in range(k) for v in range(k)) / k ** 2


def _up(a):
    return np.repeat(np.repeat(a, 2, axis=2), 2, axis=3)


GOOD = {
    "06.max_pool": _max_pool,
    "06.avg_pool": _avg_pool,
    "06.max_pool_backward": lambda dy, x: _up(dy) * (x == _up(_max_pool(x))),
    "06.pool_output_size": lambda w, f, s, p: (w - f + 2 * p) // s + 1,
    "06.global_avg_pool": lambda x: x.mean(axis=(2, 3)),
}

WRONG = {   # plausible mistakes, and words the feedback must contain
    "06.max_pool": (lambda x: _avg_pool(x, 2, 2), "differ"),
    "06.avg_pool": (lambda x, k, s: _avg_pool(x, k, k), "offsets (u, v) inside a window"),
    "06.max_pool_backward": (lambda dy, x: _up(dy) / 4, "average pooling's backward"),
    "06.pool_output_size": (lambda w, f, s, p: (w - f) // s + 1, "2*P"),
    "06.global_avg_pool": (lambda x: x.mean(axis=(1, 2)), "Not over the channels"),
}


def test_every_exercise_is_covered():
    assert set(BY_KEY) == set(GOOD) == set(WRONG)
    assert 3 <= len(NB06) <= 5 and all(k.startswith("06.") for k in BY_KEY)


@pytest.mark.parametrize("key", sorted(GOOD))
def test_reference_passes_its_own_check(key):
    ex = BY_KEY[key]
    assert "correct" in run_check(ex, ex.reference)


@pytest.mark.parametrize("key", sorted(GOOD))
def test_a_correct_learner_answer_passes(key):
    assert "correct" in run_check(BY_KEY[key], GOOD[key])


@pytest.mark.parametrize("key", sorted(WRONG))
def test_a_plausible_wrong_answer_fails_with_a_useful_message(key):
    answer, words = WRONG[key]
    with pytest.raises(ExerciseFailed) as info:
        run_check(BY_KEY[key], answer)
    assert key in str(info.value) and words in str(info.value) and "Hint" in str(info.value)


@pytest.mark.parametrize("key", sorted(GOOD))
def test_a_stub_is_not_attempted(key):
    def stub(*args):
        raise NotImplementedError

    with pytest.raises(ExerciseFailed, match="not attempted yet"):
        run_check(BY_KEY[key], stub)


def test_pool_output_size_exercise_matches_torch():
    rng = np.random.default_rng(0)
    ex = BY_KEY["06.pool_output_size"]
    for _ in range(30):
        w, f, s, p = ex.make_inputs(rng)
        out = torch.nn.MaxPool2d(f, s, p)(torch.zeros(1, 1, w, w)).shape[-1]
        assert ex.reference(w, f, s, p) == out
    assert ex.reference(55, 3, 2, 0) == 27
