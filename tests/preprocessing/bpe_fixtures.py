"""Small byte-level BPE vocabularies for the GPT-2 and RoBERTa tokenizer tests.

No GPT-2 or RoBERTa vocabulary can be had offline, so the tests train one
with the `tokenizers` package, the same way those were made (byte-level
pre-tokenization without a prefix space, all 256 byte characters in the
alphabet), on a corpus written here, and save it in both file layouts.
"""

import os
import random
import shutil

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

GPT2_SPECIAL_TOKENS = ["<|endoftext|>"]
# In this order RoBERTa's ids are 0 to 4, as in its real vocabulary.
ROBERTA_SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]

# Texts the tokenizers must get right, by theme. Parity tests use them all.
CASES = {
    "whitespace": [
        "two  spaces", "three   spaces and    four", "trailing space ",
        "trailing spaces   ", "  leading spaces", " one leading space",
        "tab\tseparated\tvalues", "tabs\t\tand\t \tmixed", "line\nbreak",
        "paragraph\n\nbreak", "three\n\n\nbreaks", "windows\r\nline", "space \n newline",
        "\n\nleading newlines", "trailing newlines\n\n", " \t \n ", " ", "\n", "\t",
        "no\u00a0break\u00a0space", "ideographic\u3000space", "thin\u2009\u2009spaces",
        "vertical\x0btab form\x0cfeed next\x85line", "line\u2028separator",
    ],
    "unicode": [
        "café naïve résumé Ångström", "Crème Brûlée, s'il vous plaît", "Straße ÄÖÜ",
        "e\u0301te\u0301 combining accents", "中文字符 我爱北京。", "日本語のテキスト、カタカナ",
        "한국어 문장입니다", "안녕하세요, 세계!", "العربية لغة جميلة", "Привет, мир",
        "Ελληνικά γράμματα", "हिन्दी भाषा", "emoji 🙂👍🏽👨‍👩‍👧", "flags 🇺🇸🇫🇷 and ❤️",
        "🙂🙂🙂", "zero\u200bwidth joiner\u200d", "math ∑ ∫ √ ≤ ≥ ≠", "\ufeffbom",
    ],
    "numbers": [
        "3.14159", "1,000,000", "2026-11-24", "12:30pm", "$5.99 or €4,50",
        "-42 +7 1e-10", "version 2.21.0", "phone 555-0100", "100%", "١٢٣ ½ ²",
    ],
    "contractions": [
        "don't", "we'll", "I'M", "it's", "they've", "she'd", "you're", "I'm",
        "DON'T WE'LL", "rock 'n' roll", "'s at start", "the dogs' bones",
        "it''s", "quote 'single' marks", "“curly” ‘quotes’ don’t",
    ],
    "code": [
        'def add(a, b):\n    """Adds two numbers."""\n    return a + b\n',
        "class Point:\n    def __init__(self, x):\n        self.x = x\n\n\n",
        "if x >= 10:\n\tprint(f'{x!r}')  # tab indented\nelse:\n\tpass",
        "for i in range(10):\n    if i % 2 == 0:\n        continue\n",
        '{"key": [1, 2, 3], "nested": {"a": null}}', "x = y[::-1] ** 2 // 3",
        "#include <stdio.h>\nint main() { return 0; }", "<div class=\"a\">&amp;</div>",
    ],
    "other": [
        "", "a", "Hello, World!", "The QUICK brown fox's résumé — 中文 🙂 …",
        "https://example.com/path?q=1&r=two#frag", "user@example.org",
        "...?!", "a" * 300, "ab" * 100, " " * 40 + "x", "<|endoftext|> and <s>",
    ],
}

_SUBJECTS = ["The model", "A tokenizer", "We", "They", "She", "The small dog", "I",
             "It's", "The café's chef"]
_VERBS = ["reads", "learns", "doesn't see", "won't split", "merges", "can't find",
          "writes", "we'll check", "is testing", "they're using", "she's got"]
_OBJECTS = ["the text", "every byte", "long words", "numbers like 3,141",
            "the café menu", "naïve guesses", "a résumé", "code blocks", "emoji 🙂"]
_FOREIGN = [
    "Ça va très bien, merci.", "Die Straße ist naß und grün.", "¿Dónde está la biblioteca?",
    "Le café est prêt, l'été arrive à Noël.", "中文分词是一个难题。", "日本語を勉強しています。",
    "한국어를 배우고 있어요.", "اللغة العربية جميلة جدا.", "Москва — столица России.",
    "Καλημέρα κόσμε.", "नमस्ते दुनिया", "emoji 🙂👍🏽👨‍👩‍👧 ❤️🇺🇸", "√2 ≈ 1.414 and π ≈ 3.14159",
]
_CODE = [
    "def {name}(values):\n    \"\"\"Returns the {name} of values.\"\"\"\n"
    "    total = 0\n    for value in values:\n        total += value\n    return total\n",
    "class {Name}:\n    def __init__(self, size={n}):\n        self.size = size\n\n\n",
    "if {name} is None:\n\traise ValueError(f\"bad {name}: {{value!r}}\")\n\t\treturn\n",
    "x_{n} = [i ** 2 for i in range({n})]  # squares\n",
]
_SPACES = [" ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", " \n",
           "\n    ", "\n        "]


def corpus_lines(seed=0, size=500):
    """A few hundred lines of English, code, numbers, unicode and whitespace."""
    rng = random.Random(seed)
    lines = []
    for index in range(size):
        kind = index % 5
        if kind == 0:
            lines.append(f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} "
                         f"{rng.choice(_OBJECTS)}.")
        elif kind == 1:
            name = rng.choice(["sum", "mean", "count", "total", "score"])
            lines.append(rng.choice(_CODE).format(name=name, Name=name.title(),
                                                  n=rng.randint(1, 999)))
        elif kind == 2:
            lines.append(f"On {rng.randint(2000, 2030)}-{rng.randint(1, 12):02d}-"
                         f"{rng.randint(1, 28):02d} it cost ${rng.randint(1, 10**6):,}."
                         f"{rng.randint(0, 99):02d} ({rng.random():.5f}%)")
        elif kind == 3:
            lines.append(rng.choice(_FOREIGN))
        else:
            words = [rng.choice(_OBJECTS) for _ in range(4)]
            text = "".join(word + rng.choice(_SPACES) for word in words)
            lines.append(text + rng.choice(["", " ", "  ", "\n", "\n\n"]))
    return lines


def train_byte_level_bpe(directory, special_tokens, vocab_size=1500):
    """Trains GPT-2-style BPE on `corpus_lines()`; writes vocab.json and
    merges.txt into `directory` and returns it (a str)."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus_lines(), trainer)
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    tokenizer.model.save(directory)
    return directory


def write_openai_layout(hf_directory, directory):
    """Copies vocab.json + merges.txt to encoder.json + vocab.bpe, OpenAI's
    names for the same formats (vocab.bpe starts with "#version: 0.2")."""
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    shutil.copy(os.path.join(hf_directory, "vocab.json"),
                os.path.join(directory, "encoder.json"))
    with open(os.path.join(hf_directory, "merges.txt"), encoding="utf-8") as file:
        merges = [line for line in file if not line.startswith("#version")]
    with open(os.path.join(directory, "vocab.bpe"), "w", encoding="utf-8") as file:
        file.writelines(["#version: 0.2\n", *merges])
    return directory

