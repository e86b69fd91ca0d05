// Stub AppSync server for the load bench: GraphQL over HTTP and the realtime `graphql-ws` protocol on 127.0.0.1:0, API keys and SigV4 verified for real.
//
// Usage: node stub.mjs   (configuration from the environment, see `env` below)
// stdout: `LISTENING <port>` once, then one answer per command; stderr: problems.
// stdin, one command a line (the stub exits when stdin closes):
//   fire <tag> <count>  sends <count> `data` frames back to back to every subscription whose
//                       variables carry that tag; answers `fired <tag> <count> <subscriptions>`
//   stats               answers `stats <json>` (counters since the start: requests, rejections,
//                       sockets, subscriptions live)
//
// What it checks, so that every client does the work AppSync asks of it:
// - HTTP `POST /graphql`: `x-api-key` equal to the key, or a SigV4 signature over the exact body
//   (service `appsync`, the region, host with port, the session token signed when present);
//   the body must be JSON with a `query` string. Answer: a fixed small response.
// - Realtime `/graphql/realtime`: the handshake's authorization object from the `header-`
//   subprotocol, the `header=` query or plain headers; IAM signed as `POST /graphql/connect`,
//   body `{}`. Each `start` carries its own authorization; IAM signed as `POST /graphql`, body =
//   the `payload.data` string (appsync-protocol.md §2.2–§2.6). Rejections are answered the way
//   AppSync does (HTTP 401/403 with `x-amzn-ErrorType`; `connection_error`; `error` per start).
//
// The `data` frames of a subscription are built once (1,024 distinct frames, cycled) and fired
// as pre-encoded WebSocket frames written straight to the socket in one corked burst: the
// sender must outpace every client, or the bench would measure the stub.

import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { WebSocketServer } from 'ws';
import { verify, headersFromRaw, headersFromObject } from './sigv4.mjs';

const env = process.env;
const API_KEY = env.STUB_API_KEY || 'da2-loadbenchloadbenchloadbench';
const REGION = env.STUB_REGION || 'us-east-1';
// `AKID:SECRET[:TOKEN]` entries separated by commas: the credential table.
const CREDENTIALS = new Map(
  (env.STUB_CREDENTIALS || 'ASIALOADBENCHEXAMPLE:loadbench/secret/key/EXAMPLEKEYEXAMPLEKEY:loadbench-session-token')
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const [akid, secret, token] = entry.split(':');
      return [akid, { secretAccessKey: secret, sessionToken: token || undefined }];
    }),
);
// The answer to every query: small, like a single-item `get`.
const QUERY_RESPONSE = Buffer.from(env.STUB_RESPONSE || '{"data":{"getEvent":{"id":"e1","n":1}}}');
// Frames per subscription built up front and cycled when firing.
const FRAME_CYCLE = 1024;
// Seconds between `ka` frames (AppSync: about 60; the first one right after the ack).
const KA_SECONDS = Number(env.STUB_KA_SECONDS || 60);

const stats = {
  http: 0, httpRejected: 0, sockets: 0, socketsRejected: 0,
  starts: 0, startsRejected: 0, subscriptions: 0, fired: 0,
};

const lookupCredentials = (akid) => CREDENTIALS.get(akid);

// STUB_RECORD=<file>: the first accepted IAM request of each kind (HTTP, connect, start) as
// sent, for the verifier's tests (fixtures/signed-requests.json is made this way).
const RECORD = env.STUB_RECORD || '';
const recorded = new Set();
const record = (kind, input) => {
  if (recorded.has(kind)) return;
  recorded.add(kind);
  const { headers, method, path, query } = input;
  const body = Buffer.isBuffer(input.body) ? input.body.toString('utf8') : input.body;
  appendFileSync(RECORD, `${JSON.stringify({ kind, method, path, query, headers, body })}\n`);
};

/** Checks an API key or a SigV4 signature; returns null when accepted, else an error. */
function authorize({ kind, headers, method, path, query, body }) {
  if (headers['x-api-key'] !== undefined) {
    return headers['x-api-key'] === API_KEY
      ? null
      : { status: 401, errorType: 'UnauthorizedException', message: 'You are not authorized to make this call.' };
  }
  if (headers.authorization === undefined) {
    return { status: 401, errorType: 'UnauthorizedException', message: 'Valid authorization header not provided.' };
  }
  const r = verify({
    method, path, query, headers, body, credentials: lookupCredentials, service: 'appsync', region: REGION,
  });
  if (r.ok && RECORD) record(kind, { headers, method, path, query, body });
  return r.ok ? null : { status: 403, errorType: r.errorType, message: r.message };
}

// ---------------------------------------------------------------------------------------------
// HTTP

const reject = (res, e) => {
  stats.httpRejected += 1;
  const body = JSON.stringify({ errors: [{ errorType: e.errorType, message: e.message }] });
  res.writeHead(e.status, { 'content-type': 'application/json', 'x-amzn-ErrorType': e.errorType });
  res.end(body);
};

function onRequest(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    stats.http += 1;
    const body = Buffer.concat(chunks);
    const [path, query = ''] = req.url.split('?', 2);
    if (req.method !== 'POST' || path !== '/graphql') {
      return reject(res, { status: 404, errorType: 'NotFoundException', message: `no route ${req.method} ${path}` });
    }
    const headers = headersFromRaw(req.rawHeaders);
    const denied = authorize({ kind: 'http', headers, method: 'POST', path, query, body });
    if (denied) return reject(res, denied);
    let doc;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      doc = null;
    }
    if (!doc || typeof doc.query !== 'string') {
      return reject(res, { status: 400, errorType: 'MalformedHttpRequestException', message: 'Unable to parse GraphQL query.' });
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': QUERY_RESPONSE.length });
    res.end(QUERY_RESPONSE);
  });
}

// ---------------------------------------------------------------------------------------------
// Realtime

// Lenient base64: both alphabets, padding optional (appsync-protocol.md §2.4).
const decodeBase64Json = (s) => {
  try {
    return JSON.parse(Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    return null;
  }
};

/** The handshake's authorization object: `header-` subprotocol, `header=` query, or plain headers. */
function handshakeAuth(req) {
  const protocols = (req.headers['sec-websocket-protocol'] || '').split(',').map((p) => p.trim());
  const sub = protocols.find((p) => p.startsWith('header-'));
  if (sub) return headersFromObject(decodeBase64Json(sub.slice('header-'.length)));
  const query = req.url.split('?', 2)[1] || '';
  for (const pair of query.split('&')) {
    if (pair.startsWith('header=')) {
      // Percent-decoding without `+` → space: a raw `+` is base64, not a space.
      let value = pair.slice('header='.length);
      try {
        value = decodeURIComponent(value);
      } catch { /* keep it as sent */ }
      return headersFromObject(decodeBase64Json(value));
    }
  }
  return headersFromRaw(req.rawHeaders);
}

/** One pre-encoded server→client text frame (unmasked, FIN). */
function wsFrame(text) {
  const payload = Buffer.from(text, 'utf8');
  const n = payload.length;
  const head = n < 126
    ? Buffer.from([0x81, n])
    : n < 65536
      ? Buffer.from([0x81, 126, n >> 8, n & 0xff])
      : (() => {
        const h = Buffer.alloc(10);
        h[0] = 0x81;
        h[1] = 127;
        h.writeBigUInt64BE(BigInt(n), 2);
        return h;
      })();
  return Buffer.concat([head, payload]);
}

/** 1,024 distinct `data` frames for one subscription id, as one buffer plus frame offsets. */
function buildFrames(id) {
  const parts = [];
  const offsets = [0];
  for (let k = 0; k < FRAME_CYCLE; k += 1) {
    const f = wsFrame(JSON.stringify({ type: 'data', id, payload: { data: { onEvent: { id: `e${k}`, n: k } } } }));
    parts.push(f);
    offsets.push(offsets[k] + f.length);
  }
  return { block: Buffer.concat(parts), offsets };
}

const subsByTag = new Map(); // tag -> Set of {ws, id, frames}

function onConnection(ws, req) {
  stats.sockets += 1;
  const auth = handshakeAuth(req);
  const host = req.headers.host;
  const subs = new Map(); // id -> sub
  let ka = null;
  const send = (obj) => ws.send(JSON.stringify(obj));

  const connectDenied = () => {
    if (auth.host !== host) return { errorType: 'UnauthorizedException', message: `host ${auth.host} is not ${host}` };
    const e = authorize({ kind: 'connect', headers: auth, method: 'POST', path: '/graphql/connect', query: '', body: '{}' });
    return e && { errorType: e.errorType, message: e.message };
  };

  const removeSub = (id) => {
    const sub = subs.get(id);
    if (!sub) return;
    subs.delete(id);
    stats.subscriptions -= 1;
    const set = subsByTag.get(sub.tag);
    if (set) {
      set.delete(sub);
      if (set.size === 0) subsByTag.delete(sub.tag);
    }
  };

  ws.on('message', (raw) => {
    let msg;
    try {
      msg = JSON.parse(raw.toString('utf8'));
    } catch {
      return;
    }
    switch (msg.type) {
      case 'connection_init': {
        const denied = connectDenied();
        if (denied) {
          stats.socketsRejected += 1;
          send({ type: 'connection_error', payload: { errors: [{ ...denied, errorCode: 401 }] } });
          ws.close(1000);
          return;
        }
        send({ type: 'connection_ack', payload: { connectionTimeoutMs: 300000 } });
        send({ type: 'ka' });
        ka = setInterval(() => send({ type: 'ka' }), KA_SECONDS * 1000);
        return;
      }
      case 'start': {
        stats.starts += 1;
        const id = msg.id;
        const data = msg.payload?.data;
        const authObj = headersFromObject(msg.payload?.extensions?.authorization);
        let denied = null;
        if (typeof data !== 'string') denied = { errorType: 'BadRequestException', message: 'payload.data must be a string' };
        else if (authObj.host !== host) denied = { errorType: 'UnauthorizedException', message: 'host mismatch' };
        else denied = authorize({ kind: 'start', headers: authObj, method: 'POST', path: '/graphql', query: '', body: data });
        let doc = null;
        if (!denied) {
          try {
            doc = JSON.parse(data);
          } catch { /* below */ }
          if (!doc || typeof doc.query !== 'string') denied = { errorType: 'BadRequestException', message: 'payload.data is not a GraphQL request' };
        }
        if (!denied && subs.has(id)) denied = { errorType: 'DuplicatedOperationError', message: 'Duplicate subscription ID' };
        if (denied) {
          stats.startsRejected += 1;
          send({ type: 'error', id, payload: { errors: [{ errorType: denied.errorType, message: denied.message }] } });
          return;
        }
        const tag = String(doc.variables?.tag ?? '');
        const sub = { ws, id, tag, frames: null };
        subs.set(id, sub);
        stats.subscriptions += 1;
        if (!subsByTag.has(tag)) subsByTag.set(tag, new Set());
        subsByTag.get(tag).add(sub);
        send({ type: 'start_ack', id });
        return;
      }
      case 'stop': {
        removeSub(msg.id);
        send({ type: 'complete', id: msg.id });
        return;
      }
      default:
    }
  });
  ws.on('close', () => {
    if (ka) clearInterval(ka);
    for (const id of [...subs.keys()]) removeSub(id);
  });
  ws.on('error', (e) => process.stderr.write(`stub: socket error ${e.message}\n`));
}

/** Writes `count` data frames of `sub` to its socket in one corked burst; false if it is closed. */
function fire(sub, count) {
  if (!sub.frames) sub.frames = buildFrames(sub.id);
  const { block, offsets } = sub.frames;
  // The underlying TCP socket: ws writes each frame to it whole, and no other frame is being
  // written while this synchronous burst runs, so frame boundaries stay intact.
  // eslint-disable-next-line no-underscore-dangle
  const socket = sub.ws._socket;
  if (!socket || socket.destroyed) return false;
  socket.cork();
  let left = count;
  while (left >= FRAME_CYCLE) {
    socket.write(block);
    left -= FRAME_CYCLE;
  }
  if (left > 0) socket.write(block.subarray(0, offsets[left]));
  socket.uncork();
  stats.fired += count;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Startup and commands

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: 1 << 20,
  // Select `graphql-ws`; never echo the `header-…` token (appsync-protocol.md §2.4).
  handleProtocols: (protocols) => (protocols.has('graphql-ws') ? 'graphql-ws' : false),
});
const server = createServer({ keepAliveTimeout: 60_000 }, onRequest);
server.on('upgrade', (req, socket, head) => {
  const path = req.url.split('?', 1)[0];
  if (path !== '/graphql/realtime') {
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === 'fire') {
    const [tag, countText] = args;
    const count = Number(countText);
    const set = subsByTag.get(tag) ?? new Set();
    let live = 0;
    for (const sub of set) live += fire(sub, count) ? 1 : 0;
    process.stdout.write(`fired ${tag} ${count} ${live}\n`);
  } else if (cmd === 'stats') {
    process.stdout.write(`stats ${JSON.stringify(stats)}\n`);
  } else if (cmd) {
    process.stderr.write(`stub: unknown command ${line}\n`);
  }
});
// The harness closes stdin to stop the stub (and stops it by pid if that fails).
rl.on('close', () => process.exit(0));
