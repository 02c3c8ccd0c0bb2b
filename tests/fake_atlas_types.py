"""The type system behind tests/fake_atlas.py: Apache Atlas's typedef and entity rules, as Purview's data map applies them.

Every refusal names the Apache Atlas check it copies (apache/atlas, ``repository/.../store/graph/v2`` and
``intg/.../type``) and answers with that check's ``AtlasErrorCode`` (HTTP status, ``ATLAS-...`` code, message):

- ``AtlasStructDefStoreV2.updateVertexPreUpdate`` (struct, entity and classification definitions alike): an update
  may not remove an attribute (ATTRIBUTE_DELETION_NOT_SUPPORTED), add a mandatory one (``isOptional`` false,
  CANNOT_ADD_MANDATORY_ATTRIBUTE) or change an attribute's ``typeName`` (BAD_REQUEST "Data type update for
  attribute is not supported").
- ``AtlasStructDefStoreV2.addReferencesForAttribute``: an attribute's type must exist (UNKNOWN_TYPE).
- ``AtlasEntityDefStoreV2``/``AtlasEntityType.resolveReferences``: super types must exist (TYPE_NAME_NOT_FOUND) and
  may not be removed by an update (SUPERTYPE_REMOVAL_NOT_SUPPORTED).
- ``AtlasRelationshipType.resolveReferences``: both ends name an entity type (RELATIONSHIPDEF_INVALID_END_TYPE);
  ``AtlasRelationshipDefStoreV2.preUpdateCheck``: an update keeps the ends and the category
  (RELATIONSHIPDEF_INVALID_END1_UPDATE / _END2_ / _CATEGORY_UPDATE).
- ``AtlasClassificationType.resolveReferences``: ``entityTypes`` name entity types (CLASSIFICATIONDEF_INVALID_ENTITYTYPES).
- ``AtlasEntityGraphDiscoveryV2.validateAndNormalize``: an entity's type is an entity type (TYPE_NAME_INVALID); its
  attribute values fit their types (``AtlasEnumType.isValidValue``: one of the element values, case-insensitive,
  normalized to the declared spelling), mandatory attributes are present; otherwise INSTANCE_CRUD_INVALID_PARAMS.
- ``AtlasEntityStoreV2.validateAndNormalize(AtlasClassification)``: a classification names a classification type
  (CLASSIFICATION_NOT_FOUND); one restricted by ``entityTypes`` fits the entity (INVALID_ENTITY_FOR_CLASSIFICATION).
- Relationship attributes name an end of a relationship defined for the entity's type, and the entity referred to
  has the other end's type (RELATIONSHIP_INVALID_ENDTYPE).

Built in, as in every Purview account: Atlas's ``Referenceable``/``Asset``/``DataSet``/``Process`` and Purview's Azure
Blob storage types (``azure_blob_path``, ``azure_blob_resource_set``: what scans and ADF's own lineage create).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class AtlasFailure(Exception):
    """An Atlas error response: ``{"errorCode": code, "errorMessage": message}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# AtlasErrorCode (apache/atlas intg/src/main/java/org/apache/atlas/AtlasErrorCode.java): (status, code, message)
UNKNOWN_TYPE = (400, "ATLAS-400-00-001", "Unknown type {0} for {1}.{2}")
CANNOT_ADD_MANDATORY_ATTRIBUTE = (400, "ATLAS-400-00-00C", "{0}.{1} : can not add mandatory attribute")
ATTRIBUTE_DELETION_NOT_SUPPORTED = (400, "ATLAS-400-00-00D", "{0}.{1} : attribute delete not supported")
SUPERTYPE_REMOVAL_NOT_SUPPORTED = (400, "ATLAS-400-00-00E", "superType remove not supported")
TYPE_NAME_INVALID = (400, "ATLAS-400-00-014", "Type {0} with name {1} does not exist")
BAD_REQUEST = (400, "ATLAS-400-00-029", "{0}")
RELATIONSHIPDEF_INVALID_END_TYPE = (400, "ATLAS-400-00-035", "relationshipDef {0} has invalid end type {1}")
RELATIONSHIPDEF_INVALID_END1_UPDATE = (400, "ATLAS-400-00-037",
                                       "invalid update for relationshipDef {0}: new end1 {1}, existing end1 {2}")
RELATIONSHIPDEF_INVALID_END2_UPDATE = (400, "ATLAS-400-00-038",
                                       "invalid update for relationshipDef {0}: new end2 {1}, existing end2 {2}")
RELATIONSHIPDEF_INVALID_CATEGORY_UPDATE = (400, "ATLAS-400-00-039", "invalid  update for relationship {0}: new "
                                           "relationshipDef category {1}, existing relationshipDef category {2}")
RELATIONSHIP_INVALID_ENDTYPE = (400, "ATLAS-400-00-045", "Invalid entity-type for relationship attribute '{0}': entity "
                                "specified (guid={1}) is of type '{2}', but expected type is '{3}'")
CLASSIFICATIONDEF_INVALID_ENTITYTYPES = (400, "ATLAS-400-00-052", "ClassificationDef '{0}' has invalid '{1}' in entityTypes")
INVALID_ENTITY_FOR_CLASSIFICATION = (400, "ATLAS-400-00-055", "Entity (guid='{0}',typename='{1}') cannot be classified "
                                     "by Classification '{2}', because '{1}' is not in the ClassificationDef's restrictions.")
TYPE_NAME_NOT_FOUND = (404, "ATLAS-404-00-001", "Given typename {0} was invalid")
INSTANCE_CRUD_INVALID_PARAMS = (404, "ATLAS-404-00-007", "Invalid instance creation/updation parameters passed : {0}")
CLASSIFICATION_NOT_FOUND = (404, "ATLAS-404-00-008", "Given classification {0} was invalid")
TYPE_ALREADY_EXISTS = (409, "ATLAS-409-00-001", "Given type {0} already exists")


def fail(error: tuple[int, str, str], *params: Any) -> AtlasFailure:
    status, code, message = error
    return AtlasFailure(status, code, message.format(*params))


PRIMITIVES = {"boolean", "byte", "short", "int", "long", "float", "double", "biginteger", "bigdecimal", "string", "date"}
CATEGORIES = {"enumDefs": "ENUM", "structDefs": "STRUCT", "classificationDefs": "CLASSIFICATION", "entityDefs": "ENTITY",
              "relationshipDefs": "RELATIONSHIP"}
_ARRAY = re.compile(r"^array<(.+)>$")
_MAP = re.compile(r"^map<([^,]+),(.+)>$")


def _attribute(name: str, type_name: str, optional: bool = True, unique: bool = False) -> dict[str, Any]:
    return {"name": name, "typeName": type_name, "isOptional": optional, "cardinality": "SINGLE", "isUnique": unique}


# Atlas's models/0000-Area0/0010-base_model.json (as Purview serves them), and Purview's Blob storage types.
BUILT_IN: dict[str, dict[str, Any]] = {
    "Referenceable": {"category": "ENTITY", "name": "Referenceable", "superTypes": [],
                      "attributeDefs": [_attribute("qualifiedName", "string", optional=False, unique=True)]},
    "Asset": {"category": "ENTITY", "name": "Asset", "superTypes": ["Referenceable"],
              "attributeDefs": [_attribute("name", "string", optional=False), _attribute("description", "string"),
                                _attribute("owner", "string")]},
    "DataSet": {"category": "ENTITY", "name": "DataSet", "superTypes": ["Asset"], "attributeDefs": []},
    "Process": {"category": "ENTITY", "name": "Process", "superTypes": ["Asset"],
                "attributeDefs": [_attribute("inputs", "array<DataSet>"), _attribute("outputs", "array<DataSet>")]},
    "azure_blob_path": {"category": "ENTITY", "name": "azure_blob_path", "superTypes": ["DataSet"],
                        "serviceType": "Azure Blob Storage", "attributeDefs": []},
    "azure_blob_resource_set": {"category": "ENTITY", "name": "azure_blob_resource_set", "superTypes": ["DataSet"],
                                "serviceType": "Azure Blob Storage", "attributeDefs": []},
}


@dataclass
class TypeRegistry:
    """Type definitions by name; ``write`` applies a create or update only if every definition in it passes."""

    defs: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: dict(v) for k, v in BUILT_IN.items()})

    # -- lookups -------------------------------------------------------------------------------------

    def category(self, name: str) -> str | None:
        definition = self.defs.get(name)
        return definition["category"] if definition else None

    def lineage(self, name: str) -> list[str]:
        """``name`` and all its super types."""
        found, todo = [], [name]
        while todo:
            current = todo.pop()
            if current not in found and current in self.defs:
                found.append(current)
                todo += self.defs[current].get("superTypes", [])
        return found

    def is_a(self, name: str, ancestor: str) -> bool:
        return ancestor in self.lineage(name)

    def attributes(self, name: str) -> dict[str, dict[str, Any]]:
        return {a["name"]: a for t in reversed(self.lineage(name)) for a in self.defs[t].get("attributeDefs", [])}

    def relationship_ends(self, name: str) -> dict[str, tuple[dict[str, Any], str]]:
        """Relationship attribute name -> (relationshipDef, the other end's type) for an entity type."""
        types = set(self.lineage(name))
        ends: dict[str, tuple[dict[str, Any], str]] = {}
        for definition in self.defs.values():
            if definition["category"] != "RELATIONSHIP":
                continue
            one, two = definition["endDef1"], definition["endDef2"]
            if one["type"] in types:
                ends[one["name"]] = (definition, two["type"])
            if two["type"] in types:
                ends[two["name"]] = (definition, one["type"])
        return ends

    def knows_type(self, type_name: str) -> bool:
        type_name = type_name.strip()
        if type_name in PRIMITIVES or type_name in self.defs:
            return True
        if match := _ARRAY.match(type_name):
            return self.knows_type(match[1])
        if match := _MAP.match(type_name):
            return self.knows_type(match[1]) and self.knows_type(match[2])
        return False

    # -- typedefs ------------------------------------------------------------------------------------

    def write(self, body: Mapping[str, Any], *, create: bool) -> list[tuple[str, dict[str, Any]]]:
        """Validate a create (POST) or update (PUT) of an ``AtlasTypesDef`` as a whole; return what to store."""
        incoming = [(group, dict(d)) for group, defs in body.items() if group in CATEGORIES for d in defs or []]
        candidate = TypeRegistry({**self.defs, **{d["name"]: {**d, "category": CATEGORIES[g]} for g, d in incoming}})
        for group, definition in incoming:
            name = definition["name"]
            current = self.defs.get(name)
            if create and current is not None:
                raise fail(TYPE_ALREADY_EXISTS, name)
            if not create and current is None:
                raise fail(TYPE_NAME_NOT_FOUND, name)
            candidate.check_definition(CATEGORIES[group], definition)
            if current is not None:
                _check_update(CATEGORIES[group], definition, current)
        return [(CATEGORIES[g], d) for g, d in incoming]

    def check_definition(self, category: str, definition: Mapping[str, Any]) -> None:
        name = definition["name"]
        for super_type in definition.get("superTypes", []):
            if self.category(super_type) != category:
                raise fail(TYPE_NAME_NOT_FOUND, super_type)
        for attribute in definition.get("attributeDefs", []):
            if not self.knows_type(str(attribute.get("typeName", ""))):
                raise fail(UNKNOWN_TYPE, attribute.get("typeName"), name, attribute.get("name"))
        if category == "RELATIONSHIP":
            for end in (definition["endDef1"], definition["endDef2"]):
                if self.category(end["type"]) != "ENTITY":
                    raise fail(RELATIONSHIPDEF_INVALID_END_TYPE, name, end["type"])
        for entity_type in definition.get("entityTypes", []) if category == "CLASSIFICATION" else []:
            if self.category(entity_type) != "ENTITY":
                raise fail(CLASSIFICATIONDEF_INVALID_ENTITYTYPES, name, entity_type)

    # -- entities ------------------------------------------------------------------------------------

    def check_entity(self, entity: Mapping[str, Any], creating: bool) -> dict[str, Any]:
        """The entity's attributes, normalized; refuses an unknown type, a bad value or a missing mandatory attribute."""
        type_name = str(entity.get("typeName"))
        if self.category(type_name) != "ENTITY":
            raise fail(TYPE_NAME_INVALID, "ENTITY", type_name)
        declared = self.attributes(type_name)
        attributes = dict(entity.get("attributes") or {})
        problems = []
        for name, value in attributes.items():
            attribute = declared.get(name)
            if attribute is None or value is None:
                continue  # attributes the type does not declare are not checked here (our clients send none)
            normalized, ok = self.normalize(str(attribute["typeName"]), value)
            if ok:
                attributes[name] = normalized
            else:
                problems.append(f"{type_name}.{name}: invalid value {value!r} for type {attribute['typeName']}")
        if creating:
            problems += [f"{type_name}.{name}: mandatory attribute value missing in type {type_name}"
                         for name, attribute in declared.items()
                         if not attribute.get("isOptional", True) and attributes.get(name) is None]
        if problems:
            raise fail(INSTANCE_CRUD_INVALID_PARAMS, "; ".join(problems))
        return attributes

    def normalize(self, type_name: str, value: Any) -> tuple[Any, bool]:
        """(normalized value, whether it is valid) for one attribute value."""
        definition = self.defs.get(type_name)
        if definition is not None and definition["category"] == "ENUM":  # AtlasEnumType.isValidValue/getNormalizedValue
            values = {e["value"].lower(): e["value"] for e in definition.get("elementDefs", [])}
            key = str(value).lower()
            return values.get(key), key in values
        if definition is not None and definition["category"] == "ENTITY":
            return value, isinstance(value, Mapping)  # an object id; resolved by the server
        if type_name == "string":
            return value, isinstance(value, str)
        if type_name == "boolean":
            return value, isinstance(value, bool)
        if type_name in ("byte", "short", "int", "long", "biginteger"):
            return value, isinstance(value, int) and not isinstance(value, bool)
        if type_name in ("float", "double", "bigdecimal"):
            return value, isinstance(value, int | float) and not isinstance(value, bool)
        if match := _ARRAY.match(type_name):
            if not isinstance(value, list):
                return value, False
            items = [self.normalize(match[1], item) for item in value]
            return [item for item, _ in items], all(ok for _, ok in items)
        if match := _MAP.match(type_name):
            if not isinstance(value, Mapping):
                return value, False
            entries = {k: self.normalize(match[2].strip(), v) for k, v in value.items()}
            return {k: v for k, (v, _) in entries.items()}, all(ok for _, ok in entries.values())
        return value, True

    def check_classifications(self, entity_type: str, guid: str, classifications: Iterable[Any]) -> list[dict[str, Any]]:
        stored = []
        for classification in classifications:
            name = classification.get("typeName") if isinstance(classification, Mapping) else None
            definition = self.defs.get(str(name))
            if definition is None or definition["category"] != "CLASSIFICATION":
                raise fail(CLASSIFICATION_NOT_FOUND, name)
            allowed = definition.get("entityTypes") or []
            if allowed and not any(self.is_a(entity_type, t) for t in allowed):
                raise fail(INVALID_ENTITY_FOR_CLASSIFICATION, guid, entity_type, name)
            stored.append({"typeName": name, "attributes": dict(classification.get("attributes") or {}),
                           "entityGuid": guid, "entityStatus": "ACTIVE"})
        return stored

    def check_relationship_end(self, entity_type: str, attribute: str, target_type: str, target_guid: str) -> None:
        ends = self.relationship_ends(entity_type)
        if attribute not in ends:
            raise fail(INSTANCE_CRUD_INVALID_PARAMS, f"{entity_type}.{attribute}: no relationship of type {entity_type} "
                                                     "has an end with this name")
        expected = ends[attribute][1]
        if not self.is_a(target_type, expected):
            raise fail(RELATIONSHIP_INVALID_ENDTYPE, attribute, target_guid, target_type, expected)


def _check_update(category: str, new: Mapping[str, Any], current: Mapping[str, Any]) -> None:
    """What Atlas refuses when a definition that exists is updated."""
    name = new["name"]
    if category in ("STRUCT", "ENTITY", "CLASSIFICATION"):  # AtlasStructDefStoreV2.updateVertexPreUpdate
        ours = {a["name"]: a for a in new.get("attributeDefs", [])}
        theirs = {a["name"]: a for a in current.get("attributeDefs", [])}
        for removed in [n for n in theirs if n not in ours]:
            raise fail(ATTRIBUTE_DELETION_NOT_SUPPORTED, name, removed)
        for attribute_name, attribute in ours.items():
            existing = theirs.get(attribute_name)
            if existing is None and not attribute.get("isOptional", True):
                raise fail(CANNOT_ADD_MANDATORY_ATTRIBUTE, name, attribute_name)
            if existing is not None and existing.get("typeName") != attribute.get("typeName"):
                raise fail(BAD_REQUEST, "Data type update for attribute is not supported")
        if not set(current.get("superTypes", [])) <= set(new.get("superTypes", [])):
            raise fail(SUPERTYPE_REMOVAL_NOT_SUPPORTED)
    if category == "RELATIONSHIP":  # AtlasRelationshipDefStoreV2.preUpdateCheck
        for key, error in (("endDef1", RELATIONSHIPDEF_INVALID_END1_UPDATE), ("endDef2", RELATIONSHIPDEF_INVALID_END2_UPDATE)):
            ours_end, their_end = new[key], current[key]
            if (ours_end["type"], ours_end["name"]) != (their_end["type"], their_end["name"]):
                raise fail(error, name, ours_end["type"], their_end["type"])
        if new.get("relationshipCategory") != current.get("relationshipCategory"):
            raise fail(RELATIONSHIPDEF_INVALID_CATEGORY_UPDATE, name, new.get("relationshipCategory"),
                       current.get("relationshipCategory"))
