"""BUILD_TAG / GIT_BRANCH name the ref for `register` and `plan` without --ref, as CI systems export them."""
import subprocess

import pytest

from prefect_push.engine import ref_from_env


@pytest.fixture
def clone(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "x"], cwd=tmp_path, check=True)
    subprocess.run(["git", "tag", "v7"], cwd=tmp_path, check=True)
    subprocess.run(["git", "remote", "add", "upstream", "file:///nowhere"], cwd=tmp_path, check=True)
    for key in ("BUILD_TAG", "GIT_BRANCH"):
        monkeypatch.delenv(key, raising=False)
    return str(tmp_path)


@pytest.mark.parametrize("env, ref", [
    ({"BUILD_TAG": "v7"}, "refs/tags/v7"),
    ({"BUILD_TAG": "jenkins-etl-42"}, None),  # Jenkins sets it on every build: no such tag, so not a ref
    ({"BUILD_TAG": "jenkins-etl-42", "GIT_BRANCH": "origin/main"}, "refs/heads/main"),
    ({"GIT_BRANCH": "origin/feature/x"}, "refs/heads/feature/x"),
    ({"GIT_BRANCH": "upstream/dev"}, "refs/heads/dev"),
    ({"GIT_BRANCH": "feature/x"}, "refs/heads/feature/x"),
    ({"GIT_BRANCH": "refs/heads/dev"}, "refs/heads/dev"),
    ({"BUILD_TAG": "v7", "GIT_BRANCH": "main"}, "refs/tags/v7"),
    ({}, None),
])
def test_ref_from_env(clone, monkeypatch, env, ref):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert ref_from_env("origin", clone) == ref
