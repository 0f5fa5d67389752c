from litestar import Router

from portal.home import home, terms_current

portal_router = Router(path="/", route_handlers=[home, terms_current])

__all__ = ["portal_router"]
