"""Writes the sample corpora shipped with tfzoo (deterministic, seed 0).

- pretraining_corpus.txt: short documents, one sentence per line, a blank line
  between documents (BERT's corpus format). Each document follows one town
  through a few related facts, so the next sentence is predictable from the
  previous ones and masked words from their context.
"""

import os
import random

TOWNS = ["Alder", "Brookfield", "Cedar Hill", "Dunmore", "Eastwick", "Fairhaven", "Glenrock",
         "Harlow", "Ivybridge", "Juniper", "Kingsford", "Larkspur", "Millbrook", "Northgate",
         "Oakridge", "Pinecrest", "Queensbury", "Riverton", "Stonebridge", "Thornbury",
         "Upton", "Valemount", "Westfield", "Yarrow"]
PRODUCTS = ["apples", "cheese", "timber", "wool", "pottery", "honey", "glass", "bread",
            "boats", "clocks", "paper", "rope"]
WEATHER = [("rainy", "umbrellas"), ("windy", "kites"), ("snowy", "sleds"), ("sunny", "hats"),
           ("foggy", "lanterns")]
FEATURES = ["an old stone bridge", "a busy harbour", "a tall clock tower", "a quiet library",
            "a large market square", "a small museum", "a long sandy beach",
            "a famous botanical garden"]
SEASONS = ["spring", "summer", "autumn", "winter"]
EVENTS = ["a music festival", "a harvest fair", "a boat race", "a book market",
          "a lantern parade", "a cheese tasting"]


def town_document(rng):
    town = rng.choice(TOWNS)
    product = rng.choice(PRODUCTS)
    weather, gear = rng.choice(WEATHER)
    feature = rng.choice(FEATURES)
    season = rng.choice(SEASONS)
    event = rng.choice(EVENTS)
    people = rng.randrange(2, 90) * 1000
    sentences = [
        f"{town} is a town of about {people} people.",
        f"The town is known for its {product}, sold in many nearby villages.",
        f"Visitors often come to see {feature} near the centre of {town}.",
        f"The weather in {town} is usually {weather}, so most people carry {gear}.",
        f"Every {season} the town holds {event} that lasts for three days.",
        f"During {event}, the streets are full of music and the shops stay open late.",
        f"Many families in {town} have made {product} for several generations.",
        f"Children learn the craft from their parents and later teach their own children.",
        f"The railway station connects {town} with the larger cities in the north.",
        f"Most visitors leave {town} with a bag of {product} and a story about {feature}.",
    ]
    start = rng.randrange(0, 3)
    return sentences[start: start + rng.randrange(5, 8)]


def write_pretraining_corpus(path, documents=400, seed=0):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(documents):
            f.write("\n".join(town_document(rng)) + "\n\n")


def main():
    here = os.path.dirname(__file__)
    write_pretraining_corpus(os.path.join(here, "pretraining_corpus.txt"))


if __name__ == "__main__":
    main()
