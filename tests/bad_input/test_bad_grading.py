"""Bad input to `python -m course_lib.exercises grade`: an instructor's slips, refused before any notebook runs.

Each message says what is wrong and shows the layout or the value that works. No case has a torch equivalent: the
grader is the course's own. (tests/test_grading.py checks that the command turns these into exit status 2.)
"""
import argparse
import json
import tempfile
from pathlib import Path

import pytest
from bad_input_harness import Bad, assert_teaches

from course_lib.exercises.__main__ import _seconds, checked_inputs, csv_path
from course_lib.exercises.grading import check_seconds, grade, learner_notebooks, read_notebook

ROOT = Path(tempfile.mkdtemp(prefix="bad_grading_"))
NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def folder(name: str, files: dict[str, str]) -> Path:
    """A folder under ROOT holding ``files`` (relative path -> text)."""
    base = ROOT / name
    for relative, text in files.items():
        (base / relative).parent.mkdir(parents=True, exist_ok=True)
        (base / relative).write_text(text)
    base.mkdir(parents=True, exist_ok=True)
    return base


CLASS = folder("class", {"ana/13_sequences.ipynb": NOTEBOOK})
LOOSE = folder("loose", {"ana.ipynb": NOTEBOOK, "ben.ipynb": NOTEBOOK})
EMPTY = folder("empty", {})
CHECKPOINTS_ONLY = folder("checkpoints", {".ipynb_checkpoints/13_sequences-checkpoint.ipynb": NOTEBOOK})
NO_NOTEBOOKS = folder("scripts", {"ana/answers.py": "print(1)"})
NOT_JSON = folder("broken", {"ana/13_sequences.ipynb": "{half a notebook"}) / "ana" / "13_sequences.ipynb"


def args(**given) -> argparse.Namespace:
    return argparse.Namespace(**{"dir": CLASS, "timeout": 60.0, "notebook_timeout": 1800.0, "csv": None, **given})


CASES = [
    # ------------------------------------------------------------------ the folder
    Bad("a folder that does not exist", lambda: learner_notebooks(ROOT / "submissions"), FileNotFoundError,
        says=("no folder", "submissions", "one sub-folder per learner", "DIR/ana/13_sequences.ipynb")),
    Bad("a notebook given instead of the folder", lambda: learner_notebooks(CLASS / "ana" / "13_sequences.ipynb"),
        NotADirectoryError, says=("is a file", "sub-folder named after them", "folder above")),
    Bad("notebooks lying directly in the folder, one file per learner", lambda: learner_notebooks(LOOSE),
        ValueError, says=("directly in", "ana.ipynb", "sub-folder named after the learner")),
    Bad("an empty folder", lambda: learner_notebooks(EMPTY), ValueError,
        says=("no learner notebooks", "one sub-folder per learner", "make learner-copies")),
    Bad("only JupyterLab's hidden .ipynb_checkpoints", lambda: learner_notebooks(CHECKPOINTS_ONLY), ValueError,
        says=("no learner notebooks", ".ipynb files")),
    Bad("learner folders holding no notebooks", lambda: learner_notebooks(NO_NOTEBOOKS), ValueError,
        says=("no learner notebooks", ".ipynb files")),
    Bad("a file that is not a notebook", lambda: read_notebook(NOT_JSON), ValueError,
        says=("could not be read as a notebook", "NotJSONError")),
    # ------------------------------------------------------------------ the time limits
    Bad("--timeout 0", lambda: check_seconds("--timeout", 0), ValueError,
        says=("--timeout", "greater than 0", "such as 60", "got 0")),
    Bad("--timeout -5", lambda: check_seconds("--timeout", -5), ValueError, says=("--timeout", "greater than 0")),
    Bad("--timeout abc", lambda: check_seconds("--timeout", "abc"), ValueError, says=("--timeout", "'abc'")),
    Bad("--timeout nan", lambda: check_seconds("--timeout", "nan"), ValueError, says=("--timeout", "greater than 0")),
    Bad("--timeout inf: an endless loop would never stop", lambda: check_seconds("--timeout", float("inf")),
        ValueError, says=("--timeout", "greater than 0", "inf")),
    Bad("--timeout 1m on the command line (argparse's error)", lambda: _seconds("--timeout")("1m"),
        argparse.ArgumentTypeError, says=("--timeout", "number of seconds", "'1m'")),
    Bad("grade() with a negative timeout refuses before running anything", lambda: grade(CLASS, cell_timeout=-1),
        ValueError, says=("--timeout", "greater than 0")),
    Bad("--notebook-timeout shorter than --timeout", lambda: checked_inputs(args(timeout=600.0, notebook_timeout=60.0)),
        ValueError, says=("--notebook-timeout (60 s)", "shorter than --timeout (600 s)", "lower --timeout")),
    # ------------------------------------------------------------------ the CSV
    Bad("--csv naming a folder", lambda: csv_path(CLASS, ROOT), IsADirectoryError,
        says=("--csv", "is a folder", "grades.csv")),
    Bad("--csv in a folder that does not exist", lambda: csv_path(CLASS, ROOT / "marks" / "grades.csv"),
        FileNotFoundError, says=("--csv", "no folder", "marks")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_teaches(case):
    assert_teaches(case)
