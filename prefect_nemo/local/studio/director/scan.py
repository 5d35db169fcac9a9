"""Scanning an instruction: quoted titles set aside, numbers made digits, and phrases found and blanked out.

Each phrase a reader recognises is blanked out once used, so "pan to the left" is not read again as a focus
("to the left"); tables and patterns come from every language at once (``LANGUAGES``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

from . import vocab_en, vocab_zh
from .vocab import Vocabulary, language_of

__all__ = ["LANGUAGES", "Scanner", "find"]

LANGUAGES: dict[str, Vocabulary] = {v.code: v for v in (vocab_en.VOCABULARY, vocab_zh.VOCABULARY)}
V = TypeVar("V")
_QUOTES = re.compile(
    '"([^"]+)"|\u201c([^\u201d]+)\u201d|\u2018([^\u2019]+)\u2019|\u300c([^\u300d]+)\u300d|\u300e([^\u300f]+)\u300f'
    "|(?<![A-Za-z0-9])'([^']+)'(?![A-Za-z0-9])"
)
_SPACE = re.compile(r"(?<=[\u3400-\u9fff])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9%])(?=[\u3400-\u9fff])")


def find(table: Sequence[tuple[str, V]], text: str) -> list[tuple[int, V, re.Match[str]]]:
    """Matches of several named patterns in text order; earlier rows win overlapping spans."""
    hits: list[tuple[int, int, V, re.Match[str]]] = []
    for pattern, name in table:
        for m in re.finditer(pattern, text):
            if m.end() > m.start() and not any(m.start() < end and start < m.end() for start, end, _, _ in hits):
                hits.append((m.start(), m.end(), name, m))
    return [(start, name, m) for start, _, name, m in sorted(hits, key=lambda h: h[0])]


class Scanner:
    """One instruction being read; ``notes`` collects (reply key, values) for what it could not honour."""

    def __init__(self, instruction: str) -> None:
        self.notes: list[tuple[str, dict[str, Any]]] = []
        self.quotes = [next(g for g in m.groups() if g) for m in _QUOTES.finditer(instruction)]
        self.original = _QUOTES.sub(" qtext ", instruction)  # a token, so "'X' at the top" places X
        self.lang = language_of(self.original)  # a quoted Chinese title doesn't make the request Chinese
        text = self.original.lower()
        for voc in LANGUAGES.values():
            text = voc.digits(text)
        self.text = _SPACE.sub(" ", text)
        self.understood = bool(self.quotes)

    def note(self, key: str, **values: Any) -> None:
        self.notes.append((key, values))

    def rows(self, name: str) -> tuple[tuple[str, Any], ...]:
        """One table across every language."""
        return tuple(row for voc in LANGUAGES.values() for row in getattr(voc, name))

    def words(self, name: str) -> str:
        """One pattern across every language."""
        return "(?:" + "|".join(f"(?:{getattr(voc, name)})" for voc in LANGUAGES.values()) + ")"

    def take(self, pattern: str) -> list[re.Match[str]]:
        """Find and blank out matches, so one phrase isn't read twice."""
        found = [m for m in re.finditer(pattern, self.text) if m.end() > m.start()]
        for m in found:
            self.text = self.text[: m.start()] + " " * (m.end() - m.start()) + self.text[m.end() :]
        self.understood |= bool(found)
        return found

    def take_rows(self, table: Sequence[tuple[str, V]]) -> list[tuple[int, V, re.Match[str]]]:
        found = find(table, self.text)
        for _, _, m in found:
            self.text = self.text[: m.start()] + " " * (m.end() - m.start()) + self.text[m.end() :]
        self.understood |= bool(found)
        return found
