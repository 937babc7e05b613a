"""course_lib.transfer: heads, freezing and parameter groups, on the course's source CNN and on ResNet-18."""
import data_scripts
import pytest
import torch

from course_lib import architectures, data, models, training, transfer


def adam_steps(model, x, y, groups, steps):
    """``steps`` full-batch Adam steps on (x, y) through training.fit."""
    training.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.Adam(groups), (x, y), epochs=1,
                 batches=training.full_batches(steps), progress=False)


def test_body_layer_names_and_counts():
    torch.manual_seed(0)
    model = models.source_cnn()
    x = torch.randn(3, 1, 28, 28)
    assert model(x).shape == (3, 5) and transfer.body(model)(x).shape == (3, 64)
    assert transfer.count_params(model) == 27_317
    assert transfer.count_params(models.source_cnn(backend="scratch")) == 27_317
    assert transfer.layer_names(model) == ["conv1", "conv2", "conv3", "fc"]
    assert transfer.head_name(model) == "fc"


def test_replace_head_keeps_the_body():
    torch.manual_seed(0)
    model = models.source_cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    transfer.replace_head(model, 7)
    assert model.fc.out_features == 7 and model(torch.randn(2, 1, 28, 28)).shape == (2, 7)
    for k, v in model.state_dict().items():
        if not k.startswith("fc."):
            assert torch.equal(v, before[k]), k
    double = transfer.replace_head(models.source_cnn().double(), 3)
    assert double.fc.weight.dtype == torch.float64
    with torch.device("meta"):
        resnet = architectures.resnet18()
    transfer.replace_head(resnet, 5)
    assert resnet.fc.weight.shape == (5, 512) and resnet.fc.weight.device.type == "meta"
    with pytest.raises(ValueError, match="no nn.Linear"):
        transfer.replace_head(torch.nn.Sequential(torch.nn.ReLU()), 2)


def test_freeze_unfreeze_and_what_training_changes():
    torch.manual_seed(0)
    model = models.source_cnn()
    assert transfer.freeze(model, 2) == ["conv1", "conv2"]
    assert transfer.count_trainable(model) == 18_496 + 325
    assert not model.conv1.weight.requires_grad and model.conv3.weight.requires_grad
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.randn(10, 1, 28, 28), torch.randint(0, 5, (10,))
    adam_steps(model, x, y, transfer.param_groups(model, 1e-2, 1e-2), steps=3)
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
    model = models.source_cnn()
    groups = transfer.param_groups(model, head_lr=1e-2, body_lr=1e-3)
    assert [(g["name"], g["lr"], len(g["params"])) for g in groups] == [("body", 1e-3, 6), ("head", 1e-2, 2)]
    assert groups[1]["params"][0] is model.fc.weight
    transfer.freeze(model, 3)
    assert [g["name"] for g in transfer.param_groups(model, 1e-2, 1e-3)] == ["head"]
    transfer.unfreeze(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    adam_steps(model, torch.randn(8, 1, 28, 28), torch.randint(0, 5, (8,)),
               transfer.param_groups(model, head_lr=1e-2, body_lr=0.0), steps=2)
    after = model.state_dict()
    assert torch.equal(after["conv2.weight"], before["conv2.weight"])        # body_lr = 0: body unchanged
    assert not torch.equal(after["fc.weight"], before["fc.weight"])


def test_layer_groups_give_each_layer_factor_times_the_rate_above():
    torch.manual_seed(0)
    model = models.source_cnn()
    transfer.freeze(model, 2)                                     # frozen layers still get their group
    groups = transfer.layer_groups(model, head_lr=0.01, factor=0.5)
    assert [g["name"] for g in groups] == ["conv1", "conv2", "conv3", "fc"]
    assert [g["lr"] for g in groups] == pytest.approx([0.00125, 0.0025, 0.005, 0.01])
    assert sum(p.numel() for g in groups for p in g["params"]) == transfer.count_params(model) == 27_317
    with pytest.raises(ValueError, match="factor must be in"):
        transfer.layer_groups(model, 0.01, 2.6)


def test_gradual_unfreezing_trains_the_head_first_then_one_more_layer_every_stage():
    torch.manual_seed(0)
    model = models.source_cnn()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    unfreezing = transfer.GradualUnfreezing(every=2)                  # 4 steps: fc alone, then fc + conv3
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 5, (8,))
    training.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.Adam(transfer.layer_groups(model, 1e-2, 0.5)),
                 (x, y), epochs=1, batches=training.full_batches(4), progress=False, callbacks=[unfreezing])
    after = model.state_dict()
    assert unfreezing.unfrozen_at == {"conv3": 2, "conv2": 4}
    assert torch.equal(after["conv1.weight"], start["conv1.weight"])           # never unfrozen in 4 steps
    assert torch.equal(after["conv2.weight"], start["conv2.weight"])           # unfrozen after the last step
    assert not torch.equal(after["conv3.weight"], start["conv3.weight"])       # trained in steps 3 and 4
    assert not torch.equal(after["fc.weight"], start["fc.weight"])
    assert not model.conv1.weight.requires_grad and model.conv2.weight.requires_grad
    with pytest.raises(ValueError, match="at least 1"):
        transfer.GradualUnfreezing(every=0)


def test_resnet18_head_and_freezing():
    with torch.device("meta"):
        resnet = architectures.resnet18()
    transfer.replace_head(resnet, 5)
    transfer.freeze(resnet, len(transfer.layer_names(resnet)) - 1)
    assert transfer.layer_names(resnet)[0] == "conv1" and transfer.layer_names(resnet)[-1] == "fc"
    assert transfer.count_trainable(resnet) == 512 * 5 + 5


def test_augment_is_seeded_and_zero_augmentation_is_the_identity():
    x = data.task_digits("test", (5, 6, 7, 8, 9))[0][:6]
    copy = x.clone()
    a = transfer.augment(x, torch.Generator().manual_seed(1))
    b = transfer.augment(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b) and torch.equal(x, copy)
    assert not torch.allclose(a, x)
    same = transfer.augment(x, torch.Generator().manual_seed(1), max_shift=0, max_degrees=0)
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)
    assert float(a.min()) >= float(x.min()) - 1e-5                           # background stays background


def test_pretraining_a_few_steps_is_deterministic():
    a = transfer.pretrain_source(max_steps=3).state_dict()
    b = transfer.pretrain_source(max_steps=3).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    fresh = transfer.pretrain_source(max_steps=1).state_dict()
    assert not torch.equal(fresh["fc.weight"], a["fc.weight"])


def test_pretrain_script_is_deterministic(tmp_path, capsys):
    sha1 = data_scripts.run_twice("pretrain_digits04", tmp_path)
    assert f"sha256 {sha1}" in capsys.readouterr().out
