"""What every training task provides to the trainer."""


class TrainingTask:
    """Base class: a task turns its config into a model and datasets.

    Subclasses set `config_class` (a dataclass with a `type` field and a
    `model` section) and implement `build_model` and `datasets`.
    """

    config_class = None
    # Names of the model classes `build_model` makes: a trained model of
    # another class (a run of another task) is an error naming both.
    model_classes = ()
    # True when the task's model is exported without a raw-input signature:
    # its answers need Python (windows, words) around the model, so the export
    # serves the model's own token inputs.
    exports_tokens = False

    def __init__(self, config):
        self.config = config

    def check_model_class(self, model, where):
        """Raises ValueError when `model` (loaded from `where`) is not one of
        the classes this task trains."""
        name = type(model).__name__
        if self.model_classes and name not in self.model_classes:
            raise ValueError(f"{where} holds a {name}, but a {self.config.type} config trains "
                             f"a {' or '.join(self.model_classes)}: pass the --config that "
                             "trained this --model_dir.")

    def build_preprocessor(self):
        """The in-graph preprocessor for raw text (None when not text)."""
        return None

    def build_model(self):
        """A compiled-ready `tfzoo.models.Task` model (not yet compiled)."""
        raise NotImplementedError

    def check_model(self, model):
        """Raises ValueError when the config packs inputs longer than `model` takes.

        A backbone with learned positions has `max_sequence_length` of them;
        longer inputs would otherwise fail deep inside TensorFlow (a Slice or
        Pad error naming no setting). Models without the attribute (XLNet's
        relative positions) take any length. The trainer calls this right
        after `build_model`, the command line after loading a trained model.
        """
        limit = max_sequence_length(model)
        if limit is None:
            return
        for key, length in self.sequence_lengths():
            if length > limit:
                raise ValueError(f"{key}={length} exceeds the model's max_sequence_length="
                                 f"{limit}: lower {key} to at most {limit}.")

    def sequence_lengths(self):
        """(dotted key, value) of the input lengths the config sets:
        `task.seq_length` and/or `task.data.seq_length`."""
        lengths = []
        for key, section in (("task.seq_length", self.config),
                             ("task.data.seq_length", getattr(self.config, "data", None))):
            length = getattr(section, "seq_length", None)
            if isinstance(length, int) and not isinstance(length, bool):
                lengths.append((key, length))
        return lengths

    def datasets(self, batch_size, eval_batch_size, seed=0):
        """The data of a run.

        Returns:
            (epoch_dataset, validation dataset or None, batches per epoch):
            `epoch_dataset(epoch)` maps an int64 scalar tensor to that epoch's
            batched training data, a deterministic function of (seed, epoch)
            so a resumed run sees exactly the batches an uninterrupted one does.
        """
        raise NotImplementedError

    def compile_kwargs(self):
        """Extra `compile()` arguments (loss, metrics) when the model's defaults
        do not fit the task."""
        return {}

    def evaluate(self, model, batch_size=64):
        """Task metrics on the validation data: {name: value}."""
        return {}

    def serving_signature(self, model, preprocessor=None):
        """The raw-input `ServingSignature` for export, or None."""
        return None

    def serving_input_names(self):
        """The raw inputs of `serving_signature`, in order (None without one);
        known from the config alone, so clients need no model."""
        return None


def max_sequence_length(model):
    """The longest input `model` (or its backbone) takes, or None when unbounded."""
    for owner in (model, getattr(model, "backbone", None)):
        limit = getattr(owner, "max_sequence_length", None)
        if isinstance(limit, int) and not isinstance(limit, bool):
            return limit
    return None


def full_batches(count, batch_size, what):
    """Batches per epoch of a pipeline that drops the last partial batch.

    Raises ValueError when `count` examples (`what`, e.g. "masked-LM
    sequences") make no full batch: every epoch would be empty and training
    would wait for data forever."""
    if count < batch_size:
        raise ValueError(f"trainer.batch_size={batch_size} exceeds the {count} {what} of the "
                         "training data, which make no full batch: lower trainer.batch_size "
                         "or give more data.")
    return count // batch_size
