"""prefect-push: git push registers the Prefect flows it changed."""


def version() -> str:
    """The installed distribution's version: its metadata, read without importing the package's modules (the
    package itself imports nothing: every module, the hook's no-flow path among them, may ask it)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("prefect-push")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def __getattr__(name: str) -> str:
    """`prefect_push.__version__`: the installed distribution's, read when asked (its one place is pyproject.toml's
    `version`; `import prefect_push` stays free, as the hook's no-flow path needs)."""
    if name == "__version__":
        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
