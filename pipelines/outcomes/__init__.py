"""The names of what happened to a page or a request: Scrapy stats counters, drop reasons and download faults; imports Scrapy and nothing of Arshif."""
