"""Records of a platform: streams of pages in, upserts out."""

from cartwire.resources.opened_instance import Opener, Platform
from cartwire.resources.reader import Page
from cartwire.resources.writer import Writer, WriteResult

__all__ = ["Opener", "Page", "Platform", "WriteResult", "Writer"]
