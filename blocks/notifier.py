"""The notifier block: where a catalog route delivers messages (webhook or Slack)."""

from __future__ import annotations

from typing import ClassVar, Literal

from prefect.blocks.core import Block
from pydantic import Field, HttpUrl, SecretStr

from postdeploy.adapters.notify import Target


class Notifier(Block):
    """A notification endpoint referenced by name from a route in postdeploy.yaml."""

    _block_type_name: ClassVar[str] = "postdeploy Notifier"
    _documentation_url: ClassVar[HttpUrl | None] = HttpUrl(
        "https://github.com/postdeploy/postdeploy#blocks"
    )
    _code_example: ClassVar[str] = """
        from blocks import Notifier

        notifier = Notifier.load("BLOCK_NAME")
        target = notifier.target()
        """

    kind: Literal["webhook", "slack"] = Field(
        default="webhook", description="Message format: generic JSON webhook or Slack webhook."
    )
    url: SecretStr = Field(description="Endpoint URL; often carries a token, so it is secret.")
    token: SecretStr | None = Field(
        default=None, description="Optional bearer token sent in the Authorization header."
    )

    def target(self) -> Target:
        return Target(
            kind=self.kind,
            url=self.url.get_secret_value(),
            token=self.token.get_secret_value() if self.token else None,
        )
