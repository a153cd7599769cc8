"""hcserver AWS Lambda: EventBridge EC2/Auto Scaling events -> Management API calls.

Standard library only: deploy this one file (runtime python3.11+, handler
`handler.handler`) with an EventBridge rule like infra/aws/cloudformation.yaml's.
Settings come from environment variables (docs/aws.md, "The Lambda pattern"):

  HC_API_URL         e.g. https://hc.example.com/api/v3/  (required)
  HC_API_KEY         a read-write API key of the project   (required)
  HC_GROUPS          comma-separated group names or globs; empty = every group
  HC_NAME_TEMPLATE   default "{asg}/{instance_id}"
  HC_SLUG_TEMPLATE   default "{asg}-{instance_id}"
  HC_TAGS            default "aws {asg}" (the instance id is always added)
  HC_TIMEOUT, HC_GRACE   seconds (default 86400, 3600)
  HC_SCHEDULE, HC_TZ     a cron schedule instead of a timeout (optional)
  HC_CHANNELS        default "*"
  HC_ON_SCALE_IN     delete (default) | pause | keep

Launches come from Auto Scaling events (they name the group); terminations from
either source: the check is found by its instance-id tag. Errors worth retrying
raise, so Lambda's asynchronous retries (and its failure destination) apply.
The API key is never logged.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

log = logging.getLogger()
log.setLevel(logging.INFO)

INSTANCE_ID_RE = re.compile(r"^i-[0-9a-f]{8,32}$")
LAUNCH_TYPES = (
    "EC2 Instance Launch Successful",
    "EC2 Instance-launch Lifecycle Action",
)
TERMINATE_TYPES = (
    "EC2 Instance Terminate Successful",
    "EC2 Instance Detach Successful",
    "EC2 Instance-terminate Lifecycle Action",
)


class Retry(Exception):
    """hcserver or the network failed: let Lambda retry the event."""


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")
    return slug[:100]


def _render(template: str, facts: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: facts.get(m.group(1), ""), template)


def classify(event: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """("launch" | "terminate", facts) for events we act on, else None."""
    detail = event.get("detail") or {}
    detail_type = event.get("detail-type", "")
    if event.get("source") == "aws.autoscaling" and isinstance(detail, dict):
        instance_id = str(detail.get("EC2InstanceId", ""))
        facts = {
            "instance_id": instance_id,
            "asg": str(detail.get("AutoScalingGroupName", "")),
            "region": str(event.get("region", "")),
            "account": str(event.get("account", "")),
        }
        if detail.get("Destination") == "WarmPool" or not INSTANCE_ID_RE.match(
            instance_id
        ):
            return None
        if detail_type in LAUNCH_TYPES:
            return "launch", facts
        if detail_type in TERMINATE_TYPES:
            return "terminate", facts
    if event.get("source") == "aws.ec2" and isinstance(detail, dict):
        instance_id = str(detail.get("instance-id", ""))
        state = detail.get("state")
        if state in ("shutting-down", "terminated") and INSTANCE_ID_RE.match(
            instance_id
        ):
            return "terminate", {"instance_id": instance_id}
    return None


def _request(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    url = urllib.parse.urljoin(_env("HC_API_URL").rstrip("/") + "/", path)
    if not url.startswith(("https://", "http://")):
        raise ValueError("HC_API_URL must be an http(s) URL")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=data,
        method=method,
        headers={"X-Api-Key": _env("HC_API_KEY"), "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as e:
        if e.code >= 500 or e.code == 429:
            raise Retry(f"{method} {path}: HTTP {e.code}") from e
        log.error("hcserver refused %s %s: HTTP %s", method, path, e.code)
        return None
    except (urllib.error.URLError, TimeoutError) as e:
        raise Retry(f"{method} {path}: {e}") from e
    try:
        return json.loads(raw)
    except ValueError:
        return {}


def _group_allowed(group: str) -> bool:
    patterns = [p.strip() for p in _env("HC_GROUPS").split(",") if p.strip()]
    return not patterns or any(fnmatch.fnmatchcase(group, p) for p in patterns)


def launch(facts: dict[str, str]) -> str:
    if not facts["asg"] or not _group_allowed(facts["asg"]):
        return "ignored"
    tags = _render(_env("HC_TAGS", "aws {asg}"), facts).split()
    tags.append(facts["instance_id"])
    body: dict[str, Any] = {
        "name": _render(_env("HC_NAME_TEMPLATE", "{asg}/{instance_id}"), facts)[:100],
        "slug": _slugify(
            _render(_env("HC_SLUG_TEMPLATE", "{asg}-{instance_id}"), facts)
        ),
        "tags": " ".join(dict.fromkeys(t for t in tags if t)),
        "channels": _env("HC_CHANNELS", "*"),
        # Upsert: a redelivered launch finds the check it made the first time.
        "unique": ["slug"],
    }
    if _env("HC_SCHEDULE"):
        body["schedule"] = _env("HC_SCHEDULE")
        body["tz"] = _env("HC_TZ", "UTC")
    else:
        body["timeout"] = int(_env("HC_TIMEOUT", "86400"))
    body["grace"] = int(_env("HC_GRACE", "3600"))
    _request("POST", "checks/", body)
    return "created"


def terminate(facts: dict[str, str]) -> str:
    policy = _env("HC_ON_SCALE_IN", "delete")
    if policy == "keep":
        return "kept"
    query = urllib.parse.urlencode({"tag": facts["instance_id"]})
    found = _request("GET", f"checks/?{query}") or {}
    done = 0
    for check in found.get("checks", []):
        uuid = check.get("uuid")
        if not uuid:
            continue
        if policy == "pause":
            _request("POST", f"checks/{uuid}/pause", {})
        else:
            _request("DELETE", f"checks/{uuid}")
        done += 1
    return f"{policy}d {done}" if policy == "pause" else f"deleted {done}"


def handler(event: dict[str, Any], context: Any = None) -> dict[str, str]:
    """Lambda entry point for one EventBridge event."""
    classified = classify(event)
    if classified is None:
        return {"result": "ignored"}
    kind, facts = classified
    result = launch(facts) if kind == "launch" else terminate(facts)
    log.info("%s %s: %s", kind, facts["instance_id"], result)
    return {"result": result}
