"""The six backend names agree everywhere: schema ($defs/backend), common.smk, the inference
registry and the plotting style (order, labels, colours, markers)."""

from sedjax.inference import BACKENDS
from sedjax.plotting import style

from workflow_config import load_common_smk, validated


def schema_names(schema) -> list[str]:
    return schema["$defs"]["backend"]["enum"]


def lists_of_names(node, names, path="") -> list[str]:
    """Paths of every list in the schema that holds exactly the backend names."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            found += lists_of_names(v, names, f"{path}/{k}")
    elif isinstance(node, list):
        if sorted(map(str, node)) == sorted(names):
            found.append(path)
        for i, v in enumerate(node):
            found += lists_of_names(v, names, f"{path}/{i}")
    return found


def dicts_keyed_by_names(node, names, path="") -> list[str]:
    """Paths of every mapping in the schema with a key per backend name."""
    found = []
    if isinstance(node, dict):
        if set(names) <= set(node):
            found.append(path)
        for k, v in node.items():
            found += dicts_keyed_by_names(v, names, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += dicts_keyed_by_names(v, names, f"{path}/{i}")
    return found


def test_schema_lists_the_backends_once(schema):
    names = schema_names(schema)
    # the $defs enum, and the default of `backends` (every backend) which the next test pins
    assert lists_of_names(schema, names) == ["/$defs/backend/enum", "/properties/backends/default"]
    # and no mapping keyed by every backend (backend_options: propertyNames -> $defs/backend)
    assert dicts_keyed_by_names(schema, names) == []


def test_default_backends_are_every_backend_in_order(schema):
    assert schema["properties"]["backends"]["default"] == schema_names(schema)
    assert validated({})["backends"] == schema_names(schema)


def test_registry_matches_schema(schema):
    assert list(BACKENDS) == schema_names(schema)


def test_common_smk_reads_the_schema(schema, repo_config):
    assert load_common_smk(repo_config)["BACKEND_NAMES"] == schema_names(schema)


def test_plotting_style_knows_every_backend(schema):
    names = schema_names(schema)
    assert list(style.BACKEND_ORDER) == names
    for table in (style.BACKEND_LABELS, style.BACKEND_COLORS, style.BACKEND_MARKERS):
        assert list(table) == names
    assert len(set(style.BACKEND_COLORS.values())) == len(names)
    assert len(set(style.BACKEND_MARKERS.values())) == len(names)


def test_the_peer_code_has_a_colour_of_its_own():
    assert style.BAGPIPES_COLOR not in style.BACKEND_COLORS.values()
    assert style.BAGPIPES_COLOR != style.TRUTH_COLOR
