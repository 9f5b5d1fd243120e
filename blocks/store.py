"""The store connection block: the SQLAlchemy URL of postdeploy's store, kept secret."""

from __future__ import annotations

from typing import ClassVar

from prefect.blocks.core import Block
from pydantic import Field, HttpUrl, SecretStr

from postdeploy.store.engine import mask_url


class StoreConnection(Block):
    """The SQL store postdeploy writes to: a SQLite file or a PostgreSQL database."""

    _block_type_name: ClassVar[str] = "postdeploy Store"
    _documentation_url: ClassVar[HttpUrl | None] = HttpUrl(
        "https://github.com/postdeploy/postdeploy#blocks"
    )
    _code_example: ClassVar[str] = """
        from blocks import StoreConnection

        store = StoreConnection.load("BLOCK_NAME")
        url = store.url.get_secret_value()
        """

    url: SecretStr = Field(
        description="SQLAlchemy URL, e.g. postgresql://user:pass@host:5432/postdeploy.",
    )

    def masked(self) -> str:
        return mask_url(self.url.get_secret_value())
