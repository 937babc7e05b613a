"""course_lib.models: the seams between scratch and torch (layer and optimiser namespaces, the activation
registry, the init helper), the builders with the same names in both backends, and the weight files."""
import data_scripts
import numpy as np
import pytest
import torch

from course_lib import data, models, scratch, training
from course_lib.parity import compare



# ------------------------------------------------------------------------------------------ the seams


def test_namespace_and_optim_namespace():
    assert models.namespace("scratch") is scratch and models.namespace("torch") is torch.nn
    assert models.optim_namespace("scratch") is scratch.optim and models.optim_namespace("torch") is torch.optim


@pytest.mark.parametrize("call", [models.namespace, models.optim_namespace,
                                  lambda b: models.mlp([4, 2], backend=b), lambda b: models.lenet5(backend=b),
                                  lambda b: models.source_cnn(backend=b)])
def test_unknown_backend_says_which_exist(call):
    with pytest.raises(ValueError, match=r"backend must be one of \('scratch', 'torch'\).*got 'jax'"):
        call("jax")


@pytest.mark.parametrize("name", list(models.ACTIVATIONS))
def test_activation_registry_has_the_same_class_in_both_backends(name):
    ours, theirs = models.activation_layer(name, "scratch"), models.activation_layer(name, "torch")
    assert type(ours).__name__ == type(theirs).__name__ == models.ACTIVATIONS[name]
    x = np.random.default_rng(0).normal(size=(3, 5))
    compare(f"{name} layer", ours(x), theirs(torch.from_numpy(x)), tol=1e-12, verbose=False)


def test_activation_options_and_bad_names():
    assert models.activation_layer("leaky_relu", "torch", negative_slope=0.2).negative_slope == 0.2
    assert models.activation_layer("leaky_relu", negative_slope=0.2).negative_slope == 0.2
    with pytest.raises(ValueError, match=r"activation must be one of \('sigmoid', 'tanh', 'relu', 'leaky_relu'\).*'ReLU'"):
        models.activation_layer("ReLU")
    with pytest.raises(ValueError, match="activation must be one of"):
        models.mlp([4, 3, 2], activation="softplus")


def test_init_uses_scratch_init_for_numpy_and_torch_init_for_tensors():
    w = scratch.Parameter(np.zeros((200, 300)))
    scratch.manual_seed(0)
    assert models.init_(w, "kaiming_normal_", nonlinearity="relu") is w
    scratch.manual_seed(0)
    expected = scratch.init.kaiming_normal_(np.zeros((200, 300)), nonlinearity="relu")
    assert np.array_equal(w.data, expected)
    assert abs(w.data.std() - np.sqrt(2 / 300)) < 0.002
    t = torch.zeros(200, 300)
    torch.manual_seed(0)
    models.init_(t, "kaiming_normal_", nonlinearity="relu")
    torch.manual_seed(0)
    assert torch.equal(t, torch.nn.init.kaiming_normal_(torch.zeros(200, 300), nonlinearity="relu"))
    models.init_(t, "zeros_")
    assert not t.any()
    with pytest.raises(ValueError, match="no in-place initialiser 'kaiming'"):
        models.init_(w, "kaiming")


# ------------------------------------------------------------------------------------------ the builders


@pytest.mark.parametrize("build", [lambda b: models.mlp([784, 16, 10], activation="tanh", backend=b),
                                   lambda b: models.lenet5(activation="tanh", pool="avg", backend=b),
                                   lambda b: models.source_cnn(backend=b)])
def test_builders_give_the_same_names_and_outputs_in_both_backends(build):
    torch.manual_seed(0)
    theirs = build("torch").double()
    ours = build("scratch")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).normal(size=(2, 1, 28, 28))
    compare("model built twice", ours(x), theirs(torch.from_numpy(x)), tol=1e-10, verbose=False)


def test_mlp_names_and_errors():
    model = models.mlp([784, 32, 10])
    assert list(model.state_dict()) == ["1.weight", "1.bias", "3.weight", "3.bias"]
    with pytest.raises(ValueError, match="at least an input and an output size"):
        models.mlp([784])
    with pytest.raises(ValueError, match="activation must be one of"):
        models.mlp([2, 2], activation="swish")
    with pytest.raises(ValueError, match="backend must be"):
        models.mlp([2, 2], backend="jax")
    with pytest.raises(ValueError, match="pool must be 'max' or 'avg'"):
        models.lenet5(pool="min")


# ------------------------------------------------------------------------------------------ weight files


def test_source_cnn_has_a_scratch_mirror_with_the_same_names_and_outputs():
    torch.manual_seed(0)
    model = models.source_cnn()
    mirror = models.source_cnn(backend="scratch")
    assert list(mirror.state_dict()) == list(model.state_dict())
    mirror.load_state_dict(model.state_dict())
    x = torch.randn(3, 1, 28, 28, dtype=torch.float64)
    compare("source CNN, scratch vs torch", mirror(x.numpy()), model.double()(x), tol=1e-10, verbose=False)
    with pytest.raises(ValueError, match="backend"):
        models.source_cnn(backend="jax")


def test_cached_source_cnn_sha256_and_accuracy():
    pretrained = models.load_source_cnn()
    assert data.sha256_file(models.CNN_DIGITS04_PATH) == models.CNN_DIGITS04_SHA256
    assert models.CNN_DIGITS04_PATH.stat().st_size < 1_000_000
    x, y = data.task_digits("test", (0, 1, 2, 3, 4))
    assert training.accuracy(pretrained, x, y) > 0.99
    mirror = models.load_source_cnn(backend="scratch")
    compare("cached source CNN, float64 scratch vs float32 torch", mirror(x[:4].double().numpy()),
            training.outputs(pretrained, x[:4]), tol=1e-5, verbose=False)


def test_missing_or_damaged_source_cnn_says_how_to_rebuild(tmp_path):
    with pytest.raises(FileNotFoundError, match="pretrain_digits04.py"):
        models.load_source_cnn(tmp_path / "nothing.pt")
    bad = tmp_path / "cnn_digits04.pt"
    bad.write_bytes(models.CNN_DIGITS04_PATH.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(data.DataIntegrityError, match="wrong sha256(.|\n)*pretrain_digits04.py"):
        models.load_source_cnn(bad)


def test_save_weights_bytes_do_not_depend_on_the_file_name(tmp_path):
    torch.manual_seed(0)
    model = models.source_cnn()
    assert models.save_weights(model, tmp_path / "a.pt") == models.save_weights(model, tmp_path / "bbb.pt")
    loaded = models.load_source_cnn(tmp_path / "a.pt", expected_sha256=None)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in loaded.state_dict().items())


def test_cached_digit_cnns_sha256_and_the_scratch_mirror():
    assert data.sha256_file(models.DIGIT_CNNS_PATH) == models.DIGIT_CNNS_SHA256
    assert models.DIGIT_CNNS_PATH.stat().st_size < 1_000_000
    x, y = data.digit_images("validation")
    nets = {which: models.load_digit_cnn(which) for which in models.DIGIT_CNNS}
    assert all(training.accuracy(net, x, y) > 0.95 for net in nets.values())
    assert not torch.equal(nets["plain"].fc.weight, nets["second"].fc.weight)
    mirror = models.load_digit_cnn("adversarial", backend="scratch")
    compare("cached digit CNN, float64 scratch vs float32 torch", mirror(x[:4].astype(np.float64)),
            training.outputs(nets["adversarial"], x[:4]), tol=1e-5, verbose=False)


def test_missing_or_damaged_digit_cnns_say_how_to_get_them_back(tmp_path):
    with pytest.raises(FileNotFoundError, match="git checkout data/digit_cnns.pt(.|\n)*train_digit_cnns.py"):
        models.load_digit_cnn(path=tmp_path / "nothing.pt")
    bad = tmp_path / "digit_cnns.pt"
    bad.write_bytes(models.DIGIT_CNNS_PATH.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(data.DataIntegrityError, match="wrong sha256(.|\n)*train_digit_cnns.py"):
        models.load_digit_cnn(path=bad)
    with pytest.raises(ValueError, match="'robust'(.|\n)*'plain', 'second', 'adversarial'"):
        models.load_digit_cnn("robust")


def test_save_weights_of_several_models_in_one_file(tmp_path):
    torch.manual_seed(0)
    nets = {which: models.digit_cnn() for which in models.DIGIT_CNNS}
    sha = models.save_weights(nets, tmp_path / "a.pt")
    assert sha == models.save_weights(nets, tmp_path / "other_name.pt")
    for which, net in nets.items():
        loaded = models.load_digit_cnn(which, path=tmp_path / "a.pt", expected_sha256=sha)
        assert all(torch.equal(v, net.state_dict()[k]) for k, v in loaded.state_dict().items())


def test_digit_cnns_script_is_deterministic_and_trains_the_adversarial_net_on_attacked_batches(tmp_path, capsys):
    sha1 = data_scripts.run_twice("train_digit_cnns", tmp_path)
    out = capsys.readouterr().out
    assert f"sha256 {sha1}" in out and "adversarial  validation accuracy" in out
    plain, adversarial = (models.load_digit_cnn(w, path=tmp_path / "one.pt", expected_sha256=sha1)
                          for w in ("plain", "adversarial"))
    assert not torch.equal(plain.fc.weight, adversarial.fc.weight)     # same seed, other batches
