//! A document-order walk of an element tree, without recursion (any nesting depth is fine).

use scraper::{ElementRef, Node};

/// One step of a document-order walk.
pub(super) enum Step<'a> {
    Open(ElementRef<'a>),
    Text(&'a str),
    Close(ElementRef<'a>),
}

/// Walks the tree under `root` without recursion (any nesting depth is fine). `visit` returns,
/// for `Open`, whether to enter the element; a skipped element gets no `Close`.
pub(super) fn walk<'a>(root: ElementRef<'a>, mut visit: impl FnMut(Step<'a>) -> bool) {
    if !visit(Step::Open(root)) {
        return;
    }
    let mut next = root.first_child();
    if next.is_none() {
        visit(Step::Close(root));
    }
    while let Some(node) = next {
        let entered = match node.value() {
            Node::Element(_) => {
                let el = ElementRef::wrap(node).expect("element node");
                visit(Step::Open(el))
            }
            Node::Text(text) => {
                visit(Step::Text(text));
                false
            }
            _ => false,
        };
        if entered && let Some(child) = node.first_child() {
            next = Some(child);
            continue;
        }
        if entered && let Some(el) = ElementRef::wrap(node) {
            visit(Step::Close(el));
        }
        // Climb until a sibling is found, closing every element left behind.
        let mut current = node;
        next = None;
        while current != *root {
            if let Some(sibling) = current.next_sibling() {
                next = Some(sibling);
                break;
            }
            let Some(parent) = current.parent() else {
                break;
            };
            current = parent;
            if let Some(el) = ElementRef::wrap(current) {
                visit(Step::Close(el));
            }
        }
    }
}
