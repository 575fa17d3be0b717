/**
 * Re-renders latest.json, latest.md and latest.svg from a stored run, recomputing summaries and
 * goals from its raw records (so a new goal or chart change applies to past data):
 *   node --import tsx bench/render.ts bench/results/2026-11-27.json
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { evaluate, writeResults, type FullResults } from './lib/output.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: node --import tsx bench/render.ts bench/results/<date>.json');
const stored = JSON.parse(readFileSync(file, 'utf8')) as FullResults;
const { summaries, goals } = evaluate(stored.variants, stored.records);
process.stdout.write(writeResults(dirname(file), { ...stored, variants: summaries, goals }));
