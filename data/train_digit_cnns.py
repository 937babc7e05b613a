"""Train notebook 10's three digit CNNs and write data/digit_cnns.pt.

    python data/train_digit_cnns.py                  # writes data/digit_cnns.pt, prints its sha256 and accuracies
    python data/train_digit_cnns.py --out /tmp/x.pt  # somewhere else (to compare with the shipped file)

Three ``models.digit_cnn()`` trained with ``training.fit`` on the 7,000 fit digits (``data.digit_images("fit")``,
pixels 0..1), each with Adam and a one-cycle learning rate (``SETTINGS``):

    plain         initial weights and batch order from seed 0
    second        the same recipe from seed 1: an independently trained twin, for the transfer experiment
    adversarial   seed 0, and in every batch half the digits replaced by FGSM examples (eps = SETTINGS["eps"])
                  made against the network as it is at that step (``fit(perturb=interpret.adversarial_batch)``)

The settings were chosen on the validation digits (1,000, never trained on); accuracy after the last epoch:

    plain, Adam at a constant lr 1e-3, batch 64, 3 epochs               79%
    plain, Adam at a constant lr 3e-3, batch 64, 12 epochs              93.4%  (95.5% at its best epoch)
    plain, Adam at a constant lr 1e-2, batch 64, 12 epochs              95.3%  (96.0% at its best epoch)
    plain, one-cycle to lr 1e-2, batch 64, 12 epochs                    96.9%
    plain, one-cycle to lr 1e-2, batch 32, 10 / 15 epochs               97.5% / 97.7%
    plain, one-cycle to lr 2e-2, batch 32, 12 epochs                    98.3%   <- SETTINGS
    adversarial, eps 0.1 (one-cycle to 2e-2, batch 32, 10 epochs)       98.4% clean; 94.0% under FGSM eps 0.1,
                                                                        80.2% under PGD eps 0.1 (10 steps of 0.025)
    adversarial, eps 0.2 (the same)                                     98.0% clean; 87.8% under FGSM eps 0.2, but
                                                                        7.9% under PGD eps 0.2 and 59.1% under PGD 0.1

FGSM training at eps 0.2 learns to resist FGSM's one step without resisting a stronger attack (its gradient no
longer points the way, "gradient masking", Tramer et al. 2018); at eps 0.1 it resists PGD too, so eps = 0.1.
The shipped file (SETTINGS, 12 epochs each; about 4 minutes on one core), validation accuracy clean / under
FGSM eps 0.1 / eps 0.2: plain 98.3% / 72.1% / 23.5%, second 98.5% / 75.3% / 25.0%, adversarial 98.1% / 93.9% / 78.0%.

It is deterministic: one thread, fixed seeds, ``torch.use_deterministic_algorithms(True)``, and
``models.save_weights`` writes the same bytes for the same weights, so the same torch build on the same kind of
CPU gives the same file, byte for byte (another build or CPU may differ in the last bits: then load it with
``models.load_digit_cnn(expected_sha256=None)``). The file holds {"plain": state_dict, "second": ...,
"adversarial": ...}, 3 x 24,202 float32 numbers (about 300 kB), loaded with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout without installing

from course_lib import data, device, interpret, models, training  # noqa: E402

SETTINGS = {"lr": 2e-2, "batch_size": 32, "epochs": 12, "eps": 0.1, "fraction": 0.5}
SEEDS = {"plain": 0, "second": 1, "adversarial": 0}


def train(which: str, max_steps: Optional[int] = None) -> torch.nn.Sequential:
    """One of the three networks, trained as the module docstring says; ``max_steps`` stops early (tests)."""
    s = SETTINGS
    torch.manual_seed(SEEDS[which])
    model = models.digit_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=s["lr"])
    x, y = data.digit_images("fit")
    steps = s["epochs"] * -(-len(x) // s["batch_size"])
    callbacks = [training.Schedule(torch.optim.lr_scheduler.OneCycleLR(optimizer, s["lr"], total_steps=steps),
                                   every="step")]
    if max_steps is not None:
        callbacks.append(training.MaxSteps(max_steps))
    perturb = None
    if which == "adversarial":
        def perturb(model, xb, yb):
            return interpret.adversarial_batch(model, xb, yb, eps=s["eps"], fraction=s["fraction"])
    training.fit(model, torch.nn.CrossEntropyLoss(), optimizer, (x, y), epochs=s["epochs"],
                 batch_size=s["batch_size"], seed=SEEDS[which], progress=False, perturb=perturb, callbacks=callbacks)
    return model


def report(nets: dict) -> None:
    """Each network's validation accuracy, clean and under FGSM."""
    x, y = data.digit_images("validation")
    for name, net in nets.items():
        accs = [training.accuracy(net, x if eps == 0 else interpret.fgsm(net, x, y, eps), y) for eps in (0, 0.1, 0.2)]
        print(f"{name:<12} validation accuracy {accs[0]:.2%} clean, {accs[1]:.2%} under FGSM eps=0.1, "
              f"{accs[2]:.2%} under FGSM eps=0.2")


def main(argv: list[str] | None = None) -> str:
    """Train the three networks, save their state_dicts in one file, print and return its sha256."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=models.DIGIT_CNNS_PATH, help="where to write the .pt file")
    parser.add_argument("--max-steps", type=int, default=None, help="stop each after this many steps (for tests)")
    args = parser.parse_args(argv)

    with device.deterministic_cpu():
        nets = {which: train(which, args.max_steps) for which in models.DIGIT_CNNS}

    args.out.parent.mkdir(parents=True, exist_ok=True)
    sha = models.save_weights(nets, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    report(nets)
    print(f"sha256 {sha}")
    if sha == models.DIGIT_CNNS_SHA256:
        print("identical to the course's file (models.DIGIT_CNNS_SHA256)")
    else:
        print("differs from models.DIGIT_CNNS_SHA256 (a different torch build or CPU, or other settings)")
    return sha


if __name__ == "__main__":
    main()
