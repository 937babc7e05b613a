"""course_lib.summary against torch: shape_table's rows (shapes, parameters, mult-adds, receptive fields)
for torchvision and hand-built models, torch and scratch, and format_table's text."""
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import scratch
from course_lib.conv_arithmetic import conv_macs, conv_params, linear_macs
from course_lib.summary import LayerRow, format_table, shape_table

torchvision = pytest.importorskip("torchvision")


def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def alexnet():
    """torchvision's AlexNet and its shape_table at 224x224: the one real forward pass of these tests."""
    model = torchvision.models.alexnet()
    return model, shape_table(model, (1, 3, 224, 224))


def test_shape_table_torchvision_alexnet(alexnet):
    model, rows = alexnet
    assert all(isinstance(r, LayerRow) for r in rows)
    assert sum(r.parameters for r in rows) == 61_100_840 == numel(model)
    spatial = [r.output_shape[-1] for r in rows if r.type in ("Conv2d", "MaxPool2d")]
    assert spatial == [55, 27, 27, 13, 13, 13, 13, 6]
    assert [r.output_shape for r in rows if r.type == "Dropout"][0] == (1, 9216)
    assert rows[0].parameters == conv_params(3, 64, 11)
    expected_macs = (conv_macs(3, 64, 11, 55) + conv_macs(64, 192, 5, 27) + conv_macs(192, 384, 3, 13)
                     + conv_macs(384, 256, 3, 13) + conv_macs(256, 256, 3, 13)
                     + linear_macs(9216, 4096) + linear_macs(4096, 4096) + linear_macs(4096, 1000))
    assert sum(r.macs for r in rows) == expected_macs == 714_188_480
    by_name = {r.name: r for r in rows}
    assert by_name["features.0"].receptive_field == 11 and by_name["avgpool"].receptive_field == 195
    assert all(r.receptive_field is None for r in rows if r.name.startswith("classifier"))
    text = format_table(rows)
    assert text.splitlines()[-1].split()[:2] == ["Total", "61,100,840"] and "714,188,480" in text


def test_format_table_is_aligned(alexnet):
    lines = format_table(alexnet[1]).splitlines()
    end = lines[0].index("Parameters") + len("Parameters")
    for line in lines:
        if not line.startswith("-"):
            assert line[end - 1] in "0123456789s" and line[end] == " ", line


@pytest.mark.parametrize("name, total", [("vgg16", 138_357_544), ("resnet18", 11_689_512)])
def test_shape_table_torchvision_totals_on_the_meta_device(name, total):
    with torch.device("meta"):                       # no weights are made and nothing is computed
        model = getattr(torchvision.models, name)()
    rows = shape_table(model, (1, 3, 224, 224))
    assert sum(r.parameters for r in rows) == total == numel(model)
    assert rows[-1].output_shape == (1, 1000)
    if name == "resnet18":                           # skips and in-place adds: the main path's field
        assert [r.receptive_field for r in rows if r.name == "layer4.1.conv2"] == [435]
        assert sum(r.macs for r in rows) == 1_814_073_344


def lenet() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
                         nn.AvgPool2d(2), nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
                         nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))


def test_shape_table_lenet():
    model = lenet()
    model.train()
    rows = shape_table(model, (2, 1, 32, 32))
    assert model.training                                             # mode restored
    kernels = [r for r in rows if r.type in ("Conv2d", "AvgPool2d")]
    assert [r.output_shape for r in kernels] == [(2, 6, 28, 28), (2, 6, 14, 14), (2, 16, 10, 10),
                                                 (2, 16, 5, 5), (2, 120, 1, 1)]
    assert [r.receptive_field for r in kernels] == [5, 6, 14, 16, 32]   # C5 sees the whole 32x32 image
    assert [r.receptive_field for r in rows[-4:]] == [None] * 4
    assert [r.parameters for r in rows if r.parameters] == [156, 2416, 48_120, 10_164, 850]
    assert sum(r.parameters for r in rows) == numel(model) == 61_706
    assert rows[0].macs == conv_macs(1, 6, 5, 28)                       # per example, batch of 2


def test_shape_table_matlab_digit_net_has_180_880_parameters():
    def block(cin, cout, pool):
        layers = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        return layers + ([nn.MaxPool2d(2, 2)] if pool else [])
    model = nn.Sequential(*block(1, 16, True), *block(16, 32, True), *block(32, 64, False),
                          nn.Flatten(), nn.Linear(3136, 50), nn.Linear(50, 10))
    rows = shape_table(model, (1, 1, 28, 28))
    assert [r.output_shape[-1] for r in rows if r.type == "MaxPool2d"] == [14, 7]
    assert [r.output_shape for r in rows if r.type == "Flatten"] == [(1, 3136)]
    assert sum(r.parameters for r in rows) == 180_880


class TwiceAndFunctional(nn.Module):
    """One conv used twice (shared weights), F.relu between modules, and a parameter outside the leaves."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.pool(F.relu(self.conv(F.relu(self.conv(x))))) * self.scale


def test_shape_table_shared_weights_functional_ops_and_leftover_parameters():
    model = TwiceAndFunctional()
    rows = shape_table(model, (1, 2, 8, 8))
    assert [r.name for r in rows] == ["conv", "conv", "pool", "(other parameters)"]
    assert [r.parameters for r in rows] == [38, 0, 0, 1]
    assert sum(r.parameters for r in rows) == numel(model)
    assert [r.receptive_field for r in rows] == [3, 5, 6, None]


def test_shape_table_reports_where_the_forward_pass_failed():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(10, 2))
    where = r"shape_table: .*\(1, 1, 8, 8\) failed after layer '1' \(output \(1, 144\)\)"
    with pytest.raises(RuntimeError, match=where):
        shape_table(model, (1, 1, 8, 8))


def test_shape_table_scratch_sequential():
    scratch.manual_seed(0)
    model = scratch.Sequential(scratch.Flatten(), scratch.Linear(784, 100), scratch.ReLU(),
                               scratch.Linear(100, 10))
    rows = shape_table(model, (2, 1, 28, 28))
    assert [r.name for r in rows] == ["0", "1", "2", "3"]
    assert [r.output_shape for r in rows] == [(2, 784), (2, 100), (2, 100), (2, 10)]
    assert sum(r.parameters for r in rows) == sum(p.data.size for p in model.parameters()) == 79_510
    assert [r.macs for r in rows] == [0, 78_400, 0, 1_000]
    assert all(r.receptive_field is None for r in rows)
    assert model.training                                             # mode restored


def small_cnn(lib):
    """The same small CNN from torch.nn or course_lib.scratch (same names, same arguments)."""
    return lib.Sequential(lib.Conv2d(1, 6, 5), lib.ReLU(), lib.AvgPool2d(2), lib.Conv2d(6, 16, 5), lib.ReLU(),
                          lib.MaxPool2d(2), lib.ConvTranspose2d(16, 4, 4, 2, 1), lib.AdaptiveAvgPool2d(5),
                          lib.Flatten(), lib.Linear(100, 10))


def test_shape_table_scratch_cnn_matches_torch():
    if not all(hasattr(scratch, n) for n in ("Conv2d", "ConvTranspose2d", "MaxPool2d", "AdaptiveAvgPool2d")):
        pytest.skip("course_lib.scratch has no conv/pool layers yet")
    scratch.manual_seed(0)
    ours, theirs = (shape_table(small_cnn(lib), (2, 1, 32, 32)) for lib in (scratch, nn))
    assert [r.output_shape[1:] for r in theirs] == [
        (6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5),
        (4, 10, 10), (4, 5, 5), (100,), (10,)]
    assert [r.receptive_field for r in theirs] == [5, 5, 6, 14, 14, 16, None, None, None, None]
    assert theirs[6].macs == 16 * 5 * 5 * 4 * 4 * 4       # transposed: each input value scatters out * k * k
    strip = [(r.name, r.type, r.output_shape, r.parameters, r.macs, r.receptive_field) for r in ours]
    assert strip == [(r.name, r.type, r.output_shape, r.parameters, r.macs, r.receptive_field) for r in theirs]


def test_shape_table_refuses_a_scratch_model_with_its_own_forward():
    class Custom(scratch.Module):
        def __init__(self):
            super().__init__()
            self.fc = scratch.Linear(3, 2)

        def forward(self, x):
            return self.fc(x)

    with pytest.raises(TypeError, match="Sequential containers only"):
        shape_table(Custom(), (1, 3))


def test_an_input_shape_without_the_batch_dimension_says_so():
    with pytest.raises(ValueError, match="starts with the batch dimension"):
        shape_table(nn.Linear(3, 2), (3,))


def test_shape_table_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match="expected a torch.nn.Module or a course_lib.scratch model, got int"):
        shape_table(3, (1, 3))


def test_module_does_not_import_torch():
    code = "import sys, course_lib.summary; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
