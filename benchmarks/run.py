"""Speed of the from-scratch NumPy code against PyTorch on the CPU, as ratios measured in one run.

    python benchmarks/run.py               # the target table, then single ops, MLP steps, notebook 10's methods
                                           # and notebook 11's layers, loops vs im2col
    python benchmarks/run.py --notebooks   # also the execution time of every notebook
    OMP_NUM_THREADS=1 python benchmarks/run.py   # one thread on both sides (steadier on a busy machine)

ratio = scratch time / torch time, each the median of several repeats that alternate scratch and torch
(so both see the same machine load), after warm-up calls; 2 threads by default, the same inputs and the
same weights on both sides. The target table (issue 8) is forward+backward of whole modules in float32:
median ratio <= 2.0 and worst ratio <= 3.0.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

THREADS = int(os.environ.setdefault("OMP_NUM_THREADS", "2"))  # torch and NumPy's BLAS alike
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(THREADS))
os.environ.setdefault("MKL_NUM_THREADS", str(THREADS))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from course_lib import interpret, scratch  # noqa: E402
from course_lib.models import digit_cnn, mlp  # noqa: E402
from course_lib.parity import copy_torch_to_scratch  # noqa: E402
from course_lib.scratch import functional as sf  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_MEDIAN, TARGET_WORST = 2.0, 3.0


def paired_times(ours, theirs, repeats: int = 11, warmup: int = 2) -> tuple[float, float]:
    """Median seconds of ``ours()`` and of ``theirs()``, the calls alternating after ``warmup`` rounds."""
    times: tuple[list[float], list[float]] = ([], [])
    for round_ in range(warmup + repeats):
        for fn, record in ((ours, times[0]), (theirs, times[1])):
            start = time.perf_counter()
            fn()
            if round_ >= warmup:
                record.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def module_case(name: str, ours, theirs, x: np.ndarray):
    """(name, scratch fn, torch fn): one forward and backward pass of the same module on the same input."""
    xt = torch.tensor(x, requires_grad=True)

    def run_ours():
        y = ours(x)
        ours.backward(np.ones_like(y))

    def run_theirs():
        xt.grad = None
        theirs.zero_grad()
        theirs(xt).sum().backward()

    return name, run_ours, run_theirs


def target_cases():
    """The issue's cases: scratch modules vs torch.nn modules with copied weights, float32, forward+backward."""
    rng = np.random.default_rng(2)
    torch.manual_seed(2)
    convs = [  # in, out, kernel, stride, padding, input shape
        (1, 6, 5, 1, 2, (64, 1, 28, 28)),
        (6, 16, 5, 1, 0, (64, 6, 14, 14)),
        (64, 64, 3, 1, 1, (16, 64, 32, 32)),
        (3, 64, 11, 4, 2, (8, 3, 224, 224)),
    ]
    cases = []
    for c_in, c_out, k, s, p, shape in convs:
        theirs = torch.nn.Conv2d(c_in, c_out, k, s, p)
        ours = scratch.Conv2d(c_in, c_out, k, s, p).float()
        ours.load_state_dict(theirs.state_dict())
        name = f"Conv2d {c_in}->{c_out} k{k}" + (f" s{s}" if s > 1 else "") + (f" p{p}" if p else "")
        cases.append(module_case(f"{name} {shape}", ours, theirs, rng.standard_normal(shape, dtype=np.float32)))
    for k, s, shape in [(2, 2, (64, 16, 28, 28)), (3, 2, (16, 64, 55, 55))]:
        x = rng.standard_normal(shape, dtype=np.float32)
        cases.append(module_case(f"MaxPool2d {k}/{s} {shape}", scratch.MaxPool2d(k, s), torch.nn.MaxPool2d(k, s), x))
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    ours = scratch.Sequential(scratch.Linear(784, 256), scratch.ReLU(), scratch.Linear(256, 10)).float()
    ours.load_state_dict(theirs.state_dict())
    x = rng.standard_normal((128, 784), dtype=np.float32)
    cases.append(module_case("Linear-ReLU-Linear 784-256-10 (128, 784)", ours, theirs, x))
    return cases


def mlp_cases(batch: int, sizes=(784, 256, 10)):
    """(name, scratch fn, torch fn) for the MLP's forward+backward and a full SGD training step, float64."""
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
        F.cross_entropy(theirs(xt), yt).backward()

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
    """Single functions, forward+backward, float64: linear, ReLU, sigmoid, softmax cross-entropy."""
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((batch, 784)), rng.standard_normal((256, 784)), rng.standard_normal(256)
    g = rng.standard_normal((batch, 256))
    s, y = rng.standard_normal((batch, 10)), rng.integers(0, 10, batch)
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
        sf.linear(x, w, b)
        sf.linear_backward(g, x, w)

    return [
        (f"linear 784->256 fwd+bwd, batch {batch}", linear_fwd_bwd,
         torch_grad(lambda: F.linear(xt, wt, bt), xt, wt, bt, upstream=gt)),
        (f"relu fwd+bwd, ({batch}, 256)",
         lambda: sf.relu_backward(g, sf.relu(g)),
         torch_grad(lambda: torch.relu(ht), ht, upstream=gt)),
        (f"sigmoid fwd+bwd, ({batch}, 256)",
         lambda: sf.sigmoid_backward(g, sf.sigmoid(g)),
         torch_grad(lambda: torch.sigmoid(ht), ht, upstream=gt)),
        (f"cross-entropy fwd+bwd, ({batch}, 10)",
         lambda: (sf.cross_entropy(s, y), sf.cross_entropy_backward(1.0, s, y)),
         torch_grad(lambda: F.cross_entropy(st, yt), st)),
    ]


def interpret_cases(batch: int = 16):
    """Notebook 10's methods on digit_cnn (random weights copied across), float32: scratch model vs torch model."""
    rng = np.random.default_rng(4)
    torch.manual_seed(4)
    theirs = digit_cnn()
    ours = digit_cnn(backend="scratch").float()
    copy_torch_to_scratch(theirs, ours)
    x, y = rng.uniform(0, 1, (batch, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, batch)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    methods = {
        "saliency": lambda m, a, b: interpret.saliency(m, a, b),
        "Grad-CAM (relu3)": lambda m, a, b: interpret.grad_cam(m, "relu3", a, b),
        "integrated gradients, 20 steps": lambda m, a, b: interpret.integrated_gradients(m, a, b, steps=20),
        "occlusion 6x6 stride 2": lambda m, a, b: interpret.occlusion(m, a, b, window=6, stride=2),
        "FGSM": lambda m, a, b: interpret.fgsm(m, a, b, 0.1),
    }
    return [(f"{name}, digit_cnn, {batch} digits", lambda f=f: f(ours, x, y), lambda f=f: f(theirs, xt, yt))
            for name, f in methods.items()]


def resampling_cases():
    """Notebook 11's layers, forward+backward, float32: Upsample (nearest, bilinear) and cat along channels."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 16, 14, 14), dtype=np.float32)
    cases = [module_case(f"Upsample x2 {mode} (64, 16, 14, 14)", scratch.Upsample(scale_factor=2, mode=mode),
                         torch.nn.Upsample(scale_factor=2, mode=mode), x) for mode in ("nearest", "bilinear")]
    a, b = (rng.standard_normal((64, 16, 28, 28), dtype=np.float32) for _ in range(2))
    at, bt = (torch.tensor(v, requires_grad=True) for v in (a, b))
    g = np.ones((64, 32, 28, 28), dtype=np.float32)

    def ours_cat():
        sf.cat([a, b], dim=1)
        sf.cat_backward(g, [16, 16], dim=1)

    def theirs_cat():
        at.grad = bt.grad = None
        torch.cat([at, bt], dim=1).sum().backward()

    return cases + [("cat two (64, 16, 28, 28) along channels", ours_cat, theirs_cat)]


def loop_case():
    """The plain-loops convolution next to the vectorised one, on a small input (loops are slow)."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((4, 1, 28, 28)), rng.standard_normal((6, 1, 5, 5))
    return "LeNet conv1 (1->6 5x5) on 4 digits, forward", lambda: sf.conv2d_loops(x, w), lambda: sf.conv2d(x, w)


def notebook_times() -> list[tuple[str, float]]:
    """Seconds to execute each notebook top to bottom in a fresh kernel (needs nbclient)."""
    import nbformat
    from course_lib.running_notebooks import notebook_client

    rows = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        notebook_client(nb, timeout=600, kernel_name="python3", allow_errors=True,
                        resources={"metadata": {"path": str(path.parent)}}).execute()
        rows.append((path.name, time.perf_counter() - start))
    return rows


def print_table(title: str, cases, repeats: int) -> list[float]:
    """Time every (name, scratch fn, torch fn), print one row each, and return the ratios."""
    print(f"{title:<52} {'scratch ms':>10} {'torch ms':>9} {'ratio':>7}")
    ratios = []
    for name, ours, theirs in cases:
        t_ours, t_theirs = paired_times(ours, theirs, repeats)
        ratios.append(t_ours / t_theirs)
        print(f"{name:<52} {1e3 * t_ours:>10.3f} {1e3 * t_theirs:>9.3f} {ratios[-1]:>7.2f}")
    return ratios


def print_targets(ratios: list[float]) -> None:
    median, worst = statistics.median(ratios), max(ratios)
    verdict = "targets hold" if median <= TARGET_MEDIAN and worst <= TARGET_WORST else "targets MISSED"
    print(f"\nmedian ratio {median:.2f} (target <= {TARGET_MEDIAN}), worst {worst:.2f} (target <= {TARGET_WORST}): "
          f"{verdict}\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", action="store_true", help="also time every notebook")
    parser.add_argument("--repeats", type=int, default=11, help="timed repeats per case (default 11)")
    parser.add_argument("--targets-only", action="store_true", help="print the target table only")
    args = parser.parse_args(argv)
    torch.set_num_threads(THREADS)
    blas = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    print(f"numpy {np.__version__}, torch {torch.__version__}, {torch.get_num_threads()} torch threads, {blas}\n")
    print_targets(print_table("target cases, float32, forward+backward", target_cases(), args.repeats))
    if args.targets_only:
        return 0
    ratios = print_table("ops and MLP, float64", op_cases() + mlp_cases(64) + mlp_cases(256), args.repeats)
    print(f"\nmedian ratio scratch/torch (ops and MLP, float64): {statistics.median(ratios):.2f}\n")
    print_table("notebook 10's methods and notebook 11's layers, float32", interpret_cases() + resampling_cases(),
                args.repeats)
    print()
    name, loops, fast = loop_case()
    t_loops, t_fast = paired_times(loops, fast, repeats=3, warmup=1)
    print(f"{name}: loops {1e3 * t_loops:.1f} ms, im2col {1e3 * t_fast:.3f} ms, loops are {t_loops / t_fast:,.0f}x slower")
    if args.notebooks:
        print(f"\n{'notebook':<40} {'seconds':>8}")
        for name, seconds in notebook_times():
            print(f"{name:<40} {seconds:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
