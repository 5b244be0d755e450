/** What a record is locally and remotely, and the helpers comparing the two. */
import { jsonEqual } from "./filter.js";
import type { LocalRecord } from "./stores/index.js";

/** A record as the server lists it; a tombstone carries `deleted: true` and nothing else. */
export interface RemoteRecord {
  id: string;
  last_modified: number;
  deleted?: boolean;
  [field: string]: unknown;
}

const BOOKKEEPING = new Set(["id", "last_modified", "_status"]);

/** The fields the application owns: what is published and compared. */
export function contentOf(record: Record<string, unknown>): Record<string, unknown> {
  const content: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (!BOOKKEEPING.has(key)) content[key] = value;
  }
  return content;
}

export function sameContent(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return jsonEqual(contentOf(a), contentOf(b));
}

export function syncedCopy(remote: RemoteRecord): LocalRecord {
  return { ...remote, _status: "synced" };
}

/** The timestamp in an `ETag` header (`"1234"`), or undefined. */
export function etagTimestamp(etag: string | null): number | undefined {
  if (!etag) return undefined;
  const value = Number.parseInt(etag.replace(/^W\//, "").replace(/"/g, ""), 10);
  return Number.isFinite(value) ? value : undefined;
}
