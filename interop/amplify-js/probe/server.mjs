// Observation probe (not a test peer): a tiny AppSync look-alike on 127.0.0.1 that logs what Amplify JS sends over HTTP and the realtime websocket.
//
// Run: node probe/server.mjs   (from interop/amplify-js; keep stdin open)
// stdout: `LISTENING <port> <cert.pem or ->`; stderr: one JSON object per observation.
// Env:
//   PROBE_TLS=0           serve plain http/ws (default: https/wss with a fresh self-signed
//                         cert for 127.0.0.1/localhost made by `openssl`, deleted on exit)
//   PROBE_ACK=ms|none|legacy|null|nopayload
//                         connection_ack payload: {"connectionTimeoutMs":PROBE_ACK_MS} (ms,
//                         default), {} (none), {"connectionTimeout":…} (legacy, as the simulator),
//                         "payload":null (null), no payload key at all (nopayload)
//   PROBE_ACK_MS=300000   value for connectionTimeoutMs / connectionTimeout
//   PROBE_KA_MS=0         send {"type":"ka"} every N ms after the ack (0: never)
//   The realtime URL query can override these per connection: ?ack=null&ackMs=1000&kaMs=500;
//   failure modes: ?reject=401 (refuse the upgrade), ?connError=401 (connection_error after
//   init), ?startError=Unauthorized (error frame for every start).
// Only what the probe needs is implemented: getNote returns a fixed note, createNote echoes
// its variables and is pushed to every started subscription. No auth is checked.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';

const log = (obj) => process.stderr.write(`${JSON.stringify(obj)}\n`);
const TLS = process.env.PROBE_TLS !== '0';
const ACK = process.env.PROBE_ACK || 'ms';
const ACK_MS = Number(process.env.PROBE_ACK_MS || 300000);
const KA_MS = Number(process.env.PROBE_KA_MS || 0);

let certDir = null;
let certFile = '-';
const handler = (req, res) => onHttp(req, res);
let server;
if (TLS) {
  certDir = mkdtempSync(join(tmpdir(), 'amplify-probe-'));
  certFile = join(certDir, 'cert.pem');
  const keyFile = join(certDir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  server = https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handler);
} else {
  server = http.createServer(handler);
}

const sockets = new Set(); // open realtime sockets
const subs = new Map(); // `${socketNo}:${id}` -> {ws, id}

function onHttp(req, res) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    log({ probe: 'http', method: req.method, url: req.url, headers: req.headers, body });
    let parsed = {};
    try { parsed = JSON.parse(body); } catch { /* not JSON */ }
    const q = String(parsed.query || '');
    const v = parsed.variables || {};
    let result;
    if (/createNote/.test(q)) {
      const note = { id: v.id, content: v.content };
      result = { data: { createNote: note } };
      for (const { ws, id } of subs.values()) send(ws, { type: 'data', id, payload: { data: { onCreateNote: note } } });
    } else if (/getNote/.test(q)) {
      result = { data: { getNote: { id: v.id, content: 'hello' } } };
    } else {
      result = { data: null, errors: [{ message: 'probe: unknown operation' }] };
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(result));
  });
}

let socketNo = 0;
const send = (ws, msg) => {
  const frame = msg === null ? '' : JSON.stringify(msg);
  log({ probe: 'ws-send', socket: ws.no, frame });
  ws.send(frame);
};

const wss = new WebSocketServer({
  server,
  handleProtocols: (protocols) => (protocols.has('graphql-ws') ? 'graphql-ws' : false),
  // ?reject=401 refuses the upgrade itself, as AppSync may do for bad handshake auth.
  verifyClient: ({ req }, done) => {
    const status = Number(new URL(req.url, 'http://probe').searchParams.get('reject') || 0);
    if (!status) return done(true);
    log({ probe: 'ws-reject', url: req.url, status });
    return done(false, status, 'Unauthorized', {
      'content-type': 'application/json',
      'x-amzn-ErrorType': 'UnauthorizedException',
    });
  },
});
wss.on('connection', (ws, req) => {
  ws.no = ++socketNo;
  sockets.add(ws);
  const offered = String(req.headers['sec-websocket-protocol'] || '').split(',').map((s) => s.trim());
  const headerProto = offered.find((p) => p.startsWith('header-'));
  let headerJson;
  if (headerProto) {
    try { headerJson = JSON.parse(Buffer.from(headerProto.slice(7), 'base64url').toString('utf8')); } catch (e) { headerJson = { error: String(e) }; }
  }
  log({
    probe: 'ws-upgrade', socket: ws.no, url: req.url, headers: req.headers,
    offeredProtocols: offered.map((p) => (p.startsWith('header-') ? `header-<${p.length - 7} chars>` : p)),
    headerProtocolRaw: headerProto, headerJson, selected: ws.protocol,
  });
  // Per-connection overrides from the URL query (dial it with the client's REALTIME_URL):
  // ?ack=…&ackMs=…&kaMs=… as the PROBE_* variables.
  const qs = new URL(req.url, 'http://probe').searchParams;
  const ackMode = qs.get('ack') || ACK;
  const ackMs = Number(qs.get('ackMs') || ACK_MS);
  const kaMs = Number(qs.get('kaMs') || KA_MS);
  let ka = null;
  ws.on('message', (data) => {
    const text = String(data);
    log({ probe: 'ws-recv', socket: ws.no, frame: text });
    let msg;
    try { msg = JSON.parse(text); } catch { return; }
    if (msg.type === 'connection_init' && qs.get('connError')) {
      // ?connError=401 answers the init with connection_error (errorCode from the query).
      send(ws, {
        type: 'connection_error',
        payload: { errors: [{ errorType: 'UnauthorizedException', message: 'You are not authorized to make this call.', errorCode: Number(qs.get('connError')) }] },
      });
      ws.close(1000);
    } else if (msg.type === 'connection_init') {
      const ack = { type: 'connection_ack' };
      if (ackMode === 'ms') ack.payload = { connectionTimeoutMs: ackMs };
      else if (ackMode === 'none') ack.payload = {};
      else if (ackMode === 'legacy') ack.payload = { connectionTimeout: ackMs };
      else if (ackMode === 'null') ack.payload = null;
      send(ws, ack);
      if (kaMs > 0) ka = setInterval(() => send(ws, { type: 'ka' }), kaMs);
    } else if (msg.type === 'start' && qs.get('startError')) {
      // ?startError=Unauthorized answers the start with an error frame of that errorType.
      send(ws, {
        type: 'error', id: msg.id,
        payload: { errors: [{ errorType: qs.get('startError'), message: 'Not Authorized to access onCreateNote on type Subscription' }] },
      });
    } else if (msg.type === 'start') {
      subs.set(`${ws.no}:${msg.id}`, { ws, id: msg.id });
      send(ws, { type: 'start_ack', id: msg.id });
    } else if (msg.type === 'stop') {
      subs.delete(`${ws.no}:${msg.id}`);
      send(ws, { type: 'complete', id: msg.id });
    }
  });
  ws.on('close', (code, reason) => {
    clearInterval(ka);
    sockets.delete(ws);
    for (const [k, s] of subs) if (s.ws === ws) subs.delete(k);
    log({ probe: 'ws-close', socket: ws.no, code, reason: String(reason) });
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port} ${certFile}\n`);
});

let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  for (const ws of sockets) ws.terminate();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
