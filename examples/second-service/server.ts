/**
 * Run: GATEHOUSE_ISSUER=http://localhost:3000 PORT=4000 npx tsx examples/second-service/server.ts
 * then: curl -H "Authorization: Bearer $ACCESS" http://localhost:4000/api/orders
 */
import { createSecondService } from './app.js';

const issuer = process.env.GATEHOUSE_ISSUER ?? 'http://localhost:3000';
const audience = process.env.GATEHOUSE_AUDIENCE ?? 'gatehouse';
const port = Number(process.env.PORT ?? 4000);

const service = createSecondService({ issuer, audience });
const server = service.app.listen(port, () => {
  process.stdout.write(`second service on http://localhost:${port}, trusting tokens from ${issuer}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    service.close();
    server.close();
  });
}
