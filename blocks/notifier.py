"""The notifier block: where a catalog route delivers messages (webhook, Slack or email)."""

from __future__ import annotations

from typing import ClassVar, Literal

from prefect.blocks.core import Block
from pydantic import Field, HttpUrl, SecretStr, model_validator

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

    kind: Literal["webhook", "slack", "email"] = Field(
        default="webhook",
        description="Message format: generic JSON webhook, Slack webhook, or email over SMTP.",
    )
    url: SecretStr | None = Field(
        default=None,
        description="Webhook or Slack endpoint URL; often carries a token, so it is secret.",
    )
    token: SecretStr | None = Field(
        default=None, description="Optional bearer token sent in the Authorization header."
    )
    username: str | None = Field(
        default=None,
        description="SMTP user name for the email kind; the server, sender and recipients "
        "are in the catalog route.",
    )
    password: SecretStr | None = Field(
        default=None, description="SMTP password for the email kind."
    )

    @model_validator(mode="after")
    def _has_endpoint(self) -> Notifier:
        if self.kind != "email" and self.url is None:
            raise ValueError(f"a {self.kind} notifier needs a url")
        return self

    def target(self) -> Target:
        return Target(
            kind=self.kind,
            url=self.url.get_secret_value() if self.url else None,
            token=self.token.get_secret_value() if self.token else None,
            username=self.username,
            password=self.password.get_secret_value() if self.password else None,
        )
