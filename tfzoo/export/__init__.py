"""SavedModel export for TensorFlow Serving: one export path for every model."""

from tfzoo.export.saved_model import (ServingSignature, export_saved_model,
                                      preprocessor_signature, versioned_export_dir)

__all__ = ["ServingSignature", "export_saved_model", "preprocessor_signature",
           "versioned_export_dir"]
