"""Notebook 11's networks (models.dense_autoencoder, conv_autoencoder, unet, encoder_decoder, fcn, dilated_net,
super_resolution_net) and scratch.Unflatten:
the same state_dict in both backends, and after copying torch's weights the scratch forward and hand-written backward
equal torch's and its autograd (float64) -- for the U-Net the proof that the skips' gradients are added."""
import numpy as np
import pytest
import torch

from course_lib import models, scratch
from course_lib.parity import compare, copy_torch_to_scratch

BUILDERS = {
    "dense_autoencoder": (lambda b: models.dense_autoencoder(8, hidden=32, backend=b), (3, 1, 28, 28)),
    "conv_autoencoder transpose": (lambda b: models.conv_autoencoder(16, "transpose", backend=b), (3, 1, 28, 28)),
    "conv_autoencoder upsample": (lambda b: models.conv_autoencoder(16, "upsample", backend=b), (3, 1, 28, 28)),
    "unet": (lambda b: models.unet(11, base=4, backend=b), (2, 1, 16, 20)),
    "encoder_decoder": (lambda b: models.encoder_decoder(11, base=4, backend=b), (2, 1, 16, 20)),
    "fcn": (lambda b: models.fcn(3, width=4, backend=b), (2, 1, 16, 20)),
    "dilated_net": (lambda b: models.dilated_net((1, 2, 3), channels=4, num_classes=3, backend=b), (2, 1, 13, 17)),
    "super_resolution_net": (lambda b: models.super_resolution_net(channels=4, backend=b), (2, 1, 7, 9)),
}
PARAMETERS = {  # the defaults' counts, as the docstrings state them
    "dense_autoencoder": (lambda b: models.dense_autoencoder(16, backend=b), 410_912),
    "conv_autoencoder transpose": (lambda b: models.conv_autoencoder(16, "transpose", backend=b), 61_329),
    "conv_autoencoder upsample": (lambda b: models.conv_autoencoder(16, "upsample", backend=b), 61_329),
    "unet": (lambda b: models.unet(backend=b), 118_155),
    "encoder_decoder": (lambda b: models.encoder_decoder(backend=b), 106_635),
    "fcn": (lambda b: models.fcn(backend=b), 110_699),
    "dilated_net": (lambda b: models.dilated_net(backend=b), 28_427),
    "dilated_net plain": (lambda b: models.dilated_net((1, 1, 1, 1), backend=b), 28_427),
    "super_resolution_net": (lambda b: models.super_resolution_net(backend=b), 10_369),
}


def count(model) -> int:
    return sum(int(np.prod(v.shape)) for v in model.state_dict().values())


@pytest.mark.parametrize("name", list(PARAMETERS))
def test_same_state_dict_keys_shapes_and_parameter_count_in_both_backends(name):
    build, expected = PARAMETERS[name]
    ours, theirs = build("scratch"), build("torch")
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert count(ours) == count(theirs) == expected


@pytest.mark.parametrize("name", list(BUILDERS))
def test_scratch_forward_and_backward_equal_torch_autograd(name):
    build, shape = BUILDERS[name]
    torch.manual_seed(0)
    theirs = build("torch").double()
    ours = build("scratch")
    copy_torch_to_scratch(theirs, ours)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=shape)
    xt = torch.tensor(x, requires_grad=True)
    out_t = theirs(xt)
    g = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.from_numpy(g))
    out = ours(x)
    compare(f"{name} forward", out, out_t, tol=1e-10, verbose=False)
    compare(f"{name} input gradient", ours.backward(g), xt.grad, tol=1e-9, verbose=False)
    torch_grads = dict(theirs.named_parameters())
    assert [k for k, _ in ours.named_parameters()] == list(torch_grads)
    for key, p in ours.named_parameters():
        compare(f"{name} grad of {key}", p.grad, torch_grads[key].grad, tol=1e-9, verbose=False)


def test_output_shapes_of_the_defaults():
    digits = np.random.default_rng(1).uniform(size=(2, 1, 28, 28))
    for up in models.AUTOENCODER_UPS:
        out = models.conv_autoencoder(up=up, backend="scratch")(digits)
        assert out.shape == (2, 1, 28, 28) and 0 < out.min() and out.max() < 1     # a sigmoid's pixels
    assert models.dense_autoencoder(backend="scratch")(digits).shape == (2, 1, 28, 28)
    scenes = torch.rand(2, 1, 64, 64)
    assert models.unet(backend="torch")(scenes).shape == (2, 11, 64, 64)
    assert models.encoder_decoder(num_classes=3, backend="torch")(scenes).shape == (2, 3, 64, 64)
    assert models.unet(backend="scratch")(scenes.numpy().astype(np.float64)[:1]).shape == (1, 11, 64, 64)


def test_without_skips_the_decoder_sees_only_the_upsampled_maps():
    assert models.unet(base=4, backend="scratch").dec1.conv1.weight.shape == (4, 12, 3, 3)   # 2b + b channels in
    assert models.encoder_decoder(base=4, backend="scratch").dec1.conv1.weight.shape == (4, 8, 3, 3)


@pytest.mark.parametrize("dim, sizes, shape", [(1, (32, 7, 7), (2, 1568)), (1, (1, 28, 28), (3, 784)),
                                               (-1, (2, -1), (2, 3, 8)), (0, (2, 3), (6, 5))])
def test_unflatten_matches_torch_forward_and_backward(dim, sizes, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch.nn.Unflatten(dim, sizes)(xt)
    g = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.from_numpy(g))
    layer = scratch.Unflatten(dim, sizes)
    compare("Unflatten forward", layer(x), out_t, tol=0, verbose=False)
    compare("Unflatten backward", layer.backward(g), xt.grad, tol=0, verbose=False)
    assert repr(layer) == f"Unflatten(dim={dim}, unflattened_size={sizes})"
