"""shutdown: measure Internet shutdowns and check documented timelines against the data.

Stages are plain functions with plain data in and out, so a notebook can stop
at any of them::

    case = shutdown.load_case("kz-2022-01")
    events = shutdown.load_timeline(case.timeline_path, case=case)

The names below load on first use (PEP 562), so ``shutdown --help`` does not wait
for pandas.
"""
from importlib import import_module

__version__ = "0.1.0"
_WHERE = {"Case": "shutdown.case", "load_case": "shutdown.case", "list_cases": "shutdown.case",
          "InputError": "shutdown.errors", "Event": "shutdown.timeline",
          "load_timeline": "shutdown.timeline", "events_frame": "shutdown.timeline"}
__all__ = [*_WHERE, "__version__"]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'shutdown' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_WHERE])
