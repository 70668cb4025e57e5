"""The `tfzoo` command line."""
