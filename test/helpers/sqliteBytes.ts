import Database from 'better-sqlite3';

/** Bytes a SQLite file holds in pages in use (free pages left out), read through its own read-only connection. */
export function usedBytes(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * (db.pragma('page_size', { simple: true }) as number);
  } finally {
    db.close();
  }
}
