"""Bad arguments to the library's model builder get an error that teaches (the scratch layers' own errors are
tested beside them, in tests/scratch/)."""
import pytest

from course_lib.models import mlp


def test_mlp_bad_arguments():
    with pytest.raises(ValueError, match="activation must be one of"):
        mlp([2, 2], activation="swish")
    with pytest.raises(ValueError, match="backend must be"):
        mlp([2, 2], backend="jax")
    with pytest.raises(ValueError, match="at least an input and an output"):
        mlp([2])
