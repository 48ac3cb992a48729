"""Arabic text and HTML page logic (normalizing, dates, language, titles, boilerplate, metadata, encodings, search forms); imports only the standard library, lxml, trafilatura and each other."""
