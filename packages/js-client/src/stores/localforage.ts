/**
 * A store over any localforage-compatible object (localforage, `localforage.createInstance()`,
 * or anything with the same five methods). Each record is one key, `<prefix><namespace>/r/<id>`,
 * so a change writes one record, not the whole collection. localforage has no transactions:
 * `apply` writes in order and `modify` reads then writes (`transactional` is false); queries scan.
 */
import {
  queryMatcher,
  type LocalForageLike,
  type LocalRecord,
  type Modification,
  type Store,
  type StoreChanges,
  type StoreQuery,
} from "./index.js";

export class LocalForageStore implements Store {
  readonly transactional = false;
  private readonly backend: LocalForageLike;
  private readonly prefix: string;

  constructor(backend: LocalForageLike, options: { prefix?: string } = {}) {
    this.backend = backend;
    this.prefix = options.prefix ?? "kinto:";
  }

  private recordPrefix(namespace: string): string {
    return `${this.prefix}${encodeURIComponent(namespace)}/r/`;
  }

  private metaKey(namespace: string, key: string): string {
    return `${this.prefix}${encodeURIComponent(namespace)}/m/${key}`;
  }

  async get(namespace: string, id: string): Promise<LocalRecord | undefined> {
    return (await this.backend.getItem<LocalRecord>(this.recordPrefix(namespace) + id)) ?? undefined;
  }

  async list(namespace: string, query?: StoreQuery): Promise<LocalRecord[]> {
    const prefix = this.recordPrefix(namespace);
    const matches = queryMatcher(query);
    const records: LocalRecord[] = [];
    await this.backend.iterate<LocalRecord, void>((value, key) => {
      if (key.startsWith(prefix) && matches(value)) records.push(value);
    });
    return records;
  }

  async modify(namespace: string, ids: readonly string[], modification: Modification): Promise<void> {
    const current = await Promise.all(ids.map((id) => this.get(namespace, id)));
    await this.apply(namespace, modification(current));
  }

  async apply(namespace: string, changes: StoreChanges): Promise<void> {
    const prefix = this.recordPrefix(namespace);
    for (const id of changes.delete ?? []) await this.backend.removeItem(prefix + id);
    for (const record of changes.put ?? []) await this.backend.setItem(prefix + record.id, record);
    for (const [key, value] of Object.entries(changes.meta ?? {})) {
      await this.backend.setItem(this.metaKey(namespace, key), value);
    }
  }

  async getMeta(namespace: string, key: string): Promise<unknown> {
    return (await this.backend.getItem(this.metaKey(namespace, key))) ?? undefined;
  }

  async clear(namespace: string): Promise<void> {
    const namespacePrefix = `${this.prefix}${encodeURIComponent(namespace)}/`;
    const keys = (await this.backend.keys()).filter((key) => key.startsWith(namespacePrefix));
    for (const key of keys) await this.backend.removeItem(key);
  }
}
