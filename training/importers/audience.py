"""Audience factors: where a film sits among MovieLens' raters, as a few numbers per film.

Who rated a film says much about what kind of film it is (the people who rate horror films rate other
horror films), and any catalogue with viewing data has this signal. The factors are a truncated SVD of the
implicit film x user matrix (1 where the user rated the film): each film's row scaled to unit length, each
user's column damped by the square root of its sum plus one (so the few users who rated thousands of films
do not define every factor), and each film's factors scaled to unit length. How much they add, and the choices
measured (how many factors, how users are damped), is in BENCHMARKS.md, "Results on real films". No label is read, only
who rated what; all films share one fit (a film's factors need its ratings, not its genres).
"""

import numpy as np

AUDIENCE_FACTORS = 32
FIELD = "audience_{}"


def audience_fields(n_factors: int) -> tuple[str, ...]:
    return tuple(FIELD.format(k) for k in range(1, n_factors + 1))


def audience_factors(ratings, n_factors: int = AUDIENCE_FACTORS) -> dict[int, dict[str, float]]:
    """movieId -> {audience_1: ..., audience_K: ...}, K = min(n_factors, users - 1, films - 1); {} when K < 1."""
    import scipy.sparse as sp
    from sklearn.decomposition import TruncatedSVD

    film_ids, film_of = np.unique(ratings["movieId"].to_numpy(), return_inverse=True)
    user_ids, user_of = np.unique(ratings["userId"].to_numpy(), return_inverse=True)
    k = min(n_factors, len(user_ids) - 1, len(film_ids) - 1)
    if k < 1:
        return {}
    rated = sp.csr_matrix((np.ones(len(film_of)), (film_of, user_of)), shape=(len(film_ids), len(user_ids)))
    rated.data[:] = 1.0  # a user who rated a film twice still rated it once
    rated = sp.diags(1 / np.sqrt(np.asarray(rated.sum(axis=1)).ravel())) @ rated
    rated = rated @ sp.diags(1 / np.sqrt(np.asarray(rated.sum(axis=0)).ravel() + 1))
    factors = TruncatedSVD(k, random_state=0).fit_transform(rated)
    factors /= np.linalg.norm(factors, axis=1, keepdims=True) + 1e-12
    names = audience_fields(k)
    return {int(movie_id): {name: round(float(v), 5) for name, v in zip(names, row, strict=True)}
            for movie_id, row in zip(film_ids, factors, strict=True)}
