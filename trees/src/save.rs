//! Trees saved as JSON and loaded back, checked.
//!
//! ```json
//! {"format": "distillery-tree", "version": 1, "features": 2,
//!  "nodes": [{"feature": 0, "threshold": 0.5, "left": 1, "right": 2, "value": [0.5, 0.5]},
//!            {"leaf": [1.0, 0.0]}, {"leaf": [0.25, 0.75]}]}
//! ```
//!
//! Nodes are listed root first, as [`Tree::nodes`] holds them. Numbers are written as the `f64`
//! that equals the `f32` exactly, so loading gives back bit for bit the thresholds and values
//! that were saved, and so the same predictions.
//!
//! A file is checked before it becomes a tree: every child index points *after* its parent and
//! every node but the root is the child of exactly one node (so the nodes form one tree, with no
//! cycle and nothing unreachable), the two children of a node are an odd index and the next one
//! (the order growth appends them in, which [`Tree::with_leaves`] reads), features are in range,
//! numbers finite, and every node's value has the same length.

use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use crate::error::TreeError;
use crate::tree::{Node, Tree};

const FORMAT: &str = "distillery-tree";
const VERSION: u64 = 1;

impl Tree {
    /// The tree as JSON (see the module's documentation).
    pub fn to_json(&self) -> String {
        let nodes: Vec<Value> = self
            .nodes()
            .iter()
            .map(|node| match node {
                Node::Leaf { value } => {
                    json!({ "leaf": value.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>() })
                }
                Node::Internal {
                    feature,
                    threshold,
                    left,
                    right,
                    value,
                } => json!({
                    "feature": feature,
                    "threshold": f64::from(*threshold),
                    "left": left,
                    "right": right,
                    "value": value.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>(),
                }),
            })
            .collect();
        json!({ "format": FORMAT, "version": VERSION, "features": self.features(), "nodes": nodes })
            .to_string()
    }

    /// Reads a tree from [`to_json`](Tree::to_json)'s output, checking it throughout.
    pub fn from_json(text: &str) -> Result<Tree, TreeError> {
        let root: Value = serde_json::from_str(text).map_err(|e| malformed("valid JSON", e))?;
        let format = root.get("format").and_then(Value::as_str);
        if format != Some(FORMAT) {
            return Err(malformed(
                format!("\"format\": \"{FORMAT}\""),
                found(&root, "format"),
            ));
        }
        let version = root.get("version").and_then(Value::as_u64);
        if version != Some(VERSION) {
            return Err(malformed(
                format!("\"version\": {VERSION}"),
                found(&root, "version"),
            ));
        }
        let features = root
            .get("features")
            .and_then(Value::as_u64)
            .filter(|&f| f >= 1)
            .ok_or_else(|| {
                malformed("\"features\": a whole number ≥ 1", found(&root, "features"))
            })? as usize;
        let listed = root
            .get("nodes")
            .and_then(Value::as_array)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| malformed("\"nodes\": a non-empty list", found(&root, "nodes")))?;
        let mut nodes = Vec::with_capacity(listed.len());
        let mut parents = vec![0usize; listed.len()];
        let mut width = None;
        for (i, node) in listed.iter().enumerate() {
            let parsed = parse_node(node, i, features, listed.len())?;
            let value = parsed.value();
            if *width.get_or_insert(value.len()) != value.len() {
                return Err(malformed(
                    format!(
                        "node {i}: a value of {} numbers like the root's",
                        width.unwrap_or(0)
                    ),
                    value.len(),
                ));
            }
            if let Node::Internal { left, right, .. } = parsed {
                parents[left] += 1;
                parents[right] += 1;
            }
            nodes.push(parsed);
        }
        if let Some(node) = (1..nodes.len()).find(|&n| parents[n] != 1) {
            return Err(malformed(
                format!("node {node}: the child of exactly one node"),
                format!("the child of {}", parents[node]),
            ));
        }
        Ok(Tree::from_parts(features, nodes))
    }

    /// Writes the tree to `path` as JSON, through a temporary file renamed into place, so an
    /// existing file is replaced whole or not at all.
    pub fn save(&self, path: &Path) -> Result<(), TreeError> {
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let io = |e: std::io::Error| TreeError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        fs::write(&temporary, self.to_json()).map_err(io)?;
        fs::rename(&temporary, path).map_err(io)
    }

    /// Reads a tree saved by [`save`](Tree::save).
    pub fn load(path: &Path) -> Result<Tree, TreeError> {
        let text = fs::read_to_string(path).map_err(|e| TreeError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Tree::from_json(&text)
    }
}

/// Node `index` of `count`, in a tree of `features` features.
fn parse_node(
    node: &Value,
    index: usize,
    features: usize,
    count: usize,
) -> Result<Node, TreeError> {
    if let Some(value) = node.get("leaf") {
        let value = numbers(value, index, "leaf")?;
        return Ok(Node::Leaf { value });
    }
    let value = numbers(node.get("value").unwrap_or(&Value::Null), index, "value")?;
    let whole = |key: &str| node.get(key).and_then(Value::as_u64).map(|v| v as usize);
    let feature = whole("feature")
        .filter(|&f| f < features)
        .ok_or_else(|| malformed(format!("node {index}: \"feature\" below {features}"), node))?;
    let threshold = node
        .get("threshold")
        .and_then(finite)
        .ok_or_else(|| malformed(format!("node {index}: a finite \"threshold\""), node))?;
    let child = |key: &str| {
        whole(key)
            .filter(|&c| c > index && c < count)
            .ok_or_else(|| {
                malformed(
                    format!(
                        "node {index}: \"{key}\" between {} and {}",
                        index + 1,
                        count - 1
                    ),
                    node,
                )
            })
    };
    let (left, right) = (child("left")?, child("right")?);
    if left % 2 == 0 || right != left + 1 {
        return Err(malformed(
            format!("node {index}: children at an odd index and the next (growth's order)"),
            node,
        ));
    }
    Ok(Node::Internal {
        feature,
        threshold,
        left,
        right,
        value,
    })
}

/// A non-empty list of finite numbers, node `index`'s `key`.
fn numbers(list: &Value, index: usize, key: &str) -> Result<Vec<f32>, TreeError> {
    let list = list
        .as_array()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| malformed(format!("node {index}: \"{key}\": a non-empty list"), list))?;
    list.iter()
        .map(|v| finite(v).ok_or_else(|| malformed(format!("node {index}: finite numbers"), v)))
        .collect()
}

/// A JSON number that is a finite `f32`.
fn finite(v: &Value) -> Option<f32> {
    v.as_f64().map(|x| x as f32).filter(|x| x.is_finite())
}

fn found(root: &Value, key: &str) -> String {
    root.get(key)
        .map_or("nothing".to_string(), Value::to_string)
}

fn malformed(expected: impl std::fmt::Display, found: impl std::fmt::Display) -> TreeError {
    TreeError::Malformed {
        expected: expected.to_string(),
        found: found.to_string(),
    }
}
