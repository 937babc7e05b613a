"""Checkers that run a learner's answer against the reference and say what is off."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class ExerciseFailed(AssertionError):
    """The answer is not right yet; the message says which part and gives a hint."""


@dataclass
class Exercise:
    """One checkable exercise.

    ``reference(*args)`` is the model answer; ``make_inputs(rng)`` returns a tuple of random
    arguments; for a plain number exercise, ``expected`` is the value and the other two stay None.
    ``mistakes`` maps a common wrong answer's description to a function that makes it; the inputs must
    tell each of them from the reference (tests/test_exercises.py proves the checker rejects them all).
    """

    key: str
    task: str
    hint: str
    reference: Callable | None = None
    make_inputs: Callable[[np.random.Generator], tuple] | None = None
    expected: Any = None
    rtol: float = 1e-6
    atol: float = 1e-9
    trials: int = 3
    extra: dict = field(default_factory=dict)
    mistakes: dict[str, Callable] = field(default_factory=dict)


def _describe(args: tuple) -> str:
    return ", ".join(f"array{tuple(a.shape)}" if isinstance(a, np.ndarray) else repr(a) for a in args)


def _diagnose(got: np.ndarray, want: np.ndarray) -> str:
    """Name the mistakes any exercise can make: a flipped sign, a constant factor, a transpose."""
    if np.allclose(got, -want):
        return "Your values have the opposite sign everywhere."
    if want.ndim == 2 and want.shape[0] == want.shape[1] and np.allclose(got, want.T):
        return "Your answer is the transpose of the expected one."
    nonzero = np.abs(want) > 1e-12
    ratio = got[nonzero] / want[nonzero]
    if not np.allclose(got[~nonzero], 0.0) or not ratio.size or not np.allclose(ratio, ratio[0]):
        return ""
    if np.isclose(ratio[0], 0.0):
        return "Your values are all zero where the expected ones are not."
    if want.size == 1:
        return f"Your value is {ratio[0]:.4g} times the expected one."
    return f"Your values are all {ratio[0]:.4g} times the expected ones{_factor_hint(ratio[0], want.shape)}."


def _factor_hint(ratio: float, shape: tuple) -> str:
    """Guess where a uniform factor comes from, only when it is one a common slip produces."""
    if np.isclose(ratio, 2.0) or np.isclose(ratio, 0.5):
        return " (a factor of 2: the 1/2 of a square's derivative?)"
    for n in sorted(set(shape)):
        if n > 1 and (np.isclose(ratio, n) or np.isclose(ratio, 1 / n)):
            return f" (a factor of {n}, the size of an axis of the answer: a missing or extra 1/{n}, mean vs sum?)"
    return ""


def _same(got, want, rtol: float, atol: float) -> bool:
    """Whether ``got`` matches ``want`` (arrays, numbers, or a tuple of them) within the tolerances."""
    if isinstance(want, tuple):
        return (isinstance(got, (tuple, list)) and len(got) == len(want)
                and all(_same(g, w, rtol, atol) for g, w in zip(got, want)))
    try:
        got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        return False
    return got.shape == want.shape and bool(np.all(np.isclose(got, want, rtol=rtol, atol=atol)))


def _copies(args: tuple) -> list:
    """Fresh copies of the array arguments, so an answer that changes its inputs in place harms nothing."""
    return [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]


def _name_the_mistake(ex: Exercise, got, args: tuple) -> str:
    """If ``got`` is what one of the exercise's declared common mistakes gives, say which."""
    for name, mistake in ex.mistakes.items():
        if _same(got, mistake(*_copies(args)), ex.rtol, ex.atol):
            return f"This looks like a common mistake: {name}. "
    return ""


def compare_answer(key: str, got, want, rtol: float, atol: float, context: str, hint: str, named: str = "") -> None:
    """Raise ExerciseFailed with a precise message unless ``got`` matches ``want``.

    ``named`` is the common mistake the answer was recognised as, if any; it comes before the hint.
    A tuple ``want`` (say, several gradients) is compared part by part.
    """
    if isinstance(want, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            count = f" of {len(got)}" if isinstance(got, (tuple, list)) else ""
            raise ExerciseFailed(f"{key}: {context}return a tuple of {len(want)} results, "
                                 f"got a {type(got).__name__}{count}.\n{named}Hint: {hint}")
        for i, (got_part, want_part) in enumerate(zip(got, want)):
            compare_answer(key, got_part, want_part, rtol, atol, f"{context}result {i} of {len(want)}: ", hint, named)
        return
    got_arr, want_arr = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got_arr.shape != want_arr.shape:
        raise ExerciseFailed(f"{key}: {context}your answer has shape {got_arr.shape}, expected {want_arr.shape}."
                             f"\n{named}Hint: {hint}")
    if not np.all(np.isfinite(got_arr)) and np.all(np.isfinite(want_arr)):
        raise ExerciseFailed(f"{key}: {context}your answer contains nan or inf (overflow?).\n{named}Hint: {hint}")
    wrong = ~np.isclose(got_arr, want_arr, rtol=rtol, atol=atol)
    if wrong.any():
        first = tuple(int(i) for i in np.argwhere(wrong)[0]) if wrong.ndim else ()
        raise ExerciseFailed(
            f"{key}: {context}{int(wrong.sum())} of {wrong.size} value(s) differ; "
            f"at index {first}: yours {got_arr[first]:.6g}, expected {want_arr[first]:.6g}. "
            f"{_diagnose(got_arr, want_arr)}\n{named}Hint: {hint}"
        )


def run_check(ex: Exercise, answer) -> str:
    """Check ``answer`` (a function, or a value) against ``ex``; return the success message."""
    try:
        if ex.reference is None:
            compare_answer(ex.key, answer, ex.expected, ex.rtol, ex.atol, "", ex.hint)
            return f"✔ {ex.key}: correct."
        # Inputs the learner has not seen, but the same ones on every run: feedback is reproducible.
        rng = np.random.default_rng(zlib.crc32(ex.key.encode()))
        for _ in range(ex.trials):
            args = ex.make_inputs(rng)
            want, got = ex.reference(*_copies(args)), answer(*_copies(args))
            named = "" if _same(got, want, ex.rtol, ex.atol) else _name_the_mistake(ex, got, args)
            compare_answer(ex.key, got, want, ex.rtol, ex.atol, f"for inputs ({_describe(args)}), ", ex.hint, named)
    except NotImplementedError:
        raise ExerciseFailed(f"{ex.key}: not attempted yet — {ex.task}\nHint: {ex.hint}") from None
    return f"✔ {ex.key}: correct on {ex.trials} hidden test inputs (the same ones on every run)."
