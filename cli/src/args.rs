//! The command line as clap sees it: every command, flag and help text, each command with an
//! example.

use std::path::PathBuf;
use std::time::Duration;

use appsync_client::AuthMode;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// The auth modes as config files spell them, which `--auth-mode` takes (any letter case).
const MODES: [&str; 6] = [
    "API_KEY",
    "AWS_IAM",
    "AMAZON_COGNITO_USER_POOLS",
    "OPENID_CONNECT",
    "AWS_LAMBDA",
    "NONE",
];

/// `appsync`: the whole command line.
#[derive(Debug, Parser)]
#[command(
    name = "appsync",
    version,
    about = "Call AWS AppSync GraphQL and API Gateway REST APIs in every auth mode, tail \
             subscriptions, generate typed Rust, and run a local AppSync",
    long_about = None,
    after_help = "Examples:
  appsync serve                                   # a local AppSync; writes amplify_outputs.json here
  appsync query '{ listNotes { items { id content } } }'
  appsync mutate --auth-mode AWS_LAMBDA --token local-lambda-token \\
      'mutation($c: String!) { createNote(input: {content: $c}) { id } }' --var c=hello
  appsync subscribe 'subscription { onCreateNote { id content } }' --count 1
  appsync config --auth-mode AWS_IAM              # which endpoint and mode a call would use

Config: amplify_outputs.json (Gen2) or amplifyconfiguration.json (Gen1) in the current folder,
or --config FILE. Exit codes: 0 ok, 1 GraphQL errors (or a REST error status), 2 usage or
config errors, 3 transport or auth failures.",
    propagate_version = true,
    disable_help_subcommand = true
)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Say more on stderr: -v every connection state and the endpoint and mode each request
    /// uses; -vv the client's debug log; -vvv its trace log (secrets stay redacted)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print no status lines on stderr (errors are still printed)
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Colours on stdout: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
}

/// When to colour the JSON on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorWhen {
    // Plain comments: doc comments would make clap list each value on lines of its own.
    // On a terminal, unless `NO_COLOR` is set or `TERM` is `dumb`.
    Auto,
    // Always, even when piped.
    Always,
    // Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Send a GraphQL query and print the response JSON
    #[command(after_help = "Examples:
  appsync query '{ listNotes { items { id content } } }'
  appsync query @operations/getNote.graphql --var id=n1 --auth-mode AMAZON_COGNITO_USER_POOLS \\
      --token \"$ID_TOKEN\"
  appsync query @operations.graphql --operation-name GetNote --variables '{\"id\": \"n1\"}' \\
      --api-name notes_AWS_IAM --profile dev
  appsync query '{ listNotes { items { id } } }' | jq '.data.listNotes.items[].id'")]
    Query(GraphQLArgs),
    /// Send a GraphQL mutation and print the response JSON (never retried)
    #[command(after_help = "Examples:
  appsync mutate 'mutation($c: String!) { createNote(input: {content: $c}) { id content } }' \\
      --var c=hello --auth-mode AWS_IAM
  appsync mutate @createNote.graphql --var input.content=hello --var input.owner:=null \\
      --auth-mode AWS_LAMBDA --token-command 'cat ~/.lambda-token'")]
    Mutate(GraphQLArgs),
    /// Subscribe and print one JSON line per event until Ctrl-C, --count or --timeout
    #[command(after_help = "Each event is one JSON line on stdout:
  {\"type\":\"data\",\"data\":{…},\"errors\":[…]}     a data message (errors only when there are some)
  {\"type\":\"resumed\",\"gap_ms\":1530}               the socket came back; events of the gap were missed
  {\"type\":\"lagged\",\"missed\":12}                  this reader fell behind; the oldest events were dropped
  {\"type\":\"failing\",\"failures\":3,\"cause\":\"…\"}  the socket keeps failing to come back, and why
Connection states go to stderr (all of them with -v).

Examples:
  appsync subscribe 'subscription { onCreateNote { id content } }'
  appsync subscribe @onCreateNote.graphql --var owner=alice --count 2 --timeout 30s \\
      --auth-mode AMAZON_COGNITO_USER_POOLS --token-command 'my-login --print-token'")]
    Subscribe(SubscribeArgs),
    /// Call an API Gateway REST endpoint and print the answer's body
    #[command(
        after_help = "PATH is a URL path, already percent-encoded (a%20b); put raw text (ids, names) in
--segment, which encodes it as one segment. The endpoint's URL (with its stage) comes first.
Exit codes: 0 for a 2xx answer, 1 for another status (its body is printed), 3 for 401/403 and
network failures.

Examples:
  appsync rest GET /items --api-name items --query limit=10
  appsync rest POST /items --data '{\"name\": \"a\"}' --auth-mode AWS_IAM --profile dev
  appsync rest GET /users --segment 'a/b c'            # calls /users/a%2Fb%20c
  appsync rest PUT /items/1 --data @item.json -H 'x-trace: 42'"
    )]
    Rest(RestArgs),
    /// AppSync Events: publish to a channel, or subscribe to channels
    #[command(
        subcommand,
        after_help = "Examples:
  appsync events publish /default/chat '{\"text\": \"hi\"}'
  appsync events subscribe '/default/*' --count 10"
    )]
    Events(EventsCommand),
    /// Show the endpoints, modes and regions of a config file, and which endpoint and mode a
    /// call would use (and why); --check validates it
    #[command(
        after_help = "The choice follows the client's rules: 1. --api-name: that endpoint; 2. else
--auth-mode: the endpoint whose authorizationType is that mode, else the one API with the mode
overridden; 3. else the only endpoint, or the configured default; 4. the mode is the call's,
else the endpoint's, and must be enabled on the API. Secrets are never shown.

Examples:
  appsync config
  appsync config --auth-mode AWS_IAM
  appsync config --config amplifyconfiguration.json --api-name notes_AMAZON_COGNITO_USER_POOLS
  appsync config --check --config amplify_outputs.json"
    )]
    Config(ConfigArgs),
    /// Generate typed Rust operations from an AppSync schema (problems printed as file:line:col)
    #[command(
        after_help = "The output is what appsync-codegen writes from a build script; include it with
appsync_client::include_operations!, or a plain `mod`. Exit code 1 when the schema or the
operations have problems, each printed as file:line:col: error: message.

Examples:
  appsync codegen --schema schema.graphql --operations graphql/ --out src/api.rs
  appsync codegen --schema schema.graphql --statements 2 --statements-out graphql/statements.graphql \\
      --default-auth-mode API_KEY --out src/api.rs
  appsync codegen --schema schema.graphql --operations ops/ --config amplify_outputs.json > api.rs"
    )]
    Codegen(CodegenArgs),
    /// Run a local AppSync (appsync-local) for a schema, with every auth mode enforced, and an
    /// AppSync Event API beside it
    #[command(
        after_help = "It prints the endpoints, the API key, IAM credentials and ready-made test tokens
(user pools with groups, OIDC, Lambda), writes amplify_outputs.json (Gen2, with the Event API
in custom.events) and amplifyconfiguration.json (Gen1, GraphQL only) into --out-dir for the
other commands and for Amplify apps, and serves until Ctrl-C. It listens on 127.0.0.1 only.
The Event API has the namespace default (or those of --events-namespace), where every mode of
--auth connects, publishes and subscribes; --no-events leaves it out.
While it runs, type a command and Enter to test your app's recovery: drop (drop every realtime
socket), close CODE [REASON], fail N STATUS (fail the next N HTTP requests), refuse N STATUS
(refuse the next N realtime connections), tokens (print fresh tokens), help, quit.

Examples:
  appsync serve
  appsync serve --schema schema.graphql --auth AMAZON_COGNITO_USER_POOLS,AWS_IAM --port 4000
  appsync serve --port 0 --out-dir target/local --output json     # for scripts: one JSON line
  appsync serve --events-namespace chat --events-namespace ops    # Event API namespaces
  appsync serve --tls    # HTTPS/WSS; other commands trust it with --ca-cert appsync-local-cert.pem"
    )]
    Serve(ServeArgs),
    /// Print a shell completion script
    #[command(after_help = "Examples:
  appsync completions bash > ~/.local/share/bash-completion/completions/appsync
  appsync completions zsh > \"${fpath[1]}/_appsync\"
  appsync completions fish > ~/.config/fish/completions/appsync.fish")]
    Completions(CompletionsArgs),
}

/// Which config file, endpoint and auth mode.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Endpoint")]
pub(crate) struct Target {
    /// The Amplify config file: Gen2 amplify_outputs.json or Gen1 amplifyconfiguration.json
    /// [default: the one in the current folder, amplify_outputs.json first]
    #[arg(long, short = 'c', env = "APPSYNC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The endpoint, by its name in the config file (Gen1 apiName; Gen2's GraphQL API is "data")
    #[arg(long, value_name = "NAME")]
    pub api_name: Option<String>,
    /// The auth mode, as config files spell it [default: the endpoint's own]
    #[arg(long, short = 'a', value_name = "MODE", ignore_case = true, value_parser = auth_mode_parser())]
    pub auth_mode: Option<AuthMode>,
    /// GraphQL: pick the mode as Amplify's multi-auth does — the first of user pools, OIDC,
    /// IAM, API key and Lambda that the API enables and the given credentials allow, the next
    /// one on an unauthorized answer
    #[arg(long, conflicts_with = "auth_mode")]
    pub multi_auth: bool,
}

fn auth_mode_parser() -> impl TypedValueParser<Value = AuthMode> {
    PossibleValuesParser::new(MODES).try_map(|s| s.to_ascii_uppercase().parse::<AuthMode>())
}

/// Where credentials, tokens and keys come from.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Credentials")]
pub(crate) struct Credentials {
    /// AWS_IAM: a profile of ~/.aws/config and ~/.aws/credentials (SSO profiles included)
    /// [default: AWS_PROFILE, else "default"]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS_IAM: the region of the credentials chain's own calls (STS, SSO) [default: the
    /// config file's region]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS_IAM: this access key id instead of the AWS chain (with --secret-key)
    #[arg(long, value_name = "ID", requires = "secret_key")]
    pub access_key: Option<String>,
    /// AWS_IAM: the secret access key of --access-key (the chain also reads
    /// AWS_SECRET_ACCESS_KEY, which keeps it out of the process list)
    #[arg(long, value_name = "SECRET", requires = "access_key")]
    pub secret_key: Option<String>,
    /// AWS_IAM: the session token of temporary --access-key credentials
    #[arg(long, value_name = "TOKEN", requires = "access_key")]
    pub session_token: Option<String>,
    /// The token for AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT and AWS_LAMBDA, sent as it is
    /// in Authorization
    #[arg(
        long,
        env = "APPSYNC_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// A command that prints the token (run with sh -c; surrounding whitespace trimmed). Run
    /// again shortly before its JWT exp (else after --token-ttl) and when the server refuses
    /// it; it sees APPSYNC_AUTH_MODE, APPSYNC_TOKEN_KIND (access or id) and
    /// APPSYNC_FORCE_REFRESH (1 after a refusal)
    #[arg(long, env = "APPSYNC_TOKEN_COMMAND", value_name = "COMMAND")]
    pub token_command: Option<String>,
    /// How long a --token-command token is used when it is not a JWT with an exp claim
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION")]
    pub token_ttl: Duration,
    /// AMAZON_COGNITO_USER_POOLS: send the ID token rather than the access token (asks
    /// --token-command with APPSYNC_TOKEN_KIND=id)
    #[arg(long)]
    pub id_token: bool,
    /// API_KEY: this key instead of the config file's
    #[arg(
        long,
        env = "APPSYNC_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: Option<String>,
    /// Trust the certificates of this PEM file too (e.g. the one `appsync serve --tls` writes)
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Allow plain http:// and ws:// to hosts other than this machine
    #[arg(long)]
    pub allow_insecure_http: bool,
}

/// How to print JSON.
#[derive(Debug, Clone, Copy, Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct OutputArgs {
    /// json: one compact line; pretty: indented [default: pretty on a terminal, else json]
    #[arg(long, short = 'o', value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
}

/// JSON layout on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    // One compact line.
    Json,
    // Indented, two spaces.
    Pretty,
}

/// `appsync query` and `appsync mutate`.
#[derive(Debug, Args)]
pub(crate) struct GraphQLArgs {
    /// The GraphQL document: the text, @FILE (e.g. a .graphql file with several operations
    /// and --operation-name) or @- (standard input)
    #[arg(value_name = "DOCUMENT")]
    pub document: String,
    /// Which operation of the document to run
    #[arg(long, value_name = "NAME")]
    pub operation_name: Option<String>,
    /// The variables: a JSON object as text, @FILE or @-
    #[arg(long, value_name = "JSON")]
    pub variables: Option<String>,
    /// One variable, after --variables: NAME=text (a string) or NAME:=json (any JSON value); a
    /// dotted NAME sets a nested field (input.content=hi). Repeatable
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A request header NAME:VALUE (signed too with AWS_IAM). Repeatable
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// The limit on each HTTP attempt (e.g. 10s, 500ms, 2m) [default: 30s]
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Which config file, endpoint and mode.
    #[command(flatten)]
    pub target: Target,
    /// Credentials and tokens.
    #[command(flatten)]
    pub credentials: Credentials,
    /// JSON layout.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `appsync subscribe`.
#[derive(Debug, Args)]
pub(crate) struct SubscribeArgs {
    /// The subscription document: the text, @FILE or @- (standard input)
    #[arg(value_name = "DOCUMENT")]
    pub document: String,
    /// Which operation of the document to run
    #[arg(long, value_name = "NAME")]
    pub operation_name: Option<String>,
    /// The variables: a JSON object as text, @FILE or @-
    #[arg(long, value_name = "JSON")]
    pub variables: Option<String>,
    /// One variable, after --variables: NAME=text or NAME:=json; dotted names nest. Repeatable
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A header on the subscription's start message (signed too with AWS_IAM). Repeatable
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// Stop after this many data events (exit 0)
    #[arg(long, short = 'n', value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this long (e.g. 30s, 5m); with --count, not reaching it in time exits 3
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Which config file, endpoint and mode.
    #[command(flatten)]
    pub target: Target,
    /// Credentials and tokens.
    #[command(flatten)]
    pub credentials: Credentials,
}

/// `appsync events …`.
#[derive(Debug, Subcommand)]
pub(crate) enum EventsCommand {
    /// Publish 1 to 5 events to a channel and print the answer (which events were accepted)
    #[command(
        after_help = "Each EVENT is JSON: the text, @FILE or @- (standard input). The answer is printed as
{\"successful\":[{\"identifier\",\"index\"}…],\"failed\":[{\"identifier\",\"index\",\"code\",\"message\"}…]};
exit code 1 when some events failed. A publish is never retried.

Examples:
  appsync events publish /default/chat '{\"text\": \"hi\"}'
  appsync events publish /default/chat '\"a\"' '\"b\"' --socket --auth-mode AWS_IAM
  appsync events publish /default/chat @event.json --api-name events"
    )]
    Publish(EventsPublishArgs),
    /// Subscribe to a channel (or /namespace/*) and print one JSON line per event
    #[command(after_help = "Each item is one JSON line on stdout:
  {\"type\":\"event\",\"event\":…}                    an event, as published
  {\"type\":\"broadcast_error\",\"errors\":[…]}       an event could not be delivered
  {\"type\":\"resumed\",\"gap_ms\":1530}               the socket came back; events of the gap were missed
  {\"type\":\"lagged\",\"missed\":12}                  this reader fell behind; the oldest events were dropped
  {\"type\":\"failing\",\"failures\":3,\"cause\":\"…\"}  the socket keeps failing to come back, and why
Connection states go to stderr (all of them with -v), and \"subscribed to CHANNEL …\" once the
server acknowledged the subscription. A namespace or mode the server refuses exits 3.

Examples:
  appsync events subscribe '/default/*'
  appsync events subscribe /default/chat --count 1 --timeout 30s --auth-mode AWS_IAM")]
    Subscribe(EventsSubscribeArgs),
}

/// `appsync events publish`.
#[derive(Debug, Args)]
pub(crate) struct EventsPublishArgs {
    /// The channel: /namespace/segment… (1 to 5 segments of letters, digits and dashes)
    #[arg(value_name = "CHANNEL")]
    pub channel: String,
    /// The events (1 to 5), each JSON: the text, @FILE or @-
    #[arg(value_name = "EVENT", required = true)]
    pub events: Vec<String>,
    /// Publish over the realtime socket instead of HTTP
    #[arg(long)]
    pub socket: bool,
    /// A header NAME:VALUE on the publish (signed too with AWS_IAM). Repeatable
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// The limit on the publish (e.g. 10s) [default: 30s over HTTP]
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Which config file, endpoint and mode.
    #[command(flatten)]
    pub target: Target,
    /// Credentials and tokens.
    #[command(flatten)]
    pub credentials: Credentials,
    /// JSON layout.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `appsync events subscribe`.
#[derive(Debug, Args)]
pub(crate) struct EventsSubscribeArgs {
    /// The channel, or every channel under a prefix: /namespace/* (quote it in a shell)
    #[arg(value_name = "CHANNEL")]
    pub channel: String,
    /// A header NAME:VALUE on the subscribe message (signed too with AWS_IAM). Repeatable
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// Stop after this many events (exit 0)
    #[arg(long, short = 'n', value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this long (e.g. 30s, 5m); with --count, not reaching it in time exits 3
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Which config file, endpoint and mode.
    #[command(flatten)]
    pub target: Target,
    /// Credentials and tokens.
    #[command(flatten)]
    pub credentials: Credentials,
}

/// `appsync rest`.
#[derive(Debug, Args)]
pub(crate) struct RestArgs {
    /// The HTTP method: GET, POST, PUT, PATCH, DELETE, HEAD or another
    #[arg(value_name = "METHOD")]
    pub method: String,
    /// The path after the endpoint's URL, already percent-encoded (e.g. /items/a%20b)
    #[arg(value_name = "PATH")]
    pub path: String,
    /// Raw text appended to PATH as one segment, percent-encoded for you (/ and spaces
    /// included). Repeatable
    #[arg(long = "segment", value_name = "TEXT")]
    pub segments: Vec<String>,
    /// A query parameter NAME=VALUE (raw text, encoded for you). Repeatable
    #[arg(long = "query", value_name = "NAME=VALUE")]
    pub query: Vec<String>,
    /// A request header NAME:VALUE (signed too with AWS_IAM). Repeatable
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// The JSON body: text, @FILE or @- (sent as application/json)
    #[arg(long, short = 'd', value_name = "JSON")]
    pub data: Option<String>,
    /// The limit on each HTTP attempt (e.g. 10s, 500ms) [default: 30s]
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Which config file, endpoint and mode.
    #[command(flatten)]
    pub target: Target,
    /// Credentials and tokens.
    #[command(flatten)]
    pub credentials: Credentials,
    /// JSON layout.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `appsync config`.
#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// Only validate the file: list every problem with its key path (exit 0 when there is
    /// none, 2 otherwise)
    #[arg(long)]
    pub check: bool,
    /// Accept plain http:// to hosts other than this machine (else --check reports it)
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// Which config file, and the --api-name / --auth-mode whose choice to explain.
    #[command(flatten)]
    pub target: Target,
}

/// `appsync codegen`.
#[derive(Debug, Args)]
pub(crate) struct CodegenArgs {
    /// A schema file (several files make one schema). The AWS scalars and directives are added
    #[arg(long, required = true, value_name = "FILE")]
    pub schema: Vec<PathBuf>,
    /// A .graphql file, or a folder of them (read recursively). Repeatable
    #[arg(long, value_name = "PATH")]
    pub operations: Vec<PathBuf>,
    /// Where to write the Rust code; - for standard output [default: standard output, unless
    /// only --statements-out is given]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also generate an operation for every root field, selecting this many levels (1 to 10;
    /// Amplify's default is 2)
    #[arg(long, value_name = "DEPTH", value_parser = clap::value_parser!(u32).range(1..=appsync_codegen::MAX_STATEMENT_DEPTH as i64))]
    pub statements: Option<u32>,
    /// Write the generated statements' GraphQL text to this file (needs --statements)
    #[arg(long, value_name = "FILE", requires = "statements")]
    pub statements_out: Option<PathBuf>,
    /// The API's default auth mode (the mode of fields without @aws_* directives) [default:
    /// from --config, or the config file in the current folder]
    #[arg(long, value_name = "MODE", ignore_case = true, value_parser = codegen_mode_parser())]
    pub default_auth_mode: Option<appsync_codegen::AuthMode>,
    /// The API's additional auth modes (comma-separated); allowed modes are limited to the
    /// enabled ones
    #[arg(long, value_name = "MODES", value_delimiter = ',', ignore_case = true, value_parser = codegen_mode_parser())]
    pub additional_auth_modes: Vec<appsync_codegen::AuthMode>,
    /// Read the default and additional auth modes from this Amplify config file
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Map a scalar to a Rust type: NAME=path::Type (e.g. AWSURL=url::Url). Repeatable
    #[arg(long, value_name = "NAME=TYPE")]
    pub scalar: Vec<String>,
    /// AWSDateTime, AWSDate and AWSTime as `time` types (appsync-client's feature "time")
    #[arg(long)]
    pub time_types: bool,
    /// Generate every enum and input type of the schema, not only the ones used
    #[arg(long)]
    pub all_types: bool,
    /// Derive serde both ways on every type (to cache responses or write fixtures)
    #[arg(long)]
    pub serde_both_ways: bool,
    /// The runtime crate's path in the generated code [default: ::appsync_client]
    #[arg(long, value_name = "PATH")]
    pub client_crate: Option<String>,
    /// Fail when an operation can never be sent (no auth mode reaches every field it selects)
    #[arg(long)]
    pub deny_unsendable: bool,
}

fn codegen_mode_parser() -> impl TypedValueParser<Value = appsync_codegen::AuthMode> {
    PossibleValuesParser::new(&MODES[..5])
        .try_map(|s| s.to_ascii_uppercase().parse::<appsync_codegen::AuthMode>())
}

/// `appsync serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The schema file [default: the notes example schema that ships with appsync]
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// The port on 127.0.0.1; 0 takes a free one (the endpoint line says which)
    #[arg(long, short = 'p', default_value_t = 20002, value_name = "PORT")]
    pub port: u16,
    /// The auth modes to enable, comma-separated; the first is the default mode
    #[arg(
        long,
        value_delimiter = ',',
        ignore_case = true,
        default_value = "API_KEY,AWS_IAM,AMAZON_COGNITO_USER_POOLS,OPENID_CONNECT,AWS_LAMBDA",
        value_parser = local_mode_parser(),
        value_name = "MODES"
    )]
    pub auth: Vec<appsync_local::AuthMode>,
    /// Serve HTTPS and WSS with a self-signed certificate, written to
    /// OUT_DIR/appsync-local-cert.pem (trust it with --ca-cert)
    #[arg(long)]
    pub tls: bool,
    /// Where to write amplify_outputs.json and amplifyconfiguration.json
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub out_dir: PathBuf,
    /// A channel namespace of the Event API served beside the GraphQL API (every enabled
    /// mode connects, publishes and subscribes). Repeatable [default: default]
    #[arg(
        long = "events-namespace",
        value_name = "NAME",
        conflicts_with = "no_events"
    )]
    pub events_namespaces: Vec<String>,
    /// Serve no Event API (amplify_outputs.json then has no custom.events)
    #[arg(long)]
    pub no_events: bool,
    /// Write no config file
    #[arg(long)]
    pub no_config_files: bool,
    /// Overwrite config files that name APIs other than a local one
    #[arg(long)]
    pub force: bool,
    /// The API's name in the Gen1 file (friendly names NAME, NAME_AWS_IAM, …)
    #[arg(long, default_value = "local", value_name = "NAME")]
    pub name: String,
    /// The region IAM signatures must name
    #[arg(long, default_value = "us-east-1", value_name = "REGION")]
    pub region: String,
    /// The API key it accepts
    #[arg(
        long,
        default_value = "da2-appsynclocalapikey000000",
        value_name = "KEY"
    )]
    pub api_key: String,
    /// The IAM access key id it accepts
    #[arg(long, default_value = "AKIDAPPSYNCLOCAL", value_name = "ID")]
    pub access_key_id: String,
    /// The IAM secret access key of --access-key-id
    #[arg(
        long,
        default_value = "appsync-local-secret-access-key",
        value_name = "SECRET"
    )]
    pub secret_access_key: String,
    /// The token its Lambda authorizer accepts (any other is denied)
    #[arg(long, default_value = "local-lambda-token", value_name = "TOKEN")]
    pub lambda_token: String,
    /// How long the printed user-pool and OIDC tokens stay valid
    #[arg(long, default_value = "12h", value_parser = parse_duration, value_name = "DURATION")]
    pub token_lifetime: Duration,
    /// text (for people) or json (one line with everything, for scripts)
    #[arg(long, short = 'o', value_enum, default_value_t = ServeOutput::Text, value_name = "FORMAT")]
    pub output: ServeOutput,
}

fn local_mode_parser() -> impl TypedValueParser<Value = appsync_local::AuthMode> {
    PossibleValuesParser::new(&MODES[..5]).map(|s| match s.to_ascii_uppercase().as_str() {
        "AWS_IAM" => appsync_local::AuthMode::Iam,
        "AMAZON_COGNITO_USER_POOLS" => appsync_local::AuthMode::UserPools,
        "OPENID_CONNECT" => appsync_local::AuthMode::Oidc,
        "AWS_LAMBDA" => appsync_local::AuthMode::Lambda,
        // The possible values leave only API_KEY.
        _ => appsync_local::AuthMode::ApiKey,
    })
}

/// How `serve` prints what it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ServeOutput {
    // Lines for people.
    Text,
    // One JSON line with the endpoint, keys, tokens and files.
    Json,
}

/// `appsync completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Parses `10s`, `500ms`, `2m`, `1h`, `1d` or a plain number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| "expected a duration such as 30s, 500ms, 5m or 1h".to_owned())?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => n,
        "ms" => n / 1000.0,
        "m" | "min" | "mins" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return Err("unknown unit; use ms, s, m, h or d (e.g. 30s)".to_owned()),
    };
    // Past a year nothing here means anything, and huge values overflow `Duration`.
    if !(0.0..=31_536_000.0).contains(&seconds) {
        return Err("out of range (0 to 365d)".to_owned());
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        for bad in [
            "",
            "s",
            "-1s",
            "1x",
            "1e400",
            "99999999999999999999d",
            "NaN",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_command_has_an_example() {
        let mut cmd = Cli::command();
        for sub in cmd.get_subcommands_mut() {
            let help = sub.render_long_help().to_string();
            assert!(
                help.contains("Example"),
                "{} has no example",
                sub.get_name()
            );
        }
    }
}
