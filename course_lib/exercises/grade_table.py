"""The grades as an instructor reads them: a table learner x exercise per notebook, the reasons, and a CSV."""
from __future__ import annotations

import csv
import re
from pathlib import Path

from .grading import PASSED, Grade, Report

SHORT = 110                                     # characters of a reason the table shows (the CSV has all of it)
CSV_FIELDS = ("learner", "notebook", "exercise", "outcome", "detail")


INPUTS = re.compile(r"^for inputs \((?:[^()]|\([^()]*\))*\), ")   # "for inputs (array(8, 4), 3), ": in the CSV


def short(detail: str, key: str = "") -> str:
    """A reason on one line of at most SHORT characters, without the exercise's name the checker puts first and
    without the inputs it names."""
    line = INPUTS.sub("", detail.removeprefix(f"{key}: ").strip().splitlines()[0]) if detail.strip() else ""
    return line if len(line) <= SHORT else line[:SHORT - 3] + "..."


def _rows(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [headers, *rows]]


def table(report: Report) -> str:
    """Per notebook, one row per learner and one column per exercise (with a score); then every reason."""
    learners = sorted({g.learner for g in report.grades})
    lines = []
    for notebook in sorted({g.notebook for g in report.grades}):
        mine = [g for g in report.grades if g.notebook == notebook]
        keys = list(dict.fromkeys(g.exercise for g in mine))
        rows = []
        for learner in learners:
            theirs = {g.exercise: g.outcome for g in mine if g.learner == learner}
            passed = sum(outcome == PASSED for outcome in theirs.values())
            rows.append([learner, *(theirs.get(k, "") for k in keys), f"{passed}/{len(keys)}"])
        lines += ["", *_rows([notebook, *(k.split(".", 1)[1] for k in keys), "passed"], rows)]
    reasons = [f"{g.learner}  {g.exercise}  {g.outcome}: {short(g.detail, g.exercise)}"
               for g in report.grades if g.outcome != PASSED and g.detail]
    if reasons:
        lines += ["", "Why:", *reasons]
    if report.notes:
        lines += ["", "Also:", *(f"{learner}  {notebook}: {short(text)}" for learner, notebook, text in report.notes)]
    return "\n".join(lines[1:])


def write_csv(grades: list[Grade], path: str | Path) -> None:
    """One row per learner x exercise: learner, notebook, exercise, outcome, detail (the whole reason, one line)."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_FIELDS)
        for g in grades:
            writer.writerow([g.learner, g.notebook, g.exercise, g.outcome, " | ".join(g.detail.strip().splitlines())])
