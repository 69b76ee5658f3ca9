"""Arity-adaptive calls: handlers take (), (state) or (state, payload), as in JavaScript."""

from __future__ import annotations

from typing import Any

import pytest

from nowaki.renderer.calls import call


def test_lambdas_of_each_arity() -> None:
    """Extra arguments are dropped, as JavaScript does."""
    assert call(lambda: "none", 1, 2) == "none"
    assert call(lambda s: s, 1, 2) == 1
    assert call(lambda s, p: (s, p), 1, 2) == (1, 2)


def test_fewer_args_than_accepted_uses_defaults() -> None:
    """A parameter with a default may be left out."""

    def handler(state: Any, payload: Any = "default") -> Any:
        return (state, payload)

    assert call(handler, 1) == (1, "default")
    assert call(handler, 1, 2, 3) == (1, 2)


def test_var_positional_gets_everything() -> None:
    """``*args`` accepts all arguments."""
    assert call(lambda *args: args, 1, 2, 3) == (1, 2, 3)
    assert call(lambda s, *rest: (s, rest), 1, 2) == (1, (2,))


def test_keyword_only_parameters_are_not_positional() -> None:
    """Keyword-only parameters don't count towards the arity."""

    def handler(state: Any, *, flag: bool = True) -> Any:
        return (state, flag)

    assert call(handler, 1, 2) == (1, True)


def test_methods_and_callable_objects() -> None:
    """Bound methods and objects with ``__call__`` are measured without ``self``."""

    class Handler:
        def __call__(self, state: Any) -> Any:
            return state

        def method(self) -> str:
            return "m"

    assert call(Handler(), 5, 6) == 5
    assert call(Handler().method, 5, 6) == "m"


def test_builtins() -> None:
    """Builtins with a signature get what they accept; those without one get every argument."""
    assert call(len, [1, 2], {"extra": "1"}) == 2
    assert call("abc".upper, "ignored") == "ABC"
    assert call(list, (1, 2), "ignored") == [1, 2]
    assert call(max, 1, 2) == 2


def test_errors_propagate() -> None:
    """Exceptions from the function reach the caller (the worker turns them into errors)."""
    with pytest.raises(ZeroDivisionError):
        call(lambda s: 1 / 0, 1, 2)
