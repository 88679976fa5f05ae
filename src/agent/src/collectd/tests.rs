//! Receiver-level tests: fuzz-style robustness and the source on a real loopback socket.

use super::aggregate::Aggregator;
use super::crypto::{encrypt_packet, sign_packet, AuthFile};
use super::parse::{PacketBuilder, SecurityLevel, Value};
use super::receiver::{Ingest, Naming, Stats};
use super::*;
use crate::config::CollectdConfig;
use hostwatch_model::DatumValue;
use rand::{Rng, RngCore, SeedableRng};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/collectd")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn fixtures() -> Vec<Vec<u8>> {
    [
        "none-known.bin",
        "sign-known.bin",
        "encrypt-known.bin",
        "none-plugins-0.bin",
        "sign-plugins-0.bin",
        "encrypt-plugins-0.bin",
    ]
    .iter()
    .map(|n| fixture(n))
    .collect()
}

fn ingest(level: SecurityLevel) -> Ingest {
    Ingest::new(
        level,
        Some(AuthFile::parse("alice: wonderland\n")),
        Naming {
            prefix: "collectd_".into(),
            types: TypesDb::builtin(),
            packet_host: true,
            agent_host: None,
            appended: vec![],
            global: vec![],
        },
        Arc::new(Mutex::new(Aggregator::new(60, 1))),
        Arc::new(Stats::default()),
    )
}

fn rejected(s: &Stats) -> u64 {
    s.malformed.load(Ordering::Relaxed)
        + s.bad_signature.load(Ordering::Relaxed)
        + s.decrypt_failed.load(Ordering::Relaxed)
        + s.unknown_user.load(Ordering::Relaxed)
}

#[test]
fn fuzz_random_bytes_never_panic_and_are_counted() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xC011EC7D);
    for level in [
        SecurityLevel::None,
        SecurityLevel::Sign,
        SecurityLevel::Encrypt,
    ] {
        let mut ing = ingest(level);
        let mut buf = vec![0u8; 1500];
        for _ in 0..20_000 {
            let n = rng.random_range(0..buf.len());
            rng.fill_bytes(&mut buf[..n]);
            ing.packet(&buf[..n], 0);
        }
        let s = &ing.stats;
        assert_eq!(s.packets.load(Ordering::Relaxed), 20_000);
        // Random bytes nearly always break the format somewhere.
        assert!(rejected(s) > 15_000, "{:?}", s.to_json());
    }
}

#[test]
fn fuzz_truncated_real_packets() {
    for level in [
        SecurityLevel::None,
        SecurityLevel::Sign,
        SecurityLevel::Encrypt,
    ] {
        let mut ing = ingest(level);
        for packet in fixtures() {
            let full = ing.packet(&packet, 0);
            for cut in 0..packet.len() {
                let r = ing.packet(&packet[..cut], 0);
                assert!(r.values <= full.values);
                // A cut inside a part is always reported; a cut between parts is a shorter,
                // valid packet.
                if r.error.is_none() && cut > 0 {
                    assert!(r.values <= full.values);
                }
            }
        }
        assert!(rejected(&ing.stats) > 0);
    }
}

#[test]
fn fuzz_mutated_real_packets() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let packets = fixtures();
    let mut ing = ingest(SecurityLevel::None);
    for _ in 0..20_000 {
        let mut p = packets[rng.random_range(0..packets.len())].clone();
        for _ in 0..rng.random_range(1..4) {
            let i = rng.random_range(0..p.len());
            p[i] = rng.random();
        }
        ing.packet(&p, 0);
    }
    // Every mutation of a signed or encrypted packet's covered bytes is caught.
    let mut sign = ingest(SecurityLevel::Sign);
    let signed = fixture("sign-known.bin");
    for i in 36..signed.len() {
        let mut p = signed.clone();
        p[i] ^= 0x40;
        let r = sign.packet(&p, 0);
        assert_eq!(r.values, 0, "byte {i}");
        assert!(r.error.is_some(), "byte {i}");
    }
    let mut enc = ingest(SecurityLevel::Encrypt);
    let encrypted = fixture("encrypt-known.bin");
    let header = 4 + 2 + 5 + 16;
    for i in header..encrypted.len() {
        let mut p = encrypted.clone();
        p[i] ^= 0x01;
        let r = enc.packet(&p, 0);
        assert_eq!(r.values, 0, "byte {i}");
    }
    assert_eq!(
        enc.stats.decrypt_failed.load(Ordering::Relaxed),
        (encrypted.len() - header) as u64
    );
}

#[test]
fn fuzz_structured_parts() {
    // Random sequences of well-formed and slightly broken parts, also inside crypto parts.
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut ing = ingest(SecurityLevel::None);
    for _ in 0..5_000 {
        let mut b = PacketBuilder::new();
        for _ in 0..rng.random_range(0..12) {
            b = match rng.random_range(0..6) {
                0 => b.string(rng.random_range(0..6), "x"),
                1 => b.number(rng.random_range(0..10), rng.random()),
                2 => b.values(&[Value::Gauge(rng.random()), Value::Counter(rng.random())]),
                3 => b.identity("h", rng.random(), "p", "", "gauge", ""),
                4 => {
                    let mut bytes = b.build();
                    let n = rng.random_range(0..8);
                    bytes.extend((0..n).map(|_| rng.random::<u8>()));
                    PacketBuilder { bytes }
                }
                _ => b.values(&[]),
            };
        }
        let payload = b.build();
        let p = match rng.random_range(0..3) {
            0 => payload,
            1 => sign_packet("alice", "wonderland", &payload),
            _ => encrypt_packet("alice", "wonderland", rng.random(), &payload),
        };
        ing.packet(&p, 0);
    }
    assert_eq!(ing.stats.packets.load(Ordering::Relaxed), 5_000);
}

#[test]
fn service_addresses() {
    assert_eq!(
        bind_address("udp://127.0.0.1:25826").unwrap(),
        "127.0.0.1:25826"
    );
    assert_eq!(bind_address("udp://:25826").unwrap(), "0.0.0.0:25826");
    assert_eq!(bind_address("udp6://:25826").unwrap(), "[::]:25826");
    assert_eq!(bind_address("localhost:1").unwrap(), "localhost:1");
    assert!(bind_address("tcp://127.0.0.1:25826").is_err());
    assert!(bind_address("udp://127.0.0.1").is_err());
    assert!(bind_address("udp://127.0.0.1:99999").is_err());
}

#[test]
fn missing_types_db_falls_back_to_builtin() {
    let db = load_types(&["/nonexistent/types.db".to_string()]);
    assert_eq!(db.names("load").map(<[String]>::len), Some(3));
}

fn config(port: u16, level: &str, auth: &Path, aggregation: u64) -> CollectdConfig {
    CollectdConfig {
        service_address: format!("udp://127.0.0.1:{port}"),
        name_prefix: "collectd_".into(),
        collectd_auth_file: auth.display().to_string(),
        collectd_security_level: level.into(),
        collectd_typesdb: vec!["/nonexistent/types.db".into()],
        metrics_aggregation_interval: aggregation,
        append_dimensions: Default::default(),
        drop_original_metrics: vec![],
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A plain packet stamped `now`: if_octets rx/tx of eth0 and the three load averages.
fn fresh(now: u64) -> Vec<u8> {
    PacketBuilder::new()
        .identity("web-1", now, "interface", "eth0", "if_octets", "")
        .values(&[Value::Derive(100), Value::Derive(200)])
        .identity("web-1", now, "load", "", "load", "")
        .values(&[Value::Gauge(0.5), Value::Gauge(0.25), Value::Gauge(0.125)])
        .build()
}

fn free_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

#[tokio::test]
async fn source_receives_over_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth_file");
    std::fs::write(&auth, "alice: wonderland\n").unwrap();
    let port = free_port();
    let ctx = HostContext {
        host: Some("agent-host".into()),
        ..Default::default()
    };
    let mut src = CollectdSource::start(
        &config(port, "sign", &auth, 0),
        &ctx,
        10,
        Some(dir.path()),
        Path::new("/proc"),
    )
    .unwrap();
    assert_eq!(src.interval_secs(), 10);
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let stats = src.stats();
    let now = now_secs();
    let signed = sign_packet("alice", "wonderland", &fresh(now));
    // The receiver binds in its task: send until the signed packet is accepted.
    let mut accepted = false;
    for _ in 0..100 {
        tx.send_to(&signed, ("127.0.0.1", port)).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        if stats.values.load(Ordering::Relaxed) > 0 {
            accepted = true;
            break;
        }
    }
    assert!(accepted);
    let sent_before = stats.packets.load(Ordering::Relaxed);
    // Unsigned and wrongly signed packets are rejected and counted; so is a well-signed packet
    // from 2023 (CloudWatch would refuse values that old).
    tx.send_to(&fresh(now), ("127.0.0.1", port)).unwrap();
    tx.send_to(
        &sign_packet("alice", "not-the-password", &fresh(now)),
        ("127.0.0.1", port),
    )
    .unwrap();
    tx.send_to(&[1, 2, 3], ("127.0.0.1", port)).unwrap();
    tx.send_to(&fixture("sign-known.bin"), ("127.0.0.1", port))
        .unwrap();
    let stats_file = dir.path().join(STATS_FILE);
    let mut seen = serde_json::Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Ok(text) = std::fs::read_to_string(&stats_file) {
            seen = serde_json::from_str(&text).unwrap();
            if seen["packets_received"].as_u64() >= Some(sent_before + 4) {
                break;
            }
        }
    }
    assert_eq!(seen["packets_security_rejected"], 1, "{seen}");
    assert_eq!(seen["packets_bad_signature"], 1, "{seen}");
    assert_eq!(seen["packets_malformed"], 1, "{seen}");
    assert_eq!(seen["values_out_of_range"], 9, "{seen}");
    assert_eq!(seen["security_level"], "sign");
    assert_eq!(seen["listening"], format!("127.0.0.1:{port}"));
    let values = seen["values_received"].as_u64().unwrap();
    let mut out = Vec::new();
    src.collect(0, &mut out).unwrap();
    assert_eq!(out.len() as u64, values);
    assert_eq!(values % 5, 0, "whole packets of 5 values");
    let load = out
        .iter()
        .find(|d| d.metric_name == "collectd_load_shortterm")
        .map(|d| d.value.clone());
    assert_eq!(load, Some(DatumValue::Single(0.5)));
    let rx = out
        .iter()
        .find(|d| d.metric_name == "collectd_interface_rx")
        .map(|d| (d.value.clone(), d.timestamp_ms, d.dimensions.len()));
    assert_eq!(
        rx,
        Some((DatumValue::Single(100.0), Some(now as i64 * 1000), 3))
    );
    assert!(out.iter().all(|d| d.storage_resolution == 1));
    drop(src);
    // The port is free again once the source is gone.
    let mut rebound = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            rebound = true;
            break;
        }
    }
    assert!(rebound);
}

#[tokio::test]
async fn bad_configs_are_errors() {
    let ctx = HostContext::default();
    let mut cfg = config(1, "none", Path::new("/nonexistent"), 60);
    cfg.service_address = "tcp://127.0.0.1:1".into();
    assert!(matches!(
        CollectdSource::start(&cfg, &ctx, 60, None, Path::new("/proc")),
        Err(CollectdError::Address(_))
    ));
    let cfg = config(1, "paranoid", Path::new("/nonexistent"), 60);
    assert!(matches!(
        CollectdSource::start(&cfg, &ctx, 60, None, Path::new("/proc")),
        Err(CollectdError::SecurityLevel(_))
    ));
}

#[test]
fn needs_a_runtime() {
    let cfg = config(1, "none", Path::new("/nonexistent"), 60);
    assert!(matches!(
        CollectdSource::start(&cfg, &HostContext::default(), 60, None, Path::new("/proc")),
        Err(CollectdError::NoRuntime)
    ));
}

#[tokio::test]
async fn a_new_receiver_takes_over_the_port_of_a_dropped_one() {
    // What a configuration reload does: the new source starts before the old one is dropped.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(port, "none", &dir.path().join("no-auth"), 0);
    let ctx = HostContext::default();
    let old = CollectdSource::start(&cfg, &ctx, 1, None, Path::new("/proc")).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut new = CollectdSource::start(&cfg, &ctx, 1, None, Path::new("/proc")).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(old);
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let stats = new.stats();
    let mut got = false;
    for _ in 0..100 {
        tx.send_to(&fresh(now_secs()), ("127.0.0.1", port)).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        if stats.values.load(Ordering::Relaxed) > 0 {
            got = true;
            break;
        }
    }
    assert!(got, "the new receiver never bound the port");
    let mut out = Vec::new();
    new.collect(0, &mut out).unwrap();
    assert!(out
        .iter()
        .any(|d| d.metric_name == "collectd_load_shortterm"));
}
