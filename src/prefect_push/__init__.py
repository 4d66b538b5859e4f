"""prefect-push: git push registers the Prefect flows it changed."""

__version__ = "0.1.0"
