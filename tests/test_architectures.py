"""course_lib.architectures against torchvision: same names, same parameter counts, same outputs.

The big torchvision models are built once per module (a module-scoped fixture per family); the
num_classes=10 checks build their models on the "meta" device, which gives shapes without memory or
computation. Inputs are small (64x64): the adaptive pools make them valid for every family.
"""
import pytest
import torch
import torchvision

from course_lib import architectures, models
from course_lib.conv_arithmetic import conv_params
from course_lib.summary import shape_table

FAMILIES = ["alexnet", "vgg11", "vgg16", "googlenet", "resnet18", "resnet34", "resnet50", "densenet121"]

# Known totals for 1000 classes (torchvision's documented num_params). The lecture's "4 million" for
# GoogLeNet is not asserted: torchvision's GoogLeNet (BatchNorm, 3x3 branch3) has 6,624,904.
KNOWN_PARAMETERS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336,
    "vgg16": 138_357_544,
    "googlenet": 6_624_904,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "densenet121": 7_978_856,
}


def torchvision_model(name: str, **kwargs) -> torch.nn.Module:
    """torchvision's model without weights; GoogLeNet without auxiliary heads (as ours)."""
    if name == "googlenet":
        kwargs.update(aux_logits=False, init_weights=True)
    return getattr(torchvision.models, name)(weights=None, **kwargs)


def our_model(name: str, **kwargs) -> torch.nn.Module:
    return getattr(architectures, name)(**kwargs)


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def shapes(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of every parameter and buffer, in state_dict order."""
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.fixture(scope="module", params=FAMILIES)
def pair(request):
    """(name, ours, torchvision's), both freshly initialised, in eval mode."""
    torch.manual_seed(0)
    theirs = torchvision_model(request.param).eval()
    ours = our_model(request.param).eval()
    yield request.param, ours, theirs
    del ours, theirs


def test_parameter_count_matches_torchvision_and_known_number(pair):
    name, ours, theirs = pair
    assert count(ours) == count(theirs) == KNOWN_PARAMETERS[name]


def test_names_and_shapes_match_torchvision_in_order(pair):
    name, ours, theirs = pair
    assert shapes(ours) == shapes(theirs)       # parameters and buffers (BN running stats) alike
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


def test_torchvision_weights_load_and_give_the_same_outputs(pair):
    name, ours, theirs = pair
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours_out, theirs_out = ours(x), theirs(x)
    assert ours_out.shape == (2, 1000)
    assert (ours_out - theirs_out).abs().max().item() <= 1e-5


@pytest.mark.parametrize("name", FAMILIES)
def test_ten_classes_gives_a_ten_way_head_like_torchvision(name):
    with torch.device("meta"):                  # shapes only: nothing is allocated or initialised
        ours, theirs = our_model(name, num_classes=10), torchvision_model(name, num_classes=10)
    assert shapes(ours) == shapes(theirs)
    assert count(ours) == count(theirs)
    head = [m for m in ours.modules() if isinstance(m, torch.nn.Linear)][-1]
    assert head.out_features == 10
    with torch.device("meta"):
        assert ours.eval()(torch.empty(2, 3, 64, 64)).shape == (2, 10)


def test_googlenet_transform_input_matches_torchvision():
    theirs = torchvision.models.GoogLeNet(transform_input=True, aux_logits=False, init_weights=False).eval()
    ours = architectures.googlenet(transform_input=True).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert (ours(x) - theirs(x)).abs().max().item() <= 1e-5


def test_imagenet_to_tf_range_maps_pixels_to_minus_one_one():
    pixels = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(3))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    out = architectures.imagenet_to_tf_range((pixels - mean) / std)
    assert torch.allclose(out, 2 * pixels - 1, atol=1e-6)


def test_lenet5_is_the_torch_twin_of_the_scratch_lenet():
    net = architectures.lenet5()
    assert net(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    assert list(net.state_dict()) == list(models.lenet5(backend="scratch").state_dict())
    assert architectures.lenet5(num_classes=5)(torch.randn(1, 1, 28, 28)).shape == (1, 5)


def test_alexnet_shape_chain_at_224_is_the_lecture_one():
    with torch.device("meta"):
        rows = shape_table(architectures.alexnet(), (1, 3, 224, 224))
    sizes = [r.output_shape[-1] for r in rows if r.type in ("Conv2d", "MaxPool2d", "AdaptiveAvgPool2d")]
    assert sizes == [55, 27, 27, 13, 13, 13, 13, 6, 6]
    assert rows[0].parameters == conv_params(3, 64, 11) == 23_296    # 64 filters, not the paper's 96
    assert sum(r.parameters for r in rows) == 61_100_840


def test_smallest_inputs_and_what_they_give():
    smallest = {"alexnet": 63, "vgg11": 32, "googlenet": 15, "densenet121": 29}
    for name, size in smallest.items():
        with torch.device("meta"):
            model = our_model(name).eval()
            assert model(torch.empty(1, 3, size, size)).shape == (1, 1000)
            with pytest.raises(RuntimeError, match="too small"):
                model(torch.empty(1, 3, size - 1, size - 1))


def test_init_weights_is_he_for_convs():
    torch.manual_seed(0)
    net = architectures.resnet18()
    w = net.layer3[0].conv2.weight                              # (256, 256, 3, 3): fan_out = 2304
    assert abs(w.std().item() / (2 / (256 * 9)) ** 0.5 - 1) < 0.02
    assert torch.all(net.bn1.weight == 1) and torch.all(net.bn1.bias == 0)
    assert torch.all(net.fc.bias == 0)


def test_resnet18_trains_from_scratch():
    torch.manual_seed(0)
    net = architectures.resnet18(num_classes=10)
    x, y = torch.randn(16, 3, 32, 32), torch.randint(0, 10, (16,))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(8):
        loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
