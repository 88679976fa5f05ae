//! The StatsD line parser: borrowed, allocation-light and total (any bytes give a result).
//!
//! Accepted line (one or more per packet, separated by `\n`; `\r\n` tolerated):
//!
//! ```text
//! bucket[,tag=value...]:value|type[|@rate][|#tag:value,tag2:value2][:value|type...]
//! ```
//!
//! - `type` is `c` (counter), `g` (gauge), `s` (set), `ms` (timing) or `h` (histogram);
//! - a line may carry several values for the same bucket (`a:1|c:2|c`), each its own sample;
//! - DogStatsD tags (`|#k:v,k2:v2`, anywhere after the bucket) apply to the whole line; a tag
//!   without `:` has an empty value (CloudWatch cannot carry an empty dimension value, so the
//!   emitter leaves it out); influx-style tags in the bucket (`name,k=v`) are accepted too;
//! - a gauge value with a leading `+` or `-` is a *relative* change (StatsD convention);
//! - `@rate` must be a finite number > 0; counters are divided by it and timings/histograms
//!   get weight `1/rate`;
//! - the metric name is the bucket with every `.` replaced by the configured separator (the
//!   reference agent's default name template joins the dot-separated parts with
//!   `metric_separator`).
//!
//! Invariants: parsing never panics and never allocates more than the samples it returns
//! (tags); a malformed line yields exactly one [`ParseError`] and no samples, even when some
//! of its values were valid, so a line is either fully taken or fully counted as malformed.

/// CloudWatch's limit on a metric or dimension name.
pub const MAX_NAME_LEN: usize = 255;
/// CloudWatch's limit on a dimension value.
pub const MAX_VALUE_LEN: usize = 1024;
/// Most values accepted on one line.
const MAX_VALUES_PER_LINE: usize = 64;
/// Most tags accepted on one line (CloudWatch keeps at most 30 dimensions anyway).
const MAX_TAGS_PER_LINE: usize = 64;

/// A StatsD metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Counter,
    Gauge,
    Set,
    Timing,
    Histogram,
}

impl Kind {
    /// The `metric_type` dimension value.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Set => "set",
            Kind::Timing => "timing",
            Kind::Histogram => "histogram",
        }
    }

    /// One byte that identifies the kind inside a series key.
    pub(crate) fn tag_byte(self) -> u8 {
        match self {
            Kind::Counter => b'c',
            Kind::Gauge => b'g',
            Kind::Set => b's',
            Kind::Timing => b't',
            Kind::Histogram => b'h',
        }
    }

    fn from_type(t: &str) -> Option<Kind> {
        Some(match t {
            "c" => Kind::Counter,
            "g" => Kind::Gauge,
            "s" => Kind::Set,
            "ms" => Kind::Timing,
            "h" => Kind::Histogram,
            _ => return None,
        })
    }
}

/// One sample's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleValue<'a> {
    /// A counter increment, gauge value, timing or histogram value.
    Number(f64),
    /// A relative gauge change (`+3`, `-2`).
    Relative(f64),
    /// A set member (kept as text, as StatsD sets count distinct strings).
    Member(&'a str),
}

/// One parsed sample, borrowing from the line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// The bucket without influx-style tags (the separator is applied by the aggregator).
    pub bucket: &'a str,
    pub kind: Kind,
    pub value: SampleValue<'a>,
    /// Sample rate in (0, ∞); 1 when absent.
    pub rate: f64,
}

/// Why a line was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("line is not UTF-8")]
    NotUtf8,
    #[error("no ':' between bucket and value")]
    NoValue,
    #[error("empty or over-long bucket name")]
    BadBucket,
    #[error("no '|type' after the value")]
    NoType,
    #[error("unknown metric type")]
    BadType,
    #[error("value is not a finite number")]
    BadValue,
    #[error("bad sample rate")]
    BadRate,
    #[error("bad tag")]
    BadTag,
    #[error("too many values on one line")]
    TooManyValues,
}

/// One parsed line: its samples (sharing bucket and tags) and its tags.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Line<'a> {
    pub samples: Vec<Sample<'a>>,
    /// Influx-style bucket tags, then DogStatsD tags, in the order given.
    pub tags: Vec<(&'a str, &'a str)>,
}

impl<'a> Line<'a> {
    fn clear(&mut self) {
        self.samples.clear();
        self.tags.clear();
    }
}

/// Parse one line (without its trailing newline) into `out`, replacing what `out` held.
/// Returns `Ok(false)` for a blank line (nothing to count), `Ok(true)` for a good one.
pub fn parse_line<'a>(raw: &'a [u8], out: &mut Line<'a>) -> Result<bool, ParseError> {
    out.clear();
    let line = std::str::from_utf8(raw).map_err(|_| ParseError::NotUtf8)?;
    let line = line.trim();
    if line.is_empty() {
        return Ok(false);
    }
    let r = parse_str(line, out);
    if r.is_err() {
        out.clear();
    }
    r.map(|()| true)
}

fn parse_str<'a>(line: &'a str, out: &mut Line<'a>) -> Result<(), ParseError> {
    let colon = line.find(':').ok_or(ParseError::NoValue)?;
    let (bucket_part, rest) = (&line[..colon], &line[colon + 1..]);
    let mut bucket_iter = bucket_part.split(',');
    let bucket = bucket_iter.next().unwrap_or("").trim();
    if bucket.is_empty() || bucket.len() > MAX_NAME_LEN {
        return Err(ParseError::BadBucket);
    }
    for t in bucket_iter {
        let (k, v) = t.split_once('=').ok_or(ParseError::BadTag)?;
        push_tag(out, k, v)?;
    }
    // DogStatsD tags are whole `|#...` segments (they contain ':'), applying to the line. The
    // other '|' segments, read in order, are split on ':' into `value|type[|@rate]` items: the
    // first piece of a segment continues the current item, every further piece starts a new one.
    // Nothing is allocated for the samples' text.
    let mut item: [&'a str; 3] = [""; 3];
    let mut item_len = 0usize;
    for seg in rest.split('|') {
        if let Some(tags) = seg.strip_prefix('#') {
            for t in tags.split(',') {
                let t = t.trim();
                if t.is_empty() {
                    continue;
                }
                let (k, v) = t.split_once(':').unwrap_or((t, ""));
                push_tag(out, k, v)?;
            }
            continue;
        }
        for (n, piece) in seg.split(':').enumerate() {
            if n > 0 {
                build_sample(bucket, &item[..item_len], out)?;
                item_len = 0;
            }
            if item_len >= item.len() {
                return Err(ParseError::BadRate);
            }
            item[item_len] = piece;
            item_len += 1;
        }
    }
    build_sample(bucket, &item[..item_len], out)
}

fn push_tag<'a>(out: &mut Line<'a>, k: &'a str, v: &'a str) -> Result<(), ParseError> {
    let (k, v) = (k.trim(), v.trim());
    if k.is_empty()
        || k.len() > MAX_NAME_LEN
        || v.len() > MAX_VALUE_LEN
        || out.tags.len() >= MAX_TAGS_PER_LINE
    {
        return Err(ParseError::BadTag);
    }
    out.tags.push((k, v));
    Ok(())
}

fn build_sample<'a>(
    bucket: &'a str,
    item: &[&'a str],
    out: &mut Line<'a>,
) -> Result<(), ParseError> {
    let [value, kind, rest @ ..] = item else {
        return Err(ParseError::NoType);
    };
    let value = value.trim();
    let kind = Kind::from_type(kind.trim()).ok_or(ParseError::BadType)?;
    let rate = match rest.first() {
        None => 1.0,
        Some(r) => {
            let r = r.trim().strip_prefix('@').ok_or(ParseError::BadRate)?;
            let r: f64 = r.parse().map_err(|_| ParseError::BadRate)?;
            if !(r.is_finite() && r > 0.0) {
                return Err(ParseError::BadRate);
            }
            r
        }
    };
    let value = match kind {
        Kind::Set => {
            if value.is_empty() || value.len() > MAX_VALUE_LEN {
                return Err(ParseError::BadValue);
            }
            SampleValue::Member(value)
        }
        Kind::Gauge if value.starts_with('+') || value.starts_with('-') => {
            SampleValue::Relative(number(value)?)
        }
        _ => SampleValue::Number(number(value)?),
    };
    if out.samples.len() >= MAX_VALUES_PER_LINE {
        return Err(ParseError::TooManyValues);
    }
    out.samples.push(Sample {
        bucket,
        kind,
        value,
        rate,
    });
    Ok(())
}

fn number(s: &str) -> Result<f64, ParseError> {
    // Rust's float parser also takes "inf" and "NaN"; StatsD values must be finite.
    let v: f64 = s.parse().map_err(|_| ParseError::BadValue)?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ParseError::BadValue)
    }
}

/// Write `bucket` with every `.` replaced by `separator` into `out`.
pub fn write_name(bucket: &str, separator: &str, out: &mut String) {
    if separator == "." {
        out.push_str(bucket);
        return;
    }
    for (i, part) in bucket.split('.').enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Line<'_>, ParseError> {
        let mut l = Line::default();
        parse_line(s.as_bytes(), &mut l).map(|_| l)
    }

    fn one(s: &str) -> Sample<'_> {
        let l = parse(s).unwrap();
        assert_eq!(l.samples.len(), 1, "{s}");
        l.samples[0].clone()
    }

    #[test]
    fn every_type() {
        let c = one("hits:3|c");
        assert_eq!(
            (c.bucket, c.kind, c.value, c.rate),
            ("hits", Kind::Counter, SampleValue::Number(3.0), 1.0)
        );
        assert_eq!(one("g:-4.5|g").value, SampleValue::Relative(-4.5));
        assert_eq!(one("g:+4|g").value, SampleValue::Relative(4.0));
        assert_eq!(one("g:4|g").value, SampleValue::Number(4.0));
        assert_eq!(one("u:alice|s").value, SampleValue::Member("alice"));
        assert_eq!(one("t:12.5|ms").kind, Kind::Timing);
        assert_eq!(one("h:7|h").kind, Kind::Histogram);
        // A negative counter is just a negative increment.
        assert_eq!(one("c:-2|c").value, SampleValue::Number(-2.0));
    }

    #[test]
    fn rates_and_tags() {
        let s = one("c:1|c|@0.1");
        assert_eq!(s.rate, 0.1);
        let l = parse("t:5|ms|@0.5|#env:prod,region:eu-west-1,flag").unwrap();
        assert_eq!(l.samples[0].rate, 0.5);
        assert_eq!(
            l.tags,
            vec![("env", "prod"), ("region", "eu-west-1"), ("flag", "")]
        );
        // Tags before the rate, and influx-style bucket tags.
        let l = parse("req,svc=api:2|c|#code:200|@0.5").unwrap();
        assert_eq!(l.samples[0].bucket, "req");
        assert_eq!(l.samples[0].rate, 0.5);
        assert_eq!(l.tags, vec![("svc", "api"), ("code", "200")]);
        // Tag values may hold ':' beyond the first.
        let l = parse("x:1|g|#url:http://a").unwrap();
        assert_eq!(l.tags, vec![("url", "http://a")]);
    }

    #[test]
    fn several_values_per_line() {
        let l = parse("a:1|c:2|c|@0.5:3|ms").unwrap();
        let v: Vec<(Kind, f64)> = l.samples.iter().map(|s| (s.kind, s.rate)).collect();
        assert_eq!(
            v,
            vec![
                (Kind::Counter, 1.0),
                (Kind::Counter, 0.5),
                (Kind::Timing, 1.0)
            ]
        );
        let l = parse("a:1|c:2|ms|#k:v").unwrap();
        assert_eq!(l.samples.len(), 2);
        assert_eq!(l.tags, vec![("k", "v")]);
    }

    #[test]
    fn blank_and_whitespace() {
        assert_eq!(parse_line(b"", &mut Line::default()), Ok(false));
        assert_eq!(parse_line(b"  \r", &mut Line::default()), Ok(false));
        assert_eq!(one(" a:1|c\r").bucket, "a");
    }

    #[test]
    fn malformed() {
        let cases: &[(&[u8], ParseError)] = &[
            (b"nocolon", ParseError::NoValue),
            (b":1|c", ParseError::BadBucket),
            (b"a:1", ParseError::NoType),
            (b"a:1|x", ParseError::BadType),
            (b"a:|c", ParseError::BadValue),
            (b"a:abc|c", ParseError::BadValue),
            (b"a:inf|ms", ParseError::BadValue),
            (b"a:NaN|g", ParseError::BadValue),
            (b"a:1|c|0.5", ParseError::BadRate),
            (b"a:1|c|@0", ParseError::BadRate),
            (b"a:1|c|@-1", ParseError::BadRate),
            (b"a:1|c|@x", ParseError::BadRate),
            (b"a:1|c|@0.5|extra", ParseError::BadRate),
            (b"a,bad:1|c", ParseError::BadTag),
            (b"a:1|c|#:v", ParseError::BadTag),
            (b"a:|s", ParseError::BadValue),
            (b"a:1|c:oops", ParseError::NoType),
            (b"\xff\xfe:1|c", ParseError::NotUtf8),
        ];
        for (raw, want) in cases {
            let mut l = Line::default();
            assert_eq!(
                parse_line(raw, &mut l),
                Err(*want),
                "{}",
                String::from_utf8_lossy(raw)
            );
            assert!(l.samples.is_empty() && l.tags.is_empty());
        }
        let long = format!("{}:1|c", "n".repeat(MAX_NAME_LEN + 1));
        assert_eq!(parse(&long), Err(ParseError::BadBucket));
        let tags: Vec<String> = (0..=MAX_TAGS_PER_LINE).map(|i| format!("k{i}:v")).collect();
        let line = format!("a:1|c|#{}", tags.join(","));
        assert_eq!(parse(&line), Err(ParseError::BadTag));
        let many = format!("a{}", ":1|c".repeat(MAX_VALUES_PER_LINE + 1));
        assert_eq!(parse(&many), Err(ParseError::TooManyValues));
    }

    #[test]
    fn names_with_separator() {
        let mut s = String::new();
        write_name("a.b.c", "_", &mut s);
        assert_eq!(s, "a_b_c");
        s.clear();
        write_name("a.b", ".", &mut s);
        assert_eq!(s, "a.b");
        s.clear();
        write_name("plain", "::", &mut s);
        assert_eq!(s, "plain");
        s.clear();
        write_name("x.y", "::", &mut s);
        assert_eq!(s, "x::y");
    }
}
