"""Blob-store adapters: a local folder for the embedded default, S3 (or MinIO) for production.

Keys are validated once, in :mod:`storage.blobs.keys`, so a key accepted by one backend is
accepted by the other and can never name a path outside the store.
"""
