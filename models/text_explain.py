"""Explanations of the plot text models: the words and bigrams that push each genre, with signed weights.

The linear model (models.text_linear) has exact per-n-gram contributions. fastText and the
MiniLM model get leave-one-out: a word's weight is the genre's log-odds for the plot less the
log-odds with every occurrence of the word removed; a bigram's, with every occurrence of the
pair removed. Weights are log-odds either way: positive pushes the genre up.
"""

from collections.abc import Callable, Sequence

import numpy as np

from models.genres import GenreSet

TOP_TOKENS = 10  # per genre, the n-grams with the largest weights (either sign)
MAX_UNITS = 400  # words and bigrams tried by leave-one-out, in order of first appearance


def ranked(tokens: Sequence[str], weights: np.ndarray, top: int = TOP_TOKENS) -> list[dict]:
    """[{token, weight}] of the `top` largest |weight|, largest first; zero weights left out."""
    order = np.argsort(-np.abs(weights), kind="stable")[:top]
    return [{"token": str(tokens[i]), "weight": float(weights[i])} for i in order if weights[i] != 0]


def leave_one_out(words: list[str], logits: Callable[[list[str]], np.ndarray], genres: list[str],
                  label_set: GenreSet, top: int = TOP_TOKENS) -> dict[str, list[dict]]:
    """`logits(texts)` gives (n, len(label_set)) log-odds; each word and bigram of `words` is weighed by
    removing it."""
    units = _units(words)
    texts = [" ".join(words)] + [" ".join(remove_unit(words, unit)) for unit in units]
    values = logits(texts)
    weights = values[0][None] - values[1:]  # (units, n_genres)
    tokens = [" ".join(unit) for unit in units]
    return {g: ranked(tokens, weights[:, label_set.index(g)], top) for g in genres}


def _units(words: list[str]) -> list[tuple[str, ...]]:
    seen: dict[tuple[str, ...], None] = {}
    for i, word in enumerate(words):
        seen.setdefault((word,))
        if i + 1 < len(words):
            seen.setdefault((word, words[i + 1]))
    return list(seen)[:MAX_UNITS]


def remove_unit(words: list[str], unit: tuple[str, ...]) -> list[str]:
    """`words` with every occurrence of `unit` (one word, or an adjacent pair) removed."""
    n, kept, i = len(unit), [], 0
    while i < len(words):
        if tuple(words[i:i + n]) == unit:
            i += n
        else:
            kept.append(words[i])
            i += 1
    return kept
