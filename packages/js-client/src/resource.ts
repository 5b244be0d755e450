/**
 * A resource kept in a local store: reads and writes are local (they work offline) and
 * `sync()` exchanges the changes with the server.
 */
import { LocalRecordError } from "./errors.js";
import { Emitter } from "./events.js";
import { compileFilters, compileSort, type Filters, type SortSpec } from "./filter.js";
import type { HttpClient } from "./http.js";
import { contentOf, type RemoteRecord } from "./records.js";
import type { LocalRecord, Store } from "./stores/index.js";
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
    const id = options.id ?? (data.id as string | undefined) ?? crypto.randomUUID();
    const existing = await this.context.store.get(this.namespace, id);
    if (existing && existing._status !== "deleted") throw new LocalRecordError(`A record with id ${id} exists`, id);
    // Re-creating a deletion not yet published replaces the server's version.
    const record: LocalRecord = existing
      ? { ...contentOf(data), id, last_modified: existing.last_modified, _status: "updated" }
      : { ...contentOf(data), id, _status: "created" };
    return this.write(record, "create");
  }

  /** The local record, `undefined` when absent (or deleted, unless `includeDeleted`). Never calls the server. */
  async get(id: string, options: { includeDeleted?: boolean } = {}): Promise<LocalRecord | undefined> {
    const record = await this.context.store.get(this.namespace, id);
    if (!record || (record._status === "deleted" && !options.includeDeleted)) return undefined;
    return record;
  }

  /** Replaces the record's fields (`patch: true` merges them into the existing ones). */
  async update(record: Record<string, unknown> & { id: string }, options: { patch?: boolean } = {}): Promise<LocalRecord> {
    const existing = await this.get(record.id);
    if (!existing) throw new LocalRecordError(`No record with id ${record.id}`, record.id);
    const content = options.patch ? { ...contentOf(existing), ...contentOf(record) } : contentOf(record);
    const updated: LocalRecord = {
      ...content,
      id: existing.id,
      ...(existing.last_modified !== undefined ? { last_modified: existing.last_modified } : {}),
      _status: existing._status === "created" ? "created" : "updated",
    };
    return this.write(updated, "update");
  }

  /** Deletes locally; the deletion is published at the next `sync()` (a never-published record just goes). */
  async delete(id: string): Promise<LocalRecord> {
    const existing = await this.get(id);
    if (!existing) throw new LocalRecordError(`No record with id ${id}`, id);
    const { store } = this.context;
    if (existing._status === "created") {
      await store.apply(this.namespace, { delete: [id] });
    } else {
      await store.apply(this.namespace, { put: [{ id, last_modified: existing.last_modified, _status: "deleted" }] });
    }
    const event: ChangeEvent = { action: "delete", record: existing, source: "local" };
    this.events.emit("change", event);
    return existing;
  }

  /** Local records, filtered and sorted as the server would. */
  async list(options: ListOptions = {}): Promise<LocalRecord[]> {
    const matches = compileFilters(options.filters);
    const records = (await this.context.store.list(this.namespace)).filter(
      (record) => (options.includeDeleted || record._status !== "deleted") && matches(record),
    );
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
    return this.write(record, "update");
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

  private async write(record: LocalRecord, action: ChangeEvent["action"]): Promise<LocalRecord> {
    await this.context.store.apply(this.namespace, { put: [record] });
    this.events.emit("change", { action, record, source: "local" });
    return record;
  }
}
