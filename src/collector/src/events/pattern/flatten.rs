//! Flattening an event into the scalar leaves a rule set cares about.
//!
//! Patterns name fields by dotted paths; the rule set keeps every path it uses in a trie of
//! path segments ([`PathTrie`]), each used path owning a *slot*. Walking the event beside the
//! trie visits only subtrees some rule names, so an event is read once, without building path
//! strings. Event keys containing dots are split, so `{"a.b": 1}` and `{"a": {"b": 1}}` are the
//! same path, as in EventBridge.
//!
//! Arrays add no path segment: their elements sit at the array's own path. Every array met gets
//! a fresh id, and each leaf records the `(array id, element index)` pairs of the arrays it sits
//! in, outermost first (its *membership*). Two leaves are *consistent* when they agree on the
//! index of every array they share; a match may only combine consistent leaves, which is how
//! fields of one array element must match together. Empty arrays produce no leaves, so they are
//! the same as an absent field.

use std::collections::HashMap;

use serde_json::Value;

use super::matcher::Leaf;

/// Index of a used path (a slot) in the rule set.
pub(crate) type SlotId = u32;

#[derive(Debug, Default, Clone)]
struct Node {
    children: HashMap<Box<str>, u32>,
    slot: Option<SlotId>,
}

/// The trie of every path the rules use.
#[derive(Debug, Clone)]
pub(crate) struct PathTrie {
    nodes: Vec<Node>,
    slots: u32,
}

impl Default for PathTrie {
    fn default() -> Self {
        PathTrie {
            nodes: vec![Node::default()],
            slots: 0,
        }
    }
}

/// One scalar of the event at a used path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlatLeaf<'a> {
    /// The path's slot.
    pub slot: SlotId,
    /// The value.
    pub value: Leaf<'a>,
    /// Start and end of this leaf's membership in [`Flat::members`].
    pub members: (u32, u32),
}

/// The used leaves of one event.
#[derive(Debug, Default)]
pub(crate) struct Flat<'a> {
    /// Leaves in document order.
    pub leaves: Vec<FlatLeaf<'a>>,
    /// Concatenated memberships, `(array id, element index)`.
    pub members: Vec<(u32, u32)>,
}

impl Flat<'_> {
    fn membership(&self, leaf: usize) -> &[(u32, u32)] {
        match self.leaves.get(leaf) {
            Some(l) => self
                .members
                .get(l.members.0 as usize..l.members.1 as usize)
                .unwrap_or(&[]),
            None => &[],
        }
    }

    /// Whether two leaves agree on the element index of every array they share.
    pub fn consistent(&self, a: usize, b: usize) -> bool {
        let (ma, mb) = (self.membership(a), self.membership(b));
        ma.iter().all(|(array, index)| {
            mb.iter()
                .all(|(other_array, other_index)| array != other_array || index == other_index)
        })
    }
}

impl PathTrie {
    /// The slot of a dotted `path`, allocating one if the path is new.
    pub fn insert(&mut self, path: &str) -> SlotId {
        let mut node = 0usize;
        for part in path.split('.') {
            let existing = self
                .nodes
                .get(node)
                .and_then(|n| n.children.get(part))
                .copied();
            node = match existing {
                Some(child) => child as usize,
                None => {
                    let child = self.nodes.len();
                    self.nodes.push(Node::default());
                    if let Some(n) = self.nodes.get_mut(node) {
                        n.children.insert(part.into(), child as u32);
                    }
                    child
                }
            };
        }
        if let Some(slot) = self.nodes.get(node).and_then(|n| n.slot) {
            return slot;
        }
        let slot = self.slots;
        self.slots += 1;
        if let Some(n) = self.nodes.get_mut(node) {
            n.slot = Some(slot);
        }
        slot
    }

    /// Append the used leaves of `event` to `out`.
    pub fn flatten<'a>(&self, event: &'a Value, out: &mut Flat<'a>) {
        let mut walker = Walker {
            trie: self,
            out,
            stack: Vec::new(),
            next_array: 0,
        };
        walker.walk(event, 0);
    }

    fn child(&self, node: usize, key: &str) -> Option<usize> {
        let n = self.nodes.get(node)?;
        if let Some(c) = n.children.get(key) {
            return Some(*c as usize);
        }
        if !key.contains('.') {
            return None;
        }
        key.split('.').try_fold(node, |at, part| {
            self.nodes
                .get(at)
                .and_then(|n| n.children.get(part))
                .map(|c| *c as usize)
        })
    }
}

struct Walker<'t, 'a, 'o> {
    trie: &'t PathTrie,
    out: &'o mut Flat<'a>,
    stack: Vec<(u32, u32)>,
    next_array: u32,
}

impl<'a> Walker<'_, 'a, '_> {
    fn walk(&mut self, value: &'a Value, node: usize) {
        let leaf = match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if let Some(next) = self.trie.child(node, key) {
                        self.walk(child, next);
                    }
                }
                return;
            }
            Value::Array(items) => {
                let id = self.next_array;
                self.next_array += 1;
                for (index, item) in items.iter().enumerate() {
                    self.stack.push((id, index as u32));
                    self.walk(item, node);
                    self.stack.pop();
                }
                return;
            }
            Value::String(s) => Leaf::Str(s),
            Value::Number(n) => match n.as_f64() {
                Some(x) => Leaf::Num(x),
                None => return,
            },
            Value::Bool(b) => Leaf::Bool(*b),
            Value::Null => Leaf::Null,
        };
        let Some(slot) = self.trie.nodes.get(node).and_then(|n| n.slot) else {
            return;
        };
        let start = self.out.members.len() as u32;
        self.out.members.extend_from_slice(&self.stack);
        self.out.leaves.push(FlatLeaf {
            slot,
            value: leaf,
            members: (start, self.out.members.len() as u32),
        });
    }
}
