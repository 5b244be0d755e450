/**
 * The store contract: where a client keeps its records between sessions.
 *
 * A store holds several independent *namespaces* (one per synchronised resource). In a namespace
 * it keeps records by id and a few metadata values (the last synchronised timestamp). Records
 * are plain JSON objects; a store returns copies, so a caller mutating what it got changes
 * nothing stored. Implementations: `MemoryStore` (the reference, nothing persists),
 * `LocalForageStore` (any object with localforage's `getItem`/`setItem`/`removeItem`/`keys`/
 * `iterate`), and `IndexedDBStore` (browsers) in a later release.
 */

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

export interface Store {
  /** The record with this id, or `undefined`. */
  get(namespace: string, id: string): Promise<LocalRecord | undefined>;

  /** Every record of the namespace, in no particular order. */
  list(namespace: string): Promise<LocalRecord[]>;

  /**
   * Writes records, deletes ids (absent ones are ignored) and sets metadata. All of it lands or
   * none of it when the store has transactions (`transactional`); otherwise the writes are done
   * in order and a failure may leave the first ones done.
   */
  apply(namespace: string, changes: StoreChanges): Promise<void>;

  /** A metadata value, or `undefined`. */
  getMeta(namespace: string, key: string): Promise<unknown>;

  /** Forgets every record and metadata value of the namespace. */
  clear(namespace: string): Promise<void>;

  /** Whether `apply` is atomic. */
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
  return typeof candidate === "object" && candidate !== null && typeof candidate.apply === "function" && typeof candidate.list === "function";
}
