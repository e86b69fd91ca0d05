//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`; unstable, not for users):
//! the server's routes, to drive `POST /graphql` and the realtime upgrade in-process without a
//! listener, and the AWS scalar checks. Production code paths are not changed by the feature.

use crate::server::LocalAppSync;

/// The routes of a running server (`POST /graphql`, the realtime upgrades on `/graphql` and
/// `/graphql/realtime`, the JWKS), on its state: requests sent to it (e.g. with
/// `tower::ServiceExt::oneshot`, or over an in-memory connection) are handled exactly as the
/// server's own listener would have them handled.
pub fn router(local: &LocalAppSync) -> axum::Router {
    local.fuzz_router()
}

/// Whether a JSON value is valid input for the AWS scalar `name` (`AWSDate`, `AWSTime`,
/// `AWSDateTime`, `AWSTimestamp`, `AWSEmail`, `AWSJSON`, `AWSURL`, `AWSPhone`,
/// `AWSIPAddress`; other names accept anything), as appsync-local checks variables. A value
/// that is not representable as a GraphQL value is `None`.
pub fn scalar_valid(name: &str, value: &serde_json::Value) -> Option<bool> {
    let v = async_graphql::Value::from_json(value.clone()).ok()?;
    Some(crate::scalars::valid(name, &v))
}
