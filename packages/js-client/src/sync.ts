/**
 * One synchronisation of a resource: pull what changed on the server since the last one (every
 * page of `_since`, tombstones included), publish local changes in batches guarded by
 * `If-Match` / `If-None-Match: *`, then pull again to end on the server's timestamp.
 *
 * A conflict is a local change and a server change to the same record. The strategy decides:
 * `manual` leaves the local record as it is and reports the conflict (resolve it with
 * `resource.resolve()`), `server_wins` and `client_wins` keep one side, `pull_only` takes the
 * server's side and publishes nothing.
 */
import { ServerError, ServerWasFlushedError } from "./errors.js";
import type { HttpClient, HttpResponse } from "./http.js";
import { contentOf, etagTimestamp, sameContent, syncedCopy, type RemoteRecord } from "./records.js";
import type { LocalRecord, Store } from "./stores/index.js";

export const SyncStrategy = {
  MANUAL: "manual",
  SERVER_WINS: "server_wins",
  CLIENT_WINS: "client_wins",
  PULL_ONLY: "pull_only",
} as const;
export type Strategy = (typeof SyncStrategy)[keyof typeof SyncStrategy];

export interface Conflict {
  /** `incoming`: found while pulling; `outgoing`: the server refused a published change. */
  type: "incoming" | "outgoing";
  local: LocalRecord;
  /** The server's version, `null` when the server deleted it. */
  remote: RemoteRecord | null;
}

export interface SyncError {
  id: string;
  error: ServerError;
}

export interface SyncResult {
  /** True when no conflict is left and every change was published. */
  ok: boolean;
  /** The server timestamp this client is now synchronised to. */
  lastModified: number | undefined;
  /** Records the pull added, changed, or removed locally. */
  created: LocalRecord[];
  updated: LocalRecord[];
  deleted: { id: string }[];
  /** Local changes the server accepted. */
  published: { id: string; deleted: boolean }[];
  /** Conflicts left to the application (`manual` strategy). */
  conflicts: Conflict[];
  /** Conflicts the strategy settled. */
  resolved: Conflict[];
  errors: SyncError[];
}

export interface SyncOptions {
  strategy?: Strategy;
  /** Synchronise even though the server asked to back off. */
  ignoreBackoff?: boolean;
}

export type ChangeEvent = { action: "create" | "update" | "delete"; record: LocalRecord; source: "local" | "remote" };

export interface SyncEvents {
  change: ChangeEvent;
  conflict: Conflict;
}

export interface SyncTarget {
  http: HttpClient;
  store: Store;
  namespace: string;
  /** The records endpoint below the server root (`/articles`, `/buckets/b/collections/c/records`). */
  path: string;
  events: { emit<K extends keyof SyncEvents>(type: K, payload: SyncEvents[K]): void };
  batchSize: () => Promise<number>;
}

interface BatchRequest {
  method: "PUT" | "DELETE";
  path: string;
  headers: Record<string, string>;
  body?: { data: Record<string, unknown> };
}

interface BatchResponse {
  status: number;
  body?: { data?: RemoteRecord; details?: { existing?: RemoteRecord | null } } & Record<string, unknown>;
}

const MAX_PUBLISH_ROUNDS = 3;
const PENDING = ["created", "updated", "deleted"] as const;

export function emptyResult(): SyncResult {
  return { ok: true, lastModified: undefined, created: [], updated: [], deleted: [], published: [], conflicts: [], resolved: [], errors: [] };
}

export class Synchronisation {
  private readonly target: SyncTarget;
  private readonly strategy: Strategy;
  readonly result = emptyResult();
  /** Records in a manual conflict: not published in this synchronisation. */
  private readonly held = new Set<string>();
  /** Conflicts found inside a store transaction, announced once it committed. */
  private readonly unannounced: Conflict[] = [];

  constructor(target: SyncTarget, strategy: Strategy) {
    this.target = target;
    this.strategy = strategy;
  }

  async run(): Promise<SyncResult> {
    await this.pull();
    if (this.strategy !== SyncStrategy.PULL_ONLY) {
      const published = await this.publish();
      if (published) await this.pull();
    }
    this.result.ok = this.result.conflicts.length === 0 && this.result.errors.length === 0;
    return this.result;
  }

  // ---- pull ---------------------------------------------------------------------------------

  private async pull(): Promise<void> {
    const { http, store, namespace, path } = this.target;
    const since = (await store.getMeta(namespace, "lastModified")) as number | undefined;
    let response: HttpResponse<{ data: RemoteRecord[] }> = await http.request({
      path,
      query: { _since: since, _sort: "-last_modified" },
    });
    const serverTimestamp = etagTimestamp(response.headers.get("ETag"));
    if (serverTimestamp === undefined) throw new Error(`${path} answered without an ETag: is it a list endpoint?`);
    if (since !== undefined && serverTimestamp < since) throw new ServerWasFlushedError(since, serverTimestamp);

    let changes = 0;
    for (;;) {
      changes += response.body.data.length;
      const nextPage = response.headers.get("Next-Page");
      if (!nextPage) break;
      await this.importPage(response.body.data);
      response = await http.request({ path: nextPage });
    }
    if (since !== undefined && changes === 0 && serverTimestamp > since) await this.checkNotFlushed(since, serverTimestamp);
    // The last page and the new timestamp land together: an interrupted pull starts over.
    await this.importPage(response.body.data, { lastModified: serverTimestamp });
    this.result.lastModified = serverTimestamp;
  }

  // The timestamp moved on but nothing is listed since: normal when others changed records we
  // cannot read, a flush when the records we hold are gone. One request tells them apart.
  private async checkNotFlushed(since: number, serverTimestamp: number): Promise<void> {
    const { http, store, namespace, path } = this.target;
    const synced = (await store.list(namespace)).filter((record) => record.last_modified !== undefined);
    if (synced.length === 0) return;
    const newest = synced.reduce((a, b) => ((a.last_modified ?? 0) >= (b.last_modified ?? 0) ? a : b));
    try {
      await http.request({ path: `${path}/${encodeURIComponent(newest.id)}` });
    } catch (error) {
      if (error instanceof ServerError && error.status === 404) throw new ServerWasFlushedError(since, serverTimestamp);
      throw error;
    }
  }

  // Reading the local versions and writing the outcome is one store transaction (with a
  // transactional store): an edit made during the sync is either seen here or made after.
  private async importPage(remotes: RemoteRecord[], meta?: Record<string, unknown>): Promise<void> {
    const { store, namespace } = this.target;
    const changes: ChangeEvent[] = [];
    await store.modify(namespace, remotes.map((remote) => remote.id), (locals) => {
      const put: LocalRecord[] = [];
      const remove: string[] = [];
      remotes.forEach((remote, index) => {
        const outcome = this.incoming(locals[index], remote);
        if (outcome.put) put.push(outcome.put);
        if (outcome.remove) remove.push(remote.id);
        if (outcome.change) changes.push(outcome.change);
      });
      return { put, delete: remove, meta };
    });
    for (const change of changes) this.target.events.emit("change", change);
    this.announceConflicts();
  }

  private announceConflicts(): void {
    for (const conflict of this.unannounced.splice(0)) this.target.events.emit("conflict", conflict);
  }

  private incoming(local: LocalRecord | undefined, remote: RemoteRecord): Outcome {
    if (remote.deleted) return this.incomingDeletion(local, remote);
    // This very version (our own publication coming back), or the base of a newer local change.
    if (local?.last_modified === remote.last_modified) return {};
    if (!local || local._status === "synced") {
      const record = syncedCopy(remote);
      (local ? this.result.updated : this.result.created).push(record);
      return { put: record, change: { action: local ? "update" : "create", record, source: "remote" } };
    }
    if (local._status !== "deleted" && sameContent(local, remote)) return { put: syncedCopy(remote) };
    return this.conflict({ type: "incoming", local, remote });
  }

  private incomingDeletion(local: LocalRecord | undefined, remote: RemoteRecord): Outcome {
    if (!local) return {};
    if (local._status === "synced" || local._status === "deleted") {
      this.result.deleted.push({ id: remote.id });
      return { remove: true, change: { action: "delete", record: local, source: "remote" } };
    }
    return this.conflict({ type: "incoming", local, remote: null });
  }

  private conflict(conflict: Conflict): Outcome {
    const { local, remote } = conflict;
    switch (this.strategy) {
      case SyncStrategy.MANUAL:
        this.held.add(local.id);
        this.result.conflicts.push(conflict);
        this.unannounced.push(conflict);
        return {};
      case SyncStrategy.CLIENT_WINS:
        this.result.resolved.push(conflict);
        return keepLocal(local, remote);
      default:
        this.result.resolved.push(conflict);
        return takeRemote(local, remote);
    }
  }

  // ---- publish ------------------------------------------------------------------------------

  /** Publishes every pending local change; true when the server accepted at least one. */
  private async publish(): Promise<boolean> {
    const { store, namespace } = this.target;
    let pending = (await store.list(namespace, { status: PENDING })).filter((record) => record._status !== "synced" && !this.held.has(record.id));
    let accepted = false;
    for (let round = 0; round < MAX_PUBLISH_ROUNDS && pending.length > 0; round++) {
      const retry: LocalRecord[] = [];
      const batchSize = await this.target.batchSize();
      for (let start = 0; start < pending.length; start += batchSize) {
        const chunk = pending.slice(start, start + batchSize);
        accepted = (await this.publishChunk(chunk, retry)) || accepted;
      }
      pending = retry;
    }
    return accepted;
  }

  private async publishChunk(records: LocalRecord[], retry: LocalRecord[]): Promise<boolean> {
    const { http, store, namespace } = this.target;
    const neverPublished = records.filter((record) => record._status === "deleted" && record.last_modified === undefined);
    if (neverPublished.length) await store.apply(namespace, { delete: neverPublished.map((record) => record.id) });
    const sent = records.filter((record) => !neverPublished.includes(record));
    if (sent.length === 0) return false;

    const response = await http.request<{ responses: BatchResponse[] }>({
      method: "POST",
      path: "/batch",
      body: { requests: sent.map((record) => this.publishRequest(record)) },
    });
    let accepted = false;
    await store.modify(namespace, sent.map((record) => record.id), (current) => {
      const put: LocalRecord[] = [];
      const remove: string[] = [];
      response.body.responses.forEach((answer, index) => {
        const outcome = this.published(sent[index], current[index], answer, retry);
        accepted = accepted || outcome.accepted === true;
        if (outcome.put) put.push(outcome.put);
        if (outcome.remove) remove.push(sent[index].id);
      });
      return { put, delete: remove };
    });
    this.announceConflicts();
    return accepted;
  }

  private publishRequest(record: LocalRecord): BatchRequest {
    const path = `${this.target.path}/${encodeURIComponent(record.id)}`;
    const precondition: Record<string, string> =
      record.last_modified === undefined ? { "If-None-Match": "*" } : { "If-Match": `"${record.last_modified}"` };
    if (record._status === "deleted") return { method: "DELETE", path, headers: precondition };
    return { method: "PUT", path, headers: precondition, body: { data: contentOf(record) } };
  }

  private published(sent: LocalRecord, current: LocalRecord | undefined, answer: BatchResponse, retry: LocalRecord[]): Outcome & { accepted?: boolean } {
    const deleting = sent._status === "deleted";
    if (answer.status >= 200 && answer.status < 300 || (deleting && answer.status === 404)) {
      this.result.published.push({ id: sent.id, deleted: deleting });
      return { ...afterPublish(sent, current, deleting ? undefined : answer.body?.data), accepted: true };
    }
    if (answer.status === 412) {
      const remote = answer.body?.details?.existing ?? null;
      return this.outgoingConflict(current ?? sent, remote, retry);
    }
    this.result.errors.push({ id: sent.id, error: new ServerError(answer.status, answer.body as never) });
    return {};
  }

  private outgoingConflict(local: LocalRecord, remote: RemoteRecord | null, retry: LocalRecord[]): Outcome {
    const conflict: Conflict = { type: "outgoing", local, remote: remote && !remote.deleted ? remote : null };
    const outcome = this.conflict(conflict);
    // The client's side now carries the server's timestamp: publish it again.
    if (this.strategy === SyncStrategy.CLIENT_WINS && outcome.put) retry.push(outcome.put);
    return outcome;
  }
}

interface Outcome {
  put?: LocalRecord;
  remove?: boolean;
  change?: ChangeEvent;
}

function takeRemote(local: LocalRecord, remote: RemoteRecord | null): Outcome {
  if (!remote) return { remove: true, change: { action: "delete", record: local, source: "remote" } };
  const record = syncedCopy(remote);
  return { put: record, change: { action: "update", record, source: "remote" } };
}

function keepLocal(local: LocalRecord, remote: RemoteRecord | null): Outcome {
  if (local._status === "deleted") {
    // Deleted here and on the server: nothing left to publish.
    return remote ? { put: { ...local, last_modified: remote.last_modified } } : { remove: true };
  }
  const { last_modified: _ignored, ...rest } = local;
  if (!remote) return { put: { ...rest, _status: "created" } };
  return { put: { ...rest, last_modified: remote.last_modified, _status: "updated" } };
}

// The server accepted `sent`; the application may have changed the record meanwhile. Its newer
// change is kept, based on the version just published, so the next sync publishes it cleanly.
function afterPublish(sent: LocalRecord, current: LocalRecord | undefined, accepted: RemoteRecord | undefined): Outcome {
  const unchanged = current !== undefined && current._status === sent._status && sameContent(current, sent);
  if (!accepted) {
    if (!current || unchanged) return { remove: true };
    return { put: { ...current, _status: "created", last_modified: undefined } };
  }
  if (unchanged) return { put: syncedCopy(accepted) };
  if (!current) return {};
  return { put: { ...current, last_modified: accepted.last_modified, _status: current._status === "deleted" ? "deleted" : "updated" } };
}
