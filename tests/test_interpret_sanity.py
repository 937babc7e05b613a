"""course_lib.interpret.sanity: cascading randomisation (which layers change, from which distribution, the
original untouched, the same weights on both sides), Spearman's rank correlation by hand, the check's table."""
import math

import numpy as np
import pytest
import torch
from interpret_twins import twins

from course_lib.interpret.attribution import guided_backprop, saliency
from course_lib.interpret.cam import grad_cam
from course_lib.interpret.sanity import cascading_randomization, randomization_check, rank_correlation
from course_lib.parity import compare

DIGIT_LAYERS = ["fc", "conv3", "conv2", "conv1"]


def test_cascading_randomization_redraws_from_the_top_down_and_leaves_the_model_alone():
    model, _, _, _, _ = twins("digit_cnn")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    changed_so_far = []
    for name, copy in cascading_randomization(model, seed=3):
        changed_so_far.append(name)
        changed = [k.split(".")[0] for k in before if not torch.equal(before[k], copy.state_dict()[k])]
        assert sorted(set(changed)) == sorted(changed_so_far)
        weight = copy.get_submodule(name).weight
        assert weight.abs().max() <= 1 / math.sqrt(weight[0].numel())            # U(-1/sqrt(fan_in), +...)
    assert changed_so_far == DIGIT_LAYERS
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_the_copies_are_independent_and_the_same_on_both_sides():
    torch_model, scratch_model, _, _, _ = twins("source_cnn")
    scratch_before = {k: v.copy() for k, v in scratch_model.state_dict().items()}
    torch_copies = list(cascading_randomization(torch_model, seed=1))
    scratch_copies = list(cascading_randomization(scratch_model, seed=1))
    assert [n for n, _ in torch_copies] == [n for n, _ in scratch_copies] == DIGIT_LAYERS
    for (_, a), (_, b) in zip(torch_copies, scratch_copies):
        for key, value in a.state_dict().items():
            compare(key, b.state_dict()[key], value, 0.0, verbose=False)
    assert not torch.equal(torch_copies[0][1].conv1.weight, torch_copies[-1][1].conv1.weight)
    assert all(np.array_equal(scratch_before[k], v) for k, v in scratch_model.state_dict().items())


def test_rank_correlation_by_hand():
    """b = (5, 6, 7, 8, 7) has ranks (0, 1, 2.5, 4, 2.5) (the two 7s share ranks 2 and 3); a's ranks are 0..4.
    Centred: (-2, -1, 0, 1, 2) and (-2, -1, .5, 2, .5): rho = 8 / sqrt(10 * 9.5). scipy.stats.spearmanr agrees."""
    a, b = np.array([[1.0, 2, 3, 4, 5]]), np.array([[5.0, 6, 7, 8, 7]])
    np.testing.assert_allclose(rank_correlation(a, b), [8 / math.sqrt(95)], rtol=1e-15)
    np.testing.assert_allclose(rank_correlation(a, -b), [-8 / math.sqrt(95)], rtol=1e-15)
    np.testing.assert_allclose(rank_correlation(a, -b, abs=True), [8 / math.sqrt(95)], rtol=1e-15)


def test_rank_correlation_per_example_any_monotone_change_and_torch():
    maps = np.random.default_rng(0).normal(size=(4, 2, 5, 5))
    np.testing.assert_allclose(rank_correlation(maps, np.exp(maps)), np.ones(4), rtol=1e-14)
    np.testing.assert_allclose(rank_correlation(maps, -maps ** 3), -np.ones(4), rtol=1e-14)
    ours = rank_correlation(torch.as_tensor(maps), torch.as_tensor(maps[::-1].copy()))
    assert isinstance(ours, torch.Tensor) and ours.shape == (4,)
    compare("torch", ours, rank_correlation(maps, maps[::-1]), 0.0)
    assert np.isnan(rank_correlation(np.ones((1, 3)), maps[:1, 0, 0, :3])).all()    # a constant map has no order


def test_randomization_check_is_a_table_the_same_on_both_sides():
    torch_model, scratch_model, x_np, x, t = twins("digit_cnn")
    methods = {"saliency": saliency, "guided": guided_backprop, "grad-cam": lambda m, x, t: grad_cam(m, "relu3", x, t),
               "the image": lambda m, x, t: x}
    table = randomization_check(torch_model, x, t, methods, seed=2)
    assert list(table) == list(methods) and all(list(row) == DIGIT_LAYERS for row in table.values())
    assert table["the image"] == dict.fromkeys(DIGIT_LAYERS, 1.0)     # a map that ignores the model never changes
    scratch_table = randomization_check(scratch_model, x_np, t, methods, seed=2)
    for name, row in table.items():
        assert row == pytest.approx(scratch_table[name], abs=1e-9), name
