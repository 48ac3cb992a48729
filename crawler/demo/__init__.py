"""The bundled demo news site (`site/`) and the local HTTP server (`server`) that `arshif demo` and the tests crawl; imports only the standard library."""
