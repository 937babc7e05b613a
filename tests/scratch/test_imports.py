"""course_lib.scratch imports only NumPy and itself, has no import cycles, and imports only at the top of a file."""
import ast
from pathlib import Path

import pytest

import course_lib.scratch

PACKAGE = "course_lib.scratch"
ROOT = Path(course_lib.scratch.__file__).parent
FILES = sorted(ROOT.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join((PACKAGE, *parts[:-1])) if parts[-1] == "__init__" else ".".join((PACKAGE, *parts))


MODULES = {module_name(path): path for path in FILES}


def imports_of(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module imported from, names) for every import in the file; relative imports made absolute."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found.append((node.lineno, target, [alias.name for alias in node.names]))
    return found


def scratch_dependencies(path: Path) -> set[str]:
    """The scratch modules this file imports (a submodule named in `from package import submodule` counts)."""
    me = module_name(path)
    deps = set()
    for _, target, names in imports_of(path):
        for name in names or [""]:
            if f"{target}.{name}" in MODULES:
                deps.add(f"{target}.{name}")
            elif target in MODULES and not me.startswith(target + "."):  # a parent package is not a dependency
                deps.add(target)
    return deps - {me}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_scratch_imports_only_numpy_the_standard_library_and_itself(path):
    for line, target, _ in imports_of(path):
        top = target.split(".")[0]
        assert top != "torch", f"{path.name}:{line} imports {target}: scratch must run without torch."
        if top == "course_lib":
            assert target == PACKAGE or target.startswith(PACKAGE + "."), (
                f"{path.name}:{line} imports {target}: scratch may import only itself from course_lib "
                f"(the library imports scratch, never the other way round).")


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_are_at_the_top_of_each_file(path):
    body = ast.parse(path.read_text()).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the module docstring
    kinds = [isinstance(node, (ast.Import, ast.ImportFrom)) for node in body]
    first_other = kinds.index(False) if False in kinds else len(kinds)
    late = [node.lineno for node in body[first_other:] if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert not late, f"{path.name}: imports after the first definition, at lines {late}."
    nested = [node.lineno for top in body[first_other:] for node in ast.walk(top)
              if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert not nested, f"{path.name}: imports inside functions or classes, at lines {nested}."


def test_no_import_cycles_inside_scratch():
    graph = {name: scratch_dependencies(path) for name, path in MODULES.items()}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for dep in sorted(graph[name]):
            assert state.get(dep) != "open", "import cycle: " + " -> ".join(trail + [name, dep])
            if dep not in state:
                visit(dep, trail + [name])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_the_cycle_check_sees_a_cycle():
    """optim and lr_scheduler used to import each other; the graph must show such an edge when it exists."""
    assert f"{PACKAGE}.optimizer" in scratch_dependencies(MODULES[f"{PACKAGE}.lr_scheduler"])
    assert f"{PACKAGE}.lr_scheduler" in scratch_dependencies(MODULES[f"{PACKAGE}.optim"])
    assert f"{PACKAGE}.optim" not in scratch_dependencies(MODULES[f"{PACKAGE}.lr_scheduler"])
