"""Neurons, activation functions and linear classifiers: the pictures and explorers of notebook 01.

A neuron computes  s = f(w . x + b)  (a weighted sum of its inputs plus a bias, then an activation f).
Everything here is NumPy (through ``course_lib.scratch``) and matplotlib; the notebook compares it
with PyTorch.

    from course_lib.lessons import nb01_neurons as neurons
    neurons.plot_activations()                       # f and f' of sigmoid, tanh, ReLU, leaky ReLU
    x, y = neurons.make_dataset("xor", n=200)        # a seeded 2-D toy data set
    neurons.playground("xor", hidden=8)              # train a tiny MLP, draw its decision regions
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from .. import scratch
from ..models import ACTIVATIONS, activation_layer, init_
from ..plots import finish, image_grid
from ..scratch import functional as sf
from ..training import Callback, fit, full_batches

# ======================================================================= the neuron picture


def _arrow(ax, start, end, **kw) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, lw=1.4, **kw))


def plot_neuron() -> Figure:
    """Left: a cartoon of a biological neuron (dendrites, cell body, axon). Right: the mathematical
    neuron  s = f(sum_i w_i x_i + b)  with three inputs."""
    fig, (bio, math) = plt.subplots(1, 2, figsize=(11, 3.6))
    # --- biological cartoon
    rng = np.random.default_rng(3)
    for angle in np.linspace(np.pi * 0.55, np.pi * 1.45, 5):
        tip = np.array([np.cos(angle), np.sin(angle)]) * 1.6
        bio.plot([0, tip[0]], [0, tip[1]], color="tab:brown", lw=2)
        for side in (-1, 1):
            twig = tip + 0.4 * np.array([np.cos(angle + side * 0.6), np.sin(angle + side * 0.6)])
            bio.plot([tip[0], twig[0]], [tip[1], twig[1]], color="tab:brown", lw=1)
    bio.add_patch(Circle((0, 0), 0.55, color="tab:orange", alpha=0.85))
    bio.text(0, 0, "cell\nbody", ha="center", va="center", fontsize=9)
    bio.plot([0.55, 4.2], [0, 0], color="tab:blue", lw=4)
    for x0 in (1.2, 2.0, 2.8):  # myelin sheaths
        bio.add_patch(plt.Rectangle((x0, -0.14), 0.55, 0.28, color="tab:cyan"))
    for k in (-1, 0, 1):
        bio.plot([4.2, 4.7], [0, 0.45 * k + 0.02 * rng.standard_normal()], color="tab:blue", lw=1.5)
    bio.text(-1.7, 1.5, "dendrites\n(inputs)", fontsize=9)
    bio.text(2.0, 0.35, "axon", fontsize=9, ha="center")
    bio.text(4.8, -0.9, "synapses\n(to other\nneurons)", fontsize=9)
    bio.set(xlim=(-2.3, 5.8), ylim=(-2, 2), title="a (cartoon) biological neuron")
    bio.set_aspect("equal")
    bio.axis("off")
    # --- mathematical neuron
    ys = [1.2, 0.0, -1.2]
    for i, y in enumerate(ys):
        math.add_patch(Circle((0, y), 0.28, color="tab:blue", alpha=0.25))
        math.text(0, y, f"$x_{i + 1}$", ha="center", va="center", fontsize=12)
        _arrow(math, (0.3, y), (2.15, 0.05 * y), color="gray")
        math.text(1.0, 0.62 * y + 0.18, f"$w_{i + 1}$", fontsize=12, color="tab:red")
    math.add_patch(Circle((2.6, 0), 0.45, color="tab:orange", alpha=0.8))
    math.text(2.6, 0, r"$\Sigma$" + "\n" + r"$+\,b$", ha="center", va="center", fontsize=11)
    _arrow(math, (3.05, 0), (3.9, 0), color="black")
    math.add_patch(plt.Rectangle((3.9, -0.4), 0.9, 0.8, color="tab:green", alpha=0.5))
    math.text(4.35, 0, "$f$", ha="center", va="center", fontsize=14)
    _arrow(math, (4.8, 0), (5.6, 0), color="black")
    math.text(5.65, 0, "$s$", va="center", fontsize=14)
    math.text(2.8, -1.75, r"$s = f\left(\sum_i w_i x_i + b\right) = f(\mathbf{w}\cdot\mathbf{x} + b)$",
              ha="center", fontsize=12)
    math.set(xlim=(-0.5, 6.2), ylim=(-2.1, 1.7), title="the mathematical neuron")
    math.set_aspect("equal")
    math.axis("off")
    return finish(fig)


# ======================================================================= activations

ACTIVATION_NAMES = tuple(ACTIVATIONS)     # sigmoid, tanh, relu, leaky_relu


def _layer(name: str, negative_slope: float):
    options = {"negative_slope": negative_slope} if name == "leaky_relu" else {}
    return activation_layer(name, "scratch", **options)


def activation(name: str, x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """f(x) elementwise for ``name`` in ACTIVATION_NAMES: the scratch layer's forward. x: any shape."""
    return _layer(name, negative_slope)(np.asarray(x, dtype=np.float64))


def activation_grad(name: str, x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """f'(x) elementwise: the scratch layer's backward pass with an upstream gradient of ones.

    sigmoid' = s (1 - s);  tanh' = 1 - tanh^2;  relu' = [x > 0];  leaky_relu' = 1 if x > 0 else slope.
    """
    layer = _layer(name, negative_slope)
    out = layer(np.asarray(x, dtype=np.float64))
    return layer.backward(np.ones_like(out))


def maxout(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Maxout unit:  g(x) = max_k (x . W_k + b_k)   (K linear pieces, the largest one wins).

    x: (N, D), weight: (K, D), bias: (K,) -> (N,).
    """
    x, weight, bias = (np.asarray(a, dtype=np.float64) for a in (x, weight, bias))
    if x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[1] or bias.shape != (weight.shape[0],):
        raise ValueError(f"maxout expects x (N, D), weight (K, D), bias (K,); got x {x.shape}, "
                         f"weight {weight.shape}, bias {bias.shape}.")
    return (x @ weight.T + bias).max(axis=1)


def maxout_grad(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """d maxout / dx: the weight row of the winning piece.   x: (N, D) -> (N, D)."""
    winner = (np.asarray(x, dtype=np.float64) @ np.asarray(weight).T + bias).argmax(axis=1)
    return np.asarray(weight, dtype=np.float64)[winner]


# Maxout with K = 2 pieces on a scalar input (D = 1) reproduces familiar functions:
MAXOUT_PIECES: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "relu: max(0, x)": (np.array([[0.0], [1.0]]), np.zeros(2)),
    "leaky relu: max(0.1x, x)": (np.array([[0.1], [1.0]]), np.zeros(2)),
    "|x|: max(-x, x)": (np.array([[-1.0], [1.0]]), np.zeros(2)),
}


def plot_activations(names: Sequence[str] = ACTIVATION_NAMES, x: np.ndarray | None = None,
                     negative_slope: float = 0.1) -> Figure:
    """One panel per activation: f(x) (solid) and f'(x) (dashed). A steeper leaky slope (0.1) is drawn
    than torch's default 0.01, so that it can be seen."""
    x = np.linspace(-5, 5, 501) if x is None else np.asarray(x, dtype=np.float64)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3), squeeze=False)
    for ax, name in zip(axes.flat, names):
        ax.plot(x, activation(name, x, negative_slope), label="f(x)")
        ax.plot(x, activation_grad(name, x, negative_slope), "--", label="f'(x)")
        ax.axhline(0, color="gray", lw=0.5)
        ax.axvline(0, color="gray", lw=0.5)
        title = name if name != "leaky_relu" else f"leaky_relu (slope {negative_slope})"
        ax.set(title=title, xlabel="x", ylim=(-1.2, 2.2))
        ax.legend(fontsize=8, loc="upper left")
    return finish(fig)


def plot_maxout(pieces: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> Figure:
    """Each maxout unit: its linear pieces (thin) and their maximum (thick)."""
    pieces = MAXOUT_PIECES if pieces is None else pieces
    x = np.linspace(-3, 3, 301)[:, None]
    fig, axes = plt.subplots(1, len(pieces), figsize=(3.6 * len(pieces), 3), squeeze=False)
    for ax, (title, (w, b)) in zip(axes.flat, pieces.items()):
        for k in range(len(b)):
            ax.plot(x[:, 0], x @ w[k] + b[k], lw=1, alpha=0.6, label=f"piece {k}: {w[k, 0]:g}x + {b[k]:g}")
        ax.plot(x[:, 0], maxout(x, w, b), lw=3, color="black", label="maxout")
        ax.set(title=title, xlabel="x", ylim=(-1.5, 3.2))
        ax.legend(fontsize=7, loc="upper center")
    return finish(fig)


# ======================================================================= vanishing gradients


def deep_net(activation_name: str, depth: int = 20, width: int = 64, seed: int = 0) -> scratch.Sequential:
    """``depth`` x (Linear(width, width) -> activation), weights N(0, 2/width), biases 0.

    The weights depend only on ``seed``, so nets with different activations share the same weights.
    """
    rng = np.random.default_rng(seed)
    modules = []
    for _ in range(depth):
        linear = scratch.Linear(width, width)
        init_(linear.weight, "kaiming_normal_", nonlinearity="relu", generator=rng)    # std sqrt(2 / width)
        init_(linear.bias, "zeros_")
        modules += [linear, activation_layer(activation_name)]
    return scratch.Sequential(*modules)


def gradient_norms_by_depth(activation_name: str, depth: int = 20, width: int = 64, n: int = 64,
                            seed: int = 0) -> np.ndarray:
    """||dL/dW_l|| for each layer l = 1..depth (1 = next to the input) of ``deep_net``.

    L = sum(output * g) for a fixed random g, on a batch x of shape (n, width) ~ N(0, 1).
    Returns shape (depth,).
    """
    net = deep_net(activation_name, depth, width, seed)
    rng = np.random.default_rng(seed + 1)
    out = net(rng.standard_normal((n, width)))
    net.zero_grad()
    net.backward(rng.standard_normal(out.shape))
    return np.array([np.linalg.norm(net[2 * i].weight.grad) for i in range(depth)])


def plot_gradient_vs_depth(names: Sequence[str] = ("sigmoid", "tanh", "relu"), depth: int = 20,
                           width: int = 64, seed: int = 0) -> Figure:
    """Gradient magnitude per layer (log scale) in the same random deep net with different activations."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    layers = np.arange(1, depth + 1)
    for name in names:
        ax.semilogy(layers, gradient_norms_by_depth(name, depth, width, seed=seed), "o-", ms=3, label=name)
    ax.set(xlabel="layer (1 = next to the input)", ylabel=r"$\|\partial L / \partial W_l\|$",
           title=f"gradient size per layer, {depth}-layer net, same weights")
    ax.legend()
    return finish(fig)


def epochs_to_reach(accuracies: Sequence[float], target: float) -> int | None:
    """The first epoch (1-based) whose accuracy is >= target, or None if none is."""
    for epoch, acc in enumerate(accuracies, start=1):
        if acc >= target:
            return epoch
    return None


class StopAtAccuracy(Callback):
    """A ``fit`` callback: stop after the first epoch whose training accuracy is >= ``target``.

    That epoch is the one ``epochs_to_reach(history.train_acc, target)`` returns, so nothing after it is trained.
    """

    def __init__(self, target: float) -> None:
        self.target = target

    def on_epoch_end(self, epoch, history, model) -> bool:
        return bool(history.train_acc) and history.train_acc[-1] >= self.target


# ======================================================================= linear classifiers


def plot_linear_scores(weight: np.ndarray, x: np.ndarray, bias: np.ndarray, classes: Sequence[str]) -> Figure:
    """Draw  W x + b = s  as coloured matrices with their numbers. weight (C, D), x (D,), bias (C,)."""
    scores = weight @ x + bias
    panels = [("W", weight), ("x", x[:, None]), ("b", bias[:, None]), ("s = Wx + b", scores[:, None])]
    widths = [weight.shape[1], 1, 1, 1.6]
    fig, axes = plt.subplots(1, 4, figsize=(8, 2.6), gridspec_kw={"width_ratios": widths})
    for ax, (title, m) in zip(axes, panels):
        limit = np.abs(m).max() or 1.0
        ax.imshow(m, cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto")
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, f"{v:.4g}", ha="center", va="center", fontsize=9)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks(range(len(m)))
        ax.set_yticklabels(classes if m.shape[0] == len(classes) else [f"pixel {i}" for i in range(len(m))],
                           fontsize=8)
    return finish(fig)


def plot_templates(weight: np.ndarray, titles: Sequence[str] | None = None, shape=(28, 28)) -> Figure:
    """Each row of W (C, H*W) drawn as an image: red = pixels that raise the class score, blue = lower it."""
    titles = titles or [str(c) for c in range(len(weight))]
    return image_grid([row.reshape(shape) for row in weight], titles, cols=len(weight), symmetric=True,
                      size=(1.25, 1.6))


def digit_features(images: np.ndarray) -> np.ndarray:
    """Two hand-made features per digit, as in Abu-Mostafa's "Learning from Data" (1 vs 5):

    symmetry  = -mean |I - mirror(I)|   (0 for a left-right symmetric image, more negative otherwise)
    intensity =  mean(I)                 (how much ink)
    with pixels I scaled to 0..1.   images: (N, 28, 28) uint8 -> (N, 2) columns [symmetry, intensity].
    """
    pixels = np.asarray(images, dtype=np.float64) / 255.0
    symmetry = -np.abs(pixels - pixels[:, :, ::-1]).mean(axis=(1, 2))
    intensity = pixels.mean(axis=(1, 2))
    return np.stack([symmetry, intensity], axis=1)


def line_geometry(w: np.ndarray, b: float) -> dict[str, np.ndarray | float]:
    """The line  w . x + b = 0  in the plane: unit normal w/|w|, signed offset -b/|w| from the
    origin (along the normal), and the line's point closest to the origin, -b w / |w|^2."""
    w = np.asarray(w, dtype=np.float64)
    norm = np.linalg.norm(w)
    return {"normal": w / norm, "offset": float(-b / norm), "closest_point": -b * w / norm**2}


def plot_feature_scatter(features: np.ndarray, labels: np.ndarray, w: np.ndarray | None = None,
                         b: float | None = None, names: Sequence[str] = ("5", "1")) -> Figure:
    """Scatter of 2-D features (label 0 / 1), with the line w . x + b = 0, its normal w and the
    origin-to-line segment of length |b|/|w| when w and b are given."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for label, marker, color in ((0, "x", "tab:red"), (1, "o", "tab:blue")):
        pts = features[labels == label]
        ax.scatter(pts[:, 0], pts[:, 1], s=10, marker=marker, color=color, alpha=0.6, label=f"digit {names[label]}")
    if w is not None and b is not None:
        _draw_line(ax, np.asarray(w, dtype=np.float64), float(b))
    ax.set(xlabel="$x_1$ = symmetry", ylabel="$x_2$ = average intensity")
    ax.legend(loc="upper left", fontsize=8)
    return finish(fig)


def _draw_line(ax, w: np.ndarray, b: float) -> None:
    geo = line_geometry(w, b)
    p, n = geo["closest_point"], geo["normal"]
    direction = np.array([-n[1], n[0]])
    t = np.linspace(-20, 20, 2)
    ax.autoscale(False)
    ax.plot(p[0] + t * direction[0], p[1] + t * direction[1], "k-", lw=2, label=r"$w\cdot x + b = 0$")
    ax.plot([0, p[0]], [0, p[1]], "g:", lw=2, label=rf"distance $|b|/|w|$ = {abs(geo['offset']):.2f}")
    _arrow(ax, tuple(p), tuple(p + 0.8 * n), color="green")
    ax.text(*(p + 0.9 * n), "w", color="green", fontsize=12, clip_on=True)
    ax.plot(0, 0, "k+", ms=10)


def explore_neuron_line(w1: float, w2: float, b: float, features: np.ndarray, labels: np.ndarray) -> Figure:
    """Widget callback: the line w . x + b = 0 of one neuron over the (standardized) features, titled
    with the accuracy of the rule  predict 1 if w . x + b > 0. Returns the Figure."""
    w = np.array([w1, w2], dtype=np.float64)
    if np.allclose(w, 0):
        w = np.array([1e-6, 0.0])
    fig = plot_feature_scatter(features, labels, w, b)
    acc = float(((features @ w + b > 0) == (labels == 1)).mean())
    fig.axes[0].set_title(f"w = ({w1:.2f}, {w2:.2f}), b = {b:.2f}: accuracy {acc:.3f}")
    return fig


# ======================================================================= toy 2-D data sets

DATASETS = ("xor", "circles", "moons", "spirals")


def make_dataset(name: str, n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded 2-D two-class data set, roughly inside [-1.5, 1.5]^2, half the points in each class.

    xor: label 1 where x1 * x2 > 0.  circles: a disc (0) inside a ring (1).  moons: two interleaved
    half circles.  spirals: two interleaved spirals.
    Returns x: (n, 2) float64 and y: (n,) int64 with values 0 and 1.
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}.")
    rng = np.random.default_rng(seed)
    half = n // 2
    y = np.r_[np.zeros(half), np.ones(n - half)].astype(np.int64)
    if name == "xor":
        x = rng.uniform(-1, 1, (n, 2))
        x += 0.15 * np.sign(x)                       # keep a small gap around the axes
        y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    elif name == "circles":
        radius = np.where(y == 0, rng.uniform(0, 0.5, n), rng.uniform(0.8, 1.2, n))
        angle = rng.uniform(0, 2 * np.pi, n)
        x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    elif name == "moons":
        t = rng.uniform(0, np.pi, n)
        upper = np.stack([np.cos(t), np.sin(t)], axis=1)
        lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
        x = np.where(y[:, None] == 0, upper, lower) - np.array([0.5, 0.25])
    else:  # spirals
        t = np.sqrt(rng.uniform(0, 1, n)) * 3 * np.pi
        x = (t / (3 * np.pi) * 1.4)[:, None] * np.stack([np.cos(t + np.pi * y), np.sin(t + np.pi * y)], axis=1)
    return x + noise * rng.standard_normal((n, 2)), y


# ======================================================================= the playground

def make_classifier(hidden: int = 8, activation_name: str = "relu", layers: int = 1, seed: int = 0) -> scratch.Sequential:
    """2 inputs -> ``layers`` hidden layers of ``hidden`` units -> 1 logit.  hidden = 0: Linear(2, 1),
    a single neuron, i.e. a linear classifier."""
    activation_layer(activation_name)              # an unknown name fails here, before any weight is drawn
    scratch.manual_seed(seed)
    if hidden == 0:
        return scratch.Sequential(scratch.Linear(2, 1))
    modules, width = [], 2
    for _ in range(layers):
        modules += [scratch.Linear(width, hidden), activation_layer(activation_name)]
        width = hidden
    return scratch.Sequential(*modules, scratch.Linear(width, 1))


def train_classifier(model: scratch.Module, x: np.ndarray, y: np.ndarray, lr: float = 0.1, steps: int = 300,
                     momentum: float = 0.9) -> list[float]:
    """Full-batch gradient descent (scratch SGD with momentum) on BCE-with-logits; returns the losses."""
    optimizer = scratch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    target = y.reshape(-1, 1).astype(np.float64)
    history = fit(model, scratch.BCEWithLogitsLoss(), optimizer, (x, target), epochs=1,
                  batches=full_batches(steps), progress=False)
    return history.step_loss


def classifier_accuracy(model: scratch.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of points where (logit > 0) equals the label."""
    return float(((model(x)[:, 0] > 0) == (y == 1)).mean())


@lru_cache(maxsize=256)
def _trained(dataset: str, hidden: int, activation_name: str, layers: int, lr: float, steps: int, seed: int):
    x, y = make_dataset(dataset, seed=seed)
    model = make_classifier(hidden, activation_name, layers, seed)
    losses = train_classifier(model, x, y, lr, steps)
    return model, x, y, losses


def playground_result(dataset: str = "xor", hidden: int = 8, activation_name: str = "relu", layers: int = 1,
                      lr: float = 0.1, steps: int = 300, seed: int = 0):
    """(model, x, y, losses) of a trained playground classifier (cached: the same settings train once)."""
    return _trained(dataset, int(hidden), activation_name, int(layers), float(lr), int(steps), int(seed))


def draw_decision_regions(ax, model: scratch.Module, x: np.ndarray, y: np.ndarray, resolution: int = 100) -> None:
    """Colour the plane by the model's probability sigma(logit) (contourf), draw the 0.5 line and the points."""
    lo, hi = x.min(axis=0) - 0.3, x.max(axis=0) + 0.3
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    prob = sf.sigmoid(model(np.c_[g1.ravel(), g2.ravel()])[:, 0]).reshape(g1.shape)
    ax.contourf(g1, g2, prob, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.6)
    ax.contour(g1, g2, prob, levels=[0.5], colors="black", linewidths=1.5)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu", vmin=-0.3, vmax=1.3, s=12, edgecolors="k", linewidths=0.3)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xticks=[], yticks=[])


def playground(dataset: str = "xor", hidden: int = 8, activation_name: str = "relu", layers: int = 1,
               lr: float = 0.1, steps: int = 300, seed: int = 0) -> Figure:
    """Widget callback: train (or fetch from the cache) a tiny MLP on a toy set, draw its decision
    regions and its loss curve."""
    model, x, y, losses = playground_result(dataset, hidden, activation_name, layers, lr, steps, seed)
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(9, 4), gridspec_kw={"width_ratios": [1.2, 1]})
    draw_decision_regions(ax, model, x, y)
    shape = "linear classifier (no hidden layer)" if hidden == 0 else f"{layers} x {hidden} {activation_name}"
    ax.set_title(f"{dataset}: {shape}\naccuracy {classifier_accuracy(model, x, y):.3f}", fontsize=10)
    ax_loss.plot(losses)
    ax_loss.set(xlabel="step", ylabel="BCE loss", title="training loss", ylim=(0, max(1.0, max(losses))))
    return finish(fig)


def plot_linear_vs_hidden(datasets: Sequence[str] = DATASETS, hidden: int = 8, activation_name: str = "relu",
                          steps: int = 300) -> Figure:
    """Top row: a linear classifier on each data set; bottom row: one hidden layer of ``hidden`` units,
    each titled with its training accuracy. Returns the Figure."""
    fig, axes = plt.subplots(2, len(datasets), figsize=(3 * len(datasets), 6), squeeze=False)
    for row, h in enumerate((0, hidden)):
        for ax, name in zip(axes[row], datasets):
            model, x, y, _ = playground_result(name, h, activation_name, 1, 0.1, steps)
            draw_decision_regions(ax, model, x, y, resolution=70)
            kind = "linear" if h == 0 else f"{h} hidden {activation_name}"
            ax.set_title(f"{name}, {kind}: {classifier_accuracy(model, x, y):.2f}", fontsize=9)
    return finish(fig)


def linear_vs_hidden_accuracies(datasets: Sequence[str] = DATASETS, hidden: int = 8, activation_name: str = "relu",
                                steps: int = 300) -> dict[tuple[str, int], float]:
    """{(dataset, hidden units): training accuracy} of the classifiers ``plot_linear_vs_hidden`` draws
    (the same cached training runs)."""
    return {(name, h): classifier_accuracy(*playground_result(name, h, activation_name, 1, 0.1, steps)[:3])
            for h in (0, hidden) for name in datasets}


# ======================================================================= approximation


def relu_interpolant(f, knots: np.ndarray):
    """One hidden layer of ReLUs that joins the points (t_i, f(t_i)) with straight lines:

    g(x) = f(t_0) + sum_{i=0}^{k-1} c_i relu(x - t_i),   c_0 = s_0,  c_i = s_i - s_{i-1},
    where s_i is the slope on [t_i, t_{i+1}]: each ReLU switches on at a knot and bends the line.
    knots: (k + 1,) increasing. Returns (g, k = number of hidden ReLU units). Exact at the knots,
    straight between them, for x >= t_0.
    """
    knots = np.asarray(knots, dtype=np.float64)
    values = f(knots)
    slopes = np.diff(values) / np.diff(knots)
    coeffs = np.r_[slopes[0], np.diff(slopes)]

    def g(x: np.ndarray) -> np.ndarray:
        hidden = sf.relu(np.asarray(x, dtype=np.float64)[..., None] - knots[:-1])   # (..., units)
        return values[0] + hidden @ coeffs
    return g, len(knots) - 1


def plot_relu_approximation(f, lo: float = -np.pi, hi: float = np.pi, units: Sequence[int] = (2, 4, 16)) -> Figure:
    """f and its one-hidden-layer ReLU interpolants with more and more units."""
    x = np.linspace(lo, hi, 400)
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    ax.plot(x, f(x), color="black", lw=3, alpha=0.4, label="target f")
    for k in units:
        g, n_units = relu_interpolant(f, np.linspace(lo, hi, k + 1))
        ax.plot(x, g(x), label=f"{n_units} ReLUs, max error {np.abs(g(x) - f(x)).max():.3f}")
    ax.set(xlabel="x", title="one hidden layer of ReLUs, more units -> closer")
    ax.legend(fontsize=8)
    return finish(fig)


def tent(x: np.ndarray) -> np.ndarray:
    """The tent map on [0, 1] written with two ReLUs:  2 relu(x) - 4 relu(x - 1/2)."""
    return 2 * sf.relu(x) - 4 * sf.relu(x - 0.5)


def count_linear_pieces(y: np.ndarray, x: np.ndarray) -> int:
    """How many straight pieces a sampled piecewise-linear curve has (slope changes + 1)."""
    slopes = np.round(np.diff(y) / np.diff(x), 6)
    return int(1 + np.count_nonzero(np.diff(slopes)))


# ======================================================================= what networks output


def plot_vision_tasks(image: np.ndarray, label: int, second: np.ndarray, second_label: int) -> Figure:
    """One picture per task on real digits: classification (a label), localization (label + box),
    detection (a box per object), semantic segmentation (a class per pixel: two digits of the same
    class get the same colour) and instance segmentation (a mask per object: they get different ones).
    image, second: (28, 28) uint8."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Rectangle

    canvas = np.concatenate([image, second], axis=1).astype(np.float64)      # (28, 56): two objects
    masks = [np.zeros_like(canvas, dtype=bool), np.zeros_like(canvas, dtype=bool)]
    masks[0][:, :28] = image > 127
    masks[1][:, 28:] = second > 127

    def box(mask):
        rows, cols = np.nonzero(mask)
        return cols.min() - 0.5, rows.min() - 0.5, cols.max() - cols.min() + 1, rows.max() - rows.min() + 1

    fig, axes = plt.subplots(1, 5, figsize=(14, 2.6))
    titles = [f"classification\n'{label}'", f"localization\n'{label}' + box", "detection\nbox + label per object",
              "semantic segmentation\nclass per pixel", "instance segmentation\nmask per object"]
    for i, (ax, title) in enumerate(zip(axes, titles)):
        ax.imshow(image if i < 2 else canvas, cmap="gray_r")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    x0, y0, w, h = box(image > 127)
    axes[1].add_patch(Rectangle((x0, y0), w, h, fill=False, color="red", lw=2))
    for mask, name, color in zip(masks, (label, second_label), ("red", "blue")):
        x0, y0, w, h = box(mask)
        axes[2].add_patch(Rectangle((x0, y0), w, h, fill=False, color=color, lw=2))
        axes[2].text(x0, y0 - 1, str(name), color=color, fontsize=9)
    semantic = np.where(masks[0], float(label), np.where(masks[1], float(second_label), np.nan))
    class_colours = ListedColormap([plt.cm.hsv(c / 10) for c in range(10)])      # one colour per digit class
    axes[3].imshow(semantic, cmap=class_colours, vmin=-0.5, vmax=9.5, alpha=0.8)
    instance = np.where(masks[0], 0.0, np.where(masks[1], 1.0, np.nan))
    axes[4].imshow(instance, cmap="coolwarm", vmin=0, vmax=1, alpha=0.8)
    return finish(fig)
