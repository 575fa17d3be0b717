import { describe } from 'node:test';
import { openPostgresStores } from '../../src/stores/postgres/index.js';
import { dropSchema, POSTGRES_URL, requirePostgres, skipReason, testSchema } from '../support/services.js';
import { runStoreContract } from './suite.js';

const url = await requirePostgres();

if (url === null) {
  describe('store contract: postgres', { skip: skipReason('PostgreSQL', POSTGRES_URL) }, () => {});
} else {
  // Every test gets a schema of its own, migrated from scratch and dropped afterwards.
  runStoreContract('postgres', async () => {
    const schema = testSchema();
    const stores = await openPostgresStores({ url, schema, statementTimeoutMs: 5000, max: 4 });
    return {
      stores,
      async cleanup() {
        await stores.close();
        await dropSchema(url, schema);
      },
    };
  });
}
