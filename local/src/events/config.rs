//! [`EventApi`] and [`ChannelNamespace`]: the settings of an AppSync Event API, and their check
//! into the rules the server runs with.

use std::collections::{BTreeSet, HashMap};

use crate::auth::AuthMode;

use super::channel::valid_namespace_name;
use super::{Events, Namespace, Rule};

/// An AppSync Event API, served beside (or instead of) the GraphQL API; give it to
/// [`LocalAppSyncBuilder::events`](crate::LocalAppSyncBuilder::events).
///
/// Like AWS's `CreateApi` (`eventConfig`): the auth modes that may connect, the default modes
/// for publishing and subscribing, and the channel namespaces, each of which may override those
/// two. Every mode defaults to the API's default mode (the builder's
/// [`default_auth_mode`](crate::LocalAppSyncBuilder::default_auth_mode) unless
/// [`EventApi::default_auth_mode`] says otherwise). With no namespace, the API has the one the
/// AWS console creates: `default`.
///
/// ```
/// use appsync_local::{AuthMode, ChannelNamespace, EventApi};
///
/// let api = EventApi::new()
///     .connection_auth_modes([AuthMode::ApiKey, AuthMode::Iam, AuthMode::UserPools])
///     .namespace("default")
///     .namespace(
///         ChannelNamespace::new("admin")
///             .publish_auth_modes([AuthMode::Iam])
///             .subscribe_auth_modes([AuthMode::UserPools])
///             .subscribe_groups(["admins"]),
///     );
/// # let _ = api;
/// ```
#[derive(Clone, Debug, Default)]
pub struct EventApi {
    default_mode: Option<AuthMode>,
    connect: Option<Vec<AuthMode>>,
    publish: Option<Vec<AuthMode>>,
    subscribe: Option<Vec<AuthMode>>,
    namespaces: Vec<ChannelNamespace>,
}

impl EventApi {
    /// An Event API whose modes are all the API's default mode.
    pub fn new() -> Self {
        EventApi::default()
    }

    /// The mode every unset mode list falls back to, and the `default_authorization_type` of
    /// the config files (default: the builder's default mode).
    pub fn default_auth_mode(mut self, mode: AuthMode) -> Self {
        self.default_mode = Some(mode);
        self
    }

    /// The modes that may open a realtime connection (AWS's `connectionAuthModes`).
    pub fn connection_auth_modes(mut self, modes: impl IntoIterator<Item = AuthMode>) -> Self {
        self.connect = Some(modes.into_iter().collect());
        self
    }

    /// The modes that may publish, where a namespace does not say (`defaultPublishAuthModes`).
    pub fn default_publish_auth_modes(mut self, modes: impl IntoIterator<Item = AuthMode>) -> Self {
        self.publish = Some(modes.into_iter().collect());
        self
    }

    /// The modes that may subscribe, where a namespace does not say
    /// (`defaultSubscribeAuthModes`).
    pub fn default_subscribe_auth_modes(
        mut self,
        modes: impl IntoIterator<Item = AuthMode>,
    ) -> Self {
        self.subscribe = Some(modes.into_iter().collect());
        self
    }

    /// Adds a channel namespace (a name, or a [`ChannelNamespace`] with its own modes).
    pub fn namespace(mut self, namespace: impl Into<ChannelNamespace>) -> Self {
        self.namespaces.push(namespace.into());
        self
    }
}

/// A channel namespace: the first segment of its channels' paths, and who may publish and
/// subscribe there (AWS's `CreateChannelNamespace`: `publishAuthModes`, `subscribeAuthModes`).
///
/// Groups stand in for an `onPublish`/`onSubscribe` handler that checks
/// `ctx.identity.groups`: a caller authenticated with a user pool must be in one of them, or it
/// is refused with the error AWS gives when such a handler calls `util.unauthorized()`
/// (`errorType` `Unauthorized`). Other modes are not affected.
#[derive(Clone, Debug)]
pub struct ChannelNamespace {
    name: String,
    publish: Option<Vec<AuthMode>>,
    subscribe: Option<Vec<AuthMode>>,
    publish_groups: Vec<String>,
    subscribe_groups: Vec<String>,
}

impl ChannelNamespace {
    /// A namespace that uses the API's default publish and subscribe modes.
    pub fn new(name: impl Into<String>) -> Self {
        ChannelNamespace {
            name: name.into(),
            publish: None,
            subscribe: None,
            publish_groups: Vec::new(),
            subscribe_groups: Vec::new(),
        }
    }

    /// The modes that may publish to this namespace's channels.
    pub fn publish_auth_modes(mut self, modes: impl IntoIterator<Item = AuthMode>) -> Self {
        self.publish = Some(modes.into_iter().collect());
        self
    }

    /// The modes that may subscribe to this namespace's channels.
    pub fn subscribe_auth_modes(mut self, modes: impl IntoIterator<Item = AuthMode>) -> Self {
        self.subscribe = Some(modes.into_iter().collect());
        self
    }

    /// User-pool callers must be in one of these groups (`cognito:groups`) to publish.
    pub fn publish_groups(mut self, groups: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.publish_groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// User-pool callers must be in one of these groups to subscribe.
    pub fn subscribe_groups(mut self, groups: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.subscribe_groups = groups.into_iter().map(Into::into).collect();
        self
    }
}

impl From<&str> for ChannelNamespace {
    fn from(name: &str) -> Self {
        ChannelNamespace::new(name)
    }
}

impl From<String> for ChannelNamespace {
    fn from(name: String) -> Self {
        ChannelNamespace::new(name)
    }
}

impl EventApi {
    /// Checks the settings (problems are pushed, every one) and builds the rules; `fallback`
    /// is the builder's default mode.
    pub(crate) fn check(self, fallback: AuthMode, problems: &mut Vec<String>) -> Events {
        let default_mode = self.default_mode.unwrap_or(fallback);
        let modes = |what: &str, list: Option<Vec<AuthMode>>, problems: &mut Vec<String>| {
            let set: BTreeSet<AuthMode> = list
                .unwrap_or_else(|| vec![default_mode])
                .into_iter()
                .collect();
            if set.is_empty() {
                problems.push(format!("Event API: {what} needs at least one auth mode"));
            }
            for m in set.iter().filter(|m| !m.is_appsync()) {
                problems.push(format!(
                    "Event API: {what}: {m} is not an AppSync authorization type"
                ));
            }
            set
        };
        let connect = modes("connection_auth_modes", self.connect, problems);
        let publish = modes("default_publish_auth_modes", self.publish.clone(), problems);
        let subscribe = modes(
            "default_subscribe_auth_modes",
            self.subscribe.clone(),
            problems,
        );
        let mut list = self.namespaces;
        if list.is_empty() {
            list.push(ChannelNamespace::new("default"));
        }
        let mut namespaces = HashMap::new();
        for ns in list {
            if !valid_namespace_name(&ns.name) {
                problems.push(format!(
                    "Event API: namespace {:?}: a name is 1 to 50 letters, digits and dashes, \
                     beginning and ending with a letter or digit",
                    ns.name
                ));
            }
            let what = |action: &str| format!("namespace {:?}: {action}", ns.name);
            let publish = match ns.publish {
                Some(l) => modes(&what("publish_auth_modes"), Some(l), problems),
                None => publish.clone(),
            };
            let subscribe = match ns.subscribe {
                Some(l) => modes(&what("subscribe_auth_modes"), Some(l), problems),
                None => subscribe.clone(),
            };
            for (action, groups, set) in [
                ("publish_groups", &ns.publish_groups, &publish),
                ("subscribe_groups", &ns.subscribe_groups, &subscribe),
            ] {
                if !groups.is_empty() && !set.contains(&AuthMode::UserPools) {
                    problems.push(format!(
                        "Event API: {}: groups only apply to AMAZON_COGNITO_USER_POOLS, which \
                         this action does not allow",
                        what(action)
                    ));
                }
            }
            let rules = Namespace {
                publish: Rule {
                    modes: publish,
                    groups: ns.publish_groups,
                },
                subscribe: Rule {
                    modes: subscribe,
                    groups: ns.subscribe_groups,
                },
            };
            if namespaces.insert(ns.name.clone(), rules).is_some() {
                problems.push(format!(
                    "Event API: namespace {:?} is defined twice",
                    ns.name
                ));
            }
        }
        Events::new(default_mode, connect, namespaces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_modes_fall_back_to_the_default_and_namespaces_override() {
        let mut problems = Vec::new();
        let e = EventApi::new()
            .default_publish_auth_modes([AuthMode::Iam])
            .namespace("a")
            .namespace(ChannelNamespace::new("b").subscribe_auth_modes([AuthMode::Lambda]))
            .check(AuthMode::ApiKey, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(e.connect_modes, [AuthMode::ApiKey].into());
        let a = e.namespace("a").unwrap();
        assert_eq!(a.publish.modes, [AuthMode::Iam].into());
        assert_eq!(a.subscribe.modes, [AuthMode::ApiKey].into());
        let b = e.namespace("b").unwrap();
        assert_eq!(b.subscribe.modes, [AuthMode::Lambda].into());
        assert!(e.namespace("default").is_err(), "only when none is given");
        let d = EventApi::new().check(AuthMode::Oidc, &mut problems);
        assert_eq!(
            d.namespace("default").unwrap().publish.modes,
            [AuthMode::Oidc].into()
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let mut problems = Vec::new();
        EventApi::new()
            .connection_auth_modes([])
            .namespace("bad_name")
            .namespace("twice")
            .namespace("twice")
            .namespace(ChannelNamespace::new("g").publish_groups(["x"]))
            .namespace(ChannelNamespace::new("n").publish_auth_modes([AuthMode::None]))
            .check(AuthMode::ApiKey, &mut problems);
        let all = problems.join("\n");
        for part in [
            "connection_auth_modes needs at least one",
            "\"bad_name\"",
            "\"twice\" is defined twice",
            "groups only apply",
            "NONE is not an AppSync authorization type",
        ] {
            assert!(all.contains(part), "{part} in\n{all}");
        }
    }
}
