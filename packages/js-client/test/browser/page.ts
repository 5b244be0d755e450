/**
 * Runs in the test page (bundled by esbuild, see harness.ts): the store contract over
 * `IndexedDBStore`, each case on a database of its own, deleted afterwards.
 */
import { IndexedDBStore } from "../../src/stores/indexeddb.js";
import { storeContract } from "../store-contract.js";

let databases = 0;

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
  });
}

async function run(name: string): Promise<void> {
  const contractCase = storeContract.find((candidate) => candidate.name === name);
  if (!contractCase) throw new Error(`No contract case named ${name}`);
  const opened: IndexedDBStore[] = [];
  try {
    await contractCase.run(async ({ indexes }) => {
      const store = new IndexedDBStore({ name: `contract-${++databases}-${Date.now()}`, indexes });
      opened.push(store);
      return store;
    });
  } finally {
    for (const store of opened) {
      await store.close();
      await deleteDatabase(store.name);
    }
  }
}

(window as unknown as { contract: unknown }).contract = { names: storeContract.map((contractCase) => contractCase.name), run };
