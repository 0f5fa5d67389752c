"""Domain errors. Services raise them; controllers turn them into a form error or a 404."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule said no. `message` is shown to the user (a gettext msgid)."""

    def __init__(self, message: str, **params: object) -> None:
        from core.i18n import interpolate

        super().__init__(interpolate(message, params))
        self.message = message
        self.params = params

    def translated(self) -> str:
        """The message in the viewer's language."""
        from core.i18n import translate

        return translate(self.message, self.params)


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""


class InvalidInput(DomainError):
    """One field of the input is wrong; `field` names it for the form."""

    def __init__(self, field: str, message: str, **params: object) -> None:
        super().__init__(message, **params)
        self.field = field


class TransitionNotAllowed(DomainError):
    """The order's current status does not allow the requested change."""
