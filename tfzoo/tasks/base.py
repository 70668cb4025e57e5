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

    def datasets(self, batch_size, eval_batch_size):
        """(train dataset, validation dataset or None, steps per epoch or None)."""
        raise NotImplementedError
