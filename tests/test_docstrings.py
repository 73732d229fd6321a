"""The examples in the core modules' docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["surveylib.design", "surveylib.estimators.totals", "surveylib.replicate"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


@pytest.mark.parametrize("page", ["README.md", "docs/design.md"])
def test_python_blocks_of_the_page_run(page, monkeypatch):
    """The code shown to users runs as written, from the repository root."""
    import re
    import warnings
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    blocks = re.findall(r"```python\n(.*?)```", (root / page).read_text(), re.S)
    assert blocks, f"{page} shows no Python"
    # the five-line path reads a user's survey.sav: tests/test_getting_started.py writes one
    # and runs that block in a temporary folder
    blocks = [b for b in blocks if '"survey.sav"' not in b]
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for block in blocks:
            exec(compile(block, page, "exec"), namespace)  # noqa: S102
