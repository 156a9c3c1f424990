"""Where SeaTable's assets live: every URL and asset-tree path atoll builds or reads, shared by
the server and the SDK.

The shapes follow the official ``seatable-api`` 4.0.0 client (wire contract §4.4, §4.7, §5.3, §6):

- a base's assets live under ``/asset/<uuid>`` (system folders ``images/`` and ``files/``,
  custom folders under ``/custom``);
- system assets are addressed as ``<server_url>/workspace/<wid>/asset/<uuid>/<relative_path>/<name>``,
  both path parts ``urllib.parse.quote``-d (``/`` kept), the uuid lowercase and dashed;
- a custom-folder file is addressed as ``custom-asset://<asset_uuid>.<ext>`` where ``ext`` is
  ``name.split('.')[-1]`` (so a name without a dot repeats the whole name);
- the file server takes uploads at ``/seafhttp/upload-api/<ticket>`` and serves downloads at
  ``/seafhttp/files/<ticket>/<name>``.

Builders take the base URL positionally and everything else by keyword.
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote, unquote
from uuid import UUID

ASSET_ROOT = "/asset"
CUSTOM_DIR = "/custom"
IMAGES_DIR = "images"
FILES_DIR = "files"
CUSTOM_ASSET_SCHEME = "custom-asset://"


def canonical_uuid(dtable_uuid: str) -> str:
    """``str(UUID(x))``: lowercase, dashed, 36 characters. Accepts the 32-hex form too.

    Raises ValueError for anything that is not a UUID.
    """
    return str(UUID(dtable_uuid))


def asset_root(*, dtable_uuid: str) -> str:
    """The parent_path SeaTable hands out: ``/asset/<uuid>``."""
    return f"{ASSET_ROOT}/{dtable_uuid}"


def upload_url(public_url: str, *, ticket: str) -> str:
    return f"{public_url}/seafhttp/upload-api/{ticket}"


def tus_url(public_url: str, *, ticket: str) -> str:
    """Where tus clients create uploads (``tus_link`` in the upload-link answers)."""
    return f"{public_url}/seafhttp/tus/{ticket}"


def tus_upload_url(public_url: str, *, upload_id: str) -> str:
    """One tus upload (its secret id is the credential)."""
    return f"{public_url}/seafhttp/tus-uploads/{upload_id}"


def download_url(public_url: str, *, ticket: str, name: str) -> str:
    return f"{public_url}/seafhttp/files/{ticket}/{quote(name, safe='')}"


def asset_url(
    server_url: str, *, workspace_id: int | str, dtable_uuid: str, relative_path: str, name: str
) -> str:
    """The URL the official client returns after an upload (and that cells store).

    >>> asset_url('https://h/', workspace_id=7, dtable_uuid='650D8A0D7E2746A88B186CC6F3DB2057',
    ...           relative_path='files/2025-08', name='a b.pdf')
    'https://h/workspace/7/asset/650d8a0d-7e27-46a8-8b18-6cc6f3db2057/files/2025-08/a%20b.pdf'
    """
    return "{}/workspace/{}/asset/{}/{}/{}".format(
        server_url.strip("/"),
        workspace_id,
        canonical_uuid(dtable_uuid),
        quote(relative_path.strip("/")),
        quote(name),
    )


def thumbnail_url(
    server_url: str, *, workspace_id: int | str, dtable_uuid: str, path: str, size: int
) -> str:
    """SeaTable's thumbnail URL of the asset at ``path`` (relative to ``/asset/<uuid>/``): the
    asset URL under ``/thumbnail`` with ``?size=``.

    >>> thumbnail_url('https://h', workspace_id=7, dtable_uuid='650d8a0d-7e27-46a8-8b18-6cc6f3db2057',
    ...               path='images/2025-08/a b.png', size=256)
    'https://h/thumbnail/workspace/7/asset/650d8a0d-7e27-46a8-8b18-6cc6f3db2057/images/2025-08/a%20b.png?size=256'
    """
    return "{}/thumbnail/workspace/{}/asset/{}/{}?size={}".format(
        server_url.strip("/"), workspace_id, canonical_uuid(dtable_uuid), quote(path.strip("/")), size
    )


def asset_path_from_url(url: str, *, dtable_uuid: str) -> str:
    """The asset path (relative to ``/asset/<uuid>/``, percent-decoded, no leading ``/``) that an
    asset URL points at: the text after the *last* occurrence of the dashed uuid.

    Works for ``/workspace/<w>/asset/<u>/...``, ``asset-preview``, thumbnail URLs, relative URLs
    and other hosts. Unlike the official client, a ``?query`` or ``#fragment`` is dropped (a raw
    ``?`` cannot be part of a quoted file name). Raises ValueError if the uuid is not in the URL.
    """
    u = canonical_uuid(dtable_uuid)
    if u not in url:
        raise ValueError(f"url invalid: {url!r} does not belong to base {u}")
    tail = url.split(u)[-1]
    for sep in ("#", "?"):
        tail = tail.split(sep, 1)[0]
    return unquote(tail.strip("/"))


def asset_name(path: str) -> str:
    """The file name at the end of an asset or custom-folder path."""
    return posixpath.basename(path.rstrip("/"))


def custom_asset_url(*, asset_uuid: str, name: str) -> str:
    """``custom-asset://<asset_uuid>.<ext>`` with the official client's extension rule."""
    return f"{CUSTOM_ASSET_SCHEME}{asset_uuid}.{name.split('.')[-1]}"


def parse_custom_asset_url(url: str) -> tuple[str, str]:
    """``custom-asset://<uuid>.<ext>`` → ``(uuid, ext)``. Raises ValueError otherwise."""
    if not url.startswith(CUSTOM_ASSET_SCHEME):
        raise ValueError(f"not a custom-asset URL: {url!r}")
    rest = url[len(CUSTOM_ASSET_SCHEME) :]
    asset_uuid, dot, ext = rest.partition(".")
    try:
        UUID(asset_uuid)
    except ValueError:
        raise ValueError(f"not a custom-asset URL: {url!r}") from None
    if not dot or not ext:
        raise ValueError(f"not a custom-asset URL: {url!r}")
    return asset_uuid, ext


def is_custom_asset_url(url: str) -> bool:
    return url.startswith(CUSTOM_ASSET_SCHEME)
