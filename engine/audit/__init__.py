"""The HR audit report and the manager's self-assessment.

``salesmirror audit`` words a period's findings for people (an HTML file an
HR partner can open, print and defend, or Markdown); ``salesmirror
self-assess`` writes a private report to one manager, from the log or from a
questionnaire. The click commands are in :mod:`engine.audit.command`; the
library parts (periods, the view, rendering, the questionnaire) never import
click.
"""
