"""Notebook 12's helpers (course_lib/lessons/nb12_gpus_and_scale.py): the step counts, the results file's header
and rows, the memory of the two models against memory.largest_batch, the layout picture against torch's strides,
the number formats, the data pipelines, the torchrun launcher and the figures."""
import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from course_lib import memory, models, throughput
from course_lib.lessons import nb12_gpus_and_scale as nb12


def test_the_decks_speedup_is_11_69():
    assert round(nb12.deck_speedup(), 2) == 11.69


def test_a_step_has_the_same_operations_at_every_batch_and_flops_that_grow_with_it():
    one = nb12.step_counts(models.lenet5(backend="torch"), 1)
    eight = nb12.step_counts(models.lenet5(backend="torch"), 8)
    assert one.operations == eight.operations == 41
    assert eight.flops == 8 * one.flops and one.flops_per_operation == one.flops / 41


def test_the_operation_counter_leaves_out_views_and_counts_what_computes():
    """A linear layer's step: addmm forward, one matrix product backward (2 FLOPs a multiply-add); a
    Flatten in front is a view and adds no operation."""
    plain = nb12.step_counts(nn.Sequential(nn.Linear(4, 10)), 2, (4,))
    viewed = nb12.step_counts(nn.Sequential(nn.Flatten(), nn.Linear(4, 10)), 2, (2, 2))
    assert plain.operations == viewed.operations
    assert plain.flops == 2 * (2 * 2 * 4 * 10)       # forward and the weight gradient (the input needs none)


def _record(rows):
    return {"gpu": "Test GPU", "device": "cuda (Test GPU)", "torch": torch.__version__, "cuda": "12.9",
            "script": "benchmarks/gpu_check.py", "created": "2026-12-01T00:00:00+00:00", "rows": rows}


def test_results_header_names_the_gpu_or_says_none_measured():
    assert "still to be measured" in nb12.results_header(None) and "make gpu-check" in nb12.results_header(None)
    header = nb12.results_header(_record([]))
    assert "Test GPU" in header and torch.__version__ in header and "benchmarks/gpu_check.py" in header


def test_rows_where_treats_a_missing_option_as_its_default():
    rows = [{"model": "LeNet-5", "mode": "eager", "batch_size": 64, "device": "cuda", "images_per_second": 1.0},
            {"model": "LeNet-5", "mode": "eager", "batch_size": 64, "device": "cuda", "images_per_second": 2.0,
             "autocast": "bf16", "channels_last": True}]
    record = _record(rows)
    assert nb12.rows_where(record, autocast=None, channels_last=False) == rows[:1]
    assert nb12.rows_where(record, autocast="bf16") == rows[1:]
    assert nb12.rows_where(None, mode="eager") == []


def test_the_rows_of_a_real_results_file_plot(tmp_path):
    rows = throughput.throughput_curve(lambda: models.lenet5(backend="torch"), (2, 4), "cpu", name="LeNet-5",
                                       steps=1, warmup=1)
    throughput.save_results(rows, tmp_path / "r.json", script="test")
    record = throughput.load_results(tmp_path / "r.json")
    assert isinstance(nb12.throughput_figure(nb12.rows_where(record, mode="eager"), "t"), Figure)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_memory_at_scales_the_activations_and_largest_batches_agree_with_the_library(optimizer):
    name = "LeNet-5, 28×28 digits"
    one, many = nb12.memory_at(name, 1, optimizer), nb12.memory_at(name, 37, optimizer)
    assert many.activations == 37 * one.activations and many.weights == one.weights
    assert many == memory.training_memory(models.lenet5(backend="torch"), (37, 1, 28, 28), optimizer)
    for gpu, batch in nb12.largest_batches(name, optimizer).items():
        assert batch == memory.largest_batch(models.lenet5(backend="torch"), (1, 28, 28), nb12.GPU_BUDGETS[gpu],
                                             optimizer)


def test_memory_figure_says_where_it_fits():
    fig = nb12.memory_figure("LeNet-5, 28×28 digits", 64, "sgd")
    assert "fits GTX 480" in fig.axes[0].get_title()
    title = nb12.memory_figure("ResNet-18, 224×224 colour", 4096, "adam").axes[0].get_title()
    assert "does not fit an 80 GiB GPU" in title


def test_layout_figure_puts_each_number_at_its_torch_offset():
    fig = nb12.layout_figure(channels=2, height=2, width=2)
    for ax, fmt in zip(fig.axes, (torch.contiguous_format, torch.channels_last)):
        strides = torch.zeros(1, 2, 2, 2).contiguous(memory_format=fmt).stride()
        for text in ax.texts:
            c, h, w = map(int, text.get_text().split(","))
            assert math.floor(text.get_position()[0]) == c * strides[1] + h * strides[2] + w * strides[3]


def test_number_formats_are_torchs():
    rows = {row[0]: row for row in nb12.number_formats()}
    assert rows["float32"][1:4] == [32, 8, 23] and rows["bfloat16"][1:4] == [16, 8, 7]
    assert rows["float16"][1:4] == [16, 5, 10] and rows["float16"][5] == "6.55e+04"
    assert len(nb12.FORMAT_HEADERS) == len(rows["float32"])


def test_accuracy_in_a_low_precision_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    model = models.lenet5(backend="torch")
    x = np.random.default_rng(0).random((20, 1, 28, 28), dtype=np.float32)
    y = np.arange(20) % 10
    acc, predictions = nb12.accuracy_in(model, x, y, torch.bfloat16)
    assert next(model.parameters()).dtype == torch.float32 and predictions.shape == (20,)
    assert acc == (predictions == y).mean()


@pytest.mark.parametrize("epoch", [lambda x, y: nb12.resident_epoch(x, y, 16),
                                   lambda x, y: nb12.loader_epoch(x, y, 16)], ids=["resident", "loader"])
def test_both_pipelines_give_every_example_once_an_epoch(epoch):
    x, y = torch.arange(50.0).reshape(50, 1), torch.arange(50)
    batches = list(epoch(x, y))
    seen = torch.cat([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(50)) and [len(b) for _, b in batches] == [16, 16, 16, 2]
    assert all(torch.equal(xb[:, 0].long(), yb) for xb, yb in batches)            # images stay with their labels
    assert nb12.epoch_images_per_second(epoch(x, y)) > 0


def test_launch_runs_a_script_on_two_processes_and_reports_a_failure(tmp_path):
    script = tmp_path / "rank.py"
    script.write_text("import os, sys\nopen(sys.argv[1] + os.environ['RANK'], 'w').write(os.environ['WORLD_SIZE'])\n")
    nb12.launch(script, 2, str(tmp_path / "out"))
    assert [(tmp_path / f"out{r}").read_text() for r in (0, 1)] == ["2", "2"]
    script.write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(RuntimeError, match="exited 1"):
        nb12.launch(script, 1)


def test_loss_curves_figure_draws_one_line_a_run():
    fig = nb12.loss_curves_figure({"a": [3.0, 2.0], "b": [3.0, 2.0]})
    assert len(fig.axes[0].lines) == 2 and isinstance(fig, Figure)
