"""Plot text, titles and catalogue metadata for the synthetic benchmark.

Titles are drawn from a neutral word pool, independent of the genres. Plots mix filler
sentences with sentences built from the expressed genres' words; no genre's name is among
them. Metadata fields are drawn around genre-shifted means: each genre has a signature of
shifts over a few fields (`META_SHIFTS`, in standard deviations), the expressed genres'
shifts add up, and every field keeps unit noise. Languages lean only weakly on genres.
"""

import numpy as np

VOCAB = {
    "Action": "explosion chase mercenary gunfight rescue commando heist showdown bomb hostage fight weapon squad mission soldier",
    "Animation": "cartoon talking animated toy dragonling colorful magical critters puppy bunny kingdom adventure friendship tiny",
    "Biography": "true life legendary memoir career chronicle historic pioneer famous rise struggle achievement reformer champion",
    "Comedy": "hilarious awkward prank wedding roommate misadventure clumsy laugh goofy slacker party bet mishap quirky",
    "Crime": "detective gangster mob murder heist police drug cartel corrupt robbery prison mafia undercover witness",
    "Drama": "grief estranged marriage illness struggle redemption loss hope father mother divorce painful quiet tragedy",
    "Family": "kids parents holiday dog together home school summer grandparents siblings lesson heartwarming pet camp",
    "Fantasy": "wizard sword quest prophecy elves kingdom spell enchanted dragon realm sorcerer mythical curse throne",
    "Horror": "haunted demon blood scream possessed creature cursed nightmare killer ghost ritual cabin terror corpse",
    "Mystery": "clue secret disappearance puzzle riddle investigation hidden vanished suspect enigma diary letter strange",
    "Romance": "love kiss wedding heart passion courtship sweetheart affair destiny soulmate date longing embrace valentine",
    "Sci-Fi": "spaceship alien robot galaxy planet future android laser cyborg wormhole colony time machine starship",
    "Thriller": "conspiracy stalker escape hunted deadly tension threat pursuit agent assassin paranoid kidnapped danger",
}
VOCAB = {g: words.split() for g, words in VOCAB.items()}
TITLE_WORDS = ["north", "winter", "river", "glass", "paper", "silver", "station", "harbor", "orchard", "garden", "bridge", "mirror", "window", "summit", "island", "avenue", "lantern", "compass", "meadow", "ember", "tide", "canyon", "signal", "atlas", "harvest", "copper", "velvet", "echo", "horizon", "quarry", "willow", "falcon", "beacon", "cellar", "autumn", "marble"]
NAMES = ["Anna", "Ben", "Carla", "Dev", "Elena", "Frank", "Grace", "Hiro", "Iris", "Jack", "Kofi", "Lena", "Marco", "Nora", "Omar", "Priya", "Sam", "Tess"]
PLACES = ["a small town", "the city", "a coastal village", "the desert", "a mountain valley", "the suburbs", "an old estate", "the capital"]
FILLER = [
    "{name} lives in {place} and works long hours.", "Everything changes one autumn morning.",
    "{name} meets {other}, who has plans of their own.", "Old friends return and nothing is simple.",
    "The story follows {name} over one long year in {place}.", "Choices must be made before it is too late.",
    "{other} keeps a promise that {name} never expected.", "A letter arrives with news from {place}.",
]
TOPICAL = ["The {a} {b} draws {name} in.", "Soon there is {a} and {b} everywhere.", "{name} faces the {a} {b}.",
           "Nobody in {place} talks about the {a}.", "It all turns on a {a} and a {b}."]
RATINGS = ("G", "PG", "PG-13", "R")
# latent metadata fields (standard normal before the genre shifts), mapped to catalogue units in make_metadata
FIELDS = ("runtime", "year", "budget", "score", "votes", "critics", "user_reviews", "likes", "director_likes",
          "actor_likes", "faces", "gross", "maturity")
META_SHIFTS = {
    "Action": {"budget": 2.6, "runtime": 1.8, "votes": 2.1, "actor_likes": 2.3, "maturity": 1.4},
    "Animation": {"runtime": -4.0, "maturity": -4.9, "faces": -3.6, "likes": 2.6, "budget": 1.4},
    "Biography": {"runtime": 3.0, "score": 3.1, "critics": 2.6, "gross": -2.1, "year": -0.9},
    "Comedy": {"runtime": -1.8, "faces": 3.0, "score": -1.4, "budget": -1.1, "user_reviews": -1.8},
    "Crime": {"maturity": 3.0, "year": -2.1, "director_likes": 3.0, "score": 0.9},
    "Drama": {"score": 2.3, "budget": -2.1, "gross": -2.5, "critics": 2.1},
    "Family": {"maturity": -3.6, "likes": 2.1, "faces": 2.1, "user_reviews": -1.5},
    "Fantasy": {"budget": 3.0, "runtime": 2.3, "actor_likes": 2.6, "user_reviews": 2.3},
    "Horror": {"budget": -3.7, "score": -3.3, "gross": 3.1, "runtime": -2.1, "maturity": 1.8},
    "Mystery": {"year": -3.1, "critics": 2.5, "faces": -2.1, "user_reviews": 1.8},
    "Romance": {"faces": 2.5, "actor_likes": 2.1, "director_likes": -2.5, "votes": -1.4},
    "Sci-Fi": {"year": 3.1, "votes": 2.6, "budget": 2.3, "likes": 1.5},
    "Thriller": {"director_likes": 2.1, "votes": 1.4, "maturity": 2.1, "critics": -1.5, "gross": 1.4},
}
# languages beyond English: a genre's affinity tilts the odds mildly (x2), it never decides the language
LANGUAGES = {"French": "France", "Spanish": "Spain", "Japanese": "Japan", "Hindi": "India", "German": "Germany",
             "Korean": "South Korea", "Italian": "Italy"}
AFFINITY = {"Drama": "French", "Animation": "Japanese", "Action": "Hindi", "Horror": "Spanish", "Thriller": "Korean"}
FOREIGN_SHARE = 0.18


def make_title(rng: np.random.Generator) -> str:
    words = rng.choice(TITLE_WORDS, int(rng.integers(1, 3)), replace=False)
    return "The " + " ".join(str(w).title() for w in words)


def make_plot(genres: list[str], rng: np.random.Generator) -> str:
    """60-150 words: shared filler sentences with the expressed genres' words sprinkled in."""
    names = rng.choice(NAMES, 2, replace=False)
    slots = {"name": names[0], "other": names[1], "place": str(rng.choice(PLACES))}
    pool = [w for g in genres for w in VOCAB[g]]
    sentences = []
    while sum(len(s.split()) for s in sentences) < rng.integers(60, 140):
        if pool and rng.random() < 0.55:
            sentence = str(rng.choice(TOPICAL)).format(a=rng.choice(pool), b=rng.choice(pool), **slots)
        else:
            sentence = str(rng.choice(FILLER)).format(**slots)
        sentences.append(sentence[0].upper() + sentence[1:])
    return " ".join(sentences)


def make_metadata(genres: list[str], rng: np.random.Generator) -> dict:
    """Catalogue fields: unit-noise latents shifted by the expressed genres' signatures, in catalogue units."""
    z = dict(zip(FIELDS, rng.standard_normal(len(FIELDS)), strict=True))
    for genre in genres:
        for field, shift in META_SHIFTS[genre].items():
            z[field] += shift
    language, country = _language(genres, rng)
    budget = float(round(np.exp(17.2 + 0.7 * z["budget"]), -3))
    meta = {
        "year": int(np.clip(round(2000 + 7 * z["year"]), 1920, 2025)),
        "runtime_min": float(np.clip(round(105 + 12 * z["runtime"]), 60, 220)),
        "budget_usd": budget,
        "gross_usd": float(round(np.exp(17.5 + 0.8 * z["gross"]), -3)),
        "content_rating": RATINGS[int(np.clip(round(1.8 + 0.9 * z["maturity"]), 0, 3))],
        "language": language, "country": country,
        "imdb_score": float(np.clip(round(6.4 + 0.7 * z["score"], 1), 1.0, 9.8)),
        "num_voted_users": int(np.exp(10.5 + 0.9 * z["votes"])),
        "num_critic_for_reviews": int(np.exp(5.0 + 0.7 * z["critics"])),
        "num_user_for_reviews": int(np.exp(5.5 + 0.7 * z["user_reviews"])),
        "movie_facebook_likes": int(np.exp(8.0 + 1.0 * z["likes"])),
        "director_facebook_likes": int(np.exp(6.0 + 1.0 * z["director_likes"])),
        "actor_1_facebook_likes": int(np.exp(8.0 + 0.9 * z["actor_likes"])),
        "facenumber_in_poster": int(np.clip(round(2.5 + 1.2 * z["faces"]), 0, 15)),
    }
    for key in list(meta):
        if rng.random() < 0.05:
            meta[key] = None
    return meta


def _language(genres: list[str], rng: np.random.Generator) -> tuple[str, str]:
    if rng.random() >= FOREIGN_SHARE:
        return ("English", "USA") if rng.random() < 0.8 else ("English", str(rng.choice(["UK", "Canada"])))
    names = list(LANGUAGES)
    odds = np.array([2.0 if any(AFFINITY.get(g) == name for g in genres) else 1.0 for name in names])
    language = str(rng.choice(names, p=odds / odds.sum()))
    return language, LANGUAGES[language]
