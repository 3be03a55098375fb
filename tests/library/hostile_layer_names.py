"""The names ultralytics' model builder can resolve, computed from the installed packages (imports torch).

``remote_agent/model_config.py`` keeps a frozen copy so the inspector never imports torch; a test checks that copy
against this. Run ``python tests/library/hostile_layer_names.py`` to print a fresh copy after upgrading ultralytics.
"""

from __future__ import annotations


def installed_layer_names() -> dict[str, list[str]]:
    """Module names ``parse_model`` accepts (bare, ``nn.``, ``torchvision.ops.``) and torch.nn activation classes."""
    import torch
    import torchvision
    import ultralytics.nn.tasks as tasks

    def modules(namespace: dict) -> list[str]:
        return sorted(k for k, v in namespace.items() if isinstance(v, type) and issubclass(v, torch.nn.Module))

    return {
        "tasks": modules(vars(tasks)),
        "nn": modules(vars(torch.nn)),
        "torchvision_ops": modules(vars(torchvision.ops)),
        "activations": modules(vars(torch.nn.modules.activation)),
        "parse_model_locals": sorted(set(tasks.parse_model.__code__.co_varnames + tasks.parse_model.__code__.co_cellvars)),
    }


if __name__ == "__main__":
    import textwrap

    for key, names in installed_layer_names().items():
        body = textwrap.fill(" ".join(names), 112, initial_indent="    ", subsequent_indent="    ")
        print(f'_{key.upper()} = """\n{body}\n"""')
