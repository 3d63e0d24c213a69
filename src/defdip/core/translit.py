"""Latin spellings of non-Latin titles, so that a search for "Rimpac 2012" finds "Римпак-2012".

Russia's own exercise list writes its titles in Cyrillic; users type them in Latin letters, in English or in
a transliteration of their own. :func:`latin` writes a title in Latin letters (a plain, reversible-enough
table of our own, close to the common English usage: Ж zh, Х kh, Ц ts, Щ shch); :func:`search_key` then folds
the spellings that transliterations disagree on (c/k, x/ks, y/i, w/v), so both sides of a search meet.
"""

from __future__ import annotations

import re
import unicodedata

CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
    # Ukrainian, Belarusian, Serbian and Macedonian letters
    "і": "i", "ї": "i", "є": "e", "ґ": "g", "ў": "u", "ј": "j", "љ": "lj", "њ": "nj", "ћ": "c", "ђ": "dj",
    "џ": "dz", "ѓ": "g", "ќ": "k", "ѕ": "dz",
}
"""Lowercase Cyrillic letters and their Latin spelling (uppercase letters are lowered first)."""

_TABLE = str.maketrans(CYRILLIC)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# spellings that English titles and transliterations disagree on, folded to one (longest first)
_FOLDS = (("shch", "sh"), ("ck", "k"), ("ph", "f"), ("c", "k"), ("q", "k"), ("x", "ks"), ("w", "v"), ("y", "i"),
          ("j", "i"))


def latin(text: str) -> str:
    """``text`` with Cyrillic letters written in Latin ones, an uppercase letter's spelling capitalised
    ("Римпак-2012" -> "Rimpak-2012"); other characters are kept as they are."""
    out = []
    for ch in text:
        low = ch.lower()
        spelled = CYRILLIC.get(low)
        if spelled is None:
            out.append(ch)
        else:
            out.append(spelled.capitalize() if ch != low else spelled)
    return "".join(out)


def search_key(text: str) -> str:
    """The matching form of a title or a query: Latin letters, no accents, lowercase words of letters and
    digits separated by one space, with spelling variants folded ("RIMPAC-2012" and "Римпак 2012" both give
    "rimpak 2012")."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_TABLE))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = []
    for word in _NON_ALNUM.split(text):
        for old, new in _FOLDS:
            word = word.replace(old, new)
        if word:
            words.append(word)
    return " ".join(words)
