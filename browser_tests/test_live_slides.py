"""Live slides: notebook 00 presented with jupyterlab-rise inside JupyterLab, with nothing asked of the network.

The notebook runs (Run All) and is saved, then RISE's slideshow opens beside it. Its reveal.js deck must have the
slides the notebook's slide metadata says (the same count as the offline deck), the maths typeset, and the page
must not have requested anything outside the local JupyterLab (RISE's default theme asks Google Fonts for its fonts;
the notebooks choose the white theme, whose fonts ship with RISE).
"""
from test_notebooks_in_lab import lab_page, open_and_run_all  # noqa: F401 (lab_page: a fixture used below)
from test_offline_deck import NOTEBOOK, assert_slides_match_metadata

RISE_TIMEOUT_MS = 60_000


def rise_frame(page):
    """The slideshow's frame (RISE:preview shows /rise/<notebook> in a panel), once its deck is ready."""
    page.wait_for_function("() => [...document.querySelectorAll('iframe')].some(f => f.src.includes('/rise/'))",
                           timeout=RISE_TIMEOUT_MS)
    frame = next(frame for frame in page.frames if "/rise/" in frame.url)
    frame.wait_for_selector(".reveal.ready", state="attached", timeout=RISE_TIMEOUT_MS)
    frame.wait_for_selector("mjx-container", state="attached", timeout=RISE_TIMEOUT_MS)
    return frame


def test_notebook_00_as_a_live_slideshow(lab_page, lab):
    page, blocked = lab_page
    open_and_run_all(page, lab, NOTEBOOK.name)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.evaluate("() => window.jupyterapp.commands.execute('RISE:preview')")
    frame = rise_frame(page)

    assert_slides_match_metadata(frame, "RISE")
    assert frame.locator("mjx-container").count() > 10, "RISE typeset almost no maths"
    assert not blocked, f"the slideshow asked for something outside {lab.url}: {blocked}"
