import Database from 'better-sqlite3';
import { mkdirSync, accessSync, chmodSync, closeSync, constants, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { VigilError } from '../errors.js';

export type Db = Database.Database;

/** Opens the SQLite file in WAL mode; fails with a catalogue code the user can act on. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') {
    const dir = dirname(file);
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (err) {
      throw new VigilError('VIGIL_ERR_DATA_DIR', `Data directory ${dir} is not writable: ${(err as Error).message}`);
    }
    try {
      // Created 0600 before SQLite sees it: its -wal and -shm files copy the database's mode.
      closeSync(openSync(file, 'a', 0o600));
      chmodSync(file, 0o600);
    } catch {
      // Not ours to change (or read-only): opening reports what matters.
    }
  }
  let db: Db;
  try {
    db = new Database(file, { timeout: 2000 });
    // Lets retention shrink the file without a full VACUUM. It must come before WAL:
    // switching to WAL writes the header of a new file, after which auto_vacuum is fixed.
    // 8 KiB pages for a new file (an existing one keeps its size): crops (2-3 KB) and face
    // embeddings (2 KB) fit three to a page instead of one to a 4 KiB page. First: the other
    // pragmas below fix the page size of an empty file.
    db.pragma('page_size = 8192');
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('wal_autocheckpoint = 1000');
  } catch (err) {
    const msg = (err as Error).message;
    if (/locked|busy/i.test(msg)) throw new VigilError('VIGIL_ERR_DB_LOCKED', `Database ${file} is locked by another process: ${msg}`);
    throw new VigilError('VIGIL_ERR_DB_OPEN', `Database ${file} cannot be opened: ${msg}`);
  }
  db.exec(`CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)`);
  return db;
}

/**
 * Per-component migrations: each part that owns tables (events, faces, counters, ...)
 * applies its own ordered list, so parts evolve their schema independently.
 * migrations[i] takes the component from version i to i+1.
 */
export function migrate(db: Db, component: string, migrations: string[]): void {
  const row = db.prepare('SELECT version FROM schema_versions WHERE component = ?').get(component) as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new VigilError('VIGIL_ERR_DB_OPEN', `Database schema of ${component} is version ${current}, newer than this Vigil knows (${migrations.length}); upgrade Vigil.`);
  }
  const apply = db.transaction(() => {
    for (let v = current; v < migrations.length; v++) db.exec(migrations[v]!);
    db.prepare('INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version').run(component, migrations.length);
  });
  apply();
}
