"""The request.meta keys through which the crawl tells the archive a page's role and WARC record.

They live here, below both, because the downloader middlewares set them and the
storage pipeline reads them into `pages`.
"""

ROLE = "arshif_role"  # request.meta: article, listing, sitemap, feed, robots
WARC_REF = "arshif_warc"  # request.meta: where the response was archived
PREVIOUS = "arshif_previous"  # request.meta: (url, WARC date, digest) of the last full fetch
