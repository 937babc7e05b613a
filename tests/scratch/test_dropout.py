"""Dropout (module and functional pair): inverted scaling, the forward's mask in backward, determinism."""
import numpy as np
import pytest

from course_lib import scratch
from course_lib.scratch import functional as sf
from course_lib.scratch.dropout import Dropout


def test_dropout_eval_is_the_identity(rng):
    layer = Dropout(0.5).eval()
    x = rng.standard_normal((4, 5))
    assert np.array_equal(layer(x), x)
    assert np.array_equal(layer.backward(x), x)


def test_dropout_train_keeps_1_minus_p_and_scales_by_1_over_1_minus_p():
    scratch.manual_seed(0)
    p = 0.3
    x = np.ones((200, 500))
    y = Dropout(p)(x)
    kept = y != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    assert np.allclose(y[kept], 1 / (1 - p))
    assert abs(y.mean() - 1.0) < 0.015  # inverted dropout keeps the expected activation


def test_dropout_backward_uses_the_forward_mask(rng):
    layer = Dropout(0.6)
    x = rng.standard_normal((50, 40)) + 10.0  # no zeros in x, so zeros in y are dropped units
    y = layer(x)
    g = rng.standard_normal(x.shape)
    dx = layer.backward(g)
    assert np.array_equal(dx == 0, y == 0)
    assert np.allclose(dx, g * (y != 0) / 0.4)


def test_dropout_is_deterministic_under_manual_seed(rng):
    x = rng.standard_normal((10, 10))
    scratch.manual_seed(42)
    first = Dropout(0.5)(x)
    scratch.manual_seed(42)
    second = Dropout(0.5)(x)
    scratch.manual_seed(43)
    other = Dropout(0.5)(x)
    assert np.array_equal(first, second) and not np.array_equal(first, other)


def test_dropout_p_zero_is_the_identity_even_in_training(rng):
    x = rng.standard_normal((3, 4))
    assert np.array_equal(Dropout(0.0)(x), x)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5", True])
def test_dropout_rejects_p_outside_0_1(p):
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\).*fraction of values set to zero"):
        Dropout(p)


def test_functional_dropout_pair_is_what_the_module_does(rng):
    x, g = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    scratch.manual_seed(3)
    y, mask = sf.dropout(x, 0.4, training=True, return_mask=True)
    scratch.manual_seed(3)
    layer = Dropout(0.4)
    assert np.array_equal(layer(x), y)
    assert np.array_equal(layer.backward(g), sf.dropout_backward(g, mask))
    assert set(np.unique(mask)) <= {0.0, 1 / 0.6}
    assert sf.dropout(x, 0.4, training=False) is x
