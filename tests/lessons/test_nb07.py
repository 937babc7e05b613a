"""course_lib.lessons.nb07_cnn_architectures (notebook 07) and the exercises of course_lib.exercises.nb07."""
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from course_lib.lessons import nb07_cnn_architectures as av
from course_lib import architectures
from course_lib.data import load_mnist, standardize
from course_lib.exercises import nb07
from course_lib.exercises.checking import ExerciseFailed, run_check
from course_lib.scratch import functional as sf
from course_lib.summary import shape_table


# ---------------------------------------------------------------- lecture data and figures


def test_ilsvrc_results_are_the_slides_numbers():
    by_error = sorted(av.ILSVRC_RESULTS, key=lambda e: e.top5)
    assert [e.top5 for e in by_error] == [3.57, 6.7, 7.3, 11.7, 16.4, 25.8, 28.2]
    assert [e.layers for e in by_error] == [152, 22, 19, 8, 8, None, None]


def test_plot_ilsvrc_draws_one_bar_per_result():
    fig = av.plot_ilsvrc()
    assert isinstance(fig, Figure)
    heights = sorted(p.get_height() for p in fig.axes[0].patches)
    assert heights == sorted(e.top5 for e in av.ILSVRC_RESULTS)


def test_resnet_table_and_its_figure():
    top1 = {k: v[0] for k, v in av.RESNET_TABLE.items()}
    assert round(top1["plain-34"] - top1["ResNet-34 A"], 2) == 3.51
    assert top1["ResNet-34 C"] > top1["ResNet-50"] > top1["ResNet-101"] > top1["ResNet-152"]
    fig = av.plot_resnet_table()
    assert len(fig.axes) == 2
    assert len(fig.axes[0].patches) == len(av.RESNET_TABLE) - 1      # GoogLeNet has no top-1
    assert len(fig.axes[1].patches) == len(av.RESNET_TABLE)


def test_plot_blocks_has_four_diagrams():
    fig = av.plot_blocks()
    assert [ax.get_title().split(" ")[0] for ax in fig.axes] == ["plain", "residual", "dense", "Inception"]


# ---------------------------------------------------------------- tables and volumes


def test_main_rows_and_parameters_by_type_on_lenet():
    rows = shape_table(architectures.lenet5(), (1, 1, 28, 28))
    assert [r.type for r in av.main_rows(rows)] == ["Conv2d", "MaxPool2d", "Conv2d", "MaxPool2d", "Conv2d",
                                                   "Linear", "Linear"]
    by_type = av.parameters_by_type(rows)
    assert by_type == {"Conv2d": 156 + 2_416 + 48_120, "Linear": 10_164 + 850}
    assert sum(by_type.values()) == sum(p.numel() for p in architectures.lenet5().parameters())


def test_volumes_follow_the_shapes_and_take_names():
    rows = shape_table(architectures.lenet5(), (1, 1, 28, 28))
    vols = av.volumes(rows, (1, 1, 28, 28))
    assert [(v.channels, v.height) for v in vols] == [(1, 28), (6, 28), (6, 14), (16, 10), (16, 5), (120, 1),
                                                      (84, 0), (10, 0)]
    named = av.volumes(rows, (1, 1, 28, 28), ["C1", "S2", "C3", "S4", "C5", "F6", "out"])
    assert [v.name for v in named] == ["input", "C1", "S2", "C3", "S4", "C5", "F6", "out"]
    with pytest.raises(ValueError, match="got 2 names for 7"):
        av.volumes(rows, (1, 1, 28, 28), ["a", "b"])


def test_plot_volumes_and_parameters_on_a_meta_model():
    with torch.device("meta"):
        model = architectures.alexnet()
    fig = av.plot_volumes(model, (1, 3, 224, 224), "AlexNet")
    assert fig.axes[0].get_title() == "AlexNet"
    rows = shape_table(model, (1, 3, 224, 224))
    fig = av.plot_parameters(rows)
    bars = fig.axes[0].patches
    assert len(bars) == 8                                             # 5 conv + 3 linear layers
    assert sum(b.get_height() for b in bars) * 1e6 == pytest.approx(61_100_840)


# ---------------------------------------------------------------- the layer-stack explorer


def test_build_stack_names_channels_and_device():
    stack = av.build_stack("CCP", repeats=2, channels=8, in_channels=1)
    assert list(dict(stack.named_children())) == ["conv1", "relu1", "conv2", "relu2", "pool1",
                                                  "conv3", "relu3", "conv4", "relu4", "pool2"]
    assert [m.out_channels for m in stack if isinstance(m, nn.Conv2d)] == [8, 8, 16, 16]   # doubles after a pool
    assert next(stack.parameters()).device.type == "meta"
    real = av.build_stack("CP", repeats=2, channels=4, device="cpu")
    assert real(torch.zeros(2, 3, 16, 16)).shape == (2, 8, 4, 4)


@pytest.mark.parametrize("pattern, repeats", [("CX", 1), ("", 1), ("CP", 0)])
def test_build_stack_rejects_bad_input(pattern, repeats):
    with pytest.raises(ValueError, match="pattern|repeats"):
        av.build_stack(pattern, repeats)


@pytest.mark.parametrize("pattern, repeats, k, s, p, size", [
    ("CCP", 3, 3, 1, 1, 32), ("C", 5, 3, 2, 1, 28), ("CP", 2, 5, 1, 0, 29), ("CCP", 1, 7, 3, 2, 227)])
def test_stack_sizes_agree_with_torch(pattern, repeats, k, s, p, size):
    stack = av.build_stack(pattern, repeats, k, s, p, channels=2, device="cpu")
    sizes = [n for _, n, _ in av.stack_sizes(stack, size)]
    x, torch_sizes = torch.zeros(1, 3, size, size), []
    for layer in stack:
        x = layer(x)
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
            torch_sizes.append(x.shape[-1])
    assert sizes == torch_sizes


def test_stack_sizes_explain_flooring_and_misfits():
    notes = [note for _, _, note in av.stack_sizes(av.build_stack("C", 1, 3, 2, 1), 28)]
    assert notes == ["(28 - 3 + 2*1)/2 + 1 = 14.5, floored to 14"]
    with pytest.raises(ValueError, match="larger than the padded input"):
        av.stack_sizes(av.build_stack("C", 3, kernel_size=7, padding=0), 16)


def stack_text(fig):
    """The monospace layer table that explore_stack writes under its panels."""
    return next(t.get_text() for t in fig.texts if t.get_fontfamily() == ["monospace"])


def test_explore_stack_default_figure_and_table():
    fig = av.explore_stack()
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    volumes, receptive, costs = fig.axes
    assert volumes.get_title().startswith("pattern 'CCP' × 3")
    assert list(receptive.lines[0].get_ydata()) == [3, 5, 6, 10, 14, 16, 24, 32, 36]
    assert [b.get_height() for b in costs.patches[:3]] == [448, 2_320, 0.5]       # a pool's 0 drawn at 0.5 (log)
    text = stack_text(fig)
    assert "72,080 parameters" in text and "(1, 64, 4, 4)" in text and "sees the whole input" in text


def test_explore_stack_explains_the_sizes_torch_floors():
    text = stack_text(av.explore_stack(pattern="C", repeats=6, stride=2, input_size=28))
    assert "not whole, torch floors" in text and "14.5, floored to 14" in text


@pytest.mark.parametrize("kwargs, reason", [(dict(kernel_size=7, padding=0, input_size=16), "larger than the padded"),
                                            (dict(pattern="CQ"), "pattern must be made of")])
def test_explore_stack_explains_what_cannot_be_built(kwargs, reason):
    fig = av.explore_stack(**kwargs)
    message = fig.axes[0].texts[0].get_text()
    assert message.startswith("This stack cannot be built") and reason in message.replace("\n", " ")


# ---------------------------------------------------------------- plain vs residual


def test_plain_block_is_the_basic_block_without_the_skip():
    torch.manual_seed(0)
    basic, plain = architectures.BasicBlock(4, 4).eval(), av.PlainBlock(4, 4).eval()
    plain.load_state_dict(basic.state_dict())
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        pre = basic.bn2(basic.conv2(basic.relu(basic.bn1(basic.conv1(x)))))      # F(x)
        assert torch.allclose(basic(x), torch.relu(pre + x))
        assert torch.allclose(plain(x), torch.relu(pre))


def test_deep_digit_net_depth_shape_and_identical_start():
    plain, residual = av.deep_digit_net(9, residual=False), av.deep_digit_net(9, residual=True)
    assert av.weight_layers(plain) == av.weight_layers(residual) == 20
    assert av.weight_layers(av.deep_digit_net(3)) == 8
    a, b = plain.state_dict(), residual.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    other = av.deep_digit_net(9, residual=True, seed=1).state_dict()
    assert not torch.equal(other["0.weight"], b["0.weight"])
    assert residual(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_weight_layers_skips_projection_shortcuts():
    with torch.device("meta"):
        assert av.weight_layers(architectures.resnet18()) == 18
        assert av.weight_layers(architectures.resnet50()) == 50


@pytest.fixture(scope="module")
def digits():
    images, labels = load_mnist("train")
    return standardize(images[:1000], dtype=np.float32)[:, None], labels[:1000]


def test_train_deep_net_returns_a_history(digits):
    x, y = digits
    h = av.train_deep_net(1, residual=True, train=(x[:128], y[:128]), val=(x[128:256], y[128:256]), epochs=2)
    assert len(h.train_loss) == len(h.val_acc) == 2 and all(np.isfinite(h.train_loss))


def test_residual_trains_better_than_plain_on_a_seed_the_notebook_does_not_use(digits):
    plain = av.train_deep_net(9, residual=False, train=digits, seed=3)
    residual = av.train_deep_net(9, residual=True, train=digits, seed=3)
    assert residual.train_loss[-1] < 0.5 * plain.train_loss[-1]
    assert residual.train_acc[-1] > plain.train_acc[-1] + 0.2


# ---------------------------------------------------------------- exercises of notebook 07

EXERCISES = {ex.key: ex for ex in nb07.EXERCISES}


def test_there_are_four_exercises_with_notebook_keys():
    assert sorted(EXERCISES) == ["07.dense_block_channels", "07.fc_as_conv_outputs", "07.residual_block",
                                 "07.vgg_stack_params"]


@pytest.mark.parametrize("key", sorted(EXERCISES))
def test_reference_passes_its_own_check(key):
    assert "correct" in run_check(EXERCISES[key], EXERCISES[key].reference)


def test_known_values_of_the_references():
    assert list(nb07._stack_reference(3, 10)) == [2_700, 4_900]                 # 27 C^2 vs 49 C^2
    assert list(nb07._stack_reference(2, 10)) == [1_800, 2_500]                 # 18 C^2 vs 25 C^2
    assert [nb07._fc_as_conv_reference(s) for s in (224, 256, 384, 255)] == [1, 4, 36, 1]
    assert list(nb07._dense_reference(64, 32, 6)) == [64, 96, 128, 160, 192, 224, 256]


WRONG = [
    ("07.vgg_stack_params", lambda L, C: [9 * L * C, (2 * L + 1) ** 2 * C], "differ"),          # C, not C^2
    ("07.residual_block",                                                                   # no last ReLU
     lambda x, w1, w2: sf.conv2d(sf.relu(sf.conv2d(x, w1, padding=1)), w2, padding=1) + x, "differ"),
    ("07.residual_block",                                                                   # forgot the skip
     lambda x, w1, w2: sf.relu(sf.conv2d(sf.relu(sf.conv2d(x, w1, padding=1)), w2, padding=1)), "differ"),
    ("07.dense_block_channels", lambda c, k, L: [c + i * k for i in range(1, L + 2)], "differ"),  # off by one
    ("07.dense_block_channels", lambda c, k, L: [c + i * k for i in range(L)], "shape"),          # no output
]


@pytest.mark.parametrize("key, answer, message", WRONG)
def test_plausible_wrong_answers_fail_with_a_hint(key, answer, message):
    with pytest.raises(ExerciseFailed, match=message) as info:
        run_check(EXERCISES[key], answer)
    assert "Hint:" in str(info.value)


def test_fc_as_conv_without_the_floor_is_caught():
    ex = EXERCISES["07.fc_as_conv_outputs"]
    with pytest.raises(ExerciseFailed, match="Hint: After the pools"):
        for _ in range(5):                                   # inputs are random: half are not multiples of 32
            run_check(ex, lambda size: ((size - 224) / 32 + 1) ** 2)


def test_stub_is_not_attempted_yet():
    def stub(*args):
        raise NotImplementedError
    with pytest.raises(ExerciseFailed, match="not attempted yet"):
        run_check(EXERCISES["07.residual_block"], stub)
