"""`tfzoo generate`: text from a GPT / GPT-2 checkpoint, like transformers' run_generation.py.

    tfzoo generate --model_path runs/gpt_tiny/final --prompt "The weather in" --length 20 \
        --temperature 0.8 --k 40 --p 0.95 --num_return_sequences 3 --seed 1

Samples by default (as run_generation does); --greedy or --num_beams N decode
deterministically. --model_path takes any checkpoint GPTCausalLM.from_pretrained
reads (Hugging Face gpt2/openai-gpt, OpenAI's GPT-2 release, tfzoo's own).
"""

from absl import flags

from tfzoo.cli.flags import reject_positional

FLAGS = flags.FLAGS
flags.DEFINE_string("model_path", None, "generate: checkpoint directory with its tokenizer.")
flags.DEFINE_multi_string("prompt", [], "generate: prompt text (repeat for a batch).")
flags.DEFINE_integer("length", 40, "generate: new tokens per sequence.")
flags.DEFINE_float("temperature", 1.0, "generate: sampling temperature.")
flags.DEFINE_integer("k", 0, "generate: top-k sampling (0: off).")
flags.DEFINE_float("p", 0.9, "generate: nucleus (top-p) sampling threshold (1.0: off).")
flags.DEFINE_integer("num_return_sequences", 1, "generate: sequences per prompt.")
flags.DEFINE_integer("num_beams", 1, "generate: beam search width (>1: beam search).")
flags.DEFINE_bool("greedy", False, "generate: take the most likely token at each step.")
flags.DEFINE_integer("seed", None, "generate: random seed for sampling.")
flags.DEFINE_bool("xla", True, "generate: XLA-compile decoding (TensorFlow). --noxla runs a "
                  "plain graph, as a SavedModel export serves it (slower on CPUs).")
flags.DEFINE_enum("dtype", None, ["float32", "bfloat16", "float16"],
                  "generate: weights and compute dtype (default: float32). bfloat16 halves "
                  "the weights' memory and, for one prompt, nearly doubles CPU decoding speed "
                  "(batches decode faster in float32; docs/benchmarks.md).")


def main(argv):
    reject_positional("generate", argv)
    if not FLAGS.model_path:
        raise ValueError("--model_path is required.")
    if not FLAGS.prompt:
        raise ValueError("--prompt is required (repeat it for several prompts).")
    from tfzoo.models.gpt import GPTCausalLM

    for name, valid, wanted in (
            ("length", FLAGS.length > 0, "an integer > 0"),
            ("temperature", FLAGS.temperature > 0, "a number > 0"),
            ("k", FLAGS.k >= 0, "an integer >= 0 (0: off)"),
            ("p", 0 < FLAGS.p <= 1, "a number in (0, 1] (1: off)"),
            ("num_beams", FLAGS.num_beams > 0, "an integer > 0"),
            ("num_return_sequences", FLAGS.num_return_sequences > 0, "an integer > 0")):
        if not valid:
            raise ValueError(f"--{name} must be {wanted}. Received: --{name}={FLAGS[name].value}")
    overrides = {"dtype": FLAGS.dtype} if FLAGS.dtype else {}
    deterministic = FLAGS.greedy or FLAGS.num_beams > 1
    sampling = {"temperature": FLAGS.temperature, "top_k": FLAGS.k, "top_p": FLAGS.p}
    if deterministic:
        given = [f"--{name}" for name in ("temperature", "k", "p") if FLAGS[name].present]
        if given:
            mode = "--greedy" if FLAGS.greedy else f"--num_beams={FLAGS.num_beams}"
            raise ValueError(f"{', '.join(given)} only apply when sampling, and {mode} does "
                             "not sample: drop one or the other.")
        sampling = {}
    model = GPTCausalLM.from_pretrained(FLAGS.model_path, **overrides)
    texts = model.generate(
        list(FLAGS.prompt), max_new_tokens=FLAGS.length, greedy=deterministic, **sampling,
        num_beams=FLAGS.num_beams, num_return_sequences=FLAGS.num_return_sequences,
        seed=FLAGS.seed, jit_compile=FLAGS.xla)
    for index, text in enumerate(texts):
        print(f"=== generated sequence {index + 1} ===\n{text}")
    return 0
