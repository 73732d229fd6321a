"""The queries a lazy design's source runs, for tests that count them."""

from __future__ import annotations


def counted(design):
    """``(design, calls)``: ``calls`` lists every SQL text the design's source fetches from
    now on (the source's ``fetch`` is wrapped in place)."""
    calls, fetch = [], design.source.fetch

    def run(sql):
        calls.append(sql)
        return fetch(sql)

    design.source.fetch = run
    return design, calls
