"""Notebook 08's helpers (course_lib/lessons/nb08_training_diagnostics.py): the initialisation experiment,
its figures, the per-step loss plot and the test-set leak; and notebook 08's exercises (the backward passes
against torch autograd)."""
import zlib

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_lib import diagnostics as dg
from course_lib import scratch, training
from course_lib.exercises.checking import ExerciseFailed, run_check
from course_lib.exercises.nb08 import EXERCISES as NB08
from course_lib.exercises.nb08 import _early_stop, batchnorm_backward, dropout_backward, dropout_forward
from course_lib.lessons import nb08_training_diagnostics as nb08
from course_lib.parity import compare
from course_lib.scratch import functional as sf

EX = {ex.key: ex for ex in NB08}
BACKENDS = ["scratch", "torch"]


def loss_fn(backend):
    return scratch.CrossEntropyLoss() if backend == "scratch" else torch.nn.CrossEntropyLoss()


def test_deep_mlp_draws_what_it_says():
    scratch.manual_seed(0)
    model = nb08.deep_mlp(depth=2, width=300, activation="relu", init="He", n_in=500)
    stds = [p.data.std() for name, p in model.named_parameters() if name.endswith("weight")]
    np.testing.assert_allclose(stds, [np.sqrt(2 / 500), np.sqrt(2 / 300), np.sqrt(2 / 300)], rtol=0.03)
    assert all(not p.data.any() for name, p in model.named_parameters() if name.endswith("bias"))
    with pytest.raises(ValueError, match="init must be one of"):
        nb08.deep_mlp(init="Xavier")


@pytest.mark.parametrize("backend", BACKENDS)
def test_saturated_sigmoid_stack_is_flagged(backend):
    scratch.manual_seed(0)
    torch.manual_seed(0)
    model = nb08.deep_mlp(depth=3, width=100, activation="sigmoid", init="N(0,1)", n_in=1000, backend=backend)
    x = np.random.default_rng(0).standard_normal((200, 1000))
    records = dg.record_activations(model, x, np.zeros(200, dtype=np.int64), loss_fn(backend))
    first = next(r for r in records if r.kind == "Sigmoid")
    assert first.saturated_fraction > 0.8             # fact 17: std(z) ~ 31.6, so most |z| > 4.6
    reading = dg.read_diagnostics(records=records)
    names_first = (f"layer {first.name} ", f"layers {first.name}, ")     # alone, or the first of several
    assert any(s.startswith(names_first) and "sigmoid saturated: " in s and "within 0.01 of 0 or 1" in s
               for s in reading), reading


def test_fact_17_preactivation_std_with_fan_in_1000():
    x = np.random.default_rng(1).standard_normal((500, 1000))
    for init, want in [("N(0,1)", np.sqrt(1000)), ("N(0,1/n)", 1.0)]:
        scratch.manual_seed(0)
        z = nb08.deep_mlp(depth=1, width=200, activation="tanh", init=init, n_in=1000)[1](x)
        assert abs(z.std() / want - 1) < 0.05, (init, z.std())
        if init == "N(0,1)":
            assert abs(np.mean(np.abs(z) > 5) - 0.87) < 0.02


def test_tanh_with_small_init_vanishes_and_is_read():
    scratch.manual_seed(0)
    model = nb08.deep_mlp(depth=10, width=100, activation="tanh", init="N(0,1/n)", n_in=100)
    for _, p in model.named_parameters():
        p.data *= 0.3                                      # too small: activations and gradients shrink
    rng = np.random.default_rng(0)
    records = dg.record_scratch(model, rng.standard_normal((100, 100)), rng.integers(0, 10, 100),
                                scratch.CrossEntropyLoss())
    reading = dg.read_diagnostics(records=records)
    assert any("gradients vanish" in s for s in reading), reading


def test_figures_return_figures():
    log = dg.StepLog()
    log.losses = [2.0, 1.5, float("nan")]
    assert isinstance(nb08.plot_step_losses([log], ["a"], smooth=2), Figure)
    assert isinstance(nb08.explore_init(depth=4, activation="relu", init="He", width=32, n=50), Figure)
    records = nb08.init_records(depth=3, activation="tanh", width=16, n=20)
    assert isinstance(nb08.plot_layer_stds({"N(0,1/n)": records}, title="t"), Figure)


def test_relu_with_unit_variance_weights_explodes_and_he_does_not():
    readings = {init: dg.read_diagnostics(records=nb08.init_records(depth=8, activation="relu", init=init, width=64))
                for init in ("N(0,1)", "He")}
    assert any(s.startswith("activations explode") for s in readings["N(0,1)"]), readings
    assert readings["He"] == []



# ---------------------------------------------------------------- the test-set leak

def test_selection_chooses_on_the_split_it_is_told_and_reports_test():
    # one seed, two learning rates, three epochs: validation prefers (lr 0.1, epoch 0), test prefers (0.2, 2)
    val = np.array([[[0.9, 0.8, 0.7], [0.5, 0.6, 0.85]]])
    test = np.array([[[0.80, 0.81, 0.82], [0.70, 0.75, 0.90]]])
    leak = nb08.SelectionLeak((0.1, 0.2), val, test)
    np.testing.assert_allclose(leak.reported("validation"), [0.80])
    np.testing.assert_allclose(leak.reported("test"), [0.90])
    np.testing.assert_allclose(leak.leak(), [0.10])
    np.testing.assert_allclose(leak.reported("validation", lr=0.2), [0.90])     # epochs of one learning rate only
    np.testing.assert_allclose(leak.leak(lr=0.2), [0.0])
    with pytest.raises(ValueError, match="chosen_on must be 'validation' or 'test'"):
        leak.reported("train")


def test_selection_tie_goes_to_the_smaller_learning_rate_then_the_earlier_epoch():
    val = np.array([[[0.7, 0.9, 0.9], [0.9, 0.5, 0.5]]])
    test = np.array([[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]])
    np.testing.assert_allclose(nb08.SelectionLeak((0.1, 0.2), val, test).reported("validation"), [0.2])


def test_leak_is_never_negative():
    rng = np.random.default_rng(0)
    leak = nb08.SelectionLeak((1, 2, 3), rng.random((20, 3, 6)), rng.random((20, 3, 6)))
    assert np.all(leak.leak() >= 0) and np.all(leak.leak(lr=2) >= 0) and np.any(leak.leak() > 0)


def test_selection_leak_records_every_candidate_on_both_splits():
    rng = np.random.default_rng(0)

    def split(n):
        return rng.standard_normal((n, 784)).astype(np.float32), rng.integers(0, 10, n)

    leak = nb08.selection_leak(split(64), split(30), split(40), lrs=(0.01, 0.1), epochs=2, seeds=2, hidden=4)
    assert leak.val_acc.shape == leak.test_acc.shape == (2, 2, 2) and leak.lrs == (0.01, 0.1)
    assert np.all(np.isin(np.round(leak.test_acc * 40), np.arange(41)))         # accuracies on 40 test examples


def test_epoch_accuracy_callback_records_after_every_epoch():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    x, y = np.eye(3, dtype=np.float32), np.array([0, 1, 1])
    recorder = nb08.EpochAccuracy(x, y)
    training.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
                 epochs=3, progress=False, callbacks=[recorder])
    assert len(recorder.acc) == 3 and recorder.acc[-1] == training.accuracy(model, x, y)


# ---------------------------------------------------------------- exercises

@pytest.mark.parametrize("key", sorted(EX))
def test_exercise_reference_passes_its_own_check(key):
    assert run_check(EX[key], EX[key].reference).startswith("✔")


MISTAKES = [(key, name) for key in sorted(EX) for name in EX[key].mistakes]


@pytest.mark.parametrize("key, mistake", MISTAKES, ids=[f"{k}: {m}" for k, m in MISTAKES])
def test_declared_mistake_fails_with_a_hint(key, mistake):
    with pytest.raises(ExerciseFailed, match="Hint"):
        run_check(EX[key], EX[key].mistakes[mistake])


def test_every_exercise_declares_its_mistakes():
    assert all(ex.mistakes for ex in NB08), [ex.key for ex in NB08 if not ex.mistakes]


def test_unattempted_exercise_says_so():
    def stub(*args):
        raise NotImplementedError

    with pytest.raises(ExerciseFailed, match="not attempted yet"):
        run_check(EX["08.update_ratio"], stub)


# ---------------------------------------------------------------- the backward exercises, against torch and scratch

def test_batchnorm_backward_reference_matches_torch_autograd():
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, gamma, beta, eps, g = EX["08.batchnorm_backward"].make_inputs(rng)
        xt, gt, bt = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
        y = torch.nn.functional.batch_norm(xt, None, None, gt, bt, training=True, eps=eps)
        y.backward(torch.tensor(g))
        for name, ours, theirs in zip(("dx", "dgamma", "dbeta"), batchnorm_backward(x, gamma, beta, eps, g),
                                      (xt.grad, gt.grad, bt.grad)):
            compare(name, ours, theirs, tol=1e-7, verbose=False)


def test_batchnorm_backward_parts_are_named():
    def wrong_dbeta(*args):
        dx, dgamma, dbeta = batchnorm_backward(*args)
        return dx, dgamma, dbeta / len(args[0])

    assert run_check(EX["08.batchnorm_backward"], batchnorm_backward)
    with pytest.raises(ExerciseFailed, match="dbeta: "):
        run_check(EX["08.batchnorm_backward"], wrong_dbeta)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_forward_follows_the_scratch_rule(p):
    x = np.random.default_rng(2).normal(size=(6, 7))
    u = scratch.manual_seed(3).random(x.shape)                 # what sf.dropout draws after the same seed
    scratch.manual_seed(3)
    y, mask = sf.dropout(x, p, training=True, return_mask=True)
    np.testing.assert_allclose(dropout_forward(x, p, u), y, rtol=1e-14)            # the same values kept
    np.testing.assert_array_equal(dropout_backward(x, u >= p, p), sf.dropout_backward(x, mask))


def test_dropout_keeps_the_boundary_value():
    assert dropout_forward(np.array([2.0, 2.0]), 0.5, np.array([0.5, 0.4999])).tolist() == [4.0, 0.0]


def test_dropout_matches_torch_mask_scaling_and_gradient():
    torch.manual_seed(0)
    x = torch.randn(50, 40, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.dropout(x, p=0.3, training=True)
    g = torch.randn_like(y)
    y.backward(g)
    keep = (y != 0).detach().numpy()                          # x has no exact zeros
    compare("dropout forward", dropout_forward(x.detach().numpy(), 0.3, np.where(keep, 0.9, 0.1)), y, tol=1e-12,
            verbose=False)
    compare("dropout backward", dropout_backward(g.numpy(), keep, 0.3), x.grad, tol=1e-12, verbose=False)
    y_native, mask = torch.native_dropout(x.detach(), 0.3, True)
    compare("native_dropout_backward", dropout_backward(g.numpy(), mask.numpy(), 0.3),
            torch.ops.aten.native_dropout_backward(g, mask, 1 / 0.7), tol=1e-12, verbose=False)


# ---------------------------------------------------------------- the decks' remaining points

def test_deep_mlp_scale_and_bias():
    scratch.manual_seed(0)
    base = nb08.deep_mlp(depth=1, width=50, activation="relu", init="He", n_in=40)
    scratch.manual_seed(0)
    scaled = nb08.deep_mlp(depth=1, width=50, activation="relu", init="He", n_in=40, scale=3.0, bias=0.01)
    np.testing.assert_allclose(scaled[1].weight.data, 3 * base[1].weight.data)
    assert (scaled[1].bias.data == 0.01).all() and (scaled[3].bias.data == 0.01).all()


def test_sorted_batches_walk_the_classes_in_order():
    labels = np.array([2, 0, 1, 0, 2, 1, 0])
    batches = nb08.sorted_batches(labels, batch_size=3)(len(labels))
    assert [labels[b].tolist() for b in batches] == [[0, 0, 0], [1, 1, 2], [2]]


def test_geometric_mean_over_all_masks_is_the_weight_scaled_softmax():
    rng = np.random.default_rng(0)
    W, b, x = rng.normal(size=(4, 6)), rng.normal(size=4), rng.normal(size=(3, 6))
    for p in (0.5, 0.2):
        arithmetic, geometric, scaled = nb08.softmax_over_all_masks(W, b, x, p=p)
        np.testing.assert_allclose(geometric, scaled, atol=1e-12)
        np.testing.assert_allclose(arithmetic.sum(1), 1.0)
        assert np.abs(arithmetic - scaled).max() > 1e-3
    z = x @ W.T + b                                                     # the weight-scaled net is torch's eval mode
    np.testing.assert_allclose(scaled, torch.softmax(torch.tensor(z), 1).numpy(), atol=1e-12)


def test_mask_average_samples_sub_networks_and_leaves_eval_mode():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 20), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(20, 3))
    x = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)
    mean, members = nb08.mask_average(net, x, samples=7, seed=1)
    assert mean.shape == (8, 3) and members.shape == (7, 8) and not net.training
    np.testing.assert_allclose(mean.sum(1), 1.0, rtol=1e-6)
    with torch.no_grad():
        single = torch.softmax(net(torch.tensor(x)), 1).numpy()           # the weight-scaled net (eval mode)
    assert np.abs(mean - single).max() > 1e-3                              # the sampled masks made a difference
    again, _ = nb08.mask_average(net, x, samples=7, seed=1)
    np.testing.assert_array_equal(mean, again)                              # seeded


def test_augmentations_keep_shape_and_range_and_change_the_image():
    images = np.zeros((3, 28, 28))
    images[:, 8:20, 12:16] = 255.0
    rng = np.random.default_rng(0)
    for augment in (nb08.illuminate, nb08.distort, nb08.add_noise):
        out = augment(images, rng)
        assert out.shape == images.shape and out.min() >= -1e-9 and out.max() <= 255 + 1e-9
        assert np.abs(out - images).mean() > 1.0, augment.__name__
    np.testing.assert_allclose(nb08.distort(images, rng, pixels=0.0), images, atol=1e-9)   # no displacement: identity


def test_precision_recall_by_hand():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 0])
    precision, recall = nb08.precision_recall(y_true, y_pred, classes=4)
    np.testing.assert_allclose(precision[:2], [1 / 3, 2 / 3])
    np.testing.assert_allclose(recall[:3], [1 / 2, 2 / 3, 0.0])
    assert np.isnan(precision[2]) and np.isnan(precision[3]) and np.isnan(recall[3])
# ---------------------------------------------------------------- the rules the exercises state, at their boundaries

def checker_inputs(key):
    """The inputs run_check gives the learner's function (seeded by the key, the same on every run)."""
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    return [EX[key].make_inputs(rng) for _ in range(EX[key].trials)]


def test_saturation_band_is_strict_and_takes_any_shape():
    ref = EX["08.saturated_fraction"].reference
    assert ref(np.array([0.01, 0.99, 0.5, 0.5])) == 0.0                          # the edges are not saturated
    assert ref(np.array([0.0099, 0.9901, 0.5, 0.5])) == 0.5                      # just past them they are
    assert ref(np.full((2, 3, 4), 0.995)) == 1.0 and ref(np.array([[0.001, 0.5]])) == 0.5
    s = np.array([[0.01, 0.99, 0.0099, 0.9901]])
    assert dg._forward_record("1", "Sigmoid", s).saturated_fraction == ref(s) == 0.5   # the recorder's own rule
    for inputs in checker_inputs("08.saturated_fraction"):                       # the checker hits the edges, in 3-D
        assert inputs[0].ndim == 3 and (inputs[0] == 0.01).any() and (inputs[0] == 0.99).any()


def test_early_stopping_rule_at_its_boundaries_is_training_early_stopping():
    ref = EX["08.early_stopping"].reference
    assert ref([1.0, 0.5, 0.5, 0.6, 0.1], patience=2) == 1        # a tie is not an improvement: stop at epoch 3
    assert ref([1.0, 0.5, 0.6, 0.7, 0.1], patience=2) == 1        # the count reaches 2 at epoch 3: stop there
    assert ref([1.0, 0.5, 0.6, 0.7, 0.1], patience=3) == 4        # one more epoch of patience sees 0.1
    stopper = training.EarlyStopping(patience=2)
    assert [stopper.update(v) for v in [1.0, 0.5, 0.5, 0.6]] == [False, False, False, True]
    assert stopper.best_epoch == 1


def test_early_stopping_inputs_separate_each_slip():
    for curve, patience in checker_inputs("08.early_stopping"):
        assert len(set(curve.tolist())) < len(curve)                           # there is a tie
        right = dg.early_stopping_epoch(curve, patience)
        assert _early_stop(curve, patience) == right                            # no slip: the library's rule
        for slip in (dict(tie_improves=True), dict(extra=1), dict(reset=False)):
            assert _early_stop(curve, patience, **slip) != right, slip
