import type { Clock } from '../../src/ports.js';

/** A clock tests move by hand: expiry and rotation without sleeping. */
export class TestClock implements Clock {
  constructor(private t = Date.now()) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(t: number): void {
    this.t = t;
  }
}
