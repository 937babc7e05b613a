"""course_lib.transfer (notebook 09): the recipe helpers, the cached source CNN, the ImageNet path, exercises."""
import importlib.util
import io
from pathlib import Path

import matplotlib.pyplot as plt

import numpy as np
import pytest
import torch

from course_lib import architectures, data, scratch, transfer
from course_lib.exercises import nb09
from course_lib.exercises.checking import ExerciseFailed, run_check


SCRIPT = Path(__file__).resolve().parent.parent / "data" / "pretrain_digits04.py"


@pytest.fixture(scope="module")
def pretrained():
    return transfer.load_source_cnn()


@pytest.fixture(scope="module")
def target():
    return transfer.task_digits("train", transfer.TARGET_CLASSES), transfer.task_digits("test", transfer.TARGET_CLASSES)


def exercise(key):
    return next(e for e in nb09.EXERCISES if e.key == key)


# ------------------------------------------------------------------------------------------ data


def test_task_digits_relabels_and_counts():
    x, y = transfer.task_digits("test", transfer.TARGET_CLASSES)
    assert x.shape == (975, 1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and sorted(torch.unique(y).tolist()) == [0, 1, 2, 3, 4]
    _, labels = data.load_mnist("test")
    assert torch.equal(y, torch.from_numpy(labels[labels >= 5] - 5))
    xs, ys = transfer.task_digits("train", transfer.SOURCE_CLASSES)
    assert len(xs) == 4106 and len(transfer.task_digits("train", transfer.TARGET_CLASSES)[0]) == 3894


def test_few_shot_indices_n_per_class_seeded():
    labels = np.repeat(np.arange(5), 30)[np.random.default_rng(0).permutation(150)]
    idx = transfer.few_shot_indices(labels, 4, seed=3)
    assert idx.shape == (20,) and len(set(idx.tolist())) == 20
    assert np.array_equal(labels[idx], np.repeat(np.arange(5), 4))
    assert np.array_equal(idx, transfer.few_shot_indices(labels, 4, seed=3))
    assert not np.array_equal(idx, transfer.few_shot_indices(labels, 4, seed=4))
    with pytest.raises(ValueError, match="fewer than n = 31"):
        transfer.few_shot_indices(labels, 31, seed=0)


# ------------------------------------------------------------------------------------------ model and recipe


def test_source_cnn_shapes_count_and_scratch_mirror():
    torch.manual_seed(0)
    model = transfer.source_cnn()
    x = torch.randn(3, 1, 28, 28)
    assert model(x).shape == (3, 5) and transfer.body(model)(x).shape == (3, 64)
    assert transfer.count_params(model) == 27_317
    assert transfer.layer_names(model) == ["conv1", "conv2", "conv3", "fc"]
    mirror = transfer.source_cnn(backend="scratch")
    assert list(mirror.state_dict()) == list(model.state_dict())
    mirror.load_state_dict(model.state_dict())
    assert transfer.count_params(mirror) == 27_317
    ours = mirror(x.double().numpy())
    np.testing.assert_allclose(ours, model.double()(x.double()).detach().numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="backend"):
        transfer.source_cnn(backend="jax")


def test_replace_head_keeps_the_body():
    torch.manual_seed(0)
    model = transfer.source_cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    transfer.replace_head(model, 7)
    assert model.fc.out_features == 7 and model(torch.randn(2, 1, 28, 28)).shape == (2, 7)
    for k, v in model.state_dict().items():
        if not k.startswith("fc."):
            assert torch.equal(v, before[k]), k
    double = transfer.replace_head(transfer.source_cnn().double(), 3)
    assert double.fc.weight.dtype == torch.float64
    with torch.device("meta"):
        resnet = architectures.resnet18()
    transfer.replace_head(resnet, 5)
    assert resnet.fc.weight.shape == (5, 512) and resnet.fc.weight.device.type == "meta"
    with pytest.raises(ValueError, match="no nn.Linear"):
        transfer.replace_head(torch.nn.Sequential(torch.nn.ReLU()), 2)


def test_freeze_unfreeze_and_what_training_changes():
    torch.manual_seed(0)
    model = transfer.source_cnn()
    assert transfer.freeze(model, 2) == ["conv1", "conv2"]
    assert transfer.count_trainable(model) == 18_496 + 325
    assert not model.conv1.weight.requires_grad and model.conv3.weight.requires_grad
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.randn(10, 1, 28, 28), torch.randint(0, 5, (10,))
    transfer.train(model, x, y, steps=3)
    after = model.state_dict()
    assert torch.equal(after["conv1.weight"], before["conv1.weight"])
    assert torch.equal(after["conv2.bias"], before["conv2.bias"])
    assert not torch.equal(after["conv3.weight"], before["conv3.weight"])
    assert model.conv1.weight.grad is None
    assert transfer.freeze(model, ["fc"]) == ["fc"] and transfer.count_trainable(model) == 18_496
    assert transfer.unfreeze(model) == ["conv1", "conv2", "conv3", "fc"]
    assert transfer.count_trainable(model) == 27_317
    with pytest.raises(ValueError, match="conv1"):
        transfer.freeze(model, ["conv9"])
    with pytest.raises(ValueError, match="4 layers"):
        transfer.freeze(model, 5)


def test_param_groups_slow_body_fast_head():
    torch.manual_seed(0)
    model = transfer.source_cnn()
    groups = transfer.param_groups(model, head_lr=1e-2, body_lr=1e-3)
    assert [(g["name"], g["lr"], len(g["params"])) for g in groups] == [("body", 1e-3, 6), ("head", 1e-2, 2)]
    assert groups[1]["params"][0] is model.fc.weight
    transfer.freeze(model, 3)
    assert [g["name"] for g in transfer.param_groups(model, 1e-2, 1e-3)] == ["head"]
    transfer.unfreeze(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    transfer.train(model, torch.randn(8, 1, 28, 28), torch.randint(0, 5, (8,)),
                   transfer.param_groups(model, head_lr=1e-2, body_lr=0.0), steps=2)
    after = model.state_dict()
    assert torch.equal(after["conv2.weight"], before["conv2.weight"])        # body_lr = 0: body unchanged
    assert not torch.equal(after["fc.weight"], before["fc.weight"])


def test_augment_is_seeded_and_zero_augmentation_is_the_identity():
    x = transfer.task_digits("test", transfer.TARGET_CLASSES)[0][:6]
    copy = x.clone()
    a = transfer.augment(x, torch.Generator().manual_seed(1))
    b = transfer.augment(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b) and torch.equal(x, copy)
    assert not torch.allclose(a, x)
    same = transfer.augment(x, torch.Generator().manual_seed(1), max_shift=0, max_degrees=0)
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)
    assert float(a.min()) >= float(x.min()) - 1e-5                           # background stays background


def test_recall_at_k():
    scores = np.array([[0.1, 0.5, 0.4], [0.9, 0.04, 0.06], [0.2, 0.3, 0.5]])
    labels = np.array([2, 1, 2])
    assert transfer.recall_at_k(scores, labels, 1) == pytest.approx(1 / 3)
    assert transfer.recall_at_k(scores, labels, 2) == pytest.approx(2 / 3)
    assert transfer.recall_at_k(scores, labels, 3) == 1.0


# ------------------------------------------------------------------------------------------ cached file, pretraining


def test_cached_source_cnn_sha256_and_accuracy(pretrained):
    assert transfer.sha256_file(transfer.CNN_DIGITS04_PATH) == transfer.CNN_DIGITS04_SHA256
    assert transfer.CNN_DIGITS04_PATH.stat().st_size < 1_000_000
    x, y = transfer.task_digits("test", transfer.SOURCE_CLASSES)
    assert transfer.accuracy(pretrained, x, y) > 0.99
    mirror = transfer.load_source_cnn(backend="scratch")
    np.testing.assert_allclose(mirror(x[:4].double().numpy()), transfer.predict(pretrained, x[:4]).numpy(),
                               rtol=1e-4, atol=1e-4)


def test_missing_or_damaged_source_cnn_says_how_to_rebuild(tmp_path):
    with pytest.raises(FileNotFoundError, match="pretrain_digits04.py"):
        transfer.load_source_cnn(tmp_path / "nothing.pt")
    bad = tmp_path / "cnn_digits04.pt"
    bad.write_bytes(transfer.CNN_DIGITS04_PATH.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(data.DataIntegrityError, match="wrong sha256(.|\n)*pretrain_digits04.py"):
        transfer.load_source_cnn(bad)


def test_save_weights_bytes_do_not_depend_on_the_file_name(tmp_path):
    torch.manual_seed(0)
    model = transfer.source_cnn()
    assert transfer.save_weights(model, tmp_path / "a.pt") == transfer.save_weights(model, tmp_path / "bbb.pt")
    loaded = transfer.load_source_cnn(tmp_path / "a.pt", expected_sha256=None)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in loaded.state_dict().items())


def test_pretraining_a_few_steps_is_deterministic():
    a = transfer.pretrain_source(max_steps=3).state_dict()
    b = transfer.pretrain_source(max_steps=3).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    fresh = transfer.pretrain_source(max_steps=1).state_dict()
    assert not torch.equal(fresh["fc.weight"], a["fc.weight"])


def test_pretrain_script_is_deterministic(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("pretrain_digits04", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    threads = torch.get_num_threads()
    sha1 = script.main(["--max-steps", "2", "--out", str(tmp_path / "one.pt")])
    sha2 = script.main(["--max-steps", "2", "--out", str(tmp_path / "two.pt")])
    assert sha1 == sha2 and len(sha1) == 64
    assert torch.get_num_threads() == threads and not torch.are_deterministic_algorithms_enabled()
    assert f"sha256 {sha1}" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ experiments


def test_make_model_methods(pretrained):
    scratch_model, groups = transfer.make_model("scratch", pretrained, seed=0)
    assert [g["lr"] for g in groups] == [transfer.LR, transfer.LR]
    frozen, groups = transfer.make_model("frozen", pretrained, seed=0)
    assert transfer.count_trainable(frozen) == 325 and [g["name"] for g in groups] == ["head"]
    assert torch.equal(frozen.conv2.weight, pretrained.conv2.weight) and frozen.conv2.weight is not pretrained.conv2.weight
    tuned, groups = transfer.make_model("finetune", pretrained, seed=0)
    assert [(g["name"], g["lr"]) for g in groups] == [("body", transfer.BODY_LR), ("head", transfer.LR)]
    assert pretrained.fc.weight.requires_grad                                # the cached model is untouched
    with pytest.raises(ValueError, match="method"):
        transfer.make_model("distill", pretrained, seed=0)


def test_transfer_first_layers(pretrained):
    model = transfer.transfer_first_layers(pretrained, 2, seed=0)
    assert torch.equal(model.conv2.weight, pretrained.conv2.weight) and not model.conv2.weight.requires_grad
    assert not torch.equal(model.conv3.weight, pretrained.conv3.weight) and model.conv3.weight.requires_grad


def test_head_only_shortcut_equals_the_frozen_network(pretrained, target):
    train_set, test_set = target
    full = transfer.run("frozen", 5, 0, pretrained, train_set, test_set, steps=10)
    extractor = transfer.body(pretrained)
    feats = (transfer.predict(extractor, train_set[0]), train_set[1])
    test_feats = (transfer.predict(extractor, test_set[0]), test_set[1])
    short = transfer.run_head_only(5, 0, pretrained, feats, test_feats, steps=10)
    assert abs(full - short) <= 2 / len(test_set[1])


def test_learning_curve_table_and_plot(pretrained, target):
    result = transfer.learning_curve(pretrained, *target, ns=(5,), seeds=(0,), steps=2)
    assert set(result) == set(transfer.METHODS) and all(len(result[m][5]) == 1 for m in result)
    table = transfer.curve_table(result)
    assert "fine-tune gain" in table and table.splitlines()[1].split()[0] == "5"
    fig = transfer.plot_learning_curve(result)
    assert len(fig.axes) == 1
    plt.close(fig)


def test_steps_for_and_accuracy_while_training(pretrained, target):
    assert transfer.steps_for(10) == transfer.STEPS and transfer.steps_for(500) == 200
    steps, accs = transfer.accuracy_while_training("finetune", 5, 0, pretrained, *target, steps=6, every=3)
    assert steps == [0, 3, 6] and all(0 <= a <= 1 for a in accs)


def test_figures_return_figures(pretrained):
    for fig in (transfer.draw_methods(), transfer.plot_frozen_layers(pretrained, 2, "source CNN"),
                transfer.show_augmentations(transfer.task_digits("test", transfer.TARGET_CLASSES)[0][:3], copies=2)):
        assert isinstance(fig, plt.Figure)
        plt.close(fig)


# ------------------------------------------------------------------------------------------ ImageNet path


def test_imagenet_weights_load_from_a_checkpoint_we_make(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None).eval()
    path = tmp_path / "resnet18-own.pth"
    torch.save(reference.state_dict(), path)
    ours = transfer.load_imagenet_resnet18(path)
    assert isinstance(ours, architectures.ResNet) and not ours.training
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(ours(x), reference(x))
    transfer.replace_head(ours, 5)
    transfer.freeze(ours, len(transfer.layer_names(ours)) - 1)
    assert transfer.count_trainable(ours) == 512 * 5 + 5


def test_missing_imagenet_weights_give_a_clear_message(tmp_path, capsys, monkeypatch):
    assert transfer.load_imagenet_resnet18(tmp_path / "absent.pth") is None
    out = capsys.readouterr().out
    assert "not found" in out and "skipped" in out and "IMAGENET1K_V1" in out
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    assert transfer.imagenet_checkpoint() == tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert transfer.load_imagenet_resnet18() is None
    assert "skipped" in capsys.readouterr().out
    transfer.imagenet_checkpoint().parent.mkdir(parents=True)
    transfer.imagenet_checkpoint().write_bytes(b"not a checkpoint")
    assert transfer.load_imagenet_resnet18() is None
    assert "not torchvision's file" in capsys.readouterr().out


def test_digits_to_imagenet_and_linear_probe():
    images, labels = data.load_mnist("test")
    x = transfer.digits_to_imagenet(images[:4], size=32)
    assert x.shape == (4, 3, 32, 32) and x.dtype == torch.float32
    background = (0 - np.array(transfer.IMAGENET_MEAN)) / np.array(transfer.IMAGENET_STD)
    np.testing.assert_allclose(x[0, :, 0, 0].numpy(), background, rtol=1e-6)
    torch.manual_seed(0)
    model = architectures.resnet18().eval()
    keep = np.flatnonzero(labels <= 1)
    train_idx, test_idx = keep[:8], keep[8:14]
    acc = transfer.imagenet_linear_probe(model, images[train_idx], labels[train_idx], images[test_idx],
                                         labels[test_idx], size=32, steps=3)
    assert 0.0 <= acc <= 1.0


# ------------------------------------------------------------------------------------------ exercises


@pytest.mark.parametrize("ex", nb09.EXERCISES, ids=lambda e: e.key)
def test_exercise_references_pass(ex):
    assert run_check(ex, ex.reference).startswith("✔")


def test_exercise_wrong_answers_fail_with_hints():
    with pytest.raises(ExerciseFailed, match="np.roll"):
        run_check(exercise("09.shift_images"), lambda im, dy, dx: np.roll(im, (dy, dx), axis=(1, 2)))
    with pytest.raises(ExerciseFailed, match="lr_i"):
        run_check(exercise("09.layer_learning_rates"),
                  lambda n, lr, f: lr * f ** np.arange(n))                 # the head got the smallest rate
    with pytest.raises(ExerciseFailed, match="argsort"):
        run_check(exercise("09.recall_at_k"),
                  lambda s, y, k: float(np.mean(np.any(np.argsort(s, 1)[:, :k] == y[:, None], 1))))   # lowest k
    with pytest.raises(ExerciseFailed, match="flatnonzero"):
        run_check(exercise("09.first_n_per_class"),
                  lambda y, n: np.concatenate([np.flatnonzero(y == c)[-n:] for c in np.unique(y)]))   # last n
    with pytest.raises(ExerciseFailed, match="not attempted"):
        def stub(*args):
            raise NotImplementedError
        run_check(exercise("09.recall_at_k"), stub)
