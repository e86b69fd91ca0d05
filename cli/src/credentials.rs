//! AWS credentials for `AWS_IAM`: the standard chain of the AWS SDKs (environment, profiles
//! with SSO and credential_process, web identity, ECS, IMDS), built only when a call first
//! needs it, so other modes never probe the chain (IMDS can take seconds off EC2).

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_credential_types::provider::{future, ProvideCredentials};
use tokio::sync::OnceCell;

/// The default chain, with an optional profile and region, built on first use.
#[derive(Debug)]
pub(crate) struct AwsChain {
    profile: Option<String>,
    region: Option<String>,
    chain: OnceCell<DefaultCredentialsChain>,
}

impl AwsChain {
    /// The chain for `profile` (else `AWS_PROFILE`, else `default`); `region` is for its own
    /// calls (SSO, STS), else it finds one itself (`AWS_REGION`, the profile).
    pub(crate) fn new(profile: Option<String>, region: Option<String>) -> Self {
        AwsChain {
            profile,
            region,
            chain: OnceCell::new(),
        }
    }

    async fn chain(&self) -> &DefaultCredentialsChain {
        self.chain
            .get_or_init(|| async {
                let mut b = DefaultCredentialsChain::builder();
                if let Some(p) = &self.profile {
                    b = b.profile_name(p);
                }
                if let Some(r) = &self.region {
                    b = b.region(aws_config::Region::new(r.clone()));
                }
                b.build().await
            })
            .await
    }
}

impl ProvideCredentials for AwsChain {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(
            async move { self.chain().await.provide_credentials().await },
        )
    }
}
