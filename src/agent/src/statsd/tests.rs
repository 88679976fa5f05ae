//! Source-level tests (real sockets on 127.0.0.1) and the fuzz-style parser test.

use super::aggregate::Gather;
use super::parse::{parse_line, Line};
use super::*;
use rand::{Rng, SeedableRng};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(port: u16, aggregation: u64) -> StatsdConfig {
    StatsdConfig {
        service_address: format!("127.0.0.1:{port}"),
        metrics_collection_interval: 10,
        metrics_aggregation_interval: aggregation,
        metric_separator: "_".into(),
        allowed_pending_messages: 10_000,
        drop_original_metrics: vec![],
    }
}

fn ctx() -> HostContext {
    HostContext {
        host: Some("h1".into()),
        ..Default::default()
    }
}

fn send_and_wait(src: &StatsdSource, port: u16, packets: &[&str]) {
    let t = Instant::now();
    while !src.receiver.is_bound() {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = src.stats();
    let c = UdpSocket::bind("127.0.0.1:0").unwrap();
    for p in packets {
        c.send_to(p.as_bytes(), ("127.0.0.1", port)).unwrap();
    }
    let n = packets.len() as u64;
    while {
        let s = src.stats();
        s.packets < before.packets + n || s.pending > 0
    } {
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", src.stats());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn dims(d: &MetricDatum) -> Vec<(String, String)> {
    d.dimensions
        .iter()
        .map(|x| (x.name.clone(), x.value.clone()))
        .collect()
}

fn find<'a>(out: &'a [MetricDatum], name: &str) -> Vec<&'a MetricDatum> {
    out.iter().filter(|d| d.metric_name == name).collect()
}

#[test]
fn no_aggregation_emits_each_interval() {
    let port = free_port();
    let mut src = StatsdSource::new(&config(port, 0), &ctx(), None);
    let mut out = Vec::new();
    // The loop's priming call takes nothing.
    src.collect(0, &mut out).unwrap();
    send_and_wait(
        &src,
        port,
        &[
            "req.count:1|c|#route:/a,code:200\nreq.count:1|c|@0.5|#code:200,route:/a",
            "temp:20|g\ntemp:+1.5|g",
            "users:a|s\nusers:b|s\nusers:a|s",
            "lat:10|ms\nlat:20|ms\nlat:10|ms|@0.25",
            "size:3|h",
            "broken\n",
        ],
    );
    src.collect(10_000, &mut out).unwrap();
    assert_eq!(out.len(), 5, "{out:#?}");
    let c = find(&out, "req_count")[0];
    assert_eq!(c.value, DatumValue::Single(3.0));
    assert_eq!(c.unit, Unit::None);
    assert_eq!(c.storage_resolution, 1);
    assert_eq!(c.timestamp_ms, Some(10_000));
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        dims(c),
        vec![
            s("host", "h1"),
            s("code", "200"),
            s("metric_type", "counter"),
            s("route", "/a")
        ]
    );
    assert_eq!(find(&out, "temp")[0].value, DatumValue::Single(21.5));
    assert_eq!(find(&out, "users")[0].value, DatumValue::Single(2.0));
    assert_eq!(
        find(&out, "lat")[0].value,
        DatumValue::distribution_with_stats(vec![10.0, 20.0], vec![5.0, 1.0])
    );
    assert_eq!(
        dims(find(&out, "size")[0])[1],
        s("metric_type", "histogram")
    );
    assert_eq!(src.stats().malformed, 1);
    // Everything was reset: an empty interval emits nothing.
    out.clear();
    src.collect(20_000, &mut out).unwrap();
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn aggregation_windows_and_split() {
    let port = free_port();
    let mut cfg = config(port, 60);
    cfg.metric_separator = ".".into();
    let mut src = StatsdSource::new(&cfg, &HostContext::default(), None);
    let mut out = Vec::new();
    src.collect(0, &mut out).unwrap();
    // Interval 1 of window [60 s, 120 s): 200 distinct timings and a counter.
    let timings: Vec<String> = (0..200).map(|i| format!("t.x:{i}|ms")).collect();
    let mut packets: Vec<&str> = timings.iter().map(String::as_str).collect();
    packets.push("c:2|c");
    send_and_wait(&src, port, &packets);
    src.collect(60_000, &mut out).unwrap();
    assert!(out.is_empty());
    // Interval 2, same window.
    send_and_wait(&src, port, &["c:3|c", "t.x:0|ms"]);
    src.collect(70_000, &mut out).unwrap();
    assert!(out.is_empty());
    // The window closes at 120 s.
    src.collect(120_000, &mut out).unwrap();
    let t = find(&out, "t.x");
    assert_eq!(t.len(), 2, "split at 150 distinct values");
    let stats: Vec<_> = t.iter().map(|d| d.value.to_statistic_set()).collect();
    assert_eq!(stats[0].sample_count + stats[1].sample_count, 201.0);
    assert_eq!(stats[0].minimum, 0.0);
    assert_eq!(stats[1].maximum, 199.0);
    assert!(t.iter().all(|d| d.timestamp_ms == Some(60_000)));
    assert!(t.iter().all(|d| d.storage_resolution == 60));
    let c = find(&out, "c")[0];
    assert_eq!(
        c.value,
        DatumValue::distribution_with_stats(vec![2.0, 3.0], vec![1.0, 1.0])
    );
    assert_eq!(
        dims(c),
        vec![("metric_type".to_string(), "counter".to_string())]
    );
}

#[test]
fn short_aggregation_is_high_resolution() {
    let port = free_port();
    let mut src = StatsdSource::new(&config(port, 10), &ctx(), None);
    let mut out = Vec::new();
    src.collect(0, &mut out).unwrap();
    send_and_wait(&src, port, &["g:5|g"]);
    src.collect(10_000, &mut out).unwrap();
    src.collect(20_000, &mut out).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].storage_resolution, 1);
    assert_eq!(out[0].timestamp_ms, Some(10_000));
}

/// A tiny deterministic generator of valid lines.
fn valid_line(rng: &mut impl Rng) -> String {
    let name = ["a", "b.c", "req.latency", "x_y"][rng.random_range(0..4)];
    let ty = ["c", "g", "s", "ms", "h"][rng.random_range(0..5)];
    let value = match ty {
        "s" => format!("m{}", rng.random_range(0..5)),
        "g" if rng.random_bool(0.3) => format!("-{}", rng.random_range(0..100)),
        _ => format!("{}", rng.random_range(0..1000)),
    };
    let mut l = format!("{name}:{value}|{ty}");
    if rng.random_bool(0.3) {
        l.push_str("|@0.5");
    }
    if rng.random_bool(0.3) {
        l.push_str("|#env:prod,k:v");
    }
    l
}

#[test]
fn fuzz_random_and_truncated_packets() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5747_5344);
    let mut g = Gather::default();
    let (mut good, mut bad) = (0u64, 0u64);
    let mut run = |bytes: &[u8], g: &mut Gather| {
        let mut l = Line::default();
        for raw in bytes.split(|&b| b == b'\n') {
            match parse_line(raw, &mut l) {
                Ok(true) => {
                    g.add_line(&l, "_");
                    good += 1;
                }
                Ok(false) => {}
                Err(_) => bad += 1,
            }
        }
    };
    for i in 0..20_000 {
        // Random bytes, biased towards the format's own characters.
        let len = rng.random_range(0..200);
        let alphabet = b"ab.:|@#,=+-0123456789cgsmh \n\r\xff\x00";
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.random_bool(0.8) {
                    alphabet[rng.random_range(0..alphabet.len())]
                } else {
                    rng.random()
                }
            })
            .collect();
        run(&bytes, &mut g);
        // Every truncation of a valid multi-line packet.
        if i % 20 == 0 {
            let packet: Vec<String> = (0..3).map(|_| valid_line(&mut rng)).collect();
            let packet = packet.join("\n");
            for cut in 0..=packet.len() {
                run(&packet.as_bytes()[..cut], &mut g);
            }
        }
        if i % 1000 == 0 {
            let _ = g.drain();
        }
    }
    assert!(good > 1000, "good {good}");
    assert!(bad > 10_000, "bad {bad}");
    // Drained values are always finite.
    for (_, v) in g.drain() {
        match v {
            Drained::Single(x) => assert!(x.is_finite()),
            Drained::Dist(p) => assert!(p.iter().all(|(a, b)| a.is_finite() && b.is_finite())),
        }
    }
}

#[test]
fn fuzz_over_the_socket_never_stalls() {
    let port = free_port();
    let src = StatsdSource::new(&config(port, 0), &ctx(), None);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let packets: Vec<Vec<u8>> = (0..500)
        .map(|_| {
            let len = rng.random_range(0..1500);
            (0..len).map(|_| rng.random()).collect()
        })
        .collect();
    let t = Instant::now();
    while !src.receiver.is_bound() {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(10));
    }
    let c = UdpSocket::bind("127.0.0.1:0").unwrap();
    for p in &packets {
        c.send_to(p, ("127.0.0.1", port)).unwrap();
    }
    // Let every garbage packet be accounted for (taken or dropped by the kernel) first, so the
    // wait below is for the valid packet and not for a late piece of garbage.
    let sent = packets.len() as u64;
    while {
        let s = src.stats();
        s.packets + s.kernel_dropped < sent || s.pending > 0
    } {
        assert!(t.elapsed() < Duration::from_secs(20), "{:?}", src.stats());
        std::thread::sleep(Duration::from_millis(10));
    }
    // A valid packet after the garbage is still taken.
    send_and_wait(&src, port, &["after:1|c"]);
    let s = src.stats();
    assert!(s.malformed > 0);
    assert!(s.lines >= 1);
    let d = src.receiver.drain();
    assert!(d.iter().any(|(id, _)| id.name == "after"));
}
