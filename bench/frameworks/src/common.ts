import http from 'node:http';
export const KEYS = new Map<string, { tenant: string }>([
  ['k_test_123', { tenant: 't1' }],
  ['k_other', { tenant: 't2' }],
]);
export function checkAuth(h: string | undefined) {
  if (!h || !h.startsWith('Bearer ')) return undefined;
  return KEYS.get(h.slice(7));
}
const UP_PORT = +(process.env.UPSTREAM_PORT || 4100);
export const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
export function forward(path: string, method: string): Promise<{ status: number; ct: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port: UP_PORT, path, method, agent }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c) => chunks.push(c));
      up.on('end', () => resolve({ status: up.statusCode!, ct: up.headers['content-type'], body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
      up.on('error', reject);
    });
    r.on('error', reject);
    r.end();
  });
}
