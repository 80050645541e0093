"""Normalise: views of a text that undo evasion, each with offsets back to the original.

Pattern rules are written once, in lower-case plain Latin. Attackers answer with homoglyphs,
invisible characters, leetspeak, letter-spacing and embedded encodings. Rather than multiplying
patterns, the gateway matches them against several derived *views* of each text. Every view
records, per character, the index in the original it came from, so evidence found in any view is
reported against the text the sender actually wrote.

Everything here runs on every request segment, so each stage is linear-time (no pattern can
backtrack over more than one token), precompiled at import, and skipped outright when a cheap
scan shows it cannot change anything.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes


@dataclass(frozen=True)
class TextView:
    """A transformed copy of a segment's text.

    ``offsets[i]`` is the index in the original text of the character ``text[i]`` came from, so
    evidence found in any view can be shown in the original.
    """

    name: str
    text: str
    offsets: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map ``[start, end)`` in this view to the smallest original range covering it."""
        if not self.offsets or start >= end:
            return (0, 0)
        first = self.offsets[min(start, len(self.offsets) - 1)]
        last = self.offsets[min(end, len(self.offsets)) - 1]
        return (first, last + 1)


# An edit replaces text[start:end] with new text whose characters carry the given original offsets.
_Edit = tuple[int, int, str, Sequence[int]]


def _apply(text: str, offsets: Sequence[int], edits: Sequence[_Edit]) -> tuple[str, list[int]]:
    """Apply sorted, non-overlapping edits with slice copies, so cost tracks edits, not length."""
    parts: list[str] = []
    new_offsets: list[int] = []
    pos = 0
    for start, end, replacement, replacement_offsets in edits:
        parts.append(text[pos:start])
        parts.append(replacement)
        new_offsets.extend(offsets[pos:start])
        new_offsets.extend(replacement_offsets)
        pos = end
    parts.append(text[pos:])
    new_offsets.extend(offsets[pos:])
    return "".join(parts), new_offsets


# --- folding -------------------------------------------------------------------------------------

# Each group is a Latin letter, then characters that render like it: other scripts' letters and
# Latin letters with strokes, which NFKD does not decompose. Both cases are listed because the
# table is applied before casefolding too: Greek capital eta looks like "H", its small form "n".
_CONFUSABLES = (
    "aаАαΑɑᴀᎪꓮ bвВьЬβΒʙᏴƀ cсСϲϹᴄᏟ dԁԀᴅᎠđĐ eеЕεΕɛᴇᎬ℮ҽ gɡɢᏀցԍԌ hнНһҺΗʜᎻհħĦ iіІιΙıɩɪᎥ jјЈϳȷᴊᎫ"
    " kкКκΚᴋᏦ lӏӀʟᏞłŁ mмМΜᴍᎷ nηΝɴո oоОοΟᴏօՕøØɵ pрРρΡᴘᏢ qԛԚզ rʀᏒᎡ sѕЅꜱᏚՏ tтТτΤᴛᎢŧ uυսՍᴜμ"
    " vνѵѴᴠᏙ wԝԜωѡᴡᏔᎳա xхХχΧ yуУүҮΥγʏᎩ zΖᴢᏃƶ"
)
_HOMOGLYPHS: dict[int, str] = {
    ord(c): group[0] for group in _CONFUSABLES.split() for c in group[1:]
}
# Regional indicators and negative circled/squared letters have no compatibility decomposition.
for _first in (0x1F1E6, 0x1F150, 0x1F170):
    _HOMOGLYPHS.update({_first + i: chr(ord("a") + i) for i in range(26)})

# Invisible fillers that are letters or symbols by category, so the Cf rule would miss them.
_INVISIBLE = frozenset({0x115F, 0x1160, 0x2800, 0x3164, 0xFFA0})
_DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf", "Cc", "Cs"})
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# Everything except printable ASCII and \t \n \r needs the per-character treatment.
_NEEDS_FOLD = re.compile(r"[^\t\n\r\x20-\x7e]")
# A whitespace run to collapse: two or more characters, or a lone tab or newline. Written to begin
# with a character class so the engine can skip ahead instead of trying every position.
_WHITESPACE = re.compile(r"[\t\n\r ](?:(?<! )|(?=[\t\n\r ]))[\t\n\r ]*")
_FOLD_CACHE: dict[str, str] = {}
_FOLD_CACHE_LIMIT = 1 << 16


def _fold_char(ch: str) -> str:
    """Fold one character; order matters (homoglyphs before casefold, marks after NFKD)."""
    if ch.isspace():
        folded = " "
    elif ord(ch) in _INVISIBLE or 0xE0000 <= ord(ch) <= 0xE007F:
        folded = ""
    else:
        text = unicodedata.normalize("NFKC", ch).translate(_HOMOGLYPHS).casefold()
        text = "".join(
            c
            for c in unicodedata.normalize("NFKD", text)
            if unicodedata.category(c) not in _DROPPED_CATEGORIES
        )
        # NFC puts Hangul syllables back together after NFKD split them into jamo.
        text = unicodedata.normalize("NFC", text).translate(_HOMOGLYPHS)
        # lower() because casefolding maps Cherokee to its capitals.
        folded = "".join(" " if c.isspace() else c for c in text).lower()
    if len(_FOLD_CACHE) >= _FOLD_CACHE_LIMIT:
        _FOLD_CACHE.clear()
    _FOLD_CACHE[ch] = folded
    return folded


def _fold(text: str) -> tuple[str, Sequence[int]]:
    """Fold ``text``; offsets index into ``text`` and stay a ``range`` when nothing moved."""
    lowered = text.translate(_ASCII_LOWER)
    offsets: Sequence[int] = range(len(text))
    plain = text.isascii() and text.isprintable()
    if plain and "  " not in text:
        return lowered, offsets
    edits: list[_Edit] = []
    for match in () if plain else _NEEDS_FOLD.finditer(lowered):
        index, ch = match.start(), match.group()
        folded = _FOLD_CACHE.get(ch)
        if folded is None:
            folded = _fold_char(ch)
        if folded != ch:
            edits.append((index, index + 1, folded, (index,) * len(folded)))
    if edits:
        lowered, offsets = _apply(lowered, offsets, edits)
    edits = [
        (m.start(), m.end(), " ", (offsets[m.start()],)) for m in _WHITESPACE.finditer(lowered)
    ]
    if edits:
        lowered, offsets = _apply(lowered, offsets, edits)
    return lowered, offsets


# --- leetspeak -----------------------------------------------------------------------------------

_LEET = str.maketrans("0134579@$!|+8", "oieastgasiltb")
_LEET_MULTI = re.compile(r"\|\\/\||\\/\\/|\|-\|")
_LEET_MULTI_LETTER = {"|\\/|": "m", "\\/\\/": "w", "|-|": "h"}
_LEET_CHAR = re.compile(r"[0-9@$!|+(]")
# Tokens for leet purposes: word characters plus the symbols that stand in for letters.
_WORDLIKE_SYMBOLS = "_@$!|+("
_WORDLIKE_RUN = re.compile(r"[\w@$!|+(]*+")
_ASCII_LETTER = re.compile(r"[a-z]")
# A text is read as leet only when one of its words plainly is: two letters or more, a stand-in
# character, and no digit that stands for no letter ("2", "6"). Then every word with a letter is
# undone, short ones ("7h3", "0f") included. Without such a word the text has codes, not leet:
# "Q3", "V5", "M270", "1Z999AA1012" de-leet into nonsense words a classifier may read anything into.
_NOT_LEET_DIGIT = re.compile(r"[26]")
# "(" reads as "c" only beside a letter; elsewhere in a token it is more likely a bracket.
_LEET_PAREN = re.compile(r"(?<=[a-z])\(|\((?=[a-z])")


def _plainly_leet(token: str) -> bool:
    return len(_ASCII_LETTER.findall(token)) >= 2 and _NOT_LEET_DIGIT.search(token) is None


def _unleet_token(token: str) -> str:
    """Undo leet in one token, leaving edge punctuation that is far likelier to be real."""
    body = token.lstrip("(")
    lead = len(token) - len(body)
    # A trailing "!" is an exclamation and a trailing "+" is "C++", not "i" or "t".
    body = body.rstrip("(!+")
    new = body.translate(_LEET)
    if "(" in new:
        new = _LEET_PAREN.sub("c", new)
    return token[:lead] + new + token[lead + len(body) :]


def _unleet(text: str, offsets: Sequence[int]) -> tuple[str, Sequence[int]] | None:
    """Return the de-leeted text, or None when there was nothing to undo."""
    changed = False
    if "|" in text or "\\" in text:
        edits: list[_Edit] = [
            (m.start(), m.end(), _LEET_MULTI_LETTER[m.group()], (offsets[m.start()],))
            for m in _LEET_MULTI.finditer(text)
        ]
        if edits:
            text, offsets = _apply(text, offsets, edits)
            changed = True
    # Scan from leet character to leet character rather than token by token: most prose has
    # none, and those that occur are mostly in numbers, which are skipped without work.
    pieces: list[str] = []
    copied = pos = 0
    plainly_leet = False
    while (hit := _LEET_CHAR.search(text, pos)) is not None:
        start = hit.start()
        while start > pos and (text[start - 1].isalnum() or text[start - 1] in _WORDLIKE_SYMBOLS):
            start -= 1
        run = _WORDLIKE_RUN.match(text, hit.start())
        end = run.end() if run is not None else hit.end()
        token = text[start:end]
        if _ASCII_LETTER.search(token) is not None:
            new = _unleet_token(token)
            if new != token:
                plainly_leet = plainly_leet or _plainly_leet(token)
                pieces += (text[copied:start], new)
                copied = end
        pos = end
    if pieces and plainly_leet:
        # Leet maps one character to one, so offsets carry over unchanged.
        text = "".join(pieces) + text[copied:]
        changed = True
    return (text, offsets) if changed else None


# --- letter-spacing ------------------------------------------------------------------------------

_UNIT = r"(?:[^\W_]|[@$])"
# Three or more single characters with one repeated separator. Possessive repetition means a
# failed attempt never retries shorter runs, and the lookbehind admits only run starts.
_SPACED = re.compile(rf"(?<![\w@$]){_UNIT}([ ._*·/-]){_UNIT}(?:\1{_UNIT})++")
# Every run ends in separator, unit, separator, unit, then no unit. As a necessary condition that
# starts with one character class, it rules out most prose at a fraction of a full scan.
_SPACED_HINT = re.compile(rf"[ ._*·/-][\w@$][ ._*·/-][\w@$](?!{_UNIT})")
_WORD_CHAR = re.compile(r"[\w@$]")
_SEPARATORS = frozenset(" ._*·/-")


def _gap_width(original: str, left: int, right: int) -> int:
    """Whitespace between two original positions: wider gaps are word breaks in spaced text."""
    if right - left == 2:
        return 1
    return sum(1 for c in original[left + 1 : right] if c.isspace())


def _unspaced(original: str, text: str, offsets: Sequence[int]) -> tuple[str, list[int]] | None:
    """Join letter-spaced runs, keeping one space where the sender left a wider gap."""
    if _SPACED_HINT.search(text) is None:
        return None
    edits: list[_Edit] = []
    previous_end = -1
    for match in _SPACED.finditer(text):
        start, end = match.span()
        if _WORD_CHAR.match(text, end):
            end -= 2  # the last unit starts an ordinary word
        units = text[start:end:2]
        if len(units) < 3 or not any(c.isalpha() for c in units):
            previous_end = -1
            continue
        gap = text[previous_end:start] if previous_end >= 0 else ""
        if gap and gap != " " and set(gap) <= _SEPARATORS:
            edits.append((previous_end, start, " ", (offsets[previous_end],)))
        positions = range(start, end, 2)
        widths = [1] * len(units)
        if match.group(1) == " ":
            # The narrowest gap is the spacing itself, so doubled spacing throughout still joins.
            widths = [1] + [_gap_width(original, offsets[p - 2], offsets[p]) for p in positions[1:]]
            base = min(widths[1:])
            widths = [1] + [1 if w <= base else 2 for w in widths[1:]]
        chars: list[str] = []
        run_offsets: list[int] = []
        for unit, position, width in zip(units, positions, widths, strict=True):
            if width > 1:
                chars.append(" ")
                run_offsets.append(offsets[position - 1])
            chars.append(unit)
            run_offsets.append(offsets[position])
        edits.append((start, end, "".join(chars).translate(_LEET), run_offsets))
        previous_end = end
    return _apply(text, offsets, edits) if edits else None


# --- embedded encodings --------------------------------------------------------------------------

_MAX_RUN = 64 * 1024
_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}+={0,2}+")
_HEX_RUN = re.compile(r"(?<![0-9A-Za-z])(?>(?:\\x|0x)?[0-9A-Fa-f]{2}[ :,]?){8,}+")
# A hex run spread over several short tokens has a hex pair, a space, then another pair. Leading
# with the literal space lets the engine jump between spaces.
_HEX_SPACED_HINT = re.compile(r" (?<=[0-9A-Fa-f]{2} )(?:\\x|0x)?[0-9A-Fa-f]{2}")
_HEX_NOISE = re.compile(r"\\x|0x|[ :,]")
_URL_TOKEN = re.compile(r"""(?<![^\s"'<>])(?=[^\s"'<>]*?(?:%[0-9A-Fa-f]{2}|\+))[^\s"'<>]++""")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# A whole token or query value of three or more words joined by "+" (a form field's spaces).
# Digits are excluded and the value must be delimited so that base64, which uses "+" too, is not
# taken for form encoding.
_PLUS_WORDS = re.compile(r"(?:^|(?<=[=&?]))[^\W\d_]++(?:\+[^\W\d_]++){2,}+(?=&|$)")
_PLUS_JOIN = re.compile(r"[^\W_]\+[^\W_]")
_HEX_DIGITS = frozenset(string.hexdigits)
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# A finder yields (start, end, bytes) for each run in the text that it can decode.
_Finder = Callable[[str], Iterator[tuple[int, int, bytes]]]


def _readable(raw: bytes) -> str | None:
    """Decoded text worth a view: UTF-8, and not binary noise (common words are valid base64)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.isascii():
        bad = len(_ASCII_CONTROL.findall(text))
    else:
        bad = sum(1 for c in text if not c.isprintable() and c not in "\t\n\r")
    return text if text and bad * 100 <= len(text) * 15 else None


def _find_base64(text: str) -> Iterator[tuple[int, int, bytes]]:
    for match in _B64_RUN.finditer(text):
        run = match.group()
        body = run.rstrip("=")
        urlsafe = "-" in body or "_" in body
        if len(run) > _MAX_RUN or len(body) % 4 == 1 or (len(run) != len(body) and len(run) % 4):
            continue
        if urlsafe and ("+" in body or "/" in body):
            continue
        padded = body + "=" * (-len(body) % 4)
        try:
            raw = base64.b64decode(padded, b"-_" if urlsafe else None, validate=True)
        except binascii.Error:
            continue
        yield match.start(), match.end(), raw


def _find_hex(text: str) -> Iterator[tuple[int, int, bytes]]:
    for match in _HEX_RUN.finditer(text):
        run = match.group().rstrip(" :,")
        end = match.start() + len(run)
        digits = _HEX_NOISE.sub("", run)
        # A trailing hex digit means an odd-length run: an identifier, not encoded bytes.
        if len(run) > _MAX_RUN or len(digits) % 2 or text[end : end + 1] in _HEX_DIGITS:
            continue
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            continue
        yield match.start(), end, raw


def _find_url(text: str) -> Iterator[tuple[int, int, bytes]]:
    if len(_PERCENT_ESCAPE.findall(text)) < 2 and not ("+" in text and _PLUS_JOIN.search(text)):
        return
    for match in _URL_TOKEN.finditer(text):
        token = match.group()
        if len(token) > _MAX_RUN:
            continue
        if len(_PERCENT_ESCAPE.findall(token)) >= 2 or _PLUS_WORDS.search(token) is not None:
            # What unquote_plus does, stopping at bytes so the UTF-8 check is shared.
            yield match.start(), match.end(), unquote_to_bytes(token.replace("+", " "))


_FINDERS: tuple[tuple[str, _Finder], ...] = (
    ("base64", _find_base64),
    ("hex", _find_hex),
    ("url", _find_url),
)
_ALL_FINDERS = tuple(finder for _, finder in _FINDERS)


def _decode_pass(
    text: str, offsets: Sequence[int], finders: Sequence[_Finder]
) -> tuple[str, list[int]] | None:
    """Replace decodable runs; decoded characters map proportionally into their encoded run."""
    # sorted() is stable, so where runs start together the earlier finder wins.
    runs = sorted((run for finder in finders for run in finder(text)), key=lambda run: run[0])
    edits: list[_Edit] = []
    covered = 0
    for start, end, raw in runs:
        decoded = _readable(raw) if start >= covered else None
        if decoded is None:
            continue
        length, size = end - start, len(decoded)
        edits.append(
            (start, end, decoded, [offsets[start + i * length // size] for i in range(size)])
        )
        covered = end
    return _apply(text, offsets, edits) if edits else None


def _decoded_views(text: str) -> Iterator[tuple[str, str, Sequence[int]]]:
    """One view per encoding found in the original, each decoded once more for nesting."""
    # Cheap necessary conditions keep plain prose away from the decoders: base64 and unseparated
    # hex need a 16-character token, separated hex a hex pair between spaces, URL text "%" or "+".
    long_token = max(map(len, text.split()), default=0) >= 16
    worth_trying = (
        long_token,
        long_token or _HEX_SPACED_HINT.search(text) is not None,
        "%" in text or "+" in text,
    )
    for (kind, finder), worth in zip(_FINDERS, worth_trying, strict=True):
        if not worth:
            continue
        first = _decode_pass(text, range(len(text)), (finder,))
        if first is None:
            continue
        decoded, offsets = first
        second = _decode_pass(decoded, offsets, _ALL_FINDERS)
        if second is not None:
            decoded, offsets = second
        folded, folded_offsets = _fold(decoded)
        yield f"decoded:{kind}", folded, [offsets[i] for i in folded_offsets]


# --- views ---------------------------------------------------------------------------------------


_TAG_CHARS = re.compile("[\U000e0020-\U000e007e]")


def _tag_view(text: str) -> tuple[str, list[int]] | None:
    """Text hidden in Unicode tag characters (U+E0020-E007E), read as the ASCII it mirrors.

    Folding drops tag characters as invisible; this view reads them instead, because "ASCII
    smuggling" hides whole instructions in them.
    """
    if _TAG_CHARS.search(text) is None:
        return None
    revealed = _TAG_CHARS.sub(lambda match: chr(ord(match.group()) - 0xE0000), text)
    folded_text, folded_offsets = _fold(revealed)
    return folded_text, list(folded_offsets)


def views_of(text: str) -> tuple[TextView, ...]:
    """The original text followed by its derived, lower-case views, without duplicate texts.

    ``folded`` is always ``views[1]``; the other derived views appear only when they differ from
    every earlier derived view, so rules never run twice over the same text.
    """
    identity = tuple(range(len(text)))
    folded_text, folded_offsets = _fold(text)
    folded_tuple = identity if isinstance(folded_offsets, range) else tuple(folded_offsets)
    views = [TextView("original", text, identity), TextView("folded", folded_text, folded_tuple)]
    derived: list[tuple[str, tuple[str, Sequence[int]] | None]] = [
        ("unleet", _unleet(folded_text, folded_tuple)),
        ("unspaced", _unspaced(text, folded_text, folded_tuple)),
    ]
    derived += [(name, (view_text, offsets)) for name, view_text, offsets in _decoded_views(text)]
    derived.append(("decoded:tags", _tag_view(text)))
    seen = {folded_text}
    for name, result in derived:
        if result is None:
            continue
        view_text, view_offsets = result
        if view_text not in seen:
            seen.add(view_text)
            views.append(TextView(name, view_text, tuple(view_offsets)))
    return tuple(views)
