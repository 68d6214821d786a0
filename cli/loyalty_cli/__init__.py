"""The operator's command line: ``loyalty --help``."""
