"""Custom `scrapy` commands (COMMANDS_MODULE = "crawler.commands")."""
