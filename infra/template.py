"""Reading template.yaml: YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...).

The tags become their long form ({"Ref": ...}, {"Fn::GetAtt": [...]}), as CloudFormation reads them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct(tag: str) -> Any:
    def construct(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {"Ref": value} if tag == "Ref" else {f"Fn::{tag}": value}

    return construct


for _tag in (
    "Ref",
    "GetAtt",
    "Sub",
    "Join",
    "If",
    "Not",
    "Equals",
    "And",
    "Or",
    "Select",
    "Split",
    "FindInMap",
    "ImportValue",
    "Base64",
    "GetAZs",
    "Condition",
    "Cidr",
):
    _CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass with CFN tags only
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} is not a template")
    return loaded


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == resource_type}
