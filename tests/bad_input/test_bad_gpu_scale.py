"""Bad input to notebook 12's library: throughput (course_lib.throughput) and memory (course_lib.memory). Each case
is a learner's mistake and the error that must teach (bad_input_harness); ``torch_does`` is the same mistake in
torch where torch has one."""
import json
import tempfile
from pathlib import Path

import pytest
import torch
from bad_input_harness import Bad, assert_teaches

from course_lib import memory, models, throughput


def lenet():
    return models.lenet5(backend="torch")


def speed(**options):
    return throughput.images_per_second(lenet(), **{"batch_size": 4, "device": "cpu", "steps": 1, "warmup": 0,
                                                    **options})


def _load_text(text: str):
    """load_results on a file holding ``text``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.json"
        path.write_text(text)
        return throughput.load_results(path)


ROWS = [{"model": "LeNet-5", "mode": "eager", "batch_size": 64, "device": "cuda", "images_per_second": 1e5}]


CASES = [
    # throughput
    Bad("images_per_second: batch_size=0", lambda: speed(batch_size=0), ValueError,
        says=("batch_size", ">= 1", "got 0")),
    Bad("images_per_second: batch_size=2.5", lambda: speed(batch_size=2.5), ValueError,
        says=("batch_size", "whole number", "2.5")),
    Bad("images_per_second: warmup=-1", lambda: speed(warmup=-1), ValueError, says=("warmup", ">= 0")),
    Bad("images_per_second: an unknown mode", lambda: speed(mode="fast"), ValueError,
        says=("unknown mode 'fast'", "'eager'", "'cuda_graph'", "'compile'")),
    Bad("images_per_second: a CUDA graph on the CPU", lambda: speed(mode="cuda_graph"), RuntimeError,
        says=("cuda_graph", "needs a CUDA GPU", "'cpu'", "mode='eager'")),
    Bad("images_per_second: torch.compile on the CPU", lambda: speed(mode="compile"), RuntimeError,
        says=("compile", "needs a CUDA GPU", "reduce-overhead")),
    Bad("images_per_second: autocast='fp32'", lambda: speed(autocast="fp32"), ValueError,
        says=("autocast", "'bf16'", "'fp16'", "'fp32'")),
    Bad("images_per_second: fp16 in a CUDA graph", lambda: speed(mode="cuda_graph", autocast="fp16"), ValueError,
        says=("GradScaler", "autocast='bf16'")),
    Bad("images_per_second: image_shape with the batch", lambda: speed(image_shape=0), ValueError,
        says=("image_shape", "(1, 28, 28)", "without the batch")),
    Bad("profile_step: a CUDA graph on the CPU",
        lambda: throughput.profile_step(lenet(), 4, "cpu", mode="cuda_graph"), RuntimeError,
        says=("profile_step", "needs a CUDA GPU")),
    Bad("save_results: no rows", lambda: throughput.save_results([], "unused.json", script="x"), ValueError,
        says=("no rows", "throughput_curve")),
    Bad("save_results: a row without its mode",
        lambda: throughput.save_results([{"model": "m", "batch_size": 1, "device": "cpu", "images_per_second": 1.0}],
                                        "unused.json", script="x"), ValueError, says=("mode", "lacks")),
    Bad("load_results: no file", lambda: throughput.load_results("no/such/results.json"), FileNotFoundError,
        says=("does not exist", "make gpu-check")),
    Bad("load_results: numbers without provenance", lambda: _load_text(json.dumps({"rows": ROWS})), ValueError,
        says=("lacks", "'gpu'", "'torch'", "'script'", "never by hand")),
    Bad("load_results: not JSON", lambda: _load_text("LeNet-5 at batch 64: 150000 images/s"), ValueError, says=("not JSON",)),
    # memory
    Bad("training_memory: an unknown optimizer", lambda: memory.training_memory(lenet(), (1, 1, 28, 28), "rmsprop"),
        ValueError, says=("unknown optimizer 'rmsprop'", "'sgd'", "'adam'")),
    Bad("training_memory: dtype_bytes=3", lambda: memory.training_memory(lenet(), (1, 1, 28, 28), dtype_bytes=3),
        ValueError, says=("dtype_bytes", "4 for float32", "got 3")),
    Bad("training_memory: a scratch model", lambda: memory.training_memory(models.lenet5(), (1, 1, 28, 28)),
        TypeError, says=("torch.nn.Module", "backend='torch'")),
    Bad("activation_numbers: no batch size", lambda: memory.activation_numbers(lenet(), ()), ValueError,
        says=("input_shape", "batch size", "(64, 1, 28, 28)")),
    Bad("largest_batch: the shape with its batch", lambda: memory.largest_batch(lenet(), (8, 1, 28, 28), 2**30),
        ValueError, says=("example_shape", "without the batch dimension")),
    Bad("largest_batch: a budget too small for the weights",
        lambda: memory.largest_batch(lenet(), (1, 28, 28), 1000), ValueError, says=("not even one example", "1,000 bytes", "weights")),
    Bad("largest_batch: a negative budget", lambda: memory.largest_batch(lenet(), (1, 28, 28), -1), ValueError,
        says=("budget_bytes", "positive")),
    Bad("layout_strides: a 3-D shape", lambda: memory.layout_strides((3, 4, 5)), ValueError,
        says=("(N, C, H, W)", "(2, 3, 4, 5)"),
        torch_does=lambda: torch.empty(3, 4, 5).to(memory_format=torch.channels_last)),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_teaches(case):
    assert_teaches(case)

