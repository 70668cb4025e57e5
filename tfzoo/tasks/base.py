"""What every training task provides to the trainer."""


class TrainingTask:
    """Base class: a task turns its config into a model and datasets.

    Subclasses set `config_class` (a dataclass with a `type` field and a
    `model` section) and implement `build_model` and `datasets`.
    """

    config_class = None

    def __init__(self, config):
        self.config = config

    def build_preprocessor(self):
        """The in-graph preprocessor for raw text (None when not text)."""
        return None

    def build_model(self):
        """A compiled-ready `tfzoo.models.Task` model (not yet compiled)."""
        raise NotImplementedError

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
