//! `dgc-peer`: the `dgc` crate's verification of HCERT QR texts, timed, for `vaxtrace bench cert`.
//!
//! Standard input: the first line is the DSC certificate (base64 DER), then one `HC1:` text per
//! line. Every text is validated once unmeasured (and must be `SignatureValidity::Valid`), then
//! `dgc::validate` runs over all of them in whole rounds for at least `SECONDS` (the first
//! argument, default 2). Prints one JSON line: `{"verified_per_s": …, "count": …, …}`, where
//! `verified_per_s` is per second of this thread's CPU time (what one core does, as `openssl
//! speed` counts; wall clock where Linux's `/proc/thread-self/schedstat` is missing) and
//! `wall_per_s` per wall-clock second; `decoded_per_s` is `dgc::decode` alone (no signature
//! check), timed after, for half as long.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Instant;

/// Upper bound on rounds, whatever the time, so the peer always stops.
const MAX_ROUNDS: usize = 10_000;

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "dgc-peer: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, String> {
    let seconds: f64 = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s > 0.0)
            .ok_or_else(|| format!("the argument {arg:?} is not a number of seconds"))?,
        None => 2.0,
    };
    let mut lines = std::io::stdin().lock().lines();
    let dsc = lines
        .next()
        .ok_or("no DSC line on standard input")?
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    let mut trust = dgc::TrustList::default();
    trust
        .add_key_from_certificate(dsc.trim())
        .map_err(|e| format!("the DSC line is not a usable certificate: {e}"))?;
    let mut texts = Vec::new();
    for line in lines {
        let line = line.map_err(|e| format!("cannot read standard input: {e}"))?;
        let line = line.trim();
        if !line.is_empty() {
            texts.push(line.to_owned());
        }
    }
    if texts.is_empty() {
        return Err("no HC1: texts on standard input".to_owned());
    }
    // Warm-up, unmeasured, and proof that dgc accepts every text.
    for (i, text) in texts.iter().enumerate() {
        let (_, validity) =
            dgc::validate(text, &trust).map_err(|e| format!("text {i} does not parse: {e}"))?;
        if !validity.is_valid() {
            return Err(format!("text {i} does not verify: {validity:?}"));
        }
    }
    let cpu_start = thread_cpu_ns();
    let started = Instant::now();
    let mut verified = 0usize;
    for _ in 0..MAX_ROUNDS {
        for text in &texts {
            let (container, validity) =
                dgc::validate(text, &trust).map_err(|e| format!("a text stopped parsing: {e}"))?;
            if !validity.is_valid() {
                return Err("a text stopped verifying".to_owned());
            }
            std::hint::black_box(container);
        }
        verified += texts.len();
        if started.elapsed().as_secs_f64() >= seconds {
            break;
        }
    }
    let (wall, cpu) = elapsed(started, cpu_start);
    // dgc's decoding alone (base45, inflate, COSE, CBOR payload), no signature check: what
    // dgc::validate spends beside ring.
    let decode_cpu_start = thread_cpu_ns();
    let decode_started = Instant::now();
    let mut decoded = 0usize;
    for _ in 0..MAX_ROUNDS {
        for text in &texts {
            let container =
                dgc::decode(text).map_err(|e| format!("a text stopped decoding: {e}"))?;
            std::hint::black_box(container);
        }
        decoded += texts.len();
        if decode_started.elapsed().as_secs_f64() >= seconds / 2.0 {
            break;
        }
    }
    let (decode_wall, decode_cpu) = elapsed(decode_started, decode_cpu_start);
    let clock = if cpu.is_some() { "cpu" } else { "wall" };
    Ok(format!(
        "{{\"verified_per_s\": {:.1}, \"count\": {}, \"wall_per_s\": {:.1}, \"decoded_per_s\": {:.1}, \"verified\": {verified}, \"wall_s\": {wall:.3}, \"clock\": \"{clock}\"}}",
        verified as f64 / cpu.unwrap_or(wall),
        texts.len(),
        verified as f64 / wall,
        decoded as f64 / decode_cpu.unwrap_or(decode_wall),
    ))
}

/// Wall-clock seconds since `started` and CPU seconds since `cpu_start`, the latter only when
/// it makes sense against the former.
fn elapsed(started: Instant, cpu_start: Option<u64>) -> (f64, Option<f64>) {
    let wall = started.elapsed().as_secs_f64().max(1e-9);
    let cpu = cpu_start
        .zip(thread_cpu_ns())
        .map(|(start, end)| end.saturating_sub(start) as f64 / 1e9)
        .filter(|cpu| *cpu > 0.0 && *cpu <= wall * 1.05 + 0.01);
    (wall, cpu)
}

/// Nanoseconds this thread has spent on a CPU (first field of `/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
