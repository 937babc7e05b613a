"""Notebook 10's helpers (course_lib/lessons/nb10_visualisation.py): the methods side by side, the attack
experiments, the figures and the explorers, on the trained network and on a small batch of validation digits."""
import matplotlib
import numpy as np
import pytest
import torch

from course_lib import data, interpret, models, scratch, training
from course_lib.exercises import nb10 as exercises
from course_lib.exercises.checking import ExerciseFailed, run_check
from course_lib.lessons import nb10_visualisation as nb10
from course_lib.parity import compare


@pytest.fixture(scope="module")
def net():
    return models.load_digit_cnn("plain")


@pytest.fixture(scope="module")
def digits():
    x, y = data.digit_images("validation")
    return x[:60], y[:60]


def test_every_method_gives_one_map_per_digit_at_the_input_resolution(net, digits):
    x, y = digits[0][:3], digits[1][:3]
    methods = nb10.attribution_methods()
    assert list(methods) == ["saliency", "guided backprop", "SmoothGrad", "CAM", "Grad-CAM", "occlusion",
                             "integrated gradients"]
    maps = nb10.all_maps(net, x, y)
    assert all(m.shape == (3, 28, 28) for m in maps.values())
    compare("Grad-CAM upsampled", maps["Grad-CAM"], interpret.upsample_map(interpret.grad_cam(net, "relu3", x, y), 28),
            tol=1e-6, verbose=False)
    assert set(nb10.sanity_methods()) == set(methods) - {"CAM"}


def test_as_image_maps_sums_channels_and_upsamples_coarse_maps():
    maps = np.arange(2 * 3 * 28 * 28, dtype=float).reshape(2, 3, 28, 28)
    assert np.allclose(nb10.as_image_maps(maps), maps.sum(axis=1))
    coarse = np.ones((2, 7, 7))
    assert np.allclose(nb10.as_image_maps(coarse), np.ones((2, 28, 28)))


def test_linear_score_shift_is_eps_times_the_l1_norm_of_the_template():
    model = scratch.Sequential(scratch.Flatten(), scratch.Linear(784, 10))
    x = np.random.default_rng(0).uniform(0, 1, (1, 1, 28, 28))
    moved = nb10.linear_score_shift(model, x, cls=4, eps=0.07)
    assert moved == pytest.approx(0.07 * np.abs(model[1].weight.data[4]).sum(), rel=1e-12)


def test_linear_classifier_learns_the_digits(digits):
    x, y = data.digit_images("fit")
    model = nb10.linear_classifier(x, y, epochs=1)
    assert training.accuracy(model, *data.digit_images("validation")) > 0.85      # 0.866 after one epoch


def test_accuracy_under_attack_shares_one_gradient_and_matches_fgsm(net, digits):
    x, y = digits
    curve = nb10.accuracy_under_attack(net, x, y, (0.0, 0.1, 0.2))["FGSM"]
    assert curve[0] == training.accuracy(net, x, y)
    for eps, acc in zip((0.1, 0.2), curve[1:]):
        assert acc == training.accuracy(net, interpret.fgsm(net, x, y, eps).numpy(), y)


def test_robustness_table_rows_and_attacks(net, digits):
    x, y = digits[0][:20], digits[1][:20]
    table = nb10.robustness_table({"a": net}, x, y, attacks=("FGSM 0.1", "PGD 0.1"))
    assert list(table["a"]) == ["clean", "FGSM 0.1", "PGD 0.1"]
    pgd = interpret.pgd(net, x, y, 0.1, step_size=0.05, steps=nb10.PGD_STEPS)
    assert table["a"]["PGD 0.1"] == training.accuracy(net, pgd.numpy(), y)
    header, row = nb10.format_robustness(table).splitlines()
    assert header.split() == ["network", "clean", "FGSM", "0.1", "PGD", "0.1"] and row.split()[0] == "a"
    with pytest.raises(ValueError, match="FGSM' or 'PGD"):
        nb10.attack(net, x, y, 0.1, "BIM")


def test_smallest_fooling_eps_is_the_first_eps_that_fools(net, digits):
    x, y = digits[0][:10], digits[1][:10]
    found = nb10.smallest_fooling_eps(net, x, y)
    for i, eps in enumerate(found):
        if not np.isfinite(eps):
            continue
        fooled = nb10.probabilities(net, interpret.fgsm(net, x[i:i + 1], y[i:i + 1], eps)).argmax() != y[i]
        before = eps - 0.01
        kept = before < 0.01 or nb10.probabilities(net, interpret.fgsm(net, x[i:i + 1], y[i:i + 1],
                                                                           before)).argmax() == y[i]
        assert fooled and kept


def test_easiest_to_fool_finds_a_correct_digit_turned_into_the_asked_class(net):
    x, y = data.digit_images("validation")
    index, eps = nb10.easiest_to_fool(net, x, y, digit=7, becomes=1)
    assert y[index] == 7 and nb10.probabilities(net, x[index:index + 1]).argmax() == 7
    assert nb10.probabilities(net, interpret.fgsm(net, x[index:index + 1], y[index:index + 1], eps)).argmax() == 1
    with pytest.raises(ValueError, match="no 7"):
        nb10.easiest_to_fool(net, x[:300], y[:300], digit=7, becomes=7)


def test_transfer_rates_are_fooling_rates_of_fgsm_and_of_noise(net, digits):
    x, y = digits
    second = models.load_digit_cnn("second")
    rates = nb10.transfer_rates(net, second, x, y, eps=0.2)
    expected = interpret.fooling_rate(second, x, interpret.fgsm(net, x, y, 0.2), y, correct_also=[net])
    assert rates["fgsm"] == expected
    assert rates["noise"] == interpret.fooling_rate(second, x, interpret.random_sign(x, 0.2), y, correct_also=[net])
    assert rates["own"] == interpret.fooling_rate(net, x, interpret.fgsm(net, x, y, 0.2), y, correct_also=[second])


def test_strongest_channels_are_ordered_by_their_top_response(net, digits):
    channels = nb10.strongest_channels(net, "relu2", digits[0], n=3)
    tops = [float(interpret.top_activating(net, "relu2", digits[0], c, k=1).value[0]) for c in range(32)]
    assert channels == list(np.argsort(tops)[::-1][:3])


def test_class_dreams_are_classified_as_their_class(net):
    images, confidence = nb10.class_dreams(net, steps=5)
    assert images.shape == (10, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert np.allclose(confidence, nb10.probabilities(net, images)[np.arange(10), np.arange(10)])


def test_every_figure_is_a_closed_figure(net, digits):
    x, y = digits
    figures = [
        nb10.preview(net, x[:1], int(y[0])),
        nb10.plot_maps(x[:2], y[:2], nb10.all_maps(net, x[:2], y[:2])),
        nb10.plot_randomization({"saliency": {"fc": 0.5, "conv3": 0.2}}),
        nb10.plot_projections({"pixels": interpret.pca_2d(x).points}, y),
        nb10.plot_feature_maps(interpret.feature_maps(net, x[:1]), x[0]),
        nb10.plot_top_patches(net, x, {"relu2": [0, 1]}, k=3),
        nb10.plot_accuracy_vs_eps((0, 0.1), {"FGSM": [1.0, 0.5]}),
        nb10.plot_dreams(np.zeros((10, 1, 28, 28)), np.ones(10)),
        nb10.plot_channel_dreams(net, "conv2", [0, 5]),
        nb10.plot_deep_dream(net, x[:1], "relu2", steps=(0, 2)),
        nb10.explore_method(net, x, y, 3, "occlusion", target=2),
        nb10.explore_epsilon(net, x, y, 0, 0.1, "PGD"),
        nb10.explore_epsilon(net, x, y, 0, 0.0),
    ]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figures)
    with pytest.raises(ValueError, match="method must be one of"):
        nb10.explore_method(net, x, y, 3, "LIME")


@pytest.mark.parametrize("backend", ["torch", "scratch"])
def test_the_explorer_shows_a_units_sum_for_either_kind_of_model(backend, digits):
    model = models.load_digit_cnn("plain", backend=backend)
    image = digits[0][7].astype(np.float64)
    fig = nb10.explore_network(model, image, "conv3", channel=99, i=27, j=0)   # clipped to (63, 6, 0)
    assert "(6, 0)" in fig.axes[0].get_title() and "channel 63" in fig.axes[1].get_title()
    c = interpret.unit_contributions(model, "conv3", image[None], 63, 6, 0)
    value = float(np.asarray(c.output)[0]) if backend == "scratch" else float(c.output[0])
    assert f"{value:.3f}" in fig.axes[2].get_title()


def test_the_explorer_takes_a_network_the_learner_built():
    torch.manual_seed(0)
    model = models.lenet5(backend="torch")
    fig = nb10.explore_network(model, np.zeros((1, 28, 28), dtype=np.float32), "0", 2, 3, 3)
    assert "sees 5x5" in fig.axes[0].get_title()


@pytest.mark.parametrize("ex", exercises.EXERCISES, ids=lambda e: e.key)
def test_exercise_references_pass(ex):
    assert run_check(ex, ex.reference).startswith("✔")


def test_exercise_wrong_answers_name_the_mistake():
    fgsm_step = next(e for e in exercises.EXERCISES if e.key == "10.fgsm_step")
    with pytest.raises(ExerciseFailed, match="descent step"):
        run_check(fgsm_step, lambda x, g, eps: np.clip(x - eps * np.sign(g), 0.0, 1.0))
    cam = next(e for e in exercises.EXERCISES if e.key == "10.cam")
    with pytest.raises(ExerciseFailed, match="Grad-CAM's last step"):
        run_check(cam, lambda f, w, t: np.maximum(np.tensordot(w[t], f, axes=1), 0.0))


def test_the_exercise_references_agree_with_the_library(net, digits):
    """The checkers' occlusion and CAM are interpret's, on a real digit (the notebook's cells compare them too)."""
    image = digits[0][7, 0].astype(np.float64)
    mirror = models.load_digit_cnn("plain", backend="scratch")
    score = lambda images: interpret.scores(mirror, images[:, None])[:, 7]            # noqa: E731
    occlusion = next(e for e in exercises.EXERCISES if e.key == "10.occlusion_map").reference
    compare("occlusion", occlusion(score, image, 6, 2), interpret.occlusion(mirror, image[None, None], 7, 6, 2)[0, 0],
            tol=1e-9, verbose=False)
    features = interpret.feature_maps(mirror, image[None, None], ["relu3"])["relu3"][0]
    cam = next(e for e in exercises.EXERCISES if e.key == "10.cam").reference
    compare("cam", cam(features, mirror.fc.weight.data, 7),
            interpret.class_activation_map(mirror, image[None, None], 7)[0], tol=1e-12, verbose=False)
