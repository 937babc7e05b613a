"""Notebook 13's sequence networks (course_lib.sequences): shapes, state_dict keys, the scratch twin against torch
autograd, the forget-gate bias, the digit string reader, and the trained networks of data/sequence_nets.pt: the
checked loader and the script that reproduces the file."""
import numpy as np
import pytest
import torch

import data_scripts
from course_lib import data, scratch, sequences, training
from course_lib.parity import compare, copy_torch_to_scratch
from course_lib.sequences import adding_net, digit_string_reader, sequence_classifier


def test_shapes_and_parameter_counts():
    rows = torch.rand(5, 28, 28)
    for kind, count in (("rnn", 6_666), ("lstm", 24_714), ("gru", 18_698)):
        net = sequence_classifier(kind)
        assert net(rows).shape == (5, 10)
        assert sum(p.numel() for p in net.parameters()) == count
    for kind, count in (("rnn", 1_185), ("lstm", 4_641), ("gru", 3_489)):
        net = adding_net(kind)
        assert net(torch.rand(3, 17, 2)).shape == (3,)                # one number per sequence, any length
        assert sum(p.numel() for p in net.parameters()) == count
    assert sequence_classifier("gru", 3, 8, 4, num_layers=2)(torch.rand(2, 6, 3)).shape == (2, 4)


@pytest.mark.parametrize("backend", ["torch", "scratch"])
def test_state_dict_keys_are_torchs_names_in_both_backends(backend):
    keys = list(sequence_classifier("lstm", num_layers=2, backend=backend).state_dict())
    assert keys == [f"rnn.{w}_l{k}" for k in (0, 1) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")] + [
        "fc.weight", "fc.bias"]
    assert list(adding_net("rnn", backend=backend).state_dict())[-2:] == ["fc.weight", "fc.bias"]


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("build, x_shape", [
    (lambda kind, backend: sequence_classifier(kind, 5, 6, 3, num_layers=2, backend=backend), (4, 7, 5)),
    (lambda kind, backend: adding_net(kind, 8, backend=backend), (3, 9, 2)),
])
def test_the_scratch_twin_matches_torch_forward_and_backward(kind, build, x_shape):
    """torch's state_dict loads into the scratch twin; outputs, the input's and every parameter's gradient agree."""
    torch.manual_seed(0)
    theirs, ours = build(kind, "torch").double(), build(kind, "scratch")
    copy_torch_to_scratch(theirs, ours)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    xt = torch.tensor(x, requires_grad=True)
    out_t, out = theirs(xt), ours(x)
    compare("output", out, out_t, tol=1e-10, verbose=False)
    grad = rng.standard_normal(out.shape)
    out_t.backward(torch.from_numpy(grad))
    compare("d input", ours.backward(grad), xt.grad, tol=1e-10, verbose=False)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        compare(f"d {name}", p.grad, q.grad, tol=1e-10, verbose=False)


def test_the_scratch_twin_passes_a_gradient_check():
    scratch.manual_seed(0)
    net = adding_net("lstm", 3, forget_bias=1.0, backend="scratch")
    errors = scratch.gradcheck(net, np.random.default_rng(1).standard_normal((2, 4, 2)))
    assert set(errors) == {"input", *(name for name, _ in net.named_parameters())}


def test_forget_bias_sets_the_forget_block_in_both_backends():
    for backend in ("torch", "scratch"):
        rnn = sequence_classifier("lstm", 4, 5, 2, num_layers=2, forget_bias=3.0, backend=backend).rnn
        for k in (0, 1):
            total = np.asarray(getattr(rnn, f"bias_ih_l{k}").data) + np.asarray(getattr(rnn, f"bias_hh_l{k}").data)
            np.testing.assert_allclose(total[5:10], 3.0)                   # i, [f], g, o: rows H .. 2H - 1
            assert not np.allclose(total[:5], 3.0) and not np.allclose(total[10:], 3.0)


def test_forget_bias_keeps_the_gradient_alive_over_many_steps():
    """The measured point of the option: at T = 80, ||d output / d x_1|| of an untrained LSTM with torch's default
    initialisation is orders of magnitude below the one with forget bias 3 (the forget gate starts at 0.95)."""
    def first_step_gradient(forget_bias):
        torch.manual_seed(0)
        net = adding_net("lstm", forget_bias=forget_bias).double()
        x = torch.from_numpy(data.adding_task(20, 80, seed=0)[0]).double().requires_grad_()
        net(x).sum().backward()
        return float(x.grad[:, 0].norm(dim=1).mean())

    assert first_step_gradient(3.0) > 1e6 * first_step_gradient(None)


def test_digit_string_reader_shapes_teacher_forcing_and_greedy_decoding():
    torch.manual_seed(0)
    reader = digit_string_reader()
    strips, labels = data.digit_strings("validation", 3, seed=1)
    strips = torch.from_numpy(strips)
    logits = reader(strips)
    assert logits.shape == (3, 10, 4)
    assert torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels)).ndim == 0
    assert reader.predict(strips).shape == (3, 4) and reader.predict(strips).dtype == torch.int64
    forced = reader(strips, torch.from_numpy(labels))
    torch.testing.assert_close(forced[:, :, 0], logits[:, :, 0])     # the first step sees only START
    greedy = logits.argmax(1)
    torch.testing.assert_close(reader(strips, greedy), logits)       # fed its own digits: greedy decoding
    assert digit_string_reader(length=2, kind="gru", hidden_size=8)(torch.rand(2, 1, 28, 56)).shape == (2, 10, 2)


# ------------------------------------------------------------------------------------------ the cached networks


def test_cached_sequence_nets_sha256_size_and_names():
    assert data.sha256_file(sequences.SEQUENCE_NETS_PATH) == sequences.SEQUENCE_NETS_SHA256
    assert sequences.SEQUENCE_NETS_PATH.stat().st_size < 3_000_000
    states = torch.load(sequences.SEQUENCE_NETS_PATH, weights_only=True)
    assert list(states) == list(sequences.SEQUENCE_NETS)


def test_cached_networks_do_what_the_notebook_says_on_validation_data():
    """On validation data (the notebook reports the test data): the LSTM reads the rows better than the plain RNN;
    on the longest adding task the LSTM beats the 1/6 baseline and the plain RNN does not; the reader reads."""
    x, y = data.digit_images("validation")
    x, y = x[:500, 0], y[:500]
    rnn, lstm = (training.accuracy(sequences.load_sequence_net(f"rows_{k}"), x, y) for k in ("rnn", "lstm"))
    assert lstm > rnn + 0.05
    longest = max(sequences.ADDING_LENGTHS)
    xa, ya = data.adding_task(500, longest, seed=1)
    errors = {k: float(((training.outputs(sequences.load_sequence_net(f"adding_{k}_{longest}"), xa)
                         - torch.from_numpy(ya)) ** 2).mean()) for k in ("rnn", "lstm")}
    assert errors["lstm"] < 0.1 * data.ADDING_BASELINE_MSE < 0.5 * data.ADDING_BASELINE_MSE < errors["rnn"]
    strips, labels = data.digit_strings("validation", 200, seed=1)
    assert (sequences.load_sequence_net("reader").predict(strips).numpy() == labels).mean() > 0.9


def test_the_scratch_mirror_of_a_cached_network_computes_the_same():
    x = data.digit_images("validation")[0][:4, 0]
    theirs, ours = (sequences.load_sequence_net("rows_gru", backend=b) for b in ("torch", "scratch"))
    compare("cached rows_gru, float64 scratch vs float32 torch", ours(x.astype(np.float64)),
            training.outputs(theirs, x), tol=1e-4, verbose=False)


def test_missing_damaged_or_unknown_sequence_nets_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="git checkout data/sequence_nets.pt(.|\n)*train_sequence_nets.py"):
        sequences.load_sequence_net("rows_lstm", path=tmp_path / "nothing.pt")
    bad = tmp_path / "sequence_nets.pt"
    bad.write_bytes(sequences.SEQUENCE_NETS_PATH.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(data.DataIntegrityError, match="wrong sha256(.|\n)*train_sequence_nets.py"):
        sequences.load_sequence_net("rows_lstm", path=bad)
    with pytest.raises(ValueError, match="'lstm' is not one of(.|\n)*rows_rnn(.|\n)*reader"):
        sequences.load_sequence_net("lstm")


def test_sequence_nets_script_is_deterministic_and_saves_every_network(tmp_path, capsys):
    sha1 = data_scripts.run_twice("train_sequence_nets", tmp_path)
    out = capsys.readouterr().out
    assert f"sha256 {sha1}" in out and "answering 1.0" in out and "whole string" in out
    states = torch.load(tmp_path / "one.pt", weights_only=True)
    assert list(states) == list(sequences.SEQUENCE_NETS)
    rnn, lstm = (sequences.load_sequence_net(n, path=tmp_path / "one.pt", expected_sha256=sha1)
                 for n in ("adding_rnn_10", "adding_lstm_10"))
    assert (tmp_path / "one_curves.json").is_file() and rnn.rnn.weight_hh_l0.shape == (32, 32)
