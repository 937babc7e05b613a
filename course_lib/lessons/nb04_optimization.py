"""2-D loss surfaces, optimiser races and the widget callback of notebook 04 (optimisation).

    from course_lib.lessons import nb04_optimization as ov
    path = ov.run_scratch(ov.SURFACES["ravine"], "Momentum", lr=0.02, start=(-9, 2), steps=50)   # (51, 2)
    same = ov.run_torch(ov.SURFACES["ravine"], "Momentum", lr=0.02, start=(-9, 2), steps=50)     # torch.optim
    ov.plot_race(ov.SURFACES["ravine"], {"Momentum": path})                                        # over contours
    ov.explore_optimizer("ravine", "Adam", lr=0.3, x0=-9, y0=2)                                     # widget figure
    ov.tail_rate(ov.quadratic_distances((100, 1), lr=2 / 101, momentum=0.0, steps=200))               # 99/101
    test = ov.lr_range_test(model, loss_fn, optimizer, (x, y), steps=100); test.suggestion()       # on fit

A point (x, y) is the only ``Parameter`` (2,) of a tiny model (``PointModel``) and the surface is its loss
(``SurfaceLoss``), so the course's one loop, ``training.fit``, moves it with the optimisers of
``course_lib.scratch.optim`` exactly as it moves a network's weights; the torch side makes the point one
float64 ``nn.Parameter`` and lets autograd differentiate the same formula. Everything else is NumPy and
matplotlib, quick enough for a widget callback (well under 0.3 s).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import scratch
from ..models import optim_namespace
from ..plots import finish
from ..training import Callback, evaluate, fit, full_batches, train_steps

# ---------------------------------------------------------------- surfaces


@dataclass(frozen=True)
class Surface:
    """A loss f(x, y) on the plane, with its gradient and what a picture of it needs.

    f: works on NumPy arrays AND torch tensors of any (same) shape (only +, -, *, ** are used);
    grad: (2,) point -> (2,) gradient [df/dx, df/dy]; minima: the (k, 2) points to mark.
    """

    name: str
    formula: str
    f: Callable
    grad: Callable[[np.ndarray], np.ndarray]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    lrs: Mapping[str, float]          # a learning rate that works for each optimiser (the race's default)
    steps: int = 50

    def __call__(self, x, y):
        return self.f(x, y)


def _ravine(x, y):
    return 0.5 * (x ** 2 + 100.0 * y ** 2)


def _ravine_grad(p: np.ndarray) -> np.ndarray:
    return np.array([p[0], 100.0 * p[1]])


def _saddle(x, y):
    return x ** 2 + 0.25 * (y ** 2 - 1.0) ** 2


def _saddle_grad(p: np.ndarray) -> np.ndarray:
    return np.array([2.0 * p[0], p[1] * (p[1] ** 2 - 1.0)])


def _rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def _rosenbrock_grad(p: np.ndarray) -> np.ndarray:
    x, y = p
    return np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x ** 2), 200.0 * (y - x ** 2)])


SURFACES: dict[str, Surface] = {
    "ravine": Surface(
        "ravine", r"$f = \frac{1}{2}(x^2 + 100\,y^2)$", _ravine, _ravine_grad,
        xlim=(-10.0, 2.0), ylim=(-2.0, 2.0), start=(-9.0, 1.5), minima=((0.0, 0.0),),
        lrs={"SGD": 0.018, "Momentum": 0.005, "Nesterov": 0.005, "Adagrad": 1.0, "RMSprop": 0.1, "Adam": 0.3},
        steps=100,
    ),
    "saddle": Surface(
        "saddle", r"$f = x^2 + \frac{1}{4}(y^2 - 1)^2$", _saddle, _saddle_grad,
        xlim=(-2.0, 2.0), ylim=(-1.6, 1.6), start=(1.8, 1e-3), minima=((0.0, 1.0), (0.0, -1.0)),
        lrs={"SGD": 0.1, "Momentum": 0.05, "Nesterov": 0.05, "Adagrad": 0.5, "RMSprop": 0.05, "Adam": 0.1},
    ),
    "rosenbrock": Surface(
        "rosenbrock", r"$f = (1 - x)^2 + 100\,(y - x^2)^2$", _rosenbrock, _rosenbrock_grad,
        xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), start=(-1.2, 1.0), minima=((1.0, 1.0),),
        lrs={"SGD": 0.002, "Momentum": 0.001, "Nesterov": 0.001, "Adagrad": 0.5, "RMSprop": 0.01, "Adam": 0.2},
        steps=500,
    ),
}

# ---------------------------------------------------------------- optimisers

OPTIMIZERS: tuple[str, ...] = ("SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam")
_RECIPES: dict[str, tuple[str, dict]] = {       # name -> (class name in both libraries, extra arguments)
    "SGD": ("SGD", {}),
    "Momentum": ("SGD", {"momentum": 0.9}),
    "Nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "Adagrad": ("Adagrad", {}),
    "RMSprop": ("RMSprop", {}),
    "Adam": ("Adam", {}),
}


def make_optimizer(name: str, params, lr: float, backend: str = "scratch"):
    """``scratch.optim.<Class>(params, lr, ...)`` or ``torch.optim.<Class>(...)`` for one of OPTIMIZERS.

    "Momentum" is SGD(momentum=0.9), "Nesterov" SGD(momentum=0.9, nesterov=True); the others use defaults.
    """
    if name not in _RECIPES:
        raise ValueError(f"unknown optimiser {name!r}; choose one of {OPTIMIZERS}.")
    cls_name, extra = _RECIPES[name]
    return getattr(optim_namespace(backend), cls_name)(params, lr=lr, **extra)


class PointModel(scratch.Module):
    """A point w (its only Parameter, shape (d,)) as a scratch model, so that ``training.fit`` can move it.

    forward(x) ignores x and returns w as one row (1, d); backward(grad (1, d)) stores the row in w.grad.
    """

    def __init__(self, start: Sequence[float]) -> None:
        super().__init__()
        self.point = scratch.Parameter(np.array(start, dtype=np.float64))

    def forward(self, x):
        return self.point.data[None, :].copy()

    def backward(self, grad_output):
        self.point.grad = np.array(grad_output[0], dtype=np.float64)

    def position(self) -> np.ndarray:
        return self.point.data.copy()


class SurfaceLoss:
    """A function of the point as a scratch loss: loss(w_row (1, d), target ignored) = f(w_1, ..., w_d);
    backward() = grad(w) as a row (1, d). ``SurfaceLoss(surface.f, surface.grad)`` for a Surface."""

    def __init__(self, f: Callable[..., float], grad: Callable[[np.ndarray], np.ndarray]) -> None:
        self.f, self.grad = f, grad

    def __call__(self, scores, target):
        self.row = scores
        return float(self.f(*scores[0]))

    def backward(self):
        return self.grad(self.row[0])[None, :]


def _torch_point_model(start: Sequence[float]):
    import torch

    class TorchPointModel(torch.nn.Module):
        """PointModel in torch: the point is one float64 nn.Parameter; forward returns it as a row (1, d)."""

        def __init__(self):
            super().__init__()
            self.point = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))

        def forward(self, x):
            return self.point[None, :]

        def position(self) -> np.ndarray:
            return self.point.detach().numpy().copy()

    return TorchPointModel()


class _RecordPath(Callback):
    """The model's position before training and after every step, in ``path``."""

    def on_train_begin(self, model) -> None:
        self.path = [model.position()]

    def on_step(self, step, loss, model):
        self.path.append(model.position())


_NO_DATA = (np.zeros((1, 1)), np.zeros(1))      # one dummy example: a surface's loss does not depend on data


def _descend(model, loss_fn, optimizer, steps: int) -> np.ndarray:
    """``steps`` steps of the course's loop (``training.fit``, one full batch per step); the path (steps + 1, d)."""
    record = _RecordPath()
    fit(model, loss_fn, optimizer, _NO_DATA, epochs=1, progress=False, batches=full_batches(steps), callbacks=[record])
    return np.array(record.path)


def run_scratch(surface: Surface, optimizer: str, lr: float, start: Sequence[float] | None = None,
                steps: int | None = None) -> np.ndarray:
    """Trajectory (steps + 1, 2) of a scratch optimiser on ``surface``, trained by ``training.fit``.

    The point is the only Parameter (2,) of a PointModel; the surface is the loss (SurfaceLoss: its backward is
    grad f). Each step of the loop: forward, loss f(x, y), backward (p.grad = grad f(p)), optimizer.step().
    Row 0 is the start.
    """
    model = PointModel(surface.start if start is None else start)
    opt = make_optimizer(optimizer, model.parameters(), lr)
    return _descend(model, SurfaceLoss(surface.f, surface.grad), opt, surface.steps if steps is None else steps)


def run_torch(surface: Surface, optimizer: str, lr: float, start: Sequence[float] | None = None,
              steps: int | None = None) -> np.ndarray:
    """The same trajectory (steps + 1, 2) with ``torch.optim`` and autograd (float64) on the same formula:
    the same loop, with loss = f(x, y) computed on the torch point and ``loss.backward()``."""
    model = _torch_point_model(surface.start if start is None else start)
    opt = make_optimizer(optimizer, model.parameters(), lr, backend="torch")
    return _descend(model, lambda row, target: surface.f(row[0, 0], row[0, 1]), opt,
                    surface.steps if steps is None else steps)


def race(surface: Surface, optimizers: Sequence[str] = OPTIMIZERS, lrs: Mapping[str, float] | None = None,
         start: Sequence[float] | None = None, steps: int | None = None) -> dict[str, np.ndarray]:
    """{optimiser name: trajectory (steps + 1, 2)} for each optimiser, from the same start."""
    lrs = {**surface.lrs, **(lrs or {})}
    return {name: run_scratch(surface, name, lrs[name], start, steps) for name in optimizers}


def final_losses(surface: Surface, paths: Mapping[str, np.ndarray]) -> dict[str, float]:
    """{name: f at the last point of its trajectory}."""
    return {name: float(surface.f(*path[-1])) for name, path in paths.items()}


# ---------------------------------------------------------------- small experiments


def effective_lr_factor(momentum: float, steps: int = 200) -> float:
    """How many times larger than lr * g the SGD-with-momentum step becomes under a constant gradient g.

    The buffer b_t = m b_{t-1} + g grows to g (1 + m + m^2 + ...) = g / (1 - m): the step's factor -> 1 / (1 - m).
    Measured by running scratch.optim.SGD on one Parameter with gradient 1 for ``steps`` steps.
    """
    p = scratch.Parameter(np.zeros(1))
    opt = scratch.optim.SGD([p], lr=1.0, momentum=momentum)
    for _ in range(steps):
        before = p.data.copy()
        p.grad = np.ones(1)
        opt.step()
    return float((before - p.data)[0])


def first_steps(optimizer: str, gradients: Sequence[float], lr: float) -> np.ndarray:
    """The step sizes |w_t - w_{t-1}| of a scratch optimiser on one weight fed the given gradients in turn."""
    p = scratch.Parameter(np.zeros(1))
    opt = make_optimizer(optimizer, [p], lr)
    moves = []
    for g in gradients:
        before = p.data.copy()
        p.grad = np.array([float(g)])
        opt.step()
        moves.append(abs(float((p.data - before)[0])))
    return np.array(moves)


def lr_curve(make_scheduler: Callable, steps: int, lr: float = 0.1, backend: str = "scratch") -> np.ndarray:
    """The lr at steps 0..steps-1 of a schedule: ``make_scheduler(optimizer)`` on an SGD over one weight.

    Same code for both worlds: backend "scratch" passes a scratch.optim.SGD, "torch" a torch.optim.SGD.
    OneCycleLR may need momentum: the optimiser has momentum=0.9 so that it can cycle it.
    """
    optim = optim_namespace(backend)
    weight = scratch.Parameter(np.zeros(1)) if optim is scratch.optim else _torch_zeros(1)
    opt = optim.SGD([weight], lr=lr, momentum=0.9)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()        # (no gradient: the weight stays put; torch wants step() before scheduler.step())
        sched.step()
    return np.array(lrs)


def _torch_zeros(n: int):
    import torch

    return torch.zeros(n, requires_grad=True)


def log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """n values whose logarithm is uniform in [log low, log high]: each decade is sampled equally often."""
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def grid_count(values_per_parameter: int, n_parameters: int) -> int:
    """Number of runs of a full grid: values ** parameters (3 values: 3, 9, 27 runs for 1, 2, 3 parameters)."""
    return values_per_parameter ** n_parameters


def nesterov_lookahead(surface: Surface, lr: float, momentum: float = 0.9, start: Sequence[float] | None = None,
                       steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nesterov's momentum in its look-ahead form (Sutskever et al. 2013), from v_0 = 0:

        v_{t+1} = m v_t - lr * grad f(w_t + m v_t),    w_{t+1} = w_t + v_{t+1}.

    Returns (w, v), each (steps + 1, 2). torch's SGD(nesterov=True) moves the look-ahead point w + m v.
    """
    steps = surface.steps if steps is None else steps
    w = [np.array(surface.start if start is None else start, dtype=np.float64)]
    v = [np.zeros(2)]
    for _ in range(steps):
        v.append(momentum * v[-1] - lr * surface.grad(w[-1] + momentum * v[-1]))
        w.append(w[-1] + v[-1])
    return np.array(w), np.array(v)


# ---------------------------------------------------------------- momentum and the condition number


def quadratic_distances(curvatures: Sequence[float], lr: float, momentum: float, steps: int,
                        start: Sequence[float] | None = None) -> np.ndarray:
    """|w_t| for t = 0..steps (shape (steps + 1,)) of scratch.optim.SGD on f(w) = 1/2 sum_i curvatures[i] w_i^2,
    trained by the course's loop (a PointModel, the quadratic as its SurfaceLoss).

    The minimum is w = 0, so |w_t| is the distance to it; the start is all ones unless given.
    """
    curvatures = np.asarray(curvatures, dtype=np.float64)
    model = PointModel(np.ones(len(curvatures)) if start is None else start)
    loss = SurfaceLoss(lambda *w: 0.5 * float(np.sum(curvatures * np.square(w))), lambda w: curvatures * w)
    path = _descend(model, loss, scratch.optim.SGD(model.parameters(), lr=lr, momentum=momentum), steps)
    return np.linalg.norm(path, axis=1)


def gd_best(largest: float, smallest: float) -> tuple[float, float]:
    """(lr, rate): the fixed step 2 / (L + mu) that contracts the flattest and the steepest direction equally,
    by the factor (kappa - 1) / (kappa + 1) per step, kappa = L / mu."""
    kappa = largest / smallest
    return 2.0 / (largest + smallest), (kappa - 1.0) / (kappa + 1.0)


def heavy_ball_best(largest: float, smallest: float) -> tuple[float, float, float]:
    """(lr, momentum, rate) of Polyak's heavy ball tuned for curvatures in [mu, L], kappa = L / mu:

    lr = 4 / (sqrt L + sqrt mu)^2, momentum = ((sqrt kappa - 1) / (sqrt kappa + 1))^2,
    rate = (sqrt kappa - 1) / (sqrt kappa + 1) per step (the square root of the momentum).
    """
    root = np.sqrt(largest / smallest)
    rate = (root - 1.0) / (root + 1.0)
    return 4.0 / (np.sqrt(largest) + np.sqrt(smallest)) ** 2, rate ** 2, rate


def tail_rate(distances: np.ndarray, tail: int | None = None) -> float:
    """The measured rate per step over the last ``tail`` steps (default: the second half):
    (d_T / d_{T - tail}) ** (1 / tail), the geometric mean of the per-step ratios of distances."""
    tail = (len(distances) - 1) // 2 if tail is None else tail
    return float((distances[-1] / distances[-1 - tail]) ** (1.0 / tail))


def condition_number_rates(kappas: Sequence[float], steps: int = 300) -> dict[str, np.ndarray]:
    """For f = 1/2 (kappa w_1^2 + w_2^2) and each kappa: theory and measured tail_rate of gradient descent
    (gd_best) and of heavy-ball momentum (heavy_ball_best). Returns arrays keyed "kappa", "gd_theory",
    "gd_measured", "momentum_theory", "momentum_measured" and the distance curves "gd", "momentum" (k, steps + 1)."""
    out: dict[str, list] = {key: [] for key in ("gd_theory", "gd_measured", "momentum_theory", "momentum_measured",
                                                "gd", "momentum")}
    for kappa in kappas:
        lr, rate = gd_best(kappa, 1.0)
        out["gd"].append(quadratic_distances((kappa, 1.0), lr, 0.0, steps))
        hb_lr, hb_momentum, hb_rate = heavy_ball_best(kappa, 1.0)
        out["momentum"].append(quadratic_distances((kappa, 1.0), hb_lr, hb_momentum, steps))
        out["gd_theory"].append(rate)
        out["momentum_theory"].append(hb_rate)
        out["gd_measured"].append(tail_rate(out["gd"][-1]))
        out["momentum_measured"].append(tail_rate(out["momentum"][-1]))
    return {"kappa": np.asarray(kappas, dtype=np.float64), **{key: np.array(v) for key, v in out.items()}}


# ---------------------------------------------------------------- the learning-rate range test


def range_test_lrs(start_lr: float, end_lr: float, steps: int) -> np.ndarray:
    """The range test's schedule: lr_k = start_lr * (end_lr / start_lr) ** (k / (steps - 1)), k = 0..steps-1,
    rising by the same factor every step (exponentially), from start_lr to end_lr."""
    if not 0 < start_lr < end_lr or steps < 2:
        raise ValueError(f"range_test_lrs needs 0 < start_lr < end_lr and steps >= 2, got start_lr={start_lr}, "
                         f"end_lr={end_lr}, steps={steps}.")
    return start_lr * (end_lr / start_lr) ** (np.arange(steps) / (steps - 1))


class LRRangeTest(Callback):
    """A learning-rate range test as a callback of ``training.fit``: step k trains with ``range_test_lrs``'s
    lr_k, and the test stops once the smoothed loss exceeds ``blowup`` times its lowest value (or after
    ``steps`` steps).

    smoothed_k = a_k / (1 - beta^k), a_k = beta a_{k-1} + (1 - beta) loss_k: a moving average of the
    mini-batch losses, debiased like Adam's (a_0 = 0). After training: ``lrs``, ``losses``, ``smoothed``
    (lists, one entry per step taken) and ``suggestion()``.
    """

    def __init__(self, optimizer, start_lr: float = 1e-5, end_lr: float = 10.0, steps: int = 100,
                 beta: float = 0.9, blowup: float = 4.0) -> None:
        self.optimizer, self.schedule = optimizer, range_test_lrs(start_lr, end_lr, steps)
        self.beta, self.blowup = beta, blowup
        self.lrs, self.losses, self.smoothed, self._average = [], [], [], 0.0

    def _set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = float(lr)

    def on_train_begin(self, model) -> None:
        self._set_lr(self.schedule[0])

    def on_step(self, step, loss, model):
        self.lrs.append(float(self.schedule[step - 1]))
        self.losses.append(float(loss))
        self._average = self.beta * self._average + (1.0 - self.beta) * float(loss)
        self.smoothed.append(self._average / (1.0 - self.beta ** step))
        if step >= len(self.schedule) or not self.smoothed[-1] <= self.blowup * min(self.smoothed):
            return True
        self._set_lr(self.schedule[step])
        return None

    def suggestion(self) -> float:
        """A tenth of the lr at which the smoothed loss was lowest: that lr is already at the edge of
        instability (the loss turns up right after it); one decade below is where the loss was still falling fast."""
        return self.lrs[int(np.argmin(self.smoothed))] / 10.0


def lr_range_test(model, loss_fn, optimizer, train, start_lr: float = 1e-5, end_lr: float = 10.0,
                  steps: int = 100, batch_size: int = 32, seed: int = 0) -> LRRangeTest:
    """Run an LRRangeTest on ``model`` (scratch or torch) with the course's loop: ``training.train_steps``
    on ``steps`` random mini-batches of train = (x, y). Returns the finished LRRangeTest."""
    test = LRRangeTest(optimizer, start_lr, end_lr, steps)
    train_steps(model, loss_fn, optimizer, train, steps, batch_size=batch_size, seed=seed, callbacks=[test])
    return test


class EpochLoss(Callback):
    """Records the loss of the model on all of (x, y) after every epoch, in ``losses`` (e.g. the whole training set)."""

    def __init__(self, loss_fn, x, y) -> None:
        self.loss_fn, self.x, self.y, self.losses = loss_fn, x, y, []

    def on_epoch_end(self, epoch, history, model):
        self.losses.append(evaluate(model, self.loss_fn, self.x, self.y)[0])


# ---------------------------------------------------------------- pictures

_COLOURS: dict[str, str] = {"SGD": "#444444", "Momentum": "#dd8452", "Nesterov": "#c44e52",
                            "Adagrad": "#55a868", "RMSprop": "#8172b3", "Adam": "#4c72b0"}


def draw_surface(ax, surface: Surface, resolution: int = 160) -> None:
    """On ``ax``: filled log-spaced contours of f over the surface's box, its minima as stars."""
    xs = np.linspace(*surface.xlim, resolution)
    ys = np.linspace(*surface.ylim, resolution)
    X, Y = np.meshgrid(xs, ys)
    Z = surface.f(X, Y)
    Z = Z - Z.min() + 1e-3
    levels = np.geomspace(Z.min(), Z.max(), 25)
    ax.contourf(X, Y, Z, levels=levels, cmap="Greys_r", norm=plt.matplotlib.colors.LogNorm(), alpha=0.55)
    ax.contour(X, Y, Z, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    for m in surface.minima:
        ax.plot(*m, marker="*", color="gold", markersize=14, markeredgecolor="k", zorder=5)
    ax.set(xlim=surface.xlim, ylim=surface.ylim, xlabel="x", ylabel="y")
    ax.set_title(f"{surface.name}: {surface.formula}", fontsize=10)


def draw_paths(ax, surface: Surface, paths: Mapping[str, np.ndarray], lrs: Mapping[str, float] | None = None) -> None:
    """On ``ax``: trajectories (each (T, 2)) over the contours of ``surface``."""
    draw_surface(ax, surface)
    for name, path in paths.items():
        label = f"{name} (lr {lrs[name]:g})" if lrs and name in lrs else name
        clipped = np.clip(path, [surface.xlim[0] - 1, surface.ylim[0] - 1], [surface.xlim[1] + 1, surface.ylim[1] + 1])
        ax.plot(clipped[:, 0], clipped[:, 1], "o-", color=_COLOURS.get(name), markersize=2.5, linewidth=1.3,
                label=label)
    if paths:
        ax.plot(*next(iter(paths.values()))[0], "ks", markersize=6, label="start")
    ax.legend(fontsize=7, loc="lower right")


def plot_race(surface: Surface, paths: Mapping[str, np.ndarray], lrs: Mapping[str, float] | None = None,
              title: str | None = None) -> Figure:
    """Two panels: the trajectories over the contours, and f along each trajectory (log scale). Returns the Figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    draw_paths(left, surface, paths, lrs={**surface.lrs, **(lrs or {})})
    floor = min(float(np.min(surface.f(p[:, 0], p[:, 1]))) for p in paths.values())
    for name, path in paths.items():
        right.plot(surface.f(path[:, 0], path[:, 1]) - min(floor, 0) + 1e-12, color=_COLOURS.get(name), label=name)
    right.set(yscale="log", xlabel="step", ylabel="f(x, y)" + (" - min" if floor < 0 else ""),
              title="loss along the way")
    right.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.84 if title else 0.9, wspace=0.25)  # (no tight_layout: slow)
    plt.close(fig)
    return fig


def plot_race_grid(names: Sequence[str] = ("ravine", "saddle", "rosenbrock"),
                   optimizers: Sequence[str] = OPTIMIZERS,
                   paths: Mapping[str, Mapping[str, np.ndarray]] | None = None) -> Figure:
    """One panel per surface, every optimiser raced from the surface's start with its default lr
    (or the races already run: paths = {surface name: race(...)}). Returns the Figure."""
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4.2))
    for ax, name in zip(np.atleast_1d(axes), names):
        surface = SURFACES[name]
        draw_paths(ax, surface, race(surface, optimizers) if paths is None else paths[name], lrs=surface.lrs)
    return finish(fig)


def explore_optimizer(surface: str = "ravine", optimizer: str = "Adam", lr: float = 0.5,
                      x0: float | None = None, y0: float | None = None, steps: int | None = None,
                      compare_sgd: bool = True) -> Figure:
    """The widget's figure: one optimiser's trajectory (plus plain SGD at its default lr, for reference).

    surface: a key of SURFACES; optimizer: one of OPTIMIZERS; (x0, y0): the start (None: the surface's).
    Returns the Figure (plot_race's two panels).
    """
    s = SURFACES[surface]
    start = (s.start[0] if x0 is None else x0, s.start[1] if y0 is None else y0)
    steps = s.steps if steps is None else steps
    lrs = {optimizer: lr}
    with np.errstate(over="ignore", invalid="ignore"):      # a large lr diverges: the picture shows it, no warnings
        paths = {optimizer: run_scratch(s, optimizer, lr, start, steps)}
        if compare_sgd and optimizer != "SGD":
            paths["SGD"] = run_scratch(s, "SGD", s.lrs["SGD"], start, steps)
            lrs["SGD"] = s.lrs["SGD"]
        final = float(s.f(*paths[optimizer][-1]))
        return plot_race(s, paths, lrs, title=f"{optimizer}, lr = {lr:g}, start ({start[0]:g}, {start[1]:g}), "
                                              f"{steps} steps; final f = {final:.3g}")


def plot_lr_curves(curves: Mapping[str, np.ndarray]) -> Figure:
    """Learning rate against step, one line per schedule. Returns the Figure."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for name, lrs in curves.items():
        ax.plot(lrs, label=name)
    ax.set(xlabel="step (scheduler.step() calls)", ylabel="learning rate", title="learning-rate schedules")
    ax.legend(fontsize=8)
    return finish(fig)


def plot_search(grid: Sequence[dict], random: Sequence[dict]) -> Figure:
    """Grid vs random search: every trial at (lr, weight decay), coloured by validation accuracy,
    and validation accuracy against lr (the important parameter). Trials are dicts with "lr", "wd", "val_acc".
    Returns the Figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    accs = [t["val_acc"] for t in list(grid) + list(random)]
    for trials, marker, name in ((grid, "s", "grid"), (random, "o", "random")):
        sc = left.scatter([t["lr"] for t in trials], [t["wd"] for t in trials], c=[t["val_acc"] for t in trials],
                          marker=marker, s=90, cmap="viridis", vmin=min(accs), vmax=max(accs), edgecolors="k", label=name)
        right.scatter([t["lr"] for t in trials], [t["val_acc"] for t in trials], marker=marker, s=50, label=name)
    fig.colorbar(sc, ax=left, label="validation accuracy")
    left.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="weight decay", title="where the trials went")
    right.set(xscale="log", xlabel="learning rate", ylabel="validation accuracy", title="accuracy against lr")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    return finish(fig)


def plot_condition_number(rates: Mapping[str, np.ndarray]) -> Figure:
    """Two panels from ``condition_number_rates``: the distance to the minimum against the step (log scale) for
    gradient descent (solid) and heavy-ball momentum (dashed) at each kappa, and the rate per step against kappa,
    theory as lines and measured as points. Returns the Figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, kappa in enumerate(rates["kappa"]):
        colour = f"C{i}"
        left.semilogy(rates["gd"][i], "-", color=colour, label=f"GD, kappa = {kappa:g}")
        left.semilogy(rates["momentum"][i], "--", color=colour, label=f"momentum, kappa = {kappa:g}")
    left.set(xlabel="step t", ylabel="|w_t - w*|", title="distance to the minimum")
    left.legend(fontsize=7)
    kappas = np.geomspace(rates["kappa"].min(), rates["kappa"].max(), 100)
    right.semilogx(kappas, (kappas - 1) / (kappas + 1), "k-", label="GD theory (kappa-1)/(kappa+1)")
    right.semilogx(kappas, (np.sqrt(kappas) - 1) / (np.sqrt(kappas) + 1), "k--",
                   label="momentum theory (sqrt kappa-1)/(sqrt kappa+1)")
    right.semilogx(rates["kappa"], rates["gd_measured"], "o", color="C3", label="GD measured")
    right.semilogx(rates["kappa"], rates["momentum_measured"], "s", color="C2", label="momentum measured")
    right.set(xlabel="condition number kappa", ylabel="rate per step", title="convergence rate")
    right.legend(fontsize=7)
    return finish(fig)


def plot_lr_range_test(tests: Mapping[str, LRRangeTest]) -> Figure:
    """The smoothed loss against the learning rate (log axis), one line per range test, with each one's
    lowest point and suggestion (a tenth of it) marked. Returns the Figure."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for i, (name, test) in enumerate(tests.items()):
        ax.semilogx(test.lrs, test.smoothed, "-" if i == 0 else "--", color=f"C{i}", label=f"{name}: smoothed loss")
        ax.semilogx(test.lrs, test.losses, ".", color=f"C{i}", alpha=0.3, markersize=3)
        lowest = int(np.argmin(test.smoothed))
        ax.plot(test.lrs[lowest], test.smoothed[lowest], "v", color=f"C{i}", markersize=8)
        ax.axvline(test.suggestion(), color=f"C{i}", linestyle=":", label=f"{name}: suggestion {test.suggestion():.2g}")
    ax.set(xlabel="learning rate (log scale)", ylabel="loss", title="learning-rate range test")
    ax.legend(fontsize=8)
    return finish(fig)
