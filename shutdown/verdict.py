"""The verdicts alignment gives, in one place: name, rank, whether it confirms, style.

``Verdict`` is a ``str`` Enum, so a verdict compares equal to its name and stays a plain
string in tables, manifests and case files (``"confirmed"``). Everything else reads from
here: ``schema.VERDICTS`` (the names, in order), alignment's ranking and its set of
confirming verdicts, the figures' colours and hatches (``plot.style.VERDICT_STYLE``), the
Gantt chart's short labels. A new verdict is one more member (and its prose where the
report explains verdicts).

confirmed              a matching transition inside the event's window
confirmed-earlier      ... before the window (within ``align.HORIZON``)
confirmed-later        ... after the window (within ``align.HORIZON``)
not-observed           the source has data and saw no such transition
contradicted           the source shows the opposite
insufficient-evidence  data around the event, but fewer tests or probes than the floor
                       (detect/thresholds.py EVIDENCE_*), or a resolution coarser than the
                       event's window: its numbers are reported, and it confirms nothing
not-measurable         no data, no baseline, or the source cannot see this kind of event
"""
from __future__ import annotations

import enum


class Verdict(str, enum.Enum):
    # name = (value, rank, confirms, colour (plot.style.OI key), hatch, short label)
    # rank: an event's verdict is the best of its rows, lowest rank first; data that saw
    # nothing (not-observed) says more than data too thin to say (insufficient-evidence)
    CONFIRMED = ("confirmed", 0, True, "green", "", "")
    CONFIRMED_EARLIER = ("confirmed-earlier", 1, True, "sky", "...", "")
    CONFIRMED_LATER = ("confirmed-later", 1, True, "blue", "ooo", "")
    NOT_OBSERVED = ("not-observed", 3, False, "orange", "xxx", "")
    CONTRADICTED = ("contradicted", 2, False, "vermillion", "////", "")
    INSUFFICIENT = ("insufficient-evidence", 4, False, "yellow", "---", "insufficient")
    NOT_MEASURABLE = ("not-measurable", 5, False, "grey", "\\\\\\", "")

    def __new__(cls, value, rank, confirms, colour, hatch, short):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.rank, obj.confirms, obj.colour, obj.hatch = rank, confirms, colour, hatch
        obj.short = short or value
        return obj

    def __str__(self) -> str:          # a verdict prints as its name, like the string it is
        return self.value


NAMES = tuple(v.value for v in Verdict)
RANK = {v.value: v.rank for v in Verdict}
CONFIRMING = tuple(v.value for v in Verdict if v.confirms)
UNKNOWN_RANK = 9          # a value that is not a verdict sorts last


def rank(name) -> int:
    return RANK.get(str(name), UNKNOWN_RANK)
