"""Notebooks are committed without outputs, follow the numbering, and their learner copies are runnable."""
import json
from pathlib import Path

import pytest

from course_lib.exercises.notebook_tools import BEGIN, END, blank_source

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4
    assert NOTEBOOKS[0].name == "00_start_here.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    dirty = [i for i, c in enumerate(cells(path)) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solution_markers_pair_up_and_blank_cleanly(path):
    for i, c in enumerate(cells(path)):
        text = source(c)
        if c["cell_type"] != "code":
            continue
        assert text.count(BEGIN) == text.count(END), f"{path.name} cell {i}: unpaired solution markers"
        if BEGIN in text:
            blank = blank_source(text)
            assert BEGIN not in blank and "NotImplementedError" in blank
            python = "\n".join(line for line in blank.splitlines() if not line.lstrip().startswith(("%", "!")))
            compile(python, f"{path.name} cell {i}", "exec")  # the learner copy is still valid Python


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_widget_cells_are_tagged(path):
    for i, c in enumerate(cells(path)):
        if c["cell_type"] == "code" and "interact(" in source(c):
            assert "nbval-ignore-output" in c["metadata"].get("tags", []), f"{path.name} cell {i}"
