// Interop peer for appsync-rs tests: the real Amplify JS v6 client (query, subscription, IAM mutation) against an AppSync-compatible endpoint, driven by env vars.
//
// stdout: one JSON object per line, one per step (see NOTES.md). stderr: diagnostics and,
// with WIRE_LOG=1, one JSON object per websocket event (URL, subprotocols, frames).
// Exit code 0 only if every step succeeded.

import WS from 'ws';

// ---------------------------------------------------------------------------------------------
// WebSocket for Amplify. Node 20 has no global WebSocket; Amplify calls `new WebSocket(url,
// protocols)` and reads `WebSocket.OPEN`, so a subclass of ws's class is installed globally.
// It can log the wire (WIRE_LOG=1) and dial another URL than the one Amplify derived
// (REALTIME_URL), e.g. a plain ws:// one, since Amplify always dials wss://.
// ---------------------------------------------------------------------------------------------
const WIRE_LOG = process.env.WIRE_LOG === '1';
const REALTIME_URL = process.env.REALTIME_URL || '';

let dials = 0; // websockets opened by Amplify (more than 1 means it reconnected)
const wire = (obj) => {
  if (WIRE_LOG) process.stderr.write(`${JSON.stringify({ wire: obj.event, ...obj, event: undefined })}\n`);
};

const decodeHeaderProtocol = (p) => {
  try {
    return JSON.parse(Buffer.from(p.slice('header-'.length), 'base64url').toString('utf8'));
  } catch (e) {
    return { undecodable: String(e) };
  }
};

class AmplifyWebSocket extends WS {
  constructor(url, protocols, options) {
    const derived = String(url);
    const dial = REALTIME_URL || derived;
    super(dial, protocols, options);
    dials += 1;
    const list = Array.isArray(protocols) ? protocols : protocols ? [protocols] : [];
    wire({
      event: 'dial',
      derivedUrl: derived,
      url: dial,
      protocols: list.map((p) => (p.startsWith('header-') ? `header-<${p.length - 7} chars>` : p)),
      headerJson: list.filter((p) => p.startsWith('header-')).map(decodeHeaderProtocol)[0],
    });
    this.addEventListener('open', () => wire({ event: 'open', protocol: this.protocol }));
    this.addEventListener('message', (m) => wire({ event: 'recv', frame: String(m.data) }));
    this.addEventListener('close', (c) => wire({ event: 'close', code: c.code, reason: c.reason }));
    this.addEventListener('error', (e) => wire({ event: 'error', message: e.message }));
    // A refused upgrade (e.g. 401): log status, headers and body, then abort the handshake
    // as ws does when nobody listens (error + close events, which Amplify sees).
    this.on('unexpected-response', (_req, res) => {
      let body = '';
      let reported = false;
      const finish = () => {
        if (reported) return;
        reported = true;
        clearTimeout(timer);
        wire({ event: 'unexpected-response', status: res.statusCode, headers: res.headers, body });
        this.terminate();
      };
      const timer = setTimeout(finish, 2000);
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', finish);
    });
  }

  send(data, ...rest) {
    wire({ event: 'send', frame: String(data) });
    return super.send(data, ...rest);
  }

  // Also called by ws itself to answer a server's close frame (same code echoed back).
  close(code, reason) {
    wire({ event: 'client-close', code, reason: reason === undefined ? undefined : String(reason) });
    return super.close(code, reason);
  }
}
globalThis.WebSocket = AmplifyWebSocket;

// Amplify is imported after the global WebSocket exists.
const { Amplify } = await import('aws-amplify');
const { generateClient, CONNECTION_STATE_CHANGE, ConnectionState } = await import('aws-amplify/api');
const { Hub, ConsoleLogger } = await import('aws-amplify/utils');

if (process.env.AMPLIFY_DEBUG === '1') {
  // Amplify's logger writes through console.log/debug; keep stdout for the step lines.
  ConsoleLogger.LOG_LEVEL = 'DEBUG';
  ConsoleLogger.BIND_ALL_LOG_LEVELS = true;
  console.debug = console.error;
  console.info = console.error;
}

// ---------------------------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------------------------
const emit = (obj) => console.log(JSON.stringify(obj));
const diag = (...args) => console.error('[amplify-js]', ...args);

// Amplify rejects with a GraphQL result ({data, errors}) whose errors are either the server's
// plain objects or GraphQLError instances (network / HTTP failures, with originalError).
const describeError = (err) => {
  if (err == null) return { message: String(err) };
  if (Array.isArray(err.errors)) {
    return {
      data: err.data ?? null,
      errors: err.errors.map((e) => {
        const out = { message: e?.message };
        for (const [k, v] of Object.entries(e ?? {})) {
          if (k !== 'originalError' && v !== undefined) out[k] = v;
        }
        if (e?.originalError) {
          out.originalError = {
            name: e.originalError.name,
            message: e.originalError.message,
            ...(e.originalError.$metadata ? { httpStatusCode: e.originalError.$metadata.httpStatusCode } : {}),
          };
          // Network failures (refused connection, TLS): the fetch error and its cause.
          const under = e.originalError.underlyingError;
          if (under) {
            out.originalError.underlyingError = [under.message, under.cause?.code, under.cause?.message]
              .filter(Boolean).join(': ');
          }
          // Non-2xx HTTP answers: Amplify keeps the raw response (status, headers, body text).
          const resp = e.originalError.response;
          if (resp) {
            out.originalError.response = {
              statusCode: resp.statusCode,
              errorTypeHeader: resp.headers?.['x-amzn-errortype'],
              body: resp.body,
            };
          }
        }
        return out;
      }),
    };
  }
  if (err instanceof Error) {
    return { name: err.name, message: err.message, ...(err.cause ? { cause: String(err.cause) } : {}) };
  }
  return err;
};

let finished = false;
const fail = (step, error, extra = {}) => {
  if (finished) return;
  finished = true;
  emit({ step, ok: false, error, ...extra });
  process.exit(1);
};

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------
const env = process.env;
const TIMEOUT_MS = Number(env.TIMEOUT_MS || 30000);
const required = ['GRAPHQL_URL', 'API_KEY'];
const skipSubscription = env.SKIP_SUBSCRIPTION === '1';
if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) required.push('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY');
const missing = required.filter((k) => !env[k]);
if (missing.length) fail('config', { message: `missing env: ${missing.join(', ')}` });

const endpoint = env.GRAPHQL_URL;
const region = env.REGION || 'us-east-1';
const seedId = env.SEED_ID || 'seed';
const noteId = env.NOTE_ID || `amplify-js-${Date.now()}`;
const noteContent = env.NOTE_CONTENT || 'from amplify-js';
const holdMs = Number(env.HOLD_MS || 0);
const subscriptionAuthMode = env.SUBSCRIPTION_AUTH_MODE || 'apiKey';
if (!['apiKey', 'iam'].includes(subscriptionAuthMode)) {
  fail('config', { message: `SUBSCRIPTION_AUTH_MODE must be apiKey or iam, not ${subscriptionAuthMode}` });
}

let pendingStep = 'config';
const overall = setTimeout(() => {
  fail('timeout', { message: `overall timeout of ${TIMEOUT_MS} ms passed` }, { pendingStep, connectionStates });
}, TIMEOUT_MS);

const credentials = {
  accessKeyId: env.AWS_ACCESS_KEY_ID,
  secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
  ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
};

Amplify.configure(
  { API: { GraphQL: { endpoint, region, defaultAuthMode: 'apiKey', apiKey: env.API_KEY } } },
  {
    Auth: {
      // No Cognito: IAM requests are signed with these fixed credentials.
      credentialsProvider: {
        getCredentialsAndIdentityId: async () => ({ credentials }),
        clearCredentialsAndIdentityId: () => {},
      },
    },
  },
);
const client = generateClient();

// Connection states published by Amplify's realtime provider on the Hub `api` channel.
// `Connected` is recorded only when a `start_ack` arrives, so it means "subscription started".
const connectionStates = [];
const stateWaiters = [];
Hub.listen('api', ({ payload }) => {
  if (payload.event === CONNECTION_STATE_CHANGE) {
    const state = payload.data.connectionState;
    connectionStates.push(state);
    diag('connection state:', state);
    for (const w of stateWaiters.slice()) if (w.states.includes(state)) w.resolve(state);
  } else {
    diag('hub api event:', payload.event, payload.message ?? '');
  }
});
const waitForState = (states, ms) =>
  new Promise((resolve, reject) => {
    const w = {
      states,
      resolve: (s) => {
        clearTimeout(w.timer);
        stateWaiters.splice(stateWaiters.indexOf(w), 1);
        resolve(s);
      },
    };
    if (ms) {
      w.timer = setTimeout(() => {
        stateWaiters.splice(stateWaiters.indexOf(w), 1);
        reject(new Error(`no ${states.join('/')} connection state within ${ms} ms`));
      }, ms);
    }
    stateWaiters.push(w);
  });

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------
const GET_NOTE = 'query GetNote($id: ID!) { getNote(id: $id) { id content } }';
const ON_CREATE = 'subscription OnCreateNote { onCreateNote { id content } }';
const CREATE = 'mutation Create($id: ID!, $content: String!) { createNote(id: $id, content: $content) { id content } }';

async function main() {
  // 1. Query with the API key (the default auth mode).
  pendingStep = 'query_api_key';
  try {
    const res = await client.graphql({ query: GET_NOTE, variables: { id: seedId } });
    emit({ step: 'query_api_key', ok: true, data: res.data });
  } catch (err) {
    return fail('query_api_key', describeError(err));
  }

  // 2. Subscribe (API key unless SUBSCRIPTION_AUTH_MODE=iam); wait until Amplify reports that
  //    the subscription started.
  let subscription;
  const events = [];
  let eventWaiter = null;
  if (!skipSubscription) {
    pendingStep = 'subscribe';
    const started = waitForState([ConnectionState.Connected]);
    subscription = client.graphql({ query: ON_CREATE, authMode: subscriptionAuthMode }).subscribe({
      next: (value) => {
        diag('subscription next:', JSON.stringify(value));
        events.push(value);
        eventWaiter?.();
      },
      error: (err) => fail('subscription_error', describeError(err), { connectionStates }),
      complete: () => diag('subscription complete'),
    });
    await started;
    emit({ step: 'subscribe', ok: true, authMode: subscriptionAuthMode, connectionState: ConnectionState.Connected });

    // Optional idle time with the subscription open (keep-alive / reconnect checks).
    if (holdMs > 0) {
      pendingStep = 'hold';
      const seen = connectionStates.length;
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      emit({
        step: 'hold', ok: true, ms: holdMs, dials,
        connectionStates: connectionStates.slice(seen),
        currentState: connectionStates.at(-1),
      });
    }
  }

  // 3. IAM-signed mutation (SigV4 with the env credentials).
  pendingStep = 'mutation_iam';
  try {
    const res = await client.graphql({
      query: CREATE,
      variables: { id: noteId, content: noteContent },
      authMode: 'iam',
    });
    emit({ step: 'mutation_iam', ok: true, data: res.data });
  } catch (err) {
    return fail('mutation_iam', describeError(err));
  }

  if (skipSubscription) return done();

  // 4. The subscription must deliver the created note.
  pendingStep = 'subscription_event';
  const match = () => events.find((v) => v?.data?.onCreateNote?.id === noteId);
  if (!match()) {
    await new Promise((resolve) => {
      eventWaiter = () => match() && resolve();
    });
  }
  emit({ step: 'subscription_event', ok: true, data: match().data });

  // Unsubscribe: Amplify sends `stop`, then closes the socket (code 1000) about 1 s later
  // once no subscription is left; wait for that so the server sees a clean close.
  pendingStep = 'unsubscribe';
  const closed = waitForState([ConnectionState.Disconnected], 5000).catch((e) => diag(String(e)));
  subscription.unsubscribe();
  const state = await closed;
  emit({ step: 'unsubscribe', ok: true, connectionState: state ?? connectionStates.at(-1) });
  return done();
}

function done() {
  if (finished) return;
  finished = true;
  clearTimeout(overall);
  process.exit(0);
}

process.on('unhandledRejection', (reason) => fail('unhandled_rejection', describeError(reason)));
process.on('uncaughtException', (err) => fail('uncaught_exception', describeError(err)));

main().catch((err) => fail('internal', describeError(err)));
