"""The offline slide deck: built by `make slides`, opened from disk with every request outside slides/ blocked.

A lecture room may have no network, so a deck must load reveal.js, MathJax and the widget manager from the files
beside it. The test builds notebook 00's deck with the same make target an instructor runs, opens it in headless
Chromium with a route that aborts any URL outside the slides folder, and checks that nothing was asked of the
outside, no request failed, the slide count is what the notebook's slide metadata says, the maths rendered and
the widgets drew.
"""
import fcntl
import json
import os
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_start_here.ipynb"
DECK = ROOT / "slides" / "00_start_here.slides.html"
DECK_TIMEOUT_MS = 60_000   # each of: reveal.js ready, MathJax done, the widgets drawn

# The deck is built once per test run, whichever worker asks first; the other waits on the lock, then reads the
# outcome. (xdist_group cannot promise one worker: with pytest 9.2 loadgroup ignores it, pytest-xdist#1386.)
BUILD_LOCK = ROOT / "slides" / ".deck-test.lock"
BUILD_OUTCOME = ROOT / "slides" / ".deck-test-outcome.json"


def expected_slide_counts(notebook_path):
    """(slides, subslides) nbconvert makes: the first shown cell opens a slide; 'slide' and 'subslide' open more.

    A subslide here is every leaf <section>, so a slide with no subslides counts once in both.
    """
    cells = json.loads(notebook_path.read_text())["cells"]
    kinds = [cell["metadata"].get("slideshow", {}).get("slide_type", "-") for cell in cells]
    shown = [kind for kind in kinds if kind not in ("skip", "notes")]
    after_first = shown[1:]
    slides = 1 + after_first.count("slide")
    return slides, slides + after_first.count("subslide")


@pytest.fixture(scope="module")
def deck(testrun_uid):
    """Notebook 00's deck, built by `make slides` (executed: a minute or so) once in this test run."""
    with BUILD_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        outcome = json.loads(BUILD_OUTCOME.read_text()) if BUILD_OUTCOME.exists() else {}
        if outcome.get("run") != testrun_uid:
            outcome = {"run": testrun_uid, "error": build_deck()}
            BUILD_OUTCOME.write_text(json.dumps(outcome))
    if outcome["error"]:
        pytest.fail(outcome["error"], pytrace=False)
    return DECK


def build_deck():
    """Run `make slides` for notebook 00; what went wrong, or None."""
    command = ["make", "-s", "slides", f"SLIDES_FROM={NOTEBOOK.relative_to(ROOT)}"]
    built = subprocess.run(command, cwd=ROOT, env=dict(os.environ, MAKEFLAGS=""), capture_output=True, text=True,
                           timeout=900)
    if built.returncode == 0:
        return None
    return f"{' '.join(command)} failed (exit {built.returncode}):\n{built.stdout[-3000:]}{built.stderr[-3000:]}"


@pytest.fixture(scope="module")
def opened_deck(deck, chromium):
    """The deck opened from disk; what it asked of the outside, what failed and what its page logged as errors."""
    seen = {"outside": [], "failed": [], "errors": []}
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if is_local(route.request.url, deck)
               else (seen["outside"].append(route.request.url), route.abort()))
    page.on("requestfailed", lambda request: seen["failed"].append(f"{request.url}: {request.failure}"))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("console", lambda message: message.type == "error" and seen["errors"].append(message.text))
    page.goto(deck.as_uri())
    try:
        page.wait_for_selector(".reveal.ready", state="attached", timeout=DECK_TIMEOUT_MS)
        page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.running === 0"
                               " && MathJax.Hub.queue.pending === 0", timeout=DECK_TIMEOUT_MS)
        page.wait_for_selector(".jupyter-widgets", state="attached", timeout=DECK_TIMEOUT_MS)
    except PlaywrightTimeout as timeout:
        pytest.fail(f"{deck.name} never got ready ({timeout.message.splitlines()[0]}); what the page saw: {seen}",
                    pytrace=False)
    yield page, seen
    context.close()


def is_local(url, deck):
    """A file in the deck's folder (slides/, where node_modules is), or data the page carries itself."""
    return url.startswith(deck.parent.as_uri() + "/") or url.startswith("data:")


def test_nothing_outside_the_slides_folder_was_requested(opened_deck):
    _, seen = opened_deck
    assert seen["outside"] == [], f"the deck asked the network for {seen['outside']}: serve it from slides/node_modules"


def test_no_request_failed_and_no_script_error(opened_deck):
    _, seen = opened_deck
    assert seen["failed"] == [], f"requests failed: {seen['failed']}"
    assert seen["errors"] == [], f"the page logged errors: {seen['errors']}"


def assert_slides_match_metadata(deck_page, shown_by):
    """The reveal.js deck in deck_page (a page or frame) has the slides and subslides notebook 00's metadata says."""
    slides, subslides = expected_slide_counts(NOTEBOOK)
    shown_slides = deck_page.locator(".reveal .slides > section").count()
    leaf_sections = deck_page.evaluate("document.querySelectorAll('.reveal .slides section:not(:has(section))').length")
    assert (shown_slides, leaf_sections) == (slides, subslides), (
        f"{shown_by} shows {shown_slides} slides and {leaf_sections} subslides; notebook 00's slide metadata says "
        f"{slides} and {subslides}")
    assert subslides > 5, "a lecture deck of fewer than six slides: is the slide metadata there?"


def test_slide_count_matches_the_notebook_metadata(opened_deck):
    assert_slides_match_metadata(opened_deck[0], "the offline deck")


def test_every_formula_was_typeset(opened_deck):
    page, _ = opened_deck
    formulas = page.locator('script[type^="math/tex"]').count()
    typeset = page.locator(".MathJax_CHTML").count()
    failed = page.locator(".MathJax_Error, .mjx-merror").count()
    assert formulas > 0, "no formula found: MathJax did not run on the deck"
    assert (typeset, failed) == (formulas, 0), f"{formulas} formulas, {typeset} typeset, {failed} errors"


def test_the_widgets_drew_from_their_saved_state(opened_deck):
    page, _ = opened_deck
    assert page.locator(".jupyter-widgets").count() > 0
    assert page.get_by_text("Error displaying widget").count() == 0
