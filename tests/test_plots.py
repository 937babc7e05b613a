"""course_lib.plots: the one image grid, the digit grid built on it, and the training curves."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib import diagnostics, plots
from course_lib.lessons import nb05_convolution_arithmetic as cv
from course_lib.training import History


def drawn(fig):
    """The axes that show an image (the others are blank panels)."""
    return [ax for ax in fig.axes if ax.images]


def test_image_grid_lays_images_out_in_rows_and_returns_a_closed_figure(rng):
    images = rng.standard_normal((10, 5, 5))
    fig = plots.image_grid(images, titles=[f"#{k}" for k in range(10)], cols=4)
    assert isinstance(fig, Figure)
    assert not plt.fignum_exists(fig.number)                      # closed: a notebook shows it once
    assert len(fig.axes) == 12 and len(drawn(fig)) == 10           # 3 rows of 4, the last two blank
    assert [ax.get_title() for ax in drawn(fig)] == [f"#{k}" for k in range(10)]
    assert np.array_equal(drawn(fig)[7].images[0].get_array(), images[7])
    assert all(not ax.axison for ax in fig.axes)


def test_image_grid_uses_one_row_when_there_are_fewer_images_than_columns(rng):
    fig = plots.image_grid(list(rng.standard_normal((3, 4, 4))), size=2.0, title="three")
    assert len(fig.axes) == 3 and fig.get_suptitle() == "three"
    assert fig.get_size_inches()[0] == pytest.approx(6.0)
    assert [ax.get_title() for ax in fig.axes] == ["", "", ""]


def test_image_grid_symmetric_scales_each_panel_around_zero():
    fig = plots.image_grid([np.array([[1.0, -3.0]]), np.array([[0.5, 0.25]]), np.zeros((1, 2))], symmetric=True)
    limits = [ax.images[0].get_clim() for ax in fig.axes]
    assert limits == [(-3.0, 3.0), (-0.5, 0.5), (-1.0, 1.0)]      # an all-zero panel still gets a range
    assert all(ax.images[0].get_cmap().name == "RdBu_r" for ax in fig.axes)


def test_image_grid_shares_a_fixed_range_when_given_one(rng):
    fig = plots.image_grid(rng.integers(0, 200, (2, 4, 4)), cmap="gray_r", vmin=0, vmax=255)
    assert [ax.images[0].get_clim() for ax in fig.axes] == [(0, 255)] * 2
    assert fig.axes[0].images[0].get_cmap().name == "gray_r"


def test_image_grid_explains_bad_input():
    with pytest.raises(ValueError, match="got 1 titles for 2 images"):
        plots.image_grid(np.zeros((2, 3, 3)), titles=["a"])
    with pytest.raises(ValueError, match="no images"):
        plots.image_grid([])


def test_show_digits_captions_labels_and_marks_wrong_predictions_red(rng):
    images = rng.integers(0, 255, (20, 28, 28)).astype(np.uint8)
    labels, predictions = np.arange(20) % 10, np.arange(20) % 10
    predictions[3] = 5
    fig = plots.show_digits(images, labels, predictions, n=6, cols=4, title="wrong ones")
    assert isinstance(fig, Figure) and not plt.fignum_exists(fig.number)
    assert len(fig.axes) == 8 and len(drawn(fig)) == 6
    assert [ax.get_title() for ax in drawn(fig)] == ["0 → 0", "1 → 1", "2 → 2", "3 → 5", "4 → 4", "5 → 5"]
    assert [ax.title.get_color() for ax in drawn(fig)] == ["black"] * 3 + ["red"] + ["black"] * 2
    assert drawn(fig)[0].images[0].get_cmap().name == "gray_r" and fig.get_suptitle() == "wrong ones"
    assert [ax.get_title() for ax in drawn(plots.show_digits(images, labels, n=3))] == ["0", "1", "2"]
    assert [ax.get_title() for ax in plots.show_digits(images, n=2).axes] == ["", ""]


def test_plot_images_and_plot_filters_are_image_grids(rng):
    fig = cv.plot_images([np.ones((3, 3))] * 3, ["a", "b", "c"])
    assert len(fig.axes) == 3 and not plt.fignum_exists(fig.number)              # one row by default
    weights = rng.standard_normal((16, 1, 5, 5))
    fig = diagnostics.plot_filters(weights, cols=8, title="filters")
    assert len(fig.axes) == 16 and fig.get_suptitle() == "filters"
    assert np.array_equal(fig.axes[2].images[0].get_array(), weights[2, 0])


def test_plot_history_draws_loss_and_accuracy_per_run():
    a = History(train_loss=[1.0, 0.5, 0.3], train_acc=[0.5, 0.7, 0.8], val_loss=[1.1, 0.6, 0.5],
                val_acc=[0.4, 0.6, 0.7])
    b = History(train_loss=[2.0, 1.0, 0.9], train_acc=[0.2, 0.4, 0.5])
    fig = plots.plot_history(a, b, labels=["with val", "train only"], title="two runs")
    assert isinstance(fig, Figure) and not plt.fignum_exists(fig.number)
    loss, acc = fig.axes
    assert (loss.get_title(), acc.get_title(), fig.get_suptitle()) == ("loss", "accuracy", "two runs")
    assert [line.get_label() for line in loss.lines] == ["with val train", "with val val", "train only train"]
    assert list(loss.lines[1].get_ydata()) == [1.1, 0.6, 0.5] and loss.lines[1].get_linestyle() == "--"
    assert list(acc.lines[2].get_xdata()) == [1, 2, 3]
    assert [t.get_text() for t in acc.get_legend().get_texts()] == ["with val train", "with val val",
                                                                   "train only train"]


def test_finish_closes_the_figure_and_returns_it():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    assert plots.finish(fig) is fig
    assert fig.number not in plt.get_fignums()       # closed: the notebook shows it once, as the cell's value
