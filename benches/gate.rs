//! The answerability gate's trade-off on the dev sets, per embedder: reads the per-question lines
//! the quality benchmark wrote (`target/quality/<embedder>/<set>.jsonl`, run `cargo bench --bench
//! quality` with the same BENCH_EMBEDDER first) and prints, per threshold on the gate's score, the
//! false-refusal rate on answerable questions and the refusal rate on those to refuse, overall
//! and for English, with the embedder's configured point marked.
//!
//! Run: `cargo bench --bench gate`. Env: BENCH_EMBEDDER (minilm or e5; default minilm),
//! BENCH_QUALITY_DIR (default target/quality/<embedder>).

use otoq_core::retrieval::gate::Calibration;

use serde_json::Value;

fn main() -> anyhow::Result<()> {
    let embedder = std::env::var("BENCH_EMBEDDER").unwrap_or_else(|_| "minilm".into());
    let dir = std::env::var("BENCH_QUALITY_DIR")
        .unwrap_or_else(|_| format!("{}/target/quality/{embedder}", env!("CARGO_MANIFEST_DIR")));
    let chosen = match embedder.as_str() {
        "e5" => Calibration::E5,
        _ => Calibration::MINILM,
    }
    .threshold;
    println!("embedder: {embedder}");
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut all: Vec<Value> = Vec::new();
    for f in &files {
        let rows: Vec<Value> = std::fs::read_to_string(f)?
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let set = f
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        sweep(&set, &rows, chosen);
        let en: Vec<Value> = rows.iter().filter(|r| r["lang"] == "en").cloned().collect();
        if !en.is_empty() && en.len() < rows.len() {
            sweep(&format!("{set} (en)"), &en, chosen);
        }
        all.extend(rows);
    }
    if files.len() > 1 {
        sweep("all sets", &all, chosen);
    }
    println!("chosen threshold for {embedder}: {chosen:.2}");
    Ok(())
}

/// One line per threshold: false refusals / refusals of the questions to refuse.
fn sweep(label: &str, rows: &[Value], chosen: f32) {
    let score = |r: &Value| r["confidence"].as_f64().unwrap_or(0.0) as f32;
    let (pos, neg): (Vec<&Value>, Vec<&Value>) = rows.iter().partition(|r| r["answerable"] == true);
    if pos.is_empty() || neg.is_empty() {
        return;
    }
    println!(
        "== {label}: {} answerable, {} to refuse — threshold: false-refusal / refused",
        pos.len(),
        neg.len()
    );
    let mut line = String::new();
    for i in 0..=40 {
        let t = 0.40 + 0.01 * i as f32;
        let fr = pos.iter().filter(|r| score(r) < t).count() as f32 / pos.len() as f32;
        let rf = neg.iter().filter(|r| score(r) < t).count() as f32 / neg.len() as f32;
        let mark = if (t - chosen).abs() < 0.005 { "*" } else { " " };
        line.push_str(&format!("{mark}{t:.2}: {fr:.2}/{rf:.2}  "));
        if i % 8 == 7 {
            println!("  {line}");
            line.clear();
        }
    }
    if !line.is_empty() {
        println!("  {line}");
    }
}
