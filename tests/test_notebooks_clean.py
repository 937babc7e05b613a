"""Every notebook follows the course's template and is committed clean.

The template, checked for each notebooks/*.ipynb (a new notebook is checked as soon as it exists):
- the setup cell: the first code cell is ``setup_cell()`` word for word, plus at most one line that imports
  the notebook's own lessons module (``course_lib/lessons/nbNN_*.py``) as ``lesson``; it comes right after
  the title and the learning goals;
- the aliases in ALIASES, bound by the setup cell only; nothing else imports those modules under another
  name, ``TF`` is gone, the lessons module is reached only as
  ``lesson.name``, and what follows ``F.``, ``sf.`` and ``lesson.`` in the code and in the markdown's
  `quotes` exists in that module (a stale alias fails here, not at run time);
- the headings: one H1 ``# NN · Title`` (NN: the file's number), H2 numbered ``## 1. Title`` in order,
  H3 numbered ``### 1.1 Title`` within their H2, deeper headings unnumbered; the H2s start with the
  learning goals and end with the exercises, the summary and where the lecture decks say it.
And what notebooks always had to be: no outputs, paired solution markers, tagged widget cells.
"""
import ast
import builtins
import importlib
import json
import re
from pathlib import Path

import pytest

from course_lib.exercises.notebook_tools import BEGIN, END, blank_source

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

ALIASES = {                          # alias -> the module it always means
    "F": "torch.nn.functional",
    "sf": "course_lib.scratch.functional",
    "nn": "torch.nn",
    "np": "numpy",
    "plt": "matplotlib.pyplot",
    "torch": "torch",
    "scratch": "course_lib.scratch",
    "lesson": "course_lib.lessons.nbNN_<name>",
}
RETIRED_ALIASES = ("TF",)            # torch.nn.functional's old second name
LESSON_LINE = "from course_lib.lessons import {module} as lesson"
SETUP_LINES = [
    "%matplotlib inline",
    "# The same first cell in every notebook: the course's aliases, seeds, device, dtypes, versions.",
    "import matplotlib.pyplot as plt",
    "import numpy as np",
    "import torch",
    "import torch.nn.functional as F                  # F is always PyTorch's functional API",
    "from torch import nn",
    "",
    "from course_lib import scratch",
    LESSON_LINE,
    "from course_lib.notebook import setup_notebook",
    "from course_lib.scratch import functional as sf  # sf: the scratch (NumPy) mirror of torch.nn.functional",
    "",
    "device, rng = setup_notebook(seed=0)             # seeds NumPy (rng), torch, scratch; prints versions, dtypes",
]


def setup_cell(lessons_module=None):
    """The setup cell's text, with the line importing ``lessons_module`` (e.g. 'nb05_convolution') or without."""
    lines = [LESSON_LINE.format(module=lessons_module) if line == LESSON_LINE else line
             for line in SETUP_LINES if line != LESSON_LINE or lessons_module]
    return "\n".join(lines)


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def code_cells(path):
    return [(i, c) for i, c in enumerate(cells(path)) if c["cell_type"] == "code"]


def python(text):
    """A cell's kernel Python: IPython's magics and shell lines dropped; a %%writefile cell is a file the kernel
    writes (a script for other processes, with imports of its own), not code it runs: nothing."""
    if text.lstrip().startswith("%%writefile"):
        return ""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))


def number(path):
    return path.name[:2]


def lessons_module(path):
    """Name of the notebook's lessons module ('nb05_convolution_arithmetic'), or None when it has none."""
    found = sorted((ROOT / "course_lib" / "lessons").glob(f"nb{number(path)}_*.py"))
    return found[0].stem if found else None


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4
    assert NOTEBOOKS[0].name == "00_start_here.ipynb"
    assert all(re.fullmatch(r"\d\d_\w+\.ipynb", p.name) for p in NOTEBOOKS), [p.name for p in NOTEBOOKS]


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
            assert blank.count(BEGIN) == text.count(BEGIN) and "NotImplementedError" in blank
            compile(python(blank), f"{path.name} cell {i}", "exec")  # the learner copy is still valid Python


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_checked_exercise_per_cell(path):
    """In a learner copy the first check() raises 'not attempted', so a second check() in the same cell would never
    run and grade would report that exercise as failed instead of not attempted."""
    for i, c in enumerate(cells(path)):
        checked = re.findall(r'^check\(\s*"([^"]+)"', source(c), flags=re.M) if c["cell_type"] == "code" else []
        assert len(checked) <= 1, f"{path.name} cell {i} checks {checked}: give each exercise a cell of its own"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_widget_cells_are_tagged(path):
    for i, c in enumerate(cells(path)):
        if c["cell_type"] == "code" and "interact(" in source(c):
            assert "nbval-ignore-output" in c["metadata"].get("tags", []), f"{path.name} cell {i}"


# --- the setup cell ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_setup_cell(path):
    module = lessons_module(path)
    expected = setup_cell(module)
    i, first = code_cells(path)[0]
    assert source(first) == expected, (
        f"{path.name}: the first code cell (cell {i}) must be the course's setup cell"
        f"{f', importing its lessons module {module}' if module else ''}, exactly:\n\n{expected}\n")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_follows_the_title_and_learning_goals(path):
    first_code = code_cells(path)[0][0]
    before = [(h.level, h.title) for h in headings(path) if h.cell < first_code]
    assert [level for level, _ in before] == [1, 2] and before[1][1] == "Learning goals", (
        f"{path.name}: only the title and '## 1. Learning goals' come before the setup cell; found "
        f"{before}")


def test_setup_cell_text():
    with_lesson = setup_cell("nb05_convolution_arithmetic").splitlines()
    assert "from course_lib.lessons import nb05_convolution_arithmetic as lesson" in with_lesson
    assert setup_cell().splitlines() == [line for line in with_lesson if "course_lib.lessons" not in line]
    names = {alias.asname or alias.name for node in ast.walk(ast.parse(python(setup_cell("nb00_x"))))
             if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    assert set(ALIASES) <= names


# --- the aliases ------------------------------------------------------------------------------------------

def module_level_bindings(tree):
    """(name, line) for every name a cell binds in the notebook's namespace (not inside functions or classes)."""
    found = []

    def targets(node):
        if isinstance(node, ast.Name):
            found.append((node.id, node.lineno))
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                targets(element)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    def visit(statements):
        for node in statements:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.extend(((a.asname or a.name).split(".")[0], node.lineno) for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.append((node.name, node.lineno))
                continue
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    targets(target)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets(node.target)
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                targets(node.target)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        targets(item.optional_vars)
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, field, []))

    visit(tree.body)
    return found


def imports(tree):
    """(module, name bound, line) for every import in a cell, functions included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, a.asname or a.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            for a in node.names:
                yield f"{node.module}.{a.name}", a.asname or a.name, node.lineno


def aliased_module(module):
    """The alias that ``module`` must be bound to ('F' for torch.nn.functional), or None if it has no alias."""
    if module.startswith("course_lib.lessons"):
        return "lesson"
    return next((alias for alias, target in ALIASES.items() if target == module), None)


def trees(path):
    for i, c in code_cells(path):
        try:
            yield i, ast.parse(python(source(c)))
        except SyntaxError as error:
            pytest.fail(f"{path.name} cell {i} is not valid Python: {error}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_aliases_are_bound_by_the_setup_cell_only(path):
    reserved = set(ALIASES) | set(RETIRED_ALIASES)
    for i, tree in list(trees(path))[1:]:
        bound = [(name, line) for name, line in module_level_bindings(tree) if name in reserved]
        assert not bound, (f"{path.name} cell {i} binds {bound}: the setup cell binds these once "
                           f"({', '.join(f'{a} = {m}' for a, m in ALIASES.items())}); use another name")


def names_bound_anywhere(tree):
    """Every name a cell binds anywhere: assignments, loop/with/except targets, imports, defs and their arguments."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node.id
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            yield from ((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, ast.arg):
            yield node.arg
        elif isinstance(node, ast.ExceptHandler) and node.name:
            yield node.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_module_or_object_a_cell_reaches_into_is_bound_somewhere(path):
    """`neurons.plot_x` left behind by a rename to `lesson.` fails here, before any cell runs."""
    all_trees = [tree for _, tree in trees(path)]
    bound = set(dir(builtins)) | {"display", "get_ipython"}
    bound.update(name for tree in all_trees for name in names_bound_anywhere(tree))
    for i, tree in trees(path):
        unbound = sorted({node.value.id for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                          and isinstance(node.value, ast.Name) and node.value.id not in bound})
        assert not unbound, f"{path.name} cell {i} uses {unbound}, which no cell of the notebook binds."



@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_aliased_modules_are_imported_under_their_alias_only(path):
    for i, tree in trees(path):
        for module, name, line in imports(tree):
            alias = aliased_module(module)
            if alias is None:
                continue
            assert i == code_cells(path)[0][0], (
                f"{path.name} cell {i} line {line} imports {module}: the setup cell imports it, as {alias}")
            assert name == alias, f"{path.name} cell {i} line {line}: {module} is always `{alias}`, not `{name}`"
        used = sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} & set(RETIRED_ALIASES))
        assert not used, f"{path.name} cell {i} uses {used}: torch.nn.functional is `F` everywhere"


QUOTED = re.compile(r"`[^`]*`")
QUALIFIED = re.compile(r"\b(F|sf|lesson|TF)\.([A-Za-z_]\w*)")


def qualified_names(path):
    """(cell, 'F', 'conv2d') for every F.x, sf.x and lesson.x in the code and in the markdown's `quotes`."""
    for i, c in enumerate(cells(path)):
        if c["cell_type"] == "markdown":
            for quote in QUALIFIED.finditer(" ".join(QUOTED.findall(source(c)))):
                yield i, *quote.groups()
        else:
            for node in ast.walk(ast.parse(python(source(c)))):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    yield i, node.value.id, node.attr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_qualified_names_exist(path):
    modules = {"F": "torch.nn.functional", "sf": "course_lib.scratch.functional"}
    if lessons_module(path):
        modules["lesson"] = f"course_lib.lessons.{lessons_module(path)}"
    for i, alias, name in qualified_names(path):
        if alias in ("F", "sf", "lesson", "TF"):
            assert alias in modules, f"{path.name} cell {i} uses `{alias}.{name}`: no `{alias}` in this notebook"
            assert hasattr(importlib.import_module(modules[alias]), name), (
                f"{path.name} cell {i} uses `{alias}.{name}`, but {modules[alias]} has no {name}")


# --- the headings -----------------------------------------------------------------------------------------

class Heading:
    def __init__(self, cell, text):
        self.cell, self.text = cell, text
        self.level = len(text) - len(text.lstrip("#"))
        self.title = re.sub(r"^\d+\.(\d+)?\s+", "", text[self.level:].strip())


def headings(path):
    """Every markdown heading (outside fenced code blocks), in order."""
    found = []
    for i, c in enumerate(cells(path)):
        if c["cell_type"] != "markdown":
            continue
        fenced = False
        for line in source(c).splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced and re.match(r"#+ ", line):
                found.append(Heading(i, line.rstrip()))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_title_then_numbered_sections(path):
    found = headings(path)
    titles = [h.text for h in found if h.level == 1]
    assert len(titles) == 1 and re.fullmatch(rf"# {number(path)} · \S.*", titles[0]) and found[0].level == 1, (
        f"{path.name}: one H1, first, written '# {number(path)} · Title'; found {titles}")
    section, subsection = 0, 0
    for h in found[1:]:
        if h.level == 2:
            section, subsection = section + 1, 0
            expected = rf"## {section}\. \S.*"
        elif h.level == 3:
            subsection += 1
            expected = rf"### {section}\.{subsection} \S.*"
        else:
            expected = r"#{4,} [^\d\s].*"
        assert re.fullmatch(expected, h.text), (
            f"{path.name} cell {h.cell}: '{h.text}' should match '{expected}' (H2 '## N. Title' counted from 1, "
            "H3 '### N.M Title' within its H2, deeper headings unnumbered)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_sections_start_with_goals_and_end_with_exercises_and_summary(path):
    sections = [h.title for h in headings(path) if h.level == 2]
    assert sections[0] == "Learning goals", f"{path.name}: the first section is 'Learning goals', not {sections[0]!r}"
    assert "Exercises" in sections, f"{path.name}: no 'Exercises' section in {sections}"
    after = sections[sections.index("Exercises") + 1:]
    assert after and after[0].startswith("Summary") and all(
        title.startswith("Where the lecture decks say it") for title in after[1:]), (
        f"{path.name}: after the exercises come the summary and where the lecture decks say it; found {after}")
