"""agents.compiled: a signal handler's exception wrapped by numba's dispatcher comes out as
itself; anything else is left alone."""

from __future__ import annotations

import pytest

from agents import compiled


def _wrapped(inner: BaseException):
    def fn(*args):
        try:
            raise inner
        except BaseException as exc:
            raise SystemError("<function f> returned a result with an exception set") from exc
    return fn


def test_call_unwraps_the_exception_a_system_error_wraps() -> None:
    with pytest.raises(KeyboardInterrupt):
        compiled.call(_wrapped(KeyboardInterrupt()))
    with pytest.raises(ValueError, match="budget") as info:
        compiled.call(_wrapped(ValueError("budget")))
    assert info.value.__cause__ is None  # raised "from None": no SystemError chained


def test_call_passes_results_and_bare_system_errors_through() -> None:
    assert compiled.call(lambda a, b: (a, b), 1, 2) == (1, 2)

    def bare():
        raise SystemError("a genuine one")

    with pytest.raises(SystemError, match="genuine"):
        compiled.call(bare)
