"""Exercises of notebook 04: optimisation.

The references are the course's own optimisers (``course_lib.scratch.optim``, torch's exact updates) and
schedules (``scratch.lr_scheduler``): each reference loads the given state into a scratch optimiser and
takes one step. ``make_inputs`` draws gradients of very different sizes, so an Adam without its bias
correction, or an RMSprop that forgets the square root, is caught; each exercise declares its common
mistakes (``mistakes=``), written out below as the wrong answers a learner would write.
"""
from __future__ import annotations

import numpy as np

from ..scratch import Parameter, lr_scheduler, optim
from .checking import Exercise


def _weights_and_gradient(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    scale = 10.0 ** rng.uniform(-3, 3, shape)                 # gradients from 0.001 to 1000
    return rng.normal(size=shape), rng.normal(size=shape) * scale


def _sgd_momentum_reference(w: np.ndarray, grad: np.ndarray, buf: np.ndarray, lr: float,
                            momentum: float) -> tuple[np.ndarray, np.ndarray]:
    p = Parameter(w)
    opt = optim.SGD([p], lr=lr, momentum=momentum)
    opt.state[p] = {"momentum_buffer": buf.copy()}
    p.grad = grad
    opt.step()
    return p.data, opt.state[p]["momentum_buffer"]


def _sgd_momentum_inputs(rng: np.random.Generator) -> tuple:
    w, g = _weights_and_gradient(rng)
    return w, g, rng.normal(size=w.shape), float(rng.uniform(0.001, 0.5)), float(rng.uniform(0.5, 0.99))


def _adam_reference(w: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float,
                    beta1: float, beta2: float, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = Parameter(w)
    opt = optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    opt.state[p] = {"step": t - 1, "exp_avg": m.copy(), "exp_avg_sq": v.copy()}
    p.grad = grad
    opt.step()
    return p.data, opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"]


def _adam_inputs(rng: np.random.Generator) -> tuple:
    w, g = _weights_and_gradient(rng)
    t = int(rng.integers(1, 6))                               # early steps: where the bias correction matters
    if t == 1:
        m, v = np.zeros_like(w), np.zeros_like(w)             # the real first step starts from zeros
    else:
        m, v = rng.normal(size=w.shape) * 0.1 * np.abs(g), rng.uniform(0.0, 0.01, w.shape) * g ** 2
    return (w, g, m, v, t, float(rng.uniform(0.001, 0.1)), float(rng.uniform(0.8, 0.95)),
            float(rng.uniform(0.99, 0.9999)), 1e-8)


def _rmsprop_reference(w: np.ndarray, grad: np.ndarray, square_avg: np.ndarray, lr: float, alpha: float,
                       eps: float) -> tuple[np.ndarray, np.ndarray]:
    p = Parameter(w)
    opt = optim.RMSprop([p], lr=lr, alpha=alpha, eps=eps)
    opt.state[p] = {"step": 0, "square_avg": square_avg.copy()}
    p.grad = grad
    opt.step()
    return p.data, opt.state[p]["square_avg"]


def _rmsprop_inputs(rng: np.random.Generator) -> tuple:
    w, g = _weights_and_gradient(rng)
    return (w, g, rng.uniform(0.0, 1.0, w.shape) * g ** 2, float(rng.uniform(0.001, 0.1)),
            float(rng.uniform(0.9, 0.999)), 1e-8)


def _step_lr_reference(base_lr: float, step_size: int, gamma: float, epoch: int) -> float:
    opt = optim.SGD([Parameter(np.zeros(1))], lr=base_lr)
    scheduler = lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    for _ in range(epoch):
        opt.step()            # (no gradient: nothing moves; the scheduler steps after the optimizer, as in torch)
        scheduler.step()
    return scheduler.get_last_lr()[0]


def _step_lr_inputs(rng: np.random.Generator) -> tuple:
    step_size = int(rng.integers(2, 12))
    # past the first drop; exactly on a boundary, one call before one, or in between (off-by-ones show there)
    kind = rng.random()
    offset = 0 if kind < 0.4 else step_size - 1 if kind < 0.7 else int(rng.integers(1, step_size))
    epoch = step_size * int(rng.integers(1, 6)) + offset
    return float(rng.choice([0.1, 0.05, 0.01, 0.3])), step_size, float(rng.uniform(0.1, 0.9)), epoch


# ---------------------------------------------------------------- the common mistakes, as a learner writes them


def _momentum_velocity_sign(w, grad, buf, lr, momentum):
    buf = momentum * buf - grad
    return w - lr * buf, buf


def _momentum_old_buffer(w, grad, buf, lr, momentum):
    return w - lr * buf, momentum * buf + grad


def _momentum_lr_in_buffer(w, grad, buf, lr, momentum):
    buf = momentum * buf + lr * grad
    return w - buf, buf


def _momentum_dampened(w, grad, buf, lr, momentum):
    buf = momentum * buf + (1 - momentum) * grad
    return w - lr * buf, buf


def _adam_moments(grad, m, v, beta1, beta2):
    return beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad ** 2


def _adam_no_bias_correction(w, grad, m, v, t, lr, beta1, beta2, eps):
    m, v = _adam_moments(grad, m, v, beta1, beta2)
    return w - lr * m / (np.sqrt(v) + eps), m, v


def _adam_t_from_zero(w, grad, m, v, t, lr, beta1, beta2, eps):
    m, v = _adam_moments(grad, m, v, beta1, beta2)
    with np.errstate(divide="ignore", invalid="ignore"):      # at t = 1 this divides by 1 - beta**0 = 0
        m_hat, v_hat = m / (1 - beta1 ** (t - 1)), v / (1 - beta2 ** (t - 1))
        return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_eps_inside_sqrt(w, grad, m, v, t, lr, beta1, beta2, eps):
    m, v = _adam_moments(grad, m, v, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - lr * m_hat / np.sqrt(v_hat + eps), m, v


def _adam_returns_corrected(w, grad, m, v, t, lr, beta1, beta2, eps):
    m, v = _adam_moments(grad, m, v, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat


def _rmsprop_no_sqrt(w, grad, square_avg, lr, alpha, eps):
    square_avg = alpha * square_avg + (1 - alpha) * grad ** 2
    return w - lr * grad / (square_avg + eps), square_avg


def _rmsprop_eps_inside_sqrt(w, grad, square_avg, lr, alpha, eps):
    square_avg = alpha * square_avg + (1 - alpha) * grad ** 2
    return w - lr * grad / np.sqrt(square_avg + eps), square_avg


def _rmsprop_weights_swapped(w, grad, square_avg, lr, alpha, eps):
    square_avg = (1 - alpha) * square_avg + alpha * grad ** 2
    return w - lr * grad / (np.sqrt(square_avg) + eps), square_avg


def _rmsprop_old_average(w, grad, square_avg, lr, alpha, eps):
    return w - lr * grad / (np.sqrt(square_avg) + eps), alpha * square_avg + (1 - alpha) * grad ** 2


EXERCISES: list[Exercise] = [
    Exercise(
        key="04.sgd_momentum_step",
        task="Write sgd_momentum_step(w, grad, buf, lr, momentum): one step of SGD with momentum as torch does it, "
             "b = momentum * buf + grad, w = w - lr * b. Return (new_w, new_buf).",
        hint="Update the buffer first, then move the weights by lr times the NEW buffer. "
             "(The lecture's form: the step is the new gradient step plus m times the previous step.)",
        reference=_sgd_momentum_reference,
        parts=("new_w", "new_buf"),
        make_inputs=_sgd_momentum_inputs,
        mistakes={"velocity sign flipped (b = m b - g)": _momentum_velocity_sign,
                  "step taken with the old buffer (w - lr * buf before updating buf)": _momentum_old_buffer,
                  "lr folded into the buffer (b = m b + lr g, w = w - b)": _momentum_lr_in_buffer,
                  "dampened gradient (b = m b + (1 - m) g)": _momentum_dampened},
    ),
    Exercise(
        key="04.adam_step",
        task="Write adam_step(w, grad, m, v, t, lr, beta1, beta2, eps): one Adam step at step number t (counted "
             "from 1) with bias correction. Return (new_w, new_m, new_v), where m and v are the running averages "
             "WITHOUT the bias correction.",
        hint="m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2; m_hat = m / (1 - beta1**t); "
             "v_hat = v / (1 - beta2**t); w = w - lr * m_hat / (sqrt(v_hat) + eps). "
             "Return m and v themselves, not m_hat and v_hat.",
        reference=_adam_reference,
        parts=("new_w", "new_m", "new_v"),
        make_inputs=_adam_inputs,
        mistakes={"no bias correction": _adam_no_bias_correction,
                  "bias correction with t counted from 0 (1 - beta**(t - 1))": _adam_t_from_zero,
                  "epsilon inside the square root (sqrt(v_hat + eps))": _adam_eps_inside_sqrt,
                  "returned the corrected m_hat, v_hat instead of m, v": _adam_returns_corrected},
    ),
    Exercise(
        key="04.rmsprop_step",
        task="Write rmsprop_step(w, grad, square_avg, lr, alpha, eps): one RMSprop step. Return (new_w, new_square_avg).",
        hint="square_avg = alpha * square_avg + (1 - alpha) * grad**2, then w = w - lr * grad / (sqrt(square_avg) + eps): "
             "eps is added AFTER the square root (as in torch).",
        reference=_rmsprop_reference,
        parts=("new_w", "new_square_avg"),
        make_inputs=_rmsprop_inputs,
        mistakes={"missing square root (divides by the average of g^2)": _rmsprop_no_sqrt,
                  "epsilon inside the square root (sqrt(square_avg + eps))": _rmsprop_eps_inside_sqrt,
                  "alpha and 1 - alpha swapped in the average": _rmsprop_weights_swapped,
                  "step taken with the old average (before updating it)": _rmsprop_old_average},
    ),
    Exercise(
        key="04.step_lr",
        task="Write step_lr(base_lr, step_size, gamma, epoch): the learning rate of StepLR after `epoch` calls "
             "of scheduler.step() (epoch an int >= 0). At a boundary the drop has already happened: after exactly "
             "step_size calls the lr is base_lr * gamma.",
        hint="The lr is multiplied by gamma once every step_size epochs: base_lr * gamma ** (epoch // step_size) "
             "(integer division: a staircase, not a smooth decay).",
        reference=_step_lr_reference,
        make_inputs=_step_lr_inputs,
        rtol=1e-9,
        trials=6,
        mistakes={"off by one at the boundary: the drop comes one call late ((epoch - 1) // step_size)":
                      lambda base_lr, step_size, gamma, epoch: base_lr * gamma ** ((epoch - 1) // step_size),
                  "off by one the other way: the drop comes one call early ((epoch + 1) // step_size)":
                      lambda base_lr, step_size, gamma, epoch: base_lr * gamma ** ((epoch + 1) // step_size),
                  "smooth decay gamma ** (epoch / step_size) instead of a staircase":
                      lambda base_lr, step_size, gamma, epoch: base_lr * gamma ** (epoch / step_size)},
    ),
]
