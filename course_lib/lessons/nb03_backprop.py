"""Computational graphs of scalars ("circuits"), their forward and backward passes, and their pictures.

A circuit is a list of nodes in the order they are computed. Each gate knows two things only:

    forward:         out = gate(a, b, ...)
    local gradient:  d out / d a,  d out / d b, ...

Backpropagation is the chain rule applied gate by gate, from the output back to the inputs:

    grad(input of a gate) += local gradient * grad(output of the gate)      ("upstream" gradient)

The lectures' example (Zhu [004], after CS231n) is the sigmoid neuron

    f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2)))

    >>> c = sigmoid_circuit([2, -3, -3], [-1, -2])
    >>> round(c.output, 4), [round(c.grads[k], 4) for k in ("w0", "x0")]
    (0.7311, [-0.1966, 0.3932])
    >>> fig = plot_circuit(c)        # forward values in green, gradients in red, as in CS231n
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..plots import finish

FORWARD_COLOR = "#1a7f37"   # green: values flowing forward
BACKWARD_COLOR = "#cf222e"  # red: gradients flowing backward
_LABEL_BOX = dict(facecolor="white", edgecolor="none", alpha=0.85, pad=0.6)


def _sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))


# op name -> (forward(*inputs), local_gradients(*inputs, out) -> one d out/d input per input)
OPS: dict[str, tuple[Callable[..., float], Callable[..., tuple[float, ...]]]] = {
    "*": (lambda a, b: a * b, lambda a, b, out: (b, a)),              # mul swaps its inputs
    "+": (lambda a, b: a + b, lambda a, b, out: (1.0, 1.0)),          # add distributes
    "max": (max, lambda a, b, out: (float(a >= b), float(a < b))),    # max routes to the winner
    "*-1": (lambda a: -a, lambda a, out: (-1.0,)),
    "*2": (lambda a: 2.0 * a, lambda a, out: (2.0,)),
    "exp": (math.exp, lambda a, out: (out,)),                         # (e^a)' = e^a
    "+1": (lambda a: a + 1.0, lambda a, out: (1.0,)),
    "1/x": (lambda a: 1.0 / a, lambda a, out: (-1.0 / a**2,)),
    "σ": (_sigmoid, lambda a, out: (out * (1.0 - out),)),             # sigma' = sigma (1 - sigma)
}


@dataclass
class Node:
    """One scalar in the graph: an input (``op="input"``) or the output of a gate applied to ``inputs``."""

    name: str
    op: str = "input"
    inputs: tuple[str, ...] = ()
    value: float = float("nan")
    grad: float = 0.0
    local: tuple[float, ...] = ()      # d value / d each input, filled by the forward pass


class Circuit:
    """A scalar computational graph; the last node is the output.

    ``Circuit([("x", "input"), ("y", "input"), ("xy", "*", ("x", "y"))])`` builds f = x * y.
    ``forward(x=3, y=-4)`` returns f; ``backward()`` fills every node's ``grad`` = d f / d node.
    """

    def __init__(self, spec: Sequence[tuple]) -> None:
        self.nodes: dict[str, Node] = {}
        for entry in spec:
            name, op, inputs = entry[0], entry[1], tuple(entry[2]) if len(entry) > 2 else ()
            if op != "input" and op not in OPS:
                raise ValueError(f"Unknown gate {op!r} for node {name!r}; known gates: {sorted(OPS)}.")
            missing = [i for i in inputs if i not in self.nodes]
            if missing:
                raise ValueError(f"Node {name!r} uses {missing} before they are defined; list nodes in computing order.")
            self.nodes[name] = Node(name, op, inputs)
        self.output_name = list(self.nodes)[-1]

    @property
    def input_names(self) -> list[str]:
        return [n.name for n in self.nodes.values() if n.op == "input"]

    @property
    def gates(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.op != "input"]

    @property
    def output(self) -> float:
        return self.nodes[self.output_name].value

    @property
    def grads(self) -> dict[str, float]:
        """d output / d node for every node (after ``backward``)."""
        return {name: node.grad for name, node in self.nodes.items()}

    def forward(self, **inputs: float) -> float:
        """Compute every node's value in order, and each gate's local gradients; return the output."""
        unknown = set(inputs) - set(self.input_names)
        missing = set(self.input_names) - set(inputs)
        if unknown or missing:
            raise ValueError(f"forward needs exactly the inputs {self.input_names}; "
                             f"missing {sorted(missing)}, unexpected {sorted(unknown)}.")
        for node in self.nodes.values():
            if node.op == "input":
                node.value = float(inputs[node.name])
                continue
            f, local = OPS[node.op]
            args = [self.nodes[i].value for i in node.inputs]
            node.value = float(f(*args))
            node.local = tuple(float(g) for g in local(*args, node.value))
        return self.output

    def backward(self) -> dict[str, float]:
        """Chain rule in reverse order: grad(input) += local * grad(output). Returns ``grads``."""
        for node in self.nodes.values():
            node.grad = 0.0
        self.nodes[self.output_name].grad = 1.0          # d f / d f = 1
        for node in reversed(list(self.nodes.values())):
            for name, local in zip(node.inputs, node.local):
                self.nodes[name].grad += local * node.grad
        return self.grads

    def edges(self) -> list[tuple[str, str, float, float]]:
        """(source, gate, forward value, gradient flowing back along this edge) for every edge."""
        out = []
        for gate in self.gates:
            for name, local in zip(gate.inputs, gate.local):
                out.append((name, gate.name, self.nodes[name].value, local * gate.grad))
        return out

    def table(self) -> list[dict]:
        """One row per gate: output value, local gradient(s), upstream gradient and the gradients sent back."""
        rows = []
        for g in self.gates:
            rows.append(dict(gate=g.name, op=g.op, inputs=g.inputs, value=g.value, local=g.local,
                             upstream=g.grad, downstream=tuple(l * g.grad for l in g.local)))
        return rows

    def table_text(self, digits: int = 4) -> str:
        """The gate-by-gate table as aligned text (forward left to right, then backward right to left)."""
        fmt = lambda vals: "[" + ", ".join(f"{v:.{digits}f}" for v in vals) + "]"
        lines = [f"{'gate':<6}{'op':<5}{'inputs':<12}{'forward':>9}   {'local grads':<20}{'upstream':>9}   {'sent back':<20}"]
        for r in self.table():
            lines.append(f"{r['gate']:<6}{r['op']:<5}{','.join(r['inputs']):<12}{r['value']:>9.{digits}f}   "
                         f"{fmt(r['local']):<20}{r['upstream']:>9.{digits}f}   {fmt(r['downstream']):<20}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Circuit(inputs={self.input_names}, gates={[g.op for g in self.gates]}, output={self.output_name!r})"


# ------------------------------------------------------------------ the lectures' circuits

SIGMOID_SPEC = [
    ("w0", "input"), ("x0", "input"), ("w1", "input"), ("x1", "input"), ("w2", "input"),
    ("a", "*", ("w0", "x0")),       # w0 x0
    ("b", "*", ("w1", "x1")),       # w1 x1
    ("c", "+", ("a", "b")),         # w0 x0 + w1 x1
    ("dot", "+", ("c", "w2")),      # + w2
    ("neg", "*-1", ("dot",)),
    ("e", "exp", ("neg",)),
    ("den", "+1", ("e",)),
    ("f", "1/x", ("den",)),
]

# The same neuron with the last four gates collapsed into one sigmoid gate.
SIGMOID_GATE_SPEC = SIGMOID_SPEC[:9] + [("f", "σ", ("dot",))]

# CS231n's example of the three patterns: f = 2 (x y + max(z, w)).
PATTERNS_SPEC = [
    ("x", "input"), ("y", "input"), ("z", "input"), ("w", "input"),
    ("xy", "*", ("x", "y")), ("m", "max", ("z", "w")), ("s", "+", ("xy", "m")), ("f", "*2", ("s",)),
]


def sigmoid_circuit(w: Sequence[float] = (2.0, -3.0, -3.0), x: Sequence[float] = (-1.0, -2.0),
                    collapsed: bool = False) -> Circuit:
    """The neuron f = sigma(w0 x0 + w1 x1 + w2) as a circuit, with forward AND backward already run.

    w: (3,) weights and bias, x: (2,) inputs. ``collapsed=True`` uses one sigma gate for the last four.
    """
    w, x = np.asarray(w, dtype=float).ravel(), np.asarray(x, dtype=float).ravel()
    if w.shape != (3,) or x.shape != (2,):
        raise ValueError(f"sigmoid_circuit needs w of shape (3,) = [w0, w1, w2] and x of shape (2,), "
                         f"got {w.shape} and {x.shape}.")
    c = Circuit(SIGMOID_GATE_SPEC if collapsed else SIGMOID_SPEC)
    c.forward(w0=w[0], w1=w[1], w2=w[2], x0=x[0], x1=x[1])
    c.backward()
    return c


def sigmoid_circuit_grads(w: Sequence[float], x: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """(dw, dx) of f = sigma(w0 x0 + w1 x1 + w2): dw (3,), dx (2,), read off the circuit."""
    g = sigmoid_circuit(w, x).grads
    return np.array([g["w0"], g["w1"], g["w2"]]), np.array([g["x0"], g["x1"]])


def patterns_circuit(x: float = 3.0, y: float = -4.0, z: float = 2.0, w: float = -1.0) -> Circuit:
    """f = 2 (x y + max(z, w)), forward and backward run: shows add, mul and max in one picture."""
    c = Circuit(PATTERNS_SPEC)
    c.forward(x=x, y=y, z=z, w=w)
    c.backward()
    return c


# ------------------------------------------------------------------ drawing


def _layout(c: Circuit) -> dict[str, tuple[float, float]]:
    """x = depth (longest path from an input), y = inputs stacked top-down, gates at their inputs' mean."""
    pos: dict[str, tuple[float, float]] = {}
    inputs = c.input_names
    for i, name in enumerate(inputs):
        pos[name] = (0.0, float(len(inputs) - 1 - i))
    for g in c.gates:
        xs, ys = zip(*(pos[i] for i in g.inputs))
        pos[g.name] = (max(xs) + (1.6 if max(xs) == 0 else 1.0), float(np.mean(ys)))
    return pos


def plot_circuit(c: Circuit, title: str | None = None, digits: int = 2) -> Figure:
    """Draw the circuit like CS231n's figures: gates as circles, forward values (green) above each
    edge and gradients df/d(edge) (red) below it. Returns the matplotlib Figure."""
    pos = _layout(c)
    depth = max(x for x, _ in pos.values())
    n_in = len(c.input_names)
    fig, ax = plt.subplots(figsize=(1.05 * (depth + 1.6), 0.95 * n_in + 0.6))
    gate_pts = 26  # circle diameter in points

    def edge(p, q, value, grad, from_gate, t=0.5):
        ax.annotate("", xy=q, xytext=p, arrowprops=dict(
            arrowstyle="-|>", color="0.35", lw=1.1, shrinkA=gate_pts / 2 if from_gate else 6, shrinkB=gate_pts / 2))
        m = (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
        ax.annotate(f"{value:.{digits}f}", m, xytext=(0, 3), textcoords="offset points",
                    color=FORWARD_COLOR, ha="center", va="bottom", fontsize=9, bbox=_LABEL_BOX)
        ax.annotate(f"{grad:.{digits}f}", m, xytext=(0, -3), textcoords="offset points",
                    color=BACKWARD_COLOR, ha="center", va="top", fontsize=9, bbox=_LABEL_BOX)

    for name in c.input_names:
        ax.text(*pos[name], name + " ", ha="right", va="center", fontsize=11, fontweight="bold")
    for src, dst, value, grad in c.edges():
        from_gate = c.nodes[src].op != "input"
        edge(pos[src], pos[dst], value, grad, from_gate, t=0.5 if from_gate else 0.3)
    gx, gy = zip(*(pos[g.name] for g in c.gates))
    ax.plot(gx, gy, "o", ms=gate_pts, mfc="white", mec="0.2", mew=1.3, zorder=3, ls="none")
    for g in c.gates:
        ax.text(*pos[g.name], g.op, ha="center", va="center", fontsize=10 if len(g.op) < 3 else 8, zorder=4)
    out = c.nodes[c.output_name]
    ox, oy = pos[out.name]
    edge((ox, oy), (ox + 1.0, oy), out.value, out.grad, from_gate=True)
    ax.text(ox + 1.0, oy, "  f", ha="left", va="center", fontsize=11, fontweight="bold")
    ax.set_xlim(-0.5, depth + 1.4)
    ax.set_ylim(-0.5, n_in - 0.5)
    ax.axis("off")
    ax.set_title(title or "forward values (green, above each edge) and gradients df/d· (red, below)", fontsize=10)
    return finish(fig)


def explore_circuit(w0: float = 2.0, w1: float = -3.0, w2: float = -3.0, x0: float = -1.0, x1: float = -2.0) -> Figure:
    """Widget callback: rebuild the sigmoid circuit for these numbers and draw it. Returns the Figure."""
    c = sigmoid_circuit([w0, w1, w2], [x0, x1])
    dw, dx = sigmoid_circuit_grads([w0, w1, w2], [x0, x1])
    title = (f"f = {c.output:.4f};  dw = [{dw[0]:.3f}, {dw[1]:.3f}, {dw[2]:.3f}],  "
             f"dx = [{dx[0]:.3f}, {dx[1]:.3f}]")
    return plot_circuit(c, title=title)


# ------------------------------------------------------------------ finite differences


def finite_difference_errors(eps_values: Sequence[float], dtype=np.float64, x0: float = 1.0) -> dict[str, np.ndarray]:
    """|numerical - exact| derivative of sigma at x0, for forward and centred differences, in ``dtype``.

    forward: (f(x + h) - f(x)) / h            truncation error O(h)
    centred: (f(x + h) - f(x - h)) / (2 h)    truncation error O(h^2)
    Both also suffer rounding error ~ machine epsilon / h, which grows as h shrinks.
    """
    def f(v):
        v = dtype(v)
        return dtype(1) / (dtype(1) + np.exp(-v))

    exact = _sigmoid(x0) * (1 - _sigmoid(x0))
    fwd, ctr = [], []
    for h in eps_values:
        xp, xm, x = dtype(x0 + h), dtype(x0 - h), dtype(x0)
        hp, hc = float(xp) - float(x), (float(xp) - float(xm)) / 2   # the step actually taken in dtype
        fwd.append(abs(float(f(xp) - f(x)) / hp - exact) if hp else np.inf)
        ctr.append(abs(float(f(xp) - f(xm)) / (2 * hc) - exact) if hc else np.inf)
    return {"forward": np.array(fwd), "centred": np.array(ctr)}


def plot_finite_difference_errors(eps_values: Sequence[float] | None = None) -> Figure:
    """Error of forward and centred differences against the step h, in float64 and float32 (log-log)."""
    eps_values = np.logspace(-12, -1, 45) if eps_values is None else np.asarray(eps_values)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for dtype, style in ((np.float64, "-"), (np.float32, ":")):
        errs = finite_difference_errors(eps_values, dtype)
        for kind, color in (("forward", "tab:orange"), ("centred", "tab:blue")):
            ax.loglog(eps_values, np.maximum(errs[kind], 1e-17), style, color=color,
                      label=f"{kind}, {np.dtype(dtype).name}")
    ax.set(xlabel="step h", ylabel="|numerical − exact| of σ'(1)",
           title="finite differences: truncation (right) vs rounding (left)")
    ax.legend(fontsize=8)
    return finish(fig)
