// Gatehouse cookie session on SQLite (a file in a directory of its own, removed on exit), through Express.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchConfig, runId, serveExpress } from './_gatehouse.js';
import { sqliteDir } from './_sql.js';

const dir = sqliteDir(runId());
mkdirSync(dir, { recursive: true, mode: 0o700 });
await serveExpress({ config: benchConfig({ databaseUrl: `sqlite:${join(dir, 'gatehouse.db')}`, dataDir: dir }) }, async () =>
  rmSync(dir, { recursive: true, force: true }),
);
