/**
 * The store contract: where a client keeps its records between sessions.
 *
 * A store holds several independent *namespaces* (one per synchronised resource). In a namespace
 * it keeps records by id and a few metadata values (the last synchronised timestamp). Records
 * are plain JSON objects; a store returns copies, so a caller mutating what it got changes
 * nothing stored. Implementations: `MemoryStore` (the reference, nothing persists),
 * `LocalForageStore` (any object with localforage's `getItem`/`setItem`/`removeItem`/`keys`/
 * `iterate`), and `IndexedDBStore` (browsers: transactions and indexes).
 *
 * Queries (`list(namespace, {filters, status})`) use the filters' semantics of `filter.ts`, the
 * server's: a store answers them however it can (an index, a scan) but answers exactly. The
 * resource applies the query again to what it gets, so a store that ignores it stays correct,
 * only slower.
 */
import { compileFilters, type Filters } from "../filter.js";

/** Where a local record stands relative to the server. */
export type RecordStatus = "created" | "updated" | "deleted" | "synced";

export interface LocalRecord {
  id: string;
  /** The server's timestamp of the version this record derives from (absent: never published). */
  last_modified?: number;
  _status: RecordStatus;
  [field: string]: unknown;
}

/** Writes applied together by `Store.apply`. */
export interface StoreChanges {
  put?: LocalRecord[];
  delete?: string[];
  meta?: Record<string, unknown>;
}

/** What `Store.list` returns: records matching every filter and, when given, one of the statuses. */
export interface StoreQuery {
  filters?: Filters;
  status?: readonly RecordStatus[];
}

/**
 * Computes the writes of `Store.modify` from the records read (`undefined` where absent, in the
 * order of the ids). It runs synchronously, inside the store's transaction: it may throw to
 * write nothing.
 */
export type Modification = (current: (LocalRecord | undefined)[]) => StoreChanges;

export interface Store {
  /** The record with this id, or `undefined`. */
  get(namespace: string, id: string): Promise<LocalRecord | undefined>;

  /** The records of the namespace matching `query` (all of them without one), in no particular order. */
  list(namespace: string, query?: StoreQuery): Promise<LocalRecord[]>;

  /**
   * Writes records, deletes ids (absent ones are ignored) and sets metadata. All of it lands or
   * none of it when the store has transactions (`transactional`); otherwise the writes are done
   * in order and a failure may leave the first ones done.
   */
  apply(namespace: string, changes: StoreChanges): Promise<void>;

  /**
   * Reads the records with these ids, calls `modification` with them and applies the changes it
   * returns. With `transactional` stores the read and the writes are one transaction: no other
   * write to the namespace lands between them (a sync importing a page cannot overwrite an edit
   * made meanwhile). If `modification` throws, nothing is written and `modify` rejects with
   * that error.
   */
  modify(namespace: string, ids: readonly string[], modification: Modification): Promise<void>;

  /** A metadata value, or `undefined`. */
  getMeta(namespace: string, key: string): Promise<unknown>;

  /** Forgets every record and metadata value of the namespace. */
  clear(namespace: string): Promise<void>;

  /** Whether `apply` and `modify` are atomic. */
  readonly transactional: boolean;
}

/** The part of localforage's API the adapter uses: localforage itself or `localforage.createInstance()`. */
export interface LocalForageLike {
  getItem<T>(key: string): Promise<T | null>;
  setItem<T>(key: string, value: T): Promise<T>;
  removeItem(key: string): Promise<void>;
  keys(): Promise<string[]>;
  iterate<T, U>(iteratee: (value: T, key: string, iterationNumber: number) => U): Promise<U>;
}

export function isLocalForageLike(value: unknown): value is LocalForageLike {
  const candidate = value as Partial<LocalForageLike> | null;
  return (
    typeof candidate === "object" && candidate !== null &&
    ["getItem", "setItem", "removeItem", "keys", "iterate"].every((name) => typeof (candidate as Record<string, unknown>)[name] === "function")
  );
}

export function isStore(value: unknown): value is Store {
  const candidate = value as Partial<Store> | null;
  return (
    typeof candidate === "object" && candidate !== null &&
    ["apply", "list", "modify"].every((name) => typeof (candidate as Record<string, unknown>)[name] === "function")
  );
}

/** Whether a record answers a query: what every store's `list` returns, and what the resource checks again. */
export function queryMatcher(query: StoreQuery | undefined): (record: LocalRecord) => boolean {
  const matches = compileFilters(query?.filters);
  const statuses = query?.status;
  return (record) => (!statuses || statuses.includes(record._status)) && matches(record);
}
