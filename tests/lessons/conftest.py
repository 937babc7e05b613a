"""Every lessons test checks the figure convention: a function that draws closes its figure before returning it."""
import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def no_figure_left_open():
    """An open figure would be drawn twice in a notebook: once as the returned value, once by the inline backend."""
    yield
    left_open = [plt.figure(n).get_label() or f"figure {n}" for n in plt.get_fignums()]
    assert not left_open, f"{left_open} left open: a lessons function must plt.close(fig) before returning fig"
