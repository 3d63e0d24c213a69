"""Coding defence diplomacy from text: documents, rules, review files and their evaluation."""
