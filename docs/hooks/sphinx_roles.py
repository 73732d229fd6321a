"""mkdocs hook: Sphinx cross-reference roles in the docstrings, rendered for the site.

The docstrings are numpydoc and refer to other objects as Sphinx does
(``:class:`~surveylib.results.Estimate```, ``:func:`locate```); mkdocstrings renders the role
name as text. This hook turns each into the name in code (the last component when the target
starts with ``~``, as Sphinx shows it) and a link to the object's entry in the API reference
when the reference documents it (an optional mkdocs-autorefs reference: an object that has no
entry stays plain code, without a warning).
"""

from __future__ import annotations

import html
import re

ROLE = re.compile(
    r":(?:py:)?(?:class|meth|func|attr|mod|data|exc|obj|const):<code>(?P<text>[^<]*)</code>")


def _reference(match: re.Match) -> str:
    text = html.unescape(match.group("text"))
    titled = re.fullmatch(r"(?P<title>.*?)\s*<(?P<target>[^>]+)>", text)
    if titled:
        title, target = titled.group("title"), titled.group("target")
    else:
        target = text.lstrip("~")
        title = target.rsplit(".", 1)[-1] if text.startswith("~") else target
    target = target.lstrip("~").removesuffix("()")
    shown = f"<code>{html.escape(title)}</code>"
    if "." not in target:
        return shown
    return f'<autoref identifier="{html.escape(target)}" optional>{shown}</autoref>'


def on_page_content(html_text: str, **kwargs) -> str:
    """Replace the roles in a page's HTML (mkdocs event, after Markdown is rendered)."""
    return ROLE.sub(_reference, html_text)
