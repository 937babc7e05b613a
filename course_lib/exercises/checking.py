"""Checkers that run a learner's answer against the reference and say what is off.

Two kinds of feedback. A wrong value: which entries differ, a common mistake by name, the hint. A wrong
form, named with its fix before any value is compared: the function returned None, a list, a tuple or a
torch tensor where a NumPy array is expected; a tuple of the wrong length or order; the function takes
other arguments than the checker passes, or raises (its own line is shown, not the checker's).
"""
from __future__ import annotations

import inspect
import json
import os
import re
import sysconfig
import traceback
import types
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np


class ExerciseFailed(AssertionError):
    """The answer is not right yet; the message says which part and gives a hint. ``not_attempted``: the answer is
    still the learner copy's stub (it raised NotImplementedError)."""

    not_attempted = False


@dataclass
class Exercise:
    """One checkable exercise.

    ``reference(*args)`` is the model answer; ``make_inputs(rng)`` returns a tuple of random
    arguments; for a plain number exercise, ``expected`` is the value and the other two stay None.
    ``mistakes`` maps a common wrong answer's description to a function that makes it; the inputs must
    tell each of them from the reference (tests/test_exercises.py proves the checker rejects them all).
    ``parts`` names the arrays of an answer that is a tuple, e.g. ("dx", "dW", "db"): each is compared on
    its own, and feedback says which one is off. ``adapt_answer``, if given, turns the learner's function into
    one the checker can compare (03.topological_order: a list of nodes into the gradients of a backward sweep
    in that order); the checker applies it, so the learner passes their function as it is.
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
    parts: tuple[str, ...] = ()
    adapt_answer: Callable[[Callable], Callable] | None = None


def _arrays(arg) -> bool:
    """Whether ``arg`` is a list or tuple of NumPy arrays (13.clip_grad_norm's gradients)."""
    return type(arg) in (list, tuple) and bool(arg) and all(isinstance(a, np.ndarray) for a in arg)


def _describe_one(arg) -> str:
    """An argument as feedback shows it: an array by its shape, a list of arrays as the list of their shapes."""
    if _arrays(arg):
        return f"[{', '.join(map(_describe_one, arg))}]"
    return f"array{tuple(arg.shape)}" if isinstance(arg, np.ndarray) else repr(arg)


def _describe(args: tuple) -> str:
    return ", ".join(_describe_one(a) for a in args)


def _diagnose(got: np.ndarray, want: np.ndarray) -> str:
    """Name the mistakes any exercise can make: a flipped sign, a constant factor, a transpose."""
    if np.isnan(want).any():
        return _nan_note(got, want)
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
        return f"Your value is {_factor(ratio[0])} times the expected one."
    return f"Your values are all {_factor(ratio[0])} times the expected ones{_factor_hint(ratio[0], want.shape)}."


def _factor(ratio: float) -> str:
    """A ratio to 4 digits, or as 1 +- its distance from 1 where 4 digits would show a plain 1 (13.clip_grad_norm's
    missing 1e-6 scales every value by 1 - 2e-7)."""
    text = f"{ratio:.4g}"
    return text if text != "1" or ratio == 1 else f"1 {'+' if ratio > 1 else '-'} {abs(ratio - 1):.2g}"


def _pair(yours: float, expected: float) -> tuple[str, str]:
    """Two numbers to 6 digits, or to as many as it takes to tell them apart (at most 17)."""
    digits = next((d for d in range(6, 18) if f"{yours:.{d}g}" != f"{expected:.{d}g}"), 17)
    return f"{yours:.{digits}g}", f"{expected:.{digits}g}"


def _factor_hint(ratio: float, shape: tuple) -> str:
    """Guess where a uniform factor comes from, only when it is one a common slip produces."""
    if np.isclose(ratio, 2.0) or np.isclose(ratio, 0.5):
        return " (a factor of 2: the 1/2 of a square's derivative?)"
    for n in sorted(set(shape)):
        if n > 1 and (np.isclose(ratio, n) or np.isclose(ratio, 1 / n)):
            return f" (a factor of {n}, the size of an axis of the answer: a missing or extra 1/{n}, mean vs sum?)"
    return ""


def _nan_note(got: np.ndarray, want: np.ndarray) -> str:
    """Where the expected answer is nan (undefined, 0/0: 11.iou's class in neither map) and the learner's is not."""
    filled = np.isnan(want) & ~np.isnan(got)
    if not filled.any():
        return ""
    return (f"The expected answer is nan (undefined: 0/0) at {int(filled.sum())} position(s) where yours is a number: "
            "keep the nan there rather than replacing it.")


def _integer_note(got, want: np.ndarray) -> str:
    """When integers stand where the expected values have fractions, say where integers come from."""
    kind = np.asarray(got).dtype.kind
    if kind not in "iub" or np.all(want == np.round(want)):
        return ""
    what = "booleans" if kind == "b" else f"integers ({np.asarray(got).dtype})"
    return (f"Your answer holds {what} where the expected values have fractions: an integer division (//), "
            "an .astype(int), or an integer array (np.zeros_like of an integer input) that rounds what you store?")


def _same(got, want, rtol: float, atol: float) -> bool:
    """Whether ``got`` matches ``want`` (arrays, numbers, or a tuple of them) within the tolerances (nan matches nan:
    a mistake that makes nan where the learner's answer does is the same mistake)."""
    if isinstance(want, tuple):
        return (isinstance(got, (tuple, list)) and len(got) == len(want)
                and all(_same(g, w, rtol, atol) for g, w in zip(got, want)))
    try:
        got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return False
    return got.shape == want.shape and bool(np.all(np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)))


def _copies(args: tuple) -> list:
    """Fresh copies of the array arguments (and of the arrays in a list of them), so an answer that changes its
    inputs in place harms nothing."""
    return [np.copy(a) if isinstance(a, np.ndarray) else type(a)(_copies(a)) if _arrays(a) else a for a in args]


def tells_mistakes_apart(args: tuple, reference: Callable, mistakes: dict[str, Callable], rtol: float,
                         atol: float) -> bool:
    """Whether the declared mistakes that go wrong on ``args`` give answers different from one another (then the
    feedback can say which one an answer made). A mistake that raises on ``args`` (a product of two matrices whose
    shapes only fit when they are square) is not one an answer there can make, and is left out."""
    want, wrong = reference(*_copies(args)), []
    for mistake in mistakes.values():
        try:
            made = mistake(*_copies(args))
        except Exception:                       # as _name_the_mistake: not what an answer on these inputs did
            continue
        if not _same(made, want, rtol, atol):
            wrong.append(made)
    return all(not _same(a, b, rtol, atol) for i, a in enumerate(wrong) for b in wrong[i + 1:])


def draw_apart(make: Callable[[np.random.Generator], tuple], reference: Callable, mistakes: dict[str, Callable],
               rtol: float = 1e-6, atol: float = 1e-9) -> Callable[[np.random.Generator], tuple]:
    """An input maker that draws with ``make`` until the declared mistakes can be told apart (checked with the
    exercise's tolerances)."""
    def draw(rng: np.random.Generator) -> tuple:
        while True:
            args = make(rng)
            if tells_mistakes_apart(args, reference, mistakes, rtol, atol):
                return args
    return draw


def _name_the_mistake(ex: Exercise, got, args: tuple) -> str:
    """If ``got`` is what one of the exercise's declared common mistakes gives, say which."""
    for name, mistake in ex.mistakes.items():
        try:
            made = mistake(*_copies(args))
        except Exception:                       # a mistake that fails on these inputs is not what the answer did
            continue
        if _same(got, made, ex.rtol, ex.atol):
            return f"This looks like a common mistake: {name}. "
    return ""


# ------------------------------------------------------------------ the form of an answer, before its values

def _expected_form(want) -> str:
    """What the reference returns, in a learner's words: 'a single number', 'a NumPy array of shape (5, 3)'."""
    if isinstance(want, list):
        return f"a list of {len(want)} numbers"
    if np.ndim(want) == 0:
        return "a single number"
    return f"a NumPy array of shape {np.shape(want)}"


def _form_problem(got, want) -> str:
    """What is wrong with the kind of thing ``got`` is, for a ``want`` that is one array, list or number
    ('' when ``got`` is the right kind): None, a torch tensor, a list or tuple where an array is expected,
    something that is not numbers at all."""
    if got is None:
        return ("your answer is None: your function returned nothing. Did you forget `return` (or return the "
                "result of an in-place call such as x.sort() or list.append(), which is None)?")
    if type(got).__module__.split(".")[0] == "torch" and not isinstance(got, tuple):   # torch.Size is a tuple
        return (f"your answer is a torch.{type(got).__name__}, and this exercise "
                f"is NumPy: return {_expected_form(want)}. Compute with NumPy on the arrays your function receives "
                "(or convert at the end with .detach().numpy()).")
    if isinstance(got, types.GeneratorType):
        return (f"your answer is a generator (a `(... for ...)` expression?): return {_expected_form(want)}, "
                "e.g. np.array([... for ...]) with square brackets.")
    if isinstance(want, np.ndarray) and want.ndim > 0 and isinstance(got, (list, tuple)):
        if isinstance(got, tuple) and len(got) == 1:
            return ("your answer is a tuple of 1 value where one array is expected: a trailing comma after "
                    "`return` (return x,)? Remove it.")
        if isinstance(got, tuple):
            return (f"your answer is a tuple of {len(got)} values where one array of shape {want.shape} is "
                    "expected: return that array alone.")
        return (f"your answer is a Python list where {_expected_form(want)} is expected: return "
                "np.array(your_list), or build the answer with NumPy operations.")
    try:
        np.asarray(got, dtype=float)
    except (TypeError, ValueError):             # a set, a dict, a string, a list of lists of different lengths
        return f"your answer, a {type(got).__name__}, cannot be read as numbers: return {_expected_form(want)}."
    return ""


def _shape_advice(got: tuple, want: tuple) -> str:
    """The slip a wrong shape most likely comes from, when the two shapes point at one ('' otherwise)."""
    if got == ():
        return "A single number where an array is expected: did a sum, mean or max run over every axis (no axis=)?"
    if want == ():
        if int(np.prod(got)) == 1:
            return "A single number is expected: take it out with float(...) or .item() (keepdims=True?)."
        return "A single number is expected: reduce your array to one, as the task says (a mean? a sum?)."
    if len(got) == 2 and got == want[::-1]:
        return "That is the transpose: swap the two axes (.T), or the order of a matrix product."
    if sorted(got) == sorted(want):
        return "Those are the expected axes in another order: check a transpose or reshape."
    if [n for n in got if n != 1] == [n for n in want if n != 1]:
        if len(got) > len(want):
            return "An extra axis of length 1 (keepdims=True, or x[:, None]?): remove it, e.g. with .squeeze()."
        return "An axis of length 1 is missing: keep it with keepdims=True, or add it with x[:, None]."
    if len(got) > len(want) and got[:len(want)] == want:
        return (f"Your answer keeps the axes {got[len(want):]} the expected one has not: a sum, mean or max over "
                "them missing, or its axis= wrong?")
    if int(np.prod(got)) == int(np.prod(want)):
        return "The right number of values, arranged differently: check a reshape."
    return ""


def _reordered(got, want: tuple, rtol: float, atol: float) -> list[int] | None:
    """If the parts of ``got`` are the parts of ``want`` in another order, that order (else None)."""
    order = []
    for part in got:
        matches = [j for j, w in enumerate(want) if j not in order and _same(part, w, rtol, atol)]
        if not matches:
            return None
        order.append(matches[0])
    return None if order == sorted(order) else order


def compare_answer(key: str, got, want, rtol: float, atol: float, context: str, hint: str, named: str = "",
                   parts: tuple[str, ...] = ()) -> None:
    """Raise ExerciseFailed with a precise message unless ``got`` matches ``want``.

    ``named`` is the common mistake the answer was recognised as, if any; it comes before the hint.
    A tuple ``want`` (say, several gradients) is compared part by part, each called by its name in ``parts``.
    The form of ``got`` (None, a list, a torch tensor, the shape) is checked before its values.
    """
    def fail(message: str) -> ExerciseFailed:
        return ExerciseFailed(f"{key}: {context}{message}\n{named}Hint: {hint}")

    if isinstance(want, tuple):
        names = parts or tuple(f"result {i} of {len(want)}" for i in range(len(want)))
        listed = f" ({', '.join(parts)})" if parts else ""
        if got is None:
            raise fail(f"your function returned None (nothing): return a tuple{listed} of {len(want)} results. "
                       "Did you forget `return`?")
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            count = f" of {len(got)}" if isinstance(got, (tuple, list)) else ""
            raise fail(f"return a tuple{listed} of {len(want)} results, got a {type(got).__name__}{count}.")
        order = _reordered(got, want, rtol, atol)
        if order is not None:
            yours = ", ".join(names[j] for j in order)
            raise fail(f"your results are right but in another order: you return ({yours}), "
                       f"expected ({', '.join(names)}). Return them in that order.")
        for name, got_part, want_part in zip(names, got, want):
            compare_answer(key, got_part, want_part, rtol, atol, f"{context}{name}: ", hint, named)
        return
    problem = _form_problem(got, want)
    if problem:
        raise fail(problem)
    got_arr, want_arr = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got_arr.shape != want_arr.shape:
        raise fail(f"your answer has shape {got_arr.shape}, expected {want_arr.shape}. "
                   f"{_shape_advice(got_arr.shape, want_arr.shape)}".rstrip())
    if not np.all(np.isfinite(got_arr)) and np.all(np.isfinite(want_arr)):
        raise fail("your answer contains nan or inf (overflow?).")
    wrong = ~np.isclose(got_arr, want_arr, rtol=rtol, atol=atol, equal_nan=True)
    if wrong.any():
        first = tuple(int(i) for i in np.argwhere(wrong)[0]) if wrong.ndim else ()
        explained = " ".join(filter(None, (_diagnose(got_arr, want_arr), _integer_note(got, want_arr))))
        yours, expected = _pair(got_arr[first], want_arr[first])
        raise fail(f"{int(wrong.sum())} of {wrong.size} value(s) differ; at index {first}: "
                   f"yours {yours}, expected {expected}. {explained}".rstrip())


# ------------------------------------------------------------------ calling the learner's function

_LIBRARY_DIRS = tuple({str(Path(__file__).resolve().parents[1]), str(Path(np.__file__).resolve().parent),
                       *(sysconfig.get_paths()[name] for name in ("stdlib", "purelib", "platlib"))})


def _own_line(err: BaseException) -> str:
    """Where in the learner's own code ``err`` was raised: the last line of its traceback outside NumPy, torch,
    Python and course_lib ('' when none is the learner's, e.g. a NumPy function passed as the answer)."""
    own = [frame for frame in traceback.extract_tb(err.__traceback__)
           if not frame.filename.startswith(_LIBRARY_DIRS) and not frame.filename.startswith("<frozen")]
    if not own:
        return ""
    frame = own[-1]
    return f"\n  in {frame.name}, line {frame.lineno}: {frame.line}" if frame.line else f"\n  in {frame.name}"


def _without_checker_frames(err: BaseException) -> BaseException:
    """``err`` with the checker's own calls cut from the front of its traceback: the learner reads their code."""
    tb = err.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return err.with_traceback(tb)


def _raised(ex: Exercise, err: Exception, args: tuple) -> ExerciseFailed:
    """The failure for an answer that raised ``err``: the learner's error, the line of their code, the inputs."""
    advice = ""
    if "Tensor" in str(err) and "numpy.ndarray" in str(err):
        advice = "The checker passes NumPy arrays: use NumPy's functions (np.exp, np.maximum, ...), not torch's. "
    return ExerciseFailed(f"{ex.key}: your function raised {type(err).__name__}: {str(err).strip()}{_own_line(err)}"
                          f"\nfor inputs ({_describe(args)}). {advice}The first traceback above ends at the line "
                          f"that failed: fix your code there.\nHint: {ex.hint}")


def _parameter_names(ex: Exercise, count: int) -> list[str]:
    """The names of the arguments the checker passes: from the task's 'Write f(a, b)', else the reference's."""
    written = re.match(r"Write \w+\(([^)]*)\)", ex.task)
    names = [n.strip() for n in written.group(1).split(",")] if written else []
    if len(names) != count:
        names = list(inspect.signature(ex.reference).parameters)[:count]
    return names


def _check_arity(ex: Exercise, answer: Callable, args: tuple) -> None:
    """Refuse, before calling it, a function that cannot take the checker's arguments, naming them."""
    try:
        signature = inspect.signature(answer)
    except (TypeError, ValueError):             # a builtin or NumPy function without a readable signature
        return
    try:
        signature.bind(*args)
    except TypeError as err:
        names = _parameter_names(ex, len(args))
        passed = ", ".join(f"{n} = {_describe_one(a)}" for n, a in zip(names, args))
        raise ExerciseFailed(
            f"{ex.key}: your function {getattr(answer, '__name__', 'answer')}{signature} cannot take what the "
            f"checker passes ({err}): {len(args)} argument(s), {passed}. Give it one parameter for each, in this "
            f"order: ({', '.join(names)}).\nHint: {ex.hint}") from None


def _run_answer(ex: Exercise, answer: Callable, args: tuple):
    """``answer(*args)``. The unfilled stub (NotImplementedError) is 'not attempted yet'; any other error is shown
    at the learner's own line. Where the reference computes without overflow, an answer that overflows fails,
    even when its values come out right (a warning in a notebook is easy to miss)."""
    __tracebackhide__ = True                    # IPython and pytest show the learner's code, not the checker's
    _check_arity(ex, answer, args)
    try:
        got = answer(*_copies(args))
    except NotImplementedError:
        stub = ExerciseFailed(f"{ex.key}: not attempted yet — {ex.task}\nHint: {ex.hint}\nReplace the stub line "
                              "`raise NotImplementedError(...)` with your code, then run the cell again.")
        stub.not_attempted = True
        raise stub from None
    except ExerciseFailed:
        raise
    except Exception as err:                    # the learner's bug: show it to them, at their line
        raise _raised(ex, err, args) from _without_checker_frames(err)
    overflow = _overflows(answer, args)
    if overflow is not None and _overflows(ex.reference, args) is None:
        named = _name_the_mistake(ex, got, args)
        raise ExerciseFailed(f"{ex.key}: for inputs ({_describe(args)}), your function overflows ({overflow}), "
                             f"which the reference avoids.\n{named}Hint: {ex.hint}")
    return got


def _overflows(fn, args: tuple) -> FloatingPointError | None:
    """The overflow ``fn(*args)`` runs into, or None: NumPy only warns about overflow, so ask it to raise."""
    try:
        with np.errstate(over="raise"):
            fn(*_copies(args))
    except FloatingPointError as overflow:
        return overflow
    return None


def _check_kind(ex: Exercise, answer) -> None:
    """A function where the exercise calls one, a value where it compares one: say which, with the call to write."""
    name = getattr(answer, "__name__", "")
    if ex.reference is None and callable(answer):
        raise TypeError(f"{ex.key} wants a value, and you passed the function {name}: call it and pass what it "
                        f"returns, check({ex.key!r}, {name}(...)).")
    if ex.reference is not None and not callable(answer):
        what = (f"the string {answer!r}" if isinstance(answer, str) else "None" if answer is None
                else f"a {type(answer).__name__}")
        raise TypeError(f"{ex.key} checks your function by calling it on its own inputs, and you passed {what}. "
                        f"Pass the function itself, by its name without parentheses or quotes: "
                        f"check({ex.key!r}, my_function), not check({ex.key!r}, my_function(x)).")


def run_check(ex: Exercise, answer) -> str:
    """Check ``answer`` (a function, or a value) against ``ex``; return the success message."""
    __tracebackhide__ = True
    _check_kind(ex, answer)
    if ex.reference is None:
        compare_answer(ex.key, answer, ex.expected, ex.rtol, ex.atol, "", ex.hint)
        return f"✔ {ex.key}: correct."
    if ex.adapt_answer is not None:
        answer = ex.adapt_answer(answer)
    # Inputs the learner has not seen, but the same ones on every run: feedback is reproducible.
    rng = np.random.default_rng(zlib.crc32(ex.key.encode()))
    for _ in range(ex.trials):
        args = ex.make_inputs(rng)
        want, got = ex.reference(*_copies(args)), _run_answer(ex, answer, args)
        named = "" if _same(got, want, ex.rtol, ex.atol) else _name_the_mistake(ex, got, args)
        compare_answer(ex.key, got, want, ex.rtol, ex.atol, f"for inputs ({_describe(args)}), ", ex.hint, named,
                       ex.parts)
    if not args:                                # a question without inputs (11.output_for_reconstruction)
        return f"✔ {ex.key}: correct."
    return f"✔ {ex.key}: correct on {ex.trials} hidden test inputs (the same ones on every run)."


# ------------------------------------------------------------------ what `grade` collects

GRADE_RECORD = "COURSE_GRADE_RECORD"     # set by `python -m course_lib.exercises grade` in the kernels it starts


def record_outcome(key, error: BaseException | None) -> None:
    """Where the environment variable GRADE_RECORD names a file (only under ``grade``), append one JSON line for one
    check(): {"key", "outcome": "passed" | "failed" | "not attempted", "message"}. Elsewhere it does nothing."""
    path = os.environ.get(GRADE_RECORD)
    if not path:
        return
    if error is None:
        outcome, message = "passed", ""
    elif getattr(error, "not_attempted", False):
        outcome, message = "not attempted", ""
    else:
        said = error.args[0] if len(error.args) == 1 and isinstance(error.args[0], str) else str(error)
        outcome = "failed"
        message = said if isinstance(error, ExerciseFailed) else f"{type(error).__name__}: {said}"
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps({"key": str(key), "outcome": outcome, "message": message}) + "\n")
