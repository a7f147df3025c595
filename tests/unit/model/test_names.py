import pytest

from helmkit.model.names import label_problem, namespace_problem, release_name_problem


@pytest.mark.parametrize("name", ["web", "cert-manager", "a1", "web.v2"])
def test_valid_release_names(name: str):
    assert release_name_problem(name) is None


@pytest.mark.parametrize("name", ["--post-renderer=x", "-n", "$(touch x)", "Web", "web-", "a" * 54, "", "a b"])
def test_invalid_release_names(name: str):
    assert release_name_problem(name) is not None


def test_namespace_limits():
    assert namespace_problem("a" * 63) is None
    assert "longer than 63" in (namespace_problem("a" * 64) or "")
    assert namespace_problem("-n") is not None
    assert namespace_problem("web.v2") is not None


def test_labels():
    assert label_problem("example.com/tier", "platform") is None
    assert label_problem("tier", "$(x)") is not None
    assert label_problem("-bad", "x") is not None
