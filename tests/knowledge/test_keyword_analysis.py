"""How text becomes keyword-search terms (pure): stems, compound endings, compound splitting, the
query's words and what they match, and the ranking of candidates like the best hit."""

from __future__ import annotations

import pytest

from allmende.knowledge.analysis import ENDING, endings, field_terms, fold, search_terms, stems, words
from allmende.knowledge.compounds import compound_parts, split, wanted
from allmende.knowledge.feedback import FEEDBACK_TERMS, feedback_terms, similar
from allmende.knowledge.keywords import quorum
from allmende.knowledge.query_words import QueryWord, found_in, query_word, written_words


def test_words_are_folded_and_stemmed_in_german_and_english() -> None:
    assert fold("Förderung Straße") == "forderung strasse"
    assert words("Funk-Temperaturfühler, CO2-Werte") == ["funk", "temperaturfühler", "co2", "werte"]
    assert stems("förderprogrammen") == ("forderprogramm",)  # the English stem adds nothing here
    assert stems("documentation") == ("documentation", "document")
    assert stems("maschinen")[0] == stems("maschine")[0] == "maschin"
    assert stems("companies") == ("compani",) and "compani" in stems("company")
    assert stems("kühlräumen")[0] == "kuhlraum"  # umlauts read by the German stemmer, then dropped
    assert stems("ai") == ("ai",) and stems("co2") == ("co2",)


def test_long_words_give_the_stems_of_their_endings() -> None:
    found = endings("maschinendaten")
    assert ENDING + "dat" in found and ENDING + "maschinendat" not in found
    assert ENDING + "erkenn" in endings("bilderkennung")
    assert endings("karten") == () and endings("co2werte") == ()  # too short, digits
    assert all(len(e) > len(ENDING) for e in found)


def test_field_terms_keep_first_stems_in_order_then_the_rest() -> None:
    terms = field_terms("Daten der Maschinendaten").split()
    assert terms[:3] == ["dat", "der", "maschinendat"]
    assert ENDING + "dat" in terms[3:] and len(terms) == len(set(terms[3:])) + 3
    assert search_terms("Titel", "", "Text") == ("titel", "", "text")


def test_a_compound_splits_into_known_words_by_its_longest_known_last_part() -> None:
    known = {"kuhlraum", "temperatur", "maschin", "dat", "verschluss", "trojan", "kuhl", "raum"}
    assert split("kühlraumtemperaturen", known) == ("kühlraum", "temperaturen")
    assert split("maschinendaten", known) == ("maschinen", "daten")
    # a linking element between the parts ("Verschlüsselung-s-trojaner")
    assert split("verschlüsselungstrojanern", known | {"verschlusselung"}) == (
        "verschlüsselungs",
        "trojanern",
    )
    # three parts: the first part is a compound itself
    assert split("kühlraumtemperaturen", known - {"kuhlraum"}) == ("kühl", "raum", "temperaturen")
    # a last part alone is no split: "Kandi" is no word
    assert split("kandidaten", known) is None
    assert split("daten", known) is None and split("co2werte", known) is None


def test_compound_parts_ask_the_index_at_most_twice() -> None:
    asked: list[set[str]] = []
    index = {"kuhl", "raum", "temperatur", "strom", "kost"}

    def lookup(stems_: set[str]) -> set[str]:
        asked.append(stems_)
        return stems_ & index

    parts = compound_parts(["kühlraumtemperaturen", "stromkosten", "hotel"], lookup)
    assert parts == {
        "kühlraumtemperaturen": ("kühl", "raum", "temperaturen"),
        "stromkosten": ("strom", "kosten"),
    }
    assert len(asked) == 2 and {"temperatur", "kuhl", "kost"} <= asked[0] and "raum" in asked[1]
    assert compound_parts([], lookup) == {} and len(asked) == 2
    assert "kost" in wanted("stromkosten", set())


def test_query_words_drop_function_words_and_match_stems_endings_and_parts() -> None:
    assert written_words("Wir suchen Hilfe bei der IT-Sicherheit") == ["hilfe", "sicherheit"]
    assert written_words("der die das") == ["der", "die", "das"]  # nothing else: all of them
    assert written_words('"digitale Produktpass" Recycling') == ["digitale produktpass", "recycling"]
    daten = query_word("daten")
    assert daten.exact == ("0dat", "dat") and daten.prefixes == ()  # short stems only as they are
    compound = query_word("kühlraumtemperaturen", ("kühlraum", "temperaturen"))
    assert compound.prefixes == ("kuhlraum", "temperatur")  # "kuhlraumtemperatur" starts with one
    assert set(compound.exact) == {"0kuhlraumtemperatur", "0kuhlraum", "0temperatur"}
    phrase = query_word("digitale produktpass")
    assert phrase.phrase == ("digital", "produktpass") and phrase.terms == ()


def test_found_in_an_items_terms() -> None:
    terms = f" {field_terms('Temperaturüberwachung im Kühlraum, Maschinendaten')} "
    assert found_in(query_word("temperatur"), terms)  # start of a compound, as a prefix
    assert found_in(query_word("daten"), terms)  # ending of a compound
    assert found_in(query_word("kühlräume"), terms)
    assert not found_in(query_word("datei"), terms)
    assert found_in(QueryWord("im kuhlraum", phrase=("im", "kuhlraum")), terms)
    assert not found_in(QueryWord("kuhlraum im", phrase=("kuhlraum", "im")), terms)


@pytest.mark.parametrize(("count", "needed"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4)])
def test_a_strong_match_contains_more_than_half_of_the_words(count: int, needed: int) -> None:
    assert quorum([QueryWord(str(i)) for i in range(count)]) == needed


def test_candidates_like_the_best_hit_rank_by_its_rarer_words() -> None:
    best = field_terms("Scientist in residence for SMEs 2025")
    assert feedback_terms(best) == ["scientist", "residenc", "smes", "resid"]  # no "in", "for", 2025
    assert len(feedback_terms(" ".join(f"word{i}x" for i in range(50)))) == FEEDBACK_TERMS
    candidates = {
        1: field_terms("share a scientist with SMEs"),
        2: field_terms("scientist in residence"),
        3: field_terms("for SMEs"),
        4: field_terms("nothing alike"),
        5: field_terms("other SMEs"),
    }
    assert similar(best, candidates) == [2, 1, 3, 5]
    assert similar("", candidates) == [] and similar(best, {}) == []
