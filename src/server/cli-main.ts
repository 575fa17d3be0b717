/**
 * Runs the CLI from source (`node --import tsx src/server/cli-main.ts …`), as the `gatehouse` bin
 * does from dist/. Used by tests and during development without a build.
 */
import { main } from './cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`gatehouse: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
