"""The defdip web dashboard: a read-only JSON API under ``/api/``, server-rendered HTML pages and offline docs.

``create_app(store)`` returns the FastAPI application; ``defdip serve`` runs it with uvicorn as ``server_config``
sets it up. Nothing the pages load comes from outside the app: the Vega bundle, styles and scripts are served under
``/static/``.
"""

from defdip.present.web.app import create_app, server_config

__all__ = ["create_app", "server_config"]
