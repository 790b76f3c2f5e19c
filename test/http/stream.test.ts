import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { createHttpClient, type HttpClient } from '../../src/http/index.js';
import { FakeClock } from '../../src/testing/index.js';

let server: Server;
let client: HttpClient;
let release: () => void = () => {};

/** Sends `first`, then waits for the test to release the rest of the body. */
async function start(status = 200, clock?: FakeClock) {
  server = createServer((request, response) => {
    response.writeHead(status, { 'content-type': status === 200 ? 'text/event-stream' : 'application/json' });
    if (status !== 200) return response.end(JSON.stringify({ error: { message: 'nope' } }));
    response.write('data: first\n\n');
    release = () => response.end('data: last\n\n');
    request.on('close', () => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = createHttpClient({
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    allowInsecureHttp: true,
    timeoutMs: 2_000,
    ...(clock && { clock }),
  });
}

afterEach(async () => {
  release();
  await client?.close();
  await new Promise((resolve) => server.close(resolve));
});

const chunks = async (body: AsyncIterable<Buffer>, until?: (text: string) => boolean) => {
  let text = '';
  for await (const chunk of body) {
    text += chunk.toString();
    if (until?.(text)) break;
  }
  return text;
};

describe('streamed responses', () => {
  it('resolves at the headers and hands the body up unread, chunk by chunk', async () => {
    await start();
    const response = await client.request<AsyncIterable<Buffer>>({ path: '/events', stream: true });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream');
    const reading = chunks(response.body);
    release();
    expect(await reading).toBe('data: first\n\ndata: last\n\n');
  });

  it("outlives the attempt's timeout once the headers are in", async () => {
    const clock = new FakeClock();
    await start(200, clock);
    const response = await client.request<AsyncIterable<Buffer>>({ path: '/events', stream: true });
    const reading = chunks(response.body);
    await clock.advance(60_000);
    release();
    expect(await reading).toContain('data: last');
  });

  it("ends the stream when the caller's signal aborts", async () => {
    await start();
    const controller = new AbortController();
    const response = await client.request<AsyncIterable<Buffer>>({
      path: '/events',
      stream: true,
      signal: controller.signal,
    });
    const reading = chunks(response.body);
    controller.abort();
    await expect(reading).rejects.toMatchObject({ code: ErrorCode.ABORTED });
  });

  it('reads and throws an answer that is not a success, as any call', async () => {
    await start(400);
    await expect(client.request({ method: 'POST', path: '/events', stream: true })).rejects.toMatchObject({
      code: ErrorCode.HTTP_CLIENT_ERROR,
      status: 400,
    });
  });

  it('refuses a schema with a stream', async () => {
    await start();
    await expect(
      client.request({
        path: '/events',
        stream: true,
        schema: { safeParse: () => ({ success: true, data: 1 }) },
      }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
  });
});

describe('streamed responses bounded by maxBodyBytes', () => {
  /** Answers `size` bytes, declaring the length or not. */
  async function startSized(size: number, declared: boolean) {
    server = createServer((_request, response) => {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        ...(declared && { 'content-length': String(size) }),
      });
      response.end(Buffer.alloc(size, 7));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = createHttpClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      allowInsecureHttp: true,
    });
  }
  const bytes = async (body: AsyncIterable<Buffer>) => {
    let total = 0;
    for await (const chunk of body) total += chunk.length;
    return total;
  };

  it('passes a body within the bound through whole', async () => {
    await startSized(1_000, false);
    const response = await client.request<AsyncIterable<Buffer>>({
      path: '/f',
      stream: true,
      maxBodyBytes: 1_000,
    });
    expect(await bytes(response.body)).toBe(1_000);
  });

  it('refuses a declared length over the bound before reading the body', async () => {
    await startSized(1_001, true);
    await expect(client.request({ path: '/f', stream: true, maxBodyBytes: 1_000 })).rejects.toMatchObject({
      code: ErrorCode.RESPONSE_TOO_LARGE,
      data: { maxBytes: 1_000 },
    });
  });

  it('fails an undeclared length at the first byte past the bound', async () => {
    await startSized(200_000, false);
    const response = await client.request<AsyncIterable<Buffer>>({
      path: '/f',
      stream: true,
      maxBodyBytes: 1_000,
    });
    await expect(bytes(response.body)).rejects.toMatchObject({ code: ErrorCode.RESPONSE_TOO_LARGE });
  });

  it('refuses a bound that is not a positive integer', async () => {
    await startSized(10, false);
    await expect(client.request({ path: '/f', stream: true, maxBodyBytes: 0 })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
  });
});
