"""Request parameters as Mastodon clients send them: a query string, a form (urlencoded or
multipart) or a JSON body, and arrays as `name[]=a&name[]=b` (or a JSON list)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from api.mastodon.errors import MastodonError


@dataclass(frozen=True, slots=True)
class Params:
    """Every parameter of a request, by name, as lists of values (the last one wins for
    `get`)."""

    values: dict[str, list[Any]] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        found = self.values.get(name) or self.values.get(f"{name}[]")
        return found[-1] if found else default

    def text(self, name: str) -> str | None:
        value = self.get(name)
        if value is None or isinstance(value, UploadFile):
            return None
        return value if isinstance(value, str) else orjson.dumps(value).decode().strip('"')

    def texts(self, name: str) -> list[str]:
        """An array parameter: `name[]` repeated, `name` repeated, or a JSON list."""
        found = self.values.get(f"{name}[]", []) + self.values.get(name, [])
        flat: list[str] = []
        for value in found:
            items = value if isinstance(value, list) else [value]
            flat += [str(item) for item in items if not isinstance(item, UploadFile)]
        return flat

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean as clients send them: true/false, 1/0, on/off (a JSON bool too)."""
        value = self.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "on", "yes"}:
            return True
        if text in {"0", "false", "off", "no"}:
            return False
        raise MastodonError(422, f"Validation failed: {name} is not a boolean")

    def number(self, name: str, default: int) -> int:
        """A count such as `limit` or `offset`: digits only (422 otherwise), `default` when
        absent or blank."""
        text = self.text(name)
        if text is None or text == "":
            return default
        if not text.isdigit():
            raise MastodonError(422, f"Validation failed: {name} is not a number")
        return int(text)

    def file(self, name: str) -> UploadFile | None:
        value = self.get(name)
        return value if isinstance(value, UploadFile) else None


async def params_of(request: Request) -> Params:
    """The query string, then the body (JSON or form), merged; a body that cannot be read is
    refused with 422."""
    values: dict[str, list[Any]] = {}
    for name, value in request.query_params.multi_items():
        values.setdefault(name, []).append(value)
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        if media_type == "application/json" or media_type.endswith("+json"):
            body = await request.body()
            if body.strip():
                try:
                    decoded = orjson.loads(body)
                except orjson.JSONDecodeError:
                    raise MastodonError(422, "Validation failed: the body is not JSON") from None
                if not isinstance(decoded, dict):
                    raise MastodonError(422, "Validation failed: the body is not a JSON object")
                for name, value in decoded.items():
                    values.setdefault(name, []).append(value)
        elif media_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            form = await request.form()
            for name, field_value in form.multi_items():
                values.setdefault(name, []).append(field_value)
    return Params(values)
