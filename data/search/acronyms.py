"""What phone users type instead of full Vietnamese words: acronyms, abbreviations, Telex."""

from __future__ import annotations

import re

from core.textnorm import fold, nfc

# Abbreviations common in agency names and task texts, expanded to folded words.
EXPANSIONS: dict[str, tuple[str, ...]] = {
    "ubnd": ("uy", "ban", "nhan", "dan"),
    "hdnd": ("hoi", "dong", "nhan", "dan"),
    "kkt": ("khu", "kinh", "te"),
    "kcn": ("khu", "cong", "nghiep"),
    "cntt": ("cong", "nghe", "thong", "tin"),
    "bql": ("ban", "quan", "ly"),
    "bqlda": ("ban", "quan", "ly", "du", "an"),
    "nhnn": ("ngan", "hang", "nha", "nuoc"),
    "bhxh": ("bao", "hiem", "xa", "hoi"),
    "bhyt": ("bao", "hiem", "y", "te"),
    "ptth": ("phat", "thanh", "truyen", "hinh"),
    "vp": ("van", "phong"),
    "tp": ("thanh", "pho"),
    "tmdt": ("thuong", "mai", "dien", "tu"),
    "khcn": ("khoa", "hoc", "cong", "nghe"),
    "dn": ("doanh", "nghiep"),
    "htx": ("hop", "tac", "xa"),
    "cqs": ("chinh", "quyen", "so"),
    "cds": ("chuyen", "doi", "so"),
}

# Words left out of the "short" acronym: "Sở Kế hoạch và Đầu tư" -> SKHĐT, not SKHVĐT.
FUNCTION_WORDS = frozenset({"va", "cac", "cua", "voi"})
# A trailing place name people drop: "Bảo hiểm xã hội tỉnh Quảng Ngãi" -> BHXH.
LOCATION_WORDS = frozenset({"tinh", "quang", "ngai"})
# Leading words naming the kind of agency: "Sở Tài chính" is typed as "tài chính" too.
KIND_WORDS = frozenset({"so", "ban"})

_NAME_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_PAREN_RE = re.compile(r"\([^)]*\)")
_NON_ALNUM_RE = re.compile(r"[^0-9a-z]+")

_TONE_LETTERS = "sfrxj"
_VOWELS = frozenset("aeiouy")
_FINALS = ("ng", "nh", "ch", "c", "m", "n", "p", "t")


def compact(text: str) -> str:
    """Fold text and keep only letters and digits: "KH&ĐT" -> "khdt", "BQL KKT" -> "bqlkkt"."""
    return _NON_ALNUM_RE.sub("", fold(text))


def _initial(word: str) -> str:
    """Return a word's acronym letters: its initial, or the whole word when already an acronym."""
    if len(word) >= 2 and word.isupper() and word.isalpha():
        return fold(word)
    return fold(word[0]) if not word.isdigit() else word


def name_acronyms(name: str) -> set[str]:
    """Return the acronyms people derive from an agency name (folded, 3+ letters)."""
    out: set[str] = set()
    text = nfc(name)
    for variant in {text, _PAREN_RE.sub(" ", text)}:
        raw = _NAME_WORD_RE.findall(variant)
        if not raw:
            continue
        folded = [fold(w) for w in raw]
        full = list(zip(raw, folded, strict=True))
        short = [(w, f) for w, f in full if f not in FUNCTION_WORDS]
        for seq in (full, short):
            trimmed = list(seq)
            while trimmed and trimmed[-1][1] in LOCATION_WORDS:
                trimmed.pop()
            for cand in (seq, trimmed):
                if not cand:
                    continue
                letters = "".join(_initial(w) for w, _ in cand)
                out.add(letters)
                if cand[0][1] in KIND_WORDS and len(cand) > 1:
                    out.add("".join(_initial(w) for w, _ in cand[1:]))
    return {a for a in out if len(a) >= 3}


def telex_decode(token: str) -> str:
    """Undo Telex keystrokes left in a folded word: "sowr" -> "so", "dduwowngf" -> "duong"."""
    word = token
    if len(word) < 2 or not word.isalpha():
        return token
    # A tone key at the end, or before the final consonant(s): "tees", "toasn".
    if word[-1] in _TONE_LETTERS and any(ch in _VOWELS for ch in word[:-1]):
        word = word[:-1]
    else:
        for final in _FINALS:
            if (
                word.endswith(final)
                and len(word) > len(final) + 1
                and word[-len(final) - 1] in _TONE_LETTERS
                and word[-len(final) - 2] in _VOWELS
            ):
                word = word[: -len(final) - 1] + final
                break
    word = word.replace("dd", "d")
    for double in ("aa", "ee", "oo"):
        word = word.replace(double, double[0])
    for hooked in ("uow", "uw", "ow", "aw"):
        word = word.replace(hooked, hooked[:-1])
    if "w" in word:
        # A bare w is ư ("tw" = "tư"); a trailing one after a consonant is a late hook key.
        if any(ch in _VOWELS for ch in word.replace("w", "")):
            word = word.replace("w", "")
        else:
            word = word.replace("w", "u")
    return word
