"""Moving one base in and out of atoll as a file (docs/export.md).

``export``: a base -> a streamed tar (``layout`` says what is in it); ``tar_import``: such a tar
-> a new base; ``seatable``: SeaTable's own ``.dtable`` zip -> a new base. ``target`` holds what
both imports share: the new base in one write transaction, blobs written while the archive is
read (checksummed), and the clean-up that leaves nothing behind when an import fails.
"""
