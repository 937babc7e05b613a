"""The shape of every bad-input case: a learner's mistake, the error it must get, and torch's verdict.

A case passes when calling ``mistake()`` raises ``error`` (or warns, for a Warning subclass) with a message
that contains every fragment in ``says`` (case-insensitive): the argument at fault and the fix. When
``torch_does`` is given, the same mistake made in torch must also raise (or warn) -- proof that we refuse
exactly where torch refuses, not somewhere it happily computes.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import pytest


@dataclass(frozen=True)
class Bad:
    id: str
    mistake: Callable[[], object]
    error: type[BaseException]
    says: tuple[str, ...] = field(default=())
    torch_does: Callable[[], object] | None = None

    def param(self):
        return pytest.param(self, id=self.id)


def _message_of(caught: BaseException | Warning) -> str:
    return " ".join(str(arg) for arg in getattr(caught, "args", ())) or str(caught)


def assert_teaches(case: Bad) -> None:
    """Run one case: the right exception or warning, a message with every fragment, and torch agreeing."""
    assert case.says, f"{case.id}: a case must say which words the message needs (the argument and the fix)"
    if issubclass(case.error, Warning):
        with pytest.warns(case.error) as record:
            case.mistake()
        message = " ".join(_message_of(w.message) for w in record)
    else:
        with pytest.raises(case.error) as info:
            case.mistake()
        message = _message_of(info.value)
    missing = [fragment for fragment in case.says if fragment.lower() not in message.lower()]
    assert not missing, f"{case.id}: the message lacks {missing}:\n{message}"
    if case.torch_does is not None:
        _assert_torch_refuses(case)


def _assert_torch_refuses(case: Bad) -> None:
    if issubclass(case.error, Warning):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            case.torch_does()
        assert record, f"{case.id}: torch does not warn here, so neither should we (or document the difference)"
    else:
        with pytest.raises(Exception):
            case.torch_does()
