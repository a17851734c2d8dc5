"""Records of a platform: streams of pages in, upserts out."""

from cartwire.resources.opened_instance import Platform, open_instance
from cartwire.resources.reader import Page
from cartwire.resources.writer import Writer, WriteResult

__all__ = ["Page", "Platform", "WriteResult", "Writer", "open_instance"]
