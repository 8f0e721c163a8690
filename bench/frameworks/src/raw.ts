import http from 'node:http';
import { checkAuth, forward } from './common';
const PORT = +(process.env.PORT || 4200);
const send = (res: http.ServerResponse, status: number, obj: unknown) => {
  const b = Buffer.from(JSON.stringify(obj));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': b.length });
  res.end(b);
};
http
  .createServer(async (req, res) => {
    try {
      const url = req.url!;
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      if (req.method !== 'GET') return send(res, 404, { statusCode: 404 });
      if (path === '/v1/ping') {
        if (!checkAuth(req.headers.authorization)) return send(res, 401, { statusCode: 401, message: 'Unauthorized' });
        return send(res, 200, { ok: true });
      }
      const m = /^\/v1\/proxy\/([^/]+)\/(.+)$/.exec(path);
      if (m) {
        if (!checkAuth(req.headers.authorization)) return send(res, 401, { statusCode: 401, message: 'Unauthorized' });
        const up = await forward('/' + m[2], 'GET');
        const h: http.OutgoingHttpHeaders = { 'content-length': up.body.length };
        if (up.ct) h['content-type'] = up.ct;
        res.writeHead(up.status, h);
        res.end(up.body);
        return;
      }
      send(res, 404, { statusCode: 404 });
    } catch (e) {
      send(res, 502, { statusCode: 502 });
    }
  })
  .listen(PORT, '127.0.0.1', () => process.send?.('ready'));
