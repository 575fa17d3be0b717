import { describe } from 'node:test';
import { openMysqlStores } from '../../src/stores/mysql/index.js';
import { createTestDatabase, dropDatabase, MYSQL_URL, requireMysql, skipReason } from '../support/services.js';
import { runStoreContract } from './suite.js';

const url = await requireMysql();

if (url === null) {
  describe('store contract: mysql (MariaDB)', { skip: skipReason('MariaDB', MYSQL_URL) }, () => {});
} else {
  // Every test gets a database of its own, migrated from scratch and dropped afterwards.
  runStoreContract('mysql (MariaDB)', async () => {
    const { url: dbUrl, database } = await createTestDatabase(url);
    const stores = await openMysqlStores({ url: dbUrl, timeoutMs: 5000, max: 4 });
    return {
      stores,
      async cleanup() {
        await stores.close();
        await dropDatabase(url, database);
      },
    };
  });
}
