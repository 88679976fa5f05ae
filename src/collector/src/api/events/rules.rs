//! PutRule, DescribeRule, ListRules, ListRuleNamesByTarget, EnableRule, DisableRule,
//! DeleteRule.

use hostwatch_aws::{ApiError, Shape};
use serde_json::Value;

use super::common::{
    bus_name, check_name, constraint, internal, invalid_pattern, not_found, opt_str, page, req_str,
    validation,
};
use super::EventsApi;
use crate::events::model::{Rule, RuleState, DEFAULT_BUS};
use crate::events::schedule::Schedule;
use crate::events::{matching, RuleEntry};
use crate::store::events::Job;

/// Longest EventPattern.
pub const MAX_PATTERN_CHARS: usize = 4096;

/// The "Rule X does not exist on EventBus Y." error.
pub fn rule_not_found(name: &str, bus: &str) -> ApiError {
    not_found(format!("Rule {name} does not exist on EventBus {bus}."))
}

/// The rule named by `name` on `bus`, cloned.
pub fn get_rule(api: &EventsApi, bus: &str, name: &str) -> Result<Rule, ApiError> {
    api.service.with_config(|c| {
        if !c.bus_exists(bus) {
            return Err(not_found(format!("Event bus {bus} does not exist.")));
        }
        c.rules
            .get(&(bus.to_string(), name.to_string()))
            .map(|e| e.rule.clone())
            .ok_or_else(|| rule_not_found(name, bus))
    })
}

/// Validate and compile an EventPattern.
pub fn compile_pattern(pattern: &str) -> Result<matching::Compiled, ApiError> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(constraint(
            pattern,
            "eventPattern",
            "Member must have length less than or equal to 4096",
        ));
    }
    matching::compile(pattern).map_err(|r| invalid_pattern(&r))
}

/// PutRule (creates or replaces every field but the targets).
pub async fn put(api: &EventsApi, input: Value, now_ms: i64) -> Result<Option<Shape>, ApiError> {
    let name = req_str(&input, "Name", "name")?;
    check_name(name, "name")?;
    let bus = bus_name(&input)?;
    let pattern = opt_str(&input, "EventPattern")?;
    let schedule_expr = opt_str(&input, "ScheduleExpression")?;
    let description = opt_str(&input, "Description")?;
    let state = match opt_str(&input, "State")? {
        None => RuleState::Enabled,
        Some(s) => RuleState::parse(s).ok_or_else(|| {
            constraint(
                s,
                "state",
                "Member must satisfy enum value set: [ENABLED, DISABLED, \
                 ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
            )
        })?,
    };
    if description.is_some_and(|d| d.chars().count() > 512) {
        return Err(constraint(
            description.unwrap_or_default(),
            "description",
            "Member must have length less than or equal to 512",
        ));
    }
    if pattern.is_none() && schedule_expr.is_none() {
        return Err(validation(
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        ));
    }
    let compiled = pattern.map(compile_pattern).transpose()?;
    let schedule = match schedule_expr {
        None => None,
        Some(e) => {
            if e.chars().count() > 256 {
                return Err(constraint(
                    e,
                    "scheduleExpression",
                    "Member must have length less than or equal to 256",
                ));
            }
            if bus != DEFAULT_BUS {
                return Err(validation(
                    "ScheduleExpression is supported only on the default event bus.",
                ));
            }
            Some(
                Schedule::parse(e)
                    .ok_or_else(|| validation("Parameter ScheduleExpression is not valid."))?,
            )
        }
    };
    let s = &api.service;
    let _ddl = s.ddl().await;
    let previous = s.with_config(|c| {
        if !c.bus_exists(&bus) {
            return Err(not_found(format!("Event bus {bus} does not exist.")));
        }
        Ok(c.rules
            .get(&(bus.clone(), name.to_string()))
            .map(|e| e.rule.clone()))
    })?;
    let rule = Rule {
        bus: bus.clone(),
        name: name.to_string(),
        event_pattern: pattern.map(str::to_string),
        schedule: schedule_expr.map(str::to_string),
        state,
        description: description.map(str::to_string),
        role_arn: opt_str(&input, "RoleArn")?.map(str::to_string),
        created_ms: previous.as_ref().map_or(now_ms, |p| p.created_ms),
        targets: previous.map(|p| p.targets).unwrap_or_default(),
    };
    let entry = RuleEntry {
        rule: rule.clone(),
        pattern: compiled,
        schedule,
    };
    s.change(Job::PutRule(Box::new(rule)), |c| {
        c.rules.insert((bus.clone(), name.to_string()), entry);
    })
    .await
    .map_err(internal)?;
    Ok(Some(Shape::obj().with("RuleArn", s.rule_arn(&bus, name))))
}

fn rule_shape(api: &EventsApi, r: &Rule, created_by: bool) -> Shape {
    let shape = Shape::obj()
        .with("Name", r.name.as_str())
        .with("Arn", api.service.rule_arn(&r.bus, &r.name))
        .with_opt("EventPattern", r.event_pattern.clone())
        .with_opt("ScheduleExpression", r.schedule.clone())
        .with("State", r.state.as_str())
        .with_opt("Description", r.description.clone())
        .with_opt("RoleArn", r.role_arn.clone())
        .with("EventBusName", r.bus.as_str());
    if created_by {
        shape.with("CreatedBy", api.service.account())
    } else {
        shape
    }
}

/// DescribeRule.
pub fn describe(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let name = req_str(&input, "Name", "name")?;
    let bus = bus_name(&input)?;
    let rule = get_rule(api, &bus, name)?;
    Ok(Some(rule_shape(api, &rule, true)))
}

/// ListRules.
pub fn list(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let prefix = opt_str(&input, "NamePrefix")?.unwrap_or("");
    let bus = bus_name(&input)?;
    let rules: Vec<Rule> = api.service.with_config(|c| {
        if !c.bus_exists(&bus) {
            return Err(not_found(format!("Event bus {bus} does not exist.")));
        }
        Ok(c.rules
            .values()
            .filter(|e| e.rule.bus == bus && e.rule.name.starts_with(prefix))
            .map(|e| e.rule.clone())
            .collect())
    })?;
    let (items, next) = page(&rules, &input, 100)?;
    Ok(Some(
        Shape::obj()
            .with(
                "Rules",
                Shape::List(items.iter().map(|r| rule_shape(api, r, false)).collect()),
            )
            .with_opt("NextToken", next),
    ))
}

/// ListRuleNamesByTarget.
pub fn names_by_target(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let arn = req_str(&input, "TargetArn", "targetArn")?;
    let bus = bus_name(&input)?;
    let names: Vec<String> = api.service.with_config(|c| {
        c.rules
            .values()
            .filter(|e| e.rule.bus == bus && e.rule.targets.iter().any(|t| t.arn == arn))
            .map(|e| e.rule.name.clone())
            .collect()
    });
    let (items, next) = page(&names, &input, 100)?;
    Ok(Some(
        Shape::obj()
            .with("RuleNames", Shape::list(items))
            .with_opt("NextToken", next),
    ))
}

/// EnableRule / DisableRule.
pub async fn set_state(
    api: &EventsApi,
    input: Value,
    state: RuleState,
) -> Result<Option<Shape>, ApiError> {
    let name = req_str(&input, "Name", "name")?;
    let bus = bus_name(&input)?;
    let s = &api.service;
    let _ddl = s.ddl().await;
    let mut rule = get_rule(api, &bus, name)?;
    rule.state = state;
    let entry = RuleEntry::new(rule.clone());
    s.change(Job::PutRule(Box::new(rule)), |c| {
        c.rules.insert((bus.clone(), name.to_string()), entry);
    })
    .await
    .map_err(internal)?;
    Ok(None)
}

/// DeleteRule (refused while the rule has targets).
pub async fn delete(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let name = req_str(&input, "Name", "name")?;
    let bus = bus_name(&input)?;
    let s = &api.service;
    let _ddl = s.ddl().await;
    let rule = get_rule(api, &bus, name)?;
    if !rule.targets.is_empty() {
        return Err(validation("Rule can't be deleted since it has targets."));
    }
    s.change(
        Job::DeleteRule {
            bus: bus.clone(),
            name: name.to_string(),
        },
        |c| {
            c.rules.remove(&(bus.clone(), name.to_string()));
        },
    )
    .await
    .map_err(internal)?;
    Ok(None)
}
