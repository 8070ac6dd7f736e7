"""Join keys from film titles.

MovieLens writes "Shawshank Redemption, The" and often adds an alternative title in parentheses
("Cinema Paradiso (Nuovo cinema Paradiso)", "Seven (a.k.a. Se7en)"); ggplot2movies writes the same
"Title, The" style but often under the original title only ("Nuovo cinema Paradiso"); vega-datasets
writes "The Shawshank Redemption". A key is the title in lower-case ASCII words with a trailing article
moved to the front, '&' read as 'and' and punctuation dropped, so all three spellings meet.
"""

import re
import unicodedata

ARTICLES = ("the", "a", "an", "l'", "le", "la", "les", "il", "lo", "i", "gli", "el", "los", "las", "der", "die",
            "das", "den", "det", "de", "un", "une", "una")
_TRAILING_ARTICLE = re.compile(rf"^(.*), ({'|'.join(map(re.escape, ARTICLES))})$")
_ALTERNATIVE = re.compile(r"^(.+?)\s*\((?:a\.k\.a\.|aka)?\s*(.+)\)$")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalise_title(title: object) -> str:
    """'Shawshank Redemption, The' and 'The Shawshank Redemption!' -> 'the shawshank redemption'."""
    text = unicodedata.normalize("NFKD", str(title)).encode("ascii", "ignore").decode().lower().strip()
    moved = _TRAILING_ARTICLE.match(text)
    if moved:
        text = f"{moved[2]} {moved[1]}"
    return " ".join(_NOT_WORD.sub(" ", text.replace("&", " and ")).split())


def title_keys(title: object) -> list[str]:
    """The keys a MovieLens title may be found under, best first: the whole title, the title without its
    parenthesised alternative, then the alternative itself."""
    spellings = [str(title)]
    alternative = _ALTERNATIVE.match(str(title).strip())
    if alternative:
        spellings += [alternative[1], alternative[2]]
    keys = [normalise_title(s) for s in spellings]
    return [k for i, k in enumerate(keys) if k and k not in keys[:i]]
