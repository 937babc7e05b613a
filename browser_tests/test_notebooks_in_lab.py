"""Every notebook in a real JupyterLab page: Run All, then no error, every cell ran, every widget rendered, and the
first slider of each interact changes what the interact shows.

The page is driven through JupyterLab's own app object (window.jupyterapp, exposed by the lab fixture): its
commands run the notebook, its notebook model says which cells ran and which raised. The widgets are checked in
the page itself, where a learner sees them.
"""
import io
import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_PATHS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SCREENSHOTS = REPO / "browser-screenshots"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# A cell that shows widgets: tagged nbval-ignore-output (widget outputs change every run) and calling interact or
# an ipywidgets constructor.
WIDGET_CELL = re.compile(r"\binteract(ive)?\(|\bwidgets\.[A-Z]\w*\(")

OPEN_TIMEOUT_MS = 120_000            # page loaded and kernel started
RUN_TIMEOUT_MS = 900_000             # Run All of one notebook (the slowest take 2-3 minutes on two busy cores)
WIDGET_TIMEOUT_MS = 60_000           # widget views done loading after the run
SLIDER_TIMEOUT_MS = 180_000          # an interact redrawn after its slider moved (some callbacks train a network)
SCREENSHOT_STRIP_HEIGHT = 4_000     # pixels: the notebook is captured in strips this tall, then stitched

PANEL = "window.jupyterapp.shell.currentWidget"

KERNEL_READY = f"""() => {{
    const panel = window.jupyterapp && {PANEL};
    if (!panel || !panel.content || !panel.content.model || !panel.sessionContext) return false;
    const session = panel.sessionContext.session;
    return panel.sessionContext.isReady && Boolean(session && session.kernel && session.kernel.status === 'idle');
}}"""

# Run All sends every cell to the kernel at once and settles at the first error (even in a raises-exception cell,
# whose request does not stop the others), so its promise does not say the kernel is done. An empty request sent
# after it is answered only once the kernel has handled every request before it: that answer marks the end.
RUN_ALL = f"""() => {{
    const panel = {PANEL};
    window.runAllDone = false;
    const drain = () => panel.sessionContext.session.kernel.requestExecute(
        {{code: '', silent: true, store_history: false}}).done;
    window.jupyterapp.commands.execute('notebook:run-all-cells')
        .catch(() => false).then(drain).catch(() => false).then(() => {{ window.runAllDone = true; }});
}}"""

KERNEL_DRAINED = f"""() => {PANEL}.sessionContext.session.kernel.requestExecute(
    {{code: '', silent: true, store_history: false}}).done.then(() => true)"""

# Per code cell: its index among all cells, its execution count, its tags, and the errors it shows.
CODE_CELLS = f"""() => {{
    const cells = {PANEL}.content.model.cells;
    const found = [];
    for (let index = 0; index < cells.length; index++) {{
        const cell = cells.get(index);
        if (cell.type !== 'code') continue;
        const errors = [];
        for (let k = 0; k < cell.outputs.length; k++) {{
            const output = cell.outputs.get(k).toJSON();
            if (output.output_type === 'error') errors.push(`${{output.ename}}: ${{output.evalue}}`);
        }}
        found.push({{index, execution_count: cell.executionCount, tags: cell.getMetadata('tags') || [], errors}});
    }}
    return found;
}}"""

# IPython's traceback header: how an exception raised in an interact's callback shows in its output widget.
TRACEBACK = "Traceback (most recent call last)"

# Every widget-view output of the notebook, with the cell it belongs to and the state its renderer shows.
WIDGET_VIEWS = f"""() => {{
    const views = [];
    {PANEL}.content.widgets.forEach((cell, index) => {{
        if (cell.model.type !== 'code') return;
        for (let k = 0; k < cell.model.outputs.length; k++) {{
            if (!('{WIDGET_MIME}' in cell.model.outputs.get(k).data)) continue;
            const node = cell.outputArea.widgets[k].node.querySelector('.jp-OutputArea-output');
            const text = node.textContent.trim();
            let state = 'rendered';
            if (node.classList.contains('lm-mod-hidden')) state = 'closed';         // the kernel closed the widget
            else if (text.startsWith('Error displaying widget')) state = 'error';
            else if (!node.querySelector('.jupyter-widgets')) state = 'loading';     // "Loading widget..."
            else if (text.includes('{TRACEBACK}')) state = 'raised';                 // its callback raised
            views.push({{cell: index, state, text: text.slice(-300)}});
        }}
    }});
    return views;
}}"""

WIDGETS_SETTLED = WIDGET_VIEWS.replace("return views;", "return views.every(view => view.state !== 'loading');")

NOTEBOOK_SCROLLER = "document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')"


@pytest.fixture
def lab_page(local_page, lab):
    """A fresh page that may only talk to the lab server, and the requests it tried elsewhere; the notebook's kernel
    is shut down afterwards, so each notebook's kernel frees its memory before the next starts."""
    yield local_page(lab.url)
    shut_down_kernels(lab)


def lab_api(lab, path, method="GET"):
    request = urllib.request.Request(f"{lab.url}/api/{path}", method=method,
                                     headers={"Authorization": f"token {lab.token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


def shut_down_kernels(lab):
    """End every notebook session of the lab server, and so its kernel."""
    for session in lab_api(lab, "sessions"):
        lab_api(lab, f"sessions/{session['id']}", method="DELETE")


def widget_cells(notebook):
    """Indices of the cells whose source says they show a widget."""
    cells = json.loads(notebook.read_text())["cells"]
    return [index for index, cell in enumerate(cells)
            if cell["cell_type"] == "code" and "nbval-ignore-output" in cell["metadata"].get("tags", [])
            and WIDGET_CELL.search("".join(cell["source"]))]


def wait_for(page, condition, timeout_ms, what):
    """Wait until the JavaScript condition holds in the page; fail saying what did not happen in time."""
    try:
        page.wait_for_function(condition, timeout=timeout_ms, polling=500)
    except PlaywrightTimeout:
        pytest.fail(f"{what} within {timeout_ms // 1000} s", pytrace=False)


def open_and_run_all(page, lab, name):
    page.goto(lab.notebook_url(name))
    wait_for(page, KERNEL_READY, OPEN_TIMEOUT_MS, f"JupyterLab did not open {name} with an idle kernel")
    page.evaluate(RUN_ALL)
    wait_for(page, "() => window.runAllDone", RUN_TIMEOUT_MS, f"Run All did not finish {name}")


def settled_widget_views(page):
    """The notebook's widget views once none is still loading, or as they are when that takes too long."""
    try:
        page.wait_for_function(WIDGETS_SETTLED, timeout=WIDGET_TIMEOUT_MS, polling=500)
    except PlaywrightTimeout:
        pass    # the views still loading are reported by the test
    return page.evaluate(WIDGET_VIEWS)


def save_screenshot(page, stem):
    """The whole notebook as it looks after the run, captured strip by strip down its scrolling area."""
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")     # the file browser: room for the notebook
    viewport = page.viewport_size
    page.set_viewport_size({"width": viewport["width"], "height": SCREENSHOT_STRIP_HEIGHT})
    box = page.evaluate(f"""() => {{ const r = {NOTEBOOK_SCROLLER}.getBoundingClientRect();
        return {{x: r.x, y: r.y, width: r.width, height: r.height, total: {NOTEBOOK_SCROLLER}.scrollHeight}}; }}""")
    clip = {key: box[key] for key in ("x", "y", "width", "height")}
    scroll_to = f"(offset) => {{ {NOTEBOOK_SCROLLER}.scrollTop = offset; return {NOTEBOOK_SCROLLER}.scrollTop; }}"
    notebook = Image.new("RGB", (round(box["width"]), box["total"]), "white")
    for offset in range(0, box["total"], round(box["height"])):
        top = page.evaluate(scroll_to, offset)   # the last strip stops at the bottom: paste it where it scrolled to
        notebook.paste(Image.open(io.BytesIO(page.screenshot(clip=clip))), (0, round(top)))
    SCREENSHOTS.mkdir(exist_ok=True)
    notebook.save(SCREENSHOTS / f"{stem}.png")
    page.set_viewport_size(viewport)


def move_first_slider(page, interact):
    """Press an arrow key on the interact's first slider and wait until its output shows something else.

    Returns the slider's label, or None when the interact has no slider.
    """
    sliders = interact.locator(".widget-slider:has(.noUi-handle)")
    if sliders.count() == 0:
        return None
    handle = sliders.first.locator(".noUi-handle").first
    label = sliders.first.locator(".widget-label").first.text_content()
    at_max = float(handle.get_attribute("aria-valuenow")) >= float(handle.get_attribute("aria-valuemax"))
    output = interact.locator(":scope > .widget-output")
    before = output.inner_html()
    handle.press("ArrowLeft" if at_max else "ArrowRight")
    try:
        output.wait_for_function("(node, before) => node.innerHTML !== before", arg=before, timeout=SLIDER_TIMEOUT_MS)
    except PlaywrightTimeout:
        pytest.fail(f"moving slider {label!r} did not change its interact within {SLIDER_TIMEOUT_MS // 1000} s",
                    pytrace=False)
    wait_for(page, KERNEL_DRAINED, SLIDER_TIMEOUT_MS, f"the kernel did not finish the callback of slider {label!r}")
    after = output.inner_html()
    assert after != before, f"the interact of slider {label!r} went back to what it showed before the move"
    assert TRACEBACK not in output.inner_text(), f"moving slider {label!r} raised:\n{output.inner_text()}"
    return label


@pytest.mark.parametrize("notebook", NOTEBOOK_PATHS, ids=lambda path: path.stem)
def test_notebook_runs_in_jupyterlab(notebook, lab_page, lab, record_property):
    page, blocked = lab_page
    start = time.monotonic()
    open_and_run_all(page, lab, notebook.name)
    views = settled_widget_views(page)
    save_screenshot(page, notebook.stem)

    cells = page.evaluate(CODE_CELLS)
    unexpected = [f"cell {cell['index']}: {error}" for cell in cells if "raises-exception" not in cell["tags"]
                  for error in cell["errors"]]
    assert not unexpected, "error output:\n" + "\n".join(unexpected)
    not_run = [cell["index"] for cell in cells if cell["execution_count"] is None]
    assert not not_run, f"cells that never ran: {not_run}"
    did_not_raise = [cell["index"] for cell in cells if "raises-exception" in cell["tags"] and not cell["errors"]]
    assert not did_not_raise, f"cells tagged raises-exception that did not raise: {did_not_raise}"

    broken = [view for view in views if view["state"] in ("error", "loading", "raised")]
    assert not broken, f"widget views that did not render: {broken}"
    shown = {view["cell"] for view in views if view["state"] == "rendered"}
    missing = [index for index in widget_cells(notebook) if index not in shown]
    assert not missing, f"cells whose widgets did not display: {missing}"

    interacts = page.locator(".widget-interact")
    moved = [move_first_slider(page, interacts.nth(k)) for k in range(interacts.count())]
    assert not blocked, f"the page asked for something outside {lab.url}: {blocked}"

    summary = {"seconds": round(time.monotonic() - start), "cells": len(cells),
               "widget views": sum(view["state"] == "rendered" for view in views),
               "interacts": len(moved), "sliders moved": len(moved) - moved.count(None)}
    for key, value in summary.items():
        record_property(key, value)

