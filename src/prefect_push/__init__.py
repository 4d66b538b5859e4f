"""prefect-push: git push registers the Prefect flows it changed."""


def __getattr__(name: str) -> str:
    """`prefect_push.__version__`: the installed distribution's, read when asked (its one place is pyproject.toml's
    `version`; `import prefect_push` stays free, as the hook's no-flow path needs)."""
    if name == "__version__":
        from .fast import version

        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
