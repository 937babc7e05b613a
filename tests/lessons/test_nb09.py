"""Notebook 09's helpers (course_lib/lessons/nb09_transfer_learning.py): augmentation, pretraining, the
experiments and their figures, the ImageNet path; and notebook 09's exercises."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_lib import architectures, data, models, training, transfer
from course_lib.exercises import nb09 as exercises
from course_lib.exercises.checking import ExerciseFailed, run_check
from course_lib.lessons import nb09_transfer_learning as nb09

@pytest.fixture(scope="module")
def pretrained():
    return models.load_source_cnn()


@pytest.fixture(scope="module")
def target():
    return data.task_digits("fit", nb09.TARGET_CLASSES), data.task_digits("validation", nb09.TARGET_CLASSES)


def exercise(key):
    return next(e for e in exercises.EXERCISES if e.key == key)


def test_recall_at_k():
    scores = np.array([[0.1, 0.5, 0.4], [0.9, 0.04, 0.06], [0.2, 0.3, 0.5]])
    labels = np.array([2, 1, 2])
    assert nb09.recall_at_k(scores, labels, 1) == pytest.approx(1 / 3)
    assert nb09.recall_at_k(scores, labels, 2) == pytest.approx(2 / 3)
    assert nb09.recall_at_k(scores, labels, 3) == 1.0


def test_make_model_methods(pretrained):
    scratch_model, groups = nb09.make_model("scratch", pretrained, seed=0)
    assert [g["lr"] for g in groups] == [nb09.LR, nb09.LR]
    frozen, groups = nb09.make_model("frozen", pretrained, seed=0)
    assert transfer.count_trainable(frozen) == 325 and [g["name"] for g in groups] == ["head"]
    assert torch.equal(frozen.conv2.weight, pretrained.conv2.weight) and frozen.conv2.weight is not pretrained.conv2.weight
    tuned, groups = nb09.make_model("finetune", pretrained, seed=0)
    assert [(g["name"], g["lr"]) for g in groups] == [("body", nb09.BODY_LR), ("head", nb09.LR)]
    assert pretrained.fc.weight.requires_grad                                # the cached model is untouched
    for recipe in nb09.RECIPES:
        model, groups = nb09.make_model(recipe, pretrained, seed=0)
        assert [g["name"] for g in groups] == ["conv1", "conv2", "conv3", "fc"]
        assert [g["lr"] for g in groups] == pytest.approx([nb09.LR * nb09.FACTOR ** i for i in (3, 2, 1, 0)])
    with pytest.raises(ValueError, match="method"):
        nb09.make_model("distill", pretrained, seed=0)


def test_gradual_run_unfreezes_every_layer_and_moves_the_lower_ones_less(pretrained, target):
    acc, model, _ = nb09.run("gradual", 5, 0, pretrained, *target, steps=8, return_model=True)
    assert 0 <= acc <= 1 and all(p.requires_grad for p in model.parameters())
    moved = {name: float((model.get_parameter(f"{name}.weight") - pretrained.get_parameter(f"{name}.weight")).abs().max().detach())
             for name in ("conv1", "conv2", "conv3")}
    assert 0 < moved["conv1"] < moved["conv3"]            # conv1: 2 steps at the lowest rate; conv3: 6 steps


def test_transfer_first_layers(pretrained):
    model = nb09.transfer_first_layers(pretrained, 2, seed=0)
    assert torch.equal(model.conv2.weight, pretrained.conv2.weight) and not model.conv2.weight.requires_grad
    assert not torch.equal(model.conv3.weight, pretrained.conv3.weight) and model.conv3.weight.requires_grad


def test_head_only_shortcut_equals_the_frozen_network(pretrained, target):
    train_set, test_set = target
    full = nb09.run("frozen", 5, 0, pretrained, train_set, test_set, steps=10)
    extractor = transfer.body(pretrained)
    feats = (training.outputs(extractor, train_set[0]), train_set[1])
    test_feats = (training.outputs(extractor, test_set[0]), test_set[1])
    short = nb09.run_head_only(5, 0, pretrained, feats, test_feats, steps=10)
    assert abs(full - short) <= 2 / len(test_set[1])


def test_learning_curve_table_and_plot(pretrained, target):
    result = nb09.learning_curve(pretrained, *target, ns=(5,), seeds=(0,), steps=2)
    assert set(result) == set(nb09.METHODS) and all(len(result[m][5]) == 1 for m in result)
    table = nb09.curve_table(result)
    assert "fine-tune gain" in table and table.splitlines()[1].split()[0] == "5"
    fig = nb09.plot_learning_curve(result)
    assert len(fig.axes) == 1
    plt.close(fig)


def test_steps_for_and_accuracy_while_training(pretrained, target):
    assert nb09.steps_for(10) == nb09.STEPS and nb09.steps_for(500) == 200
    steps, accs = nb09.accuracy_while_training("finetune", 5, 0, pretrained, *target, steps=6, every=3)
    assert steps == [0, 3, 6] and all(0 <= a <= 1 for a in accs)


def test_figures_return_figures(pretrained):
    for fig in (nb09.draw_methods(), nb09.plot_frozen_layers(pretrained, 2, "source CNN"),
                nb09.show_augmentations(data.task_digits("test", nb09.TARGET_CLASSES)[0][:3], copies=2)):
        assert isinstance(fig, plt.Figure)
        plt.close(fig)


def test_imagenet_weights_load_from_a_checkpoint_we_make(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None).eval()
    path = tmp_path / "resnet18-own.pth"
    torch.save(reference.state_dict(), path)
    ours = nb09.load_imagenet_resnet18(path, check_sha256=False)
    assert isinstance(ours, architectures.ResNet) and not ours.training
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(ours(x), reference(x))
    transfer.replace_head(ours, 5)
    transfer.freeze(ours, len(transfer.layer_names(ours)) - 1)
    assert transfer.count_trainable(ours) == 512 * 5 + 5


def test_missing_imagenet_weights_give_a_clear_message(tmp_path, capsys, monkeypatch):
    assert nb09.load_imagenet_resnet18(tmp_path / "absent.pth") is None
    out = capsys.readouterr().out
    assert "not found" in out and "skipped" in out and "IMAGENET1K_V1" in out
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    assert nb09.imagenet_checkpoint() == tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert nb09.load_imagenet_resnet18() is None
    assert "skipped" in capsys.readouterr().out
    nb09.imagenet_checkpoint().parent.mkdir(parents=True)
    nb09.imagenet_checkpoint().write_bytes(b"not a checkpoint")
    with pytest.raises(data.DataIntegrityError, match="not torchvision's resnet18-f37072fd.pth"):
        nb09.load_imagenet_resnet18()


def test_digits_to_imagenet_and_linear_probe():
    images, labels = data.load_mnist("test")
    x = nb09.digits_to_imagenet(images[:4], size=32)
    assert x.shape == (4, 3, 32, 32) and x.dtype == torch.float32
    background = (0 - np.array(nb09.IMAGENET_MEAN)) / np.array(nb09.IMAGENET_STD)
    np.testing.assert_allclose(x[0, :, 0, 0].numpy(), background, rtol=1e-6)
    torch.manual_seed(0)
    model = architectures.resnet18().eval()
    keep = np.flatnonzero(labels <= 1)
    train_idx, test_idx = keep[:8], keep[8:14]
    acc = nb09.imagenet_linear_probe(model, images[train_idx], labels[train_idx], images[test_idx],
                                         labels[test_idx], size=32, steps=3)
    assert 0.0 <= acc <= 1.0


@pytest.mark.parametrize("ex", exercises.EXERCISES, ids=lambda e: e.key)
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

