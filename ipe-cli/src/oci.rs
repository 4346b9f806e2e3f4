//! `ipe push` and `ipe pull`: bundles as OCI artifacts in a registry (issue #18, part 2; the
//! client is `ipe_serve::oci`, see docs/oci.md).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use ipe_serve::oci::{parse_reference, Options, Registry};

/// How to reach the registry (shared by `push`, `pull` and `serve --bundle oci://...`).
#[derive(Clone, Debug, Args)]
pub struct RegistryArgs {
    /// Plain HTTP for this registry (`localhost`, `127.0.0.1` and `[::1]` always use it).
    #[arg(long)]
    pub insecure: bool,
    /// Basic auth user name (default: `IPE_REGISTRY_USERNAME`; neither: anonymous).
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,
    /// Basic auth password (default: `IPE_REGISTRY_PASSWORD`; prefer the variable, a command
    /// line is visible to other users).
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
}

impl RegistryArgs {
    /// The client options, completed from the environment.
    pub fn options(&self) -> Options {
        Options {
            insecure: self.insecure,
            username: self.username.clone(),
            password: self.password.clone(),
        }
        .with_env()
    }
}

/// `ipe push`'s arguments.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The compiled bundle (`.ipeb`); it must pass verification.
    pub bundle: PathBuf,
    /// Where to push: `REGISTRY/REPOSITORY:TAG`.
    #[arg(value_name = "REGISTRY/REPO:TAG")]
    pub reference: String,
    /// A detached signature file, pushed as the artifact's second layer.
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// How to reach the registry.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `ipe pull`'s arguments.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// What to pull: `REGISTRY/REPOSITORY:TAG` or `REGISTRY/REPOSITORY@sha256:HEX`.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Where to write the bundle.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Where to write the artifact's signature layer (an error when it has none).
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// How to reach the registry.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Verifies the bundle and pushes it; prints the manifest digest (a pinnable reference).
pub fn push(args: PushArgs) -> anyhow::Result<ExitCode> {
    let reference = parse_reference(&args.reference)?;
    if reference.digest().is_some() {
        anyhow::bail!(
            "`{}` names a digest: push to a tag (REGISTRY/REPO:TAG)",
            args.reference
        );
    }
    let bytes = std::fs::read(&args.bundle)
        .map_err(|e| anyhow::anyhow!("reading `{}`: {e}", args.bundle.display()))?;
    if let Err(e) =
        ipe_host::PolicyEngine::with_options(bytes.clone(), ipe_host::EngineOptions::interpreter())
    {
        anyhow::bail!(
            "`{}` is not a valid bundle, not pushed: {e}",
            args.bundle.display()
        );
    }
    let signature = match &args.signature {
        Some(p) => {
            Some(std::fs::read(p).map_err(|e| anyhow::anyhow!("reading `{}`: {e}", p.display()))?)
        }
        None => None,
    };
    let registry = Registry::new(args.registry.options())?;
    let digest = registry.push(&reference, &bytes, signature.as_deref())?;
    println!(
        "{}/{}@{digest}",
        reference.registry(),
        reference.repository()
    );
    eprintln!("pushed {} to {}", args.bundle.display(), reference.whole());
    Ok(ExitCode::SUCCESS)
}

/// Pulls a bundle (every blob checked against its digest) and writes it.
pub fn pull(args: PullArgs) -> anyhow::Result<ExitCode> {
    let reference = parse_reference(&args.reference)?;
    let registry = Registry::new(args.registry.options())?;
    let artifact = registry.pull(&reference)?;
    let write = |path: &PathBuf, bytes: &[u8]| {
        std::fs::write(path, bytes)
            .map_err(|e| anyhow::anyhow!("writing `{}`: {e}", path.display()))
    };
    if let Some(p) = &args.signature {
        let Some(sig) = &artifact.signature else {
            anyhow::bail!("`{}` has no signature layer", reference.whole());
        };
        write(p, sig)?;
    }
    write(&args.output, &artifact.bundle)?;
    eprintln!(
        "pulled {}@{} to {}",
        reference.whole(),
        artifact.manifest_digest,
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
