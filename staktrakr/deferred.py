"""Modules imported now and executed on first use: aiohttp for libsql-client, httpx for the fetchers.

`libsql_client` imports its HTTP and WebSocket clients, and with them aiohttp (0.1-0.2 s:
aiohttp, yarl, multidict, attrs and a default SSL context), even when the URL is `file:` and
only the stdlib's sqlite3 is used; the catalog imports the fetchers, and with them httpx
(~0.1 s), for their names alone. `defer("aiohttp")` before `import libsql_client` puts a
placeholder module in `sys.modules`; its code runs the first time anything reads one of its
names (`aiohttp.ClientSession`, `from aiohttp import web`, a submodule import), so a server URL
works exactly as before and a `file:` URL never pays for it.

Why not the stdlib's `importlib.util.LazyLoader` recipe: its module executes on *any* attribute
access, and the `import aiohttp` statement in libsql_client reads `__spec__` (CPython checks
`__spec__._initializing`), so the recipe loads aiohttp at once. The placeholder here answers the
import machinery's own attributes (`__spec__`, `__name__`, `__loader__`) without executing, and
executes on the first other name, under a lock (3.11's LazyLoader is not thread-safe either).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from typing import Any

_LOCK = threading.RLock()
_PATH = "_staktrakr_deferred_path"  # the package's __path__, held back until it executes


class _DeferredModule(types.ModuleType):
    """A module whose code has not run yet; the first read of a name it lacks runs it."""

    def __getattr__(self, name: str) -> Any:
        with _LOCK:  # other threads wait here until the code has run
            if type(self) is _DeferredModule:
                if _PATH not in self.__dict__:  # re-entered by its own code while running: a plain miss
                    raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
                _execute(self)
        return getattr(self, name)


def _execute(module: types.ModuleType) -> None:
    spec = module.__spec__
    assert spec is not None and spec.loader is not None
    search_path = module.__dict__.pop(_PATH)
    if search_path is not None:
        module.__path__ = search_path
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(spec.name, None)  # as a failed eager import leaves it: the next import tries again
        raise
    finally:
        module.__class__ = types.ModuleType


def defer(name: str) -> None:
    """Make a later `import name` cheap: the module's code runs on first use of one of its names.

    Does nothing when `name` is already imported (deferred or not) or not installed (the import
    then fails where it always did). Only for a top-level package whose importers read none of
    its names at import time (annotations as strings, `from __future__ import annotations`)."""
    if name in sys.modules or "." in name:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return
    module = importlib.util.module_from_spec(spec)
    # without __path__ a submodule import (`import name.sub`) reads it through __getattr__ and
    # so runs the package first, as an eager import would have
    module.__dict__[_PATH] = module.__dict__.pop("__path__", None)
    module.__class__ = _DeferredModule
    sys.modules[name] = module


def is_deferred(name: str) -> bool:
    """True while `name` is imported but its code has not run (its first use is still to come)."""
    return type(sys.modules.get(name)) is _DeferredModule
