//! A [`SessionStore`] in a JSON file for command-line tools (feature `cognito-file-store`):
//! readable by the user only (0600 in a 0700 folder on Unix), in the user's config folder by
//! default, every write atomic (a temporary file renamed over the old one).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::store::SessionStore;
use crate::auth::token::BoxFuture;
use crate::error::{BoxError, Error, Result};
use crate::secret::Secret;

/// Keeps the session's values in one JSON file. Clones share the file and its lock.
#[derive(Clone)]
pub struct FileSessionStore {
    path: Arc<PathBuf>,
    /// Load-modify-write of one process never interleaves.
    lock: Arc<Mutex<()>>,
}

impl fmt::Debug for FileSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSessionStore")
            .field("path", &self.path)
            .finish()
    }
}

impl FileSessionStore {
    /// A store in this file (created, with its folder, on the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileSessionStore {
            path: Arc::new(path.into()),
            lock: Arc::new(Mutex::new(())),
        }
    }

    /// `appsync/cognito-session.json` in the user's config folder: `$XDG_CONFIG_HOME`, else
    /// `~/.config` (Linux and other Unix), `~/Library/Application Support` (macOS),
    /// `%APPDATA%` (Windows).
    pub fn in_config_dir() -> Result<Self> {
        let dir = config_dir().ok_or_else(|| {
            Error::config(
                "no config folder for the session file: set XDG_CONFIG_HOME or HOME (APPDATA on \
                 Windows), or give a path to FileSessionStore::new",
            )
        })?;
        Ok(FileSessionStore::new(
            dir.join("appsync").join("cognito-session.json"),
        ))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(path: &Path) -> std::result::Result<BTreeMap<String, String>, BoxError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                format!(
                    "{} is not a session file (a JSON object of strings): {e}",
                    path.display()
                )
                .into()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display()).into()),
        }
    }

    fn write(path: &Path, map: &BTreeMap<String, String>) -> std::result::Result<(), BoxError> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let tmp = dir.join(format!(
            ".{}.{}.{:x}.tmp",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("session"),
            std::process::id(),
            fastrand::u64(..)
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let result = (|| -> std::io::Result<()> {
            let mut f = options.open(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(map).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("cannot write {}: {e}", path.display()).into());
        }
        Ok(())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Path) -> std::result::Result<T, BoxError> + Send + 'static,
    ) -> std::result::Result<T, BoxError> {
        let path = self.path.clone();
        let lock = self.lock.clone();
        tokio::task::spawn_blocking(move || {
            let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
            f(&path)
        })
        .await
        .map_err(|e| -> BoxError { format!("the session file task failed: {e}").into() })?
    }
}

impl SessionStore for FileSessionStore {
    fn load<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, std::result::Result<Option<Secret>, BoxError>> {
        let key = key.to_owned();
        Box::pin(async move {
            self.blocking(move |path| Ok(Self::read(path)?.remove(&key).map(Secret::from)))
                .await
        })
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        value: Option<&'a Secret>,
    ) -> BoxFuture<'a, std::result::Result<(), BoxError>> {
        let key = key.to_owned();
        let value = value.map(|v| v.expose().to_owned());
        Box::pin(async move {
            self.blocking(move |path| {
                let mut map = Self::read(path)?;
                let changed = match value {
                    Some(v) => map.insert(key, v.clone()).as_deref() != Some(v.as_str()),
                    None => map.remove(&key).is_some(),
                };
                if changed {
                    Self::write(path, &map)?;
                }
                Ok(())
            })
            .await
        })
    }
}

/// The user's config folder (see [`FileSessionStore::in_config_dir`]).
fn config_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if cfg!(windows) {
        return var("APPDATA");
    }
    if cfg!(target_os = "macos") {
        return var("HOME").map(|h| h.join("Library").join("Application Support"));
    }
    var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|h| h.join(".config")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn saves_atomically_for_the_user_only() {
        let dir = std::env::temp_dir().join(format!("appsync-store-{:x}", fastrand::u64(..)));
        let store = FileSessionStore::new(dir.join("sub").join("s.json"));
        assert!(store.load("k").await.unwrap().is_none());
        store.save("k", Some(&Secret::new("v1"))).await.unwrap();
        store.save("j", Some(&Secret::new("v2"))).await.unwrap();
        assert_eq!(store.load("k").await.unwrap().unwrap().expose(), "v1");
        store.save("k", None).await.unwrap();
        assert!(store.load("k").await.unwrap().is_none());
        assert_eq!(store.load("j").await.unwrap().unwrap().expose(), "v2");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(dir.join("sub"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // A broken file is an error, not a panic, and not silently overwritten.
        std::fs::write(store.path(), b"{not json").unwrap();
        assert!(store.load("j").await.is_err());
        assert!(store.save("j", None).await.is_err());
        assert!(!format!("{store:?}").contains("v2"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
