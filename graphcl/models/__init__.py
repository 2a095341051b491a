"""Ready-made estimators with a scikit-learn front end (``fit`` / ``predict``)."""

from graphcl.models.scgc import SCGC, SCGCStar

__all__ = ["SCGC", "SCGCStar"]
