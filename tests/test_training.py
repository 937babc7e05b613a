"""The shared training loop on real digits, for a scratch and a torch model."""
import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.data import load_mnist, standardize
from course_lib.device import describe_device, pick_device
from course_lib.models import mlp
from course_lib.training import evaluate, fit, minibatches


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
