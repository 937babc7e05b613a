"""Helpers for the parity tests: copy torch's weights into a scratch module and compare everything."""
import torch

from course_lib.parity import compare


def t(a, device, grad=False):
    return torch.tensor(a, dtype=torch.float64, device=device, requires_grad=grad)


def assert_close(ours, theirs, what, tol=1e-7):
    """The course's one closeness check, ``parity.compare`` (relative error at most ``tol``), silent in tests."""
    compare(what, ours, theirs, tol=tol, verbose=False)


def check_layer(ours, theirs, x, device, rng):
    """Copy torch's weights into ours; compare output, input gradient and every parameter gradient."""
    theirs = theirs.to(device=device, dtype=torch.float64)
    ours.load_state_dict(theirs.state_dict())
    xt = t(x, device, grad=True)
    out_t = theirs(xt)
    g = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(t(g, device))
    ours.zero_grad()
    out = ours(x)
    assert_close(out, out_t, "forward")
    assert_close(ours.backward(g), xt.grad, "input gradient")
    torch_grads = {name: p.grad for name, p in theirs.named_parameters()}
    assert set(torch_grads) == {name for name, _ in ours.named_parameters()}
    for name, p in ours.named_parameters():
        assert_close(p.grad, torch_grads[name], f"grad of {name}")
