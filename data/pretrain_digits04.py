"""Pretrain notebook 09's source CNN on the training digits 0-4 and write data/cnn_digits04.pt.

    python data/pretrain_digits04.py                  # writes data/cnn_digits04.pt, prints its sha256
    python data/pretrain_digits04.py --out /tmp/x.pt  # somewhere else (to compare with the shipped file)

What it runs is ``course_lib.transfer.pretrain_source()`` (shown in notebook 09) with
its ``PRETRAIN_SETTINGS`` (80 epochs of Adam over the 4,106 training digits 0-4, each mini-batch randomly
shifted and rotated): about a minute on one CPU core. It is deterministic: one thread, fixed seeds,
``torch.use_deterministic_algorithms(True)``, and ``models.save_weights`` writes the same bytes for the same
weights, whatever the file is called. So the same torch build on the same kind of CPU
gives the same file, byte for byte. Another torch version or CPU may round differently in the last bits,
which gives slightly different weights and a different sha256; the notebook then refuses the file, and
``models.load_source_cnn(expected_sha256=None)`` loads it anyway.

The file holds only the model's ``state_dict`` (27,317 float32 numbers, about 110 kB); it is loaded
with ``torch.load(..., weights_only=True)``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout without installing

from course_lib import data, device, models, training, transfer  # noqa: E402


def main(argv: list[str] | None = None) -> str:
    """Pretrain, save the state_dict, print and return the file's sha256."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=models.CNN_DIGITS04_PATH, help="where to write the .pt file")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (for tests)")
    args = parser.parse_args(argv)

    with device.deterministic_cpu():
        model = transfer.pretrain_source(max_steps=args.max_steps)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    sha = models.save_weights(model, args.out)
    x, y = data.task_digits("test", transfer.SOURCE_CLASSES)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    print(f"test accuracy on the test split's digits 0-4: {training.accuracy(model, x, y):.2%}")
    print(f"sha256 {sha}")
    if sha == models.CNN_DIGITS04_SHA256:
        print("identical to the course's file (models.CNN_DIGITS04_SHA256)")
    else:
        print("differs from models.CNN_DIGITS04_SHA256 (a different torch build or CPU, or other settings)")
    return sha


if __name__ == "__main__":
    main()
