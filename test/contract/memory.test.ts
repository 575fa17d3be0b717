import { createMemoryStores } from '../../src/stores/memory/index.js';
import { runStoreContract } from './suite.js';

runStoreContract('memory', async () => {
  const stores = createMemoryStores();
  return { stores, cleanup: () => stores.close() };
});
