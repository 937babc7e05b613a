"""No notebook chooses anything on the test set.

The course's rule (data/README.md): weights are fitted on "fit" (or "train"), every choice — the epoch to
stop at, a learning rate, a regularisation strength, which model or remedy is best — is made on
"validation", and the test digits only report an experiment's result. This test reads every notebook's
code and follows the test data through it:

- **test data** is what ``load_mnist("test")``, ``task_digits("test", ...)``, ``digit_images("test")`` or the
  image-to-image and string loaders (``digit_scenes``, ``pixelated_digits``, ``noisy_digits``, ``digit_strings``)
  given "test" return, any name with "test" in it (``x_test``, ``test_acc``), and anything assigned from an
  expression that uses test data;
- test data must not reach a **choosing place**: a ``val=`` / ``validation=`` argument (what training
  curves, early stopping and schedules read), ``EarlyStopping(...)``, or ``max``/``min``/``sorted`` and
  ``np.argmax``/``np.argmin``/``np.argsort`` (picking the best of several results);
- and the prose must not call the test digits a validation set or admit a test figure is optimistic.

The lessons modules may not load the test split themselves, so every use of it is in the notebooks, where
this test can see it.
"""
import ast
import re
from pathlib import Path

import pytest

from test_notebooks_clean import NOTEBOOKS, cells, python, source

ROOT = Path(__file__).parent.parent
CHOOSING_KEYWORDS = {"val", "validation", "val_data"}
CHOOSING_CALLS = {"max", "min", "sorted", "EarlyStopping", "argmax", "argmin", "argsort"}
LOADERS = {"load_mnist", "task_digits", "digit_images", "digit_scenes", "pixelated_digits", "noisy_digits",
           "digit_strings"}
ADMISSIONS = re.compile(r"serve as (the|our) validation|slightly optimistic|test (set|digits) as (the )?validation",
                        re.IGNORECASE)


def called_name(call):
    """'max' for max(...), 'argmax' for np.argmax(...); None for a method of a value (logits.argmax())."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and call.func.value.id in (
            "np", "training", "lesson", "data", "torch"):
        return call.func.attr
    return None


def loads_test_split(node):
    return (isinstance(node, ast.Call) and called_name(node) in LOADERS and node.args
            and isinstance(node.args[0], ast.Constant) and node.args[0].value == "test")


class TestData:
    """Which names hold test data, updated statement by statement in notebook order."""

    def __init__(self):
        self.names = set()

    def in_expression(self, node):
        for sub in ast.walk(node):
            if loads_test_split(sub):
                return True
            if isinstance(sub, ast.Name) and ("test" in sub.id.lower() or sub.id in self.names):
                return True
        return False

    def follow(self, statement):
        """After an assignment (or a for loop over test data), its targets hold test data too."""
        pairs = []
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            pairs = [(target, statement.value) for target in targets]
        elif isinstance(statement, (ast.For, ast.comprehension)):
            pairs = [(statement.target, statement.iter)]
        for target, value in (pair for target, value in pairs for pair in elementwise(target, value)):
            if self.in_expression(value):
                self.names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def elementwise(target, value):
    """Pair ``a, b = x, y`` and ``a, b = (f(v) for v in (x, y))`` name by name; anything else as a whole."""
    if isinstance(target, ast.Tuple):
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
            return list(zip(target.elts, value.elts))
        if (isinstance(value, (ast.GeneratorExp, ast.ListComp)) and len(value.generators) == 1
                and isinstance(value.generators[0].iter, (ast.Tuple, ast.List))
                and len(value.generators[0].iter.elts) == len(target.elts)):
            return list(zip(target.elts, value.generators[0].iter.elts))
    return [(target, value)]


def choices_made_on_test_data(code_sources):
    """(cell, line, what) for every place where test data reaches a choosing place."""
    test_data, found = TestData(), []
    for cell_number, text in code_sources:
        tree = ast.parse(python(text))
        known = None
        while known != test_data.names:       # until nothing new: a nested assignment can feed an outer one
            known = set(test_data.names)
            for node in ast.walk(tree):
                test_data.follow(node)
        asserted = {id(n) for a in ast.walk(tree) if isinstance(a, ast.Assert) for n in ast.walk(a)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in asserted:     # an assert reports, it does not choose
                continue
            for keyword in node.keywords:
                if keyword.arg in CHOOSING_KEYWORDS and test_data.in_expression(keyword.value):
                    found.append((cell_number, node.lineno, f"{keyword.arg}= gets test data"))
            if called_name(node) in CHOOSING_CALLS and any(test_data.in_expression(a) for a in ranked(node)):
                found.append((cell_number, node.lineno, f"{called_name(node)}() chooses on test data"))
    return found


def ranked(call):
    """What a max/min/sorted/argmax call ranks: its arguments and keywords, minus code merely run in a lambda
    (min(timeit.repeat(lambda: f(x_test))) ranks timings); a key= lambda does rank, so it counts."""
    positional = [a for a in call.args if not isinstance(a, ast.Lambda)
                  and not any(isinstance(sub, ast.Lambda) for sub in ast.walk(a))]
    return positional + [k.value for k in call.keywords]


def code_of(path):
    return [(i, source(c)) for i, c in enumerate(cells(path)) if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_choice_is_made_on_the_test_set(path):
    found = choices_made_on_test_data(code_of(path))
    assert not found, f"{path.name}: choices made on the test set (cell, line, what): {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_prose_never_calls_the_test_set_a_validation_set(path):
    for i, c in enumerate(cells(path)):
        if c["cell_type"] == "markdown":
            match = ADMISSIONS.search(source(c))
            assert not match, f"{path.name} cell {i}: {match.group(0)!r}"


@pytest.mark.parametrize("path", sorted((ROOT / "course_lib" / "lessons").glob("nb*.py")), ids=lambda p: p.name)
def test_lessons_do_not_load_the_test_split(path):
    loads = [node.lineno for node in ast.walk(ast.parse(path.read_text())) if loads_test_split(node)]
    assert not loads, f"{path.name} loads the test split at lines {loads}; load it in the notebook, where it is seen"


@pytest.mark.parametrize("code, problem", [
    ('x_test, y_test = load_mnist("test")\nfit(m, (x, y), val=(x_test, y_test))', "val= gets test data"),
    ('a, b = data.load_mnist("test")\nxs = standardize(a)\nh = fit(m, d, val=(xs, b))', "val= gets test data"),
    ('scores = [evaluate(m, held_out) for m in models]\nheld_out = 1', None),
    ('accs = {lr: evaluate(run(lr), x_test) for lr in lrs}\nbest = max(accs, key=accs.get)', "max() chooses"),
    ('curve = [acc(m, x_test) for m in ms]\ne = np.argmax(curve)', "argmax() chooses"),
    ('stop = EarlyStopping(monitor=test_loss)', "EarlyStopping() chooses"),
    ('x_val, y_val = load_mnist("validation")\nfit(m, d, val=(x_val, y_val))\nbest = max(h.val_acc)', None),
    ('pred = model(x_test).argmax(dim=1)', None),                      # a prediction is not a choice
    ('xf, xv, xt = (std(a) for a in (f, v, load_mnist("test")[0]))\nfit(m, d, val=xv)', None),
    ('xf, xv = (std(a) for a in (f, load_mnist("test")[0]))\nfit(m, d, val=xv)', "val= gets test data"),
    ('assert min(r["test_acc"] for r in runs) > 0.75', None),         # an assert reports
    ('t = min(timeit.repeat(lambda: conv(x_test), number=1))', None),  # timings are ranked, not test data
    ('best = max(lrs, key=lambda lr: test_acc[lr])', "max() chooses"),
    ('xs, ys = data.digit_images("test")\nh = fit(m, d, val=(xs, ys))', "val= gets test data"),
])
def test_the_scan_finds_choices_on_test_data_and_only_those(code, problem):
    found = choices_made_on_test_data([(0, code)])
    if problem is None:
        assert not found
    else:
        assert found and problem in found[0][2], found
