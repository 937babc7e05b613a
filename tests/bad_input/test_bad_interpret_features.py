"""Bad input to course_lib.interpret's features and maximisation: a learner's mistake and the error that must teach
(bad_input_harness); ``torch_does`` is the same mistake made directly in torch, which refuses it too."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from bad_input_harness import Bad, assert_teaches
from torch import nn

from course_lib import models
from course_lib.interpret import features as fe, maximize as mx

torch.manual_seed(0)
NET = models.digit_cnn()
SCRATCH = models.digit_cnn(backend="scratch")
X = np.random.default_rng(0).uniform(0, 1, (5, 1, 28, 28)).astype(np.float32)
RELU_END = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("relu", nn.ReLU())]))
F2, Y2 = np.zeros((4, 2)), np.array([0, 1, 0, 1])

CASES = [
    # feature maps and receptive fields
    Bad("feature_maps: a layer that is not there", lambda: fe.feature_maps(NET, X, ["conv9"]), ValueError,
        says=("conv9", "its layers are"), torch_does=lambda: NET.get_submodule("conv9")),
    Bad("feature_maps: one name instead of a list", lambda: fe.feature_maps(NET, X, "conv1"), TypeError,
        says=("list of layer names", "'conv1'")),
    Bad("receptive_field: a unit below the map", lambda: fe.receptive_field(NET, "conv3", 7, 0), ValueError,
        says=("i=7", "0..6", "7 x 7")),
    Bad("receptive_field: a negative column", lambda: fe.receptive_field(SCRATCH, "pool1", 0, -1), ValueError,
        says=("j=-1", "14 x 14")),
    Bad("receptive_field: a layer after global pooling", lambda: fe.receptive_field(NET, "fc", 0, 0), ValueError,
        says=("'fc'", "past the spatial part", "before the global pooling")),
    # top inputs and one unit
    Bad("top_activating: a channel the layer does not have", lambda: fe.top_activating(NET, "conv3", X, 64, k=2),
        ValueError, says=("channel=64", "0..63", "64 channels"), torch_does=lambda: torch.zeros(5, 64, 7, 7)[:, 64]),
    Bad("top_activating: more inputs asked than given", lambda: fe.top_activating(SCRATCH, "relu1", X, 0, k=9),
        ValueError, says=("k=9", "x has 5 inputs"), torch_does=lambda: torch.zeros(5).topk(9)),
    Bad("top_activating: a layer without maps", lambda: fe.top_activating(NET, "flatten", X, 0, k=2), ValueError,
        says=("'flatten'", "not maps")),
    Bad("unit_contributions: a ReLU is no sum of products", lambda: fe.unit_contributions(NET, "relu1", X, 0, 0, 0),
        ValueError, says=("ReLU", "not a Conv2d", "pick a conv layer")),
    Bad("unit_contributions: a unit outside the map", lambda: fe.unit_contributions(NET, "conv2", X, 0, 3, 14),
        ValueError, says=("j=14", "14 x 14"), torch_does=lambda: torch.zeros(5, 32, 14, 14)[:, 0, 3, 14]),
    Bad("unit_contributions: a tensor into a scratch model",
        lambda: fe.unit_contributions(SCRATCH, "conv1", torch.from_numpy(X), 0, 0, 0), TypeError,
        says=("torch tensor", ".numpy()")),
    # features before the last layer
    Bad("penultimate_features: the model does not end in a Linear", lambda: fe.penultimate_features(RELU_END, X),
        ValueError, says=("'relu'", "not a Linear", "feature_maps")),
    Bad("nearest_neighbour_agreement: labels of another length",
        lambda: fe.nearest_neighbour_agreement(F2, Y2, F2, Y2[:3]), ValueError, says=("labels_ref", "(4,)", "(3,)")),
    Bad("nearest_neighbour_agreement: features from two spaces",
        lambda: fe.nearest_neighbour_agreement(F2, Y2, np.zeros((4, 3)), Y2), ValueError,
        says=("2 features", "3", "same space"), torch_does=lambda: torch.cdist(torch.zeros(4, 2), torch.zeros(4, 3))),
    Bad("pca_2d: one example has no spread", lambda: fe.pca_2d(np.ones((1, 5))), ValueError,
        says=("at least 2 examples", "(1, 5)")),
    # maximisation
    Bad("maximize_activation: nothing to maximise", lambda: mx.maximize_activation(NET), ValueError,
        says=("target=c", "layer='conv2', channel=k")),
    Bad("maximize_activation: class 10 of a 10-class net", lambda: mx.maximize_activation(NET, target=10, steps=1),
        ValueError, says=("unit 10", "0..9")),
    Bad("maximize_activation: a layer without its channel", lambda: mx.maximize_activation(NET, layer="conv2"),
        ValueError, says=("needs channel=k",)),
    Bad("maximize_activation: no steps", lambda: mx.maximize_activation(NET, target=1, steps=0), ValueError,
        says=("steps", ">= 1", "0")),
    Bad("deep_dream: a negative step size", lambda: mx.deep_dream(NET, X, "relu2", lr=-0.1), ValueError,
        says=("lr", "> 0", "-0.1")),
    Bad("maximize_activation: clamp upside down", lambda: mx.maximize_activation(NET, target=1, clamp=(1.0, 0.0)),
        ValueError, says=("clamp", "low < high")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_interpret_features(case):
    assert_teaches(case)
