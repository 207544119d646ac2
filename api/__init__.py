"""The HTTP API: a JSON face over `search/`, beside the CLI and the page (no ranking here).

`counsel-search serve` runs it under uvicorn; `create_app(index_dir)` gives the ASGI app.
"""

from api.current import CurrentSearcher
from api.routes import create_app
from api.server import serve

__all__ = ["CurrentSearcher", "create_app", "serve"]
