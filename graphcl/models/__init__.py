"""Ready-made estimators with a scikit-learn front end (``fit`` / ``predict``)."""

from graphcl.models.meow import MEOW, AdaMEOW
from graphcl.models.pamc import PamC
from graphcl.models.scgc import SCGC, SCGCStar

__all__ = ["AdaMEOW", "MEOW", "PamC", "SCGC", "SCGCStar"]
