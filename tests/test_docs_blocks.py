"""Every ```python block of docs/*.md runs.

Each page's blocks run in page order in one namespace, as a reader pasting them one after
another would, with the working directory a fresh temporary folder (so a block that writes a
file writes it there, never into the checkout). The study's files (codebooks, microdata,
frames, analyses) are found through surveylib's study locator, as the pages' own examples
find them: ``SURVEYLIB_STUDY`` points at this checkout. The pages that use R's ``api`` data
read it from ``tests/conformance/data/`` of a source checkout, as they say; that one folder
is linked into the temporary folder.

Blocks written as an interactive session (``>>>`` prompts) run their code; the output lines
shown under the prompts are not compared (they are documentation, and comparing them with
our own output would assert nothing about the numbers — the numbers are checked against R
in tests/conformance).

A block that cannot run here (it needs the reader's own file, a Spark cluster, ...) is
marked with an HTML comment on the line before its fence, giving the reason::

    <!-- docs-test: skip (needs your own survey.sav) -->

The page itself must say the same in prose; such marks are kept rare.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]*)\)\s*-->\s*\n\s*\Z")
SKIP_ANYWHERE = re.compile(r"<!--\s*docs-test:")


def blocks(page: Path) -> list[tuple[int, str, str | None]]:
    """(line, code, skip reason or None) of every ```python block of ``page``, in order."""
    text = page.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        before = text[: m.start()]
        skip = SKIP.search(before[-300:])
        out.append((before.count("\n") + 2, session_code(m.group(1)),
                    skip.group("reason").strip() if skip else None))
    return out


def session_code(code: str) -> str:
    """The code of a block; of a ``>>>`` session, its input lines without the prompts."""
    lines = code.splitlines()
    if not lines or not lines[0].startswith(">>>"):
        return code
    kept = [line[4:] for line in lines if line.startswith((">>> ", "... ", ">>>", "..."))]
    return "\n".join(kept) + "\n"


PAGES = sorted(p for p in DOCS.rglob("*.md") if blocks(p))


def test_the_pages_have_blocks_and_every_skip_mark_is_on_a_block():
    assert len(PAGES) >= 10, "the extractor found python blocks on too few pages"
    for page in DOCS.rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        marks = len(SKIP_ANYWHERE.findall(text))
        skipped = sum(reason is not None for _, _, reason in blocks(page))
        assert marks == skipped, (
            f"{page.relative_to(ROOT)}: a docs-test mark is not directly before a ```python "
            f"fence, or has no (reason)")
        for line, _, reason in blocks(page):
            assert reason is None or len(reason) > 10, f"{page.name}:{line}: give a reason"


def test_session_code_drops_prompts_and_output():
    code = ">>> x = 1\n>>> def f():\n...     return x\n>>> f()\n1\n"
    assert session_code(code) == "x = 1\ndef f():\n    return x\nf()\n"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_blocks_run(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = tmp_path / "tests" / "conformance" / "data"
    data.parent.mkdir(parents=True)
    data.symlink_to(ROOT / "tests" / "conformance" / "data", target_is_directory=True)
    monkeypatch.setenv("SURVEYLIB_STUDY", str(ROOT))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    try:
        for line, code, reason in blocks(page):
            if reason is not None:
                continue
            where = f"{page.relative_to(ROOT)}:{line}"
            try:
                exec(compile(code, where, "exec"), namespace)  # noqa: S102
            except Exception as err:
                raise AssertionError(f"the block at {where} fails: {err!r}") from err
    finally:
        plt.close("all")


def test_the_site_hook_renders_sphinx_roles():
    """docs/hooks/sphinx_roles.py (the mkdocs hook) turns roles into code and references."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sphinx_roles",
                                                  DOCS / "hooks" / "sphinx_roles.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = ("see :class:<code>~surveylib.results.Estimate</code>, :func:<code>locate</code> "
            "and :meth:<code>surveylib.design.SurveyDesign.mean()</code>")
    assert hook.on_page_content(page) == (
        'see <autoref identifier="surveylib.results.Estimate" optional><code>Estimate</code>'
        '</autoref>, <code>locate</code> and <autoref identifier='
        '"surveylib.design.SurveyDesign.mean" optional><code>surveylib.design.SurveyDesign.mean()'
        '</code></autoref>')
