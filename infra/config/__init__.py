"""Stack configuration: read once by `load_stack_config`, then passed around frozen."""

from infra.config.loader import SECRET_SETTINGS, ConfigError, load_stack_config, stack_file_for
from infra.config.model import StackConfig, StackInput, StackSecrets
from infra.config.names import name_prefix_of

__all__ = [
    "SECRET_SETTINGS",
    "ConfigError",
    "StackConfig",
    "StackInput",
    "StackSecrets",
    "load_stack_config",
    "name_prefix_of",
    "stack_file_for",
]
