"""SavedModel export for TensorFlow Serving: one export path for every model."""

from tfzoo.export.saved_model import ServingSignature, export_saved_model, versioned_export_dir

__all__ = ["ServingSignature", "export_saved_model", "versioned_export_dir"]
