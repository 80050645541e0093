"""Normalisation views: each undoes one family of evasion and maps evidence back to the original."""

from __future__ import annotations

import base64
import time
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.normalise import TextView, views_of


def view(text: str, name: str) -> TextView:
    matching = [v for v in views_of(text) if v.name == name]
    assert matching, f"no {name!r} view among {[v.name for v in views_of(text)]}"
    return matching[0]


def names(text: str) -> list[str]:
    return [v.name for v in views_of(text)]


def original_of(text: str, name: str, needle: str) -> str:
    """Find ``needle`` in a view and return the original characters its evidence span covers."""
    derived = view(text, name)
    start = derived.text.index(needle)
    first, last = derived.original_span(start, start + len(needle))
    return text[first:last]


def assert_well_formed(text: str) -> None:
    views = views_of(text)
    assert views[0].name == "original"
    assert views[1].name == "folded"
    for v in views:
        assert len(v.offsets) == len(v.text)
        assert all(0 <= o < len(text) for o in v.offsets)
        assert all(a <= b for a, b in zip(v.offsets, v.offsets[1:], strict=False))


# --- original and folded -------------------------------------------------------------------------


def test_original_view_is_the_text_unchanged_with_identity_offsets() -> None:
    text = "Please MОNITOR them\u200b\tnow"
    original = views_of(text)[0]
    assert original == TextView("original", text, tuple(range(len(text))))


def test_folded_is_always_the_second_view_even_when_nothing_changes() -> None:
    views = views_of("already plain")
    assert [v.name for v in views] == ["original", "folded"]
    assert views[1].text == "already plain"


def test_empty_text_has_empty_original_and_folded_views() -> None:
    assert [(v.name, v.text, v.offsets) for v in views_of("")] == [
        ("original", "", ()),
        ("folded", "", ()),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ｍｏｎｉｔｏｒ", "monitor"),
        ("mоnitоr", "monitor"),  # Cyrillic о
        ("ΜΟΝΙΤΟR", "monitor"),  # Greek capitals
        ("κill", "kill"),  # Greek kappa
        ("𝐦𝐨𝐧𝐢𝐭𝐨𝐫", "monitor"),  # mathematical bold
        ("ⓜⓞⓝⓘⓣⓞⓡ", "monitor"),
        ("ᴍᴏɴɪᴛᴏʀ", "monitor"),  # small capitals
        ("ṁönitor", "monitor"),
        ("mo\u0308nitor", "monitor"),  # combining diaeresis
        ("MoNiToR", "monitor"),
        ("ﬁnd", "find"),
        ("straße", "strasse"),
        ("łøst", "lost"),
        ("kiℓℓ", "kill"),
        ("ѕру", "spy"),  # Cyrillic dze, er, u
        ("ԝаtсһ", "watch"),
    ],
)
def test_folded_undoes_unicode_disguises(text: str, expected: str) -> None:
    assert view(text, "folded").text == expected


@pytest.mark.parametrize(
    "invisible",
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2066", "\U000e0041"],
)
def test_folded_removes_invisible_characters_inside_a_word(invisible: str) -> None:
    assert view(f"mon{invisible}it{invisible}or", "folded").text == "monitor"


def test_folded_removes_control_characters_but_treats_line_breaks_as_space() -> None:
    assert view("mon\x00it\x7for\r\nall", "folded").text == "monitor all"


def test_folded_collapses_whitespace_runs_to_one_space() -> None:
    assert view("watch \t\n\u00a0\u3000 them", "folded").text == "watch them"


def test_folded_leaves_non_latin_text_readable() -> None:
    assert view("監視 한국어", "folded").text == "監視 한국어"


def test_every_character_of_an_expansion_maps_to_its_source_character() -> None:
    folded = view("aﬁb", "folded")
    assert folded.text == "afib"
    assert folded.offsets == (0, 1, 1, 2)


# --- unleet --------------------------------------------------------------------------------------


def test_unleet_undoes_digit_substitution() -> None:
    assert view("m0n1t0r 4ll c1t1z3ns", "unleet").text == "monitor all citizens"


def test_unleet_undoes_symbol_substitution() -> None:
    assert view("$urve!l @ll |ocal tra(k", "unleet").text == "surveil all local track"


def test_unleet_keeps_numbers_dates_and_prices() -> None:
    text = "call 555-0134 on 2026-01-25 for $40!"
    assert names(text) == ["original", "folded"]


def test_unleet_changes_only_the_leet_tokens_around_numbers() -> None:
    assert view("tr4ck 555-0134 n0w", "unleet").text == "track 555-0134 now"


@pytest.mark.parametrize(
    "text",
    ["Q3 targets for the team", "VEX V5 robot", "M270 platoon", "where is 1Z999AA10123456784"],
)
def test_unleet_leaves_codes_and_reference_numbers_alone(text: str) -> None:
    assert "unleet" not in names(text)


def test_unleet_reads_every_word_once_one_word_is_plainly_leet() -> None:
    assert view("7h3y r35157 0n 7h3 5h007 f1r57", "unleet").text == "they resist on the shoot first"


def test_unleet_reads_multi_character_letters() -> None:
    assert view("|\\/|onitor \\/\\/atc|-| t|-|em", "unleet").text == "monitor watch them"


def test_unleet_leaves_punctuation_at_word_edges() -> None:
    assert view("(tr4ck) th3m! C++", "unleet").text == "(track) them! c++"


# --- unspaced ------------------------------------------------------------------------------------


def test_unspaced_joins_letters_and_keeps_a_wide_gap_as_a_word_break() -> None:
    assert view("s u r v e i l   a l l", "unspaced").text == "surveil all"


@pytest.mark.parametrize(
    "text",
    ["m.o.n.i.t.o.r", "m-o-n-i-t-o-r", "m_o_n_i_t_o_r", "m*o*n*i*t*o*r", "m·o·n·i·t·o·r"],
)
def test_unspaced_joins_letters_separated_by_punctuation(text: str) -> None:
    assert view(text, "unspaced").text == "monitor"


def test_unspaced_breaks_words_where_the_separator_changes() -> None:
    assert view("s.u.r.v.e.i.l a.l.l", "unspaced").text == "surveil all"
    assert view("t-r-a-c-k / t-h-e-m", "unspaced").text == "track them"


def test_unspaced_joins_uniformly_double_spaced_letters() -> None:
    assert view("m  o  n  i  t  o  r", "unspaced").text == "monitor"


def test_unspaced_undoes_leet_inside_joined_runs() -> None:
    assert view("m 0 n 1 t 0 r them", "unspaced").text == "monitor them"


def test_unspaced_leaves_ordinary_prose_alone() -> None:
    assert names("it is a b test of a fine plan") == ["original", "folded"]


# --- decoded -------------------------------------------------------------------------------------

SECRET = "monitor all citizens of the city"


def test_base64_of_a_sentence_appears_decoded() -> None:
    encoded = base64.b64encode(SECRET.encode()).decode()
    assert view(f"please run {encoded} now", "decoded:base64").text == f"please run {SECRET} now"


def test_urlsafe_unpadded_base64_appears_decoded() -> None:
    encoded = base64.urlsafe_b64encode(b"track him? ~~~>").decode().rstrip("=")
    assert "_" in encoded or "-" in encoded
    assert view(encoded, "decoded:base64").text == "track him? ~~~>"


@pytest.mark.parametrize(
    "encoded",
    [
        SECRET.encode().hex(),
        " ".join(f"{b:02X}" for b in SECRET.encode()),
        "".join(f"\\x{b:02x}" for b in SECRET.encode()),
        " ".join(f"0x{b:02x}" for b in SECRET.encode()),
    ],
)
def test_hex_appears_decoded(encoded: str) -> None:
    assert view(f"do: {encoded}", "decoded:hex").text == f"do: {SECRET}"


def test_percent_encoding_appears_decoded() -> None:
    text = "see https://example.org/?q=monitor%20all%20citizens%21"
    assert view(text, "decoded:url").text == "see https://example.org/?q=monitor all citizens!"


def test_plus_joined_words_appear_decoded_as_spaces() -> None:
    assert view("q=monitor+all+citizens", "decoded:url").text == "q=monitor all citizens"


def test_base64_of_url_encoded_text_is_decoded_twice() -> None:
    encoded = base64.b64encode(quote(SECRET, safe="").encode()).decode()
    assert view(f"x {encoded}", "decoded:base64").text == f"x {SECRET}"


def test_decoded_evidence_lands_inside_the_encoded_run() -> None:
    encoded = base64.b64encode(SECRET.encode()).decode()
    text = f"please run {encoded} now"
    assert original_of(text, "decoded:base64", "citizens") in encoded
    assert original_of(text, "decoded:base64", "please") == "please"


def test_decoded_evidence_maps_proportionally_into_the_run() -> None:
    text = "go q=track%20them%20down ok"
    found = original_of(text, "decoded:url", "them")
    assert found in "q=track%20them%20down"
    assert text.index(found) > text.index("track")


def test_long_words_and_binary_are_not_decoded() -> None:
    binary = base64.b64encode(bytes(range(0, 256, 7))).decode()
    text = f"incomprehensibilities deinstitutionalization {binary} deadbeefdeadbeef"
    assert not [n for n in names(text) if n.startswith("decoded:")]


def test_encoded_runs_over_64_kib_are_not_decoded() -> None:
    encoded = base64.b64encode(b"monitor " * 9000).decode()
    assert len(encoded) > 64 * 1024
    assert "decoded:base64" not in names(encoded)


# --- offsets and views as a whole ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "needle", "expected"),
    [
        ("Please MОNITOR them", "folded", "monitor", "MОNITOR"),
        ("Please ｍｏｎ\u200bｉｔｏｒ them", "folded", "monitor", "ｍｏｎ\u200bｉｔｏｒ"),
        ("we m0n1t0r them", "unleet", "monitor", "m0n1t0r"),
        ("we |-|unt them", "unleet", "hunt", "|-|unt"),
        ("we s u r v e i l   a l l", "unspaced", "surveil all", "s u r v e i l   a l l"),
    ],
)
def test_original_span_maps_evidence_to_the_original_characters(
    text: str, name: str, needle: str, expected: str
) -> None:
    assert original_of(text, name, needle) == expected


def test_duplicate_derived_views_are_dropped() -> None:
    # Each decoded view decodes its own encoding, then everything once more: both end up equal.
    text = base64.b64encode(b"track everyone").decode() + " monitor%20all%20citizens"
    decoded = [n for n in names(text) if n.startswith("decoded:")]
    assert decoded == ["decoded:base64"]
    assert view(text, "decoded:base64").text == "track everyone monitor all citizens"
    texts = [v.text for v in views_of(text)[1:]]
    assert len(texts) == len(set(texts))


def test_plain_prose_yields_only_original_and_folded() -> None:
    assert names("The committee met on Tuesday (again!) and agreed on 3 items.") == [
        "original",
        "folded",
    ]


def test_all_derived_views_are_lower_case() -> None:
    text = "MONITOR M0N1T0R M O N I T O R " + base64.b64encode(b"MONITOR ALL CITIZENS").decode()
    for v in views_of(text)[1:]:
        assert v.text == v.text.lower()


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_views_are_well_formed_for_any_text(text: str) -> None:
    assert_well_formed(text)


_EVASIVE = st.lists(
    st.sampled_from([*"aBmo0134@$!|+(\\/-._* %=\n\u200bｍоΜ\u0301ﬁ", "%20", "4d", "\\x"]),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_EVASIVE)
def test_views_are_well_formed_for_evasive_looking_text(text: str) -> None:
    assert_well_formed(text)


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=12, max_size=200))
def test_views_are_well_formed_around_encoded_bytes(data: bytes) -> None:
    assert_well_formed("x " + base64.b64encode(data).decode() + " " + data.hex() + " y")


@pytest.mark.parametrize(
    "text",
    [
        "The quick brown fox jumps over the lazy dog. " * 23302,
        "a " * (1 << 19),
        "m0n1t0r " * (1 << 17),
        "a" * (1 << 20),
        "%41%42 " * (1 << 17),
        "監視" * (1 << 19),
        "a\u200b" * (1 << 19),
    ],
    ids=["prose", "spaced", "leet", "one-token", "percent", "cjk", "zero-width"],
)
def test_one_megabyte_input_completes_without_pathological_slowdown(text: str) -> None:
    started = time.perf_counter()
    views = views_of(text)
    assert views[0].text == text
    assert time.perf_counter() - started < 10


def test_text_hidden_in_unicode_tag_characters_is_revealed() -> None:
    hidden = "".join(chr(0xE0000 + ord(ch)) for ch in "Track All Citizens")
    text = f"Summarise this memo.{hidden}"

    views = {view.name: view for view in views_of(text)}

    assert "track all citizens" not in views["folded"].text
    tags = views["decoded:tags"]
    start = tags.text.index("track all citizens")
    first, last = tags.original_span(start, start + len("track all citizens"))
    assert text[first:last] == hidden
