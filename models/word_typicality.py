"""Typicality of a text for the word-based text models (NB-LR, fastText): how much of it the model can read.

A model that reads words knows only its vocabulary. A text is described by two numbers: the share of its
distinct words that the vocabulary knows, and its length (log of 1 + its word count). A real plot sent to a
model trained on the synthetic benchmark's cue-word plots shares few words with them; a title of an unusual
length stands out too. A training text's own words are all in a vocabulary learned from it, so training
texts are described as a new text would be: a word counts as known only if another training text has it.
"""

from collections import Counter

import numpy as np


class WordTypicality:
    """Mixed into a word-based text encoder that defines `known_words()`: the words of its fitted vocabulary."""

    typicality_input = "text"
    typicality_describes = "the share of the text's distinct words that the model's vocabulary knows, and its length"

    def known_words(self) -> frozenset[str]:
        raise NotImplementedError

    def typicality_vector(self, text: str) -> np.ndarray | None:
        words = text.split()
        if not words:
            return None
        known = self._cached_known_words()
        distinct = set(words)
        return _vector(sum(word in known for word in distinct) / len(distinct), len(words))

    def training_typicality_vectors(self, X: list[str]) -> list[np.ndarray | None]:
        distinct = [set(text.split()) for text in X]
        texts_with = Counter(word for words in distinct for word in words)
        known = self._cached_known_words()
        return [_vector(sum(w in known and texts_with[w] > 1 for w in words) / len(words), len(text.split()))
                if words else None for words, text in zip(distinct, X, strict=True)]

    def _cached_known_words(self) -> frozenset[str]:
        """`known_words()`, computed once per fitted vocabulary (it is read for every request)."""
        cached = getattr(self, "_known_words_cache", None)
        fitted = self.vocabulary_owner()
        if cached is None or cached[0] is not fitted:
            cached = self._known_words_cache = (fitted, self.known_words())
        return cached[1]

    def vocabulary_owner(self) -> object:
        """The fitted object the vocabulary belongs to (a refit replaces it, and the cache with it)."""
        raise NotImplementedError


def _vector(known_share: float, n_words: int) -> np.ndarray:
    return np.array([known_share, np.log1p(n_words)])
