import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDevice } from '../../src/core/device.js';

describe('device names from the User-Agent', () => {
  test('browsers are named by browser and operating system', () => {
    assert.deepEqual(parseDevice('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0'), { browser: 'Firefox', os: 'Windows', type: 'desktop' });
  });

  test('clients that are not browsers are named by their product token instead of nothing', () => {
    for (const [ua, name] of [
      ['curl/8.5.0', 'curl'],
      ['node', 'node'],
      ['python-requests/2.31.0', 'python-requests'],
      ['okhttp/4.12.0', 'okhttp'],
      ['Go-http-client/1.1', 'Go-http-client'],
      ['PostmanRuntime/7.36.0', 'PostmanRuntime'],
      ['gatehouse-cli', 'gatehouse-cli'],
    ]) {
      assert.equal(parseDevice(ua).browser, name, ua);
      assert.equal(parseDevice(ua).os, null, ua);
    }
  });

  test('an unrecognised browser is not called "Mozilla", and nothing is made up from no User-Agent or garbage', () => {
    assert.equal(parseDevice('Mozilla/5.0 (compatible; SomethingNew)').browser, null);
    assert.deepEqual(parseDevice(null), { browser: null, os: null, type: null });
    assert.equal(parseDevice('%%% ###').browser, null);
    assert.equal(parseDevice('x'.repeat(5000)).browser, null);
  });
});
