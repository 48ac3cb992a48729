"""Arshif pipelines: one Scrapy item pipeline per file, plus the plain text logic they call."""
