"""Arshif's Scrapy project: spiders, settings, middlewares, commands and the CLI."""
