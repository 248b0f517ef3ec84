"""The package list, which pyproject.toml cannot express on its own.

``engine`` and ``simulator`` (and their subpackages) are found by setuptools.
The shipped rules are YAML files in ``rules/`` that the engine opens as the
package ``salesmirror_rules`` (``[tool.setuptools.package-dir]`` maps the one to
the other); ``[tool.setuptools.packages.find]`` only names packages after their
directory, so that one package is added here by name. Everything else about the
build lives in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["engine", "engine.*", "simulator", "simulator.*"]), "salesmirror_rules"])
