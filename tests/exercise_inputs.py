"""The hidden inputs of an exercise, as the checker draws them, for the per-notebook exercise tests."""
import zlib

import numpy as np
import pytest

from course_lib.exercises import EXERCISES
from course_lib.exercises.checking import ExerciseFailed, run_check


def trial_inputs(key: str) -> list[tuple]:
    """The inputs run_check gives an exercise's answer, in order (the checker seeds its generator with the key)."""
    ex = EXERCISES[key]
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    return [ex.make_inputs(rng) for _ in range(ex.trials)]


def correct(key: str) -> str:
    """What the checker says to a right answer of a function exercise."""
    return f"✔ {key}: correct on {EXERCISES[key].trials} hidden test inputs (the same ones on every run)."


def told_why(key: str, answer, says: str) -> None:
    """A wrong answer fails on the first hidden input with the reason ``says`` (a regular expression)."""
    with pytest.raises(ExerciseFailed, match=says) as failure:
        run_check(EXERCISES[key], answer)
    assert failure.value.args[0].startswith(f"{key}: for inputs (")
