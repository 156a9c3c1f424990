"""Response headers atoll sends, with their exact values: plain mappings, no web framework.

Endpoints merge them (``{**NO_STORE, "vary": "Accept"}``); none is meant to be changed in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

CACHE_CONTROL = "cache-control"
ALLOW_ORIGIN = "access-control-allow-origin"

#: Answers that carry a ticket or token, health checks and redirects to download links:
#: no proxy or browser may keep them.
NO_STORE: Mapping[str, str] = MappingProxyType({CACHE_CONTROL: "no-store"})
#: Stored user content served from a capability URL: no shared cache, no browser cache.
PRIVATE_NO_STORE: Mapping[str, str] = MappingProxyType({CACHE_CONTROL: "private, no-store"})
#: Pages that change only with a new version: caches must check back.
REVALIDATE: Mapping[str, str] = MappingProxyType({CACHE_CONTROL: "no-cache"})
#: Static files (the favicon): cached for a day.
CACHE_A_DAY: Mapping[str, str] = MappingProxyType({CACHE_CONTROL: "public, max-age=86400"})

#: The file server answers any origin, like Seafile's.
ANY_ORIGIN: Mapping[str, str] = MappingProxyType({ALLOW_ORIGIN: "*"})
#: The answer to a CORS preflight (``OPTIONS``) of the upload URL.
CORS_PREFLIGHT: Mapping[str, str] = MappingProxyType(
    {
        ALLOW_ORIGIN: "*",
        "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        "access-control-allow-headers": "Content-Type, Content-Range, Content-Disposition, Authorization",
        "access-control-max-age": "86400",
    }
)

#: Browsers must not guess a type other than the one sent.
NOSNIFF: Mapping[str, str] = MappingProxyType({"x-content-type-options": "nosniff"})
#: No Referer leaves a page or file atoll serves.
NO_REFERRER: Mapping[str, str] = MappingProxyType({"referrer-policy": "no-referrer"})
