"""Render a rule's check template from an instance's facts: name, slug, tags, desc."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

PLACEHOLDER_RE = re.compile(r"\{(asg|instance_id|region|account|az|tag:[^{}]+)\}")
SLUG_BAD_RE = re.compile(r"[^a-z0-9_-]+")
TAG_BAD_RE = re.compile(r"\s+")
KNOWN = ("asg", "instance_id", "region", "account", "az")


@dataclass(frozen=True)
class InstanceFacts:
    """What we know about an instance when its check is made."""

    instance_id: str
    region: str = ""
    account: str = ""
    asg: str = ""
    az: str = ""
    state: str = ""  # EC2 state name when looked up; "" when unknown
    tags: dict[str, str] = field(default_factory=dict)


def unknown_placeholders(template: str) -> list[str]:
    """Placeholders a template uses that rendering does not know (for validation)."""
    names = re.findall(r"\{([^{}]*)\}", template)
    return [n for n in names if n not in KNOWN and not n.startswith("tag:")]


def render(template: str, facts: InstanceFacts) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("tag:"):
            return facts.tags.get(name[4:], "")
        return str(getattr(facts, name))

    return PLACEHOLDER_RE.sub(value, template)


def _shorten(text: str, limit: int, sep: str) -> str:
    # A plain cut could make two long group names collide: keep a hash of the whole.
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return text[: limit - len(digest) - 1] + sep + digest


def render_slug(template: str, facts: InstanceFacts) -> str:
    """A Healthchecks slug: [a-z0-9_-], at most 100 characters, never empty."""
    slug = SLUG_BAD_RE.sub("-", render(template, facts).lower()).strip("-")
    return _shorten(slug or facts.instance_id, 100, "-")


def render_name(template: str, facts: InstanceFacts) -> str:
    name = render(template, facts).strip(" /-")
    return _shorten(name or facts.instance_id, 100, "~")


def render_tags(template: str, facts: InstanceFacts) -> str:
    """Space-separated tags; tag values with spaces are joined with '-'."""
    words = []
    for word in template.split():
        rendered = TAG_BAD_RE.sub("-", render(word, facts).strip())
        if rendered and rendered not in words:
            words.append(rendered)
    tags = ""
    for word in words:
        if len(tags) + len(word) + 1 > 500:
            break
        tags = f"{tags} {word}" if tags else word
    return tags


def render_desc(template: str, facts: InstanceFacts) -> str:
    return render(template, facts)
