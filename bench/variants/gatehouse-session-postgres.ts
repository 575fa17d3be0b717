// Gatehouse cookie session on PostgreSQL (a schema of its own, dropped on exit), through Express.
import pg from 'pg';
import { benchConfig, runId, serveExpress } from './_gatehouse.js';
import { postgresSchema, postgresUrl } from './_sql.js';

const url = postgresUrl();
const schema = postgresSchema(runId());
await serveExpress(
  { config: benchConfig({ databaseUrl: url, databaseSchema: schema, secret: 'bench-only-secret-0123456789abcdef0123' }) },
  async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  },
);
