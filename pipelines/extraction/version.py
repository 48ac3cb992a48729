"""The extraction code's version: bump it in the same commit as any change to what a page yields.

A page whose outcome came from extraction (`extraction_failed`, `not_article`, `too_old`)
is fetched again by the next crawl when this number differs from the one its outcome
was recorded under (`crawls.extraction_version`), so a fix reaches the pages it was for.
tests/test_extraction_version.py pins a hash of the demo site's records to this number.
"""

EXTRACTION_VERSION = 2  # 2: safety net, displayed headlines, bylines and agency, Persian dates (issue 22)
