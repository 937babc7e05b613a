"""Train notebook 13's sequence networks and write data/sequence_nets.pt (and their curves, sequence_curves.json).

    python data/train_sequence_nets.py                  # writes data/sequence_nets.pt, prints its sha256 and numbers
    python data/train_sequence_nets.py --out /tmp/x.pt  # somewhere else (to compare with the shipped file)

Every network is ``sequences.SEQUENCE_NETS[name]()`` (the builder call, in torch), trained with ``training.fit`` and
Adam with a one-cycle learning rate (``settings_of(name)``), initial weights from ``torch.manual_seed(0)``:

    rows_rnn, rows_lstm,    sequence_classifier(kind): the 7,000 fit digits read row by row (28 steps of 28 pixels,
    rows_gru                ``data.digit_images("fit")[0][:, 0]``), cross-entropy
    adding_<kind>_<T>       adding_net(kind) on ``data.adding_task(SETTINGS["adding"]["n"], T, seed=0)``, MSE, for
                            kind rnn and lstm and T = 10, 50, 100 (sequences.ADDING_LENGTHS)
    reader                  digit_string_reader(): ``data.digit_strings("fit", SETTINGS["reader"]["n"], seed=0)``,
                            strips of 4 fit digits, cross-entropy per digit, trained on its own greedy outputs

SETTINGS were chosen on validation data only: the 1,000 validation digits, ``data.adding_task(1000, T, seed=1)``
and ``data.digit_strings("validation", 1000, seed=1)``; the test digits and test sequences were never looked at here.
Tried (Adam, one-cycle to the learning rate shown, batch 64; the sweeps ran this file's ``train`` with other settings):

    rows, 8 epochs of the 7,000 fit digits        validation accuracy
      rnn   lr 1e-3 / 3e-3 / 1e-2                 0.793 / 0.839 / 0.752                              <- 3e-3
      lstm  lr 3e-3: torch's init / forget bias 1  0.949 / 0.958
      lstm  lr 1e-2: torch's init / forget bias 1  0.967 / 0.972                                      <- 1e-2, bias 1
      gru   lr 3e-3 / 1e-2                         0.949 / 0.975                                      <- 1e-2
    adding (validation MSE; answering 1.0 gives 1/6: 0.178 at T = 10, 0.163 at 50, 0.167 at 100)
      628 steps (10,000 sequences, 4 epochs), lr 3e-3, lstm forget bias 1: T = 10 rnn 0.138, lstm 0.085;
        T = 50 rnn 0.163, lstm 0.162: too short for either
      3,125 steps (20,000 x 10), lr 3e-3: T = 10 rnn 0.0084, lstm 0.0003; lr 1e-2: lstm 0.00005
      1,875 steps (20,000 x 6), T = 50, lstm lr 3e-3: forget bias 1 0.130, bias 3 0.035; bias 3, lr 1e-2 0.0011
      1,875 steps, lr 1e-2: rnn T = 10 0.0019, T = 25 0.167 (baseline 0.171), T = 50 0.161, T = 100 0.167;
        lstm (bias 3) T = 25 0.0003, T = 100 0.167 (not yet: too few steps)
      3,750 steps (40,000 x 6), lr 1e-2, lstm bias 3, T = 100: 0.00043                               <- SETTINGS
      The LSTM's curve sits on the baseline for a while and then drops within a few hundred steps (at T = 100
      after about 1,500 of the 3,750 steps); the plain RNN's stays on the baseline from T = 25 on, whatever the
      learning rate tried (3e-3, 1e-2).
    reader (per digit / whole string on 1,000 validation strips), lr 3e-3
      10,000 strips, 6 epochs                      0.968 / 0.875 (training accuracy 0.9998: it overfits)
      20,000 strips, 4 epochs, hidden 128 / 64     0.975 / 0.902, 0.974 / 0.898                      <- 128

The shipped file (SETTINGS; 548 s of training on one thread, about 9 minutes: rows 16 / 14 / 19 s (rnn / lstm / gru),
adding T = 10 14 / 20 s, T = 50 40 / 54 s, T = 100 78 / 87 s (rnn / lstm), reader 207 s; 867 s when other work kept
the machine's two cores busy; both runs wrote the same bytes), on the validation data:

    rows accuracy            rnn 0.839, lstm 0.972, gru 0.975
    adding MSE   T = 10      rnn 0.00060, lstm 0.00005   (answering 1.0: 0.178)
                 T = 50      rnn 0.158,   lstm 0.00021   (0.163)
                 T = 100     rnn 0.165,   lstm 0.00043   (0.167)
    reader                   per digit 0.975, whole string 0.902

It is deterministic: one thread, fixed seeds, ``torch.use_deterministic_algorithms(True)``, and
``models.save_weights`` writes the same bytes for the same weights, so the same torch build on the same kind of CPU
gives the same file, byte for byte (another build or CPU may differ in the last bits: then load it with
``sequences.load_sequence_net(name, expected_sha256=None)``). The file holds {name: state_dict} for the names of
``sequences.SEQUENCE_NETS``, float32, loaded with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout without installing

from course_lib import data, device, models, sequences, training  # noqa: E402

SETTINGS = {
    "rows_rnn": {"lr": 3e-3, "batch_size": 64, "epochs": 8},
    "rows_lstm": {"lr": 1e-2, "batch_size": 64, "epochs": 8},
    "rows_gru": {"lr": 1e-2, "batch_size": 64, "epochs": 8},
    "adding": {"lr": 1e-2, "batch_size": 64, "epochs": 6, "n": 40000},
    "reader": {"lr": 3e-3, "batch_size": 64, "epochs": 4, "n": 20000},
}
VALIDATION = {"adding": {"n": 1000, "seed": 1}, "reader": {"n": 1000, "seed": 1}}
CURVES_PATH = data.DATA_DIR / "sequence_curves.json"


def task(name: str) -> str:
    """What network ``name`` learns: "rows", "adding" or "reader"."""
    return name.split("_")[0]


def settings_of(name: str) -> dict:
    """SETTINGS of network ``name``: its own for the row readers (a learning rate per kind), else its task's."""
    return SETTINGS[name if task(name) == "rows" else task(name)]


def adding_length(name: str) -> int:
    """T of "adding_<kind>_<T>"."""
    return int(name.rsplit("_", 1)[1])


def training_data(name: str, settings: dict):
    """(inputs, targets) of the fit split (or the training seed) for network ``name``."""
    kind = task(name)
    if kind == "rows":
        x, y = data.digit_images("fit")
        return x[:, 0], y
    if kind == "adding":
        return data.adding_task(settings["n"], adding_length(name), seed=0)
    return data.digit_strings("fit", settings["n"], seed=0)


def validation_data(name: str):
    """(inputs, targets) on which network ``name``'s settings were chosen."""
    kind = task(name)
    if kind == "rows":
        x, y = data.digit_images("validation")
        return x[:, 0], y
    if kind == "adding":
        return data.adding_task(VALIDATION["adding"]["n"], adding_length(name), seed=VALIDATION["adding"]["seed"])
    return data.digit_strings("validation", **VALIDATION["reader"])


class MSEEvery(training.Callback):
    """The mean squared error on (x, y) after every ``every``-th step, in ``steps`` and ``mses``."""

    def __init__(self, x, y, every: int) -> None:
        self.x, self.y, self.every = x, torch.as_tensor(y), every
        self.steps: list[int] = []
        self.mses: list[float] = []

    def on_step(self, step, loss, model):
        if step % self.every == 0:
            self.steps.append(step)
            self.mses.append(mse(model, self.x, self.y))


def mse(model, x, y) -> float:
    """Mean squared error of a regression network's outputs (N,) against y (N,)."""
    return float(((training.outputs(model, x) - torch.as_tensor(y)) ** 2).mean())


def train(name: str, max_steps: Optional[int] = None, settings: Optional[dict] = None):
    """Network ``name`` of ``sequences.SEQUENCE_NETS``, trained as the module docstring says; ``max_steps`` stops
    early (tests); ``settings`` replaces ``settings_of(name)`` (the validation sweeps).

    Returns (model, curve): curve is the validation accuracy after each epoch (rows, reader: per digit) or the
    validation MSE every 50 steps (adding), as a dict of lists.
    """
    kind = task(name)
    s = settings or settings_of(name)
    torch.manual_seed(0)
    model = sequences.SEQUENCE_NETS[name]()
    optimizer = torch.optim.Adam(model.parameters(), lr=s["lr"])
    x, y = training_data(name, s)
    steps = s["epochs"] * -(-len(x) // s["batch_size"])
    callbacks = [training.Schedule(torch.optim.lr_scheduler.OneCycleLR(optimizer, s["lr"], total_steps=steps),
                                   every="step")]
    if max_steps is not None:
        callbacks.append(training.MaxSteps(max_steps))
    val = validation_data(name)
    if kind == "adding":
        watch = MSEEvery(*val, every=50)
        training.fit(model, torch.nn.MSELoss(), optimizer, (x, y), epochs=s["epochs"], batch_size=s["batch_size"],
                     seed=0, progress=False, callbacks=callbacks + [watch])
        return model, {"step": watch.steps, "val_mse": watch.mses}
    history = training.fit(model, torch.nn.CrossEntropyLoss(), optimizer, (x, y), val=val, epochs=s["epochs"],
                           batch_size=s["batch_size"], seed=0, progress=False, callbacks=callbacks)
    return model, {"train_loss": history.train_loss, "train_acc": history.train_acc, "val_acc": history.val_acc}


def string_accuracy(model, strips, labels) -> tuple[float, float]:
    """(per-digit accuracy, whole-string accuracy) of the reader's greedy decoding."""
    predicted = model.predict(strips).numpy()
    right = predicted == labels
    return float(right.mean()), float(right.all(axis=1).mean())


def validation_numbers(name: str, model) -> str:
    """One line: the network's measure on its validation data (and the baseline it must beat)."""
    x, y = validation_data(name)
    kind = task(name)
    if kind == "rows":
        return f"validation accuracy {training.accuracy(model, x, y):.4f}"
    if kind == "adding":
        return f"validation MSE {mse(model, x, y):.5f} (answering 1.0: {float(((y - 1) ** 2).mean()):.5f})"
    digit, string = string_accuracy(model, x, y)
    return f"validation accuracy per digit {digit:.4f}, whole string {string:.4f}"


def main(argv: list[str] | None = None) -> str:
    """Train the networks, save their state_dicts in one file and their curves beside it, print and return its
    sha256."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=sequences.SEQUENCE_NETS_PATH, help="where to write the .pt file")
    parser.add_argument("--max-steps", type=int, default=None, help="stop each after this many steps (for tests)")
    args = parser.parse_args(argv)

    nets, curves, seconds = {}, {}, {}
    with device.deterministic_cpu():
        for name in sequences.SEQUENCE_NETS:
            start = time.perf_counter()
            nets[name], curves[name] = train(name, args.max_steps)
            seconds[name] = time.perf_counter() - start
            print(f"{name:<16} trained in {seconds[name]:5.0f} s, {validation_numbers(name, nets[name])}", flush=True)
    print(f"trained {len(nets)} networks in {sum(seconds.values()):.0f} s")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    sha = models.save_weights(nets, args.out)
    curves_path = args.out.with_name(CURVES_PATH.name if args.out == sequences.SEQUENCE_NETS_PATH
                                     else args.out.stem + "_curves.json")
    curves_path.write_text(json.dumps(curves, indent=1) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes) and {curves_path}")
    print(f"sha256 {sha}")
    if sha == sequences.SEQUENCE_NETS_SHA256:
        print("identical to the course's file (sequences.SEQUENCE_NETS_SHA256)")
    else:
        print("differs from sequences.SEQUENCE_NETS_SHA256 (a different torch build or CPU, or other settings)")
    return sha


if __name__ == "__main__":
    main()
