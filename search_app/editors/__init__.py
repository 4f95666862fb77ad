"""The editors' page, `/editors/insights`: what readers search for and do
not find, for the people who decide which article to write next.

It exists only when HEARTSEARCH_EDITOR_TOKEN is set, and answers only a
request that carries that token (`auth`): every other request under
/editors/ is the site's ordinary 404, except the sign-in form. `views` is the
blueprint, `chart` the server-drawn SVG of searches per day. The report
itself is the indexer's (`indexer.insights.report.build_report`), the same
one `python -m indexer insights` prints.
"""
