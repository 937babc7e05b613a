"""course_lib.diagnostics on constructed cases whose right reading is known: a huge learning rate, dead ReLUs,
saturated sigmoids, a healthy network (no false alarms), in scratch and in torch; plus notebook 08's exercises."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_lib import diagnostics as dg
from course_lib import models, scratch, training
from course_lib.parity import compare, copy_torch_to_scratch



def blobs(n=512, d=20, classes=4, seed=0):
    """A learnable problem: Gaussian clusters around random centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, (classes, d))
    y = rng.integers(0, classes, n)
    return centres[y] + rng.normal(size=(n, d)), y


def make(backend, sizes=(20, 64, 64, 4), activation="relu", seed=0):
    scratch.manual_seed(seed)
    torch.manual_seed(seed)
    return models.mlp(list(sizes), activation=activation, backend=backend)


def sgd(model, backend, lr, momentum=0.0):
    opt = scratch.optim.SGD if backend == "scratch" else torch.optim.SGD
    return opt(model.parameters(), lr=lr, momentum=momentum)


def loss_fn(backend):
    return scratch.CrossEntropyLoss() if backend == "scratch" else torch.nn.CrossEntropyLoss()


BACKENDS = ["scratch", "torch"]


def run_steps(model, loss, optimizer, train, steps):
    """``steps`` steps of training.train_steps, recorded by a StepLog."""
    log = dg.StepLog()
    training.train_steps(model, loss, optimizer, train, steps=steps, callbacks=[log])
    return log


# ---------------------------------------------------------------- update/weight ratios

@pytest.mark.parametrize("backend", BACKENDS)
def test_huge_learning_rate_is_flagged_too_high(backend):
    x, y = blobs()
    model = make(backend)
    log = run_steps(model, loss_fn(backend), sgd(model, backend, lr=3.0), (x, y), steps=20)
    reading = dg.read_diagnostics(ratios=log.ratios)
    assert any("learning rate likely too high" in s for s in reading), reading
    assert "update/weight ratio" in reading[0] and " in 1" in reading[0]      # names the layer, e.g. "in 1"


@pytest.mark.parametrize("backend", BACKENDS)
def test_tiny_learning_rate_is_flagged_too_low(backend):
    x, y = blobs()
    model = make(backend)
    log = run_steps(model, loss_fn(backend), sgd(model, backend, lr=1e-5), (x, y), steps=20)
    reading = dg.read_diagnostics(ratios=log.ratios, losses=log.losses)
    assert any("learning rate likely too low" in s for s in reading), reading
    assert any("not decreasing" in s for s in reading), reading


@pytest.mark.parametrize("backend", BACKENDS)
def test_healthy_network_raises_no_alarm(backend):
    x, y = blobs()
    model = make(backend)
    log = run_steps(model, loss_fn(backend), sgd(model, backend, lr=0.01, momentum=0.9), (x, y), steps=60)
    records = dg.record_activations(model, x[:256], y[:256], loss_fn(backend))
    medians = log.median_ratios(last=20)
    assert all(1e-4 < r < 1e-2 for r in medians.values()), medians
    assert dg.read_diagnostics(records=records, ratios=log.ratios, losses=log.losses) == []
    assert dg.format_reading([]).startswith("no warning signs")


def test_ratio_of_plain_sgd_is_lr_times_gradient_over_weight():
    x, y = blobs(64)
    model = make("scratch")
    crit = scratch.CrossEntropyLoss()
    crit(model(x), y)
    model.backward(crit.backward())
    w, g = model[1].weight.data.copy(), model[1].weight.grad.copy()
    log = dg.StepLog()
    log.on_train_begin(model)
    scratch.optim.SGD(model.parameters(), lr=0.1).step()
    assert log.on_step(1, 1.5, model) is False and log.losses == [1.5]
    assert set(log.ratios) == {"1", "3", "5"}                           # weights only, named by layer
    assert np.isclose(log.ratios["1"][0], 0.1 * np.linalg.norm(g) / np.linalg.norm(w))
    assert np.isclose(dg.update_ratio(w, model[1].weight.data), log.ratios["1"][0])


def test_torch_and_scratch_ratios_agree_on_the_same_weights():
    x, y = blobs(128)
    tm = make("torch").double()
    sm = make("scratch")
    copy_torch_to_scratch(tm, sm)
    ls = run_steps(sm, loss_fn("scratch"), sgd(sm, "scratch", 0.05), (x, y), steps=3)
    lt = run_steps(tm, loss_fn("torch"), sgd(tm, "torch", 0.05), (x, y), steps=3)
    compare("losses", ls.losses, lt.losses, verbose=False)
    for name in ls.ratios:
        compare(f"update ratios of layer {name}", ls.ratios[name], lt.ratios[name], verbose=False)


def test_nan_loss_stops_the_run_and_is_read():
    x, y = blobs(128)
    model = make("scratch")
    log = run_steps(model, loss_fn("scratch"), sgd(model, "scratch", 1e4), (x, y), steps=50)
    assert not np.isfinite(log.losses[-1]) and len(log.losses) < 50
    assert "nan or inf" in dg.read_diagnostics(losses=log.losses)[0]


# ---------------------------------------------------------------- activations and gradients

def kill_relus(model, backend):
    """Big negative biases: every ReLU's input is below 0 for every example."""
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            if backend == "scratch":
                p.data[...] = -100.0
            else:
                with torch.no_grad():
                    p.fill_(-100.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dead_relu_network_is_flagged(backend):
    x, y = blobs(128)
    model = make(backend)
    kill_relus(model, backend)
    records = dg.record_activations(model, x, y, loss_fn(backend))
    relus = [r for r in records if r.kind == "ReLU"]
    assert [r.name for r in relus] == ["2", "4"]
    assert all(r.dead_fraction == 1.0 for r in relus)
    reading = dg.read_diagnostics(records=records)
    assert any(s.startswith("layers 2, 4: 100% of ReLUs dead (never positive on this batch)") for s in reading), reading








def test_scratch_and_torch_records_agree():
    x, y = blobs(64)
    tm = make("torch", activation="tanh").double()
    sm = make("scratch", activation="tanh")
    copy_torch_to_scratch(tm, sm)
    rs = dg.record_scratch(sm, x, y, scratch.CrossEntropyLoss())
    rt = dg.record_torch(tm, x, y, torch.nn.CrossEntropyLoss())
    assert [(r.name, r.kind, r.shape) for r in rs] == [(r.name, r.kind, r.shape) for r in rt]
    for a, b in zip(rs, rt):
        assert np.isclose(a.act_std, b.act_std) and np.isclose(a.grad_std, b.grad_std, rtol=1e-6)
    for (_, p), (_, q) in zip(sm.named_parameters(), tm.named_parameters()):
        compare("gradient left after backward()", p.grad, q.grad, verbose=False)


def test_torch_hooks_are_removed_even_after_an_error():
    model = make("torch")
    dg.record_torch(model, *blobs(16), torch.nn.CrossEntropyLoss())
    with pytest.raises(Exception):
        dg.record_torch(model, np.zeros((4, 7)), np.zeros(4, dtype=np.int64), torch.nn.CrossEntropyLoss())
    for m in model.modules():
        assert not m._forward_hooks and not m._backward_hooks


def test_record_scratch_needs_a_sequential():
    with pytest.raises(TypeError, match="scratch.Sequential"):
        dg.record_scratch(scratch.Linear(3, 2), np.zeros((2, 3)), np.zeros(2, dtype=int), scratch.CrossEntropyLoss())


def test_records_of_a_conv_net():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 36, 3))
    x = np.random.default_rng(0).standard_normal((8, 1, 8, 8))
    records = dg.record_torch(net, x, np.arange(8) % 3, torch.nn.CrossEntropyLoss())
    assert records[1].shape == (8, 4, 6, 6) and 0 <= records[1].dead_fraction < 0.5
    assert isinstance(dg.plot_histograms(records), Figure)
    assert isinstance(dg.plot_histograms(records, activations_only=False), Figure)


# ---------------------------------------------------------------- curves

def history(train_acc, val_acc, train_loss):
    h = training.History()
    h.train_acc, h.val_acc, h.train_loss = list(train_acc), list(val_acc), list(train_loss)
    h.val_loss = list(train_loss)
    return h


def test_history_readings():
    overfit = history([0.8, 0.95, 0.99], [0.78, 0.85, 0.87], [1.0, 0.3, 0.05])
    assert dg.read_diagnostics(history=overfit) == [
        "train/val gap 12 points: overfitting — more data, augmentation, L2, dropout (or stop earlier)"]
    stuck = history([0.1, 0.1, 0.11], [0.1, 0.1, 0.1], [2.30, 2.30, 2.29])
    assert dg.read_diagnostics(history=stuck)[0].startswith(
        "training loss not decreasing (2.3 -> 2.29): learning rate too low or a bug — overfit a tiny subset first")
    underfit = history([0.5, 0.6, 0.7], [0.5, 0.6, 0.69], [2.0, 1.5, 1.0])
    assert "underfitting" in dg.read_diagnostics(history=underfit)[0]
    healthy = history([0.8, 0.95, 0.97], [0.8, 0.94, 0.955], [1.0, 0.3, 0.1])
    assert dg.read_diagnostics(history=healthy) == []
    rising = dg.read_diagnostics(losses=[1.0] * 5 + [3.0] * 5)
    assert rising and "learning rate too high" in rising[0]


def test_early_stopping_epoch_uses_patience():
    val = [1.0, 0.8, 0.7, 0.75, 0.8, 0.9, 0.5]
    assert dg.early_stopping_epoch(val, patience=3) == 2      # never sees the 0.5
    assert dg.early_stopping_epoch(val, patience=4) == 6
    assert dg.early_stopping_epoch([3, 2, 1]) == 2
    stopper = training.EarlyStopping(patience=3)                # the same rule, one epoch at a time
    assert [stopper.update(v) for v in val] == [False, False, False, False, False, True, False]
    assert stopper.best_epoch == 6                              # (fed on after the stop, it finds the 0.5)


def test_plots_return_figures():
    x, y = blobs(128)
    model = make("scratch")
    log = run_steps(model, loss_fn("scratch"), sgd(model, "scratch", 0.1), (x, y), steps=12)
    fig = dg.plot_update_ratios(log.ratios, title="t")
    assert isinstance(fig, Figure) and fig.number not in plt.get_fignums()      # closed: shown once
    lines = [line for line in fig.axes[0].lines if line.get_label() in log.ratios]
    assert [line.get_label() for line in lines] == list(log.ratios)
    np.testing.assert_allclose(lines[0].get_ydata(), np.log10(next(iter(log.ratios.values()))))
    fig, axes = plt.subplots(1, 2)
    dg.draw_update_ratios(axes[1], log.ratios, title="on your axes")
    assert axes[1].get_title() == "on your axes" and not axes[0].lines


# ---------------------------------------------------------------- filters

def test_filter_roughness_separates_noise_from_smooth_filters():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(16, 1, 5, 5))
    u = np.linspace(-1, 1, 5)
    smooth = np.stack([np.exp(-((u[:, None] - a) ** 2 + (u[None] - b) ** 2)) for a, b in rng.normal(0, .5, (16, 2))])
    assert 0.8 < dg.filter_roughness(noise) < 1.2
    assert dg.filter_roughness(smooth[:, None]) < 0.4          # about 0.26
    assert dg.filter_roughness(rng.normal(size=(10, 784))) > 0.8           # Linear weights drawn as 28x28
    assert isinstance(dg.plot_filters(noise, title="noise"), Figure)
    with pytest.raises(ValueError, match="cannot draw"):
        dg.plot_filters(np.zeros((3, 10)))


def test_filter_similarity():
    rng = np.random.default_rng(0)
    same = np.repeat(rng.normal(size=(1, 1, 5, 5)), 8, axis=0) * rng.normal(size=(8, 1, 1, 1))
    assert dg.filter_similarity(same) > 0.99
    assert dg.filter_similarity(rng.normal(size=(16, 1, 5, 5))) < 0.3


def test_peak_ratio_is_flagged_even_if_it_settles():
    reading = dg.read_diagnostics(ratios={"1": [0.5] * 5 + [1e-3] * 30})
    assert reading and reading[0].startswith("update/weight ratio peaked at 5e-01 in 1: learning rate likely too high")


def test_first_layer_weights_of_both_backends():
    tm, sm = make("torch"), make("scratch")
    assert dg.first_layer_weights(tm).shape == dg.first_layer_weights(sm).shape == (64, 20)


# ---------------------------------------------------------------- facts and exercises

def test_fact_18_batchnorm_of_1_2_3_4():
    bn = scratch.BatchNorm1d(1).train()
    out = bn(np.array([[1.0], [2.0], [3.0], [4.0]]))[:, 0]
    assert np.allclose(out, [-1.342, -0.447, 0.447, 1.342], atol=1e-3)










# ---------------------------------------------------------------- activations over training

@pytest.mark.parametrize("backend", BACKENDS)
def test_activation_log_records_before_training_and_every_few_steps(backend):
    x, y = blobs()
    model = make(backend)
    log = dg.ActivationLog(x[:50], y[:50], loss_fn(backend), every=4)
    training.train_steps(model, loss_fn(backend), sgd(model, backend, lr=0.05), (x, y), steps=10, callbacks=[log])
    assert log.steps == [0, 4, 8]
    assert [[r.kind for r in records] for records in log.records] == [["ReLU", "ReLU"]] * 3
    dead = log.series("dead_fraction")
    assert list(dead) == ["2", "4"] and all(d.shape == (3,) for d in dead.values())
    first = dg.record_activations(make(backend), x[:50], y[:50], loss_fn(backend))[2]     # the same initial weights
    assert log.series("act_std")["2"][0] == pytest.approx(first.act_std)


def test_activation_log_histograms_share_edges_and_count_every_value():
    x, y = blobs()
    model = make("torch")
    log = dg.ActivationLog(x[:50], y[:50], loss_fn("torch"), every=2)
    training.train_steps(model, loss_fn("torch"), sgd(model, "torch", lr=0.05), (x, y), steps=4, callbacks=[log])
    edges, counts = log.histograms(bins=8)["2"]
    assert edges.shape == (9,) and counts.shape == (3, 8)
    assert (counts.sum(axis=1) == 50 * 64).all()                 # every output of the 64 units on 50 examples
    assert isinstance(dg.plot_activation_history(log, title="t"), Figure)
    with pytest.raises(ValueError, match="at least 1"):
        dg.ActivationLog(x, y, loss_fn("torch"), every=0)


def test_activation_log_sees_units_die_after_a_huge_step():
    x, y = blobs()
    model = make("scratch")
    log = dg.ActivationLog(x[:100], y[:100], loss_fn("scratch"), every=1)
    model[1].bias.data[:] = 0.0
    training.train_steps(model, loss_fn("scratch"), sgd(model, "scratch", lr=0.05), (x, y), steps=1, callbacks=[log])
    model[1].bias.data[:] = -1e3                                   # what a blown-up step does to the first layer
    log.on_step(2, 0.0, model)
    assert log.series("dead_fraction")["2"].tolist()[-1] == 1.0 and log.series("dead_fraction")["2"][0] < 0.5
