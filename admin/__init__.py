from litestar import Router

from admin.home import admin_home

admin_router = Router(path="/admin", route_handlers=[admin_home])

__all__ = ["admin_router"]
