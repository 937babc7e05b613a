"""make gpu-check: the course on a CUDA GPU -- every parity test on CUDA, then the training-throughput table.

    python benchmarks/gpu_check.py                 # what make gpu-check runs
    python benchmarks/gpu_check.py --no-tests      # the table only
    python benchmarks/gpu_check.py --output PATH   # write the results somewhere else than data/gpu_results.json

On a machine with a CUDA GPU:
1. ``pytest -k cuda tests``: the tests parametrised over the ``device`` fixture of tests/conftest.py run on
   'cuda' (scratch against torch, models and layers); a failure here fails the command;
2. training images/s (``course_lib.throughput``) in eager mode, replayed from a CUDA graph and under
   ``torch.compile(mode="reduce-overhead")``: LeNet-5 at batch 64 and 512, ResNet-18 (224 x 224) at batch 32;
3. the rows written with ``save_results`` to data/gpu_results.json (GPU name, torch, CUDA, this script, the time),
   the file notebook 12 reads on machines without a GPU; the table printed.

Without CUDA it says so, checks nothing and exits 0: nothing here pretends that a CPU run checked a GPU.
A mode that fails on the GPU (a capture or compile error) is reported in the table's place and makes the exit 1.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from course_lib import models, throughput  # noqa: E402

SCRIPT = "benchmarks/gpu_check.py"
MODES = ("eager", "cuda_graph", "compile")
LENET_BATCHES = (64, 512)
RESNET_BATCH = 32


def no_gpu_message() -> str:
    return ("gpu-check: no CUDA GPU here (torch.cuda.is_available() is False, torch "
            f"{torch.__version__}, built for CUDA {torch.version.cuda}).\n"
            "gpu-check: nothing was checked on a GPU; run `make gpu-check` on a machine with an NVIDIA GPU.")


def run_cuda_tests() -> int:
    """The CUDA half of every device-parametrised test; returns pytest's exit code."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "cuda", "tests"]
    print("gpu-check:", " ".join(command[2:]), flush=True)
    return subprocess.call(command, cwd=ROOT)


def lenet5():
    return models.lenet5(backend="torch")


def resnet18():
    import torchvision
    return torchvision.models.resnet18(num_classes=10)


def measure(steps: int, warmup: int) -> tuple[list[dict], list[str]]:
    """The throughput rows, and one line for each mode that failed."""
    cases = [(lenet5, "LeNet-5", LENET_BATCHES, (1, 28, 28)), (resnet18, "ResNet-18", (RESNET_BATCH,), (3, 224, 224))]
    rows, failures = [], []
    for build, name, batches, image_shape in cases:
        for mode in MODES:
            try:
                new = throughput.throughput_curve(build, batches, "cuda", modes=(mode,), name=name, steps=steps,
                                                  warmup=warmup, image_shape=image_shape)
            except Exception as e:   # report the mode that failed, keep measuring the others
                failures.append(f"{name} {mode}: {type(e).__name__}: {e}")
                print("gpu-check: FAILED", failures[-1], flush=True)
                continue
            rows += new
            print(throughput.format_rows(new), flush=True)
    return rows, failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tests", action="store_true", help="skip the CUDA parity tests")
    parser.add_argument("--output", default=str(throughput.GPU_RESULTS_PATH))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print(no_gpu_message())
        return 0
    print(f"gpu-check: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    tests = 0 if args.no_tests else run_cuda_tests()
    rows, failures = measure(args.steps, args.warmup)
    if rows:
        throughput.save_results(rows, args.output, script=SCRIPT)
        print(f"\n{throughput.format_rows(rows)}\n\ngpu-check: wrote {args.output}")
    for line in failures:
        print("gpu-check: FAILED", line)
    if tests:
        print(f"gpu-check: the CUDA tests failed (pytest exit {tests})")
    return 1 if tests or failures else 0


if __name__ == "__main__":
    sys.exit(main())
