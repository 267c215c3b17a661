// IndexedDB: everything the app needs offline.
//   kv          small values by key (the visits list, when it was fetched, the last user)
//               "audit:<id>": a returned audit's answers and the reviewer's comment
//               "counters:<outlet_id>": the outlet's counters (the counter picker)
//   visits      visits by id (the last list from the server)
//   definitions checklist versions by version_id (published versions never change)
//   drafts      one per visit being filled: answers, photo ids, started_at, location
//   photos      downscaled JPEG Blobs by a local id (shared by drafts and queued items)
//   queue       submissions waiting to be sent (and the last few sent), by their uuid

const DB_NAME = "auditlens-m";
const DB_VERSION = 1;
let dbPromise = null;

function promisify(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export function openDb() {
  if (dbPromise) return dbPromise;
  dbPromise = new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv");
      if (!db.objectStoreNames.contains("visits")) db.createObjectStore("visits", { keyPath: "id" });
      if (!db.objectStoreNames.contains("definitions")) db.createObjectStore("definitions", { keyPath: "version_id" });
      if (!db.objectStoreNames.contains("drafts")) db.createObjectStore("drafts", { keyPath: "visit_id" });
      if (!db.objectStoreNames.contains("photos")) db.createObjectStore("photos", { keyPath: "id" });
      if (!db.objectStoreNames.contains("queue")) db.createObjectStore("queue", { keyPath: "uuid" });
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another tab upgraded the schema: close so it can proceed; the next call reopens.
      db.onversionchange = () => {
        db.close();
        dbPromise = null;
      };
      resolve(db);
    };
    req.onerror = () => {
      dbPromise = null;
      reject(req.error);
    };
    req.onblocked = () => reject(new Error("database upgrade blocked by another tab"));
  });
  return dbPromise;
}

async function tx(stores, mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const t = db.transaction(stores, mode);
    let result;
    Promise.resolve(fn(t))
      .then((r) => {
        result = r;
      })
      .catch((e) => {
        try {
          t.abort();
        } catch {
          /* already finished */
        }
        reject(e);
      });
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error("transaction aborted"));
  });
}

export function get(store, key) {
  return tx([store], "readonly", (t) => promisify(t.objectStore(store).get(key)));
}

export function getAll(store) {
  return tx([store], "readonly", (t) => promisify(t.objectStore(store).getAll()));
}

export function put(store, value, key) {
  return tx([store], "readwrite", (t) =>
    promisify(key === undefined ? t.objectStore(store).put(value) : t.objectStore(store).put(value, key)),
  );
}

export function del(store, key) {
  return tx([store], "readwrite", (t) => promisify(t.objectStore(store).delete(key)));
}

/** Replace a store's whole content (the visits list after a refresh). */
export function replaceAll(store, values) {
  return tx([store], "readwrite", (t) => {
    const os = t.objectStore(store);
    os.clear(); // requests in one transaction run in order: the puts follow the clear
    for (const v of values) os.put(v);
  });
}

/** Several writes and deletes across stores, all or nothing. */
export function batch(ops) {
  const stores = [...new Set(ops.map((o) => o.store))];
  return tx(stores, "readwrite", (t) => {
    for (const op of ops) {
      const os = t.objectStore(op.store);
      if (op.op === "put") os.put(op.value);
      else if (op.op === "del") os.delete(op.key);
    }
  });
}

export const kv = {
  get: (key) => get("kv", key),
  set: (key, value) => put("kv", value, key),
};
