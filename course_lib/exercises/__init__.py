"""Exercises that answer back: ``check("02.softmax", my_softmax)``.

Each notebook's exercises live in ``nbXX.py`` beside this file. ``check`` runs the learner's
function on hidden test inputs against the reference and raises ``ExerciseFailed`` with a
precise message (which entries, which shapes, a hint) when something is off.

Instructors make learner copies (solutions replaced by stubs) with
``python -m course_lib.exercises blank notebooks/ learner/``, and grade what learners hand in with
``python -m course_lib.exercises grade DIR`` (``grading.py``: each notebook in a fresh kernel, every check() recorded).
"""
from __future__ import annotations

import difflib

from . import nb00, nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08, nb09, nb10, nb11, nb12, nb13
from .checking import Exercise, ExerciseFailed, record_outcome, run_check
from .notebook_tools import blank_notebook, blank_source

EXERCISES: dict[str, Exercise] = {ex.key: ex for m in (nb00, nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08, nb09, nb10,
                                                        nb11, nb12, nb13) for ex in m.EXERCISES}


def _exercise(key: str) -> Exercise:
    """The exercise called ``key``; a KeyError that suggests the close names for a typo or a missing 'NN.'."""
    if not isinstance(key, str):
        raise TypeError(f"check(key, answer) takes the exercise's name first, a string like '02.softmax', then your "
                        f"function; got a {type(key).__name__} as the name (the two arguments swapped?).")
    if key in EXERCISES:
        return EXERCISES[key]
    name = key.strip().lower()
    close = [k for k in EXERCISES if k.split(".", 1)[1] == name.split(".")[-1]]
    close += [k for k in difflib.get_close_matches(name, EXERCISES, n=3, cutoff=0.75) if k not in close]
    if close:
        raise KeyError(f"No exercise called {key!r}. Did you mean {' or '.join(map(repr, close))}? "
                       "(The name is the notebook's number, a dot, and the exercise's name.)")
    raise KeyError(f"No exercise called {key!r}. Known exercises: {', '.join(EXERCISES)}.")


def check(key: str, answer) -> None:
    """Check ``answer`` for exercise ``key``; print a tick, or raise ExerciseFailed explaining what is off."""
    __tracebackhide__ = True                    # in a notebook, the traceback ends at the learner's call
    try:
        message = run_check(_exercise(key), answer)
    except Exception as error:
        record_outcome(key, error)              # only under `grade` (course_lib.exercises.grading)
        raise
    record_outcome(key, None)
    print(message)


def show(key: str) -> None:
    """Print an exercise's task and hint."""
    ex = _exercise(key)
    print(f"{ex.key}: {ex.task}\nHint: {ex.hint}")


__all__ = ["check", "show", "Exercise", "ExerciseFailed", "EXERCISES", "blank_notebook", "blank_source"]
