"""``python -m course_lib.exercises blank SRC_DIR OUT_DIR``: learner copies of every notebook."""
from __future__ import annotations

import sys
from pathlib import Path

from .notebook_tools import blank_notebook


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "blank":
        print(__doc__)
        return 2
    src, out = Path(argv[1]), Path(argv[2])
    for nb in sorted(src.glob("*.ipynb")):
        n = blank_notebook(nb, out / nb.name)
        print(f"{nb.name}: {n} solution block(s) replaced by stubs -> {out / nb.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
