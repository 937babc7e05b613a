"""The differences from torch that course_lib.scratch documents, asserted: each is still true, and still on purpose."""
import numpy as np
import pytest
import torch

from course_lib import scratch


@pytest.mark.parametrize("scratch_layer, torch_layer", [
    (scratch.ReLU(), torch.nn.ReLU()), (scratch.Sigmoid(), torch.nn.Sigmoid()),
    (scratch.MaxPool2d(2), torch.nn.MaxPool2d(2)),
], ids=["ReLU", "Sigmoid", "MaxPool2d"])
def test_integer_input_is_refused_where_torch_would_run(scratch_layer, torch_layer):
    pixels = np.arange(16, dtype=np.uint8).reshape(1, 1, 4, 4)
    torch_layer(torch.from_numpy(pixels))                     # torch runs...
    with pytest.raises(TypeError, match="uint8.*/ 255"):     # ...scratch says to scale the pixels first
        scratch_layer(pixels)


def test_integer_bce_targets_are_converted_where_torch_refuses():
    logits, labels = np.array([0.5, -1.0, 2.0]), np.array([1, 0, 1])
    with pytest.raises(RuntimeError):
        torch.nn.BCEWithLogitsLoss()(torch.from_numpy(logits), torch.from_numpy(labels))
    expected = torch.nn.BCEWithLogitsLoss()(torch.from_numpy(logits), torch.from_numpy(labels).double())
    assert scratch.BCEWithLogitsLoss()(logits, labels) == pytest.approx(expected.item(), rel=1e-12)


def test_float_dtypes_mix_by_numpys_rule_where_torch_refuses():
    layer = scratch.Linear(3, 2)
    twin = torch.nn.Linear(3, 2).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    x32 = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    with pytest.raises(RuntimeError, match="same dtype"):
        twin(torch.from_numpy(x32))
    y = layer(x32)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, twin(torch.from_numpy(x32).double()).detach().numpy(), rtol=1e-12)


def test_upsample_refuses_one_image_that_torch_reads_as_1d_signals():
    image = np.random.default_rng(0).standard_normal((2, 4, 4))
    assert torch.nn.Upsample(scale_factor=2)(torch.from_numpy(image)).shape == (2, 4, 8)  # only W was resized
    with pytest.raises(ValueError, match=r"x\[None\]"):
        scratch.Upsample(scale_factor=2)(image)


def test_cross_entropy_refuses_probability_targets_that_torch_takes():
    scores, probabilities = np.random.default_rng(0).standard_normal((3, 4)), np.full((3, 4), 0.25)
    assert torch.nn.CrossEntropyLoss()(torch.from_numpy(scores), torch.from_numpy(probabilities)) > 0
    with pytest.raises(TypeError, match="integer class indices.*not supported by the scratch loss"):
        scratch.CrossEntropyLoss()(scores, probabilities)
