//! Reads uploaded documents in a child process (`otoq extract-document`) under memory,
//! CPU-time, wall-clock and output limits, so a hostile file can fail only itself.
//!
//! The parent writes the file to the child's stdin and reads one JSON answer from its stdout.
//! A child that runs out of memory, time or output is killed (or dies) alone, and the document
//! fails with a sentence saying why. At most `concurrency` children run at once per process.

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use otoq_core::config::ExtractLimits;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{ExtractError, ExtractedDoc, Section};

/// The hidden subcommand the child runs.
pub const SUBCOMMAND: &str = "extract-document";
/// Bytes of the child's stderr kept to explain its death.
const STDERR_KEPT: u64 = 8 * 1024;

/// What the child prints: the document, or why it could not be read.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Ok {
        title: String,
        sections: Vec<Section>,
        partial: Option<String>,
    },
    Error(String),
}

/// The process-wide limit on children running at once (sized by the first caller's config).
fn slots(limits: &ExtractLimits) -> Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS
        .get_or_init(|| Arc::new(Semaphore::new(limits.concurrency)))
        .clone()
}

/// A reserved place to run one child; take it before loading the file, so waiting jobs hold
/// no file in memory.
pub struct Slot {
    limits: ExtractLimits,
    _permit: OwnedSemaphorePermit,
}

/// Waits for a free place to run a child.
pub async fn reserve(limits: &ExtractLimits) -> Slot {
    let permit = slots(limits)
        .acquire_owned()
        .await
        .expect("the extraction semaphore is never closed");
    Slot {
        limits: limits.clone(),
        _permit: permit,
    }
}

fn exe(limits: &ExtractLimits) -> anyhow::Result<PathBuf> {
    match &limits.exe {
        Some(p) => Ok(p.clone()),
        None => std::env::current_exe().context("locating the otoq executable"),
    }
}

impl Slot {
    /// Reads `bytes` in a child. `Ok(Err(_))` is the document's own failure (shown to the owner);
    /// `Err(_)` means the child could not be started at all.
    pub async fn extract(
        self,
        bytes: Vec<u8>,
        filename: &str,
        content_type: Option<&str>,
    ) -> anyhow::Result<Result<ExtractedDoc, ExtractError>> {
        let limits = &self.limits;
        let mut cmd = tokio::process::Command::new(exe(limits)?);
        cmd.arg(SUBCOMMAND).arg("--filename").arg(filename);
        if let Some(ct) = content_type {
            cmd.arg("--content-type").arg(ct);
        }
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let (memory, cpu) = (limits.memory_bytes, limits.cpu.as_secs());
        // SAFETY: the closure runs between fork and exec and only calls setrlimit, which is
        // async-signal-safe; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || apply_limits(memory, cpu));
        }
        let mut child = cmd.spawn().context("starting the document reader")?;
        let mut stdin = child.stdin.take().context("child stdin")?;
        let stdout = child.stdout.take().context("child stdout")?;
        let stderr = child.stderr.take().context("child stderr")?;
        let max_output = limits.max_output_bytes;
        let writer = tokio::spawn(async move {
            // A write error only means the child stopped reading; its exit status says why.
            let _ = stdin.write_all(&bytes).await;
        });
        let reader = tokio::spawn(async move {
            let mut out = Vec::new();
            let _ = stdout
                .take(max_output as u64 + 1)
                .read_to_end(&mut out)
                .await;
            out
        });
        let err_reader = tokio::spawn(async move {
            let mut err = Vec::new();
            let _ = stderr.take(STDERR_KEPT).read_to_end(&mut err).await;
            err
        });
        let status = match tokio::time::timeout(limits.timeout, child.wait()).await {
            Ok(status) => Some(status.context("waiting for the document reader")?),
            Err(_) => {
                let _ = child.kill().await;
                None
            }
        };
        writer.abort();
        let out = reader.await.unwrap_or_default();
        let err = err_reader.await.unwrap_or_default();
        let Some(status) = status else {
            return Ok(Err(ExtractError(format!(
                "reading the file took longer than {} s and was stopped",
                limits.timeout.as_secs()
            ))));
        };
        if out.len() > max_output {
            return Ok(Err(ExtractError(format!(
                "the file's text is over the {} MB limit",
                max_output >> 20
            ))));
        }
        if status.success()
            && let Ok(answer) = serde_json::from_slice::<Answer>(&out)
        {
            return Ok(match answer {
                Answer::Ok {
                    title,
                    sections,
                    partial,
                } => Ok(ExtractedDoc {
                    title,
                    sections,
                    partial,
                }),
                Answer::Error(reason) => Err(ExtractError(reason)),
            });
        }
        let stderr = String::from_utf8_lossy(&err);
        tracing::warn!(%status, stderr = %stderr.trim(), filename, "document reader died");
        Ok(Err(ExtractError(death_reason(status, &stderr, limits))))
    }
}

/// Why a child died, in words for the owner.
fn death_reason(status: std::process::ExitStatus, stderr: &str, limits: &ExtractLimits) -> String {
    let out_of_memory = stderr.contains("memory allocation of")
        || stderr.contains("out of memory")
        || stderr.contains("Cannot allocate memory");
    match status.signal() {
        _ if out_of_memory => format!(
            "the file needs more than {} MB of memory to read and was refused (it may be a decompression bomb)",
            limits.memory_bytes >> 20
        ),
        Some(libc::SIGXCPU) => format!(
            "reading the file used more than {} s of CPU time and was stopped",
            limits.cpu.as_secs()
        ),
        Some(libc::SIGKILL) => format!(
            "reading the file was stopped by the system: it needed more than {} s of CPU time or more memory than allowed",
            limits.cpu.as_secs()
        ),
        _ => "the file could not be read: the parser crashed on it".into(),
    }
}

/// Caps the address space, data and CPU time of the process about to exec, and disables core
/// dumps.
fn apply_limits(memory: u64, cpu_secs: u64) -> std::io::Result<()> {
    // Code, stacks and reserved-but-unused mappings count towards the address space; data
    // (heap and anonymous mappings) is the real bound.
    set(libc::RLIMIT_DATA, memory, memory)?;
    let space = memory.saturating_add(1 << 30);
    set(libc::RLIMIT_AS, space, space)?;
    set(libc::RLIMIT_CPU, cpu_secs, cpu_secs + 5)?;
    set(libc::RLIMIT_CORE, 0, 0)
}

fn set(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: a plain system call on a valid, initialised struct.
    if unsafe { libc::setrlimit(resource, &limit) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The child's side: reads the file from stdin, extracts it, prints the JSON answer. Returns
/// the exit code.
pub fn child_main(filename: &str, content_type: Option<&str>) -> i32 {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        eprintln!("cannot read the document from stdin: {e}");
        return 2;
    }
    let answer = match super::extract_file(&bytes, filename, content_type) {
        Ok(doc) => Answer::Ok {
            title: doc.title,
            sections: doc.sections,
            partial: doc.partial,
        },
        Err(ExtractError(reason)) => Answer::Error(reason),
    };
    drop(bytes);
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, &answer)
        .map_err(std::io::Error::from)
        .and_then(|()| out.flush());
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cannot write the answer: {e}");
            3
        }
    }
}
