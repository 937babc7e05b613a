"""make gpu-check: the course on a CUDA GPU -- every parity test on CUDA, then the training-throughput table.

    python benchmarks/gpu_check.py                 # what make gpu-check runs
    python benchmarks/gpu_check.py --no-tests      # the table only
    python benchmarks/gpu_check.py --output PATH   # write the results somewhere else than data/gpu_results.json

On a machine with a CUDA GPU:
1. ``pytest -k cuda tests``: the tests parametrised over the ``device`` fixture of tests/conftest.py run on
   'cuda' (scratch against torch, models and layers); a failure here fails the command;
2. training images/s (``course_lib.throughput``), the rows notebook 12 shows (``CASES``): LeNet-5 (28 x 28) and
   ResNet-18 (224 x 224) as the batch grows, eager, on the GPU and on this machine's CPU; both at batch 64 in eager
   mode, replayed from a CUDA graph and under ``torch.compile(mode="reduce-overhead")``; ResNet-18 at batch 64 in
   float32, bf16 and fp16 autocast, NCHW and channels_last;
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
from typing import NamedTuple, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torchvision  # noqa: E402

from course_lib import models, throughput  # noqa: E402

SCRIPT = "benchmarks/gpu_check.py"
LENET = ("LeNet-5", (1, 28, 28))
RESNET = ("ResNet-18", (3, 224, 224))


class Case(NamedTuple):
    """One line of measurements: a model at some batch sizes, on a device, in a mode, with these options."""
    model: tuple[str, tuple[int, ...]]
    batch_sizes: tuple[int, ...]
    device: str = "cuda"
    mode: str = "eager"
    autocast: Optional[str] = None
    channels_last: bool = False


CASES = (
    Case(LENET, (16, 64, 256, 1024, 4096)),                       # the curve: work per launch grows with the batch
    Case(LENET, (16, 64, 256), device="cpu"),
    Case(RESNET, (8, 32, 64, 128)),
    Case(RESNET, (8, 32), device="cpu"),
    *(Case(m, (64,), mode=mode) for m in (LENET, RESNET) for mode in ("cuda_graph", "compile")),   # launch overhead
    *(Case(RESNET, (64,), autocast=a, channels_last=c) for a in (None, "bf16", "fp16") for c in (False, True)
      if a or c),                                                 # mixed precision and layout (eager fp32 NCHW above)
)
BUILDERS = {"LeNet-5": lambda: models.lenet5(backend="torch"),
            "ResNet-18": lambda: torchvision.models.resnet18(num_classes=10)}


def no_gpu_message() -> str:
    return ("gpu-check: no CUDA GPU here (torch.cuda.is_available() is False, torch "
            f"{torch.__version__}, built for CUDA {torch.version.cuda}).\n"
            "gpu-check: nothing was checked on a GPU; run `make gpu-check` on a machine with an NVIDIA GPU.")


def run_cuda_tests() -> int:
    """The CUDA half of every device-parametrised test; returns pytest's exit code."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "cuda", "tests"]
    print("gpu-check:", " ".join(command[2:]), flush=True)
    return subprocess.call(command, cwd=ROOT)


def measure(steps: int, warmup: int) -> tuple[list[dict], list[str]]:
    """The throughput rows of every case, and one line for each case that failed (the others still run)."""
    rows, failures = [], []
    for case in CASES:
        (name, image_shape), cpu = case.model, case.device == "cpu"
        options = dict(steps=max(2, steps // 20) if cpu else steps, warmup=2 if cpu else warmup,
                       image_shape=image_shape, autocast=case.autocast, channels_last=case.channels_last)
        try:
            new = throughput.throughput_curve(BUILDERS[name], case.batch_sizes, case.device, modes=(case.mode,),
                                              name=name, **options)
        except Exception as e:
            failures.append(f"{name} {case}: {type(e).__name__}: {e}")
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
