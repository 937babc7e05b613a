"""Bad input to notebook 11's FCN, dilated stack, super-resolution net and the loader of the trained networks
(models.fcn, dilated_net, super_resolution_net, load_image_net): the argument at fault and the fix in the message
(torch_does: the same mistake in torch)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from bad_input_harness import Bad, assert_teaches
from course_lib import data, models


def load_damaged():
    """The shipped file cut short (as a broken download would be), loaded from a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        bad = Path(folder) / "image_nets.pt"
        bad.write_bytes(models.IMAGE_NETS_PATH.read_bytes()[:100])
        return models.load_image_net("fcn", path=bad)


CASES = [
    Bad("fcn: num_classes=0", lambda: models.fcn(0), ValueError, says=("num_classes=0", "at least 1")),
    Bad("fcn: width=2.5", lambda: models.fcn(width=2.5), TypeError, says=("width", "whole number")),
    Bad("fcn: backend='numpy'", lambda: models.fcn(backend="numpy"), ValueError,
        says=("backend must be one of", "'scratch'", "'numpy'")),
    Bad("fcn: colour scenes into the 1-channel FCN", lambda: models.fcn(backend="scratch")(np.zeros((1, 3, 64, 64))),
        ValueError, says=("3 channels",), torch_does=lambda: models.fcn()(torch.zeros(1, 3, 64, 64))),
    Bad("fcn: one scene without its batch axis", lambda: models.fcn(backend="scratch")(np.zeros((1, 64, 64))),
        ValueError, says=("(N, C, H, W)",)),
    Bad("dilated_net: dilations=8 (one number)", lambda: models.dilated_net(8), TypeError,
        says=("one dilation per layer", "(1, 2, 4, 8)", "8")),
    Bad("dilated_net: dilations=() (no layers)", lambda: models.dilated_net(()), TypeError,
        says=("one dilation per layer",)),
    Bad("dilated_net: a dilation of 0", lambda: models.dilated_net((1, 0, 2)), ValueError,
        says=("dilations[1]=0", "dilation", "at least 1"),
        torch_does=lambda: torch.nn.Conv2d(1, 1, 3, dilation=0)(torch.zeros(1, 1, 8, 8))),
    Bad("dilated_net: a dilation of 1.5", lambda: models.dilated_net((1, 1.5)), TypeError,
        says=("dilations[1]", "whole number")),
    Bad("dilated_net: channels=0", lambda: models.dilated_net(channels=0), ValueError,
        says=("channels=0", "at least 1")),
    Bad("dilated_net: a torch tensor into the scratch net",
        lambda: models.dilated_net(backend="scratch")(torch.zeros(1, 1, 16, 16)), TypeError,
        says=("torch tensor", ".numpy()")),
    Bad("super_resolution_net: channels=-1", lambda: models.super_resolution_net(-1), ValueError,
        says=("channels=-1", "at least 1")),
    Bad("super_resolution_net: integer pixels",
        lambda: models.super_resolution_net(backend="scratch")(np.zeros((1, 1, 14, 14), np.uint8)), TypeError,
        says=("uint8", "/ 255")),
    Bad("load_image_net: an unknown name", lambda: models.load_image_net("unet_b16"), ValueError,
        says=("'unet_b16'", "not one of the trained networks", "dense_b2", "unet_dice", "dilated_stack")),
    Bad("load_image_net: the name of a builder", lambda: models.load_image_net("super_resolution_net"), ValueError,
        says=("'super_resolution_net'", "super_resolution,")),
    Bad("load_image_net: backend='jax'", lambda: models.load_image_net("unet", backend="jax"), ValueError,
        says=("backend must be one of", "'jax'")),
    Bad("load_image_net: a missing file", lambda: models.load_image_net("unet", path="/nonexistent/nets.pt"),
        FileNotFoundError, says=("/nonexistent/nets.pt", "git checkout data/image_nets.pt", "train_image_nets.py")),
    Bad("load_image_net: a damaged file", load_damaged, data.DataIntegrityError,
        says=("sha256", "expected_sha256=None", "train_image_nets.py")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_a_mistake_with_an_image_net_teaches(case):
    assert_teaches(case)
