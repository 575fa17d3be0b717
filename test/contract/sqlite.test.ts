import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStores } from '../../src/stores/sqlite/index.js';
import { runStoreContract } from './suite.js';

runStoreContract('sqlite (file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sqlite-'));
  const stores = openSqliteStores({ path: join(dir, 'db', 'gatehouse.db') });
  return {
    stores,
    async cleanup() {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

runStoreContract('sqlite (:memory:)', async () => {
  const stores = openSqliteStores({ path: ':memory:' });
  return { stores, cleanup: () => stores.close() };
});
