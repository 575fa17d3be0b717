// Gatehouse cookie session on SQLite (a temporary file, removed on exit), through Express.
import { join } from 'node:path';
import { benchConfig, serveExpress, tempDir } from './_gatehouse.js';

const tmp = tempDir();
await serveExpress({ config: benchConfig({ databaseUrl: `sqlite:${join(tmp.dir, 'gatehouse.db')}`, dataDir: tmp.dir }) }, async () => tmp.remove());
