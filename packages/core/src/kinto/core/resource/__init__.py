"""The resource framework: ``register()``, ``Model``, ``Resource`` and its variants.

```python
from kinto.core import resource

@resource.register()
class Article(resource.ShareableResource):
    schema = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
```
"""

from kinto.core.resource.context import DYNAMIC, SELF, ResourceContext
from kinto.core.resource.model import Model, ShareableModel
from kinto.core.resource.registration import (
    ResourceInfo,
    register,
    register_resource,
    registered_resources,
)
from kinto.core.resource.resource import Resource
from kinto.core.resource.schema import ResourceSchema
from kinto.core.resource.variants import ShareableResource, UserResource

__all__ = [
    "DYNAMIC",
    "SELF",
    "Model",
    "Resource",
    "ResourceContext",
    "ResourceInfo",
    "ResourceSchema",
    "ShareableModel",
    "ShareableResource",
    "UserResource",
    "register",
    "register_resource",
    "registered_resources",
]
