"""The instructor's side: `grade` runs learners' notebooks in fresh kernels and reports every exercise.

One grading run (about 20-40 s: a kernel start and the course's import per notebook), two notebooks at a time, over
a folder with a solved copy, a learner copy, and a copy with one wrong answer and one endless loop: each is reported
as it is, and the endless loop, interrupted after the (small) per-cell timeout, does not stop the run. The CSV says
the same, in the learners' order.
"""
import contextlib
import csv
import io
import json

import pytest

from course_lib.exercises.__main__ import main
from course_lib.exercises.grading import FAILED, NOT_ATTEMPTED, PASSED
from course_lib.exercises.notebook_tools import blank_notebook

IMPORTS = "import numpy as np\n\nfrom course_lib.exercises import check"
RNN_STEP = '''def rnn_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    ### BEGIN SOLUTION
    return np.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)
    ### END SOLUTION

check("13.rnn_step", rnn_step)'''
LSTM_PARAMETERS = '''def lstm_parameters(input_size, hidden_size, num_layers, bias):
    ### BEGIN SOLUTION
    h, total = hidden_size, 0
    for layer in range(num_layers):
        n = input_size if layer == 0 else h
        total += 4 * (h * (n + h) + (2 * h if bias else 0))
    return total
    ### END SOLUTION

check("13.lstm_parameters", lstm_parameters)'''
DDP = '''def ddp_batch_and_lr(per_process, world_size, base_lr, base_batch):
    ### BEGIN SOLUTION
    batch = per_process * world_size
    return batch, base_lr * batch / base_batch
    ### END SOLUTION

check("12.ddp_batch_and_lr", ddp_batch_and_lr)'''
KEYS = ["13.rnn_step", "13.lstm_parameters", "12.ddp_batch_and_lr"]
TIMEOUT = 6                                     # seconds a cell may run: the endless loop costs this much


def notebook(*sources):
    cells = [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# Exercises from notebooks 12, 13"}]
    cells += [{"cell_type": "code", "id": f"cell{i}", "metadata": {}, "source": s, "outputs": [],
               "execution_count": None} for i, s in enumerate(sources)]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
            "nbformat": 4, "nbformat_minor": 5}


def write(path, nb):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class of three, graded once by the command: what it printed, and its CSV's rows by learner and exercise."""
    root = tmp_path_factory.mktemp("class")
    write(root / "solved" / "exercises.ipynb", notebook(IMPORTS, RNN_STEP, LSTM_PARAMETERS, DDP))
    blank_notebook(root / "solved" / "exercises.ipynb", root / "learner" / "exercises.ipynb")
    wrong_answer = RNN_STEP.replace(" + bias_hh)", ")")                    # forgot one bias
    endless = LSTM_PARAMETERS.replace("h, total = hidden_size, 0", "while True:\n        pass")
    write(root / "wrong" / "exercises.ipynb", notebook(IMPORTS, wrong_answer, endless, DDP))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["grade", str(root), "--timeout", str(TIMEOUT), "--notebook-timeout", "300", "--jobs", "2"]) == 0
    with open(root / "grades.csv", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    return printed.getvalue(), {(r["learner"], r["exercise"]): r for r in rows}, rows


def outcomes(grades, learner):
    return {key: row["outcome"] for (who, key), row in grades.items() if who == learner}


def test_a_solved_copy_passes_every_exercise(graded):
    _, grades, _ = graded
    assert outcomes(grades, "solved") == dict.fromkeys(KEYS, PASSED)


def test_a_learner_copy_is_not_attempted_and_nothing_else_fails(graded):
    printed, grades, _ = graded
    assert outcomes(grades, "learner") == dict.fromkeys(KEYS, NOT_ATTEMPTED)
    assert "Also:" not in printed                                      # no other cell raised, in any copy


def test_a_wrong_answer_fails_with_the_checkers_message(graded):
    _, grades, _ = graded
    said = grades["wrong", "13.rnn_step"]
    assert said["outcome"] == FAILED
    assert "value(s) differ" in said["detail"] and "Hint:" in said["detail"] and "\n" not in said["detail"]


def test_an_endless_loop_is_interrupted_and_the_notebook_goes_on(graded):
    _, grades, _ = graded
    said = grades["wrong", "13.lstm_parameters"]
    assert said["outcome"] == FAILED
    assert f"did not finish within {TIMEOUT} s" in said["detail"] and said["detail"].startswith("cell 4 ")
    assert grades["wrong", "12.ddp_batch_and_lr"]["outcome"] == PASSED   # the cell after the loop still ran


def test_the_table_has_a_row_per_learner_and_the_reasons(graded):
    printed, _, _ = graded
    assert [line.split()[0] for line in printed.splitlines()[:3]] == ["graded"] * 3
    table = printed.split("exercises.ipynb  rnn_step", 1)[1].splitlines()
    rows = {line.split()[0]: line.split() for line in table[1:4]}
    assert rows["solved"][-1] == "3/3" and rows["learner"][-1] == "0/3" and rows["wrong"][-1] == "1/3"
    assert "wrong  13.lstm_parameters  failed: cell 4" in printed
    assert "wrong  13.rnn_step  failed: 32 of 32 value(s) differ" in printed      # the inputs only in the CSV


def test_the_csv_has_a_row_per_learner_and_exercise(graded):
    printed, _, rows = graded
    assert list(rows[0]) == ["learner", "notebook", "exercise", "outcome", "detail"]
    assert [(r["learner"], r["exercise"]) for r in rows] == [(who, key) for who in ("learner", "solved", "wrong")
                                                              for key in KEYS]
    assert "9 grades written to" in printed


def test_the_command_refuses_bad_input_with_exit_status_2(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere")]) == 2
    assert "no folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:                             # argparse: usage, the reason, status 2
        main(["grade", str(tmp_path), "--timeout", "soon"])
    assert stopped.value.code == 2 and "--timeout takes a number of seconds" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["grade", str(tmp_path), "--jobs", "0"])
    assert stopped.value.code == 2 and "--jobs is how many notebooks run at once" in capsys.readouterr().err


def test_check_records_each_outcome_only_when_grade_asks(tmp_path, monkeypatch, capsys):
    from course_lib.exercises import ExerciseFailed, check
    from course_lib.exercises.checking import GRADE_RECORD

    def stub(*args):
        raise NotImplementedError("Exercise: replace this line with your answer")

    right = lambda per_process, world_size, base_lr, base_batch: (                     # noqa: E731
        per_process * world_size, base_lr * per_process * world_size / base_batch)
    check("12.ddp_batch_and_lr", right)                                    # no variable set: nothing recorded
    record = tmp_path / "checks.jsonl"
    monkeypatch.setenv(GRADE_RECORD, str(record))
    check("12.ddp_batch_and_lr", right)
    for answer in (stub, lambda *args: (0, 0.0)):
        with pytest.raises(ExerciseFailed):
            check("12.ddp_batch_and_lr", answer)
    with pytest.raises(KeyError):
        check("12.ddp_batch_and_size", right)
    said = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(r["key"], r["outcome"]) for r in said] == [
        ("12.ddp_batch_and_lr", PASSED), ("12.ddp_batch_and_lr", NOT_ATTEMPTED), ("12.ddp_batch_and_lr", FAILED),
        ("12.ddp_batch_and_size", FAILED)]
    assert said[2]["message"].startswith("12.ddp_batch_and_lr: ") and said[3]["message"].startswith("KeyError: No ")
    assert capsys.readouterr().out.count("✔ 12.ddp_batch_and_lr: correct") == 2  # what the learner sees: unchanged
