"""Notebook 10: looking inside a CNN. Its figures, widget callbacks and experiments.

The methods themselves live in ``course_lib.interpret`` (public, tested against Captum); this module puts them
side by side, runs the notebook's measurements and draws them. Every function takes a scratch model with NumPy
arrays or a torch model (NumPy arrays are converted), like ``interpret``.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import interpret, scratch, training
from ..parity import to_numpy
from ..plots import finish, image_grid

# The attribution methods with the notebook's settings: name -> method(model, x, target) -> map like x.
OCCLUSION_WINDOW, OCCLUSION_STRIDE = 6, 2
IG_STEPS = 50
SMOOTHGRAD_SAMPLES, SMOOTHGRAD_SIGMA = 25, 0.15
IG_CAPTUM_METHOD = "riemann_middle"        # Captum's name for the midpoint rule that interpret uses


def attribution_methods() -> dict[str, Callable]:
    """name -> method(model, x, target): the seven maps of §5, with the notebook's settings."""
    return {
        "saliency": interpret.saliency,
        "guided backprop": interpret.guided_backprop,
        "SmoothGrad": lambda m, x, t: interpret.smoothgrad(m, x, t, n=SMOOTHGRAD_SAMPLES, sigma=SMOOTHGRAD_SIGMA),
        "CAM": interpret.class_activation_map,
        "Grad-CAM": lambda m, x, t: interpret.grad_cam(m, "relu3", x, t),
        "occlusion": lambda m, x, t: interpret.occlusion(m, x, t, window=OCCLUSION_WINDOW, stride=OCCLUSION_STRIDE),
        "integrated gradients": lambda m, x, t: interpret.integrated_gradients(m, x, t, steps=IG_STEPS),
    }


def as_image_maps(maps, size: int = 28) -> np.ndarray:
    """Maps (N, 1, H, W), (N, H, W) or coarser (N, h, w) as NumPy (N, size, size), upsampled bilinearly if coarse."""
    maps = np.asarray(to_numpy(maps), dtype=np.float64)
    if maps.ndim == 4:
        maps = maps.sum(axis=1)
    if maps.shape[-1] != size:
        maps = np.asarray(to_numpy(interpret.upsample_map(maps, size)))
    return maps


def all_maps(model, x, y) -> dict[str, np.ndarray]:
    """Every method's map of x for the classes y, at the input's resolution: name -> (N, 28, 28)."""
    return {name: as_image_maps(method(model, x, y)) for name, method in attribution_methods().items()}


# ------------------------------------------------------------------------------------------ figures of maps


def _signed(ax, image: np.ndarray) -> None:
    m = float(np.abs(image).max()) or 1.0
    ax.imshow(image, cmap="RdBu_r", vmin=-m, vmax=m)


def plot_maps(x, y, maps: dict[str, np.ndarray], predictions: Optional[np.ndarray] = None) -> Figure:
    """One row per digit: the digit, then each method's map (red: for the class, blue: against)."""
    x = np.asarray(to_numpy(x))[:, 0]
    n, names = len(x), list(maps)
    fig, axes = plt.subplots(n, len(names) + 1, figsize=(1.3 * (len(names) + 1), 1.35 * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(x[i], cmap="gray_r", vmin=0, vmax=1)
        axes[i, 0].set_ylabel(f"{y[i]}", rotation=0, labelpad=10)
        for k, name in enumerate(names):
            _signed(axes[i, k + 1], maps[name][i])
            if i == 0:
                axes[0, k + 1].set_title(name, fontsize=8)
    axes[0, 0].set_title("digit", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return finish(fig)


def preview(model, x, target: int) -> Figure:
    """One digit, its saliency, Grad-CAM (relu3, upsampled) and occlusion map: the notebook's first picture."""
    methods = attribution_methods()
    maps = {name: as_image_maps(methods[name](model, x, target)) for name in ("saliency", "Grad-CAM", "occlusion")}
    return plot_maps(x, [target], maps)


def plot_randomization(table: dict[str, dict[str, float]], title: str = "") -> Figure:
    """Rank correlation with the trained network's maps as layers are randomised from the top: one line per method.

    table: method -> {'fc': r, 'conv3': r, ...}, in the order the layers were randomised (top first).
    """
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, row in table.items():
        layers = list(row)
        ax.plot(range(len(layers)), list(row.values()), "o-", label=name)
    ax.set_xticks(range(len(layers)), [f"up to\n{n}" for n in layers], fontsize=8)
    ax.set(ylabel="rank correlation with\nthe trained network's map", ylim=(-0.2, 1.05),
           xlabel="weights re-drawn at random, from the top down to",
           title=title or "Randomisation check (Adebayo et al. 2018)")
    ax.axhline(0, color="gray", lw=0.5)
    ax.legend(fontsize=8, loc="upper right")
    return finish(fig)


def plot_projections(points: dict, labels) -> Figure:
    """Side by side, one 2-D projection (N, 2) per entry, coloured by label, each class's label at its centre."""
    labels = np.asarray(labels)
    fig, axes = plt.subplots(1, len(points), figsize=(5.2 * len(points), 4.8), squeeze=False)
    for ax, (title, p) in zip(axes[0], points.items()):
        p = np.asarray(to_numpy(p))
        ax.scatter(p[:, 0], p[:, 1], c=labels, cmap="tab10", s=5, alpha=0.6)
        for c in np.unique(labels):
            ax.text(*p[labels == c].mean(axis=0), str(c), fontsize=14, weight="bold", ha="center", va="center")
        ax.set(title=title, xticks=[], yticks=[], xlabel="first principal axis", ylabel="second principal axis")
    return finish(fig)


# ------------------------------------------------------------------------------------------ adversarial


def linear_classifier(x, y, epochs: int = 3, lr: float = 0.1) -> scratch.Sequential:
    """Notebook 01's linear classifier (Flatten, Linear(784, 10), from zeros, SGD) on pixels in 0..1 (which need
    a 10 times larger learning rate than 01's standardised pixels: their gradients are about 10 times smaller)."""
    model = scratch.Sequential(scratch.Flatten(), scratch.Linear(784, 10))
    model[1].weight.data[:] = 0.0
    model[1].bias.data[:] = 0.0
    training.fit(model, scratch.CrossEntropyLoss(), scratch.optim.SGD(model.parameters(), lr=lr), (x, y),
                 epochs=epochs, progress=False)
    return model


def linear_score_shift(model: scratch.Sequential, x: np.ndarray, cls: int, eps: float) -> float:
    """s_cls(x + eps * sign(w_cls)) - s_cls(x) for a Flatten + Linear model, without clipping (= eps * ||w||_1)."""
    w = model[1].weight.data[cls]
    step = eps * np.sign(w).reshape(x.shape[1:])
    return float(model(x + step)[0, cls] - model(x)[0, cls])


PGD_STEPS = 5                      # PGD's settings throughout: 5 steps of eps / 2, no random start


def attack(model, x, y, eps: float, name: str = "FGSM", grad=None):
    """Adversarial versions of x against model: "FGSM" (one step of eps) or "PGD" (PGD_STEPS steps of eps / 2).
    grad: FGSM's loss gradient, if already computed (``interpret.loss_gradient``)."""
    if name == "FGSM":
        return interpret.fgsm(model, x, y, eps, grad=grad)
    if name == "PGD":
        return interpret.pgd(model, x, y, eps, step_size=eps / 2, steps=PGD_STEPS)
    raise ValueError(f"attack must be 'FGSM' or 'PGD', got {name!r}.")


def accuracy_under_attack(model, x, y, eps: Sequence[float]) -> dict[str, list[float]]:
    """{"FGSM": the accuracy on (x, y) after FGSM with each eps} (eps = 0: the clean accuracy).

    FGSM's direction sign(dL/dx) does not depend on eps: one backward pass serves the whole curve.
    """
    grad = interpret.loss_gradient(model, x, y)
    return {"FGSM": [training.accuracy(model, to_numpy(attack(model, x, y, e, grad=grad)) if e > 0 else x, y)
                     for e in eps]}


def plot_accuracy_vs_eps(eps: Sequence[float], curves: dict[str, list[float]], title: str = "") -> Figure:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, accs in curves.items():
        ax.plot(eps, accs, "o-", label=name)
    ax.set(xlabel="ε (per-pixel change, pixels in 0..1)", ylabel="accuracy", ylim=(0, 1.02),
           title=title or "Validation accuracy under attack")
    ax.grid(alpha=0.3)
    ax.legend()
    return finish(fig)


def robustness_table(models: dict, x, y, attacks: Sequence[str] = ("FGSM 0.1", "FGSM 0.2", "PGD 0.1"),
                     ) -> dict[str, dict[str, float]]:
    """model name -> {"clean": accuracy, "FGSM 0.1": accuracy under that attack, ...} on (x, y).

    Each attack is "<FGSM or PGD> <eps>", made against the model it is tried on (a white-box attack).
    """
    table = {}
    for name, model in models.items():
        row, grad = {"clean": training.accuracy(model, x, y)}, interpret.loss_gradient(model, x, y)
        for spec in attacks:
            kind, eps = spec.split()
            row[spec] = training.accuracy(model, to_numpy(attack(model, x, y, float(eps), kind, grad)), y)
        table[name] = row
    return table


def format_robustness(table: dict[str, dict[str, float]]) -> str:
    columns = list(next(iter(table.values())))
    lines = [f"{'network':<12}" + "".join(f"{c:>10}" for c in columns)]
    lines += [f"{name:<12}" + "".join(f"{row[c]:>10.1%}" for c in columns) for name, row in table.items()]
    return "\n".join(lines)


def probabilities(model, x) -> np.ndarray:
    """softmax of the model's scores, as NumPy (N, K)."""
    s = np.asarray(to_numpy(interpret.scores(model, x)), dtype=np.float64)
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


EPS_GRID = tuple(np.round(np.arange(1, 31) / 100, 2))     # 0.01, 0.02, ..., 0.30


def smallest_fooling_eps(model, x, y, eps_grid: Sequence[float] = EPS_GRID) -> np.ndarray:
    """For each input of x, the smallest eps of the grid at which FGSM changes its prediction (inf: none does).

    FGSM's direction does not depend on eps, so one backward pass serves the whole grid."""
    grad = interpret.loss_gradient(model, x, y)
    found = np.full(len(x), np.inf)
    for e in sorted(eps_grid, reverse=True):
        fooled = probabilities(model, attack(model, x, y, float(e), grad=grad)).argmax(1) != np.asarray(y)
        found[fooled] = e
    return found


def _attack_panels(axes, model, x, y, eps: float, name: str) -> None:
    """Four panels: the digit, the change (red: ink added), the attacked digit, both probability bars."""
    x_adv = np.asarray(to_numpy(attack(model, x, y, eps, name)))
    clean, adv = probabilities(model, x)[0], probabilities(model, x_adv)[0]
    delta = x_adv[0, 0] - np.asarray(to_numpy(x))[0, 0]
    axes[0].imshow(np.asarray(to_numpy(x))[0, 0], cmap="gray_r", vmin=0, vmax=1)
    axes[0].set_title(f"{clean.argmax()} ({clean.max():.0%})", fontsize=9)
    _signed(axes[1], delta if np.abs(delta).max() > 0 else delta + 1e-12)
    axes[1].set_title(f"change, ε = {eps:.2f}", fontsize=9)
    axes[2].imshow(x_adv[0, 0], cmap="gray_r", vmin=0, vmax=1)
    axes[2].set_title(f"{adv.argmax()} ({adv.max():.0%})", fontsize=9, color="red" if adv.argmax() != clean.argmax()
                      else "black")
    for ax in axes[:3]:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[3].bar(np.arange(10) - 0.2, clean, 0.4, label="clean")
    axes[3].bar(np.arange(10) + 0.2, adv, 0.4, label=name, color="tab:red")
    axes[3].set(xticks=range(10), ylim=(0, 1), title="probabilities")
    axes[3].legend(fontsize=7)


def easiest_to_fool(model, x, y, digit: int = 7, becomes: Optional[int] = None) -> tuple[int, float]:
    """(index, eps): the correctly classified ``digit`` of (x, y) that FGSM fools with the smallest eps of EPS_GRID
    (into the class ``becomes``, if given)."""
    y = np.asarray(y)
    candidates = np.flatnonzero((y == digit) & (probabilities(model, x).argmax(1) == y))
    eps = smallest_fooling_eps(model, x[candidates], y[candidates])
    if becomes is not None:
        adversarial = [probabilities(model, attack(model, x[i:i + 1], y[i:i + 1], e)).argmax() if np.isfinite(e)
                       else -1 for i, e in zip(candidates, eps)]
        eps = np.where(np.array(adversarial) == becomes, eps, np.inf)
    if not np.isfinite(eps).any():
        raise ValueError(f"no {digit} of x becomes {becomes if becomes is not None else 'another digit'} under "
                         f"FGSM with eps up to {max(EPS_GRID)}.")
    best = int(np.argmin(eps))
    return int(candidates[best]), float(eps[best])


def explore_epsilon(model, x, y, index: int = 0, eps: float = 0.1, attack_name: str = "FGSM") -> Figure:
    """Digit ``index`` of (x, y), the change an attack of size eps makes (red: ink added, blue: removed), the
    attacked digit, and the probabilities before and after (the ε slider's figure)."""
    fig, axes = plt.subplots(1, 4, figsize=(10, 2.6), gridspec_kw={"width_ratios": [1, 1, 1, 2]})
    xi, yi = x[index:index + 1], np.asarray(y[index:index + 1])
    if eps > 0:
        _attack_panels(axes, model, xi, yi, eps, attack_name)
    else:
        _attack_panels(axes, model, xi, yi, 1e-9, attack_name)
    return finish(fig)


def transfer_rates(source, target, x, y, eps: float = 0.2, seed: int = 0) -> dict[str, float]:
    """How often FGSM inputs made on ``source`` fool ``target``, against random sign noise of the same size.

    Both counted over the inputs that both networks classify correctly when clean (``interpret.fooling_rate``);
    the noise is x + eps * (a random +-1 per pixel), clipped to 0..1, from default_rng(seed).
    """
    adversarial = attack(source, x, y, eps)
    noise = interpret.random_sign(x, eps, seed=seed)
    return {"fgsm": interpret.fooling_rate(target, x, adversarial, y, correct_also=[source]),
            "noise": interpret.fooling_rate(target, x, noise, y, correct_also=[source]),
            "own": interpret.fooling_rate(source, x, adversarial, y, correct_also=[target])}


# ------------------------------------------------------------------------------------------ sanity and play


def sanity_methods() -> dict[str, Callable]:
    """The methods put to the randomisation check, at a quarter of their cost (the check runs each five times):
    SmoothGrad with 10 samples, occlusion with stride 4, integrated gradients with 20 steps. CAM is left out:
    for this network it is Grad-CAM before the ReLU."""
    methods = attribution_methods()
    return {
        "saliency": methods["saliency"],
        "guided backprop": methods["guided backprop"],
        "SmoothGrad": lambda m, x, t: interpret.smoothgrad(m, x, t, n=10, sigma=SMOOTHGRAD_SIGMA),
        "Grad-CAM": methods["Grad-CAM"],
        "occlusion": lambda m, x, t: interpret.occlusion(m, x, t, window=OCCLUSION_WINDOW, stride=4),
        "integrated gradients": lambda m, x, t: interpret.integrated_gradients(m, x, t, steps=20),
    }


def explore_method(model, x, y, index: int = 7, method: str = "Grad-CAM", target: Optional[int] = None) -> Figure:
    """The method explorer: digit ``index`` of (x, y), and ``method``'s map for class ``target`` (None: its label)."""
    methods = attribution_methods()
    if method not in methods:
        raise ValueError(f"method must be one of {list(methods)}, got {method!r}.")
    xi = x[index:index + 1]
    target = int(y[index]) if target is None else int(target)
    prob = probabilities(model, xi)[0]
    heat = as_image_maps(methods[method](model, xi, target))[0]
    fig, axes = plt.subplots(1, 3, figsize=(8, 2.9))
    axes[0].imshow(np.asarray(to_numpy(xi))[0, 0], cmap="gray_r", vmin=0, vmax=1)
    axes[0].set_title(f"label {int(y[index])}, predicted {prob.argmax()} ({prob.max():.0%})", fontsize=9)
    _signed(axes[1], heat)
    axes[1].set_title(f"{method}, class {target}", fontsize=9)
    axes[2].imshow(np.asarray(to_numpy(xi))[0, 0], cmap="gray_r", vmin=0, vmax=1)
    axes[2].imshow(np.maximum(heat, 0), cmap="Reds", alpha=0.6)
    axes[2].set_title("evidence for, over the digit", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return finish(fig)


# ------------------------------------------------------------------------------------------ feature maps


def plot_feature_maps(maps: dict, image, channels: int = 8) -> Figure:
    """One row per layer: the first ``channels`` maps of one input (maps from ``interpret.feature_maps`` on a
    batch of one), each on its own scale; the input itself on the left of the first row."""
    names = list(maps)
    fig, axes = plt.subplots(len(names), channels + 1, figsize=(1.1 * (channels + 1), 1.15 * len(names)),
                             squeeze=False)
    for row, name in enumerate(names):
        a = np.asarray(to_numpy(maps[name]))[0]
        axes[row, 0].text(0.5, 0.5, f"{name}\n{a.shape[1]}x{a.shape[2]}", ha="center", va="center", fontsize=8)
        for c in range(min(channels, a.shape[0])):
            axes[row, c + 1].imshow(a[c], cmap="viridis", interpolation="nearest")
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(np.asarray(to_numpy(image))[0], cmap="gray_r", extent=(0.15, 0.85, 0.55, 0.95), vmin=0, vmax=1)
    axes[0, 0].set(xlim=(0, 1), ylim=(0, 1))
    return finish(fig)


def strongest_channels(model, layer: str, x, n: int = 4) -> list[int]:
    """The n channels of ``layer`` whose largest response over x is largest (the channels most sure of something)."""
    top = interpret.top_activating(model, layer, x, channel=None, k=1)
    return [int(c) for c in np.argsort(-np.asarray(to_numpy(top.value))[:, 0], kind="stable")[:n]]


def plot_top_patches(model, x, layers: dict[str, Sequence[int]], k: int = 6) -> Figure:
    """For each layer and each of its listed channels, a row of the k input patches that excite it most."""
    rows = [(name, c, patches) for name, chans in layers.items()
            for c, patches in zip(chans, np.asarray(to_numpy(interpret.top_patches(model, name, x, list(chans), k=k))))]
    fig, axes = plt.subplots(len(rows), k, figsize=(1.0 * k, 1.05 * len(rows)), squeeze=False)
    for r, (name, channel, patches) in enumerate(rows):
        for n in range(k):
            axes[r, n].imshow(patches[n, 0], cmap="gray_r", vmin=0, vmax=1)
            axes[r, n].set_xticks([])
            axes[r, n].set_yticks([])
        axes[r, 0].set_ylabel(f"{name}\nch {channel}", rotation=0, labelpad=22, fontsize=8, va="center")
    return finish(fig)


def explore_network(model, image, layer: str = "conv2", channel: int = 0, i: int = 7, j: int = 7) -> Figure:
    """A CNN-Explainer-style view of any course model: one digit (C, H, W), the map of ``layer``'s ``channel``,
    and for its unit (i, j) (clipped to the map) the receptive field on the digit and the multiply-adds that made
    the unit's value: per input channel, the sum of window * filter; for the strongest one the window, the
    filter and their products."""
    x = np.asarray(to_numpy(image))[None]
    a = np.asarray(to_numpy(interpret.feature_maps(model, x, [layer])[layer]))[0]
    channel = min(int(channel), a.shape[0] - 1)
    i, j = min(int(i), a.shape[1] - 1), min(int(j), a.shape[2] - 1)
    c = interpret.unit_contributions(model, layer, x, channel, i, j)
    products = np.asarray(to_numpy(c.products))[0]
    per_input = products.sum(axis=(1, 2))
    top = int(np.abs(per_input).argmax())
    box = interpret.receptive_field(model, layer, i, j, size=x.shape[2:])
    fig, axes = plt.subplots(2, 3, figsize=(10, 6.2))
    axes[0, 0].imshow(x[0, 0], cmap="gray_r", vmin=0, vmax=1)
    axes[0, 0].add_patch(Rectangle((box.left - 0.5, box.top - 0.5), box.right - box.left, box.bottom - box.top,
                                   fill=False, color="red", lw=2))
    axes[0, 0].set_title(f"the digit; unit ({i}, {j}) sees {box.bottom - box.top}x{box.right - box.left}", fontsize=9)
    axes[0, 1].imshow(a[channel], cmap="viridis", interpolation="nearest")
    axes[0, 1].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, color="red", lw=2))
    axes[0, 1].set_title(f"{layer}, channel {channel} ({a.shape[1]}x{a.shape[2]})", fontsize=9)
    axes[0, 2].bar(range(len(per_input)), per_input, color=["tab:red" if v > 0 else "tab:blue" for v in per_input])
    value = float(np.asarray(to_numpy(c.output))[0])
    axes[0, 2].set_title(f"Σ window·filter per input channel\n{per_input.sum():.3f} + bias {c.bias:.3f} = "
                         f"{value:.3f}", fontsize=9)
    axes[0, 2].set_xlabel("input channel")
    window, weights = np.asarray(to_numpy(c.window))[0, top], np.asarray(to_numpy(c.weights))[top]
    for ax, picture, title in ((axes[1, 0], window, f"input window, channel {top}"),
                               (axes[1, 1], weights, f"filter, input channel {top}"),
                               (axes[1, 2], products[top], f"products: sum {per_input[top]:.3f}")):
        _signed(ax, picture)
        ax.set_title(title, fontsize=9)
        if picture.shape[0] <= 5:
            for (r, q), v in np.ndenumerate(picture):
                ax.text(q, r, f"{v:.2f}", ha="center", va="center", fontsize=7)
    for ax in (axes[0, 0], axes[0, 1], *axes[1]):
        ax.set_xticks([])
        ax.set_yticks([])
    return finish(fig)


# ------------------------------------------------------------------------------------------ imagination

# Activation maximisation's settings for the ten classes (chosen on the plain network; see the notebook).
DREAM_SETTINGS = dict(score="log_probability", steps=40, lr=1.0, l2=0.01, jitter=1, blur_every=4, blur_sigma=0.5)


def class_dreams(model, seed: int = 0, **settings) -> tuple[np.ndarray, np.ndarray]:
    """One image per class (10, 1, 28, 28) that the model likes best for it, and the model's softmax probability
    of that class for its image (10,). ``interpret.maximize_activation`` with DREAM_SETTINGS (or ``settings``)."""
    options = {**DREAM_SETTINGS, **settings}
    images = interpret.maximize_activation(model, target=range(10), shape=(10, 1, 28, 28), seed=seed, **options)
    images = np.asarray(to_numpy(images))
    return images, probabilities(model, images)[np.arange(10), np.arange(10)]


def plot_dreams(images: np.ndarray, confidence: np.ndarray) -> Figure:
    """The ten class images, each captioned with the class and the model's probability for it."""
    return image_grid(images[:, 0], titles=[f"{c}: {p:.0%}" for c, p in enumerate(confidence)], cols=10,
                      cmap="gray_r", size=1.1)          # each image on its own range: they are faint


def plot_deep_dream(model, x, layer: str = "relu2", steps: Sequence[int] = (0, 10, 30), lr: float = 0.02) -> Figure:
    """Each digit of x (N, 1, 28, 28), then after 10 and 30 steps of DeepDream on ``layer``."""
    x = np.asarray(to_numpy(x))
    rows = []
    for n in range(len(x)):
        rows += [x[n, 0] if s == 0 else np.asarray(to_numpy(interpret.deep_dream(model, x[n:n + 1], layer, steps=s,
                                                                                    lr=lr, jitter=1)))[0, 0]
                 for s in steps]
    titles = [f"{'digit' if s == 0 else f'{s} steps'}" for _ in range(len(x)) for s in steps]
    return image_grid(rows, titles=titles, cols=len(steps) * len(x), cmap="gray_r", vmin=0, vmax=1, size=1.3,
                      title=f"DeepDream on {layer}: more of what {layer} sees")


CHANNEL_DREAM_SETTINGS = dict(steps=40, lr=0.1, jitter=1, blur_every=4, blur_sigma=0.5)


def plot_channel_dreams(model, layer: str, channels: Sequence[int], seed: int = 0) -> Figure:
    """For each channel of ``layer``, the input that maximises its mean activation (CHANNEL_DREAM_SETTINGS)."""
    images = interpret.maximize_activation(model, layer=layer, channel=list(channels),
                                           shape=(len(channels), 1, 28, 28), seed=seed, **CHANNEL_DREAM_SETTINGS)
    return image_grid(np.asarray(to_numpy(images))[:, 0], titles=[f"{layer} ch {c}" for c in channels],
                      cols=len(channels), cmap="gray_r", size=1.3)
