"""The package's layers: an import only points down (lessons and exercises -> library -> scratch -> NumPy)."""
import ast
from pathlib import Path

import pytest

import course_lib

ROOT = Path(course_lib.__file__).parent
LIBRARY = sorted(ROOT.glob("*.py"))
LESSONS = sorted((ROOT / "lessons").glob("nb*.py"))


def course_lib_imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) for every import of course_lib in the file, relative imports made absolute."""
    package = ".".join(("course_lib", *path.parent.relative_to(ROOT).parts))
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.startswith("course_lib")]


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_the_library_never_imports_a_lesson_or_an_exercise(path):
    for line, name in course_lib_imports(path):
        assert not name.startswith(("course_lib.lessons", "course_lib.exercises")), (
            f"{path.name}:{line} imports {name}: the library serves every notebook, so it may not depend on one. "
            f"Move what it needs down into the library.")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_lesson_never_imports_another_lesson(path):
    for line, name in course_lib_imports(path):
        assert not name.startswith("course_lib.lessons"), (
            f"{path.name}:{line} imports {name}: a helper that two notebooks need moves down into the library.")


def test_every_lesson_module_belongs_to_a_notebook():
    notebooks = {p.stem for p in (ROOT.parent / "notebooks").glob("*.ipynb")}
    for path in LESSONS:
        assert path.stem[2:] in notebooks, f"{path.name} has no notebook notebooks/{path.stem[2:]}.ipynb."


def test_the_import_reader_resolves_relative_imports(tmp_path):
    """`from ..models import x` inside lessons/ is course_lib.models.x: the checks above would see an upward import."""
    names = [name for _, name in course_lib_imports(ROOT / "lessons" / "nb01_neurons.py")]
    assert "course_lib.models.init_" in names and "course_lib.scratch" in names
