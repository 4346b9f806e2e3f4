//! Writes the seed corpora: `ipe-fuzz-seed <dir>` creates `<dir>/<target>/<name>` for every
//! target (existing files are overwritten, others kept: the fuzzer's own finds survive).

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "corpus".to_owned());
    for (target, seeds) in ipe_fuzz::seeds::all() {
        let d = std::path::Path::new(&dir).join(target);
        std::fs::create_dir_all(&d)?;
        for (name, bytes) in &seeds {
            std::fs::write(d.join(format!("seed-{name}")), bytes)?;
        }
        println!("{target}: {} seeds", seeds.len());
    }
    Ok(())
}
