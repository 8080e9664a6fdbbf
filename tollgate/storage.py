"""The upload folder (MEDIA_ROOT): a file that cannot be written whole is not left behind, and a full disk is told
to the person as what it is.

Django's FileSystemStorage leaves the part it wrote when a write fails (a full disk mid-copy: ENOSPC), a file no row
points to and the next upload has even less room for. A run's stored export is only worth keeping with its row.
"""

from __future__ import annotations

import errno
import logging
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile

logger = logging.getLogger(__name__)

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
DISK_FULL_MESSAGE = ("The upload folder is full, so {name} could not be stored; nothing was saved and no run was "
                     "created. Try again once an administrator has freed space on the upload folder (MEDIA_ROOT).")


class UploadStorage(FileSystemStorage):
    """FileSystemStorage that removes the partial file of a failed write."""

    def _save(self, name: str, content: Any) -> str:
        full_path = self.path(name)
        ours = not os.path.lexists(full_path)  # the first attempt creates it (O_EXCL); never delete another's file
        try:
            return super()._save(name, content)  # type: ignore[misc]  # django-stubs omit it
        except OSError:
            if ours and os.path.lexists(full_path):
                try:
                    os.remove(full_path)
                except OSError:
                    logger.warning("Could not remove the partial upload %s", full_path, exc_info=True)
            raise


def field_file_save(field_file: FieldFile, name: str, content: Any) -> None:
    """Store `content` for a model's file field (the row is saved by the caller). A full disk is a ValidationError
    on the field, naming the cause, with nothing stored; the operator finds it in the log."""
    try:
        field_file.save(name, content, save=False)
    except OSError as exc:
        if exc.errno not in DISK_FULL_ERRNOS:
            raise
        logger.error("The upload folder is full: %s could not be stored (%s)", name, exc)
        raise ValidationError({field_file.field.name: DISK_FULL_MESSAGE.format(name=name)}) from exc
