from helmkit.errors import Location
from helmkit.model.interpolation import interpolate_text, interpolate_values

VARS = {"env.name": "prod", "cluster.name": "eu-1", "cluster.region": "eu-west-1", "release.name": "web",
        "release.namespace": "web"}


def test_substitutes_known_variables_and_escape():
    problems: list = []
    text = interpolate_text("${release.name}.${cluster.name}.${env.name} $${literal} ${ cluster.region }", VARS,
                            lambda: None, problems)
    assert text == "web.eu-1.prod ${literal} eu-west-1"
    assert problems == []


def test_unknown_variable_and_unterminated_are_problems_at_the_location():
    problems: list = []
    where = Location("releases/web.yaml", 7, 3)
    interpolate_text("${cluster.zone}", VARS, lambda: where, problems)
    interpolate_text("a ${env.name", VARS, lambda: where, problems)
    assert [p.location for p in problems] == [where, where]
    assert "unknown variable `${cluster.zone}`" in problems[0].message
    assert "${cluster.region}" in problems[0].hint
    assert "unterminated" in problems[1].message


def test_values_are_copied_only_where_changed():
    values = {"a": {"b": "x"}, "c": ["${env.name}", 1], "d": 2}
    problems: list = []
    result = interpolate_values(values, VARS, lambda p: None, problems)
    assert result == {"a": {"b": "x"}, "c": ["prod", 1], "d": 2}
    assert result["a"] is values["a"]
    assert values["c"] == ["${env.name}", 1]
