//! API_KEY: the `x-api-key` header, from the endpoint's configured key or a per-call override.

use http::HeaderValue;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The header name AppSync and API Gateway read the key from.
pub(crate) const HEADER: &str = "x-api-key";

/// The header value for a key, marked sensitive so `http`'s `Debug` hides it.
pub(crate) fn header_value(key: &Secret) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(key.expose())
        .map_err(|_| Error::auth("the API key contains characters not allowed in a header"))?;
    v.set_sensitive(true);
    Ok(v)
}
