"""shutdown: measure Internet shutdowns and check documented timelines against the data.

Stages are plain functions with plain data in and out, so a notebook can stop
at any of them::

    case = shutdown.load_case("kz-2022-01")
    events = shutdown.load_timeline(case.timeline_path, case=case)
"""
from shutdown.case import Case, load_case, list_cases
from shutdown.errors import InputError
from shutdown.timeline import Event, load_timeline, events_frame

__version__ = "0.1.0"
__all__ = ["Case", "load_case", "list_cases", "InputError", "Event", "load_timeline",
           "events_frame", "__version__"]
