"""Writes the sample corpora shipped with tfzoo (deterministic, seed 0).

- pretraining_corpus.txt: short documents, one sentence per line, a blank line
  between documents (BERT's corpus format). Each document follows one town
  through a few related facts, so the next sentence is predictable from the
  previous ones and masked words from their context.
- paraphrase_{train,dev}.tsv: sentence pairs in MRPC's TSV layout (Quality,
  #1 ID, #2 ID, #1 String, #2 String). Quality 1: the second sentence states
  the same facts in other words. Quality 0: it is worded alike but one fact
  differs (a number, a place, a name, a date), like MRPC's hard negatives.
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


COMPANIES = ["Northwind", "Bluepeak", "Corvell", "Datalake", "Everline", "Fernbrook",
             "Graniteworks", "Halcyon", "Ironleaf", "Juniper Labs", "Kestrel", "Lumenor"]
CITIES = ["Lisbon", "Osaka", "Denver", "Nairobi", "Oslo", "Lima", "Dublin", "Perth", "Quebec",
          "Seville", "Tallinn", "Hanoi"]
PEOPLE = ["Maria Lopez", "James Okafor", "Yuki Tanaka", "Anna Novak", "Omar Haddad",
          "Lena Fischer", "David Chen", "Sofia Rossi", "Priya Nair", "Tom Walsh"]
MONTHS = ["January", "March", "April", "June", "August", "October", "November", "December"]
GOODS = ["electric buses", "solar panels", "water filters", "medical scanners",
         "delivery drones", "wind turbines", "school laptops", "train carriages"]

# Each frame: slot names, then phrasings that all say the same thing.
FRAMES = [
    (("company", "count", "goods", "city"), [
        "{company} will deliver {count} {goods} to {city} next year.",
        "Next year, {company} is set to supply {city} with {count} {goods}.",
        "{city} has ordered {count} {goods} from {company} for delivery next year.",
    ]),
    (("person", "company", "month"), [
        "{person} was named chief executive of {company} in {month}.",
        "In {month}, {company} appointed {person} as its chief executive.",
        "{company} made {person} its new chief executive in {month}.",
    ]),
    (("company", "percent", "month"), [
        "Shares of {company} rose {percent} percent in {month}.",
        "In {month}, the stock of {company} gained {percent} percent.",
        "{company} saw its share price climb by {percent} percent during {month}.",
    ]),
    (("city", "count", "month"), [
        "About {count} people attended the festival in {city} in {month}.",
        "The {month} festival in {city} drew roughly {count} visitors.",
        "Around {count} visitors came to {city} for its festival in {month}.",
    ]),
    (("person", "city", "goods"), [
        "{person} opened a factory for {goods} in {city}.",
        "A factory making {goods} was opened in {city} by {person}.",
        "In {city}, {person} launched a plant that builds {goods}.",
    ]),
    (("company", "city", "count"), [
        "{company} plans to hire {count} workers at its new office in {city}.",
        "The new {city} office of {company} will employ {count} people.",
        "{company} expects to add {count} jobs when it opens in {city}.",
    ]),
]


def _slot_value(slot, rng):
    return {
        "company": lambda: rng.choice(COMPANIES),
        "city": lambda: rng.choice(CITIES),
        "person": lambda: rng.choice(PEOPLE),
        "month": lambda: rng.choice(MONTHS),
        "goods": lambda: rng.choice(GOODS),
        "count": lambda: str(rng.randrange(2, 99) * rng.choice([10, 100, 1000])),
        "percent": lambda: str(rng.randrange(2, 40)),
    }[slot]()


def paraphrase_pair(rng):
    """(quality, sentence1, sentence2)."""
    slots, phrasings = rng.choice(FRAMES)
    values = {slot: _slot_value(slot, rng) for slot in slots}
    first, second = rng.sample(phrasings, 2)
    quality = rng.random() < 0.5
    other = dict(values)
    if not quality:
        changed = rng.choice(slots)
        while other[changed] == values[changed]:
            other[changed] = _slot_value(changed, rng)
    return int(quality), first.format(**values), second.format(**other)


def write_paraphrase_tsv(path, count, rng, first_id):
    with open(path, "w", encoding="utf-8") as f:
        f.write("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n")
        for i in range(count):
            quality, a, b = paraphrase_pair(rng)
            f.write(f"{quality}\t{first_id + 2 * i}\t{first_id + 2 * i + 1}\t{a}\t{b}\n")


def main():
    here = os.path.dirname(__file__)
    write_pretraining_corpus(os.path.join(here, "pretraining_corpus.txt"))
    rng = random.Random(0)
    write_paraphrase_tsv(os.path.join(here, "paraphrase_train.tsv"), 2000, rng, 100000)
    write_paraphrase_tsv(os.path.join(here, "paraphrase_dev.tsv"), 400, rng, 200000)


if __name__ == "__main__":
    main()
