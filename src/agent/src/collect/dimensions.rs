//! Dimensions shared by every plugin: `host`, `append_dimensions` and `${aws:...}` placeholders.
//!
//! Order of a datum's dimensions: `host` first (unless `agent.omit_hostname`), then the plugin's
//! own dimensions (e.g. `cpu`), then the plugin's `append_dimensions` (sorted by name), then the
//! metrics-level `append_dimensions`. Dimensions with an empty value are skipped, a name already
//! present is not repeated (first one wins), and at most 30 are kept (CloudWatch's limit).
//! Order does not change a metric's identity in CloudWatch; it only fixes what is sent.
//!
//! `${aws:VolumeId}` in the `disk` plugin's `append_dimensions` is not a metadata placeholder:
//! that plugin gives each device its EBS volume id (see `ebs`); it does not make the agent ask
//! the metadata service ([`has_placeholder`]).
//!
//! Placeholders: `${aws:InstanceId}`, `${aws:InstanceType}`, `${aws:ImageId}`,
//! `${aws:AvailabilityZone}` and `${aws:Region}` are replaced by the instance's metadata,
//! resolved once when the pipeline is built (as the reference agent does at translation time).
//! `${!aws:...}` means "ignore this dimension". A placeholder that cannot be resolved (not on EC2,
//! metadata disabled, unknown name) drops that dimension with a warning rather than sending the
//! literal text.
//!
//! Metrics-level `append_dimensions` follow the reference agent: only the exact pairs
//! `ImageId: ${aws:ImageId}`, `InstanceId: ${aws:InstanceId}`, `InstanceType: ${aws:InstanceType}`
//! and `AutoScalingGroupName: ${aws:AutoScalingGroupName}` take effect (other pairs are dropped
//! with a warning), and when at least one of them resolves, the
//! `host` dimension is removed from every datum, as the reference agent's tagger does. Unlike the
//! reference agent, nothing is dropped while metadata is unavailable: off EC2 the datums simply
//! keep `host`.

use hostwatch_model::Dimension;
use std::collections::BTreeMap;

/// CloudWatch's maximum number of dimensions per datum.
pub const MAX_DIMENSIONS: usize = 30;

/// The metrics-level `append_dimensions` pairs that take effect.
const GLOBAL_PAIRS: [(&str, &str); 4] = [
    ("ImageId", "${aws:ImageId}"),
    ("InstanceId", "${aws:InstanceId}"),
    ("InstanceType", "${aws:InstanceType}"),
    ("AutoScalingGroupName", "${aws:AutoScalingGroupName}"),
];

/// EC2 instance facts used to resolve `${aws:...}` placeholders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceMetadata {
    pub instance_id: String,
    pub instance_type: String,
    pub image_id: String,
    pub region: String,
    pub availability_zone: String,
    /// The `aws:autoscaling:groupName` tag, read from the metadata service's instance tags
    /// (empty when the instance is in no group or tag access in metadata is off).
    pub auto_scaling_group: String,
}

impl InstanceMetadata {
    /// The value for a placeholder name (`InstanceId`, ...), if known and non-empty.
    pub fn lookup(&self, name: &str) -> Option<&str> {
        let v = match name {
            "InstanceId" => &self.instance_id,
            "InstanceType" => &self.instance_type,
            "ImageId" => &self.image_id,
            "Region" => &self.region,
            "AvailabilityZone" => &self.availability_zone,
            "AutoScalingGroupName" => &self.auto_scaling_group,
            _ => return None,
        };
        (!v.is_empty()).then_some(v.as_str())
    }
}

/// The outcome of resolving one `append_dimensions` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Value(String),
    /// `${!aws:...}`: the user asked to leave this dimension out.
    Ignore,
    /// A placeholder that could not be resolved (named in the variant).
    Unresolved(String),
}

/// Replace every `${aws:NAME}` in `value` with instance metadata.
pub fn resolve_value(value: &str, metadata: Option<&InstanceMetadata>) -> Resolved {
    if value.contains("${!aws:") {
        return Resolved::Ignore;
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${aws:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "${aws:".len()..];
        let Some(end) = after.find('}') else {
            // An unterminated placeholder is kept as literal text.
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        match metadata.and_then(|m| m.lookup(name)) {
            Some(v) => out.push_str(v),
            None => return Resolved::Unresolved(format!("${{aws:{name}}}")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Resolved::Value(out)
}

/// Whether any value of `map` holds a `${aws:...}` placeholder that instance metadata can
/// resolve. `${aws:VolumeId}` is not one: the `disk` plugin answers it per device from sysfs
/// (see `ebs`), and nothing in the metadata can.
pub fn has_placeholder(map: &BTreeMap<String, String>) -> bool {
    map.values().any(|v| {
        v.split("${aws:")
            .skip(1)
            .any(|rest| !rest.starts_with("VolumeId}"))
    })
}

/// Resolve a plugin-level `append_dimensions` map (sorted by name).
pub fn resolve_plugin_dimensions(
    plugin: &str,
    map: &BTreeMap<String, String>,
    metadata: Option<&InstanceMetadata>,
) -> Vec<Dimension> {
    let mut out = Vec::with_capacity(map.len());
    for (name, value) in map {
        match resolve_value(value, metadata) {
            Resolved::Value(v) => out.push(Dimension::new(name.clone(), v)),
            Resolved::Ignore => {}
            Resolved::Unresolved(p) => tracing::warn!(
                plugin,
                dimension = %name,
                "append_dimensions: {p} cannot be resolved (no instance metadata); dimension left out"
            ),
        }
    }
    out
}

/// What every plugin shares: the `host` value and the metrics-level dimensions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostContext {
    /// The `host` dimension value; `None` when it is omitted.
    pub host: Option<String>,
    /// Metadata for placeholders, when available.
    pub metadata: Option<InstanceMetadata>,
    /// Resolved metrics-level `append_dimensions`.
    pub global: Vec<Dimension>,
}

impl HostContext {
    /// Build the context. `hostname` is `None` when `agent.omit_hostname` is set.
    pub fn new(
        hostname: Option<String>,
        metrics_append: &BTreeMap<String, String>,
        metadata: Option<InstanceMetadata>,
    ) -> Self {
        let mut global = Vec::new();
        for (name, value) in metrics_append {
            let effective = GLOBAL_PAIRS
                .iter()
                .any(|(n, v)| n == name && *v == value.trim());
            if !effective {
                if !value.contains("${!aws:") {
                    tracing::warn!(
                        dimension = %name,
                        "metrics.append_dimensions: only ImageId, InstanceId, InstanceType and AutoScalingGroupName with their ${{aws:...}} placeholders take effect; {name} ignored"
                    );
                }
                continue;
            }
            match resolve_value(value, metadata.as_ref()) {
                Resolved::Value(v) => global.push(Dimension::new(name.clone(), v)),
                Resolved::Ignore => {}
                Resolved::Unresolved(p) => tracing::warn!(
                    dimension = %name,
                    "metrics.append_dimensions: {p} cannot be resolved (no instance metadata); dimension left out"
                ),
            }
        }
        let host = if global.is_empty() { hostname } else { None };
        HostContext {
            host,
            metadata,
            global,
        }
    }
}

/// Assemble a datum's dimensions (see the module docs for the order and limits).
pub fn assemble(
    host: Option<&str>,
    plugin_dims: &[Dimension],
    appended: &[Dimension],
    global: &[Dimension],
) -> Vec<Dimension> {
    let mut out: Vec<Dimension> = Vec::with_capacity(
        usize::from(host.is_some()) + plugin_dims.len() + appended.len() + global.len(),
    );
    let mut push = |d: Dimension| {
        if out.len() < MAX_DIMENSIONS
            && !d.name.is_empty()
            && !d.value.is_empty()
            && !out.iter().any(|e| e.name == d.name)
        {
            out.push(d);
        }
    };
    if let Some(h) = host {
        push(Dimension::new("host", h));
    }
    for d in plugin_dims.iter().chain(appended).chain(global) {
        push(d.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md() -> InstanceMetadata {
        InstanceMetadata {
            instance_id: "i-0123".into(),
            instance_type: "t3.micro".into(),
            image_id: "ami-42".into(),
            region: "eu-west-1".into(),
            availability_zone: "eu-west-1a".into(),
            auto_scaling_group: "web-asg".into(),
        }
    }

    #[test]
    fn placeholders() {
        let m = md();
        assert_eq!(
            resolve_value("${aws:InstanceId}", Some(&m)),
            Resolved::Value("i-0123".into())
        );
        assert_eq!(
            resolve_value("x-${aws:InstanceType}-${aws:Region}", Some(&m)),
            Resolved::Value("x-t3.micro-eu-west-1".into())
        );
        assert_eq!(
            resolve_value("static", None),
            Resolved::Value("static".into())
        );
        assert_eq!(
            resolve_value("${!aws:InstanceId}", Some(&m)),
            Resolved::Ignore
        );
        assert_eq!(
            resolve_value("${aws:InstanceId}", None),
            Resolved::Unresolved("${aws:InstanceId}".into())
        );
        assert_eq!(
            resolve_value("${aws:Nope}", Some(&m)),
            Resolved::Unresolved("${aws:Nope}".into())
        );
        assert_eq!(
            resolve_value("${aws:Open", Some(&m)),
            Resolved::Value("${aws:Open".into())
        );
    }

    #[test]
    fn global_dimensions_replace_host() {
        let mut map = BTreeMap::new();
        map.insert("InstanceId".to_string(), "${aws:InstanceId}".to_string());
        map.insert(
            "AutoScalingGroupName".to_string(),
            "${aws:AutoScalingGroupName}".to_string(),
        );
        map.insert("Team".to_string(), "infra".to_string());
        let ctx = HostContext::new(Some("h1".into()), &map, Some(md()));
        assert_eq!(ctx.host, None);
        // BTreeMap order: AutoScalingGroupName, InstanceId.
        assert_eq!(
            ctx.global,
            vec![
                Dimension::new("AutoScalingGroupName", "web-asg"),
                Dimension::new("InstanceId", "i-0123")
            ]
        );
        // Off EC2 nothing resolves: host stays.
        let ctx = HostContext::new(Some("h1".into()), &map, None);
        assert_eq!(ctx.host.as_deref(), Some("h1"));
        assert!(ctx.global.is_empty());
    }

    #[test]
    fn assemble_orders_dedups_and_caps() {
        let plugin = vec![Dimension::new("cpu", "cpu0")];
        let appended = vec![
            Dimension::new("a", "1"),
            Dimension::new("cpu", "dup"),
            Dimension::new("empty", ""),
        ];
        let global = vec![Dimension::new("InstanceId", "i-1")];
        let d = assemble(Some("h"), &plugin, &appended, &global);
        let names: Vec<&str> = d.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, vec!["host", "cpu", "a", "InstanceId"]);
        assert_eq!(d[1].value, "cpu0");
        let many: Vec<Dimension> = (0..40)
            .map(|i| Dimension::new(format!("d{i}"), "v"))
            .collect();
        assert_eq!(assemble(Some("h"), &[], &many, &[]).len(), MAX_DIMENSIONS);
    }

    #[test]
    fn plugin_dimensions_resolve() {
        let mut map = BTreeMap::new();
        map.insert("Env".to_string(), "prod".to_string());
        map.insert("Iid".to_string(), "${aws:InstanceId}".to_string());
        map.insert("Skip".to_string(), "${!aws:ImageId}".to_string());
        assert!(has_placeholder(&map));
        let volume: BTreeMap<String, String> =
            [("VolumeId".to_string(), "${aws:VolumeId}".to_string())].into();
        assert!(
            !has_placeholder(&volume),
            "answered from sysfs, not metadata"
        );
        let mixed: BTreeMap<String, String> =
            [("V".to_string(), "${aws:VolumeId}/${aws:Region}".to_string())].into();
        assert!(has_placeholder(&mixed));
        assert!(!has_placeholder(
            &[("E".to_string(), "prod".to_string())].into()
        ));
        let d = resolve_plugin_dimensions("cpu", &map, Some(&md()));
        assert_eq!(
            d,
            vec![
                Dimension::new("Env", "prod"),
                Dimension::new("Iid", "i-0123")
            ]
        );
        let d = resolve_plugin_dimensions("cpu", &map, None);
        assert_eq!(d, vec![Dimension::new("Env", "prod")]);
    }
}
