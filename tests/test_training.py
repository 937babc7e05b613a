"""course_lib.training: the one step, the loop built on it, its batches and callbacks, for scratch and torch models."""
import numpy as np
import pytest
import torch

from course_lib import scratch, training
from course_lib.data import load_mnist, standardize
from course_lib.device import describe_device, pick_device
from course_lib.models import mlp
from course_lib.parity import compare
from course_lib.training import evaluate, fit, minibatches, train_step


@pytest.fixture(scope="module")
def digits():
    x, y = load_mnist("train")
    return standardize(x[:1000]), y[:1000], standardize(x[1000:1500]), y[1000:1500]


def test_minibatches_cover_every_index_once():
    batches = minibatches(10, 4, np.random.default_rng(0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches)) == list(range(10))


def test_fit_scratch_learns_and_records_history(digits):
    x, y, xv, yv = digits
    scratch.manual_seed(0)
    model = mlp([784, 32, 10])
    opt = scratch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    h = fit(model, scratch.CrossEntropyLoss(), opt, (x, y), val=(xv, yv), epochs=3, progress=False)
    assert len(h.train_loss) == len(h.val_acc) == len(h.seconds) == 3
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.val_acc[-1] > 0.8
    assert evaluate(model, scratch.CrossEntropyLoss(), xv, yv)[1] == pytest.approx(h.val_acc[-1])
    assert "3 epochs" in repr(h)


def test_fit_torch_learns(digits):
    x, y, xv, yv = digits
    torch.manual_seed(0)
    model = mlp([784, 32, 10], backend="torch")
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    h = fit(model, torch.nn.CrossEntropyLoss(), opt, (x, y), val=(xv, yv), epochs=3, progress=False)
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.val_acc[-1] > 0.8


def test_fit_is_deterministic_for_a_seed(digits):
    x, y, _, _ = digits
    runs = []
    for _ in range(2):
        scratch.manual_seed(1)
        model = mlp([784, 8, 10])
        fit(model, scratch.CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=0.05), (x, y),
            epochs=1, seed=7, progress=False)
        runs.append(model.state_dict()["1.weight"])
    assert np.array_equal(*runs)


def test_fit_refuses_mismatched_data(digits):
    x, y, _, _ = digits
    model = mlp([784, 10])
    with pytest.raises(ValueError, match="1000 inputs but 999 labels"):
        fit(model, scratch.CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=0.1), (x, y[:-1]))


def test_pick_device_prefers_cuda_then_cpu():
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device().type == expected
    assert pick_device("cpu").type == "cpu"
    assert describe_device(torch.device("cpu")).startswith("cpu (")


def test_fit_in_phases_sets_each_learning_rate_and_joins_histories(digits):
    from course_lib.training import fit_in_phases

    x, y, xv, yv = digits
    model = mlp([784, 8, 10])
    opt = scratch.optim.SGD(model.parameters(), lr=1.0)
    h = fit_in_phases(model, scratch.CrossEntropyLoss(), opt, (x, y), [(0.05, 2), (0.005, 1)], val=(xv, yv),
                      progress=False)
    assert len(h.train_loss) == len(h.val_acc) == 3
    assert opt.param_groups[0]["lr"] == 0.005


def test_histories_add_up_in_order():
    from course_lib.training import History

    first = History(train_loss=[3.0, 2.0], val_acc=[0.5, 0.6], seconds=[1.0, 1.0], step_loss=[3.0, 2.0])
    then = History(train_loss=[1.0], val_acc=[0.7], seconds=[2.0], step_loss=[1.0])
    joined = first + then
    assert joined.train_loss == [3.0, 2.0, 1.0] and joined.val_acc == [0.5, 0.6, 0.7]
    assert joined.total_seconds == 4.0 and joined.step_loss == [3.0, 2.0, 1.0]
    assert first.train_loss == [3.0, 2.0]                       # the parts are left as they were


# ---------------------------------------------------------------- the step, against the loops it replaced

def blobs(n=200, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, (classes, d))
    y = rng.integers(0, classes, n)
    return centres[y] + rng.normal(size=(n, d)), y


def test_train_step_is_the_hand_written_scratch_step():
    x, y = blobs()
    scratch.manual_seed(0)
    ours, theirs = mlp([6, 8, 3]), mlp([6, 8, 3])
    theirs.load_state_dict(ours.state_dict())
    opt_a = scratch.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_b = scratch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    crit_a, crit_b = scratch.CrossEntropyLoss(), scratch.CrossEntropyLoss()
    for idx in minibatches(len(x), 32, np.random.default_rng(0)):
        loss, correct = train_step(ours, crit_a, opt_a, x[idx], y[idx])
        expected = crit_b(theirs(x[idx]), y[idx])
        opt_b.zero_grad()
        theirs.backward(crit_b.backward())
        opt_b.step()
        assert loss == expected and 0 <= correct <= len(idx)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert np.array_equal(p.data, q.data), name


def test_train_step_is_the_hand_written_torch_step():
    x, y = blobs()
    torch.manual_seed(0)
    ours = mlp([6, 8, 3], backend="torch").double()
    theirs = mlp([6, 8, 3], backend="torch").double()
    theirs.load_state_dict(ours.state_dict())
    opt_a, opt_b = torch.optim.Adam(ours.parameters(), lr=0.01), torch.optim.Adam(theirs.parameters(), lr=0.01)
    crit = torch.nn.CrossEntropyLoss()
    for idx in minibatches(len(x), 32, np.random.default_rng(0)):
        loss, _ = train_step(ours, crit, opt_a, x[idx], y[idx])            # NumPy in: converted to tensors
        opt_b.zero_grad()
        expected = crit(theirs(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]))
        expected.backward()
        opt_b.step()
        assert loss == expected.item()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("backend", ["scratch", "torch"])
def test_float_targets_train_and_report_no_accuracy(backend):
    x, y = blobs(classes=2)
    target = y[:, None].astype(np.float64)
    scratch.manual_seed(0)
    torch.manual_seed(0)
    model = mlp([6, 8, 1], backend=backend)
    loss_fn = scratch.BCEWithLogitsLoss() if backend == "scratch" else torch.nn.BCEWithLogitsLoss()
    opt = (scratch.optim if backend == "scratch" else torch.optim).SGD(model.parameters(), lr=0.5)
    loss, correct = train_step(model, loss_fn, opt, x, target)
    assert correct is None and np.isfinite(loss)
    h = fit(model, loss_fn, opt, (x, target), val=(x, target), epochs=1, batches=training.full_batches(50),
            progress=False)
    assert h.train_acc == [] and len(h.step_loss) == 50 and h.step_loss[-1] < h.step_loss[0]
    assert h.val_acc == [] and len(h.val_loss) == 1
    val_loss, val_acc = evaluate(model, loss_fn, x, target)
    assert val_loss == pytest.approx(h.val_loss[0]) and np.isnan(val_acc)   # argmax of one column is no accuracy
    assert "train loss" in repr(h)


def test_evaluate_of_a_regression_with_one_output_per_example_has_no_accuracy():
    x, y = blobs(classes=2)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 1), torch.nn.Flatten(0))     # outputs (N,)
    loss, acc = evaluate(model, torch.nn.MSELoss(), x, y.astype(np.float32))
    assert np.isnan(acc)
    expected = torch.nn.MSELoss()(model(torch.as_tensor(x, dtype=torch.float32)), torch.as_tensor(y, dtype=torch.float32))
    assert loss == pytest.approx(expected.item(), rel=1e-6)


def test_fit_equals_a_loop_of_steps():
    x, y = blobs()
    runs = []
    for use_fit in (True, False):
        scratch.manual_seed(0)
        model = mlp([6, 8, 3])
        opt = scratch.optim.SGD(model.parameters(), lr=0.1)
        if use_fit:
            h = fit(model, scratch.CrossEntropyLoss(), opt, (x, y), epochs=2, batch_size=32, seed=3, progress=False)
            losses = h.step_loss
        else:
            rng, losses = np.random.default_rng(3), []
            for _ in range(2):
                for idx in minibatches(len(x), 32, rng):
                    losses.append(train_step(model, scratch.CrossEntropyLoss(), opt, x[idx], y[idx])[0])
        runs.append((losses, model.state_dict()["3.weight"]))
    assert runs[0][0] == runs[1][0] and np.array_equal(runs[0][1], runs[1][1])
    assert h.train_loss[0] == pytest.approx(np.average(runs[0][0][:7], weights=[32] * 6 + [8]))


# ---------------------------------------------------------------- batches

def test_random_full_and_torch_shuffled_batches():
    draws = list(training.random_batches(4, steps=3, seed=0)(10))
    rng = np.random.default_rng(0)
    assert all(np.array_equal(d, rng.choice(10, size=4, replace=False)) for d in draws)
    assert [len(b) for b in training.random_batches(64, steps=2)(10)] == [10, 10]
    assert [b.tolist() for b in training.full_batches(2)(3)] == [[0, 1, 2], [0, 1, 2]]
    batches = training.shuffled_batches(4, generator=torch.Generator().manual_seed(5))(10)
    order = torch.randperm(10, generator=torch.Generator().manual_seed(5))
    assert [b.tolist() for b in batches] == [order[:4].tolist(), order[4:8].tolist(), order[8:].tolist()]


def test_transform_changes_every_batch():
    x, y = blobs()
    seen = []

    def transform(xb):
        seen.append(len(xb))
        return xb * 0.0                                       # nothing to learn from
    scratch.manual_seed(0)
    model = mlp([6, 3])
    before = model.state_dict()["1.weight"].copy()
    fit(model, scratch.CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=1,
        batch_size=50, transform=transform, progress=False)
    assert seen == [50] * 4 and np.array_equal(model.state_dict()["1.weight"], before)   # zero input: no dW


def test_perturb_gets_the_model_and_each_transformed_batch_with_its_labels():
    x, y = blobs()
    seen = []

    def perturb(model, xb, yb):
        seen.append((model, xb.copy(), yb.copy()))
        return xb * 0.0                                       # nothing to learn from
    scratch.manual_seed(0)
    model = mlp([6, 3])
    before = model.state_dict()["1.weight"].copy()
    fit(model, scratch.CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=1,
        batch_size=50, transform=lambda xb: xb + 1.0, perturb=perturb, progress=False)
    assert [(m, len(xb)) for m, xb, _ in seen] == [(model, 50)] * 4
    for _, xb, yb in seen:                                    # transformed inputs, paired with their own labels
        rows = [np.flatnonzero((x + 1.0 == row).all(1))[0] for row in xb]
        assert np.array_equal(y[rows], yb)
    assert np.array_equal(model.state_dict()["1.weight"], before)                        # zero input: no dW


# ---------------------------------------------------------------- callbacks

class Recorder(training.Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, model):
        self.events.append("begin")

    def on_step(self, step, loss, model):
        self.events.append(step)

    def on_epoch_end(self, epoch, history, model):
        self.events.append(f"epoch {epoch}: {len(history.train_loss)}")


def test_callbacks_are_called_in_order_and_max_steps_stops():
    x, y = blobs(100)
    model = mlp([6, 3])
    recorder = Recorder()
    h = fit(model, scratch.CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=3,
            batch_size=40, callbacks=[recorder], progress=False)
    assert recorder.events == ["begin", 1, 2, 3, "epoch 0: 1", 4, 5, 6, "epoch 1: 2", 7, 8, 9, "epoch 2: 3"]
    h = fit(model, scratch.CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=3,
            batch_size=40, callbacks=[training.MaxSteps(4)], progress=False)
    assert len(h.step_loss) == 4 and len(h.train_loss) == 2


@pytest.mark.parametrize("every, lrs", [("step", [0.05, 0.025, 0.0125]), ("epoch", [0.1, 0.1, 0.05])])
def test_schedule_steps_per_step_or_per_epoch(every, lrs):
    x, y = blobs(100)
    model = mlp([6, 3])
    opt = scratch.optim.SGD(model.parameters(), lr=0.1)
    sched = scratch.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    seen = []

    class LrAfterStep(training.Callback):
        def on_step(self, step, loss, model):
            seen.append(opt.param_groups[0]["lr"])

    fit(model, scratch.CrossEntropyLoss(), opt, (x, y), epochs=2, batch_size=60,
        callbacks=[training.Schedule(sched, every=every), LrAfterStep()], progress=False)
    assert seen[:3] == pytest.approx(lrs)
    with pytest.raises(ValueError, match="'step' or 'epoch'"):
        training.Schedule(sched, every="batch")


def test_early_stopping_stops_and_needs_validation():
    x, y = blobs(100)
    model = mlp([6, 3])
    opt = scratch.optim.SGD(model.parameters(), lr=0.0)            # nothing moves: never improves after epoch 0
    stopper = training.EarlyStopping(patience=2)
    h = fit(model, scratch.CrossEntropyLoss(), opt, (x, y), val=(x, y), epochs=10, callbacks=[stopper],
            progress=False)
    assert len(h.val_loss) == 3 and stopper.best_epoch == 0
    with pytest.raises(ValueError, match="val="):
        fit(model, scratch.CrossEntropyLoss(), opt, (x, y), epochs=2, callbacks=[training.EarlyStopping()],
            progress=False)


# ---------------------------------------------------------------- outputs and accuracy

def test_outputs_and_accuracy_in_both_backends():
    x, y = blobs(30)
    torch.manual_seed(0)
    theirs = mlp([6, 3], backend="torch").double()
    ours = mlp([6, 3])
    ours.load_state_dict(theirs.state_dict())
    scores = training.outputs(ours, x, batch_size=7)
    scores_t = training.outputs(theirs, torch.from_numpy(x), batch_size=7)
    assert isinstance(scores, np.ndarray) and isinstance(scores_t, torch.Tensor) and not scores_t.requires_grad
    compare("outputs, scratch vs torch", scores, scores_t, tol=1e-12, verbose=False)
    assert training.accuracy(ours, x, y) == training.accuracy(theirs, x, torch.from_numpy(y))
    assert training.accuracy(ours, x, y) == np.mean(scores.argmax(1) == y)


def test_accuracy_every_stops_at_the_first_check_that_reaches_the_target():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (3, 10))
    y = rng.integers(0, 3, 600)
    x = centres[y] + rng.normal(size=(600, 10))
    torch.manual_seed(0)
    model = torch.nn.Linear(10, 3)
    stop = training.AccuracyEvery(x[:200], y[:200], every=5, target=0.9)
    history = training.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.05),
                           (x, y), epochs=20, batch_size=10, progress=False, callbacks=[stop])
    assert stop.steps == list(range(5, stop.reached + 1, 5)) and stop.accs[-1] >= 0.9
    assert all(acc < 0.9 for acc in stop.accs[:-1])
    assert len(history.step_loss) == stop.reached                    # training stopped right there


def test_accuracy_every_without_a_target_only_records():
    x, y = np.random.default_rng(1).normal(size=(40, 4)), np.arange(40) % 2
    model = torch.nn.Linear(4, 2)
    record = training.AccuracyEvery(x, y, every=3)
    training.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
                 epochs=2, batch_size=4, progress=False, callbacks=[record])
    assert record.steps == list(range(3, 21, 3)) and len(record.accs) == 6 and record.reached is None


# ---------------------------------------------------------------- segmentation: one label per pixel

@pytest.mark.parametrize("backend", ["scratch", "torch"])
def test_fit_on_label_maps_reports_pixel_accuracy(backend):
    """(N, H, W) targets with (N, C, H, W) scores: accuracy is correct pixels / all pixels, in fit and evaluate.

    lr=0 keeps the model fixed, so every epoch's train and validation accuracy must equal the direct count;
    10 maps in batches of 4 (4, 4, 2) also check that the last, smaller batch is weighted by its pixels.
    """
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 2, 5, 4))
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)   # classes 0..2 per pixel, shape (10, 5, 4)
    scratch.manual_seed(0)
    torch.manual_seed(0)
    if backend == "scratch":
        model, loss_fn = scratch.Conv2d(2, 3, 1), scratch.CrossEntropyLoss()
        opt = scratch.optim.SGD(model.parameters(), lr=0.0)
    else:
        model, loss_fn = torch.nn.Conv2d(2, 3, 1).double(), torch.nn.CrossEntropyLoss()
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
    h = fit(model, loss_fn, opt, (x, y), val=(x, y), epochs=2, batch_size=4, progress=False)
    scores = np.asarray(training.outputs(model, x).detach() if backend == "torch" else training.outputs(model, x))
    direct = np.mean(scores.argmax(1) == y)
    assert 0 < direct < 1
    assert h.train_acc == pytest.approx([direct] * 2, abs=1e-12)
    assert h.val_acc == pytest.approx([direct] * 2, abs=1e-12)
    assert training.accuracy(model, x, y) == pytest.approx(direct, abs=1e-12)
    assert evaluate(model, loss_fn, x, y)[0] == pytest.approx(h.train_loss[-1], abs=1e-12)
