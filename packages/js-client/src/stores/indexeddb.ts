/**
 * The browser's store: IndexedDB, one database for every namespace.
 *
 * - `records` holds `{ns, id, record, keys}` under the key `[ns, id]`; `keys` are the encoded
 *   values of the indexed fields (see `plan.ts`). Indexes: `_status` on `[ns, record._status]`,
 *   and `field:<name>` on `[ns, keys.<name>]` for `last_modified` and each field the application
 *   declares (`new IndexedDBStore({indexes: ["title", "author.name"]})`).
 * - `meta` holds `{ns, key, value}` under `[ns, key]`.
 *
 * Every call is one transaction: `apply` and `modify` are atomic, so a synchronisation imports
 * each page of the server's changes, and the new timestamp with the last one, all or nothing.
 *
 * Declaring a field that has no index yet upgrades the database (a new version) and indexes the
 * records already there. Indexes are never dropped by a store that does not declare them:
 * every store on the database keeps every index up to date, whoever declared it.
 */
import { fieldValue } from "../filter.js";
import { queryMatcher, type LocalRecord, type Modification, type Store, type StoreChanges, type StoreQuery } from "./index.js";
import { indexKey, planQuery, type KeyRange, type Plan } from "./plan.js";

export interface IndexedDBStoreOptions {
  /** The database's name (default `kinto-core-client`). */
  name?: string;
  /** Fields to index, besides `last_modified` and `_status`: `filter()` on them reads the index. */
  indexes?: readonly string[];
  /** The IndexedDB implementation (default: the browser's `indexedDB`). */
  factory?: IDBFactory;
}

interface Row {
  ns: string;
  id: string;
  record: LocalRecord;
  keys: Record<string, unknown>;
}

const RECORDS = "records";
const META = "meta";
const STATUS_INDEX = "_status";
const FIELD_INDEX_PREFIX = "field:";
const ALWAYS_INDEXED = ["last_modified"];

interface Connection {
  db: IDBDatabase;
  /** Every indexed field of the database, declared by this store or another. */
  fields: Set<string>;
}

export class IndexedDBStore implements Store {
  readonly transactional = true;
  readonly name: string;
  private readonly declared: string[];
  private readonly factory: IDBFactory | undefined;
  private connection: Promise<Connection> | undefined;

  constructor(options: IndexedDBStoreOptions = {}) {
    this.name = options.name ?? "kinto-core-client";
    this.declared = [...new Set([...ALWAYS_INDEXED, ...(options.indexes ?? [])])];
    this.factory = options.factory ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  }

  async get(namespace: string, id: string): Promise<LocalRecord | undefined> {
    const { db } = await this.open();
    let row: Row | undefined;
    await transaction(db, [RECORDS], "readonly", (tx) => {
      tx.objectStore(RECORDS).get([namespace, id]).onsuccess = (event) => {
        row = (event.target as IDBRequest<Row | undefined>).result;
      };
    });
    return row?.record;
  }

  async list(namespace: string, query?: StoreQuery): Promise<LocalRecord[]> {
    const { db, fields } = await this.open();
    const plan = planQuery(query, fields);
    const matches = queryMatcher(query);
    const records: LocalRecord[] = [];
    await transaction(db, [RECORDS], "readonly", (tx) => {
      for (const request of this.planRequests(tx.objectStore(RECORDS), namespace, plan)) {
        request.onsuccess = () => {
          for (const row of request.result) if (matches(row.record)) records.push(row.record);
        };
      }
    });
    return records;
  }

  /** How `list(namespace, query)` reads: which index and how many key ranges, or a scan of the namespace. */
  async explain(query?: StoreQuery): Promise<Plan> {
    return planQuery(query, (await this.open()).fields);
  }

  async apply(namespace: string, changes: StoreChanges): Promise<void> {
    const { db, fields } = await this.open();
    await transaction(db, [RECORDS, META], "readwrite", (tx) => write(tx, namespace, changes, fields));
  }

  async modify(namespace: string, ids: readonly string[], modification: Modification): Promise<void> {
    const { db, fields } = await this.open();
    await transaction(db, [RECORDS, META], "readwrite", (tx, fail) => {
      const proceed = (current: (LocalRecord | undefined)[]) => {
        try {
          write(tx, namespace, modification(current), fields);
        } catch (error) {
          fail(error);
        }
      };
      // Still the same transaction: the writes are queued from the reads' answers.
      readRecords(tx.objectStore(RECORDS), namespace, ids, proceed);
    });
  }

  async getMeta(namespace: string, key: string): Promise<unknown> {
    const { db } = await this.open();
    let value: unknown;
    await transaction(db, [META], "readonly", (tx) => {
      tx.objectStore(META).get([namespace, key]).onsuccess = (event) => {
        value = (event.target as IDBRequest<{ value: unknown } | undefined>).result?.value;
      };
    });
    return value;
  }

  async clear(namespace: string): Promise<void> {
    const { db } = await this.open();
    await transaction(db, [RECORDS, META], "readwrite", (tx) => {
      tx.objectStore(RECORDS).delete(namespaceRange(namespace));
      tx.objectStore(META).delete(namespaceRange(namespace));
    });
  }

  /** Closes the database connection (the next call opens it again). */
  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) (await connection).db.close();
  }

  private planRequests(records: IDBObjectStore, namespace: string, plan: Plan): IDBRequest<Row[]>[] {
    switch (plan.using) {
      case "scan":
        return [records.getAll(namespaceRange(namespace))];
      case "status": {
        const index = records.index(STATUS_INDEX);
        return plan.statuses.map((status) => index.getAll(IDBKeyRange.only([namespace, status])));
      }
      case "index": {
        const index = records.index(FIELD_INDEX_PREFIX + plan.field);
        const ranges = plan.ranges.map((range) => keyRange(this.idb(), namespace, range)).filter((range) => range !== undefined);
        return ranges.map((range) => index.getAll(range));
      }
    }
  }

  private idb(): IDBFactory {
    if (!this.factory) throw new Error("IndexedDBStore needs IndexedDB: none in this environment (pass options.factory)");
    return this.factory;
  }

  private open(): Promise<Connection> {
    this.connection ??= this.connect().catch((error: unknown) => {
      this.connection = undefined;
      throw error;
    });
    return this.connection;
  }

  private async connect(): Promise<Connection> {
    const factory = this.idb();
    for (let attempt = 0; attempt < 5; attempt++) {
      const db = await request(factory.open(this.name));
      if (hasStores(db) && missingIndexes(db, this.declared).length === 0) return this.connected(db);
      const version = db.version + 1;
      db.close();
      try {
        // Another store may have upgraded meanwhile: either way, the next round checks again.
        (await upgrade(factory, this.name, version, this.declared)).close();
      } catch (error) {
        if ((error as DOMException | null)?.name !== "VersionError") throw error;
      }
    }
    throw new Error(`IndexedDB database ${this.name}: could not add the indexes ${this.declared.join(", ")}`);
  }

  private connected(db: IDBDatabase): Connection {
    // Another connection (another tab) upgrading the database: let it, and reconnect afterwards.
    db.onversionchange = () => {
      db.close();
      this.connection = undefined;
    };
    return { db, fields: indexedFields(db) };
  }
}

/**
 * Reads the records with these ids, then calls `done` with them (`undefined` where absent). A
 * page of a first sync finds an empty namespace (one count, no read); a large page of a small
 * namespace is one `getAll`; otherwise one `get` per id.
 */
function readRecords(records: IDBObjectStore, namespace: string, ids: readonly string[], done: (current: (LocalRecord | undefined)[]) => void): void {
  if (ids.length === 0) return done([]);
  const range = namespaceRange(namespace);
  const counting = records.count(range);
  counting.onsuccess = () => {
    const stored = counting.result;
    if (stored === 0) return done(new Array(ids.length).fill(undefined));
    if (stored <= ids.length * 4) {
      const all = records.getAll(range);
      all.onsuccess = () => {
        const byId = new Map((all.result as Row[]).map((row) => [row.id, row.record]));
        done(ids.map((id) => byId.get(id)));
      };
      return;
    }
    const current: (LocalRecord | undefined)[] = new Array(ids.length);
    let pending = ids.length;
    ids.forEach((id, index) => {
      records.get([namespace, id]).onsuccess = (event) => {
        current[index] = (event.target as IDBRequest<Row | undefined>).result?.record;
        if (--pending === 0) done(current);
      };
    });
  };
}

function namespaceRange(namespace: string): IDBKeyRange {
  // `[ns]` sorts before `[ns, anything]`; an array sorts after every string id or key.
  return IDBKeyRange.bound([namespace], [namespace, []], false, true);
}

function keyRange(factory: IDBFactory, namespace: string, range: KeyRange): IDBKeyRange | undefined {
  const lower = [namespace, range.lower];
  const upper = [namespace, range.upper];
  const order = factory.cmp(lower, upper);
  // `{$gt: 5, $lt: 3}`: an empty range, which IDBKeyRange refuses to build.
  if (order > 0 || (order === 0 && (range.lowerOpen || range.upperOpen))) return undefined;
  return IDBKeyRange.bound(lower, upper, range.lowerOpen, range.upperOpen);
}

function write(tx: IDBTransaction, namespace: string, changes: StoreChanges, fields: ReadonlySet<string>): void {
  const records = tx.objectStore(RECORDS);
  for (const id of changes.delete ?? []) records.delete([namespace, id]);
  for (const record of changes.put ?? []) records.put(rowOf(namespace, record, fields));
  const meta = tx.objectStore(META);
  for (const [key, value] of Object.entries(changes.meta ?? {})) {
    if (value === undefined) meta.delete([namespace, key]);
    else meta.put({ ns: namespace, key, value });
  }
}

function rowOf(namespace: string, record: LocalRecord, fields: ReadonlySet<string>): Row {
  return { ns: namespace, id: record.id, record, keys: indexKeys(record, fields) };
}

function indexKeys(record: LocalRecord, fields: Iterable<string>): Record<string, unknown> {
  const keys: Record<string, unknown> = {};
  for (const field of fields) {
    const key = indexKey(fieldValue(record, field));
    if (key !== undefined) keys[keyPathName(field)] = key;
  }
  return keys;
}

/**
 * A key path is made of identifiers: a field name (`author.name`, `due-date`) is spelled with
 * letters and digits kept and every other character as `$<hex>$`, which no field name can
 * produce otherwise.
 */
function keyPathName(field: string): string {
  let name = "f";
  for (const character of field) {
    name += /[A-Za-z0-9]/.test(character) ? character : `$${character.codePointAt(0)!.toString(16)}$`;
  }
  return name;
}

function hasStores(db: IDBDatabase): boolean {
  return db.objectStoreNames.contains(RECORDS) && db.objectStoreNames.contains(META);
}

function indexedFields(db: IDBDatabase): Set<string> {
  if (!hasStores(db)) return new Set();
  const names = db.transaction(RECORDS, "readonly").objectStore(RECORDS).indexNames;
  return new Set(Array.from(names).filter((name) => name.startsWith(FIELD_INDEX_PREFIX)).map((name) => name.slice(FIELD_INDEX_PREFIX.length)));
}

function missingIndexes(db: IDBDatabase, declared: readonly string[]): string[] {
  const existing = indexedFields(db);
  return declared.filter((field) => !existing.has(field));
}

function upgrade(factory: IDBFactory, name: string, version: number, declared: readonly string[]): Promise<IDBDatabase> {
  const opening = factory.open(name, version);
  opening.onupgradeneeded = () => {
    const db = opening.result;
    const tx = opening.transaction!;
    if (!db.objectStoreNames.contains(META)) db.createObjectStore(META, { keyPath: ["ns", "key"] });
    const records = db.objectStoreNames.contains(RECORDS)
      ? tx.objectStore(RECORDS)
      : db.createObjectStore(RECORDS, { keyPath: ["ns", "id"] });
    if (!records.indexNames.contains(STATUS_INDEX)) records.createIndex(STATUS_INDEX, ["ns", "record._status"]);
    const added = declared.filter((field) => !records.indexNames.contains(FIELD_INDEX_PREFIX + field));
    for (const field of added) records.createIndex(FIELD_INDEX_PREFIX + field, ["ns", `keys.${keyPathName(field)}`]);
    if (added.length === 0) return;
    // Records stored before the index existed get their keys for it.
    records.openCursor().onsuccess = (event) => {
      const cursor = (event.target as IDBRequest<IDBCursorWithValue | null>).result;
      if (!cursor) return;
      const row = cursor.value as Row;
      cursor.update({ ...row, keys: { ...row.keys, ...indexKeys(row.record, added) } });
      cursor.continue();
    };
  };
  return request(opening);
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

type Fail = (error: unknown) => void;

/**
 * Runs `body` in a transaction; resolves once it committed. `body` (or a request callback it
 * set, through `fail`) aborts the transaction with an error, which the promise rejects with.
 */
function transaction(db: IDBDatabase, stores: string[], mode: IDBTransactionMode, body: (tx: IDBTransaction, fail: Fail) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(stores, mode);
    let failure: unknown;
    const fail: Fail = (error) => {
      failure ??= error;
      tx.abort();
    };
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(failure ?? tx.error ?? new Error("IndexedDB transaction aborted"));
    tx.onerror = (event) => {
      failure ??= (event.target as IDBRequest).error;
    };
    try {
      body(tx, fail);
    } catch (error) {
      fail(error);
    }
  });
}
