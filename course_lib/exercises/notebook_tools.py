"""Turn a solved notebook into a learner's copy: solution blocks become stubs that raise.

In a notebook, a solution sits between two marker lines, indented like the code it replaces:

        ### BEGIN SOLUTION
        return np.maximum(x, 0)
        ### END SOLUTION

``blank_notebook`` keeps the two markers and replaces what is between them with
``raise NotImplementedError(...)``, so the learner's copy runs, the checker answers "not attempted
yet" with the exercise's hint, and the notebook's instruction "write your answer between the
markers" holds in the learner's copy too.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your answer")'
_BLOCK = re.compile(r"^([ \t]*)" + re.escape(BEGIN) + r"\n.*?^[ \t]*" + re.escape(END) + r"[ \t]*$",
                    re.DOTALL | re.MULTILINE)


def blank_source(source: str) -> str:
    """Replace the body of every solution block in one cell's source with an indented stub."""
    return _BLOCK.sub(lambda m: "\n".join(m.group(1) + line for line in (BEGIN, STUB, END)), source)


def blank_notebook(path: str | Path, out: str | Path) -> int:
    """Write a learner's copy of ``path`` to ``out``; return how many solution blocks were blanked."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    count = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        count += source.count(BEGIN)
        cell["source"] = blank_source(source)
        cell["outputs"], cell["execution_count"] = [], None
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return count
