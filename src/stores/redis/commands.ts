import type { RedisClient } from './client.js';
import * as L from './scripts.js';

type Cmd = (...args: (string | number | Buffer)[]) => Promise<unknown>;

export interface Scripts {
  createSessionBuffer: Cmd;
  touchSession: Cmd;
  setAuth: Cmd;
  bindSession: Cmd;
  deleteSessionBuffer: Cmd;
  deleteUserSessions: Cmd;
  getData: Cmd;
  patchData: Cmd;
  createRefresh: Cmd;
  rotateRefreshBuffer: Cmd;
  deleteRefreshBySession: Cmd;
  deleteRefreshByUser: Cmd;
}

/** Registers the scripts (EVALSHA with EVAL fallback, per node on a cluster). */
export function defineScripts(r: RedisClient): Scripts {
  const defs: [string, string, number][] = [
    ['createSession', L.CREATE_SESSION, 1],
    ['touchSession', L.TOUCH_SESSION, 1],
    ['setAuth', L.SET_AUTH, 1],
    ['bindSession', L.BIND_SESSION, 1],
    ['deleteSession', L.DELETE_SESSION, 1],
    ['deleteUserSessions', L.DELETE_USER_SESSIONS, 1],
    ['getData', L.GET_DATA, 2],
    ['patchData', L.PATCH_DATA, 2],
    ['createRefresh', L.CREATE_REFRESH, 1],
    ['rotateRefresh', L.ROTATE_REFRESH, 1],
    ['deleteRefreshBySession', L.DELETE_REFRESH_BY_SESSION, 1],
    ['deleteRefreshByUser', L.DELETE_REFRESH_BY_USER, 1],
  ];
  for (const [name, lua, numberOfKeys] of defs) {
    if (!(name in r)) r.defineCommand(name, { lua, numberOfKeys });
  }
  return r as unknown as Scripts;
}
