//! A string that never shows itself in `Debug` or `Display`: API keys, tokens, secret keys.

use std::fmt;

/// A secret string (an API key or a token). Its `Debug` and `Display` print `<redacted>`; read it
/// with [`Secret::expose`] only where it goes on the wire.
///
/// It is deliberately neither `PartialEq` nor `Hash`: a derived `==` returns at the first
/// differing byte (a timing oracle) and a hash of a secret is a guessable stand-in for it. Compare
/// with [`Secret::ct_eq`].
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Keep the result out of logs and error messages.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether two secrets are equal, in time that depends only on their lengths, never on
    /// where they first differ.
    pub fn ct_eq(&self, other: &Secret) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        // `black_box` keeps the optimiser from turning the fold back into an early exit.
        let diff = a
            .iter()
            .zip(b)
            .fold(0u8, |acc, (x, y)| acc | std::hint::black_box(x ^ y));
        diff == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("da2-abcdefghijklmnopqrstuvwxyz");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(s.expose(), "da2-abcdefghijklmnopqrstuvwxyz");
    }

    /// Compiles only while `Secret` implements neither `PartialEq` nor `Hash`: with either, the
    /// second impl below applies too and the call is ambiguous.
    #[test]
    fn has_no_plain_equality_or_hash() {
        trait AmbiguousIfEq<A> {
            fn check() {}
        }
        impl<T: ?Sized> AmbiguousIfEq<()> for T {}
        impl<T: ?Sized + PartialEq> AmbiguousIfEq<u8> for T {}
        trait AmbiguousIfHash<A> {
            fn check() {}
        }
        impl<T: ?Sized> AmbiguousIfHash<()> for T {}
        impl<T: ?Sized + std::hash::Hash> AmbiguousIfHash<u8> for T {}
        <Secret as AmbiguousIfEq<_>>::check();
        <Secret as AmbiguousIfHash<_>>::check();
    }

    #[test]
    fn constant_time_equality() {
        let a = Secret::new("token-a");
        assert!(a.ct_eq(&Secret::new("token-a")));
        assert!(!a.ct_eq(&Secret::new("token-b")));
        assert!(!a.ct_eq(&Secret::new("token-a-longer")));
        assert!(Secret::new("").ct_eq(&Secret::new("")));
    }
}
