"""Bad input to notebook 13's sequence data and networks (data.adding_task, data.digit_strings,
sequences.sequence_classifier, adding_net, digit_string_reader, load_sequence_net): the argument at fault and the fix
in the message (torch_does: the same mistake in torch)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from bad_input_harness import Bad, assert_teaches
from course_lib import data, sequences
from course_lib.sequences import adding_net, digit_string_reader, sequence_classifier


def load_damaged():
    """The shipped file cut short (as a broken download would be), loaded from a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        bad = Path(folder) / "sequence_nets.pt"
        bad.write_bytes(sequences.SEQUENCE_NETS_PATH.read_bytes()[:100])
        return sequences.load_sequence_net("rows_lstm", path=bad)


CASES = [
    Bad("adding_task: n=0", lambda: data.adding_task(0, 10), ValueError, says=("n must be a whole number >= 1", "0")),
    Bad("adding_task: length=1 (no room for a mark in each half)", lambda: data.adding_task(10, 1), ValueError,
        says=("length", ">= 2", "each half")),
    Bad("adding_task: length=50.0", lambda: data.adding_task(10, 50.0), ValueError, says=("length", "whole number")),
    Bad("digit_strings: split 'val'", lambda: data.digit_strings("val", 10), ValueError,
        says=("split must be one of", "'validation'")),
    Bad("digit_strings: length=0", lambda: data.digit_strings("fit", 10, length=0), ValueError,
        says=("length", ">= 1")),
    Bad("digit_strings: jitter=30, more than a digit's width", lambda: data.digit_strings("fit", 10, jitter=30),
        ValueError, says=("jitter", "0 <= jitter < 28")),
    Bad("sequence_classifier: kind='transformer'", lambda: sequence_classifier("transformer"), ValueError,
        says=("kind must be one of", "'rnn'", "'lstm'", "'transformer'")),
    Bad("sequence_classifier: kind='LSTM' (torch's class name)", lambda: sequence_classifier("LSTM"), ValueError,
        says=("kind must be one of", "'lstm'")),
    Bad("sequence_classifier: hidden_size=0", lambda: sequence_classifier("lstm", hidden_size=0), ValueError,
        says=("hidden_size=0", "at least 1"), torch_does=lambda: torch.nn.LSTM(28, 0)),
    Bad("sequence_classifier: hidden_size=64.0", lambda: sequence_classifier("gru", hidden_size=64.0), TypeError,
        says=("hidden_size", "whole number", "hidden_size=64")),
    Bad("sequence_classifier: a forget bias for a GRU", lambda: sequence_classifier("gru", forget_bias=1.0),
        ValueError, says=("forget_bias", "kind='lstm' only", "GRU")),
    Bad("adding_net: forget_bias='1'", lambda: adding_net("lstm", forget_bias="1"), TypeError,
        says=("forget_bias", "a number such as 1.0")),
    Bad("sequence_classifier: digit images (N, 1, 28, 28) instead of rows",
        lambda: sequence_classifier("lstm")(torch.zeros(2, 1, 28, 28)), ValueError,
        says=("(N, L, input_size)", "row by row", "x[:, 0]"),
        torch_does=lambda: torch.nn.LSTM(28, 8, batch_first=True)(torch.zeros(2, 1, 28, 28))),
    Bad("sequence_classifier (scratch): digit images (N, 1, 28, 28) instead of rows",
        lambda: sequence_classifier("rnn", backend="scratch")(np.zeros((2, 1, 28, 28))), ValueError,
        says=("row by row", "x[:, 0]")),
    Bad("adding_net: one feature per step instead of (value, marker)",
        lambda: adding_net("rnn")(torch.zeros(4, 10, 1)), ValueError, says=("(N, L, 2)", "(4, 10, 1)"),
        torch_does=lambda: torch.nn.RNN(2, 8, batch_first=True)(torch.zeros(4, 10, 1))),
    Bad("sequence_classifier (scratch): uint8 pixels",
        lambda: sequence_classifier("gru", backend="scratch")(np.zeros((2, 28, 28), np.uint8)), TypeError,
        says=("uint8", "/ 255")),
    Bad("digit_string_reader: a plain RNN decoder", lambda: digit_string_reader(kind="rnn"), ValueError,
        says=("'lstm' or 'gru'",)),
    Bad("digit_string_reader: a strip of 3 digits into a reader of 4",
        lambda: digit_string_reader()(torch.zeros(2, 1, 28, 84)), ValueError,
        says=("(N, 1, 28, 112)", "length=4", "(2, 1, 28, 84)")),
    Bad("load_sequence_net: an unknown name", lambda: sequences.load_sequence_net("lstm"), ValueError,
        says=("'lstm'", "not one of the trained networks", "rows_lstm", "adding_lstm_100", "reader")),
    Bad("load_sequence_net: the reader in scratch", lambda: sequences.load_sequence_net("reader", backend="scratch"),
        ValueError, says=("torch only", "backend='torch'")),
    Bad("load_sequence_net: a damaged file", load_damaged, data.DataIntegrityError,
        says=("sha256", "expected_sha256=None", "train_sequence_nets.py")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_a_mistake_with_a_sequence_net_teaches(case):
    assert_teaches(case)
