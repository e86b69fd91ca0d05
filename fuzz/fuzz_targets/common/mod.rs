//! Shared by the appsync-local fuzz targets: the script reader, the one server each fuzzing
//! process starts (every auth mode enabled, the notes schema), the credentials it accepts
//! (and near misses), and the authorization headers of each mode, IAM signatures included.
#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use appsync_local::{AuthMode, LambdaAuthRequest, LambdaAuthResponse, LocalAppSync};
use serde_json::json;
use tokio::runtime::Runtime;

pub const NOTES: &str = include_str!("../../../schema/notes/schema.graphql");
pub const API_KEY: &str = "da2-fuzzfuzzfuzzfuzzfuzzfuzz";
pub const AKID: &str = "AKIDFUZZFUZZFUZZ";
pub const SECRET: &str = "fuzz/secret/key/fuzz/secret/key/fuzz1234";
pub const TEMP_AKID: &str = "ASIAFUZZFUZZFUZZ";
pub const TEMP_SECRET: &str = "fuzz/temporary/secret/key/fuzz/fuzz/fuzz";
pub const SESSION: &str = "IQoJb3JpZ2luX2VjEFUZZFUZZsessiontoken";

/// Reads a script: bytes, then zeros when it runs out.
pub struct Script<'a> {
    pub data: &'a [u8],
}

impl<'a> Script<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Script { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (a, b) = self.data.split_at(n);
        self.data = b;
        a
    }

    /// Up to 255 bytes, as text.
    pub fn text(&mut self) -> String {
        let n = self.byte() as usize;
        String::from_utf8_lossy(self.bytes(n)).into_owned()
    }

    pub fn pick<T: Clone>(&mut self, from: &[T]) -> T {
        from[self.byte() as usize % from.len()].clone()
    }
}

/// The process's server, its runtime and tokens.
pub struct Local {
    pub rt: Runtime,
    pub local: LocalAppSync,
    pub router: axum::Router,
    /// `127.0.0.1:PORT`, the host every request names.
    pub host: String,
    pub region: String,
    /// Valid user-pool tokens (access, admins group, ID), an expired one, OIDC tokens.
    pub user_pool: Vec<String>,
    pub expired: String,
    pub oidc: Vec<String>,
}

static LOCAL: OnceLock<Local> = OnceLock::new();

/// The server (started once per process). `paused`: on a runtime with paused time (realtime).
pub fn local(paused: bool) -> &'static Local {
    LOCAL.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(paused)
            .build()
            .expect("a runtime");
        let local = rt
            .block_on(
                LocalAppSync::builder()
                    .schema(NOTES)
                    .default_auth_mode(AuthMode::ApiKey)
                    .additional_auth_modes([
                        AuthMode::UserPools,
                        AuthMode::Oidc,
                        AuthMode::Iam,
                        AuthMode::Lambda,
                    ])
                    .api_key(API_KEY)
                    .user_pool("us-east-1_fuzz", "fuzzclient")
                    .oidc_issuer("https://oidc.example.com", Some("fuzzclient".to_owned()))
                    .iam_credentials(AKID, SECRET, None)
                    .iam_credentials(TEMP_AKID, TEMP_SECRET, Some(SESSION.to_owned()))
                    .lambda_authorizer(|r: LambdaAuthRequest| async move {
                        let t = r.authorization_token;
                        if !t.starts_with("allow") {
                            return LambdaAuthResponse::deny();
                        }
                        let mut a = LambdaAuthResponse::allow();
                        if t.contains("ctx") {
                            a = a.resolver_context(json!({"token": t, "n": 1}));
                        }
                        if t.contains("deny") {
                            a = a.denied_fields(["Note.privateNotes", "Mutation.deleteNote"]);
                        }
                        a
                    })
                    .keep_alive_interval(Duration::from_secs(60))
                    .start(),
            )
            .expect("the local server starts");
        // Its serving task starts the tasks it keeps (the shutdown watch): let it, so that the
        // tasks alive from now on are the baseline.
        rt.block_on(async {
            for _ in 0..64 {
                tokio::task::yield_now().await;
            }
        });
        let router = appsync_local::fuzzing::router(&local);
        let user_pool = vec![
            local.user_pool_token("alice").mint(),
            local.user_pool_token("root").groups(["admins"]).mint(),
            local.user_pool_token("alice").id_token().mint(),
        ];
        let expired = local.user_pool_token("alice").expires_in(-3600).mint();
        let oidc = vec![local.oidc_token("bob").mint()];
        Local {
            host: local.addr().to_string(),
            region: local.region().to_owned(),
            rt,
            local,
            router,
            user_pool,
            expired,
            oidc,
        }
    })
}

impl Local {
    /// Forgets every note, so that memory does not grow across runs.
    pub fn clear_store(&self) {
        let store = self.local.store();
        for item in store.list("Note") {
            if let Some(id) = item.get("id") {
                let id = match id {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                store.delete("Note", &id);
            }
        }
    }
}

/// `YYYYMMDD'T'HHMMSS'Z'` for a time.
pub fn amz_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Which credentials a request or an auth object carries.
#[derive(Clone, Copy, Debug)]
pub enum Auth {
    None,
    ApiKey,
    WrongApiKey,
    UserPool(usize),
    Expired,
    Oidc,
    Bearer,
    Lambda(&'static str),
    Iam,
    IamTemporary,
    IamWrongSecret,
    IamStale,
    /// The input's own `Authorization` text.
    Raw,
}

pub const AUTHS: [Auth; 17] = [
    Auth::None,
    Auth::ApiKey,
    Auth::ApiKey,
    Auth::WrongApiKey,
    Auth::UserPool(0),
    Auth::UserPool(1),
    Auth::UserPool(2),
    Auth::Expired,
    Auth::Oidc,
    Auth::Bearer,
    Auth::Lambda("allow"),
    Auth::Lambda("allow-ctx-deny"),
    Auth::Lambda("nope"),
    Auth::Iam,
    Auth::IamTemporary,
    Auth::IamWrongSecret,
    Auth::Raw,
];

/// What IAM signs of a request besides its headers.
pub struct Signed<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub body: &'a [u8],
}

/// Adds the headers of `auth` (`raw`: the input's own `Authorization`) to `headers` (lowercase
/// names) of the request `req`; IAM signs them all (so add other headers first).
pub fn authorize(
    l: &Local,
    auth: Auth,
    raw: &str,
    req: Signed<'_>,
    headers: &mut Vec<(String, String)>,
) {
    let Signed {
        method,
        path,
        query,
        body,
    } = req;
    let mut add = |k: &str, v: String| headers.push((k.to_owned(), v));
    match auth {
        Auth::None => {}
        Auth::ApiKey => add("x-api-key", API_KEY.to_owned()),
        Auth::WrongApiKey => add("x-api-key", "da2-notthekeynotthekey".to_owned()),
        Auth::UserPool(i) => add("authorization", l.user_pool[i % l.user_pool.len()].clone()),
        Auth::Expired => add("authorization", l.expired.clone()),
        Auth::Oidc => add("authorization", l.oidc[0].clone()),
        Auth::Bearer => add("authorization", format!("Bearer {}", l.user_pool[0])),
        Auth::Lambda(t) => add("authorization", t.to_owned()),
        Auth::Raw => add("authorization", raw.to_owned()),
        Auth::Iam | Auth::IamTemporary | Auth::IamWrongSecret | Auth::IamStale => {
            let (akid, secret, session) = match auth {
                Auth::IamTemporary => (TEMP_AKID, TEMP_SECRET, Some(SESSION)),
                Auth::IamWrongSecret => (AKID, "not-the-secret", None),
                _ => (AKID, SECRET, None),
            };
            let when = match auth {
                Auth::IamStale => SystemTime::now() - Duration::from_secs(3600),
                _ => SystemTime::now(),
            };
            let date = amz_date(when);
            headers.push(("x-amz-date".to_owned(), date.clone()));
            if let Some(s) = session {
                headers.push(("x-amz-security-token".to_owned(), s.to_owned()));
            }
            let mut signed: Vec<String> = headers
                .iter()
                .map(|(k, _)| k.to_ascii_lowercase())
                .collect();
            signed.sort();
            signed.dedup();
            let parts = appsync_local::sigv4::SignedRequestParts {
                method,
                path,
                query,
                headers: headers.clone(),
                body,
            };
            let canonical = appsync_local::sigv4::canonical_request(&parts, &signed);
            let sig = appsync_local::sigv4::sign(secret, &date, &l.region, "appsync", &canonical);
            headers.push((
                "authorization".to_owned(),
                format!(
                    "AWS4-HMAC-SHA256 Credential={akid}/{}/{}/appsync/aws4_request, \
                     SignedHeaders={}, Signature={sig}",
                    &date[..8],
                    l.region,
                    signed.join(";")
                ),
            ));
        }
    }
}

/// GraphQL documents on the notes schema (and near misses) the templates pick from.
pub const DOCUMENTS: [&str; 14] = [
    "query GetNote($id: ID!) { getNote(id: $id) { id content owner createdAt privateNotes } }",
    "query ListNotes { listNotes { items { id content } nextToken } }",
    "query { adminStats }",
    "mutation CreateNote($input: CreateNoteInput!) { createNote(input: $input) { id content owner createdAt } }",
    "mutation UpdateNote($input: UpdateNoteInput!) { updateNote(input: $input) { id content privateNotes } }",
    "mutation DeleteNote($input: DeleteNoteInput!) { deleteNote(input: $input) { id } }",
    "subscription OnCreateNote($owner: String) { onCreateNote(owner: $owner) { id content owner } }",
    "subscription { onUpdateNote { id content } }",
    "subscription OnDeleteNote { onDeleteNote { id } }",
    "subscription { onCreateNote { id } onUpdateNote { id } }",
    "query { getNote(id: \"1\") { ...F } } fragment F on Note { id privateNotes }",
    "query Q { nope }",
    "mutation { createNote(input: {content: \"x\"}) { id } }",
    "{ __schema { types { name } } }",
];

/// Variables the templates pick from (and the input's own JSON).
pub fn variables(s: &mut Script<'_>) -> serde_json::Value {
    match s.byte() % 10 {
        0 => json!({}),
        1 => json!({"id": s.text()}),
        2 => json!({"input": {"content": s.text(), "owner": "alice"}}),
        3 => {
            json!({"input": {"id": format!("n{}", s.byte()), "content": "c", "privateNotes": "p"}})
        }
        4 => json!({"input": {"id": s.text()}}),
        5 => json!({"owner": "alice"}),
        6 => json!({"owner": null}),
        7 => json!(null),
        8 => json!([1, 2]),
        _ => serde_json::from_str(&s.text()).unwrap_or(json!({"x": 1})),
    }
}
