"""``grade``: run each learner's notebooks in fresh kernels and collect what every exercise's check() said.

The folder holds one sub-folder per learner, named after them, with their notebooks under the course's names:
``DIR/ana/13_sequences.ipynb``, ``DIR/ben/13_sequences.ipynb``. One folder per learner because a learner hands in
several notebooks over a term, and the notebook's own name says which exercises it holds; a learning platform's
"download all submissions" gives one folder per learner too.

How outcomes are collected: each kernel starts with the environment variable ``checking.GRADE_RECORD`` naming a
file, and check() appends one JSON line per call to it (``checking.record_outcome``); run by a learner, check()
writes nothing and shows what it always shows. What check() never said comes from the cells: a cell that raised
before calling it (the learner copy's stub at the cell's top level: "not attempted"; an endless loop, interrupted
after the per-cell timeout: "failed"), or a cell that never ran because the kernel died or the notebook's time
ran out ("not reached", naming the cell).
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Empty

from .checking import GRADE_RECORD

PASSED, FAILED, NOT_ATTEMPTED, NOT_REACHED, MISSING = "passed", "failed", "not attempted", "not reached", "missing"
CHECK_CALL = re.compile(r"""check\(\s*["']([0-9]{2}\.\w+)["']""")
TIMED_OUT = "CellTimeout"                       # ours, given to nbclient for a cell interrupted at its timeout
DIED = "DeadKernel"                             # ours, for a cell during which the kernel died
PROBE_SECONDS = 10                              # how long an interrupted kernel gets to answer again
# The course's own import (torch: 5-10 s) runs before the learner's cells, outside their per-cell limit.
WARM_UP = "import course_lib.exercises as _grade_warm_up\ndel _grade_warm_up"
_QUIET = logging.getLogger("course_lib.grading.nbclient")
_QUIET.setLevel(logging.CRITICAL)               # nbclient logs every timeout and death; the report says them once


@dataclass(frozen=True)
class Grade:
    """One learner's result on one exercise: an outcome word, and for 'failed' or 'not reached' why."""
    learner: str
    notebook: str
    exercise: str
    outcome: str
    detail: str = ""


@dataclass
class Run:
    """What executing one notebook gave: check()'s records in order, the error of every cell that raised (by the
    cell's index; its name and value), and where execution stopped, if it did (the first cell not run, and why)."""
    records: list[dict]
    errors: dict[int, tuple[str, str]]
    stopped: tuple[int, str] | None = None


def learner_notebooks(directory: str | Path) -> dict[str, list[Path]]:
    """learner -> their notebooks, for a folder laid out DIR/learner/NN_name.ipynb; an error that shows the layout
    for a missing folder, a file, notebooks lying directly in DIR, or no notebooks at all."""
    folder, layout = Path(directory), "DIR/ana/13_sequences.ipynb, DIR/ben/13_sequences.ipynb"
    if not folder.exists():
        raise FileNotFoundError(f"grade: there is no folder {str(folder)!r}. Give the folder that holds one "
                                f"sub-folder per learner with their notebooks ({layout}).")
    if not folder.is_dir():
        raise NotADirectoryError(f"grade: {str(folder)!r} is a file, not a folder. Put each learner's notebooks in a "
                                 f"sub-folder named after them and give the folder above ({layout}).")
    loose = sorted(p.name for p in folder.glob("*.ipynb"))
    if loose:
        raise ValueError(f"grade: notebooks lie directly in {str(folder)!r} ({', '.join(loose[:3])}): put each "
                         f"learner's notebooks in a sub-folder named after the learner ({layout}).")
    found = {sub.name: sorted(sub.glob("*.ipynb")) for sub in sorted(folder.iterdir())
             if sub.is_dir() and not sub.name.startswith(".")}
    found = {learner: notebooks for learner, notebooks in found.items() if notebooks}
    if not found:
        raise ValueError(f"grade: no learner notebooks in {str(folder)!r}: expected one sub-folder per learner "
                         f"holding .ipynb files ({layout}). Learner copies come from `make learner-copies`.")
    return found


def exercise_cells(cells: list) -> dict[str, int]:
    """exercise key -> index of the first code cell that calls check() on it, in the notebook's order."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            for key in CHECK_CALL.findall(_source(cell)):
                found.setdefault(key, index)
    return found


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def cell_name(cells: list, index: int) -> str:
    """A cell as an instructor finds it: its position counting every cell from 1, and its first line."""
    first = _source(cells[index]).strip().splitlines()[0] if _source(cells[index]).strip() else ""
    return f'cell {index + 1} ("{first[:40]}{"..." if len(first) > 40 else ""}")'


def read_notebook(path: Path):
    """The notebook at ``path`` (nbformat's NotebookNode), or a ValueError saying it is not one."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except (ValueError, KeyError, AttributeError) as error:     # not JSON, or JSON without a notebook's fields
        raise ValueError(f"could not be read as a notebook ({type(error).__name__}: {error})") from None


def run_notebook(nb, folder: Path, cell_timeout: float, notebook_timeout: float) -> Run:
    """Execute the notebook ``nb`` top to bottom in a fresh kernel started in ``folder``.

    A cell that raises is recorded and the next one runs (the kernel keeps its state). A cell still running after
    ``cell_timeout`` seconds is interrupted (KeyboardInterrupt in the kernel) and recorded as timed out; if the
    kernel does not answer again within PROBE_SECONDS, or dies, or ``notebook_timeout`` seconds have passed, the
    cells left are not run."""
    from ..running_notebooks import notebook_client

    errors: dict[int, tuple[str, str]] = {}

    def on_error(cell, cell_index, execute_reply):
        errors[cell_index] = (execute_reply["content"].get("ename", ""), execute_reply["content"].get("evalue", ""))

    client = notebook_client(nb, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
                             resources={"metadata": {"path": str(folder)}}, on_cell_error=on_error,
                             shutdown_kernel="immediate", log=_QUIET)
    # No stand-in for ipywidgets' Output widget (interact's): its replies to the kernel stalled the cell until its
    # timeout (jupyter/nbclient#312: 120 s lost per interact cell). Grading needs no widget state.
    client.widget_registry = {}
    with tempfile.TemporaryDirectory(prefix="grade_") as scratch:
        record = Path(scratch) / "checks.jsonl"
        deadline = time.monotonic() + notebook_timeout
        with client.setup_kernel(env={**os.environ, GRADE_RECORD: str(record)}):
            _warm_up(client, deadline)
            stopped = _run_cells(client, nb.cells, errors, cell_timeout, deadline)
        lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
    return Run([json.loads(line) for line in lines], errors, stopped)


def _execute(client, cell, index: int, seconds: float, errors: dict) -> None:
    """Run one cell with a limit of ``seconds``; a timeout is reported to on_cell_error as TIMED_OUT."""
    from nbclient.exceptions import DeadKernelError

    client.timeout = max(1, math.ceil(seconds))
    client.error_on_timeout = {"ename": TIMED_OUT, "traceback": [],
                               "evalue": f"did not finish within {client.timeout} s and was interrupted "
                                         "(an endless loop, or too slow?)"}
    try:
        client.execute_cell(cell, index)
    except DeadKernelError:
        errors[index] = (DIED, "made the kernel die (out of memory? os._exit? a crash in C code?)")


def _run_aside(client, code: str, seconds: float) -> tuple[str, str] | None:
    """Run ``code`` in the kernel outside the notebook (no cell, no history, its output dropped); return the error's
    (name, value), ``(TIMED_OUT, ...)`` when no answer came within ``seconds``, or None when it ran."""
    from jupyter_core.utils import run_sync

    request = client.kc.execute(code, silent=True, store_history=False)
    reply = run_sync(_reply_to)(client.kc, request, max(1.0, seconds))
    if reply is None:
        return TIMED_OUT, f"no answer within {seconds:g} s"
    content = reply["content"]
    return (content.get("ename", ""), content.get("evalue", "")) if content["status"] == "error" else None


async def _reply_to(kernel_client, request: str, seconds: float):
    """The kernel's reply to the request with id ``request``, or None when none came within ``seconds``; other
    replies are dropped. It waits on the shell channel that running_notebooks slices (never a missed wake-up)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            reply = await kernel_client.shell_channel.get_msg(timeout=max(0.0, deadline - time.monotonic()))
        except Empty:
            return None
        if reply["parent_header"].get("msg_id") == request:
            return reply


def _warm_up(client, deadline: float) -> None:
    """Import the course in the kernel before the learner's cells; a kernel without course_lib stops the grading."""
    failed = _run_aside(client, WARM_UP, deadline - time.monotonic())
    if failed is not None:
        raise RuntimeError(f"grade: the notebooks' kernel cannot import course_lib ({': '.join(failed)}). Run grade "
                           "with the course's Python (.venv/bin/python -m course_lib.exercises grade DIR), whose "
                           "kernel has course_lib installed.")


def _run_cells(client, cells: list, errors: dict, cell_timeout: float, deadline: float) -> tuple[int, str] | None:
    """Run every code cell in order; return (first cell not run, why) when execution had to stop, else None."""
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            return index, f"the notebook's time limit ran out before {cell_name(cells, index)}"
        _execute(client, cell, index, min(cell_timeout, left), errors)
        name = errors.get(index, ("", ""))[0]
        if name == DIED:
            return index + 1, f"the kernel died in {cell_name(cells, index)}"
        if name == TIMED_OUT and _run_aside(client, "pass", PROBE_SECONDS) is not None:
            return index + 1, f"{cell_name(cells, index)} did not stop when interrupted"
    return None


def notebook_grades(learner: str, notebook: str, cells: list, run: Run) -> list[Grade]:
    """One Grade per exercise the notebook checks, from check()'s last record for it, else from its cell."""
    said = {record["key"]: record for record in run.records}
    grades = []
    for key, index in exercise_cells(cells).items():
        if key in said:
            outcome, detail = said[key]["outcome"], said[key]["message"]
        elif run.stopped is not None and index >= run.stopped[0]:
            outcome, detail = NOT_REACHED, f"{run.stopped[1]}"
        elif index in run.errors:
            outcome, detail = _from_cell_error(*run.errors[index], cell_name(cells, index))
        else:
            outcome, detail = FAILED, f"{cell_name(cells, index)} ran without calling check({key!r})"
        grades.append(Grade(learner, notebook, key, outcome, detail))
    return grades


def _from_cell_error(name: str, value: str, where: str) -> tuple[str, str]:
    if name == "NotImplementedError":
        return NOT_ATTEMPTED, ""
    return FAILED, f"{_what_happened(name, value, where)}, before check() ran"


def _what_happened(name: str, value: str, where: str) -> str:
    return f"{where} {value}" if name in (TIMED_OUT, DIED) else f"{where} raised {name}: {value}".rstrip(": ")


def other_cell_errors(cells: list, run: Run) -> list[str]:
    """The cells that raised and check no exercise (nor are tagged raises-exception, as the course's own
    demonstrations of an error are; a cell that killed the kernel is told where the notebook stopped): in a learner
    copy, each is a cell that needs an answer it lacks."""
    checking = set(exercise_cells(cells).values())
    return [_what_happened(name, value, cell_name(cells, index)) for index, (name, value) in sorted(run.errors.items())
            if index not in checking and name != DIED
            and "raises-exception" not in cells[index].metadata.get("tags", [])]


@dataclass
class Report:
    """Every learner's grades, and the notes on what else went wrong (other cells, stops, unreadable files)."""
    grades: list[Grade]
    notes: list[tuple[str, str, str]]           # (learner, notebook, what happened)


def grade(directory: str | Path, cell_timeout: float = 120, notebook_timeout: float = 1800,
          progress=print, jobs: int = 1) -> Report:
    """Grade every learner notebook under ``directory`` (layout: see the module docstring), ``jobs`` notebooks at
    a time (each in its own kernel; the report is the same whatever ``jobs`` is)."""
    check_seconds("--timeout", cell_timeout)
    check_seconds("--notebook-timeout", notebook_timeout)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"grade: --jobs is how many notebooks run at once, a whole number >= 1; got {jobs!r}.")
    learners = learner_notebooks(directory)
    work = [(learner, path) for learner, notebooks in learners.items() for path in notebooks]

    def one(task: tuple[str, Path]) -> NotebookResult:
        (learner, path), started = task, time.monotonic()
        result = grade_notebook(learner, path, cell_timeout, notebook_timeout)
        progress(f"graded {learner}/{path.name} in {time.monotonic() - started:.0f} s")
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:        # the kernels do the work; threads only wait on them
        results = list(pool.map(one, work))                    # in the order of ``work``, whatever finishes first
    grades = [g for result in results for g in result.grades]
    notes = [note for result in results for note in result.notes]
    unreadable = {(learner, path.name) for (learner, path), result in zip(work, results) if not result.readable}
    return Report(complete(grades, list(learners), unreadable), notes)


@dataclass
class NotebookResult:
    """One learner notebook graded: its exercises' grades, the notes on it (learner, notebook, text), and whether
    it could be read as a notebook at all."""
    grades: list[Grade]
    notes: list[tuple[str, str, str]]
    readable: bool = True


def grade_notebook(learner: str, path: Path, cell_timeout: float, notebook_timeout: float) -> NotebookResult:
    """Run one learner's notebook in a fresh kernel and grade each of its exercises."""
    try:
        nb = read_notebook(path)
    except ValueError as error:
        return NotebookResult([], [(learner, path.name, str(error))], readable=False)
    cells, run = nb.cells, run_notebook(nb, path.parent, cell_timeout, notebook_timeout)
    notes = [(learner, path.name, text) for text in other_cell_errors(cells, run)]
    if run.stopped is not None:
        notes.append((learner, path.name, f"stopped: {run.stopped[1]}"))
    return NotebookResult(notebook_grades(learner, path.name, cells, run), notes)


def complete(grades: list[Grade], learners: list[str], unreadable: set = frozenset()) -> list[Grade]:
    """``grades`` with a 'missing' Grade wherever a learner lacks a notebook, or an exercise, that others have
    (``unreadable``: the (learner, notebook) pairs that could not be read); in the order notebook, learner,
    exercise (the notebook's own order)."""
    found = {(g.learner, g.notebook, g.exercise): g for g in grades}
    exercises: dict[str, list[str]] = {}
    previous: dict[tuple[str, str], str] = {}    # a key new to the columns goes after the learner's key before it
    for g in grades:
        keys = exercises.setdefault(g.notebook, [])
        if g.exercise not in keys:
            before = previous.get((g.learner, g.notebook))
            keys.insert(keys.index(before) + 1 if before else 0, g.exercise)
        previous[g.learner, g.notebook] = g.exercise
    ran = {(g.learner, g.notebook) for g in grades}

    def why(learner: str, notebook: str, key: str) -> str:
        if (learner, notebook) in ran:
            return f"{notebook} does not check {key}"
        return f"{notebook} could not be read" if (learner, notebook) in unreadable else f"no {notebook}"
    return [found.get((learner, notebook, key)) or Grade(learner, notebook, key, MISSING, why(learner, notebook, key))
            for notebook in sorted(exercises) for learner in learners for key in exercises[notebook]]


def check_seconds(option: str, seconds) -> float:
    """``seconds`` as a positive, finite number of seconds, or a ValueError naming the option."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{option} takes a number of seconds greater than 0, such as 60; got {seconds!r}.")
    return value
