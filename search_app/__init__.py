"""HeartSearch's web app and the search behind it.

- `search/`: the search itself (live index, query planning, ranking), no Flask;
- `api/`: the versioned JSON API; `pages/`: the reader's page;
- `app.py`: `create_app(config)`, the app factory that puts them together;
- `server.py` / `__main__.py`: `python -m search_app` serves it with granian.

Importing this package loads no Flask, so `search/` can be used and tested
without a web app; `create_app` loads the factory when it is called.
"""
from __future__ import annotations


def create_app(*args, **kwargs):
    """search_app.app.create_app (see there)."""
    from search_app.app import create_app as build
    return build(*args, **kwargs)
