"""Form state for re-rendering: what the user typed and what was wrong with it, per field."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import FormData


@dataclass
class FormState:
    """Values as typed (strings) and error messages (already translated) by field name."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, form: FormData, *names: str) -> FormState:
        """The text fields ``names`` of a posted form (missing ones empty, passwords included)."""
        return cls(values={name: str(form.get(name) or "").strip() for name in names})

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def require(self, name: str, message: str) -> str:
        """The field's value; records ``message`` as its error when it is empty."""
        value = self.get(name)
        if not value:
            self.errors.setdefault(name, message)
        return value

    @property
    def ok(self) -> bool:
        return not self.errors
