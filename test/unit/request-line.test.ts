import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, requestLine, requestLogger } from '../../src/server/logger.js';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, sink };
}

describe('the request log line', () => {
  it('is the line pino writes for the same fields (level, time, base fields, method, path, status, ms, msg)', async () => {
    const { lines, sink } = capture();
    const logger = createLogger('info', sink);
    const cases: Array<[string, string, number, number]> = [
      ['GET', '/auth/me', 200, 0.42],
      ['POST', '/auth/login', 401, 12],
      ['GET', '/a "quoted" \\ path/ünïcödé/\u2028', 404, 1.5],
    ];
    for (const [method, path, status, ms] of cases) {
      requestLine(logger)!(method, path, status, ms);
      requestLogger(logger).info({ method, path, status, ms }, 'request');
    }
    await new Promise((r) => setImmediate(r));
    assert.equal(lines.length, 2 * cases.length);
    for (let i = 0; i < lines.length; i += 2) {
      const ours = lines[i]!;
      const pinos = lines[i + 1]!;
      assert.ok(ours.endsWith('\n'));
      const strip = (l: string) => l.replace(/"time":\d+/, '"time":0');
      assert.deepEqual(JSON.parse(strip(ours)), JSON.parse(strip(pinos)));
      assert.deepEqual(Object.keys(JSON.parse(ours)), Object.keys(JSON.parse(pinos)), 'same key order');
      assert.ok(Math.abs(JSON.parse(ours).time - JSON.parse(pinos).time) < 1000);
    }
  });

  it('is not written when the level leaves out info lines', () => {
    const { sink } = capture();
    assert.equal(requestLine(createLogger('warn', sink)), null);
  });
});
