"""The backup location block: the folder where disaster-recovery writes store backups."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from prefect.blocks.core import Block
from pydantic import Field, HttpUrl


class BackupLocation(Block):
    """Where backups of postdeploy's store are written and kept: a folder on this host."""

    _block_type_name: ClassVar[str] = "postdeploy Backup Location"
    _documentation_url: ClassVar[HttpUrl | None] = HttpUrl(
        "https://github.com/postdeploy/postdeploy#blocks"
    )
    _code_example: ClassVar[str] = """
        from blocks import BackupLocation

        location = BackupLocation.load("BLOCK_NAME")
        folder = location.path()
        """

    folder: str = Field(
        description="Folder for the backup files, e.g. /srv/backups; created if missing.",
    )

    def path(self) -> Path:
        return Path(self.folder).expanduser()
