"""The OpenAPI document, readable by client generators of both OpenAPI styles.

FastAPI writes an upload field in the OpenAPI 3.1 style only: `{"type": "string", "contentMediaType":
"application/octet-stream"}`. Generators that read 3.0 schemas (openapi-python-client among them)
take that for a text field and send the file's contents as a string, which the server answers with
a 422. Adding `"format": "binary"`, 3.0's word for a file, beside `contentMediaType` makes both kinds
of generator see a file. The walk covers the whole document, so every file field of every route, now
or added later, gets it.
"""

from typing import Any

from fastapi import FastAPI


def describe_file_fields(app: FastAPI) -> None:
    """Make `app.openapi()` (and so /openapi.json and /docs) mark every file field as binary."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:  # FastAPI caches the document it generates in openapi_schema
            mark_binary_strings(generate())
        return app.openapi_schema

    app.openapi = openapi


def mark_binary_strings(node: Any) -> int:
    """Add `format: binary` to every raw-bytes string schema inside `node` (in place); how many it marked.

    A raw-bytes string is a string with a `contentMediaType` and no `contentEncoding`: one that says
    it is base64 (or another encoding) is text in a JSON body, not a file."""
    marked = 0
    if isinstance(node, dict):
        if _is_raw_bytes(node) and "format" not in node:
            node["format"] = "binary"
            marked += 1
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return 0
    return marked + sum(mark_binary_strings(child) for child in children)


def _is_raw_bytes(schema: dict) -> bool:
    return (schema.get("type") == "string" and isinstance(schema.get("contentMediaType"), str)
            and "contentEncoding" not in schema)
