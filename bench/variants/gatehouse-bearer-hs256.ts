// Gatehouse bearer mode, HS256: createGatehouse on memory stores, GET /me behind gh.requireAuth().
// The token comes from a real POST /auth/login {mode:"token"}.
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { benchConfig, serveExpress } from './_gatehouse.js';

await serveExpress({ stores: createMemoryStores(), config: benchConfig({ databaseUrl: 'memory:', token: { alg: 'HS256' } }) });
