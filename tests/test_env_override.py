"""BUILD_TAG / GIT_BRANCH name the ref, as CI systems export them."""
import pytest

from prefect_push.engine import env_override
from prefect_push.push import RefUpdate

A, Z = "a" * 40, "0" * 40
PUSHED = RefUpdate("HEAD", A, "refs/heads/detached-guess", Z)


@pytest.mark.parametrize("env, ref", [
    ({"BUILD_TAG": "v7"}, "refs/tags/v7"),
    ({"GIT_BRANCH": "origin/main"}, "refs/heads/main"),
    ({"GIT_BRANCH": "feature/x"}, "refs/heads/feature/x"),
    ({"GIT_BRANCH": "refs/heads/dev"}, "refs/heads/dev"),
    ({"BUILD_TAG": "v8", "GIT_BRANCH": "main"}, "refs/tags/v8"),
    ({}, "refs/heads/detached-guess"),
])
def test_override(monkeypatch, env, ref):
    for key in ("BUILD_TAG", "GIT_BRANCH"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert env_override(PUSHED).remote_ref == ref


def test_deletions_are_never_redirected(monkeypatch):
    monkeypatch.setenv("BUILD_TAG", "v7")
    deletion = RefUpdate("(delete)", Z, "refs/heads/old", A)
    assert env_override(deletion) is deletion
