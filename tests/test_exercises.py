"""The exercise machinery: checkers explain what is off; learner copies run and say 'not attempted yet'."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from course_lib import exercises
from course_lib.exercises import EXERCISES
from course_lib.exercises.checking import Exercise, ExerciseFailed, run_check
from course_lib.exercises.notebook_tools import BEGIN, blank_notebook, blank_source

RELU = Exercise(key="t.relu", task="Write relu.", hint="np.maximum", reference=lambda x: np.maximum(x, 0),
                make_inputs=lambda rng: (rng.standard_normal((3, 4)),))


def test_correct_answer_passes():
    assert "correct" in run_check(RELU, lambda x: x * (x > 0))


@pytest.mark.parametrize("answer, message", [
    (lambda x: -np.maximum(x, 0), "opposite sign"),
    (lambda x: 2 * np.maximum(x, 0), "all 2 times the expected"),
    (lambda x: np.maximum(x, 0)[:, :2], r"shape \(3, 2\), expected \(3, 4\)"),
    (lambda x: np.abs(x), r"value\(s\) differ; at index"),
    (lambda x: np.full(x.shape, np.nan), "nan or inf"),
])
def test_wrong_answers_get_specific_feedback(answer, message):
    with pytest.raises(ExerciseFailed, match=message):
        run_check(RELU, answer)


@pytest.mark.parametrize("factor, message", [
    (2.0, r"all 2 times the expected ones \(a factor of 2"),
    (4.0, r"all 4 times the expected ones \(a factor of 4, the size of an axis.*1/4"),
    (1 / 3, r"all 0.3333 times the expected ones \(a factor of 3, the size of an axis"),
    (140.7, r"all 140.7 times the expected ones\.\n"),       # no guess where none fits
    (0.968, r"all 0.968 times the expected ones\.\n"),
    (0.0, r"all zero where the expected ones are not"),
])
def test_a_uniform_factor_is_explained_only_when_a_common_slip_explains_it(factor, message):
    with pytest.raises(ExerciseFailed, match=message):
        run_check(RELU, lambda x: factor * np.maximum(x, 0))    # RELU's answers have shape (3, 4)


SOFTMAX = Exercise(key="t.softmax", task="", hint="exp / sum", make_inputs=lambda rng: (rng.standard_normal((3, 4)),),
                   reference=lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True),
                   mistakes={"softmax over the wrong axis (axis=0)":
                             lambda z: np.exp(z) / np.exp(z).sum(axis=0, keepdims=True)})


def test_a_declared_mistake_is_named_before_the_hint():
    with pytest.raises(ExerciseFailed, match=r"differ.*\nThis looks like a common mistake: softmax over the wrong "
                                             r"axis \(axis=0\)\. Hint: exp / sum"):
        run_check(SOFTMAX, SOFTMAX.mistakes["softmax over the wrong axis (axis=0)"])
    with pytest.raises(ExerciseFailed) as failure:
        run_check(SOFTMAX, lambda z: np.exp(z))
    assert "common mistake" not in str(failure.value)


PAIR = Exercise(key="t.pair", task="", hint="both", make_inputs=lambda rng: (rng.standard_normal((2, 3)),),
                reference=lambda a: (a.sum(axis=0), a.sum()))


@pytest.mark.parametrize("answer, message", [
    (lambda a: (a.sum(axis=0), a.sum()), None),
    (lambda a: (a.sum(axis=0), 2 * a.sum()), r"result 1 of 2: 1 of 1 value\(s\) differ"),
    (lambda a: (a.sum(axis=1), a.sum()), r"result 0 of 2: your answer has shape \(2,\), expected \(3,\)"),
    (lambda a: a.sum(axis=0), r"return a tuple of 2 results, got a ndarray"),
    (lambda a: (a.sum(),), r"return a tuple of 2 results, got a tuple of 1"),
])
def test_a_tuple_answer_is_checked_part_by_part(answer, message):
    if message is None:
        assert "correct" in run_check(PAIR, answer)
    else:
        with pytest.raises(ExerciseFailed, match=message):
            run_check(PAIR, answer)


def test_transposed_answer_is_named():
    ex = Exercise(key="t.sq", task="", hint="", reference=lambda a: a @ a,
                  make_inputs=lambda rng: (rng.standard_normal((3, 3)),))
    with pytest.raises(ExerciseFailed, match="transpose"):
        run_check(ex, lambda a: (a @ a).T)


def test_stub_is_reported_as_not_attempted():
    def stub(x):
        raise NotImplementedError
    with pytest.raises(ExerciseFailed, match="not attempted yet — Write relu.\nHint: np.maximum"):
        run_check(RELU, stub)


@pytest.mark.parametrize("key", [key for key, ex in EXERCISES.items() if ex.expected is None])
def test_every_function_exercise_reports_the_learner_copys_stub_as_not_attempted(key):
    def stub(*args):
        raise NotImplementedError("Exercise: replace this line with your answer")
    with pytest.raises(ExerciseFailed, match=f"{re.escape(key)}: not attempted yet"):
        run_check(EXERCISES[key], stub)


def test_value_exercise():
    ex = Exercise(key="t.v", task="", hint="sum them", expected=1.58, rtol=1e-3)
    assert "correct" in run_check(ex, 1.5801)
    with pytest.raises(ExerciseFailed, match="yours 1.6, expected 1.58"):
        run_check(ex, 1.6)


def test_every_registered_reference_passes_its_own_check():
    assert exercises.EXERCISES, "no exercises registered"
    for key, ex in exercises.EXERCISES.items():
        answer = ex.expected if ex.reference is None else ex.reference
        assert "correct" in run_check(ex, answer), key


def test_check_unknown_key_lists_known_ones():
    with pytest.raises(KeyError, match="Known exercises"):
        exercises.check("99.nothing", None)


SOLVED = '''def my_relu(x):
    ### BEGIN SOLUTION
    y = np.maximum(x, 0)
    return y
    ### END SOLUTION
check("t.relu", my_relu)'''


def test_blank_source_keeps_the_markers_around_an_indented_stub():
    blank = blank_source(SOLVED)
    assert "np.maximum" not in blank
    assert blank.splitlines()[1:4] == ["    ### BEGIN SOLUTION",
                                       '    raise NotImplementedError("Exercise: replace this line with your answer")',
                                       "    ### END SOLUTION"]
    assert blank.endswith('check("t.relu", my_relu)')


def test_blank_notebook_writes_a_runnable_learner_copy(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": SOLVED, "outputs": [1], "execution_count": 3, "metadata": {}},
                    {"cell_type": "markdown", "source": "### BEGIN SOLUTION stays in prose", "metadata": {}}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    src, out = tmp_path / "a.ipynb", tmp_path / "learner" / "a.ipynb"
    src.write_text(json.dumps(nb))
    assert blank_notebook(src, out) == 1
    cells = json.loads(out.read_text())["cells"]
    assert cells[0]["outputs"] == [] and cells[0]["execution_count"] is None
    assert cells[1]["source"] == "### BEGIN SOLUTION stays in prose"
    namespace = {"np": np, "check": lambda key, f: run_check(RELU, f)}
    with pytest.raises(ExerciseFailed, match="not attempted yet"):
        exec(cells[0]["source"], namespace)


DECLARED_MISTAKES = [(key, name) for key, ex in exercises.EXERCISES.items() for name in ex.mistakes]


@pytest.mark.parametrize("key, mistake", DECLARED_MISTAKES, ids=[f"{k}: {m}" for k, m in DECLARED_MISTAKES])
def test_every_declared_common_mistake_is_rejected(key, mistake):
    ex = exercises.EXERCISES[key]
    with pytest.raises(ExerciseFailed):
        run_check(ex, ex.mistakes[mistake])


@pytest.mark.parametrize("key", ["03.numerical_gradient", "05.output_size", "08.batchnorm_train"])
def test_the_checkers_that_once_let_a_mistake_pass_declare_it(key):
    """Issue 9 found each of these accepting a wrong answer (x[i] not put back, padding counted once,
    the whole array normalised); each now declares that mistake, and the test above rejects it."""
    assert exercises.EXERCISES[key].mistakes


def test_inputs_that_cannot_tell_a_mistake_apart_let_it_pass():
    lenient = Exercise(key="t.abs", task="", hint="", reference=np.abs, make_inputs=lambda rng: (rng.random(4),),
                       mistakes={"identity": lambda x: x})
    assert "correct" in run_check(lenient, lenient.mistakes["identity"])   # positive inputs cannot tell them apart


NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
CHECK_CALL = re.compile(r"""check\(\s*["']([0-9]{2}\.\w+)["']""")


def posed_exercises():
    """key -> (notebook name, whether the cell that checks it holds a solution block), for every check("key")."""
    posed = {}
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            text = "".join(cell["source"])
            for key in CHECK_CALL.findall(text) if cell["cell_type"] == "code" else ():
                posed[key] = (path.name, BEGIN in text or posed.get(key, ("", False))[1])
    return posed


@pytest.mark.parametrize("key", list(exercises.EXERCISES))
def test_every_exercise_has_a_hint_declared_mistakes_and_a_place_in_its_notebook(key):
    ex, posed = exercises.EXERCISES[key], posed_exercises()
    assert ex.hint.strip() and ex.task.strip(), f"{key}: no task or hint"
    assert ex.mistakes, f"{key}: declares no common mistakes"
    assert key in posed, f"{key}: no notebook checks it"
    notebook, with_solution = posed[key]
    assert notebook[:2] == key[:2], f"{key} is checked in {notebook}"
    assert with_solution, f"{key}: the cell that checks it has no solution block, so learner copies lack the exercise"


def test_every_key_a_notebook_checks_is_registered():
    unknown = set(posed_exercises()) - set(exercises.EXERCISES)
    assert not unknown, f"notebooks check exercises nobody registered: {sorted(unknown)}"


EXP = Exercise(key="t.sigmoid", task="", hint="np.exp(-abs(x))", make_inputs=lambda rng: (np.array([-1000.0, 0.0, 3.0]),),
               reference=lambda x: np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                                            np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))),
               mistakes={"the formula as written (overflows)": lambda x: 1 / (1 + np.exp(-x))})


def test_an_answer_that_overflows_fails_even_with_the_right_values():
    assert np.allclose(EXP.mistakes["the formula as written (overflows)"](np.array([-1000.0])), 0.0)   # right value
    with pytest.raises(ExerciseFailed, match=r"overflows \(overflow encountered in exp\), which the reference avoids"
                                             r"\.\nThis looks like a common mistake: the formula as written"):
        run_check(EXP, EXP.mistakes["the formula as written (overflows)"])
    assert "correct" in run_check(EXP, EXP.reference)


@pytest.mark.parametrize("key, answer", [
    ("07.dense_block_channels", lambda c, k, L: [c + i * k for i in range(L + 1)]),            # the task's list
    ("07.dense_block_channels", lambda c, k, L: c + k * np.arange(L + 1)),                      # an array passes too
    ("07.vgg_stack_params", lambda L, C: (9 * L * C * C, (2 * L + 1) ** 2 * C * C)),            # a tuple as well
    ("08.update_ratio", lambda a, b: float(np.linalg.norm(b - a) / np.linalg.norm(a))),         # float or np.float64
    ("02.hinge", lambda s, t: np.asarray(exercises.EXERCISES["02.hinge"].reference(s, t))),   # a 0-d array
    ("05.output_size", lambda W, F_, P, S: float((W - F_ + 2 * P) // S + 1)),                  # 14.0 for 14
])
def test_the_forms_a_task_allows_pass(key, answer):
    """The form checks refuse a list or a tensor where an array is expected, and no more than that."""
    assert "correct" in run_check(exercises.EXERCISES[key], answer)


def test_topological_order_takes_the_function_wrapped_or_not():
    from course_lib.exercises.nb03 import order_answer, topological_order
    ex = exercises.EXERCISES["03.topological_order"]
    assert "correct" in run_check(ex, topological_order)
    assert "correct" in run_check(ex, order_answer(topological_order))
