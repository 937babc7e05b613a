"""Tests for course_lib.lessons.nb00_start_here (notebook 00's first look at the digits) and notebook 00's exercises."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib.lessons import nb00_start_here as digits
from course_lib.data import load_mnist, standardize
from course_lib.exercises import nb00
from course_lib.exercises.checking import ExerciseFailed, run_check


@pytest.fixture(scope="module")
def train():
    return load_mnist("train")


def test_class_counts_match_the_data_readme(train):
    _, labels = train
    counts = digits.class_counts(labels)
    assert counts.tolist() == [801, 902, 793, 826, 784, 690, 811, 856, 755, 782]
    assert digits.class_counts(np.array([2, 2, 7])).tolist() == [0, 0, 2, 0, 0, 0, 0, 1, 0, 0]
    with pytest.raises(ValueError, match="0..9"):
        digits.class_counts(np.array([3, 10]))


def test_mean_images():
    images = np.zeros((4, 2, 2), dtype=np.uint8)
    images[0] = 10
    images[1] = 30
    images[2, 0, 0] = 255
    labels = np.array([0, 0, 1, 1])
    means = digits.mean_images(images, labels, n_classes=2)
    assert means.shape == (2, 2, 2) and means.dtype == np.float64
    assert np.all(means[0] == 20)
    assert means[1].tolist() == [[127.5, 0], [0, 0]]
    with pytest.raises(ValueError, match=r"class\(es\) \[1\]"):
        digits.mean_images(images[:2], labels[:2], n_classes=2)


def test_mean_images_of_real_digits_are_uint8_range(train):
    images, labels = train
    means = digits.mean_images(images, labels)
    assert means.shape == (10, 28, 28)
    assert 0 <= means.min() and means.max() <= 255
    assert np.allclose(means[3], images[labels == 3].mean(axis=0))


def test_nearest_mean_predict_picks_the_closest_mean():
    means = np.stack([np.zeros((2, 2)), np.full((2, 2), 100.0), np.full((2, 2), 200.0)])
    images = np.array([np.full((2, 2), 40), np.full((2, 2), 60), np.full((2, 2), 255), np.zeros((2, 2))], dtype=np.uint8)
    assert digits.nearest_mean_predict(means, images).tolist() == [0, 1, 2, 0]
    with pytest.raises(ValueError, match=r"images must be \(N, 2, 2\) like the means \(3, 2, 2\), got \(4, 4\)"):
        digits.nearest_mean_predict(means, images.reshape(4, 4))


def test_nearest_mean_predict_agrees_with_brute_force_distances(train):
    images, labels = train
    means = digits.mean_images(images[:2000], labels[:2000])
    some = images[2000:2300]
    distances = ((some[:, None].astype(np.float64) - means[None]) ** 2).sum(axis=(2, 3))    # (300, 10)
    assert np.array_equal(digits.nearest_mean_predict(means, some), distances.argmin(axis=1))


def test_nth_of_digit(train):
    _, labels = train
    i = digits.nth_of_digit(labels, 5, 0)
    assert labels[i] == 5 and not np.any(labels[:i] == 5)
    j = digits.nth_of_digit(labels, 5, 1)
    assert j > i and labels[j] == 5
    with pytest.raises(IndexError, match="690 examples of the digit 5"):
        digits.nth_of_digit(labels, 5, 690)


def test_pixel_table():
    image = np.arange(28 * 28).reshape(28, 28) % 256
    text = digits.pixel_table(image, top=2, left=3, height=4, width=5)
    lines = text.splitlines()
    assert len(lines) == 5                                   # header + 4 rows
    assert lines[0].split() == ["3", "4", "5", "6", "7"]
    assert lines[1].split() == ["2", "|"] + [str(v) for v in image[2, 3:8]]
    assert len(digits.pixel_table(image).splitlines()) == 29


def test_browse_digit_returns_figure_with_values(train):
    images, labels = train
    fig = digits.browse_digit(images, labels, digit=3, index=0)
    assert isinstance(fig, plt.Figure)
    ax_img, ax_map = fig.axes[:2]
    image = images[digits.nth_of_digit(labels, 3, 0)]
    assert np.array_equal(ax_img.images[0].get_array(), image)
    texts = [t.get_text() for t in ax_map.texts]
    assert len(texts) == int((image > 0).sum())              # one label per ink pixel
    assert sorted(map(int, texts)) == sorted(image[image > 0].tolist())
    assert "digit 3" in ax_img.get_title()
    fig_plain = digits.browse_digit(images, labels, digit=7, index=5, show_values=False)
    assert len(fig_plain.axes[1].texts) == 0


def test_browse_digit_bad_index_says_the_range(train):
    images, labels = train
    with pytest.raises(IndexError, match="index must be in 0..689"):
        digits.browse_digit(images, labels, digit=5, index=10_000)


def test_plots_return_figures(train):
    images, labels = train
    _, test_labels = load_mnist("test")
    fig = digits.plot_class_counts(labels, test_labels)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights[:10] == digits.class_counts(labels).tolist()
    assert heights[10:] == digits.class_counts(test_labels).tolist()
    fig = digits.plot_mean_images(images, labels)
    assert len(fig.axes) == 10
    assert np.allclose(fig.axes[3].images[0].get_array(), images[labels == 3].mean(axis=0))
    fig = digits.plot_pixel_histogram(images[:100])
    assert "% of the pixels are exactly 0" in fig.axes[0].get_title()
    fig = digits.plot_standardization(images[:100], standardize(images[:100]))
    assert len(fig.axes) == 2 and "standardized" in fig.axes[1].get_title()


# --- notebook 00's exercises --------------------------------------------------

@pytest.mark.parametrize("ex", nb00.EXERCISES, ids=lambda ex: ex.key)
def test_reference_passes_its_own_check(ex):
    assert ex.key.startswith("00.")
    assert run_check(ex, ex.reference).startswith("✔")


def exercise(key):
    return next(ex for ex in nb00.EXERCISES if ex.key == key)


def test_not_attempted_gives_task_and_hint():
    def stub(labels):
        raise NotImplementedError("Exercise: replace this line with your answer")

    with pytest.raises(ExerciseFailed, match="(?s)not attempted yet.*Hint: np.bincount"):
        run_check(exercise("00.count_per_class"), stub)


def test_count_with_unique_misses_absent_digit():
    def with_unique(labels):
        return np.unique(labels, return_counts=True)[1]

    with pytest.raises(ExerciseFailed, match=r"(?s)shape \(8,\), expected \(10,\).*minlength=10"):
        run_check(exercise("00.count_per_class"), with_unique)


def test_mean_image_of_all_digits_fails():
    with pytest.raises(ExerciseFailed, match="(?s)value\\(s\\) differ.*boolean mask"):
        run_check(exercise("00.mean_image"), lambda images, labels, digit: images.mean(axis=0))


def test_ink_fraction_as_one_number_fails():
    with pytest.raises(ExerciseFailed, match=r"(?s)shape \(\), expected.*axis=\(1, 2\)"):
        run_check(exercise("00.ink_fraction"), lambda images: (images > 0).mean())


def test_standardize_with_the_images_own_statistics_fails():
    def own_statistics(images, reference):
        return (images / 255.0 - (images / 255.0).mean()) / (images / 255.0).std()

    with pytest.raises(ExerciseFailed, match="(?s)differ.*from the reference images only"):
        run_check(exercise("00.standardize"), own_statistics)


def test_standardize_reference_matches_course_lib(train):
    """With the training images as the reference, it is course_lib's standardize (whose mu, sigma are rounded to 4 digits)."""
    images, _ = train
    ours = nb00.my_standardize(images[:50], images)
    assert np.allclose(ours, standardize(images[:50]), atol=1e-3)
    assert abs(nb00.my_standardize(images, images).mean()) < 1e-12


@pytest.mark.parametrize("ex", nb00.EXERCISES, ids=lambda ex: ex.key)
def test_every_exercise_declares_at_least_two_mistakes(ex):
    assert len(ex.mistakes) >= 2
