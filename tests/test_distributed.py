"""course_lib.distributed: the arithmetic of DDP in one process, then the real thing in two (torchrun, gloo, CPU)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_lib import distributed

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ pure arithmetic


def test_effective_batch_and_linear_scaling():
    assert distributed.effective_batch(32, 2) == 64
    assert distributed.effective_batch(32, 8) == 256
    assert distributed.scaled_lr(0.1, 32, 256) == pytest.approx(0.8)
    assert distributed.scaled_lr(0.1, 256, 32) == pytest.approx(0.0125)


def test_shards_partition_the_batch_in_order():
    batch = torch.arange(12)
    shards = [distributed.shard(batch, rank, 3) for rank in range(3)]
    assert [s.tolist() for s in shards] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert torch.equal(torch.cat(shards), batch)


@pytest.mark.parametrize("call, says", [
    (lambda: distributed.shard(torch.zeros(10), 0, 3),
     ("10 examples", "3 equal shards", "10 / 3 = 3.33333", "9 or 12")),
    (lambda: distributed.shard(torch.zeros(8), 2, 2), ("rank", "0 to world_size - 1 = 1", "got 2")),
    (lambda: distributed.shard(torch.zeros(8), 0, 0), ("world_size", "number of processes", "got 0")),
    (lambda: distributed.effective_batch(32.0, 2), ("per_process", "whole number", "32.0")),
    (lambda: distributed.effective_batch(32, True), ("world_size", "got True")),
    (lambda: distributed.scaled_lr(0, 32, 64), ("base_lr", "positive")),
    (lambda: distributed.scaled_lr(0.1, 32, -64), ("batch", "got -64")),
    (lambda: distributed.average_gradients([]), ("at least one rank",)),
    (lambda: distributed.average_gradients([{"w": torch.zeros(1)}, {"v": torch.zeros(1)}]),
     ("rank 1", "['v']", "['w']", "same model")),
    (lambda: distributed.largest_difference({"w": torch.zeros(2)}, {"w": torch.zeros(3)}), ("w", "(2,)", "(3,)")),
])
def test_bad_input_is_explained(call, says):
    with pytest.raises(ValueError) as error:
        call()
    for phrase in says:
        assert phrase in str(error.value)


@pytest.fixture(scope="module")
def digits():
    """A LeNet-5 replica in float64 and one combined batch of 8 real digits."""
    x, y = distributed.digit_batches(1, 8, seed=0, device=torch.device("cpu"))[0]
    return distributed.replica(0, torch.device("cpu")), x, y


def test_averaged_shard_gradients_are_the_combined_batch_gradient(digits):
    """DDP's claim without processes: the mean of the W shards' gradients is the gradient on the whole batch."""
    model, x, y = digits
    combined = distributed.batch_gradients(model, x, y)
    for world_size in (1, 2, 4):
        averaged = distributed.average_gradients(distributed.replica_gradients(model, x, y, world_size))
        assert distributed.compare_gradients(averaged, combined, world_size) < 1e-15


@pytest.mark.parametrize("world_size, mistake, says", [
    (2, lambda grads, w: {n: sum(g[n] for g in grads) for n in grads[0]}, "summed but not divided by 2"),
    (4, lambda grads, w: {n: sum(g[n] for g in grads) for n in grads[0]}, "summed but not divided by 4"),
    (2, lambda grads, w: {n: sum(g[n] for g in grads) / w ** 2 for n in grads[0]}, "once too often"),
    (2, lambda grads, w: grads[0], "same weights"),
])
def test_a_wrong_reduction_fails_and_says_why(digits, world_size, mistake, says):
    model, x, y = digits
    combined = distributed.batch_gradients(model, x, y)
    wrong = mistake(distributed.replica_gradients(model, x, y, world_size), world_size)
    with pytest.raises(distributed.DDPMismatch, match=says):
        distributed.compare_gradients(wrong, combined, world_size)


def test_torchrun_command_is_the_public_one():
    assert distributed.torchrun_command(2, "gloo", "--steps", "3") == [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "course_lib.distributed", "--backend", "gloo", "--steps", "3"]


@pytest.mark.parametrize("argv, says", [
    (["--batch-size", "0"], "--batch-size must be a whole number >= 1 (examples a process takes each step), got 0"),
    (["--steps", "-1"], "--steps must be a whole number >= 1"),
    (["--nproc", "0"], "--nproc must be a whole number >= 1"),
    (["--backend", "mpi"], "invalid choice: 'mpi'"),
])
def test_bad_command_lines_are_refused_before_any_process_starts(argv, says, capsys):
    with pytest.raises(SystemExit) as stop:
        distributed.main(argv)
    assert stop.value.code == 2
    assert says in capsys.readouterr().err


def test_run_alone_says_how_to_launch(monkeypatch):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="(?s)RANK.*not set.*torchrun --standalone --nproc_per_node=2"):
        distributed.start("gloo")


# ------------------------------------------------------------------------------------------ two real processes


def _launch(*argv: str) -> subprocess.CompletedProcess:
    """Run a command from the repository root with one thread a process and course_lib importable."""
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _largest(stdout: str) -> float:
    last = stdout.strip().splitlines()[-1]
    assert last.startswith("largest difference "), last
    return float(last.split()[-1])


def test_torchrun_two_gloo_processes_match_one_process(tmp_path):
    """The public command: 2 processes, gloo, CPU: DDP's gradients, losses and weights equal one process's."""
    results = tmp_path / "ddp.json"
    run = _launch(sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                  "-m", "course_lib.distributed", "--backend", "gloo", "--steps", "3", "--json", str(results))
    assert run.returncode == 0, run.stdout + run.stderr
    assert _largest(run.stdout) <= 1e-6
    measured = json.loads(results.read_text())
    assert measured["world_size"] == 2 and measured["per_process_batch"] == 32 and len(measured["ddp_losses"]) == 3
    assert len(measured["gradient_differences"]) == 10           # LeNet-5: 5 layers, weight and bias
    assert measured["ddp_losses"] == pytest.approx(measured["single_losses"], abs=1e-12)


def test_forgetting_to_average_fails_with_a_reason():
    """Without torchrun (--nproc 2 spawns the processes): a hook that sums instead of averaging is caught."""
    run = _launch(sys.executable, "-m", "course_lib.distributed", "--nproc", "2", "--reduce", "sum", "--steps", "1")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "summed but not divided by 2" in run.stdout
    assert _largest(run.stdout) > 1e-3
