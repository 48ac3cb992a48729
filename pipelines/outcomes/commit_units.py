"""Units of commitment a spider decides itself (`arshif import`): what a kill may split, and what it may not.

A crawl commits every ARSHIF_BATCH_SIZE items, in whatever order the extraction
pool hands them back; after a kill the next run takes up the rest, and a copy
that would have displaced an article of the killed run cannot (earlier runs'
articles are never displaced). An import reads a file whose order is fixed, so
it can do better: a spider whose `commits_in_units` is true sends UNIT_END once
every item of a unit (a fixed range of records of the file) is through the
pipelines; StoragePipeline writes the whole unit in one transaction, then the
spider sends UNIT_COMMITTED and DedupPipeline closes the unit as it closes a run
(a later copy no longer displaces the unit's articles; the near-duplicate index
is written and template text learned so far applies). A clean import and a
killed one run again therefore make the same decisions on the same units.
"""

UNIT_END = object()  # signal: every item of the unit is through the pipelines; write them in one transaction
UNIT_COMMITTED = object()  # signal: the unit is in the archive; what follows is decided as a later run would


def commits_in_units(crawler) -> bool:
    """The running spider commits in units of its own (it sends UNIT_END and UNIT_COMMITTED)."""
    return bool(getattr(getattr(crawler, "spider", None), "commits_in_units", False))
