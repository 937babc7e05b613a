"""The environment is the locked one: every package requirements-lock.txt names for this machine is installed, at
exactly the lock's version, so a class installs months later what CI tested (make upgrade moves the lock on)."""
import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

LOCK = Path(__file__).resolve().parents[1] / "requirements-lock.txt"
PINNED = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def locked_versions(lock_text):
    """{canonical name: version} of the lock's `name==version [; marker]` lines whose marker holds here."""
    pins = {}
    for line in lock_text.splitlines():
        match = PINNED.match(line)
        if match and (match["marker"] is None or Marker(match["marker"]).evaluate()):
            pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def test_the_lock_is_read():
    pins = locked_versions(LOCK.read_text())
    assert {"numpy", "torch", "torchvision", "ipywidgets", "jupyterlab", "nbval"} <= pins.keys(), (
        f"requirements-lock.txt names {len(pins)} packages for this machine; is it the export of uv.lock?")


def test_markers_choose_one_version_per_python():
    lock = ("numpy==2.2.6 ; python_full_version < '3.11' \\\n"
            "numpy==2.4.6 ; python_full_version >= '3.11' \\\n"
            "appnope==1.0.0 ; sys_platform == 'never' \\\n"
            "tqdm==4.67.1 \\\n")
    pins = locked_versions(lock)
    assert pins["tqdm"] == "4.67.1" and "appnope" not in pins
    assert pins["numpy"] in ("2.2.6", "2.4.6") and len(pins) == 2


@pytest.mark.parametrize("name, version", sorted(locked_versions(LOCK.read_text()).items()))
def test_installed_version_is_the_locked_one(name, version):
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{name} {version} is in requirements-lock.txt but not installed: run make (it installs the lock)")
    assert installed == version, (
        f"{name} is {installed} here, the lock says {version}: `make` installs the lock; `make upgrade` moves it on")
