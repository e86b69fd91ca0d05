// Interop peer for appsync-rs tests: AWS's AppSync simulator on 127.0.0.1, random port, in-memory notes.
'use strict';

const { AmplifyAppSyncSimulator } = require('@aws-amplify/amplify-appsync-simulator');

// stdout carries exactly one line (`LISTENING <port>`); everything else goes to stderr.
for (const level of ['log', 'info', 'warn', 'debug']) console[level] = console.error;

// A bad realtime `start` (bad auth, syntax error, a query) rejects inside the simulator and
// would kill a bare process; log such failures and keep serving.
process.on('unhandledRejection', (reason) => console.error('unhandledRejection:', reason));
process.on('uncaughtException', (err) => console.error('uncaughtException:', err));

const API_KEY = 'da2-interoptestkey000000000000';
const USER_POOL_ID = 'us-east-1_interop';
const OIDC_ISSUER = 'https://oidc.interop.test';

const ALL = '@aws_api_key @aws_iam @aws_cognito_user_pools @aws_oidc';
const SCHEMA = `
type Note ${ALL} {
  id: ID!
  content: String!
  secret: String @aws_cognito_user_pools
}
type Query {
  getNote(id: ID!): Note ${ALL}
  listNotes: [Note!]! ${ALL}
  adminOnly: String @aws_cognito_user_pools(cognito_groups: ["admin"])
  iamOnly: String @aws_iam
}
type Mutation {
  createNote(id: ID!, content: String!): Note ${ALL}
}
type Subscription {
  onCreateNote(id: ID): Note @aws_subscribe(mutations: ["createNote"]) ${ALL}
}
`;

// In-memory store behind an in-process AWS_LAMBDA data source.
const notes = new Map([['seed', { id: 'seed', content: 'hello', secret: 's-seed' }]]);
const handlers = {
  getNote: ({ id }) => notes.get(id) || null,
  listNotes: () => Array.from(notes.values()),
  createNote: ({ id, content }) => {
    const note = { id, content, secret: `s-${id}` };
    notes.set(id, note);
    return note;
  },
  iamOnly: () => 'iam-ok',
  adminOnly: () => 'admin-ok',
};
const invoke = async ({ field, arguments: args }) => handlers[field](args || {});

const resolver = (typeName, fieldName) => ({
  kind: 'UNIT',
  typeName,
  fieldName,
  dataSourceName: 'store',
  requestMappingTemplate: `{"version":"2018-05-29","operation":"Invoke","payload":{"field":"${fieldName}","arguments":$util.toJson($ctx.arguments)}}`,
  responseMappingTemplate: '#if($ctx.error)$util.error($ctx.error.message, $ctx.error.type)#end\n$util.toJson($ctx.result)',
});

const config = {
  schema: { content: SCHEMA },
  dataSources: [{ name: 'store', type: 'AWS_LAMBDA', invoke }],
  resolvers: [
    resolver('Query', 'getNote'),
    resolver('Query', 'listNotes'),
    resolver('Query', 'adminOnly'),
    resolver('Query', 'iamOnly'),
    resolver('Mutation', 'createNote'),
  ],
  appSync: {
    name: 'appsync-rs-interop',
    apiKey: API_KEY,
    defaultAuthenticationType: { authenticationType: 'API_KEY' },
    additionalAuthenticationProviders: [
      { authenticationType: 'AWS_IAM' },
      { authenticationType: 'AMAZON_COGNITO_USER_POOLS', cognitoUserPoolConfig: { UserPoolId: USER_POOL_ID } },
      { authenticationType: 'OPENID_CONNECT', openIDConnectConfig: { Issuer: OIDC_ISSUER, ClientId: 'interop-client' } },
    ],
  },
};

async function main() {
  const simulator = new AmplifyAppSyncSimulator({ port: 0, wsPort: 0 });
  simulator.init(config);

  // What AppSyncSimulatorServer.start() does, minus get-port and the all-interfaces listen().
  const inner = simulator._server;
  const http = inner._httpServer;
  await inner._realTimeSubscriptionServer.start();
  await new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', resolve);
  });
  process.stdout.write(`LISTENING ${http.address().port}\n`);

  let stopping = false;
  const shutdown = (why) => {
    if (stopping) return;
    stopping = true;
    console.error(`stopping: ${why}`);
    const bye = setTimeout(() => process.exit(0), 1000);
    simulator.stop().catch(() => {}).finally(() => {
      clearTimeout(bye);
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}

main().catch((err) => {
  console.error('failed to start simulator:', err);
  process.exit(1);
});
