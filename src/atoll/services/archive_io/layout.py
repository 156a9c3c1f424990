"""The layout of an atoll base archive (a POSIX.1-2001/PAX tar), in the order it is written:

``base.json``            the base: name, workspace, source server, structure document, folders
``assets/NNNNNN.jsonl``  a batch of asset records (uuid, folder, name, size, sha256, mtime) ...
``blobs/<uuid>``         ... each followed by the bytes of every asset of the batch, in order
``rows/NNNNNN.jsonl``    rows, a batch per member (row id, table id, seq, times, people, cells)
``links/NNNNNN.jsonl``   linked row pairs, a batch per member
``manifest.json``        every other member's name, size and SHA-256, the blob count and bytes,
                         and a SHA-256 over the list of all members (``digest``)

Every member also carries its SHA-256 in the PAX record ``ATOLL.sha256``, so a reader checks
each member while it streams it; the manifest, read last, proves that none is missing or extra.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

FORMAT = "atoll-base-archive"
FORMAT_VERSION = 1
BASE_DOC = "base.json"
MANIFEST = "manifest.json"
SHA_PAX = "ATOLL.sha256"
#: Rows, links or asset records per ``.jsonl`` member (one member is built in memory).
RECORDS_PER_MEMBER = 1000
#: How a member may be named; anything else (``../x``, ``/etc/x``, other names) is refused.
MEMBER_RE = re.compile(
    r"^(?:base\.json|manifest\.json|(?:assets|rows|links)/[0-9]{6}\.jsonl"
    r"|blobs/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)


def batch_name(kind: str, n: int) -> str:
    return f"{kind}/{n:06d}.jsonl"


def blob_name(asset_uuid: str) -> str:
    return f"blobs/{asset_uuid}"


@dataclass
class MemberLog:
    """What a writer wrote (or a reader read): the manifest is built from it, and compared with."""

    documents: list[dict[str, object]] = field(default_factory=list)
    blobs: int = 0
    blob_bytes: int = 0
    _digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    def add(self, name: str, size: int, sha256: str) -> None:
        self._digest.update(f"{name}\t{size}\t{sha256}\n".encode())
        if name.startswith("blobs/"):
            self.blobs += 1
            self.blob_bytes += size
        else:
            self.documents.append({"name": name, "size": size, "sha256": sha256})

    @property
    def digest(self) -> str:
        return self._digest.hexdigest()

    def manifest(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "members": self.documents,
            "blobs": self.blobs,
            "blob_bytes": self.blob_bytes,
            "digest": self.digest,
        }
