/**
 * Re-renders the scale bench's latest.{json,md,svg} from a stored run without measuring:
 *   node --import tsx bench/scale/render.ts bench/results/scale/<date>.json
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeScaleResults, type ScaleResults } from './report.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: node --import tsx bench/scale/render.ts bench/results/scale/<date>.json');
process.stdout.write(writeScaleResults(dirname(file), JSON.parse(readFileSync(file, 'utf8')) as ScaleResults));
