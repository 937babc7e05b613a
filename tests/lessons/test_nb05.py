"""Notebook 05's helpers: frame-strip geometry (checked against real convolutions), figures, the widget
callback and the exercises' checkers."""
import itertools
import zlib

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

from course_lib import conv_arithmetic as ca
from course_lib.lessons import nb05_convolution_arithmetic as cv
from course_lib.exercises.checking import ExerciseFailed, run_check
from course_lib.exercises.nb05 import EXERCISES as NB05
from course_lib.parity import compare
from course_lib.scratch import functional as sf

EX = {ex.key: ex for ex in NB05}

IMAGE5 = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], float)
KERNEL3 = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], float)


# ---------------------------------------------------------------- geometry of the frames

CASES = [  # (W, F, S, P, D): the guide's cases, a non-whole one, dilation, stride + dilation
    (4, 3, 1, 0, 1), (5, 4, 1, 2, 1), (5, 3, 1, 1, 1), (5, 3, 1, 2, 1), (5, 3, 2, 0, 1), (5, 3, 2, 1, 1),
    (6, 3, 2, 1, 1), (7, 3, 1, 0, 2), (9, 3, 2, 1, 2), (8, 2, 3, 0, 1), (28, 3, 2, 1, 1),
]


@pytest.mark.parametrize("W, F_, S, P, D", CASES)
def test_frames_read_exactly_what_the_convolution_reads(W, F_, S, P, D):
    rng = np.random.default_rng(0)
    frames = cv.conv_frames(W, F_, S, P, D)
    out = ca.conv_output_size(W, F_, S, P, D, floor=True)
    assert frames.out_size == out and frames.n_frames == out * out == len(frames.taps)
    assert (frames.kinds == cv.INPUT).sum() == W * W
    assert frames.kinds.shape == (W + 2 * P, W + 2 * P)
    image, kernel = rng.normal(size=(W, W)), rng.normal(size=(F_, F_))
    padded = np.pad(image, P)
    from_taps = np.array([padded[t[:, 0], t[:, 1]] @ kernel.ravel() for t in frames.taps]).reshape(out, out)
    torch_out = F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None],
                         stride=S, padding=P, dilation=D)[0, 0]
    compare("frames vs conv2d", from_taps, torch_out, verbose=False)


def test_unread_cells_are_the_ones_the_floor_drops():
    frames = cv.conv_frames(6, 3, stride=2, padding=1)          # (6 - 3 + 2)/2 + 1 = 3.5 -> 3
    read = frames.read()
    assert not read[-1].any() and not read[:, -1].any()         # the last row and column of the padding
    assert read[:-1, :-1].all()
    assert "floored" in frames.caption and "never read" in frames.caption
    whole = cv.conv_frames(5, 3, stride=2, padding=1)
    assert whole.read().all() and "floored" not in whole.caption


def test_dilation_with_stride_can_skip_cells_even_when_whole():
    frames = cv.conv_frames(7, 3, stride=2, dilation=2)         # (7 - 5)/2 + 1 = 2, taps on even cells only
    assert frames.out_size == 2 and not frames.read()[1].any()
    assert "floored" not in frames.caption and "never read" in frames.caption


def test_kernel_that_does_not_fit_raises_the_arithmetic_error():
    with pytest.raises(ValueError, match="larger than the padded input"):
        cv.conv_frames(3, 5)


@pytest.mark.parametrize("W, F_, S, P", [(2, 3, 1, 0), (2, 3, 2, 0), (3, 4, 2, 1), (7, 4, 2, 1), (4, 3, 3, 2)])
def test_transposed_frames_are_torchs_conv_transpose(W, F_, S, P):
    rng = np.random.default_rng(1)
    frames = cv.transposed_frames(W, F_, S, P)
    out = ca.conv_transpose_output_size(W, F_, S, P)
    assert frames.out_size == out
    assert (frames.kinds == cv.INPUT).sum() == W * W
    assert (frames.kinds == cv.INSERTED).sum() == ((W - 1) * S + 1) ** 2 - W * W
    x, w = rng.normal(size=(W, W)), rng.normal(size=(F_, F_))
    grid = np.zeros(frames.kinds.shape)
    grid[frames.kinds == cv.INPUT] = x.ravel()                  # row-major, like the pixels
    flipped = w[::-1, ::-1].ravel()
    from_taps = np.array([grid[t[:, 0], t[:, 1]] @ flipped for t in frames.taps]).reshape(out, out)
    torch_out = F.conv_transpose2d(torch.tensor(x)[None, None], torch.tensor(w)[None, None],
                                   stride=S, padding=P)[0, 0]
    compare("frames vs conv_transpose2d", from_taps, torch_out, verbose=False)


def test_transposed_frames_refuse_padding_that_crops():
    with pytest.raises(ValueError, match="negative padding"):
        cv.transposed_frames(5, 3, stride=1, padding=3)


def test_default_steps():
    assert cv.default_steps(4) == [0, 1, 2, 3]
    assert cv.default_steps(9) == [0, 1, 2, 8]
    assert cv.default_steps(2, max_frames=5) == [0, 1]


# ---------------------------------------------------------------- figures


def test_frame_strip_writes_the_lecture_example():
    fig = cv.frame_strip(5, 3, image=IMAGE5, kernel=KERNEL3)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    last = fig.axes[-1]
    first_panel = [t.get_text() for t in fig.axes[0].texts]
    assert "4" in first_panel and "×1" in first_panel and "×0" in first_panel
    last_panel = [t.get_text() for t in last.texts]
    assert last_panel.count("4") >= 4                        # the full output [[4,3,4],[2,4,3],[2,3,4]] plus input
    assert fig.axes[-1].get_title() == "output (2, 2)"


def test_frame_strip_steps_and_title():
    fig = cv.frame_strip(6, 3, stride=2, padding=1, steps=[0, 4], title="case (g)")
    assert len(fig.axes) == 2 and fig._suptitle.get_text() == "case (g)"
    assert fig.axes[1].get_title() == "output (1, 1)"


def test_transposed_frame_strip_is_a_figure():
    fig = cv.transposed_frame_strip(2, 3, stride=2)
    assert len(fig.axes) == 4 and "O = 5" in fig._suptitle.get_text()


def test_animation_has_one_frame_per_output_cell():
    anim = cv.animate_conv(5, 3, stride=2, padding=1)
    assert isinstance(anim, FuncAnimation)
    html = anim.to_jshtml()
    assert "<script" in html and html.count("data:image/png") == 9


def test_the_animation_player_fetches_nothing_from_the_network():
    assert "https://" in cv.animate_conv(4, 3).to_jshtml()           # matplotlib's own links Font Awesome's CDN
    html = cv.conv_animation_html(4, 3)
    assert "<script" in html and html.count("data:image/png") == 4
    assert "<link" not in html and "http://" not in html and "https://" not in html


def test_multichannel_figure_shows_torchs_outputs():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, (3, 5, 5)).astype(float)
    w = rng.integers(-1, 2, (2, 3, 3, 3)).astype(float)
    b = np.array([1.0, 0.0])
    fig = cv.plot_multichannel(x, w, b, stride=2, padding=1)
    want = F.conv2d(torch.tensor(x)[None], torch.tensor(w), torch.tensor(b), stride=2, padding=1)[0].numpy()
    maps = [ax for ax in fig.axes if ax.get_title().startswith("output map")]
    assert len(maps) == 2
    for o, ax in enumerate(maps):
        shown = [float(t.get_text()) for t in ax.texts]
        compare(f"figure's output map {o} vs torch conv2d", shown, want[o].ravel(), verbose=False)
    assert "output 2 x 3 x 3" in fig._suptitle.get_text()


def test_connectivity_counts_come_from_conv_arithmetic():
    fig = cv.plot_connectivity(n_inputs=7, kernel_size=3)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["fully connected: 35 weights", "locally connected: 15 weights",
                      "convolution (shared): 3 weights"]


def test_im2col_figure_columns_are_windows():
    """The figure shows scratch.functional.im2col's own matrix: window c is column c (row-major texts)."""
    fig = cv.plot_im2col(np.arange(1.0, 17.0).reshape(4, 4), 3)
    matrix = fig.axes[1]
    values = np.array([float(t.get_text()) for t in matrix.texts]).reshape(9, 4)
    assert values[:, 0].tolist() == [1, 2, 3, 5, 6, 7, 9, 10, 11]            # the top-left window
    assert values[0].tolist() == [1, 2, 5, 6]                                # each window's first pixel
    assert "9 pixels x 4 windows" in matrix.get_title()
    assert [t.get_text() for t in matrix.get_xticklabels()] == ["(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"]


def test_plot_images_symmetric_limits():
    a = np.array([[-1.0, 0.5], [0.2, 0.0]])
    fig = cv.plot_images([a, 2 * a], ["a", "2a"], symmetric=True)
    plt.close(fig)                         # plot_images does not close its figure yet: it moves onto plots.image_grid
    lims = [ax.images[0].get_clim() for ax in fig.axes]
    assert lims == [(-1.0, 1.0), (-2.0, 2.0)]


def test_plot_speed_labels_ratios():
    fig = cv.plot_speed({"loops": 0.5, "im2col": 0.001, "torch": 0.00025})
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert any("×2,000" in s for s in labels) and any("×4" in s for s in labels) and any("×1" in s for s in labels)


def test_grace_hopper_is_bundled_and_grayscale():
    img = cv.load_grace_hopper()
    assert img.shape == (300, 256) and img.dtype == np.float64
    assert 0.0 <= img.min() < img.max() <= 1.0
    assert cv.load_grace_hopper(downsample=1).shape == (600, 512)


# ---------------------------------------------------------------- the widget


def test_arithmetic_text_whole_cases():
    assert cv.arithmetic_text(5, 3, 1, 2) == "O = (W - F + 2P)/S + 1 = (5 - 3 + 2*1)/2 + 1 = 3"
    text = cv.arithmetic_text(7, 3, 0, 1, 2)
    assert "F_eff = D(F - 1) + 1 = 2*(3 - 1) + 1 = 5" in text and text.endswith("= 3")


def test_arithmetic_text_not_whole_shows_error_and_torchs_floor():
    text = cv.arithmetic_text(224, 11, 3, 4)
    assert "55.75 is not an integer" in text and "torch.nn.Conv2d gives O = 55" in text


def test_arithmetic_text_when_the_kernel_does_not_fit():
    text = cv.arithmetic_text(3, 5)
    assert "does not fit" in text and "gives O" not in text


@pytest.mark.parametrize("W, F_, P, S, D", list(itertools.product([1, 4, 9], [1, 3, 4], [0, 2], [1, 3], [1, 2])))
def test_arithmetic_text_agrees_with_torch(W, F_, P, S, D):
    layer = torch.nn.Conv2d(1, 1, F_, stride=S, padding=P, dilation=D)
    try:
        with torch.no_grad():
            side = layer(torch.zeros(1, 1, W, W)).shape[-1]
    except RuntimeError:
        side = None
    text = cv.arithmetic_text(W, F_, P, S, D)
    if side is None:
        assert "does not fit" in text
    else:
        assert text.endswith(f"= {side}") or f"gives O = {side} (floored)" in text


@pytest.mark.parametrize("W, F_, P, S, D, step", [(1, 1, 0, 1, 1, 0), (16, 7, 4, 4, 4, 63), (3, 5, 0, 1, 1, 0),
                                               (28, 3, 1, 2, 1, 500), (7, 3, 0, 1, 2, 8)])
def test_explorer_callback_over_the_slider_ranges_writes_the_arithmetic_on_top(W, F_, P, S, D, step):
    fig = cv.explore_conv(W, F_, P, S, D, step)
    assert fig._suptitle.get_text().replace("\n", " ") == cv.arithmetic_text(W, F_, P, S, D).replace("\n", " ")


def test_explorer_wraps_the_step_and_explains_a_misfit():
    fig = cv.explore_conv(5, 3, 0, 1, 1, step=10)                    # 9 frames: step 10 -> frame 1
    assert "step 2 of 9: output (0, 1)" in fig.axes[0].get_title()
    misfit = cv.explore_conv(3, 5)
    assert misfit.axes[0].get_title() == "the kernel does not fit"
    assert "does not fit even once" in misfit._suptitle.get_text().replace("\n", " ")


# ---------------------------------------------------------------- exercises


def test_every_reference_passes_its_own_check():
    for ex in NB05:
        assert run_check(ex, ex.reference).startswith("✔")


def test_output_size_inputs_are_often_not_whole():
    rng = np.random.default_rng(3)
    draws = [EX["05.output_size"].make_inputs(rng) for _ in range(200)]
    strided = [(W, F_, P, S) for W, F_, P, S in draws if S > 1]
    assert strided and all((W - F_ + 2 * P) % S for W, F_, P, S in strided)
    assert all(F_ <= W + 2 * P for W, F_, P, S in draws)


def test_output_size_without_floor_fails_with_the_hint():
    with pytest.raises(ExerciseFailed, match="rounds DOWN"):
        run_check(EX["05.output_size"], lambda W, F_, P, S: (W - F_ + 2 * P) / S + 1)


def test_conv2d_exercise_catches_a_flipped_kernel_and_a_wrong_shape():
    def true_conv(image, kernel):
        return sf.conv2d(image[None, None], kernel[::-1, ::-1].copy()[None, None])[0, 0]

    with pytest.raises(ExerciseFailed, match="kernel flipped"):
        run_check(EX["05.conv2d_single_channel"], true_conv)
    with pytest.raises(ExerciseFailed, match="shape"):
        run_check(EX["05.conv2d_single_channel"],
                  lambda image, kernel: sf.conv2d(image[None, None], kernel[None, None], padding=1)[0, 0])


def _trials(key):
    """The inputs the checker of ``key`` tries, in order (they are seeded by the key)."""
    ex = EX[key]
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    return [ex.make_inputs(rng) for _ in range(ex.trials)]


def test_params_exercise_tries_int_and_tuple_kernels_with_and_without_bias():
    trials = _trials("05.params")
    assert {isinstance(k, tuple) for _, _, k, _ in trials} == {True, False}
    assert any(isinstance(k, tuple) and k[0] != k[1] for _, _, k, _ in trials)
    assert {bias for *_, bias in trials} == {True, False}
    for c_in, c_out, k, bias in trials:
        assert EX["05.params"].reference(c_in, c_out, k, bias) == sum(
            p.numel() for p in torch.nn.Conv2d(c_in, c_out, k, bias=bias).parameters())


def test_params_exercise_rejects_an_int_only_answer():
    # the notebook says kernel_size may be a tuple: the checker tries one, and shows the learner's failing line
    with pytest.raises(ExerciseFailed, match=r"raised TypeError: can't multiply sequence(?s:.*)in <lambda>"):
        run_check(EX["05.params"], lambda i, o, k, bias: o * i * k * k + (o if bias else 0))


def test_receptive_field_exercise_wants_an_int_and_tries_a_single_layer():
    assert any(len(ks) == 1 for ks, _ in _trials("05.receptive_field"))
    assert all(len(ks) == len(ss) for ks, ss in _trials("05.receptive_field"))
    with pytest.raises(ExerciseFailed, match="shape"):          # the library's ReceptiveField(size, jump)
        run_check(EX["05.receptive_field"], lambda ks, ss: ca.receptive_field(list(zip(ks, ss)))[-1])
    with pytest.raises(ExerciseFailed, match="jump"):
        run_check(EX["05.receptive_field"], lambda ks, ss: 1 + sum(k - 1 for k in ks))


def test_conv2d_exercise_inputs_cover_strides_paddings_and_channels():
    trials = _trials("05.conv2d_forward") + _trials("05.conv2d_backward")
    strides = {t[3] for t in _trials("05.conv2d_forward")} | {t[3] for t in _trials("05.conv2d_backward")}
    paddings = {t[4] for t in _trials("05.conv2d_forward")} | {t[4] for t in _trials("05.conv2d_backward")}
    assert strides == {1, 2} and paddings == {0, 1, 2}
    weights = [t[1] for t in _trials("05.conv2d_forward")] + [t[2] for t in _trials("05.conv2d_backward")]
    assert len({w.shape[:2] for w in weights}) > 2 and any(w.shape[2] != w.shape[3] for w in weights)
    assert len(trials) == 8


@pytest.mark.parametrize("seed", range(6))
def test_conv2d_exercise_references_are_torch(seed):
    """The references the checkers compare with, against F.conv2d and autograd in float64."""
    rng = np.random.default_rng(seed)
    x, w, b, stride, padding = EX["05.conv2d_forward"].make_inputs(rng)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    compare("forward", EX["05.conv2d_forward"].reference(x, w, b, stride, padding), y, tol=1e-10)
    dy = rng.standard_normal(tuple(y.shape))
    y.backward(torch.tensor(dy))
    grads = EX["05.conv2d_backward"].reference(dy, x, w, stride, padding)
    for name, ours, theirs in zip(("dx", "dW", "db"), grads, (xt.grad, wt.grad, bt.grad)):
        compare(name, ours, theirs, tol=1e-10)


def test_conv2d_backward_answer_must_be_a_tuple_of_three():
    with pytest.raises(ExerciseFailed, match=r"tuple \(grad_input, grad_weight, grad_bias\) of 3"):
        run_check(EX["05.conv2d_backward"], lambda *args: EX["05.conv2d_backward"].reference(*args)[0])


def test_unattempted_exercise_says_so():
    def stub(*args):
        raise NotImplementedError

    for ex in NB05:
        with pytest.raises(ExerciseFailed, match="not attempted yet"):
            run_check(ex, stub)
