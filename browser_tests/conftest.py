"""Fixtures of the browser tests: Debian's headless chromium driven by Playwright, and a throw-away JupyterLab.

These tests live outside tests/ so that make test never starts a browser; make browser-test runs them.
Nothing here uses the network: the browser talks to files and to a JupyterLab server on 127.0.0.1 only.
"""
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
CHROMIUM = Path("/usr/bin/chromium")
SERVER_START_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def chromium():
    """A headless Debian chromium (never a browser that Playwright downloads), closed at the end of the session."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's browser with  apt-get install chromium  "
                    "(make browser-test does it when run as root)", pytrace=False)
    with sync_playwright() as playwright:
        # --no-sandbox: chromium refuses to start its sandbox as root, which is how CI runs.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def local_page(chromium):
    """Opens fresh pages that may only load URLs starting with `allowed`: open_page(allowed) -> (page, blocked).

    Every other request is aborted and its URL appended to `blocked`, for the test to assert it stayed empty.
    The pages' contexts close when the test ends.
    """
    contexts = []

    def open_page(allowed, viewport=None):
        context = chromium.new_context(viewport=viewport or {"width": 1280, "height": 900})
        contexts.append(context)
        blocked = []

        def keep_local(route):
            if route.request.url.startswith(allowed):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", keep_local)
        return context.new_page(), blocked

    yield open_page
    for context in contexts:
        context.close()


def notebook_hashes():
    """SHA-256 of every committed notebook, by file name."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(NOTEBOOKS.glob("*.ipynb"))}


@pytest.fixture(scope="session", autouse=True)
def committed_notebooks():
    """Hash the committed notebooks before the session's first test and compare once every server has stopped.

    The lab fixture depends on this one, so its server (which autosaves what it runs) is stopped before the
    comparison; a notebook changed meanwhile fails the run as an error at the teardown of the last test.
    """
    before = notebook_hashes()
    yield before
    changed = sorted({name for name, _ in set(before.items()) ^ set(notebook_hashes().items())})
    assert not changed, f"the browser tests changed, added or removed committed notebooks: {changed}"


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: where it listens, the token it wants, and the folder of notebook copies it serves."""

    url: str
    token: str
    root: Path

    def notebook_url(self, name):
        # ?reset: start from an empty workspace, or JupyterLab reopens the tabs of an earlier page.
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"


def free_loopback_port():
    """A port on 127.0.0.1 that nothing listens on now (the system picks it when we bind port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_command(port, token, root, workspaces, settings):
    """jupyter lab from this Python's environment, serving root on 127.0.0.1:port, fetching nothing from outside."""
    jupyter = Path(sys.executable).with_name("jupyter")
    command = [
        str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={workspaces}", f"--LabApp.user_settings_dir={settings}",
        "--LabApp.news_url=None",                      # no news feed fetched from jupyterlab.github.io
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",         # no extension listing fetched from PyPI
        "--LabApp.expose_app_in_browser=True",         # window.jupyterapp: run commands, read the notebook's model
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    return command


def write_user_settings(settings):
    """Settings of a fresh JupyterLab that never asks to fetch news (its prompt would sit over every screenshot)."""
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def wait_until_answering(url, server, log, timeout_s=SERVER_START_TIMEOUT_S):
    """Poll JupyterLab's /api/status until it answers; fail with the server's log if it exits or never answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"jupyter lab exited with code {server.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    pytest.fail(f"jupyter lab did not answer {url} within {timeout_s} s:\n{log.read_text()}", pytrace=False)


def stop_server(server, lab):
    """Ask JupyterLab to shut down (it shuts its kernels down too); terminate, then kill, if it does not."""
    request = urllib.request.Request(f"{lab.url}/api/shutdown", method="POST",
                                     headers={"Authorization": f"token {lab.token}"})
    try:
        urllib.request.urlopen(request, timeout=10).close()
        server.wait(timeout=30)
    except (urllib.error.URLError, ConnectionError, subprocess.TimeoutExpired):
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)   # the server's own process group: it and its kernels
            server.wait()


@pytest.fixture(scope="session")
def lab(tmp_path_factory, committed_notebooks):
    """JupyterLab on a free loopback port, serving a copy of notebooks/ with a throw-away workspace and settings.

    JupyterLab autosaves outputs into the notebooks it runs, so it drives copies; the committed ones stay as
    they are (committed_notebooks checks that).
    """
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port, token = free_loopback_port(), secrets.token_hex(24)
    log = base / "jupyter-lab.log"
    write_user_settings(base / "user-settings")
    command = lab_command(port, token, root, base / "workspaces", base / "user-settings")
    with log.open("w") as log_file:
        server = subprocess.Popen(command, cwd=base, stdout=log_file, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    running = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root)
    try:
        wait_until_answering(f"{running.url}/api/status?token={token}", server, log)
        yield running
    finally:
        stop_server(server, running)


NOTEBOOK_SUMMARY = ("seconds", "cells", "widget views", "interacts", "sliders moved")


def pytest_terminal_summary(terminalreporter):
    """One line per notebook run in the browser (from the properties its test recorded), and the totals."""
    reports = [report for report in terminalreporter.stats.get("passed", [])
               if report.when == "call" and dict(report.user_properties).keys() >= set(NOTEBOOK_SUMMARY)]
    if not reports:
        return
    terminalreporter.section("notebooks in JupyterLab")
    terminalreporter.write_line(f"{'notebook':<40}" + "".join(f"{key:>16}" for key in NOTEBOOK_SUMMARY))
    totals = dict.fromkeys(NOTEBOOK_SUMMARY, 0)
    for report in sorted(reports, key=lambda report: report.nodeid):
        properties = dict(report.user_properties)
        notebook = report.nodeid.rpartition("[")[2].rstrip("]")
        terminalreporter.write_line(f"{notebook:<40}" + "".join(f"{properties[key]:>16}" for key in NOTEBOOK_SUMMARY))
        for key in NOTEBOOK_SUMMARY:
            totals[key] += properties[key]
    terminalreporter.write_line(f"{f'total ({len(reports)} notebooks)':<40}"
                                + "".join(f"{totals[key]:>16}" for key in NOTEBOOK_SUMMARY))
