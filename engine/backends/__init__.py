"""Execution backends. A backend loads canonical events once and runs compiled plans."""
