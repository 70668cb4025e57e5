"""Training tasks: what an experiment's `task.type` names.

A task builds the preprocessor, the model and the datasets from its config;
the trainer (tfzoo.training.trainer) does the rest the same way for all.
"""

import importlib

# type -> "module:Class"; imported on demand so one task's dependencies do
# not load with another's.
_TASKS = {
    "bert_pretraining": "tfzoo.tasks.bert_pretraining:BertPretrainingTask",
    "sentence_classification": "tfzoo.tasks.sentence_classification:SentenceClassificationTask",
    "causal_lm": "tfzoo.tasks.causal_lm:CausalLMTask",
    "translation": "tfzoo.tasks.translation:TranslationTask",
    "span_extraction": "tfzoo.tasks.span_extraction:SpanExtractionTask",
    "token_tagging": "tfzoo.tasks.token_tagging:TokenTaggingTask",
    "xlnet_pretraining": "tfzoo.tasks.xlnet_pretraining:XLNetPretrainingTask",
}


def task_class(task_type):
    """The task class for `task.type`; ValueError names unknown types."""
    if task_type not in _TASKS:
        raise ValueError(f"Unknown task type {task_type!r}; tfzoo has {sorted(_TASKS)}.")
    module, name = _TASKS[task_type].split(":")
    return getattr(importlib.import_module(module), name)


def task_types():
    return sorted(_TASKS)
