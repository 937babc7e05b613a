"""Notebook 11's FCN, dilated stack and super-resolution net (their parity with torch is in test_image_models.py):
the defaults' forward in both backends, their receptive fields from conv_arithmetic, and the trained networks of
data/image_nets.pt: the checked loader and the script that reproduces the file."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import data_scripts
from course_lib import conv_arithmetic, data, metrics, models, training
from course_lib.parity import compare, copy_torch_to_scratch


def test_the_defaults_forward_is_the_same_in_both_backends():
    """The full-size networks too, once (forward only: the backward is checked on the small ones)."""
    rng = np.random.default_rng(1)
    for build, x in ((models.fcn, rng.uniform(size=(1, 1, 64, 64))),
                     (models.dilated_net, rng.uniform(size=(1, 1, 32, 32))),
                     (models.super_resolution_net, rng.uniform(size=(2, 1, 14, 14)))):
        torch.manual_seed(0)
        theirs = build().double()
        ours = build(backend="scratch")
        copy_torch_to_scratch(theirs, ours)
        compare(f"{build.__name__} forward", ours(x), theirs(torch.from_numpy(x)), tol=1e-10, verbose=False)


def test_output_shapes():
    scenes = torch.rand(2, 1, 64, 64)
    assert models.fcn()(scenes).shape == (2, 11, 64, 64)
    assert models.fcn(num_classes=3, width=8)(torch.rand(1, 1, 28, 36)).shape == (1, 3, 28, 36)
    assert models.dilated_net()(scenes).shape == (2, 11, 64, 64)
    assert models.dilated_net((1, 1), channels=8, num_classes=2)(torch.rand(1, 1, 9, 10)).shape == (1, 2, 9, 10)
    low = torch.rand(3, 1, 14, 14)
    out = models.super_resolution_net()(low)
    assert out.shape == (3, 1, 28, 28) and 0 < out.min() and out.max() < 1       # a sigmoid's pixels


def test_receptive_fields_grow_exponentially_with_dilation_and_linearly_without():
    """1 + 2 sum(d): 31 for dilations 1, 2, 4, 8 against 9 for 1, 1, 1, 1 (the 1x1 head adds nothing)."""
    dilated = conv_arithmetic.receptive_field(models.dilated_net())
    plain = conv_arithmetic.receptive_field(models.dilated_net((1, 1, 1, 1)))
    assert [rf.size for rf in dilated if rf is not None][-1] == 31 == 1 + 2 * sum((1, 2, 4, 8))
    assert plain[-1].size == 9 and dilated[-1].size == 31
    assert sorted({rf.size for rf in dilated}) == [3, 7, 15, 31]          # doubling (+1) with every layer
    assert sorted({rf.size for rf in plain}) == [3, 5, 7, 9]              # two more with every layer
    fcn_layers = [layer for layer in models.fcn() if not isinstance(layer, torch.nn.Upsample)]
    assert conv_arithmetic.receptive_field(fcn_layers)[-1] == conv_arithmetic.ReceptiveField(34, 4)


def test_fcn_fc6_is_the_fully_connected_layer_of_a_7x7_classifier():
    """On a 28x28 digit the maps before fc6 are 7x7; fc6 without its padding gives 1x1, one vector per digit, which is
    a Linear layer on the flattened maps; padded, the centre of its 7x7 output is that same vector."""
    torch.manual_seed(0)
    net = models.fcn().double()
    digit = torch.rand(2, 1, 28, 28, dtype=torch.float64)
    maps = net[:6](digit)                                                   # conv1 .. pool2
    assert maps.shape == (2, 32, 7, 7)
    linear = F.linear(maps.flatten(1), net.fc6.weight.flatten(1), net.fc6.bias)
    unpadded = F.conv2d(maps, net.fc6.weight, net.fc6.bias)
    assert unpadded.shape == (2, 64, 1, 1)
    torch.testing.assert_close(unpadded.flatten(1), linear)
    torch.testing.assert_close(net.fc6(maps)[:, :, 3, 3], linear)
    assert net[:8](torch.rand(1, 1, 64, 64, dtype=torch.float64)).shape == (1, 64, 16, 16)   # on a scene: a map


def test_image_nets_names_and_builders():
    assert list(models.IMAGE_NETS) == [*(f"dense_b{b}" for b in (2, 4, 8, 16, 32)),
                                       *(f"conv_b{b}" for b in (2, 4, 8, 16, 32)), "conv_upsample_b16", "denoise",
                                       "super_resolution", "fcn", "encoder_decoder", "unet", "unet_dice",
                                       "plain_stack", "dilated_stack"]
    assert isinstance(models.IMAGE_NETS["conv_upsample_b16"](backend="scratch").up1, models.scratch.Upsample)
    assert models.IMAGE_NETS["dilated_stack"]().conv4.dilation == (8, 8)
    plain, dilated = models.IMAGE_NETS["plain_stack"](), models.IMAGE_NETS["dilated_stack"]()
    assert [v.shape for v in plain.state_dict().values()] == [v.shape for v in dilated.state_dict().values()]


# ------------------------------------------------------------------------------------------ the cached networks


def test_cached_image_nets_sha256_size_and_names():
    assert data.sha256_file(models.IMAGE_NETS_PATH) == models.IMAGE_NETS_SHA256
    assert models.IMAGE_NETS_PATH.stat().st_size < 8_000_000
    states = torch.load(models.IMAGE_NETS_PATH, weights_only=True)
    assert list(states) == list(models.IMAGE_NETS)


def test_cached_networks_beat_their_baselines_on_validation_data():
    """What the notebook asserts on the test data, here on validation: SR beats bicubic, the U-Net the
    encoder-decoder, the dilated stack the plain one; the bigger code reconstructs better."""
    low, high = data.pixelated_digits("validation")
    low = torch.as_tensor(low[:300])
    high = torch.as_tensor(high[:300])
    bicubic = F.interpolate(low, scale_factor=2, mode="bicubic", align_corners=False).clamp(0, 1)
    learned = training.outputs(models.load_image_net("super_resolution"), low)
    assert metrics.psnr(learned, high).mean() > metrics.psnr(bicubic, high).mean() + 1
    x, _ = data.digit_images("validation")
    errors = [F.mse_loss(training.outputs(models.load_image_net(f"conv_b{b}"), x[:300]), torch.as_tensor(x[:300]))
              for b in (2, 8, 32)]
    assert errors[0] > errors[1] > errors[2]
    scenes, labels = data.digit_scenes("validation", 100, seed=1)
    iou = {name: float(metrics.mean_iou(training.outputs(models.load_image_net(name), scenes).argmax(1),
                                        torch.as_tensor(labels), data.SCENE_CLASSES))
           for name in ("encoder_decoder", "unet", "plain_stack", "dilated_stack")}
    assert iou["unet"] > iou["encoder_decoder"] and iou["dilated_stack"] > iou["plain_stack"]


def test_the_scratch_mirror_of_a_cached_network_computes_the_same():
    x = data.pixelated_digits("validation")[0][:4]
    for name in ("super_resolution", "dilated_stack"):
        theirs, ours = models.load_image_net(name), models.load_image_net(name, backend="scratch")
        inputs = x if name == "super_resolution" else data.digit_scenes("validation", 2, seed=1)[0]
        compare(f"cached {name}, float64 scratch vs float32 torch", ours(inputs.astype(np.float64)),
                training.outputs(theirs, inputs), tol=1e-4, verbose=False)


def test_missing_damaged_or_unknown_image_nets_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="git checkout data/image_nets.pt(.|\n)*train_image_nets.py"):
        models.load_image_net("unet", path=tmp_path / "nothing.pt")
    bad = tmp_path / "image_nets.pt"
    bad.write_bytes(models.IMAGE_NETS_PATH.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(data.DataIntegrityError, match="wrong sha256(.|\n)*train_image_nets.py"):
        models.load_image_net("unet", path=bad)
    with pytest.raises(ValueError, match="'u-net' is not one of(.|\n)*dense_b2(.|\n)*dilated_stack"):
        models.load_image_net("u-net")


def test_image_nets_script_is_deterministic_and_saves_every_network(tmp_path, capsys):
    sha1 = data_scripts.run_twice("train_image_nets", tmp_path)
    out = capsys.readouterr().out
    assert f"sha256 {sha1}" in out and "bicubic" in out and "mean IoU" in out
    states = torch.load(tmp_path / "one.pt", weights_only=True)
    assert list(states) == list(models.IMAGE_NETS)
    unet, unet_dice = (models.load_image_net(n, path=tmp_path / "one.pt", expected_sha256=sha1)
                       for n in ("unet", "unet_dice"))
    assert not torch.equal(unet.head.weight, unet_dice.head.weight)          # same seed, another loss
