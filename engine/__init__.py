"""salesmirror: flag sales-manager anti-patterns in CRM event logs.

The public API: :func:`check` (events in, report out), :func:`prepare_rules`
and :func:`evaluate` for callers that load once and evaluate many times.
"""

from engine.api import check, evaluate, prepare_rules, refuse_outputs_over_inputs
from engine.errors import (
    ConfigError,
    EngineError,
    InputError,
    InvalidInput,
    Problem,
    ProblemsFound,
    RuleError,
    SalesmirrorError,
    UsageError,
)
from engine.report import Finding, NotAssessed, Report, RuleMeta

__all__ = [
    "ConfigError",
    "EngineError",
    "Finding",
    "InputError",
    "InvalidInput",
    "NotAssessed",
    "Problem",
    "ProblemsFound",
    "Report",
    "RuleError",
    "RuleMeta",
    "SalesmirrorError",
    "UsageError",
    "check",
    "evaluate",
    "prepare_rules",
    "refuse_outputs_over_inputs",
]
__version__ = "0.1.0"
