"""Tests for course_lib.environment (the environment check of notebook 00)."""
import shutil

import numpy as np
import pytest

from course_lib import environment
from course_lib.data import DATA_DIR, MNIST10K_SHA256, TORCHVISION_FILES, DataIntegrityError
from course_lib.environment import EnvironmentReport, check_environment, package_version


@pytest.fixture
def empty_root(tmp_path):
    """A torchvision root without MNIST in it, so tests don't depend on the machine's cache."""
    root = tmp_path / "tv"
    root.mkdir()
    return root


def test_report_on_this_machine(empty_root):
    report = check_environment(torchvision_root=empty_root)
    assert isinstance(report, EnvironmentReport)
    assert report.ok and report.data_verified and report.missing_required == []
    assert report.data_sha256 == MNIST10K_SHA256
    assert report.packages["numpy"].version == np.__version__
    assert set(report.packages) == {"numpy", "torch", "matplotlib", "ipywidgets", "torchvision", "captum"}
    assert not report.torchvision_mnist


def test_device_and_gpu_agree_with_torch(empty_root):
    import torch

    report = check_environment(torchvision_root=empty_root)
    assert report.packages["torch"].version == torch.__version__
    assert report.gpu == (report.device.startswith("cuda") or report.device.startswith("mps"))
    if torch.cuda.is_available():
        assert report.gpu and report.device.startswith("cuda")
    if not report.gpu:
        assert report.device.startswith("cpu")


def test_table_is_readable(empty_root):
    report = check_environment(torchvision_root=empty_root)
    table = str(report)
    assert table == report.table()
    lines = table.splitlines()
    assert lines[0].split() == ["what", "value", "status"]
    for name in ("Python", "numpy", "torch", "matplotlib", "ipywidgets", "torchvision", "device", "GPU",
                 "bundled digits", "full MNIST (torchvision)"):
        assert any(line.startswith(name) for line in lines), name
    assert MNIST10K_SHA256[:12] in table
    assert lines[-1] == "All required parts are present."
    assert all(status in ("ok", "optional", "MISSING") for _, _, status in report.rows())


def test_missing_torchvision_is_a_missing_required_part(monkeypatch, empty_root):
    """torchvision is installed with the course (pyproject.toml) and notebook 07 imports it: not optional."""
    real = environment.package_version
    monkeypatch.setattr(environment, "package_version", lambda name: None if name == "torchvision" else real(name))
    report = check_environment(torchvision_root=empty_root)
    assert not report.ok and report.missing_required == ["torchvision"]
    assert ("torchvision", "not installed", "MISSING") in report.rows()
    assert any("torchvision is not installed" in note for note in report.notes)


def test_missing_torch_is_reported_not_raised(monkeypatch, empty_root):
    real = environment.package_version
    monkeypatch.setattr(environment, "package_version", lambda name: None if name == "torch" else real(name))
    monkeypatch.setattr(environment, "_device", lambda: pytest.fail("must not ask torch for a device"))
    report = check_environment(torchvision_root=empty_root)
    assert not report.ok and report.missing_required == ["torch"]
    assert report.device == "unavailable" and not report.gpu
    assert ("torch", "not installed", "MISSING") in report.rows()
    assert report.table().splitlines()[-1] == "Missing required parts: torch."


def test_broken_torch_import_is_reported(monkeypatch, empty_root):
    def broken():
        raise OSError("libtorch_cpu.so: cannot open shared object file")

    monkeypatch.setattr(environment, "_device", broken)
    report = check_environment(torchvision_root=empty_root)
    assert report.device == "unavailable" and not report.gpu
    assert any("libtorch_cpu.so" in note for note in report.notes)


def test_missing_data_raises_clear_error(tmp_path):
    missing = tmp_path / "mnist10k.npz"
    with pytest.raises(FileNotFoundError) as info:
        check_environment(data_path=missing)
    assert str(missing) in str(info.value) and "git checkout data/mnist10k.npz" in str(info.value)


def test_corrupt_data_raises_clear_error(tmp_path):
    copy = tmp_path / "mnist10k.npz"
    shutil.copyfile(DATA_DIR / "mnist10k.npz", copy)
    content = bytearray(copy.read_bytes())
    content[100] ^= 0xFF
    copy.write_bytes(bytes(content))
    with pytest.raises(DataIntegrityError, match="wrong sha256"):
        check_environment(data_path=copy)


def test_full_mnist_found_when_files_present(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in TORCHVISION_FILES:
        (raw / name).write_bytes(b"")
    report = check_environment(torchvision_root=tmp_path)
    assert report.torchvision_mnist and report.torchvision_root == str(tmp_path)
    assert ("full MNIST (torchvision)", "found", "ok") in report.rows()


def test_package_version():
    assert package_version("numpy") == np.__version__
    assert package_version("no_such_package_for_the_course") is None
    assert isinstance(package_version("matplotlib"), str)
