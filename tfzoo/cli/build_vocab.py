"""`tfzoo build-vocab`: a WordPiece vocabulary learned from text files.

    tfzoo build-vocab --vocab_input train.tsv --vocab_output vocab.txt --vocab_size 8000

TSV inputs contribute every column (source and target share the vocabulary);
other files one text per line. The reserved tokens come first:
[PAD] [UNK] [CLS] [SEP] [MASK] (the Transformer uses [CLS] and [SEP] as start
and end of sequence).
"""

from absl import flags

from tfzoo.cli.flags import reject_positional

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("vocab_input", [], "build-vocab: text or TSV file(s).")
flags.DEFINE_string("vocab_output", None, "build-vocab: where to write vocab.txt.")
flags.DEFINE_integer("vocab_size", 8000, "build-vocab: target vocabulary size.")
flags.DEFINE_bool("lower_case", True, "build-vocab: lower-case text first.")


def read_texts(paths):
    texts = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                texts.extend(line.split("\t") if path.endswith(".tsv") else [line])
    return texts


def main(argv):
    reject_positional("build-vocab", argv)
    if not FLAGS.vocab_input or not FLAGS.vocab_output:
        raise ValueError("build-vocab needs --vocab_input (one or more) and --vocab_output.")
    from tfzoo.preprocessing.vocabulary import build_wordpiece_vocabulary, write_vocabulary

    vocabulary = build_wordpiece_vocabulary(read_texts(FLAGS.vocab_input), FLAGS.vocab_size,
                                            FLAGS.lower_case)
    write_vocabulary(vocabulary, FLAGS.vocab_output)
    print(f"wrote {len(vocabulary)} tokens to {FLAGS.vocab_output}")
    return 0
