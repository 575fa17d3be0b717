/** The sessions row on SQLite: the shared SQL layout with `amr` as text and the secret hash as a BLOB. */
import type { SessionRecord } from '../../ports.js';
import * as row from '../sql/session-row.js';
import { fromBlob, toBlob } from './db.js';

export { amrText, bindingParams, SESSION_COLUMNS } from '../sql/session-row.js';
export type SessionRow = row.SessionRow<string>;

const codec: row.SessionCodec<string> = { amrOut: row.amrText, amrIn: row.amrList, bytesOut: toBlob, bytesIn: fromBlob };

export const toSession = (r: SessionRow): SessionRecord => row.toSession(r, codec);
export const sessionParams = (s: SessionRecord): unknown[] => row.sessionParams(s, codec);
