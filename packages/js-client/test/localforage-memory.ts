/**
 * The real localforage library under Node, on a driver of its own (Node has no IndexedDB or
 * localStorage; the browser tests use its IndexedDB driver). The driver is plain localforage
 * API: `defineDriver` with the documented methods.
 */
import localforage from "localforage";

// The default instance looks for a browser driver as soon as it is imported and rejects a
// promise nobody awaits when there is none: handled here, before any test runs.
localforage.ready().catch(() => {});

let defined: Promise<void> | undefined;

function memoryDriver(): LocalForageDriver {
  const data = new Map<string, unknown>();
  return {
    _driver: "nodeMemoryDriver",
    _support: true,
    async _initStorage() {},
    async getItem<T>(key: string) {
      return (data.has(key) ? structuredClone(data.get(key)) : null) as T;
    },
    async setItem<T>(key: string, value: T) {
      data.set(key, structuredClone(value));
      return value;
    },
    async removeItem(key: string) {
      data.delete(key);
    },
    async clear() {
      data.clear();
    },
    async length() {
      return data.size;
    },
    async key(index: number) {
      return [...data.keys()][index];
    },
    async keys() {
      return [...data.keys()];
    },
    async iterate<T, U>(iteratee: (value: T, key: string, iterationNumber: number) => U) {
      let iteration = 1;
      for (const [key, value] of data) {
        const result = iteratee(structuredClone(value) as T, key, iteration++);
        if (result !== undefined) return result;
      }
      return undefined as U;
    },
  };
}

/** The default `localforage` instance, as the seed's example uses it, on an in-memory driver. */
export async function nodeLocalForage(): Promise<LocalForage> {
  defined ??= localforage.defineDriver(memoryDriver());
  await defined;
  await localforage.setDriver("nodeMemoryDriver");
  await localforage.clear();
  return localforage;
}

/** A separate localforage instance (a second device), on its own in-memory driver data. */
export async function separateLocalForage(name: string): Promise<LocalForage> {
  const driverName = `nodeMemoryDriver-${name}`;
  await localforage.defineDriver({ ...memoryDriver(), _driver: driverName });
  const instance = localforage.createInstance({ name, driver: driverName });
  await instance.ready();
  return instance;
}
