"""Options several commands share, with their choices enforced and their env var and default shown."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class DialectName(StrEnum):
    """The IdP dialects (:data:`scim_processor.operations.DIALECTS`; a test keeps the two equal)."""

    strict = "strict"
    entra = "entra"
    okta = "okta"


class ResourceTypeName(StrEnum):
    """The resource types of the bundled schemas (RFC 7643 §6; a test keeps the two equal)."""

    User = "User"
    Group = "Group"


DialectOption = Annotated[
    DialectName | None,
    typer.Option(
        "--dialect",
        case_sensitive=False,
        envvar="SCIM_PROCESSOR_DIALECT",
        show_envvar=True,
        show_default="strict",
        help="IdP tolerances: strict (RFC 7644 as written), entra (Microsoft Entra ID) or okta. Default: strict.",
    ),
]

ResourceTypeOption = Annotated[
    ResourceTypeName,
    typer.Option("--resource-type", case_sensitive=False, help="The resource type to map the records to (one of the bundled schemas')."),
]
