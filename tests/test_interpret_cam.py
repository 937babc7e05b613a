"""course_lib.interpret.cam: Grad-CAM against Captum's LayerGradCam, the scratch side against the torch side,
CAM's defining sum, and Grad-CAM = ReLU(CAM) / (h w) on a network that ends in global average pooling."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from captum.attr import LayerGradCam
from interpret_twins import twins

from course_lib.interpret.cam import class_activation_map, grad_cam, upsample_map
from course_lib.parity import compare

GAP_MODELS = ["digit_cnn", "source_cnn", "tiny_cnn"]
LAYERS = [("digit_cnn", "conv1"), ("digit_cnn", "pool1"), ("digit_cnn", "relu2"), ("digit_cnn", "relu3"),
          ("source_cnn", "conv2"), ("source_cnn", "relu3"), ("tiny_cnn", "relu")]


@pytest.mark.parametrize("name, layer", LAYERS)
def test_grad_cam_is_captums_layer_grad_cam(name, layer):
    model, _, _, x, t = twins(name)
    theirs = LayerGradCam(model, getattr(model, layer)).attribute(x, t, relu_attributions=True)
    compare("grad-cam", grad_cam(model, layer, x, t), theirs[:, 0], 1e-12)      # Captum keeps a channel axis


@pytest.mark.parametrize("name, layer", LAYERS)
def test_grad_cam_scratch_is_torch(name, layer):
    torch_model, scratch_model, x_np, x, t = twins(name)
    compare("grad-cam", grad_cam(scratch_model, layer, x_np, t), grad_cam(torch_model, layer, x, t), 1e-6)


def test_grad_cam_takes_the_layer_object_too():
    model, _, _, x, t = twins("digit_cnn")
    compare("by object", grad_cam(model, model.relu3, x, t), grad_cam(model, "relu3", x, t), 0.0)


@pytest.mark.parametrize("name", GAP_MODELS)
def test_cam_scratch_is_torch(name):
    torch_model, scratch_model, x_np, x, t = twins(name)
    compare("cam", class_activation_map(scratch_model, x_np, t), class_activation_map(torch_model, x, t), 1e-6)


@pytest.mark.parametrize("name", GAP_MODELS)
def test_cam_is_the_weighted_sum_of_the_last_feature_maps_and_averages_to_the_score(name):
    """CAM_t = sum_k w_tk A_k, and since s_t = sum_k w_tk mean_ij A_k(i, j) + b_t, mean_ij CAM_t = s_t - b_t."""
    model, _, _, x, t = twins(name)
    cam = class_activation_map(model, x, t)
    features = model[:-3](x)                                                    # (N, K, h, w) entering the GAP
    assert cam.shape == (3,) + features.shape[2:]
    compare("cam", cam, torch.einsum("nk,nkhw->nhw", model.fc.weight[t], features), 1e-12)
    compare("mean of cam", cam.mean((1, 2)) + model.fc.bias[t], model(x)[range(3), t], 1e-12)


@pytest.mark.parametrize("name, layer", [("digit_cnn", "relu3"), ("source_cnn", "relu3"), ("tiny_cnn", "relu")])
def test_grad_cam_is_cam_up_to_a_positive_constant(name, layer):
    """At the layer entering the global average pooling, d s_t / dA_k(i, j) = w_tk / (h w) at every position, so
    Grad-CAM's alpha_k = w_tk / (h w) and Grad-CAM = ReLU(CAM) / (h w): the same map, scaled by 1 / (h w)."""
    torch_model, scratch_model, x_np, x, t = twins(name)
    for model, inputs in [(torch_model, x), (scratch_model, x_np)]:
        cam = class_activation_map(model, inputs, t)
        h, w = cam.shape[1:]
        compare("grad-cam vs cam", grad_cam(model, layer, inputs, t), cam * (cam > 0) / (h * w), 1e-12)


@pytest.mark.parametrize("size", [28, (20, 9), 7, 4])
def test_upsample_map_is_bilinear_interpolation_like_torch(size):
    cam = torch.as_tensor(np.random.default_rng(0).normal(size=(2, 7, 7)))
    theirs = F.interpolate(cam[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]
    compare("upsample (torch)", upsample_map(cam, size), theirs, 1e-12)
    compare("upsample (numpy)", upsample_map(cam.numpy(), size), theirs, 1e-12)


def test_a_model_on_a_gpu_gives_the_maps_it_gives_on_the_cpu(device):
    model, _, x_np, x, t = twins("digit_cnn")
    on_cpu = [grad_cam(model, "relu2", x, t), class_activation_map(model, x, t)]
    model.to(device)
    on_device = [grad_cam(model, "relu2", x_np, t), class_activation_map(model, x_np, t)]
    for name, ours, theirs in zip(["grad-cam", "cam"], on_device, on_cpu):
        assert ours.device.type == device.type
        compare(name, ours, theirs, 1e-10)
    compare("upsample", upsample_map(on_device[1], 28), upsample_map(on_cpu[1], 28), 1e-10)
