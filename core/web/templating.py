"""The pages' templates: Litestar renders them with the shared Jinja environment (core/rendering)."""

from __future__ import annotations

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from core.config import Settings
from core.rendering.jinja import build_environment


def template_config(settings: Settings) -> TemplateConfig:
    # Production trusts the compiled templates (see build_environment).
    return TemplateConfig(
        engine=JinjaTemplateEngine.from_environment(build_environment(auto_reload=not settings.is_prod)),
    )
