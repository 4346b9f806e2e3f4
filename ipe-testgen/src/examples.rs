//! The bundles under the repository's `examples/`: each directory is one bundle (its `.ipe`
//! files), with `requests.jsonl` and `expected.jsonl` (line N is the decision for request N).
//! A bundle that needs compiler inputs besides its sources keeps them next to them, by name:
//! every `*.data.json` is a data file (`ipe eval --data`) and every `*.instances.json` a template
//! instance file (`ipe eval --instances`), each kind in file-name order. `examples/README.md`
//! gives the command line for each bundle.

use ipe_compile::{CompileError, CompileOptions, DataFile};
use std::path::{Path, PathBuf};

/// Every example bundle, by directory name.
pub const NAMES: &[&str] = &[
    "seed",
    "policies",
    "k8s-admission",
    "api-gateway",
    "firewall",
];

/// One example bundle.
#[derive(Clone, Debug)]
pub struct Example {
    /// The directory name under `examples/`.
    pub name: String,
    /// The directory.
    pub dir: PathBuf,
    /// Its `*.data.json` files, in name order.
    pub data: Vec<PathBuf>,
    /// Its `*.instances.json` files, in name order.
    pub instances: Vec<PathBuf>,
}

/// The `examples/` directory of the repository.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

impl Example {
    /// The example `examples/<name>`, with its data and instance files.
    pub fn load(name: &str) -> Result<Example, CompileError> {
        let dir = root().join(name);
        let mut files = std::fs::read_dir(&dir)
            .and_then(|entries| {
                entries
                    .map(|e| e.map(|e| e.path()))
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|source| CompileError::Io {
                path: dir.clone(),
                source,
            })?;
        files.sort();
        let named = |suffix: &str| -> Vec<PathBuf> {
            files
                .iter()
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(suffix))
                })
                .cloned()
                .collect()
        };
        Ok(Example {
            name: name.to_owned(),
            data: named(".data.json"),
            instances: named(".instances.json"),
            dir,
        })
    }

    /// The compiler options the bundle needs: the default ones with its data and instance files.
    pub fn options(&self) -> Result<CompileOptions, CompileError> {
        Ok(CompileOptions {
            data: self
                .data
                .iter()
                .map(|p| DataFile::read(p))
                .collect::<Result<_, _>>()?,
            instances: self
                .instances
                .iter()
                .map(|p| ipe_compile::compile::InstanceSource::read(p))
                .collect::<Result<_, _>>()?,
            ..CompileOptions::default()
        })
    }

    /// The bundle's program, compiled from its directory with [`Example::options`].
    pub fn compile(&self) -> Result<ipe_compile::hir::Program, CompileError> {
        ipe_compile::compile_paths_with(
            std::slice::from_ref(&self.dir),
            &self.options()?,
            &mut |_| {},
        )
    }

    /// The arguments `ipe eval` needs besides the directory: `--data F` and `--instances F`.
    pub fn cli_args(&self) -> Vec<String> {
        let flag = |flag: &str, files: &[PathBuf]| -> Vec<String> {
            files
                .iter()
                .flat_map(|p| [flag.to_owned(), p.display().to_string()])
                .collect()
        };
        let mut args = flag("--data", &self.data);
        args.extend(flag("--instances", &self.instances));
        args
    }

    /// The non-blank lines of a file of the bundle (`requests.jsonl`, `expected.jsonl`).
    pub fn lines(&self, file: &str) -> Result<Vec<String>, CompileError> {
        let path = self.dir.join(file);
        let text = std::fs::read_to_string(&path).map_err(|source| CompileError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect())
    }
}
