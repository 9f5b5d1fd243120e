"""Log template mining (error signatures): generic masks, then grouping by column statistics."""

from postdeploy.domain.logtemplates.masks import VAR, Masker, render
from postdeploy.domain.logtemplates.miner import UNPARSED_ID, Template, TemplateMiner, template_id

__all__ = ["UNPARSED_ID", "VAR", "Masker", "Template", "TemplateMiner", "render", "template_id"]
