//! Signed bundles (issue #18): `ipe keygen`, `ipe sign`, `ipe verify`, and the options
//! `ipe compile --sign` and `ipe eval --trusted-key` (see `docs/signing.md`).
//!
//! Key files are text: comment lines starting with `#`, and one line `<label> <64 hex
//! digits>`, the label `ipe-ed25519-secret-key-v1` (the 32-byte secret seed) or
//! `ipe-ed25519-public-key-v1` (the 32-byte public key).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use ipe_nostd::signed::{self, Envelope, SignatureError, Trust, TrustedKey};
use ipe_nostd::Bundle;

/// The label of a secret key file's key line.
pub const SECRET_LABEL: &str = "ipe-ed25519-secret-key-v1";
/// The label of a public key file's key line.
pub const PUBLIC_LABEL: &str = "ipe-ed25519-public-key-v1";

/// `ipe compile`'s signing options.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Signs the bundle with this secret key file (`ipe keygen`): the output is a signed
    /// envelope (docs/signing.md).
    #[arg(long, value_name = "KEY", requires = "revision")]
    pub sign: Option<PathBuf>,
    /// The bundle revision written in the signed envelope (a device refuses revisions older
    /// than the newest it accepted).
    #[arg(long, value_name = "N", requires = "sign")]
    pub revision: Option<u64>,
    /// The time before which the signed bundle is refused: RFC 3339 text or epoch seconds.
    #[arg(long, value_name = "RFC3339|EPOCH", value_parser = parse_time, requires = "sign")]
    pub not_before: Option<u64>,
}

/// `ipe eval`'s options requiring a signed bundle.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Requires the bundle to be signed by this public key file (repeatable, for key
    /// rotation); the bundle is refused as a device refuses it.
    #[arg(long, value_name = "PUB")]
    pub trusted_key: Vec<PathBuf>,
    /// With `--trusted-key`: the lowest bundle revision accepted.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "trusted_key")]
    pub min_revision: u64,
}

/// `ipe keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The secret key file to write; the public key goes to the same path plus `.pub`.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Overwrites existing key files.
    #[arg(long)]
    pub force: bool,
}

/// `ipe sign`.
#[derive(Debug, Args)]
pub struct SignCmd {
    /// The bundle to sign (a plain bundle, or a signed one whose bundle is signed again).
    pub bundle: PathBuf,
    /// The secret key file.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// The bundle revision.
    #[arg(long, value_name = "N")]
    pub revision: u64,
    /// The time before which the bundle is refused: RFC 3339 text or epoch seconds.
    #[arg(long, value_name = "RFC3339|EPOCH", value_parser = parse_time)]
    pub not_before: Option<u64>,
    /// Where to write the signed bundle.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// `ipe verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The signed bundle.
    pub bundle: PathBuf,
    /// A trusted public key file (repeatable).
    #[arg(long, value_name = "PUB", required = true)]
    pub key: Vec<PathBuf>,
    /// The lowest revision accepted.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_revision: u64,
    /// The time not-before is compared with (default: now): RFC 3339 text or epoch seconds.
    #[arg(long, value_name = "RFC3339|EPOCH", value_parser = parse_time)]
    pub now: Option<u64>,
}

/// A time option: RFC 3339 text or integer epoch seconds, as seconds since the Unix epoch
/// (not before 1970).
pub fn parse_time(text: &str) -> Result<u64, String> {
    let ms = crate::cli::parse_now(text)?;
    u64::try_from(ms.div_euclid(1000))
        .map_err(|_| format!("`{text}` is before 1970-01-01T00:00:00Z"))
}

/// The system time in seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Writes one line to standard error, ignoring failure.
fn say(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{args}");
}

fn hex_id(id: &[u8]) -> String {
    hex::encode(id)
}

/// Reads a key file with the given label: its 32 bytes.
pub fn read_key(path: &Path, label: &str) -> anyhow::Result<[u8; 32]> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file `{}`", path.display()))?;
    let mut found = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((l, h)) = line.split_once(' ') else {
            bail!(
                "`{}` is not an IPE key file: expected `{label} <hex>`",
                path.display()
            );
        };
        if l != label {
            let what = if l == SECRET_LABEL || l == PUBLIC_LABEL {
                format!("it holds a `{l}`")
            } else {
                format!("unknown label `{l}`")
            };
            bail!("`{}` is not a `{label}` file: {what}", path.display());
        }
        if found.is_some() {
            bail!("`{}` holds more than one key", path.display());
        }
        let mut key = [0u8; 32];
        hex::decode_to_slice(h.trim(), &mut key).map_err(|e| {
            anyhow::anyhow!("`{}`: the key is not 64 hex digits ({e})", path.display())
        })?;
        found = Some(key);
    }
    found.ok_or_else(|| anyhow::anyhow!("`{}` holds no key", path.display()))
}

fn write_new(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        if text.contains(SECRET_LABEL) {
            options.mode(0o600);
        }
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("creating `{}` (use --force to overwrite)", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing `{}`", path.display()))
}

/// The public key file's path for a secret key file: the same path plus `.pub`.
pub fn public_path(secret: &Path) -> PathBuf {
    let mut p = secret.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

/// `ipe keygen`: writes a new secret key file and its public key file.
pub fn keygen(args: &KeygenArgs) -> anyhow::Result<()> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let public = signed::public_key(&seed);
    let id = hex_id(&signed::key_id(&public));
    let pub_path = public_path(&args.output);
    write_new(
        &args.output,
        &format!(
            "# IPE Ed25519 secret key (key id {id}): keep it private\n{SECRET_LABEL} {}\n",
            hex::encode(seed)
        ),
        args.force,
    )?;
    write_new(
        &pub_path,
        &format!(
            "# IPE Ed25519 public key (key id {id})\n{PUBLIC_LABEL} {}\n",
            hex::encode(public)
        ),
        args.force,
    )?;
    say(format_args!(
        "wrote `{}` (secret) and `{}` (public), key id {id}",
        args.output.display(),
        pub_path.display()
    ));
    Ok(())
}

/// Signs plain bundle bytes with the secret key file `key`.
pub fn seal(bundle: &[u8], key: &Path, revision: u64, not_before: u64) -> anyhow::Result<Vec<u8>> {
    let seed = read_key(key, SECRET_LABEL)?;
    let mut out = vec![0u8; bundle.len() + signed::HEADER_LEN + signed::SIGNATURE_LEN];
    let n = signed::seal(bundle, revision, not_before, &seed, &mut out)
        .map_err(|e| anyhow::anyhow!("cannot sign: {e}"))?;
    out.truncate(n);
    Ok(out)
}

/// `ipe sign`: signs an existing bundle (or re-signs the bundle inside a signed one).
pub fn sign(args: &SignCmd) -> anyhow::Result<()> {
    let path = &args.bundle;
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    let inner = signed::open_unverified(&bytes)
        .map_err(|e| anyhow::anyhow!("`{}` is not a valid bundle: {e}", path.display()))?;
    Bundle::from_bytes_with_max_cost(inner, u32::MAX)
        .map_err(|e| anyhow::anyhow!("`{}` is not a valid bundle: {e}", path.display()))?;
    let out = seal(
        inner,
        &args.key,
        args.revision,
        args.not_before.unwrap_or(0),
    )?;
    std::fs::write(&args.output, &out)
        .with_context(|| format!("writing `{}`", args.output.display()))?;
    say(format_args!(
        "wrote `{}`: revision {}, {} bytes",
        args.output.display(),
        args.revision,
        out.len()
    ));
    Ok(())
}

/// Reads public key files into trusted keys.
pub fn trusted_keys(paths: &[PathBuf]) -> anyhow::Result<Vec<TrustedKey>> {
    paths
        .iter()
        .map(|p| read_key(p, PUBLIC_LABEL).map(TrustedKey::new))
        .collect()
}

/// The one-line description of an accepted envelope.
pub fn describe(env: &Envelope<'_>, bundle: &Bundle<'_>) -> String {
    format!(
        "revision {}, not before {}, key id {}, {} policies",
        env.revision,
        env.not_before,
        hex_id(&env.key_id),
        bundle.policy_count()
    )
}

/// `ipe verify`: checks a signed bundle as a device does; `Ok(false)` after printing why it
/// is refused.
pub fn verify(args: &VerifyArgs) -> anyhow::Result<bool> {
    let keys = trusted_keys(&args.key)?;
    let path = &args.bundle;
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    let trust = Trust {
        keys: &keys,
        min_revision: args.min_revision,
        now: args.now.unwrap_or_else(now),
    };
    match Bundle::from_signed(&bytes, &trust, u32::MAX) {
        Ok((bundle, env)) => {
            println!("{}: ok: {}", path.display(), describe(&env, &bundle));
            Ok(true)
        }
        Err(e) => {
            say(format_args!(
                "error: `{}` is refused: {}",
                path.display(),
                refusal(&e)
            ));
            Ok(false)
        }
    }
}

/// A refusal's wording (a bundle error says the bundle inside is invalid).
pub fn refusal(e: &SignatureError) -> String {
    match e {
        SignatureError::Bundle(b) => format!("the signed bundle inside is not valid: {b}"),
        e => e.to_string(),
    }
}

/// Whether the file at `path` starts like a signed envelope.
pub fn is_signed_file(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok_and(|()| signed::is_signed(&magic))
}

/// The decider of `ipe eval --trusted-key`: the one compiled bundle of `paths`, accepted only
/// as a device with those keys would accept it; `None` after printing why it is refused.
pub fn trusted_decider(
    paths: &[PathBuf],
    max_cost: u32,
    now_ms: Option<i64>,
    args: &TrustArgs,
) -> anyhow::Result<Option<crate::cli::Decider>> {
    let path = match paths {
        [p] if p.is_file() => p,
        _ => bail!("`--trusted-key` needs exactly one compiled, signed bundle"),
    };
    let keys = trusted_keys(&args.trusted_key)?;
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    let policy = ipe_host::TrustPolicy {
        keys,
        min_revision: args.min_revision,
        now: None,
    };
    let options = ipe_host::EngineOptions {
        max_cost,
        ..ipe_host::EngineOptions::interpreter()
    };
    match ipe_host::PolicyEngine::with_trust(bytes, options, policy) {
        Ok(engine) => Ok(Some(crate::cli::Decider(engine, now_ms))),
        Err(e) => {
            let why = match e.kind() {
                ipe_host::ErrorKind::Format(b) => {
                    format!("the signed bundle inside is not valid: {b}")
                }
                _ => e.to_string(),
            };
            say(format_args!(
                "error: `{}` is refused: {why}",
                path.display()
            ));
            Ok(None)
        }
    }
}
