// Gatehouse cookie session on MariaDB/MySQL (a database of its own, created at start and dropped on
// exit), through Express.
import mysql from 'mysql2/promise';
import { benchConfig, runId, serveExpress } from './_gatehouse.js';
import { mysqlDatabase, mysqlDatabaseUrl, mysqlUrl } from './_sql.js';

const database = mysqlDatabase(runId());
await serveExpress(
  { config: benchConfig({ databaseUrl: mysqlDatabaseUrl(runId()), secret: 'bench-only-secret-0123456789abcdef0123' }) },
  async () => {
    const c = await mysql.createConnection({ uri: mysqlUrl() });
    try {
      await c.query(`DROP DATABASE IF EXISTS \`${database}\``);
    } finally {
      await c.end();
    }
  },
);
