"""Decoding and scaling, run inside a worker process only (``pool``): never in the server.

The worker opens nothing but the formats of ``IMAGE_FORMATS`` (Pillow's ``formats=`` allowlist)
and PDFs (``%PDF-`` in the first bytes, rendered by PDFium), refuses images whose header names
more than ``max_pixels`` before any pixel is decoded, decodes JPEGs at a reduced scale
(``Image.draft``), applies the EXIF orientation and writes a JPEG (or a PNG when the image has
transparency). Failures are ``RenderError``: ``kind`` says which answer the server gives.
"""

from __future__ import annotations

import resource
import warnings
from pathlib import Path

#: Pillow format names a thumbnail is made of; anything else is "not an image" (415).
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "HEIF")
#: A PDF starts with this (PDFium accepts it within the first KiB, as the PDF spec allows).
PDF_MAGIC = b"%PDF-"
PDF_SNIFF_BYTES = 1024
JPEG_QUALITY = 85
#: Bump when the output changes: it is part of the ETag, so clients refetch.
RENDER_VERSION = 1

UNSUPPORTED = "unsupported"  # 415
TOO_BIG = "too-big"  # 413
BROKEN = "broken"  # 422


class RenderError(Exception):
    """A file that gets no thumbnail; ``kind`` is UNSUPPORTED, TOO_BIG or BROKEN."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(kind, message)
        self.kind = kind
        self.message = message


def init_worker(memory_bytes: int) -> None:
    """Process pool initializer: cap the address space and register the HEIF opener."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    warnings.simplefilter("ignore")
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # pragma: no cover - HEIF is optional
        pass


def render(src: str, dst: str, size: int, max_pixels: int) -> tuple[str, int]:
    """Write the thumbnail of ``src`` (at most ``size`` x ``size``) to ``dst``; return its
    (media type, byte count)."""
    with open(src, "rb") as f:
        head = f.read(PDF_SNIFF_BYTES)
    try:
        if PDF_MAGIC in head:
            return _render_pdf(src, dst, size, max_pixels)
        return _render_image(src, dst, size, max_pixels)
    except MemoryError:
        raise RenderError(TOO_BIG, "The image needs more memory than a thumbnail may use.") from None


def _render_image(src: str, dst: str, size: int, max_pixels: int) -> tuple[str, int]:
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # the header check below names the size; then the limit holds
    try:
        im = Image.open(src, formats=IMAGE_FORMATS)
    except UnidentifiedImageError:
        raise RenderError(UNSUPPORTED, "Not an image atoll makes thumbnails of "
                          f"({', '.join(IMAGE_FORMATS)} or PDF).") from None
    except Image.DecompressionBombError:
        raise RenderError(TOO_BIG, _too_many_pixels(max_pixels)) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise RenderError(BROKEN, f"The image cannot be read: {_short(exc)}") from None
    with im:
        width, height = im.size
        if width <= 0 or height <= 0:
            raise RenderError(BROKEN, "The image has no pixels.")
        if width * height > max_pixels:
            raise RenderError(TOO_BIG, _too_many_pixels(max_pixels, width, height))
        Image.MAX_IMAGE_PIXELS = max_pixels  # frames and layers read later stay within it too
        try:
            if im.format == "JPEG":
                im.draft("RGB", (size, size))  # decode at 1/2, 1/4 or 1/8 scale
            im.load()
            out = ImageOps.exif_transpose(im)
            out.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
            return _save(out, dst)
        except Image.DecompressionBombError:
            raise RenderError(TOO_BIG, _too_many_pixels(max_pixels)) from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise RenderError(BROKEN, f"The image cannot be decoded: {_short(exc)}") from None


def _render_pdf(src: str, dst: str, size: int, max_pixels: int) -> tuple[str, int]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(src)
    except pdfium.PdfiumError as exc:
        raise RenderError(BROKEN, f"The PDF cannot be read: {_short(exc)}") from None
    try:
        if len(pdf) == 0:
            raise RenderError(BROKEN, "The PDF has no pages.")
        page = pdf[0]
        width, height = page.get_size()
        if not (width > 0 and height > 0):
            raise RenderError(BROKEN, "The PDF's first page has no size.")
        scale = size / max(width, height)  # the longer side becomes `size`
        if width * scale * height * scale > max_pixels:
            raise RenderError(TOO_BIG, _too_many_pixels(max_pixels))
        bitmap = page.render(scale=scale)
        return _save(bitmap.to_pil(), dst)
    except pdfium.PdfiumError as exc:
        raise RenderError(BROKEN, f"The PDF cannot be rendered: {_short(exc)}") from None
    finally:
        pdf.close()


def _save(im: object, dst: str) -> tuple[str, int]:
    from PIL import Image

    assert isinstance(im, Image.Image)
    transparent = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    if transparent:
        im.convert("RGBA").save(dst, "PNG", optimize=False)
        media = "image/png"
    else:
        im.convert("RGB").save(dst, "JPEG", quality=JPEG_QUALITY)
        media = "image/jpeg"
    return media, Path(dst).stat().st_size


def _too_many_pixels(limit: int, width: int = 0, height: int = 0) -> str:
    named = f" ({width} x {height})" if width else ""
    return f"The image is too large for a thumbnail{named}: the limit is {limit} pixels."


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:200]
