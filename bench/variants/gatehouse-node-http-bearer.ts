// Gatehouse bearer token (EdDSA) on memory stores through the framework-free node:http path (createGatehouseNode).
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { benchConfig, serveNode } from './_gatehouse.js';

await serveNode({ stores: createMemoryStores(), config: benchConfig({ databaseUrl: 'memory:', token: { alg: 'EdDSA' } }) });
