"""Ready-made estimators with a scikit-learn front end (``fit`` / ``predict``)."""

from graphcl.models.pamc import PamC
from graphcl.models.scgc import SCGC, SCGCStar

__all__ = ["PamC", "SCGC", "SCGCStar"]
