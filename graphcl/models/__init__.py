"""Ready-made estimators with a scikit-learn front end (``fit`` / ``predict``), and the registry
of methods (:func:`get`, :func:`available`, :func:`register`)."""

# Import order is registration order: scgc, scgc_star, pamc, pamc_reference, meow, meow_reference, meow_linear, adameow,
# spectral, spectral_metapath.
from graphcl.models.scgc import SCGC, SCGCStar  # isort: skip
from graphcl.models.pamc import PamC, PamCReference  # isort: skip
from graphcl.models.meow import MEOW, AdaMEOW, MEOWLinear, MEOWReference  # isort: skip
from graphcl.models.spectral import SmoothedSpectral, SmoothedSpectralMetaPath  # isort: skip
from graphcl.models.base import GraphclEstimator, load_estimator  # isort: skip
from graphcl.registry import available, by_class_name, get, info, register, unregister  # isort: skip

__all__ = ["AdaMEOW", "GraphclEstimator", "MEOW", "MEOWLinear", "MEOWReference", "PamC", "PamCReference", "SCGC", "SCGCStar", "SmoothedSpectral", "SmoothedSpectralMetaPath", "load_estimator", "available", "by_class_name", "get", "info", "register", "unregister"]
