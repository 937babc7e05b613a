"""Bad input to course_lib.interpret.adversarial (fgsm, pgd, adversarial_batch, random_sign, fooling_rate) and to
fit's perturb: every case teaches. ``torch_does`` is the same mistake in torch or Captum where they refuse it.

Deliberate differences: Captum's FGSM and PGD run with eps < 0 (a step down the loss), step_num=0 (no attack) and
reversed bounds (torch.clamp then sets every pixel to the upper bound); we refuse each, since none is an attack.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from bad_input_harness import Bad, assert_teaches

from course_lib import models, training
from course_lib.interpret import adversarial_batch, fgsm, fooling_rate, pgd, random_sign

torch.manual_seed(0)
NET = models.digit_cnn()
MIRROR = models.digit_cnn(backend="scratch")
X = np.random.default_rng(0).uniform(0.0, 1.0, (2, 1, 28, 28)).astype(np.float32)
Y = np.array([3, 7])


def fit_with_perturb(perturb):
    model = models.digit_cnn()
    return training.fit(model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (X, Y),
                        epochs=1, progress=False, perturb=perturb)


CASES = [
    # eps, labels, clamp
    Bad("fgsm: eps=-0.1", lambda: fgsm(NET, X, Y, -0.1), ValueError, says=("eps=-0.1", ">= 0", "at most eps")),
    Bad("fgsm: eps='0.1', a string", lambda: fgsm(NET, X, Y, "0.1"), TypeError, says=("eps", "number", "'0.1'")),
    Bad("fgsm: eps=nan", lambda: fgsm(NET, X, Y, float("nan")), TypeError, says=("eps", "number", "nan")),
    Bad("fgsm: label 10 of a 10-class net", lambda: fgsm(NET, X, np.array([3, 10]), 0.1), ValueError,
        says=("10", "10 scores", "0..9"),
        torch_does=lambda: F.cross_entropy(torch.zeros(2, 10), torch.tensor([3, 10]))),
    Bad("fgsm: one-hot labels", lambda: fgsm(NET, X, np.eye(10)[Y], 0.1), TypeError,
        says=("one int per input", "(2,)", "(2, 10)")),
    Bad("fgsm: grad= of another batch", lambda: fgsm(NET, X, Y, 0.1, grad=np.zeros((1, 1, 28, 28))), ValueError,
        says=("grad", "(1, 1, 28, 28)", "(2, 1, 28, 28)", "loss_gradient(model, x, y)")),
    Bad("fgsm: three labels for two digits", lambda: fgsm(NET, X, np.array([1, 2, 3]), 0.1), TypeError,
        says=("one int per input", "(2,)", "(3,)"),
        torch_does=lambda: F.cross_entropy(torch.zeros(2, 10), torch.tensor([1, 2, 3]))),
    Bad("fgsm: clamp reversed", lambda: fgsm(NET, X, Y, 0.1, clamp=(1.0, 0.0)), ValueError,
        says=("clamp", "low < high", "(1.0, 0.0)", "None")),
    Bad("fgsm: clamp=1.0, one number", lambda: fgsm(NET, X, Y, 0.1, clamp=1.0), ValueError,
        says=("clamp", "(low, high)", "(0.0, 1.0)")),
    Bad("fgsm: pixels 0..255", lambda: fgsm(NET, X * 255, Y, 0.1), ValueError,
        says=("outside clamp=(0.0, 1.0)", "divide by 255", "clamp=None")),
    Bad("fgsm: a torch tensor for a scratch model", lambda: fgsm(MIRROR, torch.from_numpy(X), Y, 0.1), TypeError,
        says=("scratch model", "x.detach().cpu().numpy()")),
    # pgd's steps
    Bad("pgd: steps=0", lambda: pgd(NET, X, Y, 0.1, step_size=0.02, steps=0), ValueError,
        says=("pgd", "steps=0", "at least 1")),
    Bad("pgd: steps=2.5", lambda: pgd(NET, X, Y, 0.1, step_size=0.02, steps=2.5), TypeError,
        says=("steps", "whole number", "2.5")),
    Bad("pgd: step_size=0", lambda: pgd(NET, X, Y, 0.1, step_size=0.0, steps=3), ValueError,
        says=("step_size=0.0", "> 0")),
    Bad("pgd: step_size=-0.01", lambda: pgd(NET, X, Y, 0.1, step_size=-0.01, steps=3), ValueError,
        says=("step_size=-0.01", "> 0")),
    # adversarial training and the rates
    Bad("adversarial_batch: fraction=50", lambda: adversarial_batch(NET, X, Y, 0.1, fraction=50), ValueError,
        says=("fraction=50", "between 0 and 1", "0.5 for 50%")),
    Bad("adversarial_batch: attack='bim'", lambda: adversarial_batch(NET, X, Y, 0.1, attack="bim"), ValueError,
        says=("attack='bim'", "'fgsm', 'pgd'")),
    Bad("adversarial_batch: pgd without steps", lambda: adversarial_batch(NET, X, Y, 0.1, attack="pgd"), TypeError,
        says=("step_size", "steps")),
    Bad("fit: a perturb that returns None", lambda: fit_with_perturb(lambda model, xb, yb: None), TypeError,
        says=("perturb", "None", "return")),
    Bad("random_sign: eps=-0.2", lambda: random_sign(X, -0.2), ValueError, says=("eps=-0.2", ">= 0")),
    Bad("fooling_rate: x_changed of another length", lambda: fooling_rate(NET, X, X[:1], Y), ValueError,
        says=("x (2 inputs)", "x_changed (1)", "pair up")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_teaches(case):
    assert_teaches(case)


def test_captum_runs_where_we_refuse():
    """The documented differences: Captum computes with eps < 0 and step_num=0; we refuse both."""
    from captum.robust import FGSM, PGD

    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    loss = torch.nn.CrossEntropyLoss(reduction="none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # "Input Tensor 0 did not already require gradients"
        assert FGSM(NET, loss).perturb(x, -0.1, y).shape == x.shape
    assert torch.equal(PGD(NET, loss).perturb(x, 0.1, 0.02, 0, y), x)

