"""Is everything the course needs here?  ``check_environment()`` answers in one small report.

    >>> from course_lib.environment import check_environment
    >>> report = check_environment()
    >>> print(report)            # a readable table: Python, packages, device, data
    >>> report.data_verified     # True: data/mnist10k.npz has the expected sha256
    True

What is *required* (the notebooks do not run without it): NumPy, PyTorch, torchvision (notebook 07
imports it; the package declares it), matplotlib, ipywidgets and the bundled digits ``data/mnist10k.npz``.
What is *optional*: a GPU, and torchvision's full MNIST on disk. Missing optional things are reported, never
raised. A missing or corrupt digits file raises the clear error of ``course_lib.data``
(FileNotFoundError or DataIntegrityError) that says how to get it back.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import data

REQUIRED_PACKAGES: tuple[str, ...] = ("numpy", "torch", "torchvision", "matplotlib", "ipywidgets", "captum")

# Where the course looks for torchvision's full MNIST (root/MNIST/raw/...). Set the
# environment variable COURSE_TORCHVISION_ROOT to use another folder.
DEFAULT_TORCHVISION_ROOT = Path(os.environ.get("COURSE_TORCHVISION_ROOT",
                                               Path.home() / ".cache" / "course_lib" / "torchvision"))


@dataclass
class PackageStatus:
    """One package: its version, or None when it is not installed."""

    name: str
    version: str | None
    required: bool

    @property
    def installed(self) -> bool:
        return self.version is not None


@dataclass
class EnvironmentReport:
    """What ``check_environment`` found. ``print(report)`` shows it as a table."""

    python: str
    platform: str
    cpu_count: int
    packages: dict[str, PackageStatus]
    device: str
    gpu: bool
    data_path: str
    data_sha256: str
    data_verified: bool
    torchvision_root: str
    torchvision_mnist: bool
    notes: list[str] = field(default_factory=list)

    @property
    def missing_required(self) -> list[str]:
        """Names of required packages that are not installed (empty when all is well)."""
        return [p.name for p in self.packages.values() if p.required and not p.installed]

    @property
    def ok(self) -> bool:
        """True when every required package is installed and the bundled digits verified."""
        return not self.missing_required and self.data_verified

    def rows(self) -> list[tuple[str, str, str]]:
        """The table's rows: (what, value, status), status one of 'ok', 'optional', 'MISSING'."""
        rows = [("Python", self.python.split()[0], "ok"),
                ("platform", f"{self.platform}, {self.cpu_count} CPU cores", "ok")]
        for p in self.packages.values():
            if p.installed:
                rows.append((p.name, p.version, "ok"))
            else:
                rows.append((p.name, "not installed", "MISSING" if p.required else "optional"))
        rows.append(("device", self.device, "ok" if self.device != "unavailable" else "MISSING"))
        rows.append(("GPU", "yes" if self.gpu else "no (the CPU runs everything)", "ok" if self.gpu else "optional"))
        rows.append(("bundled digits", f"{Path(self.data_path).name}, sha256 {self.data_sha256[:12]}…",
                     "ok" if self.data_verified else "MISSING"))
        rows.append(("full MNIST (torchvision)", "found" if self.torchvision_mnist else "not found",
                     "ok" if self.torchvision_mnist else "optional"))
        return rows

    def table(self) -> str:
        """The report as an aligned plain-text table, followed by any notes."""
        rows = [("what", "value", "status")] + self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines += [f"note: {n}" for n in self.notes]
        lines.append("All required parts are present." if self.ok
                     else f"Missing required parts: {', '.join(self.missing_required) or 'data'}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def package_version(name: str) -> str | None:
    """Installed version of ``name``, or None if it cannot be found.

    An already imported module reports its ``__version__`` (for torch that names the build,
    e.g. '2.3.0+cu121'); otherwise the installed distribution's metadata is read, so a heavy
    package such as torchvision is not imported just to read its version.
    """
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__version__", None):
        return str(module.__version__)
    try:
        if importlib.util.find_spec(name) is None:
            return None
    except (ImportError, ValueError):
        return None
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        module = importlib.import_module(name)
        return str(getattr(module, "__version__", "unknown version"))


def _device() -> tuple[str, bool]:
    """(description, is it a GPU) from course_lib.device; imports torch."""
    from .device import describe_device, pick_device

    device = pick_device()
    return describe_device(device), device.type in ("cuda", "mps")


def check_environment(data_path: str | Path | None = None,
                      torchvision_root: str | Path | None = None) -> EnvironmentReport:
    """Check Python, the packages, the device and the data; return an EnvironmentReport.

    data_path:        the bundled digits file (default: data/mnist10k.npz). It is verified with
                      ``course_lib.data.verify_mnist``, which raises FileNotFoundError or
                      DataIntegrityError, with instructions, when it is missing or corrupt.
    torchvision_root: where to look for torchvision's full MNIST (default:
                      DEFAULT_TORCHVISION_ROOT). Its absence is only reported.
    """
    data_path = Path(data_path or data.MNIST10K_PATH)
    sha256 = data.verify_mnist(data_path)          # raises, with a clear message, if missing or corrupt

    packages = {name: PackageStatus(name, package_version(name), True) for name in REQUIRED_PACKAGES}

    notes = []
    if packages["torch"].installed:
        try:
            device, gpu = _device()
            packages["torch"].version = package_version("torch")   # now imported: the build's full version
        except Exception as error:   # a broken install: report it rather than fail the whole check
            device, gpu = "unavailable", False
            notes.append(f"PyTorch is installed but does not import: {error!r}")
    else:
        device, gpu = "unavailable", False
        notes.append("PyTorch is not installed: run `make lab` (or `pip install -e .`) from the course folder.")
    if not packages["torchvision"].installed:
        notes.append("torchvision is not installed: run `make lab` (or `pip install -e .`) from the course folder.")

    root = Path(torchvision_root or DEFAULT_TORCHVISION_ROOT)
    return EnvironmentReport(
        python=sys.version, platform=f"{platform.system()} {platform.machine()}",
        cpu_count=os.cpu_count() or 1, packages=packages, device=device, gpu=gpu,
        data_path=str(data_path), data_sha256=sha256, data_verified=(sha256 == data.MNIST10K_SHA256),
        torchvision_root=str(root), torchvision_mnist=data.has_torchvision_mnist(root), notes=notes,
    )
