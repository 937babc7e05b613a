"""Rebuild the lecture's MNIST accuracy ladder (Maier, Lübeck [002], after Nielsen, ch. 6) on our digits.

    python data/accuracy_ladder.py            # writes data/accuracy_ladder.json (4 to 8 minutes on one CPU core)
    python data/accuracy_ladder.py --only 2   # re-run one rung (0-based) and compare it with the committed file

Each rung adds one idea to the one before, as in the deck: a shallow fully connected net, + L2, a simple
CNN, more feature maps, a second conv layer, ReLU, data augmentation (random shifts of up to 2 px), dropout,
and an ensemble of 5. Data: the course's 8,000 training and 2,000 test digits (``course_lib.data``).

Deterministic: fixed seeds, ``torch.use_deterministic_algorithms(True)``, the CPU, 1 thread. Rerunning
gives the same accuracies (checked when the file was made; ``--only`` checks one rung against the file).
Notebook 08 loads the JSON file; it does not train these models itself.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.utils.deterministic
from torch import nn

from course_lib import data, training

RESULTS = Path(__file__).with_name("accuracy_ladder.json")
EPOCHS = 10
BATCH_SIZE = 64
LR_SIGMOID, LR_RELU = 0.2, 0.05   # SGD with momentum 0.9, cosine decay to 0 over the run
L2 = 1e-3            # weight decay, the "regularizer" of the deck
SHIFT = 2            # augmentation: random shifts of up to +-2 pixels
ENSEMBLE = 5
SEEDS = 3            # a single network's accuracy is the mean over 3 seeds (one seed varies by +-0.5 %)


@dataclass(frozen=True)
class Rung:
    """One row of the ladder: what it adds and how its network is built."""

    name: str
    adds: str
    deck: float | None         # the deck's number for this idea (Nielsen ch. 6), None if it has none
    deck_row: str              # the deck's own label, verbatim
    arch: str                  # "fc" or "cnn"
    maps: tuple[int, ...] = ()
    activation: str = "sigmoid"
    fc: int = 100
    l2: float = 0.0
    augment: bool = False
    dropout: float = 0.0
    ensemble: int = 1

    @property
    def lr(self) -> float:
        """Sigmoid nets learn slowly and take a larger step; ReLU nets a smaller one (Nielsen too: 0.1, then 0.03)."""
        return LR_SIGMOID if self.activation == "sigmoid" else LR_RELU


RUNGS = [
    Rung("FC shallow", "784-100-10, sigmoid, no regularizer", 97.80,
         "97.80 Simple CNN (1 ConvLayer+maxpool, 3 maps, sigmoid, no regularizer)", "fc"),
    Rung("+ L2", "weight decay 1e-3", 98.04, "98.04 FC shallow small + regularizer", "fc", l2=L2),
    Rung("simple CNN", "conv 5x5 with 3 maps + maxpool, sigmoid", None,
         "(no such row in Nielsen; the deck puts 97.80 here)", "cnn", maps=(3,), l2=L2),
    Rung("more feature maps", "20 maps", 98.78, "98.78 More feature maps (now 20)", "cnn", maps=(20,), l2=L2),
    Rung("second conv layer", "+ conv 5x5 with 40 maps + maxpool", 99.06, "99.06 Second ConvLayer+maxpool",
         "cnn", maps=(20, 40), l2=L2),
    Rung("ReLU", "ReLU instead of sigmoid", 99.23, "99.23 ReLUs", "cnn", maps=(20, 40), activation="relu", l2=L2),
    Rung("data augmentation", "random shifts of up to 2 px", 99.37, "99.37 Augmenting training data (shifts only)",
         "cnn", maps=(20, 40), activation="relu", l2=L2, augment=True),
    Rung("dropout", "FC layer widened to 300, dropout 0.5 on it", 99.60, "99.60 Dropout (in FC)",
         "cnn", maps=(20, 40), activation="relu", fc=300, l2=L2, augment=True, dropout=0.5),
    Rung("ensemble of 5", "average of 5 softmax outputs (seeds 0-4)", 99.67, "99.67 Ensemble (5 networks)",
         "cnn", maps=(20, 40), activation="relu", fc=300, l2=L2, augment=True, dropout=0.5, ensemble=ENSEMBLE),
]


def build(rung: Rung) -> nn.Module:
    """The network of one rung: (N, 1, 28, 28) -> (N, 10) scores."""
    act = nn.Sigmoid if rung.activation == "sigmoid" else nn.ReLU
    layers: list[nn.Module] = []
    channels, size = 1, 28
    for maps in rung.maps:                         # conv 5x5 (valid) -> act -> maxpool 2
        layers += [nn.Conv2d(channels, maps, 5), act(), nn.MaxPool2d(2)]
        channels, size = maps, (size - 4) // 2      # 28 -> 12, 12 -> 4
    layers.append(nn.Flatten())
    features = channels * size * size
    drop = [nn.Dropout(rung.dropout)] if rung.dropout else []
    layers += [nn.Linear(features, rung.fc), act(), *drop, nn.Linear(rung.fc, 10)]
    model = nn.Sequential(*layers)
    if rung.activation == "sigmoid":    # the deck's N(0, 1/N_j), N_j = fan-in; biases 0. With PyTorch's default
        for m in model.modules():       # (std 1/sqrt(3 fan-in)) the two-conv sigmoid net stayed at 11 % for 10 epochs
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, m.weight[0].numel() ** -0.5)
                nn.init.zeros_(m.bias)
    return model                        # ReLU rungs keep PyTorch's default initialisation


def random_shifts(x: torch.Tensor, generator: torch.Generator, max_shift: int = SHIFT) -> torch.Tensor:
    """Shift each image (N, 1, 28, 28) by its own random (dy, dx) in [-max_shift, max_shift], filling with
    the background value (the batch's minimum)."""
    n, size = x.shape[0], x.shape[-1]
    padded = torch.nn.functional.pad(x, (max_shift,) * 4, value=float(x.min()))
    offsets = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=generator)
    out = torch.empty_like(x)
    for dy, dx in torch.unique(offsets, dim=0).tolist():        # one slice per distinct shift
        rows = ((offsets[:, 0] == dy) & (offsets[:, 1] == dx)).nonzero()[:, 0]
        out[rows] = padded[rows, :, dy:dy + size, dx:dx + size]
    return out


def train_one(rung: Rung, seed: int, x: torch.Tensor, y: torch.Tensor, epochs: int) -> nn.Module:
    """SGD (momentum 0.9, cosine decay per step) on the training digits by ``training.fit``; returns the trained
    network (in eval mode). Batch order and shifts come from one torch.Generator(seed)."""
    torch.manual_seed(seed)
    model = build(rung)
    opt = torch.optim.SGD(model.parameters(), lr=rung.lr, momentum=0.9, weight_decay=rung.l2)
    steps = epochs * int(np.ceil(len(x) / BATCH_SIZE))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen = torch.Generator().manual_seed(seed)
    training.fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=epochs, progress=False,
                 batches=training.shuffled_batches(BATCH_SIZE, generator=gen),
                 transform=(lambda xb: random_shifts(xb, gen)) if rung.augment else None,
                 callbacks=[training.Schedule(sched, every="step")])
    return model.eval()


@torch.no_grad()
def probabilities(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([model(x[i:i + 500]).softmax(dim=1) for i in range(0, len(x), 500)])


_TRAINED: dict = {}      # (network settings, seed, epochs) -> (test probabilities, seconds): the ensemble reuses
                        # the dropout rung's network as its member 0 instead of training it again


def run_rung(rung: Rung, x, y, x_test, y_test, epochs: int = EPOCHS) -> dict:
    """Train the rung's networks (seeds 0, 1, ...) and return its row: the mean accuracy of SEEDS networks, or
    for an ensemble the accuracy of its averaged softmax outputs. "seconds" is the training time of its networks."""
    members, seconds = [], 0.0
    for seed in range(max(rung.ensemble, SEEDS)):
        key = (replace(rung, name="", adds="", deck=None, deck_row="", ensemble=1), seed, epochs)
        if key not in _TRAINED:
            start = time.perf_counter()
            model = train_one(rung, seed, x, y, epochs)
            _TRAINED[key] = (probabilities(model, x_test), time.perf_counter() - start)
        p, t = _TRAINED[key]
        seconds += t
        members.append(float((p.argmax(1) == y_test).float().mean()))
        if seed < rung.ensemble:
            total = p if seed == 0 else total + p
    single = float(np.mean(members[:SEEDS]))
    ensemble = float((total.argmax(1) == y_test).float().mean())
    accuracy = ensemble if rung.ensemble > 1 else single
    return {
        "rung": rung.name, "adds": rung.adds, "accuracy": accuracy,
        "errors": round((1 - accuracy) * len(y_test), 1), "member_accuracies": members,
        "accuracy_is": f"ensemble of {rung.ensemble} (seeds 0-{rung.ensemble - 1})" if rung.ensemble > 1
                       else f"mean of {SEEDS} networks (seeds 0-{SEEDS - 1})",
        "epochs": epochs, "lr": rung.lr, "seconds": round(seconds, 1),
        "parameters": sum(p.numel() for p in build(rung).parameters()),
        "deck": rung.deck, "deck_row": rung.deck_row,
    }


def load_tensors():
    x_train, y_train = data.load_mnist("train")
    x_test, y_test = data.load_mnist("test")
    as_tensor = lambda a: torch.as_tensor(data.standardize(a, np.float32))[:, None]   # noqa: E731
    return as_tensor(x_train), torch.as_tensor(y_train), as_tensor(x_test), torch.as_tensor(y_test)


def setup() -> None:
    """CPU, 1 thread, deterministic algorithms.

    One thread, not two: on a busy 2-core machine torch's two OpenMP threads wait for each other and a
    training step was 3 to 10 times slower than with one; one thread also gives the same sums in the same
    order on any machine. Filling every new tensor with NaN (torch's default in deterministic mode, to catch
    reads of uninitialised memory) costs time too and is switched off; the results stay reproducible."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.utils.deterministic.fill_uninitialized_memory = False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", type=int, help="re-run rung ONLY (0-based) and compare with the committed file")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the results (default: %(default)s)")
    args = parser.parse_args()
    setup()
    tensors = load_tensors()
    if args.only is not None:
        row = run_rung(RUNGS[args.only], *tensors)
        saved = json.loads(RESULTS.read_text())["rows"][args.only]
        same = row["accuracy"] == saved["accuracy"] and row["member_accuracies"] == saved["member_accuracies"]
        print(f"{row['rung']}: {row['accuracy']:.4f} now, {saved['accuracy']:.4f} in {RESULTS.name} "
              f"({'identical' if same else 'DIFFERENT'}), {row['seconds']} s")
        raise SystemExit(0 if same else 1)
    start, rows = time.perf_counter(), []
    for rung in RUNGS:
        rows.append(run_rung(rung, *tensors))
        print(f"{rung.name:<20} {rows[-1]['accuracy']:.4f}  ({rows[-1]['seconds']:.1f} s)", flush=True)
    result = {
        "description": "MNIST accuracy ladder of Maier [002] / Nielsen ch. 6, rebuilt on 8,000 training and "
                       "2,000 test digits by data/accuracy_ladder.py",
        "settings": {"epochs": EPOCHS, "batch_size": BATCH_SIZE, "optimizer": "SGD momentum 0.9, cosine decay",
                     "lr_sigmoid": LR_SIGMOID, "lr_relu": LR_RELU, "init": "N(0, 1/fan_in), biases 0 (sigmoid rungs); PyTorch default (ReLU rungs)", "seeds_per_rung": SEEDS, "weight_decay": L2, "max_shift_px": SHIFT, "threads": 1, "device": "cpu",
                     "deterministic": True, "n_train": len(tensors[1]), "n_test": len(tensors[3])},
        "torch_version": torch.__version__, "numpy_version": np.__version__, "python": platform.python_version(),
        "total_seconds": round(time.perf_counter() - start, 1),
        "rows": rows,
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out} in {result['total_seconds']:.0f} s")


if __name__ == "__main__":
    main()
