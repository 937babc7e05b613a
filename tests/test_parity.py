"""course_lib.parity: the one closeness check (compare) and the weight copies between torch and scratch."""
import re

import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.parity import ParityError, compare, copy_scratch_to_torch, copy_torch_to_scratch, to_numpy


def test_within_tolerance_returns_the_relative_error(rng):
    a = rng.standard_normal((3, 4))
    b = a.copy()
    b[1, 2] += 1e-9
    err = compare("x", a, b, verbose=False)
    assert err == pytest.approx(1e-9 / (np.abs(a).max() + np.abs(b).max()))
    assert compare("x", a, a, verbose=False) == 0.0


def test_the_error_is_max_difference_over_the_two_largest_magnitudes():
    assert compare("x", [1.0, 2.0], [1.0, 2.1], tol=1, verbose=False) == pytest.approx(0.1 / 4.1)


def test_beyond_tolerance_raises_with_the_entry_that_differs_most():
    ours = np.array([[1.0, 2.0], [3.0, 4.0]])
    theirs = ours.copy()
    theirs[1, 0] = 3.5
    with pytest.raises(ParityError, match=re.escape("conv: relative error 6.250e-02 exceeds 1e-07; the largest "
                                                    "difference is at index (1, 0): ours 3, torch 3.5.")):
        compare("conv", ours, theirs, verbose=False)


def test_tol_sets_the_threshold():
    ours, theirs = np.array([1.0]), np.array([1.001])
    assert compare("loose", ours, theirs, tol=1e-3, verbose=False) < 1e-3
    with pytest.raises(ParityError, match="exceeds 1e-04"):
        compare("tight", ours, theirs, tol=1e-4, verbose=False)


def test_a_parity_error_is_an_assertion_error():
    with pytest.raises(AssertionError):
        compare("x", [0.0], [1.0], verbose=False)


def test_nan_is_never_close():
    with pytest.raises(ParityError, match="relative error nan"):
        compare("x", [np.nan, 1.0], [0.0, 1.0], verbose=False)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ParityError, match=re.escape("grad: shapes differ, ours (2, 3) vs torch (3, 2).")):
        compare("grad", np.zeros((2, 3)), torch.zeros(3, 2), verbose=False)
    with pytest.raises(ParityError, match=re.escape("ours (6,) vs torch (1, 6)")):
        compare("flat", np.zeros(6), np.zeros((1, 6)), verbose=False)


def test_accepts_tensors_with_grad_float32_and_arrays_in_either_place(rng):
    x = rng.standard_normal((2, 5))
    t = torch.tensor(x, requires_grad=True)
    y = (t * 2).sum()
    y.backward()
    assert compare("grad", 2 * np.ones_like(x), t.grad, verbose=False) == 0.0
    assert compare("tensor first", t, x, verbose=False) == 0.0
    assert compare("same tensor", t, t * 1, verbose=False) == 0.0
    f32 = torch.tensor(x, dtype=torch.float32)
    assert compare("float32", x, f32, tol=1e-6, verbose=False) < 1e-6      # float32 rounding, ~6e-8
    with pytest.raises(ParityError):
        compare("float32", x, f32, tol=1e-10, verbose=False)
    assert compare("lists and scalars", [1, 2], (1.0, 2.0), verbose=False) == 0.0
    assert compare("0-d", np.float64(2.0), torch.tensor(2.0), verbose=False) == 0.0


def test_to_numpy_detaches_and_copies_to_the_host():
    t = torch.ones(2, requires_grad=True)
    out = to_numpy(t * 3)
    assert isinstance(out, np.ndarray) and out.tolist() == [3.0, 3.0]
    assert to_numpy([1, 2]).tolist() == [1, 2]


def test_the_printed_line(capsys):
    err = compare("linear dW", np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    assert capsys.readouterr().out == f"{'linear dW':<24} exact: True   relative error: 0.00e+00\n"
    assert err == 0.0
    compare("b", [1.0, 2.0], [1.0, 2.0 + 4e-9])
    assert capsys.readouterr().out == f"{'b':<24} exact: False  relative error: {4e-9 / (4 + 4e-9):.2e}\n"


def test_the_line_is_printed_before_a_failure(capsys):
    with pytest.raises(ParityError):
        compare("bad", [1.0], [2.0])
    assert capsys.readouterr().out.startswith("bad ")


def test_verbose_false_prints_nothing(capsys):
    compare("quiet", [1.0], [1.0], verbose=False)
    with pytest.raises(ParityError):
        compare("quiet", [1.0], [2.0], verbose=False)
    assert capsys.readouterr().out == ""


def mlp(lib):
    return lib.Sequential(lib.Linear(4, 3), lib.ReLU(), lib.Linear(3, 2))


def test_copy_torch_to_scratch_then_back_round_trips(rng):
    torch.manual_seed(0)
    scratch.manual_seed(1)
    theirs, ours = mlp(torch.nn).double(), mlp(scratch)
    copy_torch_to_scratch(theirs, ours)
    x = rng.standard_normal((5, 4))
    compare("forward after torch -> scratch", ours(x), theirs(torch.tensor(x)), verbose=False)
    fresh = mlp(torch.nn).double()
    copy_scratch_to_torch(ours, fresh)
    for (k, v), (k2, v2) in zip(theirs.state_dict().items(), fresh.state_dict().items()):
        assert k == k2
        assert torch.equal(v, v2), k                              # float64 both ways: exact


def test_copy_scratch_to_torch_takes_the_torch_models_dtype():
    scratch.manual_seed(0)
    ours, theirs = mlp(scratch), mlp(torch.nn)                    # torch float32
    copy_scratch_to_torch(ours, theirs)
    assert all(p.dtype == torch.float32 for p in theirs.parameters())
    for name, p in theirs.named_parameters():
        compare(name, ours.state_dict()[name], p, tol=1e-7, verbose=False)
