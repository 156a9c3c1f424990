"""One definition per SDK method, two ways to call it.

Each public method of ``Base`` and ``AsyncBase`` is written once, in ``_core``/``_files``, as an
operation: a generator that yields I/O effects (``_effects``). ``@api`` turns it into a
descriptor: read on a :class:`SyncRunner` (``Base``) it is a plain method that runs the
operation on the blocking transport; on an :class:`AsyncRunner` (``AsyncBase``) it is a
coroutine function that runs it on the async one. Both keep the operation's name, docstring and
signature (``inspect.signature`` shows it), and mypy sees them typed.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

from atoll.client._effects import Op

P = ParamSpec("P")
R = TypeVar("R")


class SyncRunner:
    """Runs operations to completion, blocking (``Base``)."""

    def _run(self, op: Op[R]) -> R:
        raise NotImplementedError


class AsyncRunner:
    """Runs operations as coroutines (``AsyncBase``)."""

    def _run(self, op: Op[R]) -> Awaitable[R]:
        raise NotImplementedError


def _describe(call: Callable[..., Any], fn: Callable[..., Any]) -> None:
    call.__name__ = fn.__name__
    call.__qualname__ = fn.__qualname__
    call.__doc__ = fn.__doc__
    params = list(inspect.signature(fn).parameters.values())[1:]  # without self
    call.__signature__ = inspect.signature(fn).replace(parameters=params)  # type: ignore[attr-defined]


class api(Generic[P, R]):
    """``@api`` on an operation method: a method of ``Base``, a coroutine method of
    ``AsyncBase``. ``Class.method.fn`` is the operation itself, for other operations to
    ``yield from``."""

    def __init__(self, fn: Callable[Concatenate[Any, P], Op[R]]) -> None:
        self.fn = fn
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        self.__signature__ = inspect.signature(fn)

    @overload
    def __get__(self, obj: None, owner: type) -> Self: ...
    @overload
    def __get__(self, obj: SyncRunner, owner: type) -> Callable[P, R]: ...
    @overload
    def __get__(self, obj: AsyncRunner, owner: type) -> Callable[P, Coroutine[Any, Any, R]]: ...

    def __get__(self, obj: object, owner: type) -> Any:
        if obj is None:
            return self
        fn = self.fn
        if isinstance(obj, AsyncRunner):
            runner = obj

            async def call_async(*args: Any, **kwargs: Any) -> R:
                return await runner._run(fn(runner, *args, **kwargs))

            _describe(call_async, fn)
            return call_async
        if not isinstance(obj, SyncRunner):
            raise TypeError(f"{type(obj).__name__} runs no operations")
        sync_runner = obj

        def call(*args: Any, **kwargs: Any) -> R:
            return sync_runner._run(fn(sync_runner, *args, **kwargs))

        _describe(call, fn)
        return call
