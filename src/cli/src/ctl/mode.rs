//! `-m`: where the agent runs. `ec2` adds the instance dimensions to the default config and
//! may ask the instance metadata for the region; `onPremise` (or `onPrem`) never asks it.
//! `auto` (the default here; the CloudWatch agent defaults to `ec2`, which fails on other
//! hosts): `RUN_IN_AWS=True` means ec2, `AWS_EC2_METADATA_DISABLED=true` means onPremise,
//! else ec2 when the instance metadata service answers a region.

use anyhow::bail;

/// A resolved mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Ec2,
    OnPremise,
}

/// A `-m` value before `auto` is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeArg {
    Ec2,
    OnPremise,
    Auto,
}

impl ModeArg {
    pub fn parse(s: &str) -> anyhow::Result<ModeArg> {
        Ok(match s {
            "ec2" => ModeArg::Ec2,
            "onPremise" | "onPrem" => ModeArg::OnPremise,
            "auto" => ModeArg::Auto,
            other => bail!("invalid mode {other:?}: use ec2, onPremise or auto"),
        })
    }

    /// Resolve `auto` (may ask the instance metadata service).
    pub fn resolve(self) -> Mode {
        match self {
            ModeArg::Ec2 => Mode::Ec2,
            ModeArg::OnPremise => Mode::OnPremise,
            ModeArg::Auto => {
                let env = |k: &str| std::env::var(k).ok();
                if env("RUN_IN_AWS").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
                    return Mode::Ec2;
                }
                if env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
                {
                    return Mode::OnPremise;
                }
                let probe = || -> Option<String> {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    let imds = hostwatch_agent::ship::ImdsClient::from_env(&env).ok()?;
                    rt.block_on(async {
                        tokio::time::timeout(std::time::Duration::from_secs(2), imds.region())
                            .await
                            .ok()?
                            .ok()
                    })
                };
                if probe().is_some() {
                    Mode::Ec2
                } else {
                    Mode::OnPremise
                }
            }
        }
    }
}
