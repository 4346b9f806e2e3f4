//! `ipe explain-error <code> [numbers]` (issue #15): a load error as a firmware logs it, its
//! stable code (`E201`) and optionally its numbers, turned back into the error's name and its
//! text, like `rustc --explain`. The codes and numbers are `ipe_nostd::errcode`'s
//! (`docs/bundle-format.md`, "Load error codes").

use anyhow::{anyhow, bail};
use ipe_nostd::errcode::{lookup, CODES};
use ipe_nostd::BundleError;

/// The explanation of `code` (`E201`, `e201` or `201`) with `numbers` (each a decimal `u64`
/// or negative `i64`; brackets and commas as defmt prints a list are ignored): the code and
/// the variant's name, the names of its numbers, and the error's text (the numbers not given
/// taken as 0, and said so). Fails on an unknown code or numbers that are not the code's.
pub fn explain(code: &str, numbers: &[String]) -> anyhow::Result<String> {
    let digits = code.trim().trim_start_matches(['E', 'e']);
    let info = digits.parse::<u16>().ok().and_then(lookup).ok_or_else(|| {
        anyhow!(
            "`{code}` is not a load error code (the codes: {})",
            CODES
                .iter()
                .map(|i| i.code.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let mut given = Vec::new();
    for word in numbers
        .iter()
        .flat_map(|n| n.split([',', '[', ']', ' ']))
        .filter(|w| !w.is_empty())
    {
        let n = word
            .parse::<u64>()
            .or_else(|_| word.parse::<i64>().map(|n| n as u64))
            .map_err(|_| anyhow!("`{word}` is not a number"))?;
        given.push(n);
    }
    let mut out = format!("E{}: {}\n", info.code, info.name);
    if !info.args.is_empty() {
        out += &format!("numbers: {}\n", info.args.join(", "));
    }
    let error = if given.is_empty() {
        placeholder(info.code, info.args)
    } else {
        match BundleError::from_code(info.code, &given) {
            Some(e) => e,
            None => bail!(
                "{given:?} are not the numbers of E{} ({}: {})",
                info.code,
                info.name,
                info.args.join(", ")
            ),
        }
    };
    if given.is_empty() && !info.args.is_empty() {
        out +=
            &format!("text (every number 0; give the logged numbers for the real text): {error}\n");
    } else {
        out += &format!("text: {error}\n");
    }
    Ok(out)
}

/// The error of `code` with every number 0 (a code error's position as the code says, the
/// trigger as its block).
fn placeholder(code: u16, names: &[&str]) -> BundleError {
    let numbers: Vec<u64> = names
        .iter()
        .map(|n| {
            if n.starts_with("error") {
                u64::from(code - 201)
            } else {
                0
            }
        })
        .collect();
    BundleError::from_code(code, &numbers).unwrap_or(BundleError::MalformedBody)
}

/// `ipe explain-error` as a command: prints the explanation.
pub fn run(code: &str, numbers: &[String]) -> anyhow::Result<std::process::ExitCode> {
    print!("{}", explain(code, numbers)?);
    Ok(std::process::ExitCode::SUCCESS)
}
