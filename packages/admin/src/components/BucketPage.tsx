/** A bucket: its collections, groups, attributes, permissions and history; and the bucket creation form. */

import { useState } from "preact/hooks";

import { paths } from "../api";
import { capability, useApp } from "../context";
import { href, navigate, type BucketTab } from "../routes";
import { History } from "./History";
import { JsonField } from "./JsonField";
import { ObjectList, lastModifiedColumn } from "./ObjectList";
import { PermissionsEditor } from "./PermissionsEditor";
import { IdField, ObjectForm, ReadOnlyNotice, editableData, explainCreate, useSubmit } from "./forms";
import { Breadcrumbs, DeleteButton, ErrorMessage, Loading, PageTitle, Tabs, useLoad } from "./ui";

export function BucketPage({ bid, tab }: { bid: string; tab: BucketTab }) {
  const { api, server, grants } = useApp();
  const path = paths.bucket(bid);
  // What the user may do here (shown to writers only): learnt before the page offers to create anything.
  // Users who may not read the bucket itself may still see the collections shared with them.
  const bucket = useLoad(async () => {
    const loaded = await api.get(path).catch(() => null);
    grants.note(path, loaded?.permissions);
    return loaded;
  }, [api, path]);
  const tabs = [
    { id: "collections", label: "Collections", parts: ["buckets", bid] },
    { id: "groups", label: "Groups", parts: ["buckets", bid, "groups"] },
    { id: "attributes", label: "Attributes", parts: ["buckets", bid, "attributes"] },
    { id: "permissions", label: "Permissions", parts: ["buckets", bid, "permissions"] },
  ];
  if (capability(server, "history")) tabs.push({ id: "history", label: "History", parts: ["buckets", bid, "history"] });
  return (
    <>
      <Breadcrumbs crumbs={[{ label: "Buckets", parts: [] }, { label: bid, parts: ["buckets", bid] }]} />
      <PageTitle>Bucket {bid}</PageTitle>
      <Tabs tabs={tabs} current={tab} />
      {bucket.loading && <Loading what="the bucket" />}
      {!bucket.loading && tab === "collections" && (
        <>
          {grants.can(path, "collection:create") && (
            <p>
              <a class="button" href={href(["buckets", bid, "new-collection"])}>
                Create collection
              </a>
            </p>
          )}
          <ObjectList
            path={paths.collections(bid)}
            caption={`Collections of bucket ${bid}`}
            empty="No collection you may read."
            columns={[
              {
                field: "id",
                label: "Id",
                render: (collection) => <a href={href(["buckets", bid, "collections", collection.id])}>{collection.id}</a>,
              },
              lastModifiedColumn(),
            ]}
          />
        </>
      )}
      {!bucket.loading && tab === "groups" && (
        <>
          {grants.can(path, "group:create") && (
            <p>
              <a class="button" href={href(["buckets", bid, "new-group"])}>
                Create group
              </a>
            </p>
          )}
          <ObjectList
            path={paths.groups(bid)}
            caption={`Groups of bucket ${bid}`}
            empty="No group you may read."
            columns={[
              { field: "id", label: "Id", render: (group) => <a href={href(["buckets", bid, "groups", group.id])}>{group.id}</a> },
              { label: "Members", render: (group) => (Array.isArray(group.members) ? group.members.length : 0) },
              lastModifiedColumn(),
            ]}
          />
        </>
      )}
      {tab === "attributes" && <BucketAttributes bid={bid} />}
      {tab === "permissions" && <PermissionsEditor kind="bucket" bid={bid} path={path} />}
      {tab === "history" && <History bid={bid} what={`bucket ${bid}`} />}
    </>
  );
}

function BucketAttributes({ bid }: { bid: string }) {
  const { api, grants, refresh, notify } = useApp();
  const path = paths.bucket(bid);
  const loaded = useLoad(async () => {
    const bucket = await api.get(path);
    grants.note(path, bucket.permissions);
    return bucket;
  }, [api, path]);
  const [data, setData] = useState<Record<string, unknown> | null>(null);
  const [valid, setValid] = useState(true);
  const writable = grants.can(path, "write");
  const current = data ?? editableData(loaded.value?.data);
  const form = useSubmit(async () => {
    if (!valid) throw new Error("The attributes are not valid JSON.");
    await api.replace(path, current, { ifMatch: loaded.value!.data.last_modified });
    notify(`Bucket ${bid} saved.`);
    setData(null);
    loaded.reload();
  });
  if (loaded.loading && !loaded.value) return <Loading what="the bucket" />;
  if (!loaded.value) return <ErrorMessage error={loaded.error} />;
  return (
    <>
      {!writable && <ReadOnlyNotice what="bucket" />}
      <ObjectForm label={`Attributes of bucket ${bid}`} submitLabel="Save bucket" readOnly={!writable} busy={form.busy} error={form.error} onSubmit={form.submit}>
        <JsonField
          id="bucket-data"
          label="Attributes (JSON)"
          value={current}
          readOnly={!writable}
          onChange={(value, ok) => {
            setValid(ok);
            if (ok) setData(value as Record<string, unknown>);
          }}
        />
      </ObjectForm>
      {writable && (
        <DeleteButton
          what={`bucket ${bid} and everything in it`}
          onConfirm={async () => {
            await api.delete(path);
            notify(`Bucket ${bid} deleted.`);
            await refresh();
            navigate([]);
          }}
        />
      )}
    </>
  );
}

export function NewBucket() {
  const { api, refresh, notify } = useApp();
  const [id, setId] = useState("");
  const [data, setData] = useState<Record<string, unknown>>({});
  const [valid, setValid] = useState(true);
  const form = useSubmit(async () => {
    if (!valid) throw new Error("The attributes are not valid JSON.");
    try {
      await api.replace(paths.bucket(id), data, { createOnly: true });
    } catch (failure) {
      throw explainCreate(failure, "bucket", id);
    }
    await refresh();
    navigate(["buckets", id]);
    notify(`Bucket ${id} created.`);
  });
  return (
    <>
      <Breadcrumbs crumbs={[{ label: "Buckets", parts: [] }, { label: "New bucket" }]} />
      <PageTitle>Create a bucket</PageTitle>
      <ObjectForm label="New bucket" submitLabel="Create bucket" busy={form.busy} error={form.error} onSubmit={form.submit}>
        <IdField what="Bucket" value={id} onInput={setId} />
        <JsonField
          id="bucket-data"
          label="Attributes (JSON)"
          value={data}
          rows={6}
          onChange={(value, ok) => {
            setValid(ok);
            if (ok) setData(value as Record<string, unknown>);
          }}
        />
      </ObjectForm>
    </>
  );
}
