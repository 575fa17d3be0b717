/**
 * Writes openapi/openapi.json from openapi/spec.ts.
 *
 *   node --import tsx openapi/generate.ts          write the file
 *   node --import tsx openapi/generate.ts --check  exit 1 if the committed file is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildOpenApi } from './spec.js';

export const OPENAPI_FILE = fileURLToPath(new URL('./openapi.json', import.meta.url));

export function renderOpenApi(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return JSON.stringify(buildOpenApi(pkg.version), null, 2) + '\n';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const text = renderOpenApi();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(OPENAPI_FILE, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== text) {
      console.error('openapi/openapi.json is stale: run `npm run openapi`');
      process.exit(1);
    }
  } else {
    writeFileSync(OPENAPI_FILE, text);
    console.log(`wrote ${OPENAPI_FILE}`);
  }
}
