"""Live mode: ``salesmirror watch``, findings as events arrive.

The stream is read in batches (``sources``), each line validated by the same
acceptance path as ``check`` and checked against an event-time watermark
(``runner``); accepted events go to an embedded DuckDB store (``store``). As
the watermark passes tick boundaries, the compiled plans of ``engine.lang``
run over the store and every finding that no later event can change any more
is printed at once (``evaluator``); ``match`` and ``sequence`` rules are also
compiled into durable-rules rulesets (``durable``), which tell the evaluator
when such a rule has anything new to look at. When a finite input ends, the
whole log is evaluated exactly as ``check`` would and what is left is
printed. ``--state DIR`` keeps the store, the watermark, the read offsets and
the keys of the findings already emitted, so a restart resumes without loss
and without duplicates; ``webhook`` POSTs each finding.
"""

from engine.live.command import watch_command

__all__ = ["watch_command"]
