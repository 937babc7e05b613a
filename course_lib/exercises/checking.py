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
    """Name the common mistakes: a flipped sign, a constant factor, a transpose."""
    if np.allclose(got, -want):
        return "Your values have the opposite sign everywhere."
    if want.ndim == 2 and want.shape[0] == want.shape[1] and np.allclose(got, want.T):
        return "Your answer is the transpose of the expected one."
    nonzero = np.abs(want) > 1e-12
    ratio = got[nonzero] / want[nonzero]
    if not np.allclose(got[~nonzero], 0.0):
        return ""
    if want.size == 1 and ratio.size == 1:
        return f"Your value is {ratio[0]:.4g} times the expected one."
    if ratio.size and np.allclose(ratio, ratio[0]) and not np.isclose(ratio[0], 1.0):
        return f"Your values are all {ratio[0]:.4g} times the expected ones (a missing 1/N, or a factor of 2?)."
    return ""


def compare_answer(key: str, got, want, rtol: float, atol: float, context: str, hint: str) -> None:
    """Raise ExerciseFailed with a precise message unless ``got`` matches ``want``."""
    got_arr, want_arr = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got_arr.shape != want_arr.shape:
        raise ExerciseFailed(
            f"{key}: {context}your answer has shape {got_arr.shape}, expected {want_arr.shape}.\nHint: {hint}"
        )
    if not np.all(np.isfinite(got_arr)) and np.all(np.isfinite(want_arr)):
        raise ExerciseFailed(f"{key}: {context}your answer contains nan or inf (overflow?).\nHint: {hint}")
    wrong = ~np.isclose(got_arr, want_arr, rtol=rtol, atol=atol)
    if wrong.any():
        first = tuple(int(i) for i in np.argwhere(wrong)[0]) if wrong.ndim else ()
        raise ExerciseFailed(
            f"{key}: {context}{int(wrong.sum())} of {wrong.size} value(s) differ; "
            f"at index {first}: yours {got_arr[first]:.6g}, expected {want_arr[first]:.6g}. "
            f"{_diagnose(got_arr, want_arr)}\nHint: {hint}"
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
            want = ex.reference(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args])
            got = answer(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args])
            compare_answer(ex.key, got, want, ex.rtol, ex.atol, f"for inputs ({_describe(args)}), ", ex.hint)
    except NotImplementedError:
        raise ExerciseFailed(f"{ex.key}: not attempted yet — {ex.task}\nHint: {ex.hint}") from None
    return f"✔ {ex.key}: correct on {ex.trials} hidden test inputs (the same ones on every run)."
