//! Many compiled patterns matched against one event at a time.
//!
//! Design: every pattern alternative (one conjunction of fields, see the parse module) becomes a
//! *sub-rule*. Sub-rules are indexed in a decision graph, as a trie over their fields: from the
//! root, one step per field that needs a value (`exists: false` fields are not indexed), in one
//! global order (fields with only exact values first, then by path slot), so rules sharing
//! leading conditions (same `source`, same `detail-type`) share nodes. A node's transitions are
//! grouped per path: exact strings, numbers, booleans and `null` by hash lookup, other matchers
//! (each distinct one once) as predicates. A sub-rule is *terminal* at the node where its
//! indexed fields end, or earlier when it has spent its edge budget (fields with many values).
//!
//! Matching an event:
//!
//! 1. flatten it once into the leaves at used paths (see the flatten module), sorted by slot;
//! 2. walk the graph from the root: at each node, look the leaves of each transition path up;
//!    every terminal sub-rule of a reached node is a *candidate*;
//! 3. check each candidate in full: per field, the leaves at its path that it accepts; fail if a
//!    field needing a value has none; else search for one leaf per field such that the chosen
//!    leaves are pairwise consistent (same element of every shared array); an `exists: false`
//!    field is satisfied when no leaf at its path is consistent with them.
//!
//! The graph walk stays correct whatever is indexed, because step 3 re-checks everything; the
//! index only decides how few sub-rules reach it. Work per event grows with the leaves at used
//! paths, the reached nodes and the predicates at those nodes, not with the number of rules.

use std::collections::HashMap;

use serde_json::Value;

use super::flatten::{Flat, PathTrie, SlotId};
use super::matcher::{Leaf, Literal, Matcher};
use super::Pattern;

/// Identifies a rule added to a [`RuleSet`] (its insertion index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u32);

/// The transitions of one node on the values at one path.
#[derive(Debug, Clone)]
struct Edges {
    slot: SlotId,
    strings: HashMap<Box<str>, u32>,
    numbers: HashMap<u64, u32>,
    trues: Option<u32>,
    falses: Option<u32>,
    nulls: Option<u32>,
    /// Non-exact matchers, each distinct one once.
    predicates: Vec<(Matcher, u32)>,
}

/// Hash key of a number: its bits, with `-0.0` folded into `0.0`.
fn number_key(x: f64) -> u64 {
    (x + 0.0).to_bits()
}

impl Edges {
    fn new(slot: SlotId) -> Self {
        Edges {
            slot,
            strings: HashMap::new(),
            numbers: HashMap::new(),
            trues: None,
            falses: None,
            nulls: None,
            predicates: Vec::new(),
        }
    }

    /// The child reached through `matcher`, if it exists yet.
    fn child(&self, matcher: &Matcher) -> Option<u32> {
        match matcher {
            Matcher::Exact(Literal::Str(s)) => self.strings.get(s.as_str()).copied(),
            Matcher::Exact(Literal::Num(x)) => self.numbers.get(&number_key(*x)).copied(),
            Matcher::Exact(Literal::Bool(true)) => self.trues,
            Matcher::Exact(Literal::Bool(false)) => self.falses,
            Matcher::Exact(Literal::Null) => self.nulls,
            other => self
                .predicates
                .iter()
                .find(|(m, _)| m == other)
                .map(|(_, child)| *child),
        }
    }

    fn set_child(&mut self, matcher: &Matcher, child: u32) {
        match matcher {
            Matcher::Exact(Literal::Str(s)) => {
                self.strings.insert(s.as_str().into(), child);
            }
            Matcher::Exact(Literal::Num(x)) => {
                self.numbers.insert(number_key(*x), child);
            }
            Matcher::Exact(Literal::Bool(true)) => self.trues = Some(child),
            Matcher::Exact(Literal::Bool(false)) => self.falses = Some(child),
            Matcher::Exact(Literal::Null) => self.nulls = Some(child),
            other => self.predicates.push((other.clone(), child)),
        }
    }

    /// Push the children `value` leads to.
    fn step(&self, value: Leaf<'_>, out: &mut Vec<u32>) {
        let exact = match value {
            Leaf::Str(s) => self.strings.get(s).copied(),
            Leaf::Num(x) => self.numbers.get(&number_key(x)).copied(),
            Leaf::Bool(true) => self.trues,
            Leaf::Bool(false) => self.falses,
            Leaf::Null => self.nulls,
        };
        out.extend(exact);
        for (matcher, child) in &self.predicates {
            if matcher.matches(value) {
                out.push(*child);
            }
        }
    }
}

/// A node of the decision graph: transitions per path, and the sub-rules whose indexed fields
/// all matched on the way here (candidates, still to be checked in full).
#[derive(Debug, Clone, Default)]
struct Node {
    edges: Vec<Edges>,
    terminal: Vec<u32>,
}

#[derive(Debug, Clone)]
struct SubField {
    slot: SlotId,
    /// The field also matches when its path is absent (`exists: false` among its matchers).
    absent_ok: bool,
    matchers: Vec<Matcher>,
}

impl SubField {
    fn accepts(&self, value: Leaf<'_>) -> bool {
        self.matchers.iter().any(|m| m.matches(value))
    }
}

#[derive(Debug, Clone)]
struct Sub {
    rule: RuleId,
    fields: Vec<SubField>,
}

/// A set of named patterns compiled for matching many events.
#[derive(Debug, Clone)]
pub struct RuleSet {
    trie: PathTrie,
    /// The decision graph; node 0 is the root.
    nodes: Vec<Node>,
    subs: Vec<Sub>,
    names: Vec<String>,
}

impl Default for RuleSet {
    fn default() -> Self {
        RuleSet {
            trie: PathTrie::default(),
            nodes: vec![Node::default()],
            subs: Vec::new(),
            names: Vec::new(),
        }
    }
}

/// How many transitions one sub-rule may add to the graph; beyond, it stops at the node reached
/// (still correct: candidates are always checked in full), which bounds the growth caused by
/// fields with many values.
const EDGE_BUDGET: usize = 64;

/// Buffers reused across the sub-rules checked for one event.
#[derive(Default)]
struct Scratch {
    /// Leaf indices sorted by slot.
    by_slot: Vec<u32>,
    /// Accepted leaves of every field of the sub-rule being checked, concatenated.
    accepted: Vec<u32>,
    /// `(start, end)` of each field's accepted leaves in `accepted`.
    ranges: Vec<(usize, usize)>,
    chosen: Vec<usize>,
    absent: Vec<SlotId>,
}

impl RuleSet {
    /// An empty rule set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `pattern` under `name`; returns its id. Names need not be unique.
    pub fn add(&mut self, name: impl Into<String>, pattern: &Pattern) -> RuleId {
        let rule = RuleId(self.names.len() as u32);
        self.names.push(name.into());
        for alternative in &pattern.alternatives {
            let sub = self.subs.len() as u32;
            let fields: Vec<SubField> = alternative
                .iter()
                .map(|field| SubField {
                    slot: self.trie.insert(&field.path),
                    absent_ok: field.matchers.contains(&Matcher::Exists(false)),
                    matchers: field.matchers.clone(),
                })
                .collect();
            // Indexed fields in one global order (exact-only fields first, then by slot) so
            // that rules share their common steps; `exists: false` fields are left to the check.
            let mut order: Vec<&SubField> = fields.iter().filter(|f| !f.absent_ok).collect();
            order.sort_by(|a, b| {
                let predicate =
                    |f: &SubField| f.matchers.iter().any(|m| !matches!(m, Matcher::Exact(_)));
                (predicate(a), a.slot).cmp(&(predicate(b), b.slot))
            });
            let mut budget = EDGE_BUDGET;
            self.insert(0, &order, sub, &mut budget);
            self.subs.push(Sub { rule, fields });
        }
        rule
    }

    /// Index `sub` below `node` along `fields`; it becomes terminal where they (or the
    /// budget) run out.
    fn insert(&mut self, node: u32, fields: &[&SubField], sub: u32, budget: &mut usize) {
        let Some((field, rest)) = fields.split_first().filter(|_| *budget > 0) else {
            if let Some(n) = self.nodes.get_mut(node as usize) {
                n.terminal.push(sub);
            }
            return;
        };
        for matcher in &field.matchers {
            *budget = budget.saturating_sub(1);
            let child = self.child(node, field.slot, matcher);
            self.insert(child, rest, sub, budget);
        }
    }

    /// The child of `node` through `matcher` at `slot`, created if missing.
    fn child(&mut self, node: u32, slot: SlotId, matcher: &Matcher) -> u32 {
        let fresh = self.nodes.len() as u32;
        let Some(n) = self.nodes.get_mut(node as usize) else {
            return node;
        };
        let index = match n.edges.iter().position(|e| e.slot == slot) {
            Some(index) => index,
            None => {
                n.edges.push(Edges::new(slot));
                n.edges.len() - 1
            }
        };
        let Some(edges) = n.edges.get_mut(index) else {
            return node;
        };
        if let Some(child) = edges.child(matcher) {
            return child;
        }
        edges.set_child(matcher, fresh);
        self.nodes.push(Node::default());
        fresh
    }

    /// The name a rule was added with.
    pub fn name(&self, id: RuleId) -> Option<&str> {
        self.names.get(id.0 as usize).map(String::as_str)
    }

    /// How many rules were added.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no rule was added.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The rules matching `event`, in ascending id order, each once.
    pub fn matches(&self, event: &Value) -> Vec<RuleId> {
        let mut flat = Flat::default();
        self.trie.flatten(event, &mut flat);
        let mut scratch = Scratch {
            by_slot: (0..flat.leaves.len() as u32).collect(),
            ..Scratch::default()
        };
        scratch
            .by_slot
            .sort_by_key(|&i| flat.leaves.get(i as usize).map(|l| l.slot));
        // The graph is a tree, so a node is only reached at its own depth: walking it level by
        // level and deduplicating each level visits every node once.
        let mut candidates = Vec::new();
        let mut level = vec![0u32];
        let mut next = Vec::new();
        while !level.is_empty() {
            for &node in &level {
                let Some(node) = self.nodes.get(node as usize) else {
                    continue;
                };
                candidates.extend_from_slice(&node.terminal);
                for edges in &node.edges {
                    for &index in leaves_at(&scratch.by_slot, &flat, edges.slot) {
                        if let Some(leaf) = flat.leaves.get(index as usize) {
                            edges.step(leaf.value, &mut next);
                        }
                    }
                }
            }
            next.sort_unstable();
            next.dedup();
            std::mem::swap(&mut level, &mut next);
            next.clear();
        }
        candidates.sort_unstable();
        candidates.dedup();

        let mut matched = Vec::new();
        for sub in candidates {
            let Some(sub) = self.subs.get(sub as usize) else {
                continue;
            };
            if matched.last() != Some(&sub.rule) && self.check(sub, &flat, &mut scratch) {
                matched.push(sub.rule);
            }
        }
        matched.sort_unstable();
        matched.dedup();
        matched
    }

    /// Whether the event's leaves satisfy every field of `sub`, array-consistently.
    fn check(&self, sub: &Sub, flat: &Flat<'_>, scratch: &mut Scratch) -> bool {
        scratch.accepted.clear();
        scratch.ranges.clear();
        for field in &sub.fields {
            let start = scratch.accepted.len();
            for &index in leaves_at(&scratch.by_slot, flat, field.slot) {
                if flat
                    .leaves
                    .get(index as usize)
                    .is_some_and(|leaf| field.accepts(leaf.value))
                {
                    scratch.accepted.push(index);
                }
            }
            if scratch.accepted.len() == start && !field.absent_ok {
                return false;
            }
            scratch.ranges.push((start, scratch.accepted.len()));
        }
        scratch.chosen.clear();
        scratch.absent.clear();
        let mut search = Search {
            flat,
            fields: &sub.fields,
            accepted: &scratch.accepted,
            ranges: &scratch.ranges,
            chosen: &mut scratch.chosen,
            absent: &mut scratch.absent,
        };
        search.run(0)
    }
}

/// The leaves at `slot`, from leaf indices sorted by slot.
fn leaves_at<'s>(by_slot: &'s [u32], flat: &Flat<'_>, slot: SlotId) -> &'s [u32] {
    let slot_of = |i: &u32| flat.leaves.get(*i as usize).map(|l| l.slot);
    let from = by_slot.partition_point(|i| slot_of(i) < Some(slot));
    let to = by_slot.partition_point(|i| slot_of(i) <= Some(slot));
    by_slot.get(from..to).unwrap_or(&[])
}

/// Backtracking search for one consistent leaf (or absence) per field.
struct Search<'s, 'a> {
    flat: &'s Flat<'a>,
    fields: &'s [SubField],
    accepted: &'s [u32],
    ranges: &'s [(usize, usize)],
    chosen: &'s mut Vec<usize>,
    absent: &'s mut Vec<SlotId>,
}

impl Search<'_, '_> {
    fn run(&mut self, field: usize) -> bool {
        let (Some(info), Some(&(start, end))) = (self.fields.get(field), self.ranges.get(field))
        else {
            return self.absences_hold();
        };
        for &leaf in self.accepted.get(start..end).unwrap_or(&[]) {
            let leaf = leaf as usize;
            if self.chosen.iter().all(|&c| self.flat.consistent(c, leaf)) {
                self.chosen.push(leaf);
                if self.run(field + 1) {
                    return true;
                }
                self.chosen.pop();
            }
        }
        if info.absent_ok {
            self.absent.push(info.slot);
            if self.run(field + 1) {
                return true;
            }
            self.absent.pop();
        }
        false
    }

    /// Every field chosen as absent has no leaf consistent with all chosen leaves.
    fn absences_hold(&self) -> bool {
        self.absent.iter().all(|&slot| {
            !self.flat.leaves.iter().enumerate().any(|(index, leaf)| {
                leaf.slot == slot && self.chosen.iter().all(|&c| self.flat.consistent(c, index))
            })
        })
    }
}
