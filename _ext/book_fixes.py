"""Small Sphinx fixes for the course book (hand-written: no upstream option covers them).

sphinx-thebe 0.3.1 registers its inline configuration script once per read phase; with
sphinxcontrib-bibtex the read phase runs twice, so every page declared ``THEBE_JS_URL`` twice and
the browser logged a SyntaxError. This extension drops exact duplicate scripts from each page.
"""

from __future__ import annotations


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        # Inline scripts arrive with filename None or '' depending on the caller.
        filename = getattr(script, "filename", script) or ""
        attributes = tuple(sorted(getattr(script, "attributes", {}).items()))
        key = (str(filename), attributes)
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
