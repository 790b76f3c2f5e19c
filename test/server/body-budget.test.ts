import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BodyBudget } from '../../src/server/limits/index.js';

/** Just what the budget reads of a request: whether its body is complete, and its socket to cut it off. */
function request(complete: boolean): IncomingMessage & { socket: { bytesRead: number } } {
  const socket = {
    bytesRead: 0,
    destroyed: false,
    writable: false,
    resume() {},
    destroy() {
      socket.destroyed = true;
    },
  };
  return { complete, socket } as unknown as IncomingMessage & { socket: { bytesRead: number } };
}

describe('BodyBudget', () => {
  it('reserves until full, and gives the bytes back on release', () => {
    const budget = new BodyBudget(100);
    const a = budget.reserve(60, request(true))!;
    expect(budget.inUse).toBe(60);
    expect(budget.reserve(50, request(true))).toBeUndefined();
    budget.release(a);
    budget.release(a);
    expect(budget.inUse).toBe(0);
    expect(budget.reserve(100, request(false))).toBeDefined();
  });

  it('refuses a request larger than the whole budget without cutting anyone', () => {
    const budget = new BodyBudget(100);
    const slow = request(false);
    budget.reserve(10, slow);
    expect(budget.reserve(101, request(false))).toBeUndefined();
    expect(budget.inUse).toBe(10);
    expect(slow.socket.destroyed).toBe(false);
  });

  it('cuts off the body that has sent the least to make room, the oldest among equals, never a complete one', () => {
    const budget = new BodyBudget(100);
    const uploading = request(false);
    const trickling = request(false);
    budget.reserve(50, uploading);
    budget.reserve(50, trickling);
    uploading.socket.bytesRead += 40_000;
    trickling.socket.bytesRead += 3;
    expect(budget.reserve(30, request(true))).toBeDefined();
    expect(trickling.socket.destroyed).toBe(true);
    expect(uploading.socket.destroyed).toBe(false);
  });

  it('cuts off the oldest of equally slow bodies first, and refuses when every body is complete', () => {
    const budget = new BodyBudget(100);
    const done = request(true);
    const oldest = request(false);
    const younger = request(false);
    budget.reserve(40, done);
    budget.reserve(30, oldest);
    budget.reserve(30, younger);
    expect(budget.reserve(20, request(true))).toBeDefined();
    expect(oldest.socket.destroyed).toBe(true);
    expect(younger.socket.destroyed).toBe(false);
    expect(budget.inUse).toBe(90);
    // Only complete bodies (being answered) are left besides the young one: it goes next, then no more.
    expect(budget.reserve(40, request(true))).toBeDefined();
    expect(younger.socket.destroyed).toBe(true);
    expect(budget.reserve(50, request(false))).toBeUndefined();
  });
});
