// Gatehouse cookie session on PostgreSQL (a schema of its own, dropped on exit), through Express.
import pg from 'pg';
import { benchConfig, runName, serveExpress } from './_gatehouse.js';

const url = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_${runName()}`;
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
