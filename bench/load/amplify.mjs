// Load-bench peer: Amplify JS v6 (`aws-amplify` from npm) in Node, doing one phase against the stub and printing its figures as JSON, like the Rust load clients.
//
// Usage: node amplify.mjs '<json spec>'   (the spec's fields: see `spec` below; the harness,
// src/bin/load.rs, writes it). Output (stdout, one JSON object a line): `{"ready":true}` when a
// subscription phase is ready for the stub to fire, then the result object; exit 0.
//
// Used as a newcomer would: `Amplify.configure` with the API key as default mode, IAM through
// `libraryOptions.Auth.credentialsProvider`, `generateClient().graphql({query, variables,
// authMode})` for queries and `.subscribe` for subscriptions. Node 20 has no global WebSocket:
// ws's class is installed, and since Amplify dials `wss://` even for an `http://` endpoint
// (INTEROP.md), the subclass dials the plain `ws://` URL of the same host and path instead: the
// stub and every client speak plain TCP, so nobody pays for TLS.

import WS from 'ws';

class PlainWebSocket extends WS {
  constructor(url, protocols, options) {
    super(String(url).replace(/^wss:\/\//, 'ws://'), protocols, options);
  }
}
globalThis.WebSocket = PlainWebSocket;

// Amplify is imported after the global WebSocket exists.
const { Amplify } = await import('aws-amplify');
const { generateClient, CONNECTION_STATE_CHANGE, ConnectionState } = await import('aws-amplify/api');
const { Hub } = await import('aws-amplify/utils');

const spec = JSON.parse(process.argv[2] || '{}');
// spec: {url, api_key, region, access_key_id, secret_access_key, session_token, phase:
// "query"|"subscribe"|"idle", auth: "api_key"|"iam", count, concurrency, warmup, tag,
// idle_timeout_ms}
const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const authMode = spec.auth === 'iam' ? 'iam' : 'apiKey';

const credentials = {
  accessKeyId: spec.access_key_id,
  secretAccessKey: spec.secret_access_key,
  ...(spec.session_token ? { sessionToken: spec.session_token } : {}),
};
Amplify.configure(
  { API: { GraphQL: { endpoint: spec.url, region: spec.region, defaultAuthMode: 'apiKey', apiKey: spec.api_key } } },
  {
    Auth: {
      credentialsProvider: {
        getCredentialsAndIdentityId: async () => ({ credentials }),
        clearCredentialsAndIdentityId: () => {},
      },
    },
  },
);
const client = generateClient();

const GET_EVENT = 'query GetEvent($id: ID!) { getEvent(id: $id) { id n } }';
const ON_EVENT = 'subscription OnEvent($tag: String!) { onEvent(tag: $tag) { id n } }';

// getrusage of this process (every thread): user + system CPU in ns, peak RSS in bytes.
const cpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};
const peakRss = () => process.resourceUsage().maxRSS * 1024;

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0);

async function queries() {
  let errors = 0;
  let firstError = null;
  const one = async (i, lat) => {
    const t0 = process.hrtime.bigint();
    try {
      const r = await client.graphql({ query: GET_EVENT, variables: { id: `e${i}` }, authMode });
      if (r.data?.getEvent?.id !== 'e1') throw new Error(`unexpected answer ${JSON.stringify(r)}`);
    } catch (e) {
      errors += 1;
      firstError ??= JSON.stringify(e?.errors ?? String(e)).slice(0, 500);
    }
    if (lat) lat.push(Number(process.hrtime.bigint() - t0));
  };
  const run = async (n, lat) => {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next;
        next += 1;
        await one(i, lat);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, spec.concurrency) }, worker));
  };
  await run(spec.warmup, null);
  errors = 0;
  const lat = [];
  const c0 = cpuNs();
  const w0 = process.hrtime.bigint();
  await run(spec.count, lat);
  const wall = Number(process.hrtime.bigint() - w0);
  const cpu = cpuNs() - c0;
  lat.sort((a, b) => a - b);
  return {
    ops: spec.count, cpu_ns: cpu, wall_ns: wall, p50_ns: percentile(lat, 0.5), p99_ns: percentile(lat, 0.99),
    errors, first_error: firstError,
  };
}

/** Resolves when Amplify reports `Connected` (it does so on `start_ack`). */
const connected = () => new Promise((resolve) => {
  const stop = Hub.listen('api', ({ payload }) => {
    if (payload.event === CONNECTION_STATE_CHANGE && payload.data.connectionState === ConnectionState.Connected) {
      stop();
      resolve();
    }
  });
});

async function subscription() {
  let received = 0;
  let errors = 0;
  let firstError = null;
  let first = 0n;
  let last = 0n;
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  let idle = null;
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => done(), spec.idle_timeout_ms);
  };
  const up = connected();
  const sub = client.graphql({ query: ON_EVENT, variables: { tag: spec.tag }, authMode }).subscribe({
    next: (v) => {
      if (v?.data?.onEvent?.id === undefined) errors += 1;
      received += 1;
      last = process.hrtime.bigint();
      if (received === 1) first = last;
      if (received >= spec.count) done();
      else if (received % 1024 === 0) armIdle();
    },
    error: (e) => {
      errors += 1;
      firstError ??= JSON.stringify(e?.errors ?? String(e)).slice(0, 500);
      done();
    },
  });
  await up;
  const c0 = cpuNs();
  emit({ ready: true });
  armIdle();
  await finished;
  clearTimeout(idle);
  const cpu = cpuNs() - c0;
  sub.unsubscribe();
  return {
    ops: spec.count, cpu_ns: cpu, wall_ns: Number(last - first), received, lagged: 0, errors, first_error: firstError,
  };
}

const rss = () => process.memoryUsage().rss;

async function idleSubscriptions() {
  let errors = 0;
  const before = rss();
  const subs = [];
  let acked = 0;
  let done;
  const all = new Promise((resolve) => { done = resolve; });
  // Amplify has no per-subscription ack callback; the Hub's `Subscription ack` events count them.
  const stop = Hub.listen('api', ({ payload }) => {
    if (payload.event === 'Subscription ack') {
      acked += 1;
      if (acked >= spec.count) done();
    }
  });
  for (let i = 0; i < spec.count; i += 1) {
    subs.push(client.graphql({ query: ON_EVENT, variables: { tag: `${spec.tag}-${i}` }, authMode }).subscribe({
      next: () => {},
      error: () => { errors += 1; },
    }));
  }
  const timer = setTimeout(() => done(), spec.idle_timeout_ms * 10);
  await all;
  clearTimeout(timer);
  stop();
  const after = rss();
  return { ops: spec.count, received: acked, rss_delta_bytes: after - before, errors, subs: subs.length };
}

const t = setTimeout(() => {
  emit({ ops: 0, errors: 1, first_error: 'amplify.mjs: overall timeout' });
  process.exit(1);
}, spec.timeout_ms || 600_000);

let result;
try {
  if (spec.phase === 'query') result = await queries();
  else if (spec.phase === 'subscribe') result = await subscription();
  else result = await idleSubscriptions();
} catch (e) {
  result = { ops: 0, errors: 1, first_error: String(e?.stack ?? e) };
}
clearTimeout(t);
emit({ ...result, max_rss_bytes: peakRss(), cpu_total_ns: cpuNs() });
process.exit(0);
