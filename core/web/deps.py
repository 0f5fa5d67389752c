"""Typed dependencies for route handlers (`db: DB` injects the app's Database)."""

from litestar.di import NamedDependency

from core.db import Database

DB = NamedDependency[Database]
