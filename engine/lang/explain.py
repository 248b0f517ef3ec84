"""``salesmirror rules explain``: a rule's documentation as readable text."""

from __future__ import annotations

import textwrap

from engine.lang.model import Rule


def _para(title: str, body: str) -> list[str]:
    wrapped = textwrap.fill(" ".join(body.split()), width=88, initial_indent="  ", subsequent_indent="  ")
    return [title, wrapped, ""]


def explain(rule: Rule) -> str:
    lines = [f"{rule.id}  ({rule.trait}, {rule.severity}, {rule.status})", rule.title, ""]
    lines += _para("Why it matters", rule.docs.why)
    lines += _para("What to do instead", rule.docs.instead)
    false_positives = rule.docs.false_positives
    if isinstance(false_positives, list):
        lines.append("Known false positives")
        lines += [f"  - {item}" for item in false_positives] + [""]
    else:
        lines += _para("Known false positives", false_positives)
    if rule.params:
        lines.append("Parameters (override with --set RULE.PARAM=VALUE or salesmirror.yaml)")
        for name, spec in rule.params.items():
            lines.append(f"  {name} ({spec.type}, default {spec.default}): {spec.doc}")
        lines.append("")
    lines.append(f'How it decides: a {rule.logic.kind} rule; message: "{rule.message}"')
    if rule.docs.references:
        lines.append("")
        lines.append("References")
        lines += [f"  - {ref}" for ref in rule.docs.references]
    return "\n".join(lines).rstrip() + "\n"
