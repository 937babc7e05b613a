"""Exercises that answer back: ``check("02.softmax", my_softmax)``.

Each notebook's exercises live in ``nbXX.py`` beside this file. ``check`` runs the learner's
function on hidden test inputs against the reference and raises ``ExerciseFailed`` with a
precise message (which entries, which shapes, a hint) when something is off.

Instructors make learner copies (solutions replaced by stubs) with
``python -m course_lib.exercises blank notebooks/ learner/``.
"""
from __future__ import annotations

from . import nb00, nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08, nb09
from .checking import Exercise, ExerciseFailed, run_check
from .notebook_tools import blank_notebook, blank_source

EXERCISES: dict[str, Exercise] = {ex.key: ex for m in (nb00, nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08, nb09) for ex in m.EXERCISES}


def check(key: str, answer) -> None:
    """Check ``answer`` for exercise ``key``; print a tick, or raise ExerciseFailed explaining what is off."""
    if key not in EXERCISES:
        raise KeyError(f"No exercise called {key!r}. Known exercises: {sorted(EXERCISES)}.")
    print(run_check(EXERCISES[key], answer))


def show(key: str) -> None:
    """Print an exercise's task and hint."""
    ex = EXERCISES[key]
    print(f"{ex.key}: {ex.task}\nHint: {ex.hint}")


__all__ = ["check", "show", "Exercise", "ExerciseFailed", "EXERCISES", "blank_notebook", "blank_source"]
