"""Importers: help-desk exports (files and REST APIs) read through mapping files."""
