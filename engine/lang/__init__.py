"""The YAML rule language: loading with positions, models, and compilation."""
