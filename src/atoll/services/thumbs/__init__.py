"""Thumbnails of image and PDF assets: rendered lazily in isolated worker processes
(``render``, ``pool``), cached in the blob store (``db.thumbnails``), served by ``service``."""
