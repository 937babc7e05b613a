"""course_lib.throughput: the training step runs in every mode this machine has, and the results file says where
its numbers came from. No test asserts a speed (speed is measured by make gpu-check and make benchmark)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_lib import models, throughput
from course_lib.throughput import images_per_second, load_results, save_results, throughput_curve

ROOT = Path(__file__).resolve().parent.parent
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")


def lenet():
    return models.lenet5(backend="torch")


@pytest.mark.parametrize("options", [{}, {"autocast": "bf16"}, {"autocast": "fp16"}, {"channels_last": True},
                                     {"dtype": torch.float64}], ids=["fp32", "bf16", "fp16", "channels_last", "fp64"])
def test_eager_on_cpu_gives_a_positive_number(options):
    speed = images_per_second(lenet(), 4, "cpu", steps=2, warmup=1, **options)
    assert isinstance(speed, float) and speed > 0


def test_the_model_passed_in_is_not_trained():
    model = lenet()
    before = [p.detach().clone() for p in model.parameters()]
    images_per_second(model, 4, "cpu", steps=2, warmup=0)
    assert all(torch.equal(a, p) for a, p in zip(before, model.parameters()))


def test_other_image_shapes_and_models():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    assert images_per_second(model, 2, "cpu", steps=1, warmup=0, image_shape=(3, 2, 2)) > 0


def test_curve_has_one_row_per_mode_and_batch():
    rows = throughput_curve(lenet, [2, 4], "cpu", name="LeNet-5", steps=1, warmup=0, dtype=torch.float32)
    assert [(r["mode"], r["batch_size"]) for r in rows] == [("eager", 2), ("eager", 4)]
    assert all(r["model"] == "LeNet-5" and r["device"] == "cpu" and r["images_per_second"] > 0 for r in rows)
    assert rows[0]["dtype"] == "float32" and rows[0]["steps"] == 1
    assert "LeNet-5" in throughput.format_rows(rows)


def test_profile_table_names_the_convolutions():
    table = throughput.profile_step(lenet(), 4, "cpu", steps=1, warmup=1, row_limit=30)
    assert "aten::convolution_backward" in table and "Self CPU time total" in table


@needs_cuda
def test_profile_on_cuda_has_gpu_times():
    assert "Self CUDA time total" in throughput.profile_step(lenet(), 64, "cuda", steps=1, warmup=1)


def _rows():
    return [{"model": "LeNet-5", "mode": "eager", "batch_size": 64, "device": "cuda", "images_per_second": 29500.0}]


def test_results_round_trip(tmp_path):
    path = tmp_path / "results.json"
    written = save_results(_rows(), path, script="benchmarks/gpu_check.py")
    loaded = load_results(path)
    assert loaded == written and loaded["rows"] == _rows()
    assert loaded["torch"] == torch.__version__ and loaded["script"] == "benchmarks/gpu_check.py"
    assert loaded["gpu"] == (torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    assert loaded["created"].endswith("+00:00")


def test_gpu_results_is_none_until_a_gpu_measured(tmp_path):
    assert throughput.gpu_results(tmp_path / "results.json") is None
    save_results(_rows(), tmp_path / "results.json", script="x")
    assert throughput.gpu_results(tmp_path / "results.json")["rows"] == _rows()
    assert throughput.GPU_RESULTS_PATH.name == "gpu_results.json"


@pytest.mark.parametrize("field", throughput.RESULT_FIELDS)
def test_a_file_without_its_provenance_is_refused(tmp_path, field):
    path = tmp_path / "results.json"
    record = save_results(_rows(), path, script="x")
    del record[field]
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=field):
        load_results(path)


def test_rows_without_a_number_are_refused(tmp_path):
    path = tmp_path / "results.json"
    record = save_results(_rows(), path, script="x")
    record["rows"][0]["images_per_second"] = -1
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="positive"):
        load_results(path)


@needs_cuda
@pytest.mark.parametrize("mode", throughput.MODES)
def test_every_mode_runs_on_cuda(mode):
    assert images_per_second(lenet(), 64, "cuda", mode=mode, steps=3, warmup=3) > 0


@needs_cuda
def test_bf16_and_channels_last_in_a_cuda_graph():
    assert images_per_second(lenet(), 64, "cuda", mode="cuda_graph", steps=2, warmup=1, autocast="bf16",
                             channels_last=True) > 0


def _sgd(model):
    return torch.optim.SGD(model.parameters(), lr=throughput.LEARNING_RATE)


@needs_cuda
def test_cuda_graph_replay_trains_like_eager_steps():
    """Three warm-up steps and five replays of the captured step = eight eager steps, weight for weight."""
    torch.manual_seed(0)
    device = torch.device("cuda")
    x, y = torch.randn(32, 1, 28, 28, device=device), torch.randint(0, 10, (32,), device=device)
    graphed, eager = lenet().to(device), lenet().to(device)
    eager.load_state_dict(graphed.state_dict())
    replay = throughput._graphed_step(throughput._Loss(graphed), _sgd(graphed), x, y, device, None, warmup=3)
    step = throughput._eager_step(throughput._Loss(eager), _sgd(eager), x, y, device, None)
    for _ in range(5):
        replay()
    for _ in range(8):
        step()
    torch.cuda.synchronize()
    for a, b in zip(graphed.parameters(), eager.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_gpu_check_without_a_gpu_says_so_and_exits_0():
    """CUDA_VISIBLE_DEVICES='' hides any GPU, so this runs (and passes) on a GPU machine too."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "benchmarks/gpu_check.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no CUDA GPU here" in done.stdout and "nothing was checked on a GPU" in done.stdout


def test_gpu_check_measures_its_cases_and_reports_a_failing_one(monkeypatch):
    """The measuring loop of make gpu-check, on CPU cases: a row per batch size with the case's options, and a
    case that fails (a CUDA graph on a CPU) reported without stopping the others."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_check
    tiny = ("LeNet-5", (1, 28, 28))
    monkeypatch.setattr(gpu_check, "CASES", (gpu_check.Case(tiny, (2, 4), device="cpu"),
                                             gpu_check.Case(tiny, (2,), device="cpu", mode="cuda_graph"),
                                             gpu_check.Case(tiny, (2,), device="cpu", channels_last=True)))
    rows, failures = gpu_check.measure(steps=1, warmup=1)
    assert [(r["batch_size"], r["channels_last"]) for r in rows] == [(2, False), (4, False), (2, True)]
    assert len(failures) == 1 and "cuda_graph" in failures[0]
    assert "fp32 NHWC" in throughput.format_rows(rows)
