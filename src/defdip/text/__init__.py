"""Coding defence diplomacy from text: documents, rules, review files and their evaluation.

:mod:`.documents` reads files, folders or stdin; :mod:`.coder` runs the rule-based coder (``code_documents``);
:mod:`.review` writes the candidates as user records (YAML + BibTeX) or CSV; :mod:`.gold` and :mod:`.evaluate`
hold the gold sets and the scorer (they load without spaCy), :mod:`.scoring` measures the coder with them.
"""
