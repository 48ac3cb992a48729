"""The `arshif` command: one module per subcommand, each a thin adapter over the Scrapy project and `pipelines`; nothing else imports from here."""
