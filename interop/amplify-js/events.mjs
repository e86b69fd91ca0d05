// Interop peer for appsync-rs tests: the real Amplify JS v6 Events client (events.connect /
// channel.subscribe / channel.publish / events.post) against an AppSync Events endpoint,
// configured from an amplify_outputs.json and driven by JSON commands on stdin.
//
// stdout: one JSON object per line (see NOTES.md, "Events"). stderr: diagnostics and, with
// WIRE_LOG=1, one JSON object per websocket event. The process runs until it reads
// {"cmd":"exit"} (or stdin closes), then exits 0; a failed setup exits 1.

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import WS from 'ws';

// ---------------------------------------------------------------------------------------------
// WebSocket for Amplify (Node 20 has none): ws's class, with optional wire logging.
// ---------------------------------------------------------------------------------------------
const WIRE_LOG = process.env.WIRE_LOG === '1';
const wire = (obj) => {
  if (WIRE_LOG) process.stderr.write(`${JSON.stringify(obj)}\n`);
};
class AmplifyWebSocket extends WS {
  constructor(url, protocols, options) {
    super(url, protocols, options);
    const list = Array.isArray(protocols) ? protocols : protocols ? [protocols] : [];
    wire({
      wire: 'dial',
      url: String(url),
      protocols: list.map((p) => (p.startsWith('header-') ? 'header-<…>' : p)),
      header: list
        .filter((p) => p.startsWith('header-'))
        .map((p) => JSON.parse(Buffer.from(p.slice(7), 'base64url').toString('utf8')))[0],
    });
    this.addEventListener('message', (m) => wire({ wire: 'recv', frame: String(m.data) }));
    this.addEventListener('close', (c) => wire({ wire: 'close', code: c.code, reason: c.reason }));
  }

  send(data, ...rest) {
    wire({ wire: 'send', frame: String(data) });
    return super.send(data, ...rest);
  }
}
globalThis.WebSocket = AmplifyWebSocket;

// Amplify is imported after the global WebSocket exists.
const { Amplify } = await import('aws-amplify');
const { events } = await import('aws-amplify/data');

// A token as Amplify's tokenProvider returns it (what its decodeJWT makes): toString() and payload.
const jwt = (token) => ({
  toString: () => token,
  payload: JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}'),
});

const emit = (obj) => console.log(JSON.stringify(obj));
const describe = (err) => {
  if (err == null) return { message: String(err) };
  if (Array.isArray(err.errors)) return { message: err.errors.map((e) => e?.message).join('; ') };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { message: JSON.stringify(err) };
};
process.on('unhandledRejection', (e) => emit({ step: 'unhandled_rejection', error: describe(e) }));

// ---------------------------------------------------------------------------------------------
// Configuration: the server's amplify_outputs.json (custom.events), credentials for IAM, a
// user-pool token for userPool.
// ---------------------------------------------------------------------------------------------
const env = process.env;
let outputs;
try {
  outputs = JSON.parse(readFileSync(env.AMPLIFY_OUTPUTS, 'utf8'));
} catch (e) {
  emit({ step: 'config', ok: false, error: describe(e) });
  process.exit(1);
}
const authMode = env.AUTH_MODE || undefined;
const credentials = env.AWS_ACCESS_KEY_ID
  ? {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    }
  : undefined;
Amplify.configure(outputs, {
  Auth: {
    ...(credentials
      ? {
          credentialsProvider: {
            getCredentialsAndIdentityId: async () => ({ credentials }),
            clearCredentialsAndIdentityId: () => {},
          },
        }
      : {}),
    ...(env.USER_POOL_TOKEN
      ? {
          tokenProvider: {
            getTokens: async () => ({ accessToken: jwt(env.USER_POOL_TOKEN) }),
          },
        }
      : {}),
  },
});

// ---------------------------------------------------------------------------------------------
// Channels: one events.connect per channel path, kept for publishing; subscriptions print each
// event they receive.
// ---------------------------------------------------------------------------------------------
const channels = new Map();
const channelFor = async (path, mode) => {
  if (!channels.has(path)) channels.set(path, await events.connect(path, { authMode: mode ?? authMode }));
  return channels.get(path);
};

const subscribe = async (path, mode) => {
  const channel = await channelFor(path, mode);
  const sub = channel.subscribe(
    {
      next: (data) => emit({ step: 'event', channel: path, event: data.event }),
      error: (err) => emit({ step: 'subscription_error', channel: path, error: describe(err) }),
    },
    { authMode: mode ?? authMode },
  );
  try {
    await sub.ready;
    emit({ step: 'subscribed', channel: path, ok: true });
  } catch (e) {
    emit({ step: 'subscribed', channel: path, ok: false, error: describe(e) });
  }
};

const commands = {
  subscribe: async ({ channel, authMode: mode }) => subscribe(channel, mode),
  // Over the socket: channel.publish (publish / publish_success).
  publish: async ({ channel, events: value, authMode: mode }) => {
    const c = await channelFor(channel, mode);
    await c.publish(value, { authMode: mode ?? authMode });
    return {};
  },
  // Over HTTP: events.post (POST /event); resolves to the failed events, if any.
  post: async ({ channel, events: value, authMode: mode }) => {
    const failed = await events.post(channel, value, { authMode: mode ?? authMode });
    return { failed: failed ?? [] };
  },
  exit: async () => {
    await events.closeAll().catch(() => {});
    emit({ step: 'exit', ok: true });
    process.exit(0);
  },
};

for (const path of JSON.parse(env.SUBSCRIBE || '[]')) {
  await subscribe(path);
}
emit({ step: 'ready', ok: true });

// Commands run one at a time, in order.
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    emit({ step: 'command', ok: false, error: describe(e) });
    continue;
  }
  const run = commands[cmd.cmd];
  if (!run) {
    emit({ step: cmd.cmd, ok: false, error: { message: 'unknown command' } });
    continue;
  }
  try {
    const result = await run(cmd);
    if (cmd.cmd !== 'subscribe') emit({ step: cmd.cmd, ok: true, ...result });
  } catch (e) {
    emit({ step: cmd.cmd, ok: false, error: describe(e) });
  }
}
await commands.exit();
