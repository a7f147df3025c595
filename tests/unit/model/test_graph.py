from helmkit.errors import Location
from helmkit.model.graph import build_graph
from helmkit.model.instance import ChartRef, Cluster, Origin, ReleaseInstance

CLUSTER = Cluster("c1", "prod", "c1")


def instance(name: str, needs: list[str], enabled: bool = True) -> ReleaseInstance:
    origin = Origin("release", Location(f"releases/{name}.yaml", 3, 1))
    return ReleaseInstance(
        env="prod", cluster=CLUSTER, name=name, namespace=name, chart=ChartRef(name="x", repository_name="r"),
        values={}, needs=needs, enabled=enabled, provenance={("$field", "needs"): origin},
    )


def test_levels_and_edges():
    graph = build_graph("c1", [instance("a", []), instance("b", ["a"]), instance("c", ["a", "b"]),
                               instance("d", [])], {"a", "b", "c", "d"})
    assert graph.problems == []
    assert graph.levels() == [["a", "d"], ["b"], ["c"]]
    assert graph.order() == ["a", "d", "b", "c"]
    assert graph.edges() == [("b", "a"), ("c", "a"), ("c", "b")]


def test_cycle_shows_its_path_and_where():
    graph = build_graph("c1", [instance("a", ["c"]), instance("b", ["a"]), instance("c", ["b"])], {"a", "b", "c"})
    assert len(graph.problems) == 1
    problem = graph.problems[0]
    assert "a → c → b → a" in problem.message
    assert str(problem.location) == "releases/a.yaml:3:1"


def test_unknown_needs_suggests_the_closest_name():
    graph = build_graph("c1", [instance("web", ["cert-manger"]), instance("cert-manager", [])],
                        {"web", "cert-manager"})
    problem = graph.problems[0]
    assert "needs unknown release `cert-manger`" in problem.message
    assert problem.hint == "did you mean `cert-manager`?"
    assert str(problem.location) == "releases/web.yaml:3:1"


def test_needs_on_a_disabled_release_is_a_warning_and_the_edge_is_dropped():
    graph = build_graph("c1", [instance("web", ["db"]), instance("db", [], enabled=False)], {"web", "db"})
    assert graph.problems == []
    assert "disabled on cluster c1" in graph.warnings[0].message
    assert graph.levels() == [["web"]]


def test_self_need():
    assert "needs itself" in build_graph("c1", [instance("a", ["a"])], {"a"}).problems[0].message


def test_long_chain_has_no_recursion_limit():
    names = [f"r{i}" for i in range(3000)]
    instances = [instance(n, [names[i - 1]] if i else []) for i, n in enumerate(names)]
    instances[0] = instance("r0", ["r2999"])
    graph = build_graph("c1", instances, set(names))
    assert "cycle" in graph.problems[0].message
