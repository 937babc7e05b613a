"""Looking inside a trained network (notebook 10): which pixels a decision rests on, what units respond to,
and how easily the decision is changed. Every function takes a course_lib.scratch model with NumPy arrays or a
torch model with tensors, and returns the same kind."""

# adversarial
from .adversarial import adversarial_batch, fgsm, fooling_rate, linear_score_change, loss_gradient, pgd  # noqa: F401
from .adversarial import random_sign  # noqa: F401
