//! A tree as indented text, one node per line: an internal node as its test, its two subtrees
//! below it indented (the `≤` side first), a leaf as its value.
//!
//! ```text
//! feature 0 ≤ 3.5 ?
//!   leaf [1.0, 0.0]
//!   leaf [0.25, 0.75]
//! ```

use std::fmt;

use crate::tree::{Node, Tree};

impl fmt::Display for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Depth-first with an explicit stack; the right child is pushed first so the left prints first.
        let mut stack = vec![(0, 0)];
        while let Some((node, depth)) = stack.pop() {
            let indent = "  ".repeat(depth);
            match &self.nodes()[node] {
                Node::Leaf { value } => writeln!(f, "{indent}leaf {value:?}")?,
                Node::Internal {
                    feature,
                    threshold,
                    left,
                    right,
                    ..
                } => {
                    writeln!(f, "{indent}feature {feature} ≤ {threshold} ?")?;
                    stack.push((*right, depth + 1));
                    stack.push((*left, depth + 1));
                }
            }
        }
        Ok(())
    }
}
