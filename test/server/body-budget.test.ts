import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BodyBudget } from '../../src/server/limits/index.js';

type FakeRequest = IncomingMessage & { socket: EventEmitter & { bytesRead: number; destroyed: boolean } };

/** Just what the budget reads of a request: whether its body is complete, and its socket to cut it off. */
function request(complete: boolean): FakeRequest {
  const socket = Object.assign(new EventEmitter(), {
    bytesRead: 0,
    destroyed: false,
    writable: false,
    resume() {},
    destroy() {
      socket.destroyed = true;
      socket.emit('close');
    },
  });
  return { complete, socket } as unknown as FakeRequest;
}

describe('BodyBudget', () => {
  it('reserves until full, and gives the bytes back on release', () => {
    const budget = new BodyBudget(100);
    const a = budget.tryReserve(60, request(true))!;
    expect(budget.inUse).toBe(60);
    expect(budget.tryReserve(50, request(true))).toBeUndefined();
    budget.release(a);
    budget.release(a);
    expect(budget.inUse).toBe(0);
    expect(budget.tryReserve(100, request(false))).toBeDefined();
  });

  it('refuses a request larger than the whole budget without cutting anyone or waiting', async () => {
    const budget = new BodyBudget(100);
    const slow = request(false);
    budget.tryReserve(10, slow);
    expect(await budget.reserve(101, request(false))).toBeUndefined();
    expect(budget.inUse).toBe(10);
    expect(budget.waiting).toBe(0);
    expect(slow.socket.destroyed).toBe(false);
  });

  it('cuts off the larger body that has sent the least to make room, never a complete one', () => {
    const budget = new BodyBudget(100);
    const uploading = request(false);
    const trickling = request(false);
    budget.tryReserve(50, uploading);
    budget.tryReserve(50, trickling);
    uploading.socket.bytesRead += 40_000;
    trickling.socket.bytesRead += 3;
    expect(budget.tryReserve(30, request(true))).toBeDefined();
    expect(trickling.socket.destroyed).toBe(true);
    expect(uploading.socket.destroyed).toBe(false);
  });

  it('cuts off the oldest of equally slow larger bodies first, and cuts no one when that could not make room', () => {
    const budget = new BodyBudget(100);
    const done = request(true);
    const oldest = request(false);
    const younger = request(false);
    budget.tryReserve(40, done);
    budget.tryReserve(30, oldest);
    budget.tryReserve(30, younger);
    expect(budget.tryReserve(20, request(true))).toBeDefined();
    expect(oldest.socket.destroyed).toBe(true);
    expect(younger.socket.destroyed).toBe(false);
    expect(budget.inUse).toBe(90);
    // Room for 45 could be made only by cutting the complete one too: nobody is cut.
    expect(budget.tryReserve(45, request(false))).toBeUndefined();
    expect(younger.socket.destroyed).toBe(false);
    expect(budget.inUse).toBe(90);
  });

  it('never lets equally large bodies cut each other off: the newcomer waits for room, first come first served', async () => {
    const budget = new BodyBudget(100);
    const held = [request(false), request(false)];
    const reservations = held.map((r) => budget.tryReserve(50, r)!);
    const first = budget.reserve(50, request(false));
    void budget.reserve(50, request(false));
    expect(budget.waiting).toBe(2);
    expect(held.every((r) => !r.socket.destroyed)).toBe(true);
    // A smaller body (a webhook) still gets in, by cutting a larger stalled one; the room is its own.
    expect(budget.tryReserve(10, request(false))).toBeDefined();
    expect(held[0]!.socket.destroyed).toBe(true);
    expect(budget.waiting).toBe(2);
    budget.release(reservations[1]!);
    expect(await first).toBeDefined();
    expect(budget.waiting).toBe(1);
    expect(budget.inUse).toBe(60);
  });

  it('forgets a waiter whose connection closes, answering it with no reservation', async () => {
    const budget = new BodyBudget(100);
    const holder = budget.tryReserve(100, request(true))!;
    const gone = request(false);
    const waiting = budget.reserve(60, gone);
    const next = budget.reserve(60, request(false));
    gone.socket.destroy();
    expect(await waiting).toBeUndefined();
    expect(budget.waiting).toBe(1);
    budget.release(holder);
    expect(await next).toBeDefined();
    expect(budget.inUse).toBe(60);
    expect(gone.socket.listenerCount('close')).toBe(0);
  });
});
