"""Exercises of notebook 03 (backpropagation).

Two of them return a tuple of arrays of different shapes, e.g. ``(dx, dW, db)``; the checker
compares each part by its name (``Exercise.parts``), so feedback says "dW: ..." when dW is off.

``03.topological_order`` returns a list of graph nodes; the checker wraps the learner's function in
``order_answer`` itself, so both of these work:

    check("03.topological_order", my_topological_order)
    check("03.topological_order", order_answer(my_topological_order))

The checker builds its own graphs (``RandomGraph``, of ``GraphNode``s with the attributes of the
notebook's ``Value``); ``order_answer`` checks the list (each reachable node once, after its parents)
and returns every node's gradient after a backward sweep in the reverse order, which is compared.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..lessons.nb03_backprop import sigmoid_circuit_grads
from ..scratch import functional as sf
from .checking import Exercise, ExerciseFailed


# ---------------------------------------------------------------- inputs


def _circuit_grads_sigma_prime_as_sigma(w, x):
    """A common mistake: the sigmoid gate's local gradient taken as f instead of f (1 - f)."""
    f = 1.0 / (1.0 + np.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))
    return f * np.array([x[0], x[1], 1.0]), f * np.array([w[0], w[1]])


def _circuit_grads_not_swapped(w, x):
    """A common mistake: each input of a * gate gets its own value, not the other input's (mul not swapped)."""
    f = 1.0 / (1.0 + np.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))
    return f * (1 - f) * np.array([w[0], w[1], 1.0]), f * (1 - f) * np.array([x[0], x[1]])


def _circuit_grads_no_bias(w, x):
    """A common mistake: the bias w2 given no gradient (it sits behind an add, which passes the gradient on)."""
    dw, dx = sigmoid_circuit_grads(w, x)
    return dw * np.array([1.0, 1.0, 0.0]), dx


def _circuit_inputs(rng: np.random.Generator) -> tuple:
    return rng.normal(0, 2, 3), rng.normal(0, 2, 2)


def _linear_inputs(rng: np.random.Generator) -> tuple:
    n, d, m = rng.integers(2, 7, size=3)
    return rng.standard_normal((n, m)), rng.standard_normal((n, d)), rng.standard_normal((m, d))


def _relu_inputs(rng: np.random.Generator) -> tuple:
    x = rng.standard_normal((4, 6))
    x[rng.random(x.shape) < 0.2] = 0.0          # exact zeros: torch's relu'(0) is 0
    x[0, 0] = 0.0
    return rng.standard_normal(x.shape), x


def _ce_inputs(rng: np.random.Generator) -> tuple:
    n, c = int(rng.integers(3, 9)), int(rng.integers(3, 11))
    return rng.normal(0, 3, (n, c)), rng.integers(0, c, n)


class SmoothFunction:
    """f(x) = sum(a * sin(x)) + 0.5 * (sum(x))**2, with its exact gradient ``grad(x) = a cos(x) + sum(x)``.

    The squared sum couples every entry with every other, so an answer that leaves x[i] shifted after
    measuring it gets the later entries wrong (a separable f would not notice)."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def __call__(self, x: np.ndarray) -> float:
        return float(np.sum(self.a * np.sin(x)) + 0.5 * np.sum(x) ** 2)

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.a * np.cos(x) + np.sum(x)

    def __repr__(self) -> str:
        return "f(x) = sum(a*sin(x)) + 0.5*sum(x)**2"


def _ce_backward_softmax_axis0(s, y):
    """A common mistake: softmax normalised down each column (over the batch) instead of along each row."""
    p = sf.softmax(s, dim=0)
    p[np.arange(len(y)), y] -= 1.0
    return p / len(y)


def _numgrad_not_restoring_x(f, x, h=1e-5):
    """A common mistake: x[i] is moved to x[i] + h, then to x[i] - h, and never put back."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = f(x)
        x[i] -= 2 * h
        grad[i] = (plus - f(x)) / (2 * h)
    return grad


def _numgrad_forward_differences(f, x, h=1e-5):
    """A common mistake: forward differences (f(x + h) - f(x)) / h, only accurate to O(h)."""
    grad, base = np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - base) / h
        x[i] = old
    return grad


def _numgrad_divided_by_h(f, x, h=1e-5):
    """A common mistake: centred differences divided by h instead of 2h (twice the gradient)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        grad[i] = (plus - f(x)) / h
        x[i] = old
    return grad


def _numgrad_inputs(rng: np.random.Generator) -> tuple:
    shape = tuple(int(s) for s in rng.integers(2, 5, size=2))
    return SmoothFunction(rng.normal(0, 2, shape)), rng.standard_normal(shape)


# ---------------------------------------------------------------- 03.topological_order: graphs of scalars

TOPOLOGICAL_ORDER_HINT = (
    "Depth-first with a list as the stack: push (root, False); pop (node, expanded); if the node is done, skip it; "
    "if expanded, mark it done and append it (all its parents are in the list by now); otherwise push "
    "(node, True) back, then (parent, False) for each parent. Never append a node before its parents.")


class GraphNode:
    """One scalar of a computational graph, as the checker builds them (the notebook's ``Value`` has the same
    attributes): ``data``, ``grad``, ``parents`` (the nodes it was computed from: a tuple, in which the same
    node may appear twice, as in x * x) and ``local_grads`` (d data / d parent, one per parent); ``op`` ("+", "*",
    or "" for a leaf) and ``label`` name it in messages. Nodes hash and compare by identity (they go in sets)."""

    __slots__ = ("data", "grad", "parents", "local_grads", "op", "label")

    def __init__(self, data: float, parents: tuple = (), local_grads: tuple = (), op: str = "", label: str = "") -> None:
        self.data, self.grad, self.parents, self.local_grads = data, 0.0, parents, local_grads
        self.op, self.label = op, label

    def __add__(self, other: "GraphNode") -> "GraphNode":
        return GraphNode(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other: "GraphNode") -> "GraphNode":
        return GraphNode(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __repr__(self) -> str:
        return f"GraphNode({self.label}, data={self.data:.4g})"


class RandomGraph:
    """The checker's test input: a random graph of + and * nodes over a few leaves, in which several nodes are
    shared (used by two later nodes, or twice by one, as in x * x), followed by a chain of ``chain`` additions
    (deeper than Python's recursion limit of 1,000 calls). ``root`` is the last node; ``nodes`` are all nodes
    in the order they were made, which is one valid topological order."""

    def __init__(self, rng: np.random.Generator, n_leaves: int = 4, n_ops: int = 12, chain: int = 3000) -> None:
        nodes = [GraphNode(float(v), label=f"leaf{i}") for i, v in enumerate(rng.uniform(0.5, 1.5, n_leaves))]
        for _ in range(n_ops):
            a, b = (nodes[int(i)] for i in rng.integers(0, len(nodes), size=2))
            nodes.append(a + b if rng.random() < 0.5 else a * b)
        top = nodes[-1] * nodes[-1]                               # a node used twice by one gate
        step = GraphNode(1e-3, label="step")                      # the chain adds this one leaf again and again
        nodes += [top, step]
        for _ in range(chain):
            top = top + step
            nodes.append(top)
        for i, node in enumerate(nodes):
            node.label = node.label or f"n{i}"
        self.nodes, self.root, self.chain = nodes, nodes[-1], chain

    def __repr__(self) -> str:
        return f"a graph of {len(self.nodes)} nodes ({self.chain} of them a chain of additions)"


def _reachable(root: GraphNode) -> list[GraphNode]:
    seen, stack = {id(root): root}, [root]
    while stack:
        for parent in stack.pop().parents:
            if id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    return list(seen.values())


def topological_order(root: GraphNode) -> list[GraphNode]:
    """Every node that ``root`` depends on (``root`` and the leaves included), each once, each after all its
    parents; no recursion, so a chain of any length works. Depth-first with an explicit stack: a node is
    appended when all its parents have been appended (post-order), which is the (node, expanded) flag."""
    order, done, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        if expanded:
            done.add(id(node))
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if id(p) not in done)
    return order


def backward(root: GraphNode, order: list[GraphNode]) -> None:
    """Reverse-mode sweep: d root / d root = 1, then, children before parents, grad(parent) += local * grad."""
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += local * node.grad


def order_answer(fn: Callable) -> Callable:
    """Wrap a learner's ``topological_order(root) -> list of nodes`` for ``check("03.topological_order", ...)``.

    The wrapped function takes a RandomGraph, checks the list the learner's function returns (every reachable
    node once, each after all its parents; a RecursionError is named), and returns every node's gradient after a
    backward sweep in the reverse of that order, which the checker compares with the reference's.
    """
    key, hint = "03.topological_order", TOPOLOGICAL_ORDER_HINT
    if getattr(fn, "checks_an_order", False):   # wrapped already: the checker wraps what the learner passes
        return fn

    def wrapped(graph: RandomGraph) -> np.ndarray:
        def fail(message: str) -> ExerciseFailed:
            return ExerciseFailed(f"{key}: for {graph!r}, {message}\nHint: {hint}")
        try:
            order = fn(graph.root)
        except RecursionError:
            raise fail("your function recursed deeper than Python allows (about 1,000 nested calls); "
                       "keep the nodes still to visit on a list used as a stack instead.") from None
        if order is None:
            raise fail("your function returned None: return the list of nodes (did you forget `return order`?).")
        if not isinstance(order, (list, tuple)) or not all(isinstance(n, GraphNode) for n in order):
            raise fail(f"return a list of the graph's nodes; your function returned {type(order).__name__}.")
        position = {}
        for i, node in enumerate(order):
            if id(node) in position:
                raise fail(f"{node.label} appears twice (positions {position[id(node)]} and {i}): "
                           "keep a set of the nodes already visited.")
            position[id(node)] = i
        reachable = _reachable(graph.root)
        missing = [n.label for n in reachable if id(n) not in position]
        if missing or len(order) != len(reachable):
            raise fail(f"your list has {len(order)} nodes, the graph {len(reachable)} reachable from the root"
                       f"{'; missing: ' + ', '.join(missing[:5]) if missing else ''}.")
        for node in order:
            for parent in node.parents:
                if position[id(parent)] > position[id(node)]:
                    raise fail(f"{node.label} (position {position[id(node)]}) comes before its parent "
                               f"{parent.label} (position {position[id(parent)]}); every node must come after "
                               "all its parents.")
        backward(graph.root, list(order))
        return np.array([n.grad for n in graph.nodes])

    wrapped.checks_an_order = True
    return wrapped


def _topo_recursive(root):
    """A common mistake here: the recursive depth-first search (fine for the sigmoid circuit, not for 3,000 nodes)."""
    order, seen = [], set()

    def visit(node):
        if id(node) not in seen:
            seen.add(id(node))
            for parent in node.parents:
                visit(parent)
            order.append(node)
    visit(root)
    return order


def _topo_reversed(root):
    """A common mistake: the order backward walks (children first) instead of the topological order."""
    return topological_order(root)[::-1]


def _topo_no_visited_set(root):
    """A common mistake: no set of visited nodes, so a shared node is listed once per path that reaches it."""
    order, stack = [], [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    return order


def _topo_preorder(root):
    """A common mistake: a node is listed when first reached (pre-order), before all its parents are."""
    order, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            order.append(node)
            stack.extend(node.parents)
    return order[::-1]


EXERCISES: list[Exercise] = [
    Exercise(
        key="03.sigmoid_circuit_grads",
        task="Return (dw, dx) for f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))): dw has shape (3,), dx shape (2,).",
        hint="Forward: dot = w0 x0 + w1 x1 + w2, f = sigma(dot). Backward: ddot = f (1 - f); "
             "then mul swaps: dw = ddot * [x0, x1, 1], dx = ddot * [w0, w1].",
        reference=sigmoid_circuit_grads, make_inputs=_circuit_inputs, parts=("dw", "dx"),
        mistakes={"sigma'(z) taken as sigma(z) (the factor 1 - sigma forgotten)": _circuit_grads_sigma_prime_as_sigma,
                  "mul not swapped (dw gets w, dx gets x)": _circuit_grads_not_swapped,
                  "no gradient for the bias w2 (an add passes the gradient on)": _circuit_grads_no_bias},
    ),
    Exercise(
        key="03.linear_backward",
        task="Given dy = dL/dy (N, M), x (N, D) and W (M, D) of y = x W^T + b, return (dx, dW, db).",
        hint="Match the shapes: dx = dy @ W is (N, D), dW = dy.T @ x is (M, D), db = dy.sum(axis=0) is (M,).",
        reference=sf.linear_backward, make_inputs=_linear_inputs, parts=("dx", "dW", "db"),
        mistakes={"db averaged over the batch (mean instead of sum)": lambda dy, x, W: (dy @ W, dy.T @ x, dy.mean(axis=0)),
                  "dW transposed (x.T @ dy, shape (D, M))": lambda dy, x, W: (dy @ W, x.T @ dy, dy.sum(axis=0)),
                  "dW divided by the batch size N": lambda dy, x, W: (dy @ W, dy.T @ x / len(x), dy.sum(axis=0))},
    ),
    Exercise(
        key="03.relu_backward",
        task="Given dy = dL/dy and x of y = relu(x) (same shapes), return dL/dx; at exactly x == 0 pass no gradient.",
        hint="The gradient passes where x > 0 and is blocked elsewhere, x == 0 included (torch uses 0 there): "
             "dy * (x > 0).",
        reference=sf.relu_backward, make_inputs=_relu_inputs,
        mistakes={"gradient passed at x == 0 (x >= 0; torch passes none there)": lambda dy, x: dy * (x >= 0),
                  "relu applied to the upstream gradient (np.maximum(dy, 0)) instead of masking by x":
                      lambda dy, x: np.maximum(dy, 0)},
    ),
    Exercise(
        key="03.softmax_ce_backward",
        task="Given scores s (N, C) and integer labels y (N,), return dL/ds of the mean softmax cross-entropy.",
        hint="p = softmax(s) row by row (subtract the row max before exp); dL/ds = (p - onehot(y)) / N.",
        reference=lambda s, y: sf.cross_entropy_backward(1.0, s, y), make_inputs=_ce_inputs,
        mistakes={"the 1/N of the mean missing (gradient of the sum)":
                      lambda s, y: sf.cross_entropy_backward(1.0, s, y) * len(y),
                  "softmax over the wrong axis (axis=0, down the batch)": _ce_backward_softmax_axis0,
                  "one-hot not subtracted (p / N)": lambda s, y: sf.softmax(s, dim=1) / len(y)},
    ),
    Exercise(
        key="03.numerical_gradient",
        task="Given a function f(x) -> float and an array x, return df/dx (same shape as x) by finite differences.",
        hint="Centred differences, one entry at a time: (f(x + h e_i) - f(x - h e_i)) / (2h) with h = 1e-5; "
             "put x[i] back afterwards. Forward differences (f(x + h) - f(x)) / h are only accurate to O(h).",
        reference=lambda f, x: f.grad(x), make_inputs=_numgrad_inputs, rtol=1e-6, atol=1e-7,
        mistakes={"x[i] not put back": _numgrad_not_restoring_x,
                  "forward differences": _numgrad_forward_differences,
                  "centred difference divided by h instead of 2h": _numgrad_divided_by_h},
    ),
    Exercise(
        key="03.topological_order",
        task="Given the output node of a graph, return a list of every node it depends on (itself and the leaves "
             "included), each exactly once and after all its parents (node.parents), without recursion.",
        hint=TOPOLOGICAL_ORDER_HINT,
        reference=order_answer(topological_order), make_inputs=lambda rng: (RandomGraph(rng),),
        adapt_answer=order_answer,
        mistakes={"recursive depth-first search (Python stops at about 1,000 nested calls)":
                      order_answer(_topo_recursive),
                  "order reversed (children before parents)": order_answer(_topo_reversed),
                  "a shared node listed twice (no set of visited nodes)": order_answer(_topo_no_visited_set),
                  "a node listed when first reached, before its parents (pre-order)": order_answer(_topo_preorder)},
    ),
]
