//! SIGKILL at arbitrary instants: the test re-runs its own binary as a
//! writer child (appending, acking, syncing and printing what it did),
//! kills it after a varying amount of output, reopens the spool and
//! checks that nothing the child completed was lost or damaged. Several
//! rounds run on the same directory, each child continuing the last one's
//! spool.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::{Seq, Spool, SpoolError, SpoolOptions};

const ENV_DIR: &str = "HOSTWATCH_SPOOL_CRASH_DIR";
const ENV_START: &str = "HOSTWATCH_SPOOL_CRASH_START";

const OPTS: SpoolOptions = SpoolOptions {
    max_bytes: 256 << 10,
    segment_bytes: 8 << 10,
};

/// Payload number `i`: its index then bytes derived from it, so any
/// damage or mix-up is detectable.
fn payload(i: u64) -> Vec<u8> {
    let len = 8 + (i * 7919 % 600) as usize;
    let mut p = i.to_le_bytes().to_vec();
    p.extend((8..len).map(|j| (i as usize * 31 + j) as u8));
    p
}

fn valid_payload(p: &[u8]) -> bool {
    let Some(head) = p.get(0..8) else {
        return false;
    };
    let i = u64::from_le_bytes(head.try_into().unwrap());
    payload(i) == p
}

/// Tells the parent what the child did, as one `write` per line on
/// stderr (the test harness writes its own text to stdout), so a kill
/// never leaves half a line.
fn report(what: char, seq: Seq) {
    let line = format!("{what} {seq}\n");
    std::io::stderr().write_all(line.as_bytes()).unwrap();
}

/// The writer child; does nothing unless started by the parent test.
#[test]
#[ignore]
fn crash_child() {
    let Ok(dir) = std::env::var(ENV_DIR) else {
        return;
    };
    let start: u64 = std::env::var(ENV_START).unwrap().parse().unwrap();
    let mut s = Spool::open(Path::new(&dir), OPTS).unwrap();
    for i in start..start + 1_000_000 {
        loop {
            match s.append(&payload(i)) {
                Ok(seq) => {
                    report('A', seq);
                    break;
                }
                Err(SpoolError::Full { .. }) => {
                    for seq in s.peek_after(None, 8) {
                        report('K', seq);
                        s.ack(seq).unwrap();
                    }
                }
                Err(e) => panic!("{e}"),
            }
        }
        if i % 3 == 0 {
            // Ack out of order: the second-oldest pending record.
            if let Some(&seq) = s.peek_after(None, 2).last() {
                report('K', seq);
                s.ack(seq).unwrap();
            }
        }
        if i % 16 == 0 {
            s.sync().unwrap();
        }
    }
}

#[test]
fn sigkill_at_arbitrary_points_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut pending: BTreeSet<Seq> = BTreeSet::new();
    let mut next_index = 0u64;
    for (round, stop_after) in [700usize, 1900, 150, 3100, 1200].into_iter().enumerate() {
        let mut child = Command::new(&exe)
            .args([
                "queue::crash_tests::crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .args(["--test-threads=1"])
            .env(ENV_DIR, dir.path())
            .env(ENV_START, next_index.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut appended = BTreeSet::new();
        let mut ack_intents = BTreeSet::new();
        let mut lines = 0;
        let mut killed = false;
        // Read until `stop_after` lines, kill, then drain what the child
        // printed before it died: every ack is announced before it is made.
        for line in BufReader::new(child.stderr.take().unwrap()).lines() {
            let Ok(line) = line else { break };
            let mut parts = line.split(' ');
            match (
                parts.next(),
                parts.next().and_then(|n| n.parse::<Seq>().ok()),
            ) {
                (Some("A"), Some(seq)) => appended.insert(seq),
                (Some("K"), Some(seq)) => ack_intents.insert(seq),
                _ => continue,
            };
            lines += 1;
            if lines == stop_after {
                child.kill().unwrap();
                killed = true;
            }
        }
        child.wait().unwrap();
        assert!(
            killed,
            "round {round}: child ended early after {lines} lines"
        );

        let s = Spool::open(dir.path(), OPTS).unwrap();
        let report = *s.recovery_report();
        assert_eq!(report.corrupt_records, 0, "round {round}: {report:?}");
        let now: BTreeSet<Seq> = s.pending().collect();
        // Every record known to be appended and never (maybe) acked is still there.
        let must: BTreeSet<Seq> = pending
            .union(&appended)
            .copied()
            .filter(|q| !ack_intents.contains(q))
            .collect();
        let missing: Vec<&Seq> = must.difference(&now).collect();
        assert!(missing.is_empty(), "round {round}: lost {missing:?}");
        // Nothing unknown appeared, except the one append in flight at the kill.
        let known: BTreeSet<Seq> = pending.union(&appended).copied().collect();
        let extra: Vec<&Seq> = now.difference(&known).collect();
        assert!(extra.len() <= 1, "round {round}: unexpected {extra:?}");
        let mut max_index = next_index;
        for &seq in &now {
            let p = s.read(seq).unwrap();
            assert!(valid_payload(&p), "round {round}: record {seq} damaged");
            let i = u64::from_le_bytes(p[0..8].try_into().unwrap());
            max_index = max_index.max(i + 1);
        }
        pending = now;
        next_index = max_index.max(next_index + appended.len() as u64 + 1);
    }
}
