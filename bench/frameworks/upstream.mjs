import http from 'node:http';
const port = +process.env.UPSTREAM_PORT || 4100;
let s = JSON.stringify({ ok: true, team: 'T0', user: 'U0' });
s = s.slice(0, -1) + ',"url":"' + 'x'.repeat(60 - s.length - 9) + '"}';
const body = Buffer.from(s);
if (body.length !== 60) throw new Error('len ' + body.length);
http
  .createServer((req, res) => {
    if (req.method === 'GET' && req.url.split('?')[0] === '/auth.test') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      res.end(body);
    } else {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
    }
  })
  .listen(port, '127.0.0.1', () => process.send?.('ready'));
