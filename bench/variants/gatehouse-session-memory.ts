// Gatehouse cookie session on memory stores, through Express. Production argon2id parameters: this
// variant also carries the login storm (20 real logins/s while GET /me is measured).
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { benchConfig, serveExpress } from './_gatehouse.js';

await serveExpress({ stores: createMemoryStores(), config: benchConfig({ databaseUrl: 'memory:' }, { production: true }) });
