"""Bad input to course_lib.interpret's attribution, CAM and sanity functions: every case teaches."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from bad_input_harness import Bad, assert_teaches
from captum.attr import IntegratedGradients, LayerGradCam, Occlusion, Saliency

from course_lib import models, scratch
from course_lib.interpret.attribution import integrated_gradients, occlusion, saliency, smoothgrad
from course_lib.interpret.cam import class_activation_map, grad_cam
from course_lib.interpret.sanity import rank_correlation

TORCH = models.digit_cnn().double()
SCRATCH = models.digit_cnn(backend="scratch")
X = np.random.default_rng(0).random((2, 1, 28, 28))
XT = torch.as_tensor(X)
MLP = torch.nn.Sequential(OrderedDict([("flatten", torch.nn.Flatten()),
                                          ("fc", torch.nn.Linear(784, 10))])).double()
NO_GAP = scratch.Sequential(OrderedDict([("conv", scratch.Conv2d(1, 4, 3)), ("relu", scratch.ReLU()),
                                         ("flatten", scratch.Flatten()), ("fc", scratch.Linear(4 * 26 * 26, 10))]))

CASES = [
    # the class to explain
    Bad("saliency: target=10 of 10 classes", lambda: saliency(TORCH, XT, 10), ValueError,
        says=("target 10", "0..9"), torch_does=lambda: Saliency(TORCH).attribute(XT, 10)),
    Bad("saliency: target=-1", lambda: saliency(SCRATCH, X, -1), ValueError, says=("target -1", "0..9")),
    Bad("saliency: target=2.5", lambda: saliency(SCRATCH, X, 2.5), TypeError, says=("target", "one int")),
    Bad("saliency: 3 targets for 2 inputs", lambda: saliency(TORCH, XT, [1, 2, 3]), TypeError,
        says=("one int per input", "(2,)")),
    # the model and x
    Bad("saliency: a torch tensor for a scratch model", lambda: saliency(SCRATCH, XT, 1), TypeError,
        says=("scratch model", "numpy()")),
    Bad("saliency: a function instead of a model", lambda: saliency(lambda x: x, X, 1), TypeError,
        says=("model must be", "torch.nn.Module")),
    # counts and sizes
    Bad("smoothgrad: n=0", lambda: smoothgrad(TORCH, XT, 1, n=0), ValueError, says=("n must be", ">= 1", "0")),
    Bad("smoothgrad: sigma=-0.1", lambda: smoothgrad(TORCH, XT, 1, sigma=-0.1), ValueError,
        says=("sigma", ">= 0", "-0.1")),
    Bad("integrated_gradients: steps=0", lambda: integrated_gradients(SCRATCH, X, 1, steps=0), ValueError,
        says=("steps must be", ">= 1")),
    Bad("integrated_gradients: baseline of another shape", lambda: integrated_gradients(TORCH, XT, 1,
        baseline=np.zeros((1, 14, 14))), ValueError, says=("baseline", "(1, 14, 14)", "(2, 1, 28, 28)"),
        torch_does=lambda: IntegratedGradients(TORCH).attribute(XT, torch.zeros(1, 14, 14), target=1)),
    Bad("occlusion: window larger than the image", lambda: occlusion(TORCH, XT, 1, window=30, stride=2), ValueError,
        says=("window=30", "28x28"), torch_does=lambda: Occlusion(TORCH).attribute(XT, (1, 30, 30), 2, target=1)),
    Bad("occlusion: stride larger than the window", lambda: occlusion(SCRATCH, X, 1, window=3, stride=4), ValueError,
        says=("stride=4", "never be covered", "stride <= 3"),
        torch_does=lambda: Occlusion(TORCH).attribute(XT, (1, 3, 3), (1, 4, 4), target=1)),
    Bad("occlusion: window=0", lambda: occlusion(TORCH, XT, 1, window=0, stride=1), ValueError,
        says=("window must be", ">= 1")),
    # CAM and Grad-CAM
    Bad("class_activation_map: no global average pooling", lambda: class_activation_map(NO_GAP, X, 1), ValueError,
        says=("AdaptiveAvgPool2d(1) -> Flatten -> Linear", "relu (ReLU)", "grad_cam")),
    Bad("class_activation_map: an MLP", lambda: class_activation_map(MLP, XT, 1), ValueError,
        says=("global average pooling", "fc (Linear)")),
    Bad("grad_cam: a layer that is not there", lambda: grad_cam(TORCH, "conv4", XT, 1), ValueError,
        says=("no layer named 'conv4'", "conv3"),
        torch_does=lambda: LayerGradCam(TORCH, TORCH.get_submodule("conv4")).attribute(XT, 1)),
    Bad("grad_cam: the linear layer", lambda: grad_cam(SCRATCH, "fc", X, 1), ValueError,
        says=("'fc'", "(2, 10)", "feature maps")),
    # rank correlation
    Bad("rank_correlation: maps of different shapes", lambda: rank_correlation(X, X[:, :, :14]), ValueError,
        says=("(2, 1, 28, 28)", "(2, 1, 14, 28)", "same")),
]


@pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")
@pytest.mark.parametrize("case", [case.param() for case in CASES])
def test_bad_interpret_attribution_input_teaches(case):
    assert_teaches(case)
