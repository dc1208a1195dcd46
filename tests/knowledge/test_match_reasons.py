"""The "why this matches" reasons of matchmaking (pure)."""

from __future__ import annotations

from allmende.knowledge.eligibility import CompanyProfile
from allmende.knowledge.matchmaking import profile_reasons, text_reasons
from allmende.knowledge.seed import demo_items


def test_text_reasons_name_the_words_of_the_need_as_written() -> None:
    need = "Wir wollen unsere Spritzgussmaschinen vernetzen und Ausfälle vorhersagen"
    assert text_reasons(need, "Maschinen vernetzt, Ausfälle von Heizbändern") == [
        "mentions vernetzen, ausfälle"
    ]
    assert text_reasons(need, "nothing in common") == []
    # a compound of the need's is split by the item's own words, an item's compound found by its ending
    assert text_reasons("Kühlraumtemperaturen dokumentieren", "Temperatur im Kühlraum") == [
        "mentions kühlraumtemperaturen"
    ]
    assert text_reasons("Daten der Maschinen", "Maschinendaten") == ["mentions daten, maschinen"]


def test_profile_reasons_of_a_case_and_of_an_expert() -> None:
    case, expert = demo_items()[0], demo_items()[3]
    profile = CompanyProfile(sector="kunststoffverarbeitung", size_class="medium", region="Saxony")
    assert profile_reasons(case, profile) == [
        "same sector (Kunststoffverarbeitung)",
        "same size class (medium)",
        "same region (Sachsen)",
    ]
    assert profile_reasons(expert, profile) == ["active in Sachsen"]
    assert profile_reasons(expert, CompanyProfile(region="Bayern")) == []
