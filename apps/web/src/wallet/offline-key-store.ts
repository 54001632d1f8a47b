/**
 * Where the offline key lives between visits: IndexedDB, one record per (user, device), holding a
 * non-extractable CryptoKey and the device number. Removing the device on the server makes the key
 * useless; signing out deletes it here.
 */
export interface StoredOfflineKey {
  id: string;
  deviceNumber: string;
  key: CryptoKey;
  enrolledAt: number;
}

const databaseName = 'yunpay-wallet';
const storeName = 'offline-keys';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(databaseName, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(storeName, { keyPath: 'id' });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB would not open'));
  });
}

async function run<T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const database = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = body(database.transaction(storeName, mode).objectStore(storeName));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    database.close();
  }
}

export async function loadOfflineKey(id: string): Promise<StoredOfflineKey | null> {
  const found = await run<StoredOfflineKey | undefined>(
    'readonly',
    (store) => store.get(id) as IDBRequest<StoredOfflineKey | undefined>,
  );
  return found ?? null;
}

export async function saveOfflineKey(record: StoredOfflineKey): Promise<void> {
  await run('readwrite', (store) => store.put(record));
}

export async function clearOfflineKeys(): Promise<void> {
  await run('readwrite', (store) => store.clear());
}
