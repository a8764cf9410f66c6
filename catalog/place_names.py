"""Finnish place names by rule: the case forms and demonym stems of a municipality's name.

Generated forms feed the municipality index (catalog/municipalities.py): genitive, the six local cases, illative
and partitive, with consonant gradation and the e-stems of old words (Lahti -> Lahdessa, Seinäjoki -> Seinäjoella,
Haapavesi -> Haapavedellä). Both inner and outer local cases are generated because the choice is lexical (Oulussa
but Tampereella) and accepting both costs nothing. Each form comes with a rank: how sure the rule is.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from core.finnish import strip_diacritics

# Typographic dashes and apostrophes as people's keyboards and PTV's texts produce them, to their ASCII forms.
_DASHES = str.maketrans(
    {"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2019": "'", "\u00b4": "'", "`": "'"}
)


def lower_name(text: str) -> str:
    """A name or typed token in the index's case: NFC, ASCII dashes and apostrophes, case-folded."""
    return unicodedata.normalize("NFC", text).translate(_DASHES).casefold()


_VOWELS = frozenset("aeiouyäö")
# Strong -> weak grade of the consonants before the final vowel.
_WEAK_GRADE = {
    "kk": "k",
    "pp": "p",
    "tt": "t",
    "nk": "ng",
    "mp": "mm",
    "nt": "nn",
    "lt": "ll",
    "rt": "rr",
    "ht": "hd",
    "rk": "r",
    "lk": "l",
    "k": "",
    "t": "d",
    "p": "v",
}
# Weak -> strong, for consonant stems such as Haukipudas -> Haukiputaa-.
_STRONG_GRADE = {
    "d": "t",
    "ng": "nk",
    "nn": "nt",
    "ll": "lt",
    "rr": "rt",
    "mm": "mp",
    "v": "p",
    "hd": "ht",
    "k": "kk",
    "p": "pp",
    "t": "tt",
}
# Final elements that inflect as old e-stems: Seinäjoki -> Seinäjoella.
# (-lampi is not one of them in place names: Rautalammilla, Toholammilla.)
_E_STEM_WORDS = (
    "joki",
    "järvi",
    "lahti",
    "niemi",
    "mäki",
    "koski",
    "saari",
    "salmi",
    "vesi",
    "vuori",
    "kivi",
    "lehti",
    "loppi",
)

RANK_NAME = 0  # the official name itself
RANK_FORM = 1  # a regular inflected form
RANK_GUESS = 2  # a less likely stem (ungraded, i/e-stem alternative)


# Compound heads with only neutral vowels still take front endings: Pateniemessä.
_FRONT_HEADS = ("niemi", "vesi", "kivi", "lehti")


def _harmony(word: str) -> str:
    """'a' for back-vowel words (Oulu), 'ä' for front ones (Kemi, Ylöjärvi)."""
    if word.endswith(_FRONT_HEADS):
        return "ä"
    for ch in reversed(word):
        if ch in "aou":
            return "a"
        if ch in "äöy":
            return "ä"
    return "ä"


def _final_cluster(stem: str) -> str:
    """Consonants between the last two vowels: 'nk' in 'liminka', '' in 'nokia'."""
    if len(stem) < 3 or stem[-1] not in _VOWELS:
        return ""
    start = end = len(stem) - 1
    while start > 0 and stem[start - 1] not in _VOWELS:
        start -= 1
    return stem[start:end] if start > 0 else ""


def _grade(stem: str, table: dict[str, str]) -> str | None:
    """Apply gradation to the consonants before the stem's final vowel."""
    cluster = _final_cluster(stem)
    if not cluster:
        return None
    end = len(stem) - 1
    # Single consonants grade only on their own (Hailuoto -> Hailuodo-), never
    # inside a cluster: Kotka and Alavieska keep their k.
    size = len(cluster) if len(cluster) <= 2 else 2
    tail = cluster[-size:]
    if tail in table:
        return stem[: end - size] + table[tail] + stem[end:]
    return None


def _local_cases(weak: str, a: str) -> list[str]:
    return [weak + "n", weak + "ss" + a, weak + "st" + a, weak + "ll" + a, weak + "lt" + a, weak + "lle"]


def _vowel_stem_forms(strong: str, weak: str, a: str) -> list[str]:
    """Case forms of a stem ending in one short vowel (Oulu, Helsinki, Lahte)."""
    forms = _local_cases(weak, a)
    forms.append(strong + strong[-1] + "n")  # illative
    forms.append(strong + ("t" + a if strong[-2] in _VOWELS and strong[-1] == "o" else a))
    return forms


def _inflect_word(word: str) -> Iterator[tuple[str, int]]:
    """Yield (form, rank) for one lowercase word, the word itself first."""
    yield word, RANK_NAME
    if len(word) < 2:
        return
    a = _harmony(word)
    last = word[-1]

    if word.endswith("nen") and len(word) > 4:  # Oulainen -> Oulaisissa
        base = word[:-3]
        for form in _local_cases(base + "se", a) + [base + "seen", base + "st" + a]:
            yield form, RANK_FORM
        for ending in ("iss" + a, "ist" + a, "ill" + a, "ilt" + a, "ille", "iin", "ten", "i" + a):
            yield base + "s" + ending, RANK_FORM
        return

    if last in _VOWELS and word[-2] == last or word[-2:] in ("ie", "uo", "yö"):
        # Long final vowel: Espoo, Vantaa, Joensuu, Ii, Kitee, Pyhtää.
        for form in _local_cases(word, a):
            yield form, RANK_FORM
        yield word + "seen", RANK_FORM
        yield word + "h" + last + "n", RANK_FORM
        yield word + "t" + a, RANK_FORM
        return

    if last == "e":
        # Kempele -> Kempeleessä, Tampere -> Tampereella; Raahe -> Raahessa.
        long_stem = word + "e"
        for form in _local_cases(long_stem, a) + [long_stem + "seen", word + "tt" + a]:
            yield form, RANK_FORM
        for form in _local_cases(word, a) + [word + "en", word + a]:
            yield form, RANK_FORM
        return

    if last == "i":
        e_rank, i_rank = RANK_GUESS, RANK_FORM
        if word.endswith(_E_STEM_WORDS):
            e_rank, i_rank = RANK_FORM, RANK_GUESS
        if word.endswith("vesi"):
            strong_e, weak_e = word[:-2] + "te", word[:-2] + "de"
        else:
            strong_e = word[:-1] + "e"
            weak_e = _grade(strong_e, _WEAK_GRADE) or strong_e
        for form in _vowel_stem_forms(strong_e, weak_e, a):
            yield form, e_rank
        weak_i = _grade(word, _WEAK_GRADE) or word
        for form in _vowel_stem_forms(word, weak_i, a):
            yield form, i_rank
        if weak_i != word:
            for form in _local_cases(word, a):
                yield form, RANK_GUESS
        return

    if last in _VOWELS:  # Oulu, Liminka, Kotka
        weak = _grade(word, _WEAK_GRADE)
        if weak is not None and weak != word:
            for form in _vowel_stem_forms(word, weak, a):
                yield form, RANK_FORM
            # Names often skip single-consonant gradation (Rukalla, yet Juuassa);
            # clusters grade reliably (Limingassa, not Liminkassa).
            ungraded_rank = RANK_FORM if len(_final_cluster(word)) == 1 else RANK_GUESS
            for form in _local_cases(word, a):
                yield form, ungraded_rank
        else:
            for form in _vowel_stem_forms(word, word, a):
                yield form, RANK_FORM
        return

    # Consonant-final: Muhos -> Muhoksella, Haukipudas -> Haukiputaalla,
    # Finström -> Finströmissä.
    if last == "s" and word[-2] in _VOWELS:
        kse = word[:-1] + "kse"
        for form in _local_cases(kse, a) + [kse + "en", word + "t" + a]:
            yield form, RANK_FORM
        if word[-2] in "uy":  # Varkaus -> Varkaudessa
            for form in _local_cases(word[:-1] + "de", a) + [word[:-1] + "teen"]:
                yield form, RANK_FORM
        if word[-2] in "aä":
            base = word[:-1]
            for stem, rank in ((_grade(base, _STRONG_GRADE), RANK_FORM), (base, RANK_GUESS)):
                if stem is None:
                    continue
                long_stem = stem + stem[-1]
                for form in _local_cases(long_stem, a) + [long_stem + "seen"]:
                    yield form, rank
    i_stem = word + "i"
    for form in _vowel_stem_forms(i_stem, i_stem, a):
        yield form, RANK_FORM if last != "s" else RANK_GUESS


_OTHER_A = {"a": "ä", "ä": "a"}


def inflect(name: str) -> Iterator[tuple[str, int]]:
    """Yield (form, rank) for a possibly multi-word name; only the last word inflects.

    Each ending is also yielded in the other vowel harmony (-ssa/-ssä) as a
    guess: compound harmony is easy to get wrong, for the rules and for people.
    """
    lowered = lower_name(name).strip()
    cut = max(lowered.rfind(" "), lowered.rfind("-"))
    prefix, last = lowered[: cut + 1], lowered[cut + 1 :]
    for form, rank in _inflect_word(last):
        yield prefix + form, rank
        if rank > RANK_NAME and form[-1] in _OTHER_A:
            yield prefix + form[:-1] + _OTHER_A[form[-1]], RANK_GUESS


def demonym_stems(name: str) -> set[str]:
    """Stems that take -lainen: oulu-, liminga-, lahte-, ikaalis-."""
    lowered = lower_name(name).strip()
    stems = {lowered}
    if lowered.endswith("nen"):
        stems.add(lowered[:-3] + "s")
    elif lowered.endswith("i"):
        stems.add(lowered[:-1] + "e")
        if lowered.endswith("vesi"):
            stems.add(lowered[:-2] + "te")
    weak = _grade(lowered, _WEAK_GRADE)
    if weak:
        stems.add(weak)
    return {strip_diacritics(stem) for stem in stems}


def name_and_genitive(name: str) -> set[str]:
    """Folded nominative and genitive of a name ('simo', 'simon')."""
    forms = {form for form, rank in inflect(name) if rank <= RANK_FORM}
    genitives = {f for f in forms if f.endswith("n") and (f[:-1] + "ssa" in forms or f[:-1] + "ssä" in forms)}
    return {strip_diacritics(f) for f in genitives | {lower_name(name)}}
