"""Plot text, titles and catalogue metadata for the synthetic benchmark."""

import numpy as np

VOCAB = {
    "Action": "explosion chase mercenary gunfight rescue commando heist showdown bomb hostage fight weapon squad mission soldier",
    "Animation": "cartoon talking animated toy dragonling colorful magical critters puppy bunny kingdom adventure friendship tiny",
    "Biography": "true life legendary biography career memoir historic pioneer famous rise struggle achievement reformer champion",
    "Comedy": "hilarious awkward prank wedding roommate misadventure clumsy laugh goofy slacker party bet mishap quirky",
    "Crime": "detective gangster mob murder heist police drug cartel corrupt robbery prison mafia undercover witness",
    "Drama": "grief family marriage illness struggle redemption loss hope father mother divorce painful quiet tragedy",
    "Family": "kids parents holiday dog together home school summer grandparents siblings lesson heartwarming pet camp",
    "Fantasy": "wizard sword quest prophecy elves kingdom spell enchanted dragon realm sorcerer mythical curse throne",
    "Horror": "haunted demon blood scream possessed creature cursed nightmare killer ghost ritual cabin terror corpse",
    "Mystery": "clue secret disappearance puzzle riddle investigation hidden vanished suspect enigma diary letter strange",
    "Romance": "love kiss wedding heart passion romance sweetheart affair destiny soulmate date longing embrace valentine",
    "Sci-Fi": "spaceship alien robot galaxy planet future android laser cyborg wormhole colony time machine starship",
    "Thriller": "conspiracy stalker escape hunted deadly tension threat pursuit agent assassin paranoid kidnapped danger",
}
VOCAB = {g: words.split() for g, words in VOCAB.items()}
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
# per genre: runtime shift (min), year shift, log-budget shift, rating preference (index into RATINGS),
# score shift, log-votes shift, critics' share shift (log)
META = {
    "Action": (14, 4, 0.9, 2.4, -0.3, 0.5, -0.3), "Animation": (-18, 6, 0.8, 0.5, 0.3, 0.2, 0.0),
    "Biography": (20, -3, -0.3, 2.3, 0.7, -0.3, 0.5), "Comedy": (-8, 2, -0.3, 1.8, -0.3, -0.2, -0.3),
    "Crime": (8, -4, -0.1, 3.0, 0.3, 0.1, 0.2), "Drama": (10, -5, -0.5, 2.4, 0.5, -0.3, 0.4),
    "Family": (-10, 3, 0.3, 0.9, -0.1, -0.3, -0.2), "Fantasy": (12, 5, 1.0, 1.7, 0.0, 0.4, -0.1),
    "Horror": (-14, 7, -1.4, 3.0, -0.9, -0.2, -0.2), "Mystery": (2, -7, -0.3, 2.3, 0.3, -0.1, 0.3),
    "Romance": (0, -4, -0.5, 1.9, -0.1, -0.3, 0.0), "Sci-Fi": (8, 8, 1.0, 2.1, 0.1, 0.6, 0.0),
    "Thriller": (3, 2, -0.1, 2.8, -0.2, 0.0, 0.0),
}
FAN_BASE = {"Animation", "Family", "Sci-Fi", "Fantasy"}  # more social-media likes
LANGUAGES = {"Animation": ("Japanese", "Japan"), "Drama": ("French", "France"), "Action": ("Hindi", "India"),
             "Horror": ("Spanish", "Spain")}


def make_title(genres: list[str], rng: np.random.Generator) -> str:
    pool = [w for g in genres for w in VOCAB[g]] or ["untitled"]
    return "The " + " ".join(str(rng.choice(pool)).title() for _ in range(int(rng.integers(1, 3))))


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
    """Catalogue fields drawn around genre-shifted means (the expressed genres' shifts add up)."""
    shifts = np.array([META[g] for g in genres]).sum(axis=0) if genres else np.zeros(7)
    rating_pref = np.mean([META[g][3] for g in genres]) if genres else 2.0
    language, country = ("English", "USA") if rng.random() < 0.8 else ("English", str(rng.choice(["UK", "Canada"])))
    foreign = [g for g in genres if g in LANGUAGES]
    if foreign and rng.random() < 0.35:
        language, country = LANGUAGES[foreign[0]]
    votes = float(np.exp(rng.normal(10.5 + shifts[5], 0.9)))
    likes = votes * rng.uniform(0.0, 0.2) * (4.0 if FAN_BASE.intersection(genres) else 1.0)
    meta = {
        "year": int(np.clip(round(2003 + shifts[1] + rng.normal(0, 6)), 1950, 2025)),
        "runtime_min": float(np.clip(round(102 + shifts[0] + rng.normal(0, 9)), 60, 220)),
        "budget_usd": float(round(np.exp(rng.normal(17.2 + shifts[2], 0.7)), -3)),
        "content_rating": RATINGS[int(np.clip(round(rating_pref + rng.normal(0, 0.5)), 0, 3))],
        "language": language, "country": country,
        "imdb_score": float(np.clip(round(6.4 + shifts[4] + rng.normal(0, 0.6), 1), 1.0, 9.8)),
        "num_voted_users": int(votes),
        "num_critic_for_reviews": int(votes ** 0.5 * np.exp(shifts[6] + rng.normal(0, 0.3))),
        "num_user_for_reviews": int(votes ** 0.55 * rng.uniform(0.5, 1.5)),
        "movie_facebook_likes": int(likes),
    }
    for key in list(meta):
        if rng.random() < 0.05:
            meta[key] = None
    return meta
