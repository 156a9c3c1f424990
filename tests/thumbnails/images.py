"""Files for the thumbnail tests, made in the test with Pillow (and by hand for hostile ones)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image


def image_bytes(fmt: str, size: tuple[int, int] = (640, 480), *, mode: str = "RGB",
                color: object = (200, 30, 30), **save: object) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, fmt, **save)  # type: ignore[arg-type]
    return buf.getvalue()


def heif_bytes(size: tuple[int, int] = (640, 480)) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return image_bytes("HEIF", size)


def pdf_bytes(size: tuple[int, int] = (600, 800)) -> bytes:
    """A one-page PDF (Pillow's PDF writer): a blue page, 3:4."""
    return image_bytes("PDF", size, color=(20, 40, 220))


def exif_rotated_jpeg(size: tuple[int, int] = (400, 200), orientation: int = 6) -> bytes:
    """A landscape JPEG whose EXIF says "rotate 90 degrees" (orientation 6): shown as portrait."""
    im = Image.new("RGB", size, (0, 200, 0))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    whole = image_bytes("JPEG", (800, 600))
    return whole[: len(whole) // 3]


def truncated_png() -> bytes:
    import random

    rnd = random.Random(7)
    noise = bytes(rnd.getrandbits(8) for _ in range(300 * 200 * 3))
    buf = io.BytesIO()
    Image.frombytes("RGB", (300, 200), noise).save(buf, "PNG")
    whole = buf.getvalue()
    return whole[: len(whole) // 2]


def pdf_zip_polyglot() -> bytes:
    """``%PDF-`` header, then a zip archive (a zip reader finds it from the end): no PDF inside."""
    buf = io.BytesIO()
    buf.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    with zipfile.ZipFile(buf, "a") as z:
        z.writestr("payload.txt", "not a pdf")
    return buf.getvalue()


def gif_zip_polyglot() -> bytes:
    """A GIF header and screen descriptor followed by a zip archive (a GIFAR-like file)."""
    buf = io.BytesIO()
    buf.write(b"GIF89a" + struct.pack("<HHBBB", 64, 64, 0, 0, 0))
    with zipfile.ZipFile(buf, "a") as z:
        z.writestr("a.class", b"\xca\xfe\xba\xbe" * 100)
    return buf.getvalue()


def png_of_zeros(width: int, height: int) -> bytes:
    """A real, valid RGB PNG of black pixels, made chunk by chunk (never whole in memory)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    comp = zlib.compressobj(9)
    row = b"\0" + b"\0" * (width * 3)
    parts = [comp.compress(row) for _ in range(height)]
    parts.append(comp.flush())
    idat = b"".join(parts)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
