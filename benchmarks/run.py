"""Speed of the from-scratch NumPy code against PyTorch on the CPU, as ratios measured in one run.

    python benchmarks/run.py               # ops and MLP training steps
    python benchmarks/run.py --notebooks   # also the execution time of every notebook

ratio = scratch time / torch time (the median of several repeats), 2 threads, the same inputs and the
same weights on both sides: float64 for the MLP, float32 for convolution and pooling.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

from course_lib import scratch  # noqa: E402
from course_lib.models import mlp  # noqa: E402
from course_lib.parity import copy_torch_to_scratch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def median_time(fn, repeats: int = 15, warmup: int = 3) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mlp_cases(batch: int, sizes=(784, 256, 10)):
    """(name, scratch fn, torch fn) for the MLP's forward+backward and a full SGD training step."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((batch, 784)), rng.integers(0, 10, batch)
    torch.manual_seed(0)
    theirs = mlp(list(sizes), backend="torch").double()
    ours = mlp(list(sizes))
    copy_torch_to_scratch(theirs, ours)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    crit = scratch.CrossEntropyLoss()
    opt = scratch.optim.SGD(ours.parameters(), lr=0.01, momentum=0.9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9)

    def ours_fwd_bwd():
        ours.zero_grad()
        crit(ours(x), y)
        ours.backward(crit.backward())

    def theirs_fwd_bwd():
        theirs.zero_grad()
        TF.cross_entropy(theirs(xt), yt).backward()

    def ours_step():
        ours_fwd_bwd()
        opt.step()

    def theirs_step():
        theirs_fwd_bwd()
        opt_t.step()

    label = "-".join(map(str, sizes))
    return [(f"MLP {label} forward+backward, batch {batch}", ours_fwd_bwd, theirs_fwd_bwd),
            (f"MLP {label} SGD training step, batch {batch}", ours_step, theirs_step)]


def op_cases(batch: int = 256):
    """Single layers, forward+backward: linear, ReLU, sigmoid, softmax cross-entropy."""
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((batch, 784)), rng.standard_normal((256, 784)), rng.standard_normal(256)
    g = rng.standard_normal((batch, 256))
    s, y = rng.standard_normal((batch, 10)), rng.integers(0, 10, batch)
    F = scratch.functional
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    gt, st, yt = torch.from_numpy(g), torch.tensor(s, requires_grad=True), torch.from_numpy(y)
    ht = torch.tensor(g, requires_grad=True)

    def torch_grad(fn, *inputs, upstream=None):
        def run():
            for t in inputs:
                t.grad = None
            out = fn()
            out.backward(upstream)
        return run

    def linear_fwd_bwd():
        F.linear(x, w, b)
        F.linear_backward(g, x, w)

    return [
        (f"linear 784->256 fwd+bwd, batch {batch}", linear_fwd_bwd,
         torch_grad(lambda: TF.linear(xt, wt, bt), xt, wt, bt, upstream=gt)),
        (f"relu fwd+bwd, ({batch}, 256)",
         lambda: F.relu_backward(g, F.relu(g)),
         torch_grad(lambda: torch.relu(ht), ht, upstream=gt)),
        (f"sigmoid fwd+bwd, ({batch}, 256)",
         lambda: F.sigmoid_backward(g, F.sigmoid(g)),
         torch_grad(lambda: torch.sigmoid(ht), ht, upstream=gt)),
        (f"cross-entropy fwd+bwd, ({batch}, 10)",
         lambda: (F.cross_entropy(s, y), F.cross_entropy_backward(1.0, s, y)),
         torch_grad(lambda: TF.cross_entropy(st, yt), st)),
    ]


def layer_case(name: str, ours, theirs, x: np.ndarray):
    """(name, scratch fn, torch fn): one forward and backward pass of the same layer on the same input."""
    xt = torch.tensor(x, requires_grad=True)

    def run_ours():
        y = ours(x)
        ours.backward(np.ones_like(y))

    def run_theirs():
        xt.grad = None
        theirs.zero_grad()
        theirs(xt).sum().backward()

    return name, run_ours, run_theirs


def conv_cases():
    """Convolution and max pooling layers (scratch modules vs torch.nn), float32, forward+backward."""
    shapes = [  # name, batch, in, out, kernel, stride, padding, H
        ("LeNet conv1 1->6 5x5 p2 @28", 64, 1, 6, 5, 1, 2, 28),
        ("LeNet conv2 6->16 5x5 @14", 64, 6, 16, 5, 1, 0, 14),
        ("conv 64->64 3x3 p1 @32", 16, 64, 64, 3, 1, 1, 32),
        ("AlexNet conv1 3->96 11x11 s4 p2 @224", 4, 3, 96, 11, 4, 2, 224),
    ]
    rng = np.random.default_rng(2)
    cases = []
    for name, n, c_in, c_out, k, s, p, h in shapes:
        theirs = torch.nn.Conv2d(c_in, c_out, k, s, p)
        ours = scratch.Conv2d(c_in, c_out, k, s, p).float()
        ours.load_state_dict(theirs.state_dict())
        x = rng.standard_normal((n, c_in, h, h), dtype=np.float32)
        cases.append(layer_case(f"{name}, batch {n}, fwd+bwd", ours, theirs, x))
    x = rng.standard_normal((64, 16, 28, 28), dtype=np.float32)
    cases.append(layer_case("max pool 2x2 (64, 16, 28, 28), fwd+bwd", scratch.MaxPool2d(2), torch.nn.MaxPool2d(2), x))
    return cases


def loop_case():
    """The plain-loops convolution next to the vectorised one, on a small input (loops are slow)."""
    F = scratch.functional
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((4, 1, 28, 28)), rng.standard_normal((6, 1, 5, 5))
    return [("LeNet conv1 (1->6 5x5) on 4 digits, forward: loops vs im2col",
             lambda: F.conv2d_loops(x, w), lambda: F.conv2d(x, w))]


def notebook_times() -> list[tuple[str, float]]:
    """Seconds to execute each notebook top to bottom in a fresh kernel (needs nbclient)."""
    import nbformat
    from nbclient import NotebookClient

    rows = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        rows.append((path.name, time.perf_counter() - start))
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", action="store_true", help="also time every notebook")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    print(f"numpy {np.__version__}, torch {torch.__version__}, {torch.get_num_threads()} torch threads, float64\n")
    print(f"{'case':<52} {'scratch ms':>10} {'torch ms':>9} {'ratio':>7}")
    ratios = []
    for name, ours, theirs in op_cases() + mlp_cases(64) + mlp_cases(256):
        t_ours, t_theirs = median_time(ours), median_time(theirs)
        ratios.append(t_ours / t_theirs)
        print(f"{name:<52} {1e3 * t_ours:>10.3f} {1e3 * t_theirs:>9.3f} {ratios[-1]:>7.2f}")
    print(f"\nmedian ratio scratch/torch (MLP, float64): {statistics.median(ratios):.2f}\n")
    print(f"{'case (float32)':<52} {'scratch ms':>10} {'torch ms':>9} {'ratio':>7}")
    conv_ratios = []
    for name, ours, theirs in conv_cases():
        t_ours, t_theirs = median_time(ours, repeats=7, warmup=2), median_time(theirs, repeats=7, warmup=2)
        conv_ratios.append(t_ours / t_theirs)
        print(f"{name:<52} {1e3 * t_ours:>10.3f} {1e3 * t_theirs:>9.3f} {conv_ratios[-1]:>7.2f}")
    print(f"\nmedian ratio scratch/torch (conv and pool, float32): {statistics.median(conv_ratios):.2f}\n")
    for name, loops, fast in loop_case():
        t_loops, t_fast = median_time(loops, repeats=3, warmup=1), median_time(fast)
        print(f"{name}: {1e3 * t_loops:.1f} ms vs {1e3 * t_fast:.3f} ms, loops are {t_loops / t_fast:,.0f}x slower")
    if args.notebooks:
        print(f"\n{'notebook':<40} {'seconds':>8}")
        for name, seconds in notebook_times():
            print(f"{name:<40} {seconds:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
