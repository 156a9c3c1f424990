"""The few HTML pages atoll serves: the front door, the API reference and the asset 403.

Server-rendered, no JavaScript, no external assets. One stylesheet, inline, allowed by its
hash in a strict Content-Security-Policy; everything else (scripts, frames, forms, fetches)
is refused. Every interpolated value is escaped.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from html import escape
from typing import Any

from atoll.wire.headers import NO_REFERRER, NOSNIFF
from atoll.wire.shapes import FrontDoor

CSS = """
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1d2a30;background:#fbfaf6}
h1,h2,h3{line-height:1.2}h1{color:#0b6e8a}a{color:#0b6e8a}
code,pre{font:14px/1.4 ui-monospace,monospace;background:#eef2f2;border-radius:4px}
code{padding:0 .2em}pre{padding:.7rem;overflow-x:auto}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #cdd7d9;padding:.2rem .5rem;text-align:left;vertical-align:top}
.op{border-top:1px solid #cdd7d9;padding-top:.3rem}.m{font-weight:700;text-transform:uppercase;color:#0b6e8a}
.note{color:#56666b}nav li{margin:.1rem 0}
""".strip()

CSS_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()

#: For every HTML page: only our own stylesheet (by hash) and our own icon.
CSP = (
    f"default-src 'none'; style-src '{CSS_HASH}'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
HTML_HEADERS = {
    "content-security-policy": CSP,
    **NOSNIFF,
    **NO_REFERRER,
    "x-frame-options": "DENY",
}


def page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="icon" href="/favicon.ico" type="image/svg+xml">'
        f"<style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _link(url: str, text: str | None = None) -> str:
    return f'<a href="{escape(url)}">{escape(text or url)}</a>'


def front_door(info: FrontDoor) -> str:
    c = info["connect"]
    body = f"""<h1>atoll <small class="note">{escape(info["version"])}</small></h1>
<p>{escape(info["description"])}</p>
<p>This server: <code>{escape(info["public_url"])}</code></p>
<ul>
<li>API reference: {_link(info["docs"])} (OpenAPI 3.1: {_link(info["openapi"])})</li>
<li>Health: {_link(info["health"])} · readiness: {_link(info["ready"])}</li>
</ul>
<h2>Get a token</h2>
<p>On the server, make an API token for a base (the workspace and base are created if missing);
it prints only the token:</p>
<pre>{escape(c["get_a_token"])}</pre>
<h2>Connect with the official client</h2>
<p><code>pip install seatable-api</code>, then:</p>
<pre>{escape(c["official_client"])}</pre>
<h2>Connect with atoll's SDK</h2>
<p>The same methods, with streaming, retries and typed errors:</p>
<pre>{escape(c["atoll_sdk"])}</pre>
<p class="note">This page is also JSON: ask for <code>Accept: application/json</code>.</p>"""
    return page("atoll", body)


def asset_forbidden(docs_url: str) -> str:
    body = f"""<h1>This file needs a token</h1>
<p>The address of a file or image in a cell opens only with the base's API token or access
token (<code>Authorization: Token …</code>), so a browser on its own gets no further than here.</p>
<p>To open the file in a browser, ask for a download link with the base's API token, e.g. with
the official client: <code>base.get_file_download_link("images/…/name.png")</code>, or
<code>GET /api/v2.1/dtable/app-download-link/?path=…</code>. The link it returns works in a
browser for a limited time.</p>
<p>{_link(docs_url, "API reference")}</p>"""
    return page("Token needed", body)


# ---- the API reference, from the OpenAPI document ----------------------------------------

METHOD_ORDER = ("get", "head", "post", "put", "patch", "delete", "options")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[1]


def type_html(schema: dict[str, Any]) -> str:
    """A short, linked rendering of a schema: ``array of <a>Column</a>``, ``string | null``."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    if "anyOf" in schema:
        return " | ".join(type_html(s) for s in schema["anyOf"])
    if "const" in schema:
        return f"<code>{escape(json.dumps(schema['const']))}</code>"
    if "enum" in schema:
        return "one of " + ", ".join(f"<code>{escape(json.dumps(v))}</code>" for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return "array of " + type_html(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        inner = schema["additionalProperties"]
        return "object" if not inner else "object of " + type_html(inner)
    if isinstance(kind, str):
        return escape(kind)
    return "any"


def _rows(cells: Iterable[Iterable[str]]) -> str:
    return "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells)


def _operation(method: str, path: str, op: dict[str, Any]) -> str:
    parts = [f'<section class="op" id="{escape(op["operationId"])}">',
             f'<h3><span class="m">{escape(method)}</span> <code>{escape(path)}</code></h3>',
             f"<p>{escape(op['summary'])}</p>"]
    if op.get("description"):
        parts.append(f'<p class="note">{escape(op["description"])}</p>')
    if not op.get("x-seatable-compatible", True):
        parts.append('<p class="note">atoll\'s own (not in SeaTable).</p>')
    params = op.get("parameters", [])
    if params:
        parts.append("<table><tr><th>parameter</th><th>in</th><th>type</th><th></th></tr>")
        parts.append(_rows(
            (f"<code>{escape(p['name'])}</code>", escape(p["in"]), type_html(p["schema"]),
             escape(p.get("description", ""))) for p in params))
        parts.append("</table>")
    body = op.get("requestBody")
    if body:
        for media, content in body["content"].items():
            parts.append(f"<p>Body ({escape(media)}): {type_html(content['schema'])}</p>")
    parts.append("<table><tr><th>status</th><th>answer</th></tr>")
    rows = []
    for status, reply in op["responses"].items():
        content = reply.get("content", {})
        kinds = [f"{escape(media)}: {type_html(c['schema'])}" for media, c in content.items()]
        rows.append((escape(status), "<br>".join([escape(reply["description"]), *kinds])))
    parts.append(_rows(rows) + "</table></section>")
    return "\n".join(parts)


def _schema(name: str, schema: dict[str, Any]) -> str:
    parts = [f'<section id="schema-{escape(name)}"><h3>{escape(name)}</h3>']
    if schema.get("description"):
        parts.append(f"<p>{escape(schema['description'])}</p>")
    required = set(schema.get("required", []))
    parts.append("<table><tr><th>key</th><th>type</th><th></th><th></th></tr>")
    parts.append(_rows(
        (f"<code>{escape(key)}</code>", type_html(prop), "required" if key in required else "optional",
         escape(prop.get("description", "")))
        for key, prop in schema.get("properties", {}).items()))
    parts.append("</table>")
    if schema.get("additionalProperties") is not False:
        parts.append('<p class="note">More keys may appear (their names are data, e.g. columns).</p>')
    parts.append("</section>")
    return "\n".join(parts)


def docs(doc: dict[str, Any]) -> str:
    """Every operation and every schema of ``doc``, grouped by tag, with a table of contents."""
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {t["name"]: [] for t in doc.get("tags", [])}
    for path, item in doc["paths"].items():
        for method in METHOD_ORDER:
            if method in item:
                op = item[method]
                by_tag.setdefault(op["tags"][0], []).append((method, path, op))
    info = doc["info"]
    out = [f"<h1>atoll API <small class=\"note\">{escape(info['version'])}</small></h1>",
           f"<p>{escape(info['description'])}</p>",
           f"<p>Server: <code>{escape(doc['servers'][0]['url'])}</code> · "
           f"{_link('/openapi.json', 'openapi.json')} · {_link('/', 'home')}</p>",
           "<h2>Authentication</h2><ul>"]
    for name, scheme in doc["components"]["securitySchemes"].items():
        out.append(f"<li><b>{escape(name)}</b>: {escape(scheme['description'])}</li>")
    out.append("</ul><nav><h2>Operations</h2><ul>")
    for tag, ops in by_tag.items():
        out.append(f'<li><a href="#tag-{escape(tag.replace(" ", "-"))}">{escape(tag)}</a> ({len(ops)})</li>')
    out.append("</ul></nav>")
    for tag, ops in by_tag.items():
        out.append(f'<h2 id="tag-{escape(tag.replace(" ", "-"))}">{escape(tag)}</h2>')
        out.extend(_operation(method, path, op) for method, path, op in ops)
    out.append("<h2>Schemas</h2>")
    out.extend(_schema(name, schema) for name, schema in doc["components"]["schemas"].items())
    return page("atoll API", "\n".join(out))
