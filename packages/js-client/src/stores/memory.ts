/** The reference store: everything in memory, nothing persists, `apply` and `modify` are atomic; queries scan. */
import { queryMatcher, type LocalRecord, type Modification, type Store, type StoreChanges, type StoreQuery } from "./index.js";

interface Namespace {
  records: Map<string, LocalRecord>;
  meta: Map<string, unknown>;
}

export class MemoryStore implements Store {
  readonly transactional = true;
  private readonly namespaces = new Map<string, Namespace>();

  private namespace(name: string): Namespace {
    let namespace = this.namespaces.get(name);
    if (!namespace) {
      namespace = { records: new Map(), meta: new Map() };
      this.namespaces.set(name, namespace);
    }
    return namespace;
  }

  async get(namespace: string, id: string): Promise<LocalRecord | undefined> {
    const record = this.namespace(namespace).records.get(id);
    return record && structuredClone(record);
  }

  async list(namespace: string, query?: StoreQuery): Promise<LocalRecord[]> {
    const matches = queryMatcher(query);
    return structuredClone([...this.namespace(namespace).records.values()].filter(matches));
  }

  async apply(namespace: string, changes: StoreChanges): Promise<void> {
    this.applyNow(namespace, changes);
  }

  // Nothing awaits between the read and the writes: no other call can run in between.
  async modify(namespace: string, ids: readonly string[], modification: Modification): Promise<void> {
    const records = this.namespace(namespace).records;
    const current = structuredClone(ids.map((id) => records.get(id)));
    this.applyNow(namespace, modification(current));
  }

  private applyNow(namespace: string, changes: StoreChanges): void {
    // Cloned before anything is written: a value that cannot be cloned leaves the store unchanged.
    const records = structuredClone(changes.put ?? []);
    const meta = structuredClone(changes.meta ?? {});
    const target = this.namespace(namespace);
    for (const id of changes.delete ?? []) target.records.delete(id);
    for (const record of records) target.records.set(record.id, record);
    for (const [key, value] of Object.entries(meta)) target.meta.set(key, value);
  }

  async getMeta(namespace: string, key: string): Promise<unknown> {
    return structuredClone(this.namespace(namespace).meta.get(key));
  }

  async clear(namespace: string): Promise<void> {
    this.namespaces.delete(namespace);
  }
}
