/**
 * A resource kept in a local store: reads and writes are local (they work offline) and
 * `sync()` exchanges the changes with the server.
 */
import { LocalRecordError } from "./errors.js";
import { Emitter } from "./events.js";
import { compileSort, type Filters, type SortSpec } from "./filter.js";
import type { HttpClient } from "./http.js";
import { contentOf, type RemoteRecord } from "./records.js";
import { queryMatcher, type LocalRecord, type RecordStatus, type Store, type StoreChanges } from "./stores/index.js";
import {
  SyncStrategy,
  Synchronisation,
  type ChangeEvent,
  type Conflict,
  type SyncEvents,
  type SyncOptions,
  type SyncResult,
} from "./sync.js";

export interface ResourceEvents extends SyncEvents {
  "sync:start": { path: string };
  "sync:end": SyncResult;
  "sync:error": unknown;
}

export interface ListOptions {
  filters?: Filters;
  /** Default `-last_modified`: records never published (no timestamp) first, then newest first. */
  sort?: SortSpec;
  /** Include local deletions not yet published (`_status: "deleted"`). */
  includeDeleted?: boolean;
}

export interface ResourceContext {
  http: HttpClient;
  store: Store;
  batchSize: () => Promise<number>;
}

export class Resource {
  /** The records endpoint below the server root. */
  readonly path: string;
  readonly events = new Emitter<ResourceEvents>();
  private readonly context: ResourceContext;
  private readonly namespace: string;
  private running: Promise<SyncResult> | undefined;

  constructor(context: ResourceContext, path: string) {
    this.context = context;
    this.path = "/" + path.replace(/^\/+|\/+$/g, "");
    this.namespace = context.http.root + this.path;
  }

  /** Adds a record locally (`_status: "created"`); its id is a new UUID unless `options.id` is given. */
  async create(data: Record<string, unknown>, options: { id?: string } = {}): Promise<LocalRecord> {
    const id = options.id ?? (data.id as string | undefined) ?? newId();
    return this.write(id, "create", (existing) => {
      if (existing && existing._status !== "deleted") throw new LocalRecordError(`A record with id ${id} exists`, id);
      // Re-creating a deletion not yet published replaces the server's version.
      return existing
        ? { ...contentOf(data), id, last_modified: existing.last_modified, _status: "updated" }
        : { ...contentOf(data), id, _status: "created" };
    });
  }

  /** The local record, `undefined` when absent (or deleted, unless `includeDeleted`). Never calls the server. */
  async get(id: string, options: { includeDeleted?: boolean } = {}): Promise<LocalRecord | undefined> {
    const record = await this.context.store.get(this.namespace, id);
    if (!record || (record._status === "deleted" && !options.includeDeleted)) return undefined;
    return record;
  }

  /** Replaces the record's fields (`patch: true` merges them into the existing ones). */
  async update(record: Record<string, unknown> & { id: string }, options: { patch?: boolean } = {}): Promise<LocalRecord> {
    return this.write(record.id, "update", (existing) => {
      if (!existing || existing._status === "deleted") throw new LocalRecordError(`No record with id ${record.id}`, record.id);
      const content = options.patch ? { ...contentOf(existing), ...contentOf(record) } : contentOf(record);
      return {
        ...content,
        id: existing.id,
        ...(existing.last_modified !== undefined ? { last_modified: existing.last_modified } : {}),
        _status: existing._status === "created" ? "created" : "updated",
      };
    });
  }

  /** Deletes locally; the deletion is published at the next `sync()` (a never-published record just goes). */
  async delete(id: string): Promise<LocalRecord> {
    let deleted: LocalRecord | undefined;
    await this.context.store.modify(this.namespace, [id], ([existing]) => {
      if (!existing || existing._status === "deleted") throw new LocalRecordError(`No record with id ${id}`, id);
      deleted = existing;
      if (existing._status === "created") return { delete: [id] };
      return { put: [{ id, last_modified: existing.last_modified, _status: "deleted" }] };
    });
    const event: ChangeEvent = { action: "delete", record: deleted!, source: "local" };
    this.events.emit("change", event);
    return deleted!;
  }

  /** Local records, filtered and sorted as the server would; the store's indexes serve the filters they can. */
  async list(options: ListOptions = {}): Promise<LocalRecord[]> {
    const query = { filters: options.filters, status: options.includeDeleted ? undefined : VISIBLE };
    const matches = queryMatcher(query);
    // Checked again: a store written before queries existed returns every record.
    const records = (await this.context.store.list(this.namespace, query)).filter(matches);
    return records.sort(compileSort(options.sort ?? "-last_modified"));
  }

  /** `list({filters})`: `filter({title: {$eq: "Hello"}})`. */
  filter(filters: Filters, options: Omit<ListOptions, "filters"> = {}): Promise<LocalRecord[]> {
    return this.list({ ...options, filters });
  }

  /** Synchronises with the server; calls made while one runs share its result. */
  sync(options: SyncOptions = {}): Promise<SyncResult> {
    this.running ??= this.runSync(options).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runSync(options: SyncOptions): Promise<SyncResult> {
    if (!options.ignoreBackoff) this.context.http.checkBackoff();
    this.events.emit("sync:start", { path: this.path });
    try {
      const synchronisation = new Synchronisation(
        { ...this.context, namespace: this.namespace, path: this.path, events: this.events },
        options.strategy ?? SyncStrategy.MANUAL,
      );
      const result = await synchronisation.run();
      this.events.emit("sync:end", result);
      return result;
    } catch (error) {
      this.events.emit("sync:error", error);
      throw error;
    }
  }

  /**
   * Settles a conflict with `resolution` (the record's content to keep): it becomes a local
   * change based on the server's version, published at the next `sync()`.
   */
  async resolve(conflict: Conflict, resolution: Record<string, unknown>): Promise<LocalRecord> {
    const remote: RemoteRecord | null = conflict.remote;
    const record: LocalRecord = remote
      ? { ...contentOf(resolution), id: conflict.local.id, last_modified: remote.last_modified, _status: "updated" }
      : { ...contentOf(resolution), id: conflict.local.id, _status: "created" };
    return this.write(record.id, "update", () => record);
  }

  /** The server timestamp of the last synchronisation, `undefined` before the first one. */
  async lastModified(): Promise<number | undefined> {
    return (await this.context.store.getMeta(this.namespace, "lastModified")) as number | undefined;
  }

  /**
   * Forgets what the server had: every local record becomes a creation to publish, pending
   * deletions are dropped. What to do after `ServerWasFlushedError`.
   */
  async resetSyncStatus(): Promise<number> {
    const records = await this.context.store.list(this.namespace);
    const kept = records.filter((record) => record._status !== "deleted");
    const put: LocalRecord[] = kept.map((record) => ({ ...contentOf(record), id: record.id, _status: "created" }));
    const dropped = records.filter((record) => record._status === "deleted").map((record) => record.id);
    await this.context.store.apply(this.namespace, { put, delete: dropped, meta: { lastModified: undefined } });
    return put.length;
  }

  /** Forgets every local record and the synchronisation state. */
  clear(): Promise<void> {
    return this.context.store.clear(this.namespace);
  }

  private async write(id: string, action: ChangeEvent["action"], build: (existing: LocalRecord | undefined) => LocalRecord): Promise<LocalRecord> {
    let record: LocalRecord | undefined;
    await this.context.store.modify(this.namespace, [id], ([existing]): StoreChanges => {
      record = build(existing);
      return { put: [record] };
    });
    this.events.emit("change", { action, record: record!, source: "local" });
    return record!;
  }
}

const VISIBLE: readonly RecordStatus[] = ["created", "updated", "synced"];

/** A random UUID; `crypto.randomUUID` exists only in secure contexts (https, localhost). */
function newId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
