"""Writes the sample corpora shipped with tfzoo (deterministic, seed 0).

- pretraining_corpus.txt: short documents, one sentence per line, a blank line
  between documents (BERT's corpus format). Each document follows one town
  through a few related facts, so the next sentence is predictable from the
  previous ones and masked words from their context.
- gpt_bpe/{vocab.json,merges.txt}: a byte-level BPE vocabulary (GPT-2's file
  format, 2,000 tokens with <|endoftext|>) trained on pretraining_corpus.txt
  with the `tokenizers` package (needed only to regenerate it), for causal-LM
  examples that must run offline: no GPT-2 vocabulary ships on the registry.
- numbers_{train,dev}.tsv: a small "translation" task: a number's digits
  (space-separated) and its English words ("4 7 2" -> "four hundred seventy
  two"), 4,000 training and 300 held-out pairs, disjoint.
- paraphrase_{train,dev}.tsv: sentence pairs in MRPC's TSV layout (Quality,
  #1 ID, #2 ID, #1 String, #2 String). Quality 1: the second sentence states
  the same facts in other words. Quality 0: it is worded alike but one fact
  differs (a number, a place, a name, a date), like MRPC's hard negatives.
- squad_{train,dev}.json: SQuAD v1.1-format question answering. Each
  paragraph describes a town or a company in shuffled, reworded sentences;
  each question asks for one fact, and its answer is a span of the paragraph.
  Facts of one kind appear more than once (three years, two people, two
  cities), so the question decides which span answers it. Dev questions also
  accept a second, wider answer ("about 45000" for "45000"), as SQuAD's dev set
  lists several annotators' answers.
- xlnet_spiece.model: a SentencePiece unigram model (XLNet's spiece.model
  format, 250 pieces) trained on pretraining_corpus.txt with the
  `sentencepiece` package (needed only to regenerate it), with XLNet's special
  pieces at XLNet's ids: <unk> 0, <s> 1, </s> 2, <cls> 3, <sep> 4, <pad> 5,
  <mask> 6, <eod> 7 (control symbols), <eop> 8 (user-defined), for XLNet
  pretraining examples that run offline.
- conll_{train,dev}.txt: named entities in CoNLL-2003's column format (a
  token and its tag per line, a blank line after each sentence, -DOCSTART-
  before each document), BIO-tagged PER, LOC, ORG and MISC, in news-like
  sentences, with a few sentences that name no entity.
"""

import json
import os
import random
import string

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
        "Children learn the craft from their parents and later teach their own children.",
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


# === Question answering (SQuAD v1.1 format) ===
# A fact: (its sentence's phrasings, then per answer slot the question
# phrasings). Phrasings mention other slots of the same paragraph freely.
TOWN_INTRO = ["{town} is a town of about {population} people.",
              "About {population} people live in the town of {town}."]
TOWN_FACTS = [
    (["The town is known for its {product}, made there since {product_year}.",
      "Since {product_year}, {town} has been famous for its {product}."],
     {"product": ["What is {town} known for?", "What is {town} famous for?"],
      "product_year": ["Since when has {town} made {product}?",
                       "In which year did {town} start making {product}?"]}),
    (["The mayor, {mayor}, was elected in {mayor_year}.",
      "{mayor} has been the mayor of {town} since {mayor_year}."],
     {"mayor": ["Who is the mayor of {town}?", "Who was elected mayor of {town}?"],
      "mayor_year": ["When was the mayor of {town} elected?",
                     "In which year did {mayor} become mayor?"]}),
    (["Every {season} the town holds {event}, which draws visitors from {visitor_city}.",
      "Visitors from {visitor_city} come to {town} for {event} each {season}."],
     {"season": ["In which season does {town} hold {event}?",
                 "When is {event} held in {town}?"],
      "visitor_city": ["Where do the visitors of {event} come from?",
                       "Which city do visitors to {town} come from?"]}),
    (["Near the centre stands {feature}, built in {feature_year}.",
      "In {feature_year}, {feature} was built near the centre of {town}."],
     {"feature": ["What stands near the centre of {town}?",
                  "What was built near the centre of {town}?"],
      "feature_year": ["When was the landmark in the centre of {town} built?",
                       "In which year was the centre of {town} given its landmark?"]}),
]
COMPANY_INTRO = ["{company} is a maker of {goods} based in {city}.",
                 "{company}, based in {city}, makes {goods}."]
COMPANY_FACTS = [
    (["The company was founded in {founded_year} by {founder}.",
      "{founder} founded {company} in {founded_year}."],
     {"founder": ["Who founded {company}?", "Who started {company}?"],
      "founded_year": ["When was {company} founded?",
                       "In what year did {founder} found {company}?"]}),
    (["In {month}, {ceo} was named chief executive.",
      "{ceo} became chief executive of {company} in {month}."],
     {"ceo": ["Who is the chief executive of {company}?", "Who runs {company}?"],
      "month": ["When did {ceo} become chief executive?",
                "In which month was the new chief executive of {company} named?"]}),
    (["It employs about {employees} people.",
      "The company has about {employees} employees."],
     {"employees": ["How many people work for {company}?",
                    "How many employees does {company} have?"]}),
    (["Next year it plans to open a new office in {office_city}.",
      "A new office in {office_city} is planned for next year."],
     {"office_city": ["Where will {company} open a new office?",
                      "Where is {company} planning a new office?"]}),
]
# Questions about the intro sentences.
TOWN_INTRO_QUESTIONS = {"population": ["How many people live in {town}?",
                                       "What is the population of {town}?"]}
COMPANY_INTRO_QUESTIONS = {"goods": ["What does {company} make?",
                                     "What kind of products does {company} build?"],
                           "city": ["Where is {company} based?",
                                    "In which city is {company} headquartered?"]}


def _fill(template, values):
    """(text, {slot: (start, end)}) of `template` with its slots filled in."""
    text, spans = "", {}
    for literal, slot, _, _ in string.Formatter().parse(template):
        text += literal
        if slot is not None:
            spans.setdefault(slot, (len(text), len(text) + len(values[slot])))
            text += values[slot]
    return text, spans


def town_values(rng):
    years = rng.sample(range(1820, 2020), 3)
    return {
        "town": rng.choice(TOWNS),
        "population": str(rng.randrange(2, 90) * 1000),
        "product": rng.choice(PRODUCTS),
        "product_year": str(years[0]),
        "mayor": rng.choice(PEOPLE),
        "mayor_year": str(years[1]),
        "season": rng.choice(SEASONS),
        "event": rng.choice(EVENTS),
        "visitor_city": rng.choice(CITIES),
        "feature": rng.choice(FEATURES),
        "feature_year": str(years[2]),
    }


def company_values(rng):
    city, office_city = rng.sample(CITIES, 2)
    founder, ceo = rng.sample(PEOPLE, 2)
    return {
        "company": rng.choice(COMPANIES),
        "goods": rng.choice(GOODS),
        "city": city,
        "founded_year": str(rng.randrange(1950, 2020)),
        "founder": founder,
        "ceo": ceo,
        "month": rng.choice(MONTHS),
        "employees": str(rng.randrange(2, 99) * rng.choice([10, 100])),
        "office_city": office_city,
    }


def qa_paragraph(rng, count):
    """(title, context, [(question, answer slot, answer start, answer text, wider start)])."""
    if rng.random() < 0.5:
        values, intro, facts, intro_questions = (
            town_values(rng), TOWN_INTRO, TOWN_FACTS, TOWN_INTRO_QUESTIONS)
        title = values["town"]
    else:
        values, intro, facts, intro_questions = (
            company_values(rng), COMPANY_INTRO, COMPANY_FACTS, COMPANY_INTRO_QUESTIONS)
        title = values["company"]
    sentences = [(rng.choice(intro), intro_questions)]
    sentences += [(rng.choice(phrasings), questions)
                  for phrasings, questions in rng.sample(facts, len(facts))]
    context, candidates = "", []
    for template, questions in sentences:
        if context:
            context += " "
        text, spans = _fill(template, values)
        for slot, phrasings in questions.items():
            start, _ = spans[slot]
            # The wider answer takes in the word before the slot ("about", "in").
            before = text[:start].rstrip().rsplit(" ", 1)[-1]
            wider = len(context) + start - len(before) - 1 if before.isalpha() else None
            candidates.append((rng.choice(phrasings).format(**values), slot,
                               len(context) + start, values[slot], wider))
        context += text
    return title, context, rng.sample(candidates, min(count, len(candidates)))


def write_squad_json(path, questions, rng, split):
    """A SQuAD v1.1 file of `questions` questions, five per paragraph."""
    articles, written = [], 0
    while written < questions:
        title, context, asked = qa_paragraph(rng, min(5, questions - written))
        qas = []
        for question, slot, start, answer, wider in asked:
            answers = [{"text": answer, "answer_start": start}]
            if split == "dev" and wider is not None:
                answers.append({"text": context[wider:start + len(answer)],
                                "answer_start": wider})
            qas.append({"id": f"{split}-{written:04d}-{slot}", "question": question,
                        "answers": answers})
            written += 1
        articles.append({"title": title, "paragraphs": [{"context": context, "qas": qas}]})
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"version": "1.1", "data": articles}, f, indent=1, ensure_ascii=False)
        f.write("\n")


# === Named entities (CoNLL-2003 format) ===
COUNTRIES = ["Portugal", "Japan", "Kenya", "Norway", "Peru", "Ireland", "Australia", "Canada",
             "Spain", "Estonia", "Vietnam", "New Zealand"]
NATIONALITIES = ["Portuguese", "Japanese", "Kenyan", "Norwegian", "Peruvian", "Irish",
                 "Australian", "Canadian", "Spanish", "Estonian", "Vietnamese"]
ORGANISATIONS = ["United Nations", "World Bank", "Red Cross", "European Commission",
                 "Central Bank", "Football Association"]
EVENTS_MISC = ["World Cup", "Olympic Games", "Nobel Prize", "Davis Cup", "Tour de France",
               "Golden Globe"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Sentence templates: words separated by spaces; {PER}, {LOC}, {ORG} and
# {MISC} slots are entities ({LOC2} etc. a second, different one), {NUM} a
# number, {DAY} a weekday.
NER_TEMPLATES = [
    ("{PER} , chief executive of {ORG} , said on {DAY} that the company would open an office "
     "in {LOC} ."),
    "Shares of {ORG} rose {NUM} percent in {LOC} on {DAY} .",
    "{PER} won the {MISC} in {LOC} after beating {PER2} in the final .",
    "Police in {LOC} said {NUM} people were arrested after the {MISC} match .",
    "The {NAT} government said it would send aid to {LOC} through the {ORG} .",
    "{PER} , who holds {NAT} citizenship , was appointed to the board of {ORG} .",
    "{ORG} and {ORG2} agreed to merge , creating the largest maker of {GOODS} in {LOC} .",
    "{LOC} beat {LOC2} {NUM} - 1 in a {MISC} qualifier on {DAY} .",
    "{PER} told reporters in {LOC} that {ORG} had no plans to cut jobs .",
    "Tourists from {LOC} flocked to {LOC2} for the {MISC} .",
    "The {NAT} company {ORG} reported a profit of {NUM} million dollars .",
    "{PER} ( {LOC} ) finished second behind {PER2} ( {LOC2} ) .",
    "SOCCER - {LOC} BEAT {LOC2} IN {MISC} QUALIFIER .",
    "{LOC} police questioned {PER} about the fire at the {ORG} building .",
    "The talks will resume next week , officials said .",
    "Prices fell {NUM} percent on {DAY} after a week of heavy trading .",
]


def _entity(kind, rng):
    """(words, entity type or None) for a template slot."""
    if kind == "PER":
        first, last = rng.choice(PEOPLE).split(), rng.choice(PEOPLE).split()
        return (first[:1] + last[1:] if rng.random() < 0.8 else last[1:]), "PER"
    if kind == "LOC":
        return rng.choice(CITIES + TOWNS + COUNTRIES).split(), "LOC"
    if kind == "ORG":
        return rng.choice(COMPANIES + ORGANISATIONS).split(), "ORG"
    if kind == "MISC":
        return rng.choice(EVENTS_MISC).split(), "MISC"
    if kind == "NAT":
        return [rng.choice(NATIONALITIES)], "MISC"
    if kind == "NUM":
        return [str(rng.randrange(2, 60))], None
    if kind == "DAY":
        return [rng.choice(DAYS)], None
    return rng.choice(GOODS).split(), None  # GOODS


def ner_sentence(rng):
    """[(word, BIO tag)] of one sentence; entities in one sentence differ."""
    template = rng.choice(NER_TEMPLATES)
    headline = template == template.upper()  # "SOCCER - NORWAY BEAT ..."
    tagged, used = [], set()
    for word in template.split():
        if not (word.startswith("{") and word.endswith("}")):
            tagged.append((word, "O"))
            continue
        kind = word[1:-1].rstrip("2")
        words, entity = _entity(kind, rng)
        while entity and tuple(words) in used:
            words, entity = _entity(kind, rng)
        used.add(tuple(words))
        if headline:
            words = [w.upper() for w in words]
        tags = (["B-" + entity] + ["I-" + entity] * (len(words) - 1) if entity
                else ["O"] * len(words))
        tagged.extend(zip(words, tags))
    return tagged


def write_conll(path, sentences, rng, per_document=10):
    """`sentences` sentences, `per_document` to a document, two columns: word and tag."""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(sentences):
            if i % per_document == 0:
                f.write("-DOCSTART- O\n\n")
            f.write("".join(f"{word} {tag}\n" for word, tag in ner_sentence(rng)) + "\n")


_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
          "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n):
    """English words for 0 <= n < 1,000,000 (no "and", as in American usage)."""
    if n < 10:
        return _ONES[n]
    if n < 20:
        return _TEENS[n - 10]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    rest = n % 1000
    return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))


def write_numbers_tsv(path, count, rng, seen):
    """Digits (space-separated) <TAB> English words, numbers not in `seen`."""
    with open(path, "w", encoding="utf-8") as f:
        written = 0
        while written < count:
            n = rng.randrange(0, 10 ** rng.randint(1, 6))
            if n in seen:
                continue
            seen.add(n)
            f.write(f"{' '.join(str(n))}\t{number_words(n)}\n")
            written += 1


def write_numbers_vocabulary(tsv_path, vocab_path):
    """What `tfzoo build-vocab --vocab_input numbers_train.tsv` writes."""
    from tfzoo.cli.build_vocab import read_texts
    from tfzoo.preprocessing.vocabulary import build_wordpiece_vocabulary, write_vocabulary

    write_vocabulary(build_wordpiece_vocabulary(read_texts([tsv_path]), 200), vocab_path)


def write_bpe_vocabulary(corpus_path, directory, vocab_size=2000):
    """GPT-2-style byte-level BPE trained on the corpus (vocab.json + merges.txt)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    with open(corpus_path, encoding="utf-8") as f:
        tokenizer.train_from_iterator((line for line in f), trainer)
    os.makedirs(directory, exist_ok=True)
    tokenizer.model.save(directory)


def write_xlnet_spiece(corpus_path, path, vocab_size=250):
    """XLNet-style SentencePiece model: the special pieces and trainer settings of
    XLNet's release (control symbols <cls> <sep> <pad> <mask> <eod>, user-defined
    <eop>; unigram, nmt_nfkc normalisation, full character coverage), on one
    thread and in corpus order so the file is reproducible. The sample corpus
    has few distinct words: SentencePiece allows at most 254 pieces on it."""
    import io

    import sentencepiece

    with open(corpus_path, encoding="utf-8") as f:
        sentences = [line.strip() for line in f if line.strip()]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=model, vocab_size=vocab_size,
        model_type="unigram", unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        control_symbols=["<cls>", "<sep>", "<pad>", "<mask>", "<eod>"],
        user_defined_symbols=["<eop>"], character_coverage=1.0, num_threads=1,
        input_sentence_size=0, shuffle_input_sentence=False, minloglevel=2)
    with open(path, "wb") as f:
        f.write(model.getvalue())


def main():
    here = os.path.dirname(__file__)
    write_pretraining_corpus(os.path.join(here, "pretraining_corpus.txt"))
    write_bpe_vocabulary(os.path.join(here, "pretraining_corpus.txt"), os.path.join(here, "gpt_bpe"))
    rng = random.Random(0)
    write_paraphrase_tsv(os.path.join(here, "paraphrase_train.tsv"), 2000, rng, 100000)
    write_paraphrase_tsv(os.path.join(here, "paraphrase_dev.tsv"), 400, rng, 200000)
    # The later samples draw from their own generators, so the files above
    # stay as they were.
    rng = random.Random(1)
    write_squad_json(os.path.join(here, "squad_train.json"), 300, rng, "train")
    write_squad_json(os.path.join(here, "squad_dev.json"), 60, rng, "dev")
    rng, seen = random.Random(3), set()
    write_numbers_tsv(os.path.join(here, "numbers_train.tsv"), 4000, rng, seen)
    write_numbers_tsv(os.path.join(here, "numbers_dev.tsv"), 300, rng, seen)
    write_numbers_vocabulary(os.path.join(here, "numbers_train.tsv"),
                             os.path.join(here, "numbers_vocab.txt"))
    rng = random.Random(2)
    write_conll(os.path.join(here, "conll_train.txt"), 400, rng)
    write_conll(os.path.join(here, "conll_dev.txt"), 80, rng)
    write_xlnet_spiece(os.path.join(here, "pretraining_corpus.txt"),
                       os.path.join(here, "xlnet_spiece.model"))


if __name__ == "__main__":
    main()
