/** A record: edited in the form generated from the collection's schema, or as JSON; its permissions and history. */

import { useState } from "preact/hooks";

import { ApiError, paths, type KintoObject } from "../api";
import { capability, useApp } from "../context";
import { navigate, type ObjectTab } from "../routes";
import { History } from "./History";
import { JsonField } from "./JsonField";
import { PermissionsEditor } from "./PermissionsEditor";
import { SchemaForm, defaultsOf, formSupported, type JsonSchema } from "./SchemaForm";
import { IdField, ObjectForm, ReadOnlyNotice, editableData, explainCreate, useSubmit } from "./forms";
import { Breadcrumbs, DeleteButton, ErrorMessage, Loading, PageTitle, Tabs, useLoad } from "./ui";

export function RecordPage({ bid, cid, rid, tab }: { bid: string; cid: string; rid: string; tab: ObjectTab }) {
  const { api, server, grants } = useApp();
  const path = paths.record(bid, cid, rid);
  const loaded = useLoad(async () => {
    const [collection, record] = await Promise.all([api.get(paths.collection(bid, cid)), api.get(path)]);
    grants.note(paths.collection(bid, cid), collection.permissions);
    grants.note(path, record.permissions);
    return { collection: collection.data, record: record.data };
  }, [api, path]);
  const base = ["buckets", bid, "collections", cid, "records", rid];
  const tabs = [
    { id: "attributes", label: "Attributes", parts: base },
    { id: "permissions", label: "Permissions", parts: [...base, "permissions"] },
  ];
  if (capability(server, "history")) tabs.push({ id: "history", label: "History", parts: [...base, "history"] });
  return (
    <>
      <Breadcrumbs
        crumbs={[
          { label: "Buckets", parts: [] },
          { label: bid, parts: ["buckets", bid] },
          { label: cid, parts: ["buckets", bid, "collections", cid] },
          { label: rid, parts: base },
        ]}
      />
      <PageTitle>Record {rid}</PageTitle>
      <Tabs tabs={tabs} current={tab} />
      {tab === "attributes" &&
        (loaded.loading && !loaded.value ? (
          <Loading what="the record" />
        ) : !loaded.value ? (
          <ErrorMessage error={loaded.error} />
        ) : (
          <EditRecord
            key={loaded.value.record.last_modified}
            bid={bid}
            cid={cid}
            collection={loaded.value.collection}
            record={loaded.value.record}
            onSaved={loaded.reload}
          />
        ))}
      {tab === "permissions" && <PermissionsEditor kind="record" bid={bid} path={path} />}
      {tab === "history" && <History bid={bid} filters={{ record_id: rid }} what={`record ${rid}`} />}
    </>
  );
}

interface EditorProps {
  collection: KintoObject;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>, valid: boolean) => void;
  error: unknown;
  readOnly?: boolean;
}

/** The form and the JSON editor of a record's data, the user switching between them. */
function RecordEditor({ collection, value, onChange, error, readOnly }: EditorProps) {
  const schema = collection.schema;
  const hasForm = formSupported(schema);
  const [mode, setMode] = useState<"form" | "json">(hasForm ? "form" : "json");
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : [];
  return (
    <>
      {hasForm && (
        <div class="mode" role="group" aria-label="Edit the record with">
          <button type="button" class="secondary" aria-pressed={mode === "form"} onClick={() => setMode("form")}>
            Form
          </button>
          <button type="button" class="secondary" aria-pressed={mode === "json"} onClick={() => setMode("json")}>
            JSON
          </button>
        </div>
      )}
      {mode === "form" && hasForm ? (
        <SchemaForm
          schema={schema as JsonSchema}
          value={value}
          errors={fieldErrors}
          readOnly={readOnly}
          onChange={(next) => onChange(next, true)}
        />
      ) : (
        <JsonField
          id="record-data"
          label="Record (JSON)"
          value={value}
          readOnly={readOnly}
          onChange={(next, valid) => onChange(next as Record<string, unknown>, valid)}
        />
      )}
    </>
  );
}

function EditRecord({ bid, cid, collection, record, onSaved }: { bid: string; cid: string; collection: KintoObject; record: KintoObject; onSaved: () => void }) {
  const { api, grants, notify } = useApp();
  const path = paths.record(bid, cid, record.id);
  const [data, setData] = useState(() => editableData(record));
  const [valid, setValid] = useState(true);
  const writable = grants.can(path, "write");
  const form = useSubmit(async () => {
    if (!valid) throw new Error("The record is not valid JSON.");
    await api.replace(path, data, { ifMatch: record.last_modified });
    notify(`Record ${record.id} saved.`);
    onSaved();
  });
  return (
    <>
      {!writable && <ReadOnlyNotice what="record" />}
      <ObjectForm label={`Record ${record.id}`} submitLabel="Save record" readOnly={!writable} busy={form.busy} error={form.error} onSubmit={form.submit}>
        <RecordEditor
          collection={collection}
          value={data}
          error={form.error}
          readOnly={!writable}
          onChange={(next, ok) => {
            setValid(ok);
            if (ok) setData(next);
          }}
        />
      </ObjectForm>
      {writable && (
        <DeleteButton
          what={`record ${record.id}`}
          onConfirm={async () => {
            await api.delete(path, record.last_modified);
            navigate(["buckets", bid, "collections", cid]);
            notify(`Record ${record.id} deleted.`);
          }}
        />
      )}
    </>
  );
}

export function NewRecord({ bid, cid }: { bid: string; cid: string }) {
  const { api } = useApp();
  const collection = useLoad(() => api.get(paths.collection(bid, cid)), [api, bid, cid]);
  return (
    <>
      <Breadcrumbs
        crumbs={[
          { label: "Buckets", parts: [] },
          { label: bid, parts: ["buckets", bid] },
          { label: cid, parts: ["buckets", bid, "collections", cid] },
          { label: "New record" },
        ]}
      />
      <PageTitle>Create a record in {cid}</PageTitle>
      {collection.loading && !collection.value ? (
        <Loading what="the collection" />
      ) : !collection.value ? (
        <ErrorMessage error={collection.error} />
      ) : (
        <CreateRecord bid={bid} cid={cid} collection={collection.value.data} />
      )}
    </>
  );
}

function CreateRecord({ bid, cid, collection }: { bid: string; cid: string; collection: KintoObject }) {
  const { api, notify } = useApp();
  const [id, setId] = useState("");
  const [data, setData] = useState<Record<string, unknown>>(() =>
    formSupported(collection.schema) ? defaultsOf(collection.schema) : {},
  );
  const [valid, setValid] = useState(true);
  const form = useSubmit(async () => {
    if (!valid) throw new Error("The record is not valid JSON.");
    let created: KintoObject;
    if (id) {
      try {
        created = (await api.replace(paths.record(bid, cid, id), data, { createOnly: true })).data;
      } catch (failure) {
        throw explainCreate(failure, "record", id);
      }
    } else {
      created = (await api.create(paths.records(bid, cid), data)).data;
    }
    navigate(["buckets", bid, "collections", cid, "records", created.id]);
    notify(`Record ${created.id} created.`);
  });
  return (
    <ObjectForm label="New record" submitLabel="Create record" busy={form.busy} error={form.error} onSubmit={form.submit}>
      <IdField what="Record" value={id} onInput={setId} optional />
      <RecordEditor
        collection={collection}
        value={data}
        error={form.error}
        onChange={(next, ok) => {
          setValid(ok);
          if (ok) setData(next);
        }}
      />
    </ObjectForm>
  );
}
