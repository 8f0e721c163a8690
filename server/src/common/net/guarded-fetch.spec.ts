import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { guardedRequest } from './guarded-fetch';
import { OutboundGuard, parseAllowlist } from './outbound-guard';

const text = async (res: NodeJS.ReadableStream) => {
  let out = '';
  for await (const chunk of res) out += String(chunk);
  return out;
};

describe('guardedRequest', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('sends a request again when the kept-alive socket it went out on was closed by the provider while idle', async () => {
    const sockets = new Set<Socket>();
    const bodies: string[] = [];
    server = createServer(async (req, res) => {
      bodies.push(await text(req));
      res.end('ok');
    });
    server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const guard = new OutboundGuard(parseAllowlist(`127.0.0.1:${port}`));
    const url = new URL(`http://127.0.0.1:${port}/hook`);

    expect(await text(await guardedRequest(guard, url, { method: 'POST', body: 'one' }))).toBe('ok');
    // The provider resets its idle connection; the client has not noticed when the next request goes out.
    for (const s of sockets) s.resetAndDestroy();
    const second = guardedRequest(guard, url, { method: 'POST', body: 'two' });
    expect(await text(await second)).toBe('ok');
    expect(bodies).toEqual(['one', 'two']);
  });

  it('does not repeat a request that failed on a fresh socket', async () => {
    server = createServer((req) => req.socket.destroy());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    let connections = 0;
    server.on('connection', () => connections++);
    const guard = new OutboundGuard(parseAllowlist(`127.0.0.1:${port}`));
    await expect(guardedRequest(guard, new URL(`http://127.0.0.1:${port}/`), { method: 'POST', body: 'x', headers: { connection: 'close' } })).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    expect(connections).toBe(1);
  });
});
