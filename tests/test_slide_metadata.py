"""Every notebook is also a slide deck (jupyterlab-rise live, or `jupyter nbconvert --to slides`).

Each cell's ``metadata.slideshow.slide_type`` says where it goes in the deck. The rule, for each notebooks/*.ipynb:
- every cell has a slide type: slide, subslide, fragment, '-' (continues the slide above), skip or notes;
- the first cell (the title) starts a slide, and so does every cell that holds a '## N. Section' heading;
- skipped, because a lecture does not show them: the setup cell (the first code cell) and the exercises'
  solutions (the answer is not projected before the class has tried);
- shown, because the error is the lesson: every cell tagged raises-exception (the markdown above it announces the
  failure; the library's message that explains the mistake is what the slide is for);
- no (sub)slide shows more than MAX_CODE_LINES lines of code, counting its fragments: a longer cell is skipped,
  and the markdown before it says what it does;
- a deck has at least MIN_SLIDES slides;
- the notebook's ``metadata.rise`` is ``{"scroll": true, "theme": "white"}``: a tall slide scrolls in jupyterlab-rise
  instead of being cut off, and the white theme's fonts ship with it (the default theme asks Google Fonts for its
  own, which fails with no network); make slides sets the same for the offline decks.
A learner running the notebook sees none of it: nothing here touches a cell's source, tags or outputs.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
HIDDEN = ("skip", "notes")             # not on the slides (notes: the presenter's view only)
MAX_CODE_LINES = 30                    # about what a projected slide shows at a readable size
MIN_SLIDES = 5
SOLUTION = "### BEGIN SOLUTION"


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def slide_type(cell):
    return cell["metadata"].get("slideshow", {}).get("slide_type")


def holds_section_heading(cell):
    """True for a markdown cell with a '## ' heading outside fenced code blocks."""
    if cell["cell_type"] != "markdown":
        return False
    fenced = False
    for line in source(cell).splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            return True
    return False


def slides(path):
    """The shown (sub)slides in order: a list of (first cell index, [indices of the cells shown on it])."""
    found = []
    for i, cell in enumerate(cells(path)):
        kind = slide_type(cell)
        if kind in HIDDEN:
            continue
        if kind in ("slide", "subslide") or not found:
            found.append((i, []))
        found[-1][1].append(i)
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_a_slide_type(path):
    for i, cell in enumerate(cells(path)):
        assert slide_type(cell) in SLIDE_TYPES, (
            f"{path.name} cell {i}: metadata.slideshow.slide_type is {slide_type(cell)!r}; set it to one of "
            f"{SLIDE_TYPES} (JupyterLab: the property inspector, 'Slide Type')")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_title_and_every_section_start_a_slide(path):
    all_cells = cells(path)
    assert slide_type(all_cells[0]) == "slide", f"{path.name} cell 0 (the title): make its slide type 'slide'"
    for i, cell in enumerate(all_cells):
        if holds_section_heading(cell):
            heading = next(line for line in source(cell).splitlines() if line.startswith("## "))
            assert slide_type(cell) == "slide", (
                f"{path.name} cell {i} holds the section heading {heading!r}: make its slide type 'slide', "
                f"not {slide_type(cell)!r}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_and_solutions_are_skipped(path):
    code = [(i, cell) for i, cell in enumerate(cells(path)) if cell["cell_type"] == "code"]
    i, setup = code[0]
    assert slide_type(setup) == "skip", f"{path.name} cell {i} is the setup cell: make its slide type 'skip'"
    for i, cell in code:
        if SOLUTION in source(cell):
            assert slide_type(cell) == "skip", (
                f"{path.name} cell {i} holds an exercise's solution: make its slide type 'skip' (the exercise's "
                "task, in the markdown above it, is what the slide shows)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_meant_to_fail_are_shown(path):
    for i, cell in enumerate(cells(path)):
        if "raises-exception" in cell["metadata"].get("tags", []):
            assert slide_type(cell) not in HIDDEN, (
                f"{path.name} cell {i} is tagged raises-exception: its error message is the lesson, so show it "
                f"(slide type '-', 'fragment' or 'subslide', not {slide_type(cell)!r})")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_slide_shows_too_much_code(path):
    all_cells = cells(path)
    for first, shown in slides(path):
        code = {i: len(source(all_cells[i]).splitlines()) for i in shown if all_cells[i]["cell_type"] == "code"}
        assert sum(code.values()) <= MAX_CODE_LINES, (
            f"{path.name}: the slide starting at cell {first} shows {sum(code.values())} lines of code "
            f"(cells {code}), more than {MAX_CODE_LINES}: start a subslide at one of them, or skip a long one "
            "(the markdown before it says what it does)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_deck_has_slides(path):
    count = sum(slide_type(cell) == "slide" for cell in cells(path))
    assert count >= MIN_SLIDES, (
        f"{path.name} has {count} slides: the title and each '## N.' section start one (at least {MIN_SLIDES})")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_rise_scrolls_tall_slides_with_an_offline_theme(path):
    rise = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("rise", {})
    assert rise == {"scroll": True, "theme": "white"}, (
        f"{path.name}: set the notebook's metadata.rise to {{\"scroll\": true, \"theme\": \"white\"}} (Edit > "
        "Notebook metadata): a slide taller than the screen scrolls, and the theme needs no web fonts")
