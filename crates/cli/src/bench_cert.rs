//! `vaxtrace bench cert`: EU Digital COVID Certificates issued and verified per second per core,
//! beside peers measured in the same run on the same certificates: a bare ECDSA P-256 check with
//! ring (what verification costs at the least), `openssl speed ecdsap256` (raw signing and
//! verification) and the `dgc` crate's verification (the `dgc-peer` binary of
//! `crates/bench-dgc`, in its own process).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use vaxtrace_cert::hcert::{self, BareSignature, TrustList, VaccinationDcc};
use vaxtrace_cert::{CertProfile, KdfParams, SecretPassphrase, SigningKey};
use vaxtrace_domain::vaccine::CATALOGUE;

use crate::synth::Population;

#[derive(Debug, Args)]
pub struct CertBench {
    /// Certificates issued, then verified, in each round.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    count: u64,
    /// Least time of each measurement, in whole rounds over the certificates (at most 30).
    #[arg(long, default_value_t = 2.0, value_parser = seconds)]
    seconds: f64,
    /// Threads of the all-cores verification run. Default: one per core.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=256))]
    threads: Option<u64>,
    /// Seed of the synthetic holders (names, birth dates).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON object on standard output instead of the table.
    #[arg(long)]
    json: bool,
}

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.05..=30.0).contains(&s) => Ok(s),
        _ => Err("a number of seconds from 0.05 to 30".to_owned()),
    }
}

/// Upper bound on rounds of any measurement, whatever the time, so every loop ends.
const MAX_ROUNDS: u64 = 100_000;
/// Turns of `dgc-peer` and of ours taken one after the other.
const DGC_TURNS: usize = 3;
const PASSPHRASE: &str = "bench cert passphrase, throwaway keys";

/// The targets of the issue, as (ratio name, threshold).
const VERIFY_OVER_BARE_MAX: f64 = 1.15;
const OURS_OVER_DGC_MIN: f64 = 1.3;
const ISSUE_OVER_OPENSSL_SIGN_MIN: f64 = 0.8;
/// Verification "scales with cores": the all-cores rate is at least this share of cores × the
/// one-thread rate.
const SCALING_EFFICIENCY_MIN: f64 = 0.8;

pub async fn run(args: CertBench) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || bench(&args)).await?
}

/// The throwaway DSC, its key, and the payloads to sign.
struct Material {
    dsc_der: Vec<u8>,
    key: SigningKey,
    payloads: Vec<Json>,
}

fn prepare(args: &CertBench, now: OffsetDateTime) -> anyhow::Result<Material> {
    let pass = SecretPassphrase::new(PASSPHRASE)?.with_kdf(KdfParams::insecure_fast());
    let (nb, na) = (
        now - time::Duration::days(1),
        now + time::Duration::days(730),
    );
    let csca = vaxtrace_cert::create_csca("CSCA bench", nb, na, &pass)?;
    let dsc = vaxtrace_cert::issue(
        &csca,
        &pass,
        CertProfile::DocumentSigner,
        "VN",
        "DSC bench",
        nb,
        na,
        &pass,
        &|_| None,
    )?;
    let key = SigningKey::unlock(&dsc, &pass)?;
    let mut payloads = Vec::with_capacity(args.count as usize);
    for (i, holder) in Population::new("91", args.count, args.seed)?.enumerate() {
        let vaccine = &CATALOGUE[i % CATALOGUE.len()];
        let series = vaccine.primary_doses.max(1);
        let dose = (i % usize::from(series + 1)) as u8 + 1;
        let payload = VaccinationDcc {
            full_name: holder.full_name,
            date_of_birth: holder.birth_date,
            prophylaxis: vaccine.prophylaxis_code.to_owned(),
            product: vaccine.code.to_owned(),
            manufacturer: vaccine.manufacturer_code.to_owned(),
            dose_number: dose,
            series_doses: series.max(dose),
            vaccinated_on: time::macros::date!(2021 - 07 - 01)
                + time::Duration::days((i % 300) as i64),
            uvci: hcert::new_uvci()?,
        }
        .payload()?;
        payloads.push(payload);
    }
    Ok(Material {
        dsc_der: dsc.certificate_der,
        key,
        payloads,
    })
}

/// Operations done in a measurement, its wall-clock time and the CPU time of the threads that
/// did them (`None` where the kernel does not say).
#[derive(Debug, Clone, Copy)]
struct Rate {
    operations: u64,
    wall: Duration,
    cpu: Option<Duration>,
}

impl Rate {
    /// Operations per second of CPU time: what one core does while it runs this (how
    /// `openssl speed` counts, so a busy machine does not lower it). Wall clock without CPU time.
    fn per_core(&self) -> f64 {
        per_second(self.operations, self.cpu.unwrap_or(self.wall))
    }

    /// Adds another measurement of the same work (CPU time only while both have it).
    fn add(&mut self, other: Self) {
        self.operations += other.operations;
        self.wall += other.wall;
        self.cpu = self.cpu.zip(other.cpu).map(|(a, b)| a + b);
    }

    fn per_wall_second(&self) -> f64 {
        per_second(self.operations, self.wall)
    }

    fn to_json(self) -> Json {
        json!({"operations": self.operations, "wall_s": self.wall.as_secs_f64(),
            "cpu_s": self.cpu.map(|c| c.as_secs_f64()), "per_core_per_s": self.per_core(),
            "wall_per_s": self.per_wall_second()})
    }
}

fn per_second(operations: u64, elapsed: Duration) -> f64 {
    operations as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// CPU time of the calling thread so far: the first field of `/proc/thread-self/schedstat`
/// (nanoseconds on a CPU). `None` off Linux or when unreadable.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    parse_schedstat(&text)
}

fn parse_schedstat(text: &str) -> Option<Duration> {
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// A stopwatch of wall-clock and thread CPU time.
struct Stopwatch {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Stopwatch {
    fn start() -> Self {
        Self {
            cpu: thread_cpu(),
            wall: Instant::now(),
        }
    }

    fn elapsed_seconds(&self) -> f64 {
        self.wall.elapsed().as_secs_f64()
    }

    fn stop(&self, operations: u64) -> Rate {
        let wall = self.wall.elapsed();
        // CPU time counts only when both readings exist and make sense against the wall clock.
        let cpu = self
            .cpu
            .zip(thread_cpu())
            .and_then(|(start, end)| end.checked_sub(start))
            .filter(|cpu| !cpu.is_zero() && cpu.as_secs_f64() <= wall.as_secs_f64() * 1.05 + 0.01);
        Rate {
            operations,
            wall,
            cpu,
        }
    }
}

/// Runs `round` (which does `per_round` operations) in whole rounds until `seconds` have passed.
fn timed(
    seconds: f64,
    per_round: usize,
    mut round: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Rate> {
    let watch = Stopwatch::start();
    let mut rounds = 0u64;
    while rounds < MAX_ROUNDS {
        round()?;
        rounds += 1;
        if watch.elapsed_seconds() >= seconds {
            break;
        }
    }
    Ok(watch.stop(rounds * per_round as u64))
}

/// Runs the `work` items (each doing `per_round` operations a call) in turn, a slice of whole
/// rounds of one, then of the next, until each has had `seconds`: peers compared this way see
/// the same machine, even when other processes come and go.
fn alternating<const K: usize>(
    seconds: f64,
    per_round: usize,
    mut work: [&mut dyn FnMut() -> anyhow::Result<()>; K],
) -> anyhow::Result<[Rate; K]> {
    let slice = (seconds / 8.0).max(0.01);
    let mut rates = [Rate {
        operations: 0,
        wall: Duration::ZERO,
        cpu: Some(Duration::ZERO),
    }; K];
    let mut rounds = 0u64;
    while rates.iter().any(|r| r.wall.as_secs_f64() < seconds) && rounds < MAX_ROUNDS {
        for (rate, round) in rates.iter_mut().zip(work.iter_mut()) {
            let watch = Stopwatch::start();
            let mut done = 0u64;
            loop {
                round()?;
                done += 1;
                if watch.elapsed_seconds() >= slice || rounds + done >= MAX_ROUNDS {
                    break;
                }
            }
            rounds += done;
            rate.add(watch.stop(done * per_round as u64));
        }
    }
    Ok(rates)
}

/// Issues every payload once (the texts verification works on, and their signed parts), then
/// times issuing and ring's signing of the same `Sig_structure`s in turns.
fn issuing(
    material: &Material,
    iat: i64,
    exp: i64,
    seconds: f64,
) -> anyhow::Result<(Vec<String>, Vec<BareSignature>, Rate, Rate)> {
    let qrs = material
        .payloads
        .iter()
        .map(|payload| hcert::issue_hcert(payload, &material.key, iat, exp))
        .collect::<Result<Vec<_>, _>>()?;
    let bare: Vec<BareSignature> = qrs
        .iter()
        .map(|qr| BareSignature::from_hc1(qr, &material.dsc_der))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("cannot decode our own certificate: {e}"))?;
    let [issue, bare_sign] = alternating(
        seconds,
        qrs.len(),
        [
            &mut || {
                for payload in &material.payloads {
                    std::hint::black_box(hcert::issue_hcert(payload, &material.key, iat, exp)?);
                }
                Ok(())
            },
            &mut || {
                for b in &bare {
                    std::hint::black_box(material.key.sign(b.message())?);
                }
                Ok(())
            },
        ],
    )?;
    Ok((qrs, bare, issue, bare_sign))
}

/// `verify_hc1` on `threads` threads at once, each walking all texts from its own offset in
/// whole rounds; the wall clock runs from the common start to the last thread's end, the CPU
/// time is the threads' sum.
fn verify_parallel(
    qrs: &[String],
    trust: &TrustList,
    at: OffsetDateTime,
    threads: usize,
    seconds: f64,
) -> anyhow::Result<Rate> {
    let barrier = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let offset = t * qrs.len() / threads;
                    timed(seconds, qrs.len(), || {
                        for qr in qrs[offset..].iter().chain(&qrs[..offset]) {
                            anyhow::ensure!(
                                hcert::verify_hc1(qr, trust, at).is_valid(),
                                "a certificate did not verify"
                            );
                        }
                        Ok(())
                    })
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        let (mut operations, mut cpu) = (0, Some(Duration::ZERO));
        for w in workers {
            let rate = w
                .join()
                .map_err(|_| anyhow::anyhow!("a verification thread panicked"))??;
            operations += rate.operations;
            cpu = cpu.zip(rate.cpu).map(|(a, b)| a + b);
        }
        Ok(Rate {
            operations,
            wall: started.elapsed(),
            cpu,
        })
    })
}

/// What `dgc-peer` prints.
#[derive(Debug, Clone, Deserialize)]
struct PeerReport {
    /// Per second of the peer's CPU time (wall clock where it cannot tell).
    verified_per_s: f64,
    count: u64,
    #[serde(default)]
    wall_per_s: Option<f64>,
    /// `dgc::decode` alone, per CPU second.
    #[serde(default)]
    decoded_per_s: Option<f64>,
}

/// Where `dgc-peer` is: beside the `vaxtrace` executable (`target/release/`).
fn dgc_peer_path() -> anyhow::Result<PathBuf> {
    let exe = crate::bench::exe()?;
    Ok(exe.with_file_name(format!("dgc-peer{}", std::env::consts::EXE_SUFFIX)))
}

/// The `dgc` crate's verifications per second of the same texts, or why there is no figure.
fn dgc_peer(
    peer: &Path,
    dsc_der: &[u8],
    qrs: &[String],
    seconds: f64,
) -> anyhow::Result<PeerReport> {
    let mut child = Command::new(peer)
        .arg(seconds.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", peer.display()))?;
    {
        let mut stdin = std::io::BufWriter::new(child.stdin.take().context("no stdin")?);
        writeln!(stdin, "{}", base64(dsc_der))?;
        for qr in qrs {
            writeln!(stdin, "{qr}")?;
        }
        stdin.flush()?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "dgc-peer failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let report = parse_peer_report(&String::from_utf8_lossy(&out.stdout))?;
    anyhow::ensure!(
        report.count == qrs.len() as u64,
        "dgc-peer read {} texts of {}",
        report.count,
        qrs.len()
    );
    Ok(report)
}

/// `dgc-peer` and `ours` (one round of our verification) in [`DGC_TURNS`] turns each, so both
/// see the same machine: the mean of the peer's turns, and ours over its turns.
fn dgc_in_turns(
    peer: &Path,
    dsc_der: &[u8],
    qrs: &[String],
    seconds: f64,
    ours: &mut dyn FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<(PeerReport, Rate)> {
    let turn = seconds / DGC_TURNS as f64;
    let mut beside = Rate {
        operations: 0,
        wall: Duration::ZERO,
        cpu: Some(Duration::ZERO),
    };
    let mut reports = Vec::with_capacity(DGC_TURNS);
    for _ in 0..DGC_TURNS {
        beside.add(alternating(turn, qrs.len(), [&mut *ours])?[0]);
        reports.push(dgc_peer(peer, dsc_der, qrs, turn)?);
    }
    let turns = reports.len() as f64;
    let mean = |f: &dyn Fn(&PeerReport) -> Option<f64>| -> Option<f64> {
        reports
            .iter()
            .map(f)
            .sum::<Option<f64>>()
            .map(|sum| sum / turns)
    };
    let report = PeerReport {
        verified_per_s: mean(&|r| Some(r.verified_per_s)).unwrap_or_default(),
        count: qrs.len() as u64,
        wall_per_s: mean(&|r| r.wall_per_s),
        decoded_per_s: mean(&|r| r.decoded_per_s),
    };
    Ok((report, beside))
}

/// The last JSON line of `dgc-peer`'s output.
fn parse_peer_report(stdout: &str) -> anyhow::Result<PeerReport> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .context("dgc-peer printed nothing")?;
    let report: PeerReport =
        serde_json::from_str(line).with_context(|| format!("dgc-peer printed {line:?}"))?;
    anyhow::ensure!(
        report.verified_per_s.is_finite() && report.verified_per_s > 0.0,
        "dgc-peer reported {} verifications/s",
        report.verified_per_s
    );
    Ok(report)
}

/// Signs and verifications per second of P-256 in `openssl speed` output.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct OpensslSpeed {
    sign_per_s: f64,
    verify_per_s: f64,
}

/// Reads the `nistp256` row of `openssl speed ecdsap256`'s table:
/// ` 256 bits ecdsa (nistp256)   0.0000s   0.0001s  51449.2  16591.0` (sign s, verify s,
/// sign/s, verify/s). `None` when there is no such row or its rates are not positive numbers.
fn parse_openssl_speed(output: &str) -> Option<OpensslSpeed> {
    let row = output.lines().find(|l| l.contains("(nistp256)"))?;
    let numbers: Vec<f64> = row
        .split_once("(nistp256)")?
        .1
        .split_whitespace()
        .map(|t| t.trim_end_matches('s').parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let [_, _, sign_per_s, verify_per_s] = numbers.as_slice() else {
        return None;
    };
    let ok = |r: f64| r.is_finite() && r > 0.0;
    (ok(*sign_per_s) && ok(*verify_per_s)).then_some(OpensslSpeed {
        sign_per_s: *sign_per_s,
        verify_per_s: *verify_per_s,
    })
}

/// `openssl speed -seconds N ecdsap256` (one process, so per core).
fn openssl_speed(seconds: f64) -> anyhow::Result<OpensslSpeed> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds"])
        .arg(format!("{}", seconds.ceil().max(1.0) as u64))
        .arg("ecdsap256")
        .stdin(Stdio::null())
        .output()
        .context("openssl is not on PATH (apt-get install openssl)")?;
    if !out.status.success() {
        bail!(
            "openssl speed failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    parse_openssl_speed(&text).context("no nistp256 row in the output of openssl speed")
}

/// RFC 4648 Base64 with padding: the DSC line `dgc-peer` reads.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One target of the issue: `value` against `threshold`, higher or lower being better.
#[derive(Debug, Clone, Serialize)]
struct Target {
    name: &'static str,
    /// `None` when a peer it needs could not be measured.
    value: Option<f64>,
    threshold: f64,
    at_most: bool,
}

impl Target {
    fn pass(&self) -> Option<bool> {
        self.value.map(|v| {
            if self.at_most {
                v <= self.threshold
            } else {
                v >= self.threshold
            }
        })
    }

    fn verdict(&self) -> &'static str {
        match self.pass() {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "not measured",
        }
    }
}

/// The figures of one run; rates are per core (per second of CPU time) unless named wall.
#[derive(Debug, Clone)]
struct Results {
    count: usize,
    cores: usize,
    threads: usize,
    qr_chars_mean: f64,
    issue: Rate,
    /// ring's ECDSA P-256 signing of the same `Sig_structure`s: issuing's floor.
    bare_sign: Rate,
    bare_verify: Rate,
    verify: Rate,
    verify_all_cores: Rate,
    /// `dgc-peer`'s report, and ours measured in turns with it.
    dgc: Option<(PeerReport, Rate)>,
    openssl: Option<OpensslSpeed>,
}

impl Results {
    /// Verifications per wall-clock second on all threads over one thread's per-core rate.
    fn scaling(&self) -> f64 {
        self.verify_all_cores.per_wall_second() / self.verify.per_core().max(1e-9)
    }

    /// Share of `threads` cores that our threads got during the all-cores run.
    fn cpu_share(&self) -> Option<f64> {
        let cpu = self.verify_all_cores.cpu?;
        Some(cpu.as_secs_f64() / (self.threads as f64 * self.verify_all_cores.wall.as_secs_f64()))
    }

    fn targets(&self) -> [Target; 4] {
        let verify = self.verify.per_core().max(1e-9);
        [
            Target {
                name: "full verification costs at most 1.15x a bare signature check",
                value: Some(self.bare_verify.per_core() / verify),
                threshold: VERIFY_OVER_BARE_MAX,
                at_most: true,
            },
            Target {
                name: "full verification beats dgc by at least 1.3x",
                value: self
                    .dgc
                    .as_ref()
                    .map(|(d, ours)| ours.per_core() / d.verified_per_s.max(1e-9)),
                threshold: OURS_OVER_DGC_MIN,
                at_most: false,
            },
            Target {
                name: "issuing reaches at least 0.8x OpenSSL's raw signing rate",
                value: self
                    .openssl
                    .map(|o| self.issue.per_core() / o.sign_per_s.max(1e-9)),
                threshold: ISSUE_OVER_OPENSSL_SIGN_MIN,
                at_most: false,
            },
            Target {
                name: "verification scales with cores (all threads / one thread)",
                value: Some(self.scaling()),
                threshold: SCALING_EFFICIENCY_MIN * self.threads.min(self.cores) as f64,
                at_most: false,
            },
        ]
    }

    fn to_json(&self) -> Json {
        let targets: Vec<Json> = self
            .targets()
            .iter()
            .map(|t| json!({"name": t.name, "value": t.value, "threshold": t.threshold, "at_most": t.at_most, "pass": t.pass()}))
            .collect();
        json!({
            "bench": "cert", "count": self.count, "cores": self.cores, "threads": self.threads,
            "qr_chars_mean": self.qr_chars_mean,
            "issue": self.issue.to_json(), "ring_sign": self.bare_sign.to_json(),
            "ring_verify": self.bare_verify.to_json(), "verify": self.verify.to_json(),
            "verify_all_threads": self.verify_all_cores.to_json(),
            "scaling": self.scaling(), "cpu_share_all_threads": self.cpu_share(),
            "dgc": self.dgc.as_ref().map(|(d, ours)| json!({"verified_per_s": d.verified_per_s, "wall_per_s": d.wall_per_s,
                "decoded_per_s": d.decoded_per_s, "ours_in_turns": ours.to_json()})),
            "openssl": self.openssl,
            "targets": targets,
        })
    }

    fn print(&self) {
        let us = |rate: f64| 1e6 / rate.max(1e-9);
        let row = |label: &str, rate: f64, note: &str| {
            println!("  {label:<40} {rate:>8.0} /s {:>7.1} µs  {note}", us(rate));
        };
        println!(
            "Certificates: {} vaccination HCERTs (ES256, {:.0} characters on average), {} cores.",
            self.count, self.qr_chars_mean, self.cores
        );
        println!(
            "Per core: operations per second of CPU time on one thread, as openssl speed counts."
        );
        println!("Issuing");
        row(
            "issue_hcert: payload → HC1: text",
            self.issue.per_core(),
            "ours",
        );
        row(
            "ring P-256 sign of the Sig_structure",
            self.bare_sign.per_core(),
            "peer: the signature alone",
        );
        match self.openssl {
            Some(o) => row(
                "openssl speed ecdsap256, sign",
                o.sign_per_s,
                "peer: raw signing",
            ),
            None => println!("  openssl speed: not measured"),
        }
        self.print_verification();
    }

    fn print_verification(&self) {
        let us = |rate: f64| 1e6 / rate.max(1e-9);
        let row = |label: &str, rate: f64, note: &str| {
            println!("  {label:<40} {rate:>8.0} /s {:>7.1} µs  {note}", us(rate));
        };
        println!("Verification");
        row(
            "verify_hc1: HC1: text → all checks",
            self.verify.per_core(),
            "ours: base45 → zlib → COSE → CWT → payload → signature → key usage, expiry",
        );
        row(
            "ring P-256 verify of the Sig_structure",
            self.bare_verify.per_core(),
            "peer: the signature check alone",
        );
        match &self.dgc {
            Some((d, ours)) => row(
                "dgc::validate (dgc 0.0.7, ring 0.16)",
                d.verified_per_s,
                &format!(
                    "peer: decode + signature, own process; ours in turns with it {:.0} /s",
                    ours.per_core()
                ),
            ),
            None => println!("  dgc::validate: not measured"),
        }
        if let Some(decode) = self.dgc.as_ref().and_then(|(d, _)| d.decoded_per_s) {
            row(
                "dgc::decode (no signature check)",
                decode,
                "peer: dgc's decoding alone",
            );
        }
        if let Some(o) = self.openssl {
            row(
                "openssl speed ecdsap256, verify",
                o.verify_per_s,
                "peer: raw verification",
            );
        }
        let overhead = us(self.verify.per_core()) - us(self.bare_verify.per_core());
        println!(
            "  verify_hc1 beyond the signature check: {overhead:.1} µs per certificate ({:.0} % of a bare check)",
            100.0 * overhead / us(self.bare_verify.per_core())
        );
        self.print_scaling();
    }

    fn print_scaling(&self) {
        let share = self.cpu_share().map_or_else(String::new, |s| {
            format!(
                "; our threads got {:.0} % of {} cores{}",
                100.0 * s,
                self.threads,
                if s < 0.9 {
                    " (the machine was busy)"
                } else {
                    ""
                }
            )
        });
        println!(
            "  verify_hc1 on {} threads: {:.0} /s (wall clock), {:.2}× one core{share}",
            self.threads,
            self.verify_all_cores.per_wall_second(),
            self.scaling()
        );
        self.print_targets();
    }

    fn print_targets(&self) {
        println!("Targets");
        for t in self.targets() {
            let value = t
                .value
                .map_or_else(|| "–".to_owned(), |v| format!("{v:.2}×"));
            let op = if t.at_most { "≤" } else { "≥" };
            println!(
                "  {:<64} {value:>6} (target {op} {:.2}×)  {}",
                t.name,
                t.threshold,
                t.verdict()
            );
        }
    }
}

fn progress(json: bool) -> ProgressBar {
    let bar = ProgressBar::new(6);
    if json {
        return bar;
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn bench(args: &CertBench) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = args.threads.map_or(cores, |t| t as usize);
    let bar = progress(args.json);
    let now = OffsetDateTime::now_utc();
    bar.set_message(format!(
        "throwaway CSCA + DSC, {} vaccination payloads",
        args.count
    ));
    let material = prepare(args, now)?;
    let (iat, exp) = (
        now.unix_timestamp(),
        (now + time::Duration::days(365)).unix_timestamp(),
    );
    let n = material.payloads.len();

    bar.inc(1);
    bar.set_message("issuing (issue_hcert) and a bare P-256 signature (ring), one thread");
    let (qrs, bare, issue, bare_sign) = issuing(&material, iat, exp, args.seconds)?;

    bar.inc(1);
    bar.set_message("verify_hc1 and a bare P-256 verification (ring), one thread");
    let at = OffsetDateTime::now_utc();
    let mut trust = TrustList::new();
    trust.add(material.dsc_der.clone());
    for qr in &qrs {
        let v = hcert::verify_hc1(qr, &trust, at);
        if !v.is_valid() {
            bail!(
                "our own certificate does not verify: {:?}",
                v.first_failure()
            );
        }
    }
    let mut ours = || {
        for qr in &qrs {
            anyhow::ensure!(
                hcert::verify_hc1(qr, &trust, at).is_valid(),
                "a certificate did not verify"
            );
        }
        Ok(())
    };
    let [verify, bare_verify] = alternating(
        args.seconds,
        n,
        [&mut ours, &mut || {
            for b in &bare {
                anyhow::ensure!(b.verify(), "a bare signature check failed");
            }
            Ok(())
        }],
    )?;

    bar.inc(1);
    bar.set_message(format!("verify_hc1, {threads} threads"));
    let verify_all_cores = verify_parallel(&qrs, &trust, at, threads, args.seconds)?;

    bar.inc(1);
    bar.set_message("dgc::validate (dgc-peer) and verify_hc1 in turns, one thread");
    let dgc = dgc_peer_path().and_then(|peer| {
        anyhow::ensure!(
            peer.exists(),
            "{} is missing (build it with `cargo build --release -p vaxtrace-bench-dgc`)",
            peer.display()
        );
        dgc_in_turns(&peer, &material.dsc_der, &qrs, args.seconds, &mut ours)
    });
    let dgc = dgc
        .map_err(|e| bar.suspend(|| eprintln!("dgc peer: skipped, {e:#}")))
        .ok();

    bar.inc(1);
    bar.set_message("openssl speed ecdsap256");
    let openssl = openssl_speed(args.seconds)
        .map_err(|e| bar.suspend(|| eprintln!("openssl peer: skipped, {e:#}")))
        .ok();
    bar.finish_and_clear();

    let results = Results {
        count: n,
        cores,
        threads,
        qr_chars_mean: qrs.iter().map(String::len).sum::<usize>() as f64 / n.max(1) as f64,
        issue,
        bare_sign,
        bare_verify,
        verify,
        verify_all_cores,
        dgc,
        openssl,
    };
    if args.json {
        println!("{}", results.to_json());
    } else {
        results.print();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `openssl speed -seconds 1 ecdsap256` of OpenSSL 3.0.19 on the benchmark machine, stdout.
    const OPENSSL_3_0: &str = "version: 3.0.19
built on: Fri Apr  3 12:29:32 2026 UTC
options: bn(64,64)
compiler: gcc -fPIC -pthread -m64 -Wa,--noexecstack -Wall -O2 -DNDEBUG
CPUINFO: OPENSSL_ia32cap=0xfffa3203078bffff:0x405fc6f1bf07ab
                              sign    verify    sign/s verify/s
 256 bits ecdsa (nistp256)   0.0000s   0.0001s  41396.0  13592.0
";

    #[test]
    fn reads_the_nistp256_row_of_openssl_speed() {
        assert_eq!(
            parse_openssl_speed(OPENSSL_3_0),
            Some(OpensslSpeed {
                sign_per_s: 41396.0,
                verify_per_s: 13592.0
            })
        );
        // OpenSSL 1.1 prints the same row after other curves when asked for several.
        let several = " 224 bits ecdsa (nistp224)   0.0001s   0.0001s  20000.0   9000.0\n \
            256 bits ecdsa (nistp256)   0.0000s   0.0001s  51449.2  16591.0\n";
        assert_eq!(
            parse_openssl_speed(several),
            Some(OpensslSpeed {
                sign_per_s: 51449.2,
                verify_per_s: 16591.0
            })
        );
    }

    #[test]
    fn refuses_openssl_output_without_a_usable_row() {
        for bad in [
            "",
            "Doing 256 bits sign ecdsa's for 1s: 40982 256 bits ECDSA signs in 0.99s",
            " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  41396.0",
            " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  41396.0  n/a",
            " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  0.0  13592.0",
            " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  41396.0  13592.0  7",
        ] {
            assert_eq!(parse_openssl_speed(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reads_the_peer_report() {
        let report = parse_peer_report(
            "{\"verified_per_s\": 11800.5, \"count\": 2000, \"verified\": 24000, \"seconds\": 2.03}\n",
        )
        .unwrap();
        assert!((report.verified_per_s - 11800.5).abs() < 1e-9);
        assert_eq!(report.count, 2000);
        for bad in ["", "\n\n", "oops", "{\"verified_per_s\": 0, \"count\": 1}"] {
            assert!(parse_peer_report(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xFB, 0xFF]), "+/8=");
    }

    fn rate(per_s: f64) -> Rate {
        Rate {
            operations: per_s as u64,
            wall: Duration::from_secs(1),
            cpu: Some(Duration::from_secs(1)),
        }
    }

    #[test]
    fn targets_pass_and_fail_on_their_side_of_the_threshold() {
        let mut r = Results {
            count: 10,
            cores: 2,
            threads: 2,
            qr_chars_mean: 500.0,
            issue: rate(40_000.0),
            bare_sign: rate(45_000.0),
            bare_verify: rate(16_000.0),
            verify: rate(14_000.0),
            verify_all_cores: rate(27_000.0),
            dgc: Some((
                PeerReport {
                    verified_per_s: 10_000.0,
                    count: 10,
                    wall_per_s: None,
                    decoded_per_s: None,
                },
                rate(14_000.0),
            )),
            openssl: Some(OpensslSpeed {
                sign_per_s: 50_000.0,
                verify_per_s: 16_000.0,
            }),
        };
        let passes = |r: &Results| r.targets().map(|t| t.pass());
        assert_eq!(passes(&r), [Some(true); 4]);
        r.verify = rate(13_100.0); // 16/13.1 = 1.22 > 1.15
        r.dgc.as_mut().unwrap().1 = rate(13_100.0); // 13.1/10 still beats 1.3
        r.issue = rate(39_000.0);
        r.verify_all_cores = rate(20_000.0); // 20/13.1 = 1.53 < 1.6
        assert_eq!(
            passes(&r),
            [Some(false), Some(true), Some(false), Some(false)]
        );
        r.dgc = None;
        r.openssl = None;
        assert_eq!(passes(&r)[1], None);
        assert_eq!(passes(&r)[2], None);
    }

    #[test]
    fn reads_schedstat_and_drops_cpu_time_that_makes_no_sense() {
        assert_eq!(
            parse_schedstat("531000013 31576684 90\n"),
            Some(Duration::from_nanos(531_000_013))
        );
        assert_eq!(parse_schedstat(""), None);
        assert_eq!(parse_schedstat("x 1 2"), None);
        let r = Rate {
            operations: 1000,
            wall: Duration::from_secs(2),
            cpu: Some(Duration::from_secs(1)),
        };
        assert!((r.per_core() - 1000.0).abs() < 1e-9);
        assert!((r.per_wall_second() - 500.0).abs() < 1e-9);
        assert!((Rate { cpu: None, ..r }.per_core() - 500.0).abs() < 1e-9);
    }
}
