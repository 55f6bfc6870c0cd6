"""alad: active-learning anomaly detection, scikit-learn compatible."""

__version__ = "0.1.0"

__all__ = ["__version__"]
