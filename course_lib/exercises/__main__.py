"""The instructor's commands.

python -m course_lib.exercises blank SRC_DIR OUT_DIR     learner copies of every notebook (make learner-copies)
python -m course_lib.exercises grade DIR [--timeout S] [--notebook-timeout S] [--csv PATH] [--jobs N]
                                                        run every learner's notebooks, print a table learner x
                                                        exercise, write it as CSV (default DIR/grades.csv)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .grade_table import table, write_csv
from .grading import NOT_ATTEMPTED, check_seconds, grade, learner_notebooks
from .notebook_tools import blank_notebook

GRADE_HELP = """\
DIR holds one sub-folder per learner, named after them, with their notebooks under the course's names:
  DIR/ana/12_gpus_and_scale.ipynb  DIR/ana/13_sequences.ipynb  DIR/ben/13_sequences.ipynb ...
(one folder per learner: a learner hands in several notebooks over a term, and each notebook's name says which
exercises it holds; a learning platform's "download all submissions" gives one folder per learner too).

Each notebook runs top to bottom in a fresh kernel started in its folder. A cell that raises is recorded and the
next one runs; a cell still running after --timeout seconds is interrupted, recorded, and the next one runs; a
kernel that dies or a notebook past --notebook-timeout seconds leaves the rest "not reached". Each exercise is
passed, failed (with the checker's message), not attempted (the learner copy's stub), not reached (with the cell
where the notebook stopped), or missing (the learner's notebook lacks it)."""


def _seconds(option: str):
    def parse(text: str) -> float:
        try:
            return check_seconds(option, text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return parse


def _whole(option: str):
    def parse(text: str) -> int:
        if not text.strip().isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"{option} is how many notebooks run at once, a whole number >= 1 "
                                             f"(say 2 on a two-core machine); got {text!r}")
        return int(text)
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_lib.exercises", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    blank = commands.add_parser("blank", help="write learner copies: every solution block replaced by a stub")
    blank.add_argument("src", type=Path, help="folder of solved notebooks (notebooks/)")
    blank.add_argument("out", type=Path, help="folder for the learner copies (learner/)")
    graded = commands.add_parser("grade", help="run learners' notebooks and tabulate every exercise",
                                 description=GRADE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    graded.add_argument("dir", type=Path, help="folder with one sub-folder of notebooks per learner")
    graded.add_argument("--timeout", type=_seconds("--timeout"), default=120.0,
                        help="seconds one cell may run before it is interrupted (default 120)")
    graded.add_argument("--notebook-timeout", type=_seconds("--notebook-timeout"), default=1800.0,
                        help="seconds one whole notebook may run (default 1800)")
    graded.add_argument("--csv", type=Path, help="where to write the grades as CSV (default DIR/grades.csv)")
    graded.add_argument("--jobs", type=_whole("--jobs"), default=1,
                        help="notebooks run at once, each in its own kernel (default 1; at most one per core)")
    graded.add_argument("--expect-not-attempted", action="store_true",
                        help="exit 1 unless every exercise is 'not attempted' and no other cell raised "
                             "(checks learner copies: make grade-learner-copies)")
    return parser


def csv_path(directory: Path, given: Path | None) -> Path:
    """Where the CSV goes, checked before any notebook runs (not after an hour of grading)."""
    path = given if given is not None else directory / "grades.csv"
    if path.is_dir():
        raise IsADirectoryError(f"grade: --csv {str(path)!r} is a folder; give a file name, "
                                f"e.g. {path / 'grades.csv'}.")
    if given is not None and not path.parent.is_dir():
        raise FileNotFoundError(f"grade: --csv {str(path)!r}: there is no folder {str(path.parent)!r} to write it in.")
    return path


def checked_inputs(args: argparse.Namespace) -> Path:
    """Refuse, before anything runs, what grade cannot work with; return where the CSV goes."""
    if args.notebook_timeout < args.timeout:
        raise ValueError(f"grade: --notebook-timeout ({args.notebook_timeout:g} s) is shorter than --timeout "
                         f"({args.timeout:g} s), the time one cell may take: raise it, or lower --timeout.")
    learner_notebooks(args.dir)
    return csv_path(args.dir, args.csv)


def run_grade(args: argparse.Namespace, out: Path) -> int:
    report = grade(args.dir, args.timeout, args.notebook_timeout, progress=lambda line: print(line, flush=True),
                   jobs=args.jobs)
    print(table(report))
    write_csv(report.grades, out)
    print(f"\n{len(report.grades)} grades written to {out}")
    if args.expect_not_attempted:
        others = [g for g in report.grades if g.outcome != NOT_ATTEMPTED]
        if others or report.notes:
            print(f"FAILED: {len(others)} exercise(s) not 'not attempted', {len(report.notes)} other problem(s) "
                  "(listed above)")
            return 1
        print(f"OK: all {len(report.grades)} exercises 'not attempted', no other cell raised")
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "blank":
        for nb in sorted(args.src.glob("*.ipynb")):
            n = blank_notebook(nb, args.out / nb.name)
            print(f"{nb.name}: {n} solution block(s) replaced by stubs -> {args.out / nb.name}")
        return 0
    try:
        out = checked_inputs(args)
    except (OSError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    return run_grade(args, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
