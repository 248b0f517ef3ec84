"""salesmirror: flag sales-manager anti-patterns in CRM event logs.

The public API: :func:`check` (events in, report out), :func:`prepare_rules`
and :func:`evaluate` for callers that load once and evaluate many times.
"""

from engine.api import Report, check, evaluate, prepare_rules
from engine.errors import ConfigError, InvalidInput, Problem, RuleError, SalesmirrorError
from engine.findings import Finding, NotAssessed

__all__ = [
    "ConfigError",
    "Finding",
    "InvalidInput",
    "NotAssessed",
    "Problem",
    "Report",
    "RuleError",
    "SalesmirrorError",
    "check",
    "evaluate",
    "prepare_rules",
]
__version__ = "0.1.0"
