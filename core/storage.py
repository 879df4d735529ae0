"""Uploads when the disk is full or read-only: a clear error, and nothing half-written.

`SafeFileSystemStorage` (the default storage, settings.STORAGES) removes the part of a file
it had written when the disk refuses the rest, and raises StorageUnavailableError, an
ApplicationError: the views that save uploads already show those as a form error, and the
services save files inside their transaction, so the database row goes too. Code that
writes files itself (imports.services.upload_store) raises the same error.
"""

from __future__ import annotations

import errno
import logging
import os
from typing import Any

from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError

logger = logging.getLogger(__name__)

# The disk is full, over quota, read-only, or the folder cannot be written.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})

STORAGE_MESSAGE = _(
    "The file could not be stored: the server's storage is full or cannot be written to. "
    "Nothing was saved. Please try again later; the administrators have been told."
)


class StorageUnavailableError(ApplicationError):
    def __init__(self) -> None:
        super().__init__(str(STORAGE_MESSAGE), code="storage_unavailable")


def is_storage_error(exc: BaseException | None) -> bool:
    return isinstance(exc, StorageUnavailableError) or (
        isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS
    )


def storage_refused(exc: OSError, where: str) -> StorageUnavailableError:
    """Log the refusal for the operators (with its cause) and give the user's error."""
    logger.error("storage: could not write %s (%s)", where, exc)
    return StorageUnavailableError()


class SafeFileSystemStorage(FileSystemStorage):
    def _save(self, name: str, content: Any) -> str:
        full_path = self.path(name)
        existed = os.path.lexists(full_path)
        try:
            saved: str = super()._save(name, content)  # type: ignore[misc]
            return saved
        except OSError as exc:
            if exc.errno not in STORAGE_ERRNOS:
                raise
            if not existed:
                try:
                    os.unlink(full_path)  # the part written before the disk refused
                except FileNotFoundError:
                    pass
                except OSError as cleanup:
                    logger.error("storage: could not remove %s (%s)", full_path, cleanup)
            raise storage_refused(exc, full_path) from exc
