"""Train notebook 11's image-to-image networks and write data/image_nets.pt.

    python data/train_image_nets.py                  # writes data/image_nets.pt, prints its sha256 and the numbers
    python data/train_image_nets.py --out /tmp/x.pt  # somewhere else (to compare with the shipped file)

Every network is ``models.IMAGE_NETS[name]()`` (the builder call, in torch), trained with ``training.fit`` and
Adam with a one-cycle learning rate (``SETTINGS[task(name)]``), initial weights from ``torch.manual_seed(0)``:

    dense_b2 .. dense_b32   dense_autoencoder(b), reconstructing the 7,000 fit digits (pixels 0..1), MSE
    conv_b2 .. conv_b32     conv_autoencoder(b), the same
    conv_upsample_b16       conv_autoencoder(16, up="upsample"), the same (against conv_b16: the checkerboard)
    denoise                 conv_autoencoder(32), noisy fit digits in, clean out, MSE on the clean digits; the
                            noise of each digit in each batch is N(0, sigma^2) with sigma ~ U[0, 0.4], then clipped
                            to 0..1 (``fit(perturb=...)``, numpy default_rng(0))
    super_resolution        super_resolution_net(), ``data.pixelated_digits("fit")`` 14x14 -> 28x28, MSE
    fcn, encoder_decoder,   segmentation of ``data.digit_scenes("fit", SETTINGS["segment"]["scenes"], seed=0)``
    unet, plain_stack,      (64x64, 2..4 digits, 11 classes), per-pixel cross-entropy; unet_dice: the same U-Net
    dilated_stack,          with cross-entropy + ``metrics.dice_loss(softmax(logits), labels)``. Their convolutions
    unet_dice               start from He's N(0, 2 / fan_in) (``he_init``), not torch's default

The settings were chosen on the validation digits (1,000, never trained on) and on 500 validation scenes
(``data.digit_scenes("validation", 500, seed=1)``: another seed than the fit scenes', which would otherwise repeat
their layouts); the test digits and scenes were never looked at here. Tried:

    reconstruct (all 11), one-cycle to 1e-2, batch 64, 8 epochs     PSNR conv_b2 13.52, conv_b16 19.85,
                                                                    conv_upsample_b16 20.17, dense_b2 13.71,
                                                                    dense_b16 17.95 dB                  <- SETTINGS
    denoise, the same, sigma ~ U[0, 0.4]                             PSNR 21.76 / 21.33 / 20.52 dB at sigma
                                                                    0.1 / 0.2 / 0.3 (noisy input 22.68 / 16.77 /
                                                                    13.35): the bottleneck caps it      <- SETTINGS
    super_resolution, one-cycle to 1e-2, batch 64, 4 epochs          PSNR 25.99 dB (bicubic 20.51)      <- SETTINGS
    segmentation, one-cycle to 1e-2, batch 32, 3 epochs of 3,000     mean IoU fcn 0.399, unet 0.158, unet_dice
      scenes, torch's default initialisation                        0.241, encoder_decoder 0.122, dilated_stack
                                                                    0.178, plain_stack 0.148 (16 channels)
    unet: batch 16 / lr 3e-3 / 6 epochs                              0.223 / 0.131 / 0.401
    unet, batch 16, He initialisation: 3 epochs / lr 2e-2 / 6 epochs 0.260 / 0.268 / 0.774             <- SETTINGS
    encoder_decoder, batch 16, He: 3 / 6 epochs                      0.196 / 0.686
    dilated_stack, batch 16, He, 6 epochs: 16 / 8 channels           0.757 / 0.216 (plain_stack, 8: 0.190)

The U-Net learns the digits' identities late (0.26 after 3 epochs, 0.77 after 6): the schedule's length matters
more than the learning rate; He's initialisation helps the ten-layer U-Net (torch's default shrinks the signal).
The sweeps ran the same code without ``torch.use_deterministic_algorithms``; the numbers below are the file's.

The shipped file (SETTINGS; 1,216 s of training on one core, about 20 minutes), on the validation digits and scenes:

    PSNR (dB)  bottleneck 2      4      8      16     32
    dense_b          13.71  15.18  16.64  17.95  19.16      conv_upsample_b16 20.17
    conv_b           13.52  14.72  17.21  19.85  22.18
    denoise          21.76 / 21.33 / 20.52 at sigma 0.1 / 0.2 / 0.3 (noisy input 22.68 / 16.77 / 13.35)
    super_resolution 25.99 (nearest 18.02, bilinear 18.45, bicubic 20.51)
    mean IoU         fcn 0.666, encoder_decoder 0.686, unet 0.774, unet_dice 0.871, plain_stack 0.241,
                     dilated_stack 0.757

It is deterministic: one thread, fixed seeds, ``torch.use_deterministic_algorithms(True)``, and
``models.save_weights`` writes the same bytes for the same weights, so the same torch build on the same kind of
CPU gives the same file, byte for byte (another build or CPU may differ in the last bits: then load it with
``models.load_image_net(name, expected_sha256=None)``). The file holds {name: state_dict} for the names of
``models.IMAGE_NETS``, float32, loaded with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout without installing

from course_lib import data, device, metrics, models, training  # noqa: E402

SETTINGS = {
    "reconstruct": {"lr": 1e-2, "batch_size": 64, "epochs": 8},
    "denoise": {"lr": 1e-2, "batch_size": 64, "epochs": 8, "sigma": 0.4},
    "super_resolution": {"lr": 1e-2, "batch_size": 64, "epochs": 4},
    "segment": {"lr": 1e-2, "batch_size": 16, "epochs": 6, "scenes": 3000, "he_init": True},
}
VALIDATION_SCENES = {"n": 500, "seed": 1}
DENOISE_SIGMAS = (0.1, 0.2, 0.3)


def task(name: str) -> str:
    """What network ``name`` learns: "reconstruct", "denoise", "super_resolution" or "segment"."""
    if name.startswith(("dense_b", "conv_b", "conv_upsample_b")):
        return "reconstruct"
    return name if name in ("denoise", "super_resolution") else "segment"


def training_data(kind: str, settings: dict):
    """(inputs, targets) of the fit split for one task."""
    if kind in ("reconstruct", "denoise"):
        x, _ = data.digit_images("fit")
        return x, x
    if kind == "super_resolution":
        return data.pixelated_digits("fit")
    return data.digit_scenes("fit", settings["scenes"], seed=0)


def noise(sigma_max: float, seed: int = 0):
    """perturb(model, xb, yb) for ``fit``: each digit plus N(0, sigma^2) noise, sigma ~ U[0, sigma_max], clipped."""
    rng = np.random.default_rng(seed)

    def perturb(model, xb, yb):
        sigma = rng.uniform(0, sigma_max, size=(len(xb), 1, 1, 1)).astype(np.float32)
        return np.clip(xb + sigma * rng.standard_normal(xb.shape, dtype=np.float32), 0, 1)

    return perturb


def cross_entropy_dice(logits, labels):
    """Per-pixel cross-entropy + soft Dice loss of the softmax probabilities (``metrics.dice_loss``)."""
    return F.cross_entropy(logits, labels) + metrics.dice_loss(logits.softmax(1), labels)


def he_init(model) -> None:
    """Every convolution's weights from N(0, 2 / fan_in) (He et al. 2015, for ReLU), biases 0: torch's default
    U(-1/sqrt(fan_in), ..) has a third of that variance, so the signal shrinks through the U-Net's ten layers."""
    for layer in model.modules():
        if isinstance(layer, torch.nn.Conv2d):
            models.init_(layer.weight, "kaiming_normal_", nonlinearity="relu")
            models.init_(layer.bias, "zeros_")


def train(name: str, max_steps: Optional[int] = None, settings: Optional[dict] = None) -> torch.nn.Module:
    """Network ``name`` of ``models.IMAGE_NETS``, trained as the module docstring says; ``max_steps`` stops early
    (tests); ``settings`` replaces ``SETTINGS[task(name)]`` (the validation sweeps)."""
    kind = task(name)
    s = settings or SETTINGS[kind]
    torch.manual_seed(0)
    model = models.IMAGE_NETS[name]()
    if s.get("he_init"):
        he_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=s["lr"])
    x, y = training_data(kind, s)
    steps = s["epochs"] * -(-len(x) // s["batch_size"])
    callbacks = [training.Schedule(torch.optim.lr_scheduler.OneCycleLR(optimizer, s["lr"], total_steps=steps),
                                   every="step")]
    if max_steps is not None:
        callbacks.append(training.MaxSteps(max_steps))
    if kind != "segment":
        loss_fn = torch.nn.MSELoss()
    else:
        loss_fn = cross_entropy_dice if name == "unet_dice" else torch.nn.CrossEntropyLoss()
    perturb = noise(s["sigma"]) if kind == "denoise" else None
    training.fit(model, loss_fn, optimizer, (x, y), epochs=s["epochs"], batch_size=s["batch_size"], seed=0,
                 progress=False, perturb=perturb, callbacks=callbacks)
    return model


def mean_psnr(pred, target) -> float:
    """Mean per-image PSNR (dB) of pixels in 0..1."""
    return float(metrics.psnr(torch.as_tensor(pred), torch.as_tensor(target)).mean())


def validation_numbers(name: str, model) -> str:
    """One line: the network's measure on the validation digits or scenes (and the baselines it must beat)."""
    kind = task(name)
    if kind == "reconstruct":
        x, _ = data.digit_images("validation")
        out = training.outputs(model, x)
        return f"MSE {F.mse_loss(out, torch.as_tensor(x)).item():.5f}, PSNR {mean_psnr(out, x):.2f} dB"
    if kind == "denoise":
        parts = []
        for sigma in DENOISE_SIGMAS:
            noisy, clean = data.noisy_digits("validation", sigma, seed=1)
            parts.append(f"sigma {sigma}: {mean_psnr(training.outputs(model, noisy), clean):.2f} dB "
                         f"(noisy input {mean_psnr(noisy, clean):.2f})")
        return "PSNR " + ", ".join(parts)
    if kind == "super_resolution":
        low, high = data.pixelated_digits("validation")
        low = torch.as_tensor(low)
        ups = {mode: F.interpolate(low, scale_factor=2, mode=mode, **({} if mode == "nearest" else
                                                                     {"align_corners": False})).clamp(0, 1)
               for mode in ("nearest", "bilinear", "bicubic")}
        base = ", ".join(f"{mode} {mean_psnr(up, high):.2f}" for mode, up in ups.items())
        return f"PSNR {mean_psnr(training.outputs(model, low), high):.2f} dB ({base})"
    scenes, labels = data.digit_scenes("validation", **VALIDATION_SCENES)
    predicted = training.outputs(model, scenes, batch_size=100).argmax(1)
    return f"mean IoU {float(metrics.mean_iou(predicted, torch.as_tensor(labels), data.SCENE_CLASSES)):.3f}"


def report(nets: dict) -> None:
    """Each network's validation numbers."""
    for name, net in nets.items():
        print(f"{name:<18} {validation_numbers(name, net)}")


def main(argv: list[str] | None = None) -> str:
    """Train the networks, save their state_dicts in one file, print and return its sha256."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=models.IMAGE_NETS_PATH, help="where to write the .pt file")
    parser.add_argument("--max-steps", type=int, default=None, help="stop each after this many steps (for tests)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    with device.deterministic_cpu():
        nets = {name: train(name, args.max_steps) for name in models.IMAGE_NETS}
    print(f"trained {len(nets)} networks in {time.perf_counter() - start:.0f} s")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    sha = models.save_weights(nets, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    with device.deterministic_cpu():
        report(nets)
    print(f"sha256 {sha}")
    if sha == models.IMAGE_NETS_SHA256:
        print("identical to the course's file (models.IMAGE_NETS_SHA256)")
    else:
        print("differs from models.IMAGE_NETS_SHA256 (a different torch build or CPU, or other settings)")
    return sha


if __name__ == "__main__":
    main()
