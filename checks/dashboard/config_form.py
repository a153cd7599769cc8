"""HTML forms generated from a channel kind's DRF config serializer.

Each serializer field becomes one input; what the browser sends is turned back
into the serializer's data shape, and the serializer alone decides what is valid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rest_framework import serializers

if TYPE_CHECKING:
    from django.http import QueryDict

PREFIX = "cfg_"
TEXTAREA_NAMES = ("body", "cmd", "template", "message", "text")


@dataclass
class ConfigField:
    """One input of a generated form."""

    name: str
    label: str
    widget: str  # text, email, url, password, textarea, select, checkbox, number,
    #              lines (a list, one item a line), pairs ("Name: value" lines), json
    value: Any
    required: bool
    help: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def input_name(self) -> str:
        return PREFIX + self.name

    @property
    def is_multiline(self) -> bool:
        return self.widget in ("textarea", "lines", "pairs", "json")


def _widget(f: serializers.Field) -> str:
    if isinstance(f, serializers.BooleanField):
        return "checkbox"
    if isinstance(f, serializers.ChoiceField):
        return "select"
    if isinstance(f, serializers.IntegerField | serializers.FloatField):
        return "number"
    if isinstance(f, serializers.ListField) and isinstance(
        f.child, serializers.CharField
    ):
        return "lines"
    if isinstance(f, serializers.DictField) and isinstance(
        f.child, serializers.CharField
    ):
        return "pairs"
    if isinstance(f, serializers.EmailField):
        return "email"
    if isinstance(f, serializers.URLField):
        return "url"
    if isinstance(f, serializers.CharField):
        if f.style.get("input_type") == "password":
            return "password"
        if f.style.get("base_template") == "textarea.html" or any(
            word in (f.field_name or "") for word in TEXTAREA_NAMES
        ):
            return "textarea"
        return "text"
    return "json"


ACRONYMS = {"url": "URL", "id": "ID", "api": "API", "http": "HTTP"}


def _label(f: serializers.Field) -> str:
    if f.label:
        return str(f.label)
    words = [ACRONYMS.get(w, w) for w in (f.field_name or "").split("_")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def _display(widget: str, value: Any) -> Any:
    """A config value as its input shows it."""
    if value is None or value is serializers.empty:
        return False if widget == "checkbox" else ""
    if widget == "lines":
        return "\n".join(str(v) for v in value)
    if widget == "pairs":
        return "\n".join(f"{k}: {v}" for k, v in value.items())
    if widget == "json":
        return json.dumps(value, indent=2)
    if widget == "checkbox":
        return bool(value)
    return str(value)


def _initial(f: serializers.Field) -> Any:
    default = f.default
    if default is serializers.empty:
        return None
    return default() if callable(default) else default


def flatten_errors(errors: Any) -> list[str]:
    """DRF error structures (lists, dicts by index or key) as plain messages."""
    if isinstance(errors, dict):
        out: list[str] = []
        for key, value in errors.items():
            prefix = f"Item {int(key) + 1}: " if isinstance(key, int) else ""
            out.extend(prefix + m for m in flatten_errors(value))
        return out
    if isinstance(errors, list):
        return [m for e in errors for m in flatten_errors(e)]
    return [str(errors)]


def build_fields(
    config_class: type[serializers.Serializer],
    values: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
) -> list[ConfigField]:
    """The inputs for a serializer, filled from a stored config (or the defaults)."""
    fields = []
    for name, f in config_class().fields.items():
        if f.read_only:
            continue
        widget = _widget(f)
        value = values.get(name) if values is not None else _initial(f)
        fields.append(
            ConfigField(
                name=name,
                label=_label(f),
                widget=widget,
                value=_display(widget, value),
                required=bool(f.required),
                help=str(f.help_text or ""),
                choices=[(str(k), str(v)) for k, v in f.choices.items()]
                if isinstance(f, serializers.ChoiceField)
                else [],
                errors=flatten_errors(errors.get(name, [])) if errors else [],
            )
        )
    return fields


class ParseError(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("unparseable form input")
        self.errors = errors


def _parse_pairs(text: str) -> dict[str, str]:
    pairs = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ValueError(f"Write each entry as “Name: value” (got {line!r}).")
        pairs[key.strip()] = value.strip()
    return pairs


def parse_post(
    config_class: type[serializers.Serializer], post: QueryDict
) -> dict[str, Any]:
    """Serializer input from a submitted form; ParseError for unreadable lines/JSON."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, f in config_class().fields.items():
        if f.read_only:
            continue
        widget = _widget(f)
        key = PREFIX + name
        if widget == "checkbox":
            data[name] = key in post
            continue
        raw = post.get(key, "")
        if raw == "" and not f.required:
            continue  # the serializer's default applies
        try:
            if widget == "lines":
                data[name] = [line.strip() for line in raw.splitlines() if line.strip()]
            elif widget == "pairs":
                data[name] = _parse_pairs(raw)
            elif widget == "json":
                data[name] = json.loads(raw)
            else:
                data[name] = raw
        except ValueError as e:
            message = str(e) if widget == "pairs" else "Enter valid JSON."
            errors[name] = [message]
    if errors:
        raise ParseError(errors)
    return data
