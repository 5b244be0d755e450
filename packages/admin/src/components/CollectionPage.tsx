/** A collection: its records, attributes (JSON schema included), permissions, history and search. */

import { useState } from "preact/hooks";

import { paths, type KintoObject } from "../api";
import { capability, useApp } from "../context";
import { href, navigate, type CollectionTab } from "../routes";
import { History } from "./History";
import { JsonField } from "./JsonField";
import { ObjectList, lastModifiedColumn, type Column } from "./ObjectList";
import { PermissionsEditor } from "./PermissionsEditor";
import { formSupported } from "./SchemaForm";
import { Search } from "./Search";
import { IdField, ObjectForm, ReadOnlyNotice, editableData, explainCreate, useSubmit } from "./forms";
import { Breadcrumbs, DeleteButton, ErrorMessage, Loading, PageTitle, Tabs, useLoad } from "./ui";

export function CollectionPage({ bid, cid, tab }: { bid: string; cid: string; tab: CollectionTab }) {
  const { api, server, grants } = useApp();
  const path = paths.collection(bid, cid);
  const collection = useLoad(async () => {
    const loaded = await api.get(path);
    grants.note(path, loaded.permissions);
    return loaded;
  }, [api, path]);
  const base = ["buckets", bid, "collections", cid];
  const tabs = [
    { id: "records", label: "Records", parts: base },
    { id: "attributes", label: "Attributes", parts: [...base, "attributes"] },
    { id: "permissions", label: "Permissions", parts: [...base, "permissions"] },
  ];
  if (capability(server, "history")) tabs.push({ id: "history", label: "History", parts: [...base, "history"] });
  if (capability(server, "search")) tabs.push({ id: "search", label: "Search", parts: [...base, "search"] });
  return (
    <>
      <Breadcrumbs
        crumbs={[
          { label: "Buckets", parts: [] },
          { label: bid, parts: ["buckets", bid] },
          { label: cid, parts: base },
        ]}
      />
      <PageTitle>Collection {cid}</PageTitle>
      <Tabs tabs={tabs} current={tab} />
      {collection.loading && !collection.value ? (
        <Loading what="the collection" />
      ) : !collection.value ? (
        <ErrorMessage error={collection.error} />
      ) : (
        <>
          {tab === "records" && <Records bid={bid} cid={cid} collection={collection.value.data} />}
          {tab === "attributes" && (
            <CollectionAttributes bid={bid} cid={cid} collection={collection.value.data} onSaved={collection.reload} />
          )}
          {tab === "permissions" && <PermissionsEditor kind="collection" bid={bid} path={path} />}
          {tab === "history" && <History bid={bid} filters={{ collection_id: cid }} what={`collection ${cid}`} />}
          {tab === "search" && <Search bid={bid} cid={cid} />}
        </>
      )}
    </>
  );
}

/** The record fields shown as columns: the collection's ``displayFields``, else the schema's first fields. */
export function displayFields(collection: KintoObject): string[] {
  if (Array.isArray(collection.displayFields) && collection.displayFields.length) {
    return collection.displayFields.map(String);
  }
  if (formSupported(collection.schema)) return Object.keys(collection.schema.properties ?? {}).slice(0, 3);
  return [];
}

function fieldValue(record: KintoObject, field: string): string {
  let value: unknown = record;
  for (const part of field.split(".")) {
    value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  }
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function Records({ bid, cid, collection }: { bid: string; cid: string; collection: KintoObject }) {
  const { grants } = useApp();
  const path = paths.collection(bid, cid);
  const link = (record: KintoObject, text: string) => (
    <a href={href(["buckets", bid, "collections", cid, "records", record.id])}>{text}</a>
  );
  const columns: Column[] = [
    { field: "id", label: "Id", render: (record) => link(record, record.id) },
    ...displayFields(collection).map((field) => ({ field, label: field, render: (record: KintoObject) => fieldValue(record, field) })),
    lastModifiedColumn(),
  ];
  return (
    <>
      {grants.can(path, "record:create") ? (
        <p>
          <a class="button" href={href(["buckets", bid, "collections", cid, "new-record"])}>
            Create record
          </a>
        </p>
      ) : (
        <p class="notice" role="note">
          You may read the records of this collection, not create them.
        </p>
      )}
      <ObjectList path={paths.records(bid, cid)} caption={`Records of collection ${cid}`} empty="No record yet." columns={columns} />
    </>
  );
}

interface AttributesDraft {
  schema: unknown;
  displayFields: string;
  rest: Record<string, unknown>;
}

function draftOf(collection: KintoObject | undefined): AttributesDraft {
  const { schema, displayFields: shown, ...rest } = editableData(collection);
  return {
    schema: schema ?? {},
    displayFields: Array.isArray(shown) ? shown.join(", ") : "",
    rest,
  };
}

function dataOf(draft: AttributesDraft): Record<string, unknown> {
  const data: Record<string, unknown> = { ...draft.rest };
  if (draft.schema && typeof draft.schema === "object" && Object.keys(draft.schema).length) data.schema = draft.schema;
  const shown = draft.displayFields.split(",").map((field) => field.trim()).filter(Boolean);
  if (shown.length) data.displayFields = shown;
  return data;
}

function CollectionFields({ draft, onChange, readOnly }: { draft: AttributesDraft; onChange: (draft: AttributesDraft, valid: boolean) => void; readOnly?: boolean }) {
  const [invalid, setInvalid] = useState<Set<string>>(new Set());
  const track = (name: string, ok: boolean) => {
    const next = new Set(invalid);
    if (ok) next.delete(name);
    else next.add(name);
    setInvalid(next);
    return next.size === 0;
  };
  return (
    <>
      <JsonField
        id="collection-schema"
        label="JSON schema of the records"
        help="The server checks every record against it (when schema validation is on), and the admin builds the record form from it."
        value={draft.schema}
        readOnly={readOnly}
        onChange={(value, ok) => onChange(ok ? { ...draft, schema: value } : draft, track("schema", ok))}
      />
      <div class="field">
        <label for="collection-display-fields">Fields shown in the list of records</label>
        <p class="help" id="collection-display-fields-help">
          Comma-separated, dotted for nested fields (<code>title, author.name</code>).
        </p>
        <input
          id="collection-display-fields"
          aria-describedby="collection-display-fields-help"
          value={draft.displayFields}
          readOnly={readOnly}
          onInput={(event) => onChange({ ...draft, displayFields: (event.target as HTMLInputElement).value }, invalid.size === 0)}
        />
      </div>
      <JsonField
        id="collection-data"
        label="Other attributes (JSON)"
        rows={5}
        value={draft.rest}
        readOnly={readOnly}
        onChange={(value, ok) => onChange(ok ? { ...draft, rest: value as Record<string, unknown> } : draft, track("rest", ok))}
      />
    </>
  );
}

function CollectionAttributes({ bid, cid, collection, onSaved }: { bid: string; cid: string; collection: KintoObject; onSaved: () => void }) {
  const { api, grants, refresh, notify } = useApp();
  const path = paths.collection(bid, cid);
  const [draft, setDraft] = useState(() => draftOf(collection));
  const [valid, setValid] = useState(true);
  const writable = grants.can(path, "write");
  const form = useSubmit(async () => {
    if (!valid) throw new Error("Some attributes are not valid JSON.");
    await api.replace(path, dataOf(draft), { ifMatch: collection.last_modified });
    notify(`Collection ${cid} saved.`);
    onSaved();
  });
  return (
    <>
      {!writable && <ReadOnlyNotice what="collection" />}
      <ObjectForm label={`Attributes of collection ${cid}`} submitLabel="Save collection" readOnly={!writable} busy={form.busy} error={form.error} onSubmit={form.submit}>
        <CollectionFields
          draft={draft}
          readOnly={!writable}
          onChange={(next, ok) => {
            setDraft(next);
            setValid(ok);
          }}
        />
      </ObjectForm>
      {writable && (
        <DeleteButton
          what={`collection ${cid} and its records`}
          onConfirm={async () => {
            await api.delete(path);
            await refresh();
            navigate(["buckets", bid]);
            notify(`Collection ${cid} deleted.`);
          }}
        />
      )}
    </>
  );
}

export function NewCollection({ bid }: { bid: string }) {
  const { api, refresh, notify } = useApp();
  const [id, setId] = useState("");
  const [draft, setDraft] = useState(() => draftOf(undefined));
  const [valid, setValid] = useState(true);
  const form = useSubmit(async () => {
    if (!valid) throw new Error("Some attributes are not valid JSON.");
    try {
      await api.replace(paths.collection(bid, id), dataOf(draft), { createOnly: true });
    } catch (failure) {
      throw explainCreate(failure, "collection", id);
    }
    await refresh();
    navigate(["buckets", bid, "collections", id]);
    notify(`Collection ${id} created.`);
  });
  return (
    <>
      <Breadcrumbs crumbs={[{ label: "Buckets", parts: [] }, { label: bid, parts: ["buckets", bid] }, { label: "New collection" }]} />
      <PageTitle>Create a collection in {bid}</PageTitle>
      <ObjectForm label="New collection" submitLabel="Create collection" busy={form.busy} error={form.error} onSubmit={form.submit}>
        <IdField what="Collection" value={id} onInput={setId} />
        <CollectionFields
          draft={draft}
          onChange={(next, ok) => {
            setDraft(next);
            setValid(ok);
          }}
        />
      </ObjectForm>
    </>
  );
}
