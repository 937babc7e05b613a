"""Live slides: notebook 00 presented with jupyterlab-rise inside JupyterLab, with nothing asked of the network.

The notebook runs (Run All) and is saved, then RISE's slideshow opens beside it. Its reveal.js deck must have the
slides the notebook's slide metadata says (the same count as the offline deck), the maths typeset, and the page
must not have requested anything outside the local JupyterLab (RISE's default theme asks Google Fonts for its fonts;
the notebooks choose the white theme, whose fonts ship with RISE).
"""
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from test_notebooks_in_lab import lab_page, open_and_run_all  # noqa: F401 (lab_page: a fixture used below)
from test_offline_deck import NOTEBOOK, assert_slides_match_metadata

RISE_TIMEOUT_MS = 60_000
MIN_TYPESET = 10   # notebook 00's slides hold dozens of formulas; MathJax 3 typesets them as it goes
# Seen here with jupyterlab-rise 0.43.1 (the newest) and ipywidgets 8.1.9: RISE's page cannot load the widget manager
# ("Shared module @jupyterlab/console doesn't exist in shared scope default"), so each widget shows as its text.
RISE_WIDGETS_UPSTREAM = ("RISE's slideshow shows widgets as text: its app lacks @jupyterlab/console, which the "
                         "ipywidgets 8 manager needs (jupyterlab-contrib/rise#119, #126); the README tells instructors "
                         "to move sliders in the notebook view")


def rise_frame(page):
    """The slideshow's frame (RISE:preview shows /rise/<notebook> in a panel), once its deck is ready.

    The iframe element appears before its frame has navigated to /rise/ (its URL is about:blank until then), so
    the frames are polled until one has.
    """
    deadline = time.monotonic() + RISE_TIMEOUT_MS / 1000
    while not (frames := [frame for frame in page.frames if "/rise/" in frame.url]):
        assert time.monotonic() < deadline, f"RISE:preview opened no /rise/ frame in {RISE_TIMEOUT_MS // 1000} s"
        page.wait_for_timeout(250)
    frame = frames[0]
    frame.wait_for_selector(".reveal.ready", state="attached", timeout=RISE_TIMEOUT_MS)
    return frame


def typeset_formulas(frame):
    """How many formulas MathJax has typeset in the frame, waiting up to RISE_TIMEOUT_MS for more than MIN_TYPESET."""
    count = "document.querySelectorAll('mjx-container').length"
    try:
        frame.wait_for_function(f"() => {count} > {MIN_TYPESET}", timeout=RISE_TIMEOUT_MS)
    except PlaywrightTimeout:
        pass
    return frame.evaluate(count)


def test_notebook_00_as_a_live_slideshow(lab_page, lab):
    page, blocked = lab_page
    open_and_run_all(page, lab, NOTEBOOK.name)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.evaluate("() => window.jupyterapp.commands.execute('RISE:preview')")
    frame = rise_frame(page)

    assert_slides_match_metadata(frame, "RISE")
    assert typeset_formulas(frame) > MIN_TYPESET, "RISE typeset almost no maths"
    assert not blocked, f"the slideshow asked for something outside {lab.url}: {blocked}"

    # The widgets: notebook 00's explorer must show as a widget, or the known upstream failure is reported.
    assert frame.get_by_text("Error displaying widget").count() == 0
    if frame.locator(".jupyter-widgets").count() == 0:
        assert frame.get_by_text("interactive(children=").count() > 0, "the explorer's output is missing from RISE"
        pytest.xfail(RISE_WIDGETS_UPSTREAM)
